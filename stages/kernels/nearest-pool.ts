/**
 * Exact nearest-row search spread over worker threads. The table is held once: in a shared
 * WebAssembly memory that every worker attaches to (SIMD kernel, nearest-simd.ts), or in a
 * SharedArrayBuffer (TypeScript kernel, where WebAssembly SIMD is missing or PRUNE_PIPE_KERNEL=js).
 * Queries are split into equal slices, one per worker, and answers come back in order. Every
 * query's answer is computed the same way wherever it runs, so results do not depend on the
 * thread count. Memory: the padded table plus about 1.3 MB of scratch per thread at 300 dims.
 */
import { workerUrl } from '../../pipeline/workers.js';
import { IVF_QUERIES, IvfSearcher, type IvfBuildOptions, type IvfLayout, type IvfSetup } from './ivf.js';
import { nearestRowsJs } from './nearest.js';
import { NgramSearcher, sliceLists, type NgramSetup, type QueryLists } from './ngram-candidates.js';
import { SimdTable, SLOT_QUERIES, type WasmMemory } from './nearest-simd.js';
import { normalizeRows } from './normalize.js';
import { WorkerCalls, type RowsAnswer } from './worker-calls.js';

export interface NearestResult {
  index: Int32Array;
  score: Float32Array;
}

/** What a worker is started with: the SIMD table's memory and its slot, or the plain table. */
export type NearestWorkerData =
  | { kind: 'simd'; memory: WasmMemory; layout: SimdTable['layout']; slot: number }
  | { kind: 'js'; table: Float32Array; rows: number; dim: number };

export class NearestPool {
  private readonly workers = new WorkerCalls();
  private rr = 0;
  /** Per worker: the end of its queue (a worker's slot serves one request at a time). */
  private queues: Promise<unknown>[] = [];
  private readonly simd: SimdTable | null;
  private readonly plain: Float32Array | undefined;
  /** 'wasm-simd' or 'js': the kernel this pool runs. */
  readonly kernel: 'wasm-simd' | 'js';
  /** The inverted-file index over the table (ivf.ts), when one is attached. */
  private ivf: IvfSearcher | undefined;
  /** The n-gram candidate index (ngram-candidates.ts), when one is attached: this thread's searcher. */
  private ngram: NgramSearcher | undefined;

  /**
   * `table`: `rows` x `dim`, unit rows for cosines (in a SharedArrayBuffer when the TypeScript
   * kernel runs on workers), or any rows with `normalize` (the pool then holds a unit-length copy,
   * so the caller needs no copy of its own). `threads` workers; 0 searches on the calling thread.
   * `extraBytes`: room after the slots for an index in the same memory (SIMD kernel only; ivf.ts).
   */
  constructor(
    table: Float32Array,
    readonly rows: number,
    readonly dim: number,
    readonly threads: number,
    normalize = false,
    extraBytes = 0,
  ) {
    this.simd = SimdTable.create(table, rows, dim, threads + 1, normalize, extraBytes);
    this.kernel = this.simd ? 'wasm-simd' : 'js';
    if (!this.simd) this.plain = normalize ? sharedUnitTable(table, rows, dim) : table;
    table = this.plain ?? table;
    const url = threads > 0 ? workerUrl(import.meta.url, './nearest-worker.js') : undefined;
    for (let i = 0; i < threads; i++) {
      const data: NearestWorkerData = this.simd
        ? { kind: 'simd', memory: this.simd.memory, layout: this.simd.layout, slot: i + 1 }
        : { kind: 'js', table, rows, dim };
      this.workers.start(url!, data);
      this.queues.push(Promise.resolve());
    }
  }

  /**
   * Starts `threads` search workers ahead of need, so that a pool made later (when its table is
   * ready) does not wait for them to load (about 0.1 s).
   */
  static prestart(threads: number): void {
    if (threads > 0) WorkerCalls.prestart(workerUrl(import.meta.url, './nearest-worker.js'), threads);
  }

  /** The shared SIMD table (memory and layout), or null with the TypeScript kernel. */
  get simdTable(): SimdTable | null {
    return this.simd;
  }

  /**
   * Attaches an inverted-file index built in this pool's memory (ivf.ts buildIvf: the table is
   * then in cell order, so `search` answers in positions, see IvfSetup.perm), on this thread and
   * every worker; `undefined` detaches it.
   */
  async attachIvf(setup: IvfSetup | undefined): Promise<void> {
    if (!this.simd) throw new Error('ivf: needs the WebAssembly SIMD kernel');
    this.ivf = setup ? new IvfSearcher(this.simd.memory, setup) : undefined;
    await Promise.all(Array.from({ length: this.workers.size }, (_, i) => this.queued(i, () => this.post(i, { ivf: setup ?? null, n: 0 }))));
  }

  /**
   * For buildIvf (options.runner): the build's nearest-centroid steps on the workers (worker i
   * owns slot i + 1); undefined without workers (the build then runs on the calling thread).
   */
  ivfBuildRunner(): IvfBuildOptions['runner'] {
    const w = this.workers.size;
    if (w === 0 || !this.simd) return undefined;
    return {
      slots: Array.from({ length: w }, (_, i) => i + 1),
      run: (slot, n, layout) => this.queued(slot - 1, () => this.post(slot - 1, { build: layout, n })).then(() => undefined),
    };
  }

  /** `searchIvf` on the calling thread (slot 0; for timings free of other threads' work). */
  searchIvfHere(queries: Float32Array, n: number, probes: number): NearestResult {
    const ivf = this.ivf;
    if (!ivf) throw new Error('ivf: no index attached');
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    for (let q0 = 0; q0 < n; q0 += IVF_QUERIES) {
      const c = Math.min(IVF_QUERIES, n - q0);
      ivf.put(0, queries, q0, c);
      ivf.run(0, c, probes);
      ivf.take(0, c, index, score, q0);
    }
    return { index, score };
  }

  /**
   * For each of `n` unit queries, the probes the attached index needs to reach position pos[i] of
   * its cell-ordered table (IvfSearcher.probesToReach), on the calling thread.
   */
  ivfProbesToReach(queries: Float32Array, n: number, pos: Int32Array): Int32Array {
    const ivf = this.ivf;
    if (!ivf) throw new Error('ivf: no index attached');
    const out = new Int32Array(n);
    for (let q0 = 0; q0 < n; q0 += IVF_QUERIES) {
      const c = Math.min(IVF_QUERIES, n - q0);
      ivf.put(0, queries, q0, c);
      ivf.probesToReach(0, c, pos, out, q0);
    }
    return out;
  }

  /**
   * Nearest rows (original row numbers) of `n` unit queries by the attached inverted-file index,
   * looking in each query's `probes` best cells; split over the workers like `search`.
   */
  async searchIvf(queries: Float32Array, n: number, probes: number): Promise<NearestResult> {
    const ivf = this.ivf;
    if (!ivf) throw new Error('ivf: no index attached');
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    const w = this.workers.size;
    if (w === 0) return this.searchIvfHere(queries, n, probes);
    // a batch is split only when larger than a slot: more queries per call means more queries per
    // cell for the kernel's 4-query blocks (concurrent batches still go to different workers)
    const parts = Math.min(w, Math.ceil(n / IVF_QUERIES));
    const per = Math.ceil(n / parts);
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < parts; i++) {
      const a = i * per;
      const b = Math.min(n, a + per);
      if (a >= b) break;
      const k = parts === 1 ? this.rr++ % w : i;
      jobs.push(
        this.queued(k, async () => {
          for (let q0 = a; q0 < b; q0 += IVF_QUERIES) {
            const c = Math.min(IVF_QUERIES, b - q0);
            ivf.put(k + 1, queries, q0, c);
            await this.post(k, { n: c, probes });
            ivf.take(k + 1, c, index, score, q0);
          }
        }),
      );
    }
    await Promise.all(jobs);
    return { index, score };
  }

  /**
   * Attaches an n-gram candidate index (ngram-candidates.ts) on this thread and every worker;
   * `undefined` detaches it. The table keeps its order (answers are row numbers).
   */
  async attachNgram(setup: NgramSetup | undefined): Promise<void> {
    this.ngram = setup ? new NgramSearcher(setup) : undefined;
    await Promise.all(Array.from({ length: this.workers.size }, (_, i) => this.queued(i, () => this.post(i, { ngram: setup ?? null, n: 0 }))));
  }

  /**
   * `searchNgram` on the calling thread (slot 0; for timings free of other threads' work). `none`:
   * the queries without any candidate (answered -1).
   */
  searchNgramHere(queries: Float32Array, n: number, lists: QueryLists, k: number): NearestResult & { none: number } {
    const ng = this.ngram;
    if (!ng) throw new Error('ngram: no index attached');
    return ng.search(queries, n, lists, k, (q, m, cand, kw) => this.rerank(q, m, cand, kw));
  }

  /**
   * Nearest rows of `n` unit queries among the `k` kept rows the attached n-gram index ranks best
   * for each (its n-gram rows in `lists`); -1 for a query without candidates. Split over the
   * workers like `search` (each query's answer is the same wherever it runs).
   */
  async searchNgram(queries: Float32Array, n: number, lists: QueryLists, k: number): Promise<NearestResult & { none: number }> {
    if (!this.ngram) throw new Error('ngram: no index attached');
    const w = this.workers.size;
    if (w === 0) return this.searchNgramHere(queries, n, lists, k);
    const parts = n < 64 * w ? 1 : w;
    const per = Math.ceil(n / parts);
    const jobs: Promise<RowsAnswer & { none: number }>[] = [];
    for (let i = 0; i < parts; i++) {
      const a = i * per;
      const b = Math.min(n, a + per);
      if (a >= b) break;
      const q = queries.slice(a * this.dim, b * this.dim);
      const l = sliceLists(lists, a, b);
      const worker = parts === 1 ? this.rr++ % w : i;
      jobs.push(this.queued(worker, () => this.post(worker, { queries: q, n: b - a, lists: l, k }, [q.buffer, l.offsets.buffer as ArrayBuffer, l.rows.buffer as ArrayBuffer]) as Promise<RowsAnswer & { none: number }>));
    }
    const got = await Promise.all(jobs);
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    let none = 0;
    let o = 0;
    for (const g of got) {
      index.set(g.index, o);
      score.set(g.score, o);
      o += g.index.length;
      none += g.none;
    }
    return { index, score, none };
  }

  /** The table (unpadded). With the SIMD kernel this is a copy made on each call. */
  get table(): Float32Array {
    return this.plain ?? this.simd!.rows();
  }

  /** Rows [a, b) of the table (unpadded; a copy with the SIMD kernel). */
  tableRows(a: number, b: number): Float32Array {
    return this.plain ? this.plain.subarray(a * this.dim, b * this.dim) : this.simd!.rows(a, b);
  }

  /** Nearest rows of `n` queries on the calling thread. */
  searchHere(queries: Float32Array, n: number): NearestResult {
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    if (this.simd) this.simd.search(0, queries, n, index, score);
    else nearestRowsJs(queries, n, this.plain!, this.rows, this.dim, index, score);
    return { index, score };
  }

  /**
   * For each of `n` queries, the best of its `k` candidate rows (`cand`, n x k, -1 = none; rows
   * outside the table are ignored) by the same dot product as `search`, on the calling thread.
   */
  rerank(queries: Float32Array, n: number, cand: Int32Array, k: number): NearestResult {
    for (let i = 0; i < n * k; i++) if (!(cand[i]! >= 0 && cand[i]! < this.rows)) cand[i] = -1;
    return rerankOn(this.simd ? { simd: this.simd, slot: 0 } : { table: this.plain!, dim: this.dim }, queries, n, cand, k);
  }

  /** Nearest rows of `n` unit-length queries; with threads = 0 runs on this thread. */
  async search(queries: Float32Array, n: number): Promise<NearestResult> {
    if (this.workers.size === 0) return this.searchHere(queries, n);
    const w = this.workers.size;
    if (n < 64 * w || w === 1) return this.one(this.rr++ % w, queries, n);
    const per = Math.ceil(n / w);
    const parts: Promise<NearestResult>[] = [];
    for (let i = 0; i < w; i++) {
      const a = i * per;
      const b = Math.min(n, a + per);
      if (a >= b) break;
      parts.push(this.one(i, queries.subarray(a * this.dim, b * this.dim), b - a));
    }
    const got = await Promise.all(parts);
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    let o = 0;
    for (const g of got) {
      index.set(g.index, o);
      score.set(g.score, o);
      o += g.index.length;
    }
    return { index, score };
  }

  /** Queries on worker i, after the requests already queued there. */
  private one(i: number, queries: Float32Array, n: number): Promise<NearestResult> {
    return this.queued(i, () => (this.simd ? this.viaSlot(i, queries, n) : this.viaMessage(i, queries.slice(), n)));
  }

  /** Runs `f` once the requests already queued on worker i are done (one request per slot at a time). */
  private queued<T>(i: number, f: () => Promise<T>): Promise<T> {
    const job = this.queues[i]!.then(f);
    this.queues[i] = job.catch(() => undefined);
    return job;
  }

  /** SIMD: queries into worker i's slot (slot i + 1) in chunks; the worker runs the kernel there. */
  private async viaSlot(i: number, queries: Float32Array, n: number): Promise<NearestResult> {
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    for (let q0 = 0; q0 < n; q0 += SLOT_QUERIES) {
      const c = Math.min(SLOT_QUERIES, n - q0);
      this.simd!.put(i + 1, queries, q0, c);
      await this.post(i, { n: c });
      this.simd!.take(i + 1, c, index, score, q0);
    }
    return { index, score };
  }

  private viaMessage(i: number, queries: Float32Array, n: number): Promise<NearestResult> {
    return this.post(i, { queries, n }, [queries.buffer as ArrayBuffer]);
  }

  private post(
    i: number,
    msg: { queries?: Float32Array; n: number; probes?: number; ivf?: IvfSetup | null; build?: IvfLayout; ngram?: NgramSetup | null; lists?: QueryLists; k?: number },
    transfer: ArrayBuffer[] = [],
  ): Promise<NearestResult> {
    return this.workers.call(i, msg, transfer);
  }

  async close(): Promise<void> {
    await this.workers.close();
  }
}

/** Where a rerank runs: the SIMD kernel's table in a slot of its memory, or a plain table. */
export type RerankTable = { simd: SimdTable; slot: number } | { table: Float32Array; dim: number };

/** For each of `n` queries the best of its `k` candidate rows (`cand`: n x k, -1 = none), on `on`. */
export function rerankOn(on: RerankTable, queries: Float32Array, n: number, cand: Int32Array, k: number): NearestResult {
  const index = new Int32Array(n);
  const score = new Float32Array(n);
  if ('simd' in on) on.simd.rerank(on.slot, queries, n, cand, k, index, score);
  else rerankJs(queries, n, on.table, on.dim, cand, k, index, score);
  return { index, score };
}

/**
 * The TypeScript rerank: for each of `n` queries the best of its `k` candidate rows of `table`
 * (`cand`: n x k, -1 = none), dot products summed in float64 and rounded to float32 as
 * nearestRowsJs compares them; ties to the lower row; -1 / -Infinity without a candidate.
 */
function rerankJs(queries: Float32Array, n: number, table: Float32Array, d: number, cand: Int32Array, k: number, index: Int32Array, score: Float32Array): void {
  for (let q = 0; q < n; q++) {
    let best = -1;
    let bs = -Infinity;
    for (let c = 0; c < k; c++) {
      const r = cand[q * k + c]!;
      if (r < 0) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += queries[q * d + j]! * table[r * d + j]!;
      s = Math.fround(s);
      if (s > bs || (s === bs && r < best)) {
        bs = s;
        best = r;
      }
    }
    index[q] = best;
    score[q] = bs;
  }
}

/** A unit-length copy of `rows` x `dim` in a SharedArrayBuffer (for the pool). */
export function sharedUnitTable(vectors: Float32Array, rows: number, dim: number, norms?: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(Math.max(1, rows * dim) * 4));
  return normalizeRows(vectors, rows, dim, out, norms);
}
