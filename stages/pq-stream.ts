/**
 * Product quantization of rows that are not all in memory (the n-gram rows of a huge fastText
 * model): the same result as pq-quantize.ts `quantizeRows` over the same rows, bit for bit, with
 * only the training sample and one block of rows held at a time.
 *
 * quantizeRows trains on a selection sample (one seeded random draw per row, in row order, until
 * the sample is full) and encodes every row in order. Here the draws are replayed first to know
 * which rows the sample takes, those rows are read, training sees them through blocks that answer
 * for exactly those rows, and the rows are then encoded block by block as they are read.
 *
 * Memory: the sample (sample x dim x 4 bytes), the codes (rows x sub-quantizers bytes), one block.
 */
import { encodeRows, sortedCodebook } from './kernels/pq-encode.js';
import { seededRandom, trainPq, type RowBlock } from './kernels/pq-train.js';
import { DEFAULT_PQ_ITERATIONS, DEFAULT_PQ_SAMPLE, type PqOptions, type PqResult } from './pq-quantize.js';

/** Rows in memory, or rows read on demand in ascending order. */
export type RowSource =
  | { rows: number; data: Float32Array }
  | { rows: number; read(sorted: Int32Array, fn: (k: number, data: Float32Array, offset: number) => void): Promise<void> };

/** Rows per block read for encoding. */
const BLOCK_ROWS = 4096;

async function readRows(src: RowSource, wanted: Int32Array, dim: number, into?: Float32Array): Promise<Float32Array> {
  const out = into ?? new Float32Array(wanted.length * dim);
  if ('data' in src) {
    for (let k = 0; k < wanted.length; k++) out.set(src.data.subarray(wanted[k]! * dim, (wanted[k]! + 1) * dim), k * dim);
  } else {
    await src.read(wanted, (k, data, off) => out.set(data.subarray(off, off + dim), k * dim));
  }
  return out;
}

/** quantizeRows over the rows of `sources` in order (see the module comment). */
export async function quantizeRowSources(sources: readonly RowSource[], dim: number, o: PqOptions & { even?: boolean } = {}): Promise<PqResult> {
  const t0 = performance.now();
  const c0 = cpu();
  const total = sources.reduce((s, b) => s + b.rows, 0);
  const sampleSize = o.sample ?? DEFAULT_PQ_SAMPLE;
  // The draws trainPq makes: one per row while the sample is not full.
  const want = Math.min(total, sampleSize);
  const random = seededRandom(o.seed ?? 1);
  const picked: number[] = [];
  for (let seen = 0; seen < total && picked.length < want; seen++) {
    if (random() * (total - seen) >= want - picked.length) continue;
    picked.push(seen);
  }
  // Read the picked rows of each source; blocks whose subarray answers for those rows only.
  const blocks: RowBlock[] = [];
  let base = 0;
  let p = 0;
  for (const src of sources) {
    let q = p;
    while (q < picked.length && picked[q]! < base + src.rows) q++;
    const local = Int32Array.from(picked.slice(p, q), (r) => r - base);
    const rows = await readRows(src, local, dim);
    const at = new Map<number, number>();
    local.forEach((r, k) => at.set(r, k));
    const data = {
      subarray(a: number, b: number): Float32Array {
        const k = at.get(a / dim);
        if (k === undefined || b - a !== dim) throw new Error(`training asked for row ${a / dim}, which the replayed sample did not pick`);
        return rows.subarray(k * dim, (k + 1) * dim);
      },
    } as unknown as Float32Array;
    blocks.push({ data, rows: src.rows });
    base += src.rows;
    p = q;
  }
  const { codebook, sampled } = trainPq(blocks, dim, {
    dsub: o.dsub,
    nsubq: o.subquantizers,
    even: o.even,
    sample: sampleSize,
    iterations: o.iterations ?? DEFAULT_PQ_ITERATIONS,
    normalize: o.qnorm,
    trials: o.trials,
    seed: o.seed,
  });
  const t1 = performance.now();
  const c1 = cpu();
  const codes = new Uint8Array(total * codebook.nsubq);
  const norms = o.qnorm ? new Float32Array(total) : undefined;
  const sorted = sortedCodebook(codebook);
  let at = 0;
  let err = 0;
  for (const src of sources) {
    if ('data' in src) {
      err += encodeRows(codebook, src.data, src.rows, codes, at, norms, at, sorted);
      at += src.rows;
      continue;
    }
    const buf = new Float32Array(Math.min(BLOCK_ROWS, src.rows) * dim);
    for (let s = 0; s < src.rows; s += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, src.rows - s);
      // one block buffer, encoded before the next read
      const block = await readRows(src, Int32Array.from({ length: n }, (_, k) => s + k), dim, buf.subarray(0, n * dim));
      err += encodeRows(codebook, block, n, codes, at, norms, at, sorted);
      at += n;
    }
  }
  const t2 = performance.now();
  return {
    codebook,
    rows: total,
    codes,
    norms,
    sampled,
    mse: total ? err / total : 0,
    trainSeconds: (t1 - t0) / 1000,
    encodeSeconds: (t2 - t1) / 1000,
    trainCpuSeconds: c1 - c0,
    encodeCpuSeconds: cpu() - c1,
  } as PqResult;
}

function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
