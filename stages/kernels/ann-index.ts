/**
 * Approximate nearest-row candidates: an HNSW graph over the (unit) kept table, built with
 * usearch (prebuilt native library; chosen over hnswlib-node by measurement, docs/scale.md).
 * The index only proposes candidate rows; the caller picks among them with its own exact dot
 * product (NearestPool.rerank), so every score written is an exact cosine.
 * Cost: building about rows x expansionAdd distance evaluations; a query about
 * expansionSearch x connectivity of them (each dim multiply-adds), instead of rows.
 */

/** Proposes up to k candidate rows per query. */
export interface CandidateIndex {
  /** e.g. 'usearch 2.25.3 HNSW'. */
  readonly name: string;
  /** Parameters, for the report. */
  readonly params: Record<string, number | string>;
  /** n x k row numbers, best first; -1 where fewer than k were found. */
  search(queries: Float32Array, n: number, k: number): Int32Array;
  close(): void;
}

export interface HnswParams {
  /** Graph degree (usearch connectivity, hnswlib M). */
  connectivity: number;
  /** Candidate list while inserting (efConstruction). */
  expansionAdd: number;
  /** Candidate list while searching (ef). */
  expansionSearch: number;
  /** Native threads for building and searching. */
  threads: number;
}

export const HNSW_DEFAULTS: Omit<HnswParams, 'threads'> = { connectivity: 16, expansionAdd: 128, expansionSearch: 64 };

interface UsearchMatches {
  keys: BigUint64Array;
  counts?: BigUint64Array;
}
interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vectors: Float32Array, k: number, threads: number): UsearchMatches;
  size(): number;
}
interface UsearchModule {
  Index: new (cfg: {
    dimensions: number;
    metric: unknown;
    quantization: unknown;
    connectivity: number;
    expansion_add: number;
    expansion_search: number;
    multi: boolean;
  }) => UsearchIndex;
  MetricKind: { IP: unknown };
  ScalarKind: { F32: unknown };
}

let usearchModule: Promise<UsearchModule> | undefined;

/** usearch, loaded on first use (exact-only runs never load the native library). */
export function loadUsearch(): Promise<UsearchModule> {
  usearchModule ??= import('usearch').then((m) => ((m as { default?: unknown }).default ?? m) as unknown as UsearchModule);
  return usearchModule;
}

/** Rows [a, b) of a table, unpadded (a copy or a view). */
export type RowSource = (a: number, b: number) => Float32Array;

/**
 * An HNSW index (inner product) over `rows` x `dim` unit rows, keys = row numbers. usearch keeps
 * its own copy of the vectors; the rows are taken from `table` in slices.
 */
export async function buildHnswIndex(table: RowSource, rows: number, dim: number, p: HnswParams): Promise<CandidateIndex> {
  const u = await loadUsearch();
  const index: UsearchIndex | undefined = new u.Index({
    dimensions: dim,
    metric: u.MetricKind.IP,
    quantization: u.ScalarKind.F32,
    connectivity: p.connectivity,
    expansion_add: p.expansionAdd,
    expansion_search: p.expansionSearch,
    multi: false,
  });
  // added in slices so the calling thread stays responsive (progress, signals)
  const step = 16384;
  for (let a = 0; a < rows; a += step) {
    const b = Math.min(rows, a + step);
    const keys = new BigUint64Array(b - a);
    for (let i = a; i < b; i++) keys[i - a] = BigInt(i);
    index.add(keys, own(table(a, b)), p.threads);
    await new Promise((r) => setImmediate(r));
  }
  let live: UsearchIndex | undefined = index;
  return {
    name: 'usearch 2.25.3 HNSW',
    params: { connectivity: p.connectivity, expansion_add: p.expansionAdd, expansion_search: p.expansionSearch, metric: 'ip', quantization: 'f32' },
    search(queries, n, k) {
      const out = new Int32Array(n * k).fill(-1);
      if (n === 0 || !live) return out;
      if (n === 1) {
        // a single vector gets a single (unbatched) result
        const m = live.search(own(queries.subarray(0, dim)), k, p.threads);
        for (let j = 0; j < Math.min(k, m.keys.length); j++) out[j] = keyToRow(m.keys[j]!, rows);
        return out;
      }
      const m = live.search(own(queries.subarray(0, n * dim)), k, p.threads);
      for (let q = 0; q < n; q++) {
        const c = m.counts ? Number(m.counts[q]!) : k;
        for (let j = 0; j < Math.min(c, k); j++) out[q * k + j] = keyToRow(m.keys[q * k + j]!, rows);
      }
      return out;
    },
    close() {
      live = undefined;
    },
  };
}

/**
 * `v` itself when it covers its whole (non-shared) buffer, else a copy: usearch 2.25.3's exactSearch
 * was seen reading a view from the start of its buffer (byteOffset ignored), and SharedArrayBuffer
 * views are refused ("Invalid argument"); Index calls get the same precaution.
 */
function own(v: Float32Array): Float32Array {
  const whole = v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && !(v.buffer instanceof SharedArrayBuffer);
  return whole ? v : v.slice();
}

function keyToRow(key: bigint, rows: number): number {
  return key < BigInt(rows) ? Number(key) : -1;
}
