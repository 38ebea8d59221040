/**
 * Product quantization of a set of rows, as the quantized writers need it: train a quantizer on a
 * sample (kernels/pq-train.ts), encode every row (kernels/pq-encode.ts), optionally with the rows
 * scaled to unit length and their norms kept apart (exactly, for finalfusion; quantized to 256
 * levels, for fastText's -qnorm). Decoding (kernels/pq-decode.ts) gives bit for bit what fastText
 * and finalfusion compute from the written codes.
 *
 * Memory: the codes (rows x nsubq bytes), 4 bytes per row for norms, the training sample.
 */
import { UsageError } from '../pipeline/errors.js';
import { codebookIndex, encodeRows, type SubspaceSearch } from './kernels/pq-encode.js';
import { nearestCentroidsSorted, sortCentroids } from './kernels/pq-nearest-sorted.js';
import { pqShape, trainNormQuantizer, trainPq, type PqCodebook, type PqTrainOptions, type RowBlock } from './kernels/pq-train.js';

export type { PqCodebook, RowBlock, SubspaceSearch };
export { codebookIndex };

export interface PqOptions {
  /** k-means++ candidates per centroid (default 1: plain k-means++). */
  trials?: number;
  /** Dims per sub-vector (default 2, fastText's -dsub). */
  dsub?: number;
  /** Number of sub-quantizers instead (finalfusion's --subquantizers). */
  subquantizers?: number;
  /** Quantize unit-length rows and keep the norms apart. */
  qnorm?: boolean;
  /** Rows sampled for training (default 65536). */
  sample?: number;
  /** k-means steps per sub-space (default 10). */
  iterations?: number;
  seed?: number;
}

/**
 * Defaults chosen on gcide-100 (docs/quantization.md, bench/pq-train.mjs): the sample size matters
 * most, k-means steps beyond 10 and greedy k-means++ candidates gain little for their time.
 * 65,536 rows is fastText's own cap (256 per centroid).
 */
export const DEFAULT_PQ_SAMPLE = 65536;
export const DEFAULT_PQ_ITERATIONS = 10;
export const DEFAULT_PQ_TRIALS = 1;

/** Checks the options (UsageError naming the CLI flag) and returns the quantizer shape for `dim`. */
export function checkPqOptions(o: PqOptions, dim: number, even: boolean): { nsubq: number; dsub: number; lastdsub: number } {
  if (o.sample !== undefined && !(Number.isInteger(o.sample) && o.sample >= 1)) throw new UsageError(`--pq-sample must be a positive integer, got ${o.sample}`);
  if (o.iterations !== undefined && !(Number.isInteger(o.iterations) && o.iterations >= 1)) throw new UsageError(`--pq-iterations must be a positive integer, got ${o.iterations}`);
  try {
    return pqShape(dim, { dsub: o.dsub, nsubq: o.subquantizers, even });
  } catch (e) {
    const flag = o.subquantizers !== undefined ? '--pq-subquantizers' : '--pq-dsub';
    let hint = '';
    if (even) {
      const div: number[] = [];
      for (let d = 1; d <= Math.min(dim, 8); d++) if (dim % d === 0) div.push(d);
      hint = `; sub-vector sizes that divide ${dim}: ${div.join(', ')}${dim > 8 ? ', ...' : ''}`;
    }
    throw new UsageError(`${flag}: ${(e as Error).message}${hint}`);
  }
}

export interface PqResult {
  codebook: PqCodebook;
  rows: number;
  /** rows x nsubq. */
  codes: Uint8Array;
  /** qnorm: the norm of each row (float32), the rows having been encoded unit-length. */
  norms?: Float32Array;
  /** Rows the quantizer was trained on. */
  sampled: number;
  /** Mean squared error per row of the encoded (unit, with qnorm) rows. */
  mse: number;
  trainSeconds: number;
  encodeSeconds: number;
  /** CPU time of this process (the machine may be shared: wall time says little). */
  trainCpuSeconds: number;
  encodeCpuSeconds: number;
}

/** CPU seconds of this process so far. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** trainPq's options for `o` (shared by quantizeRows and pq-stream.ts, which must train alike). */
export function trainOptions(o: PqOptions & { even?: boolean }): PqTrainOptions & { sample: number } {
  return {
    dsub: o.dsub,
    nsubq: o.subquantizers,
    even: o.even,
    sample: o.sample ?? DEFAULT_PQ_SAMPLE,
    iterations: o.iterations ?? DEFAULT_PQ_ITERATIONS,
    normalize: o.qnorm,
    trials: o.trials ?? DEFAULT_PQ_TRIALS,
    seed: o.seed,
  };
}

/**
 * Encodes `rows` rows given block by block in row order (`add`, on this thread), or takes codes
 * encoded elsewhere (`claim` the next rows, then `put` their codes, in any order), then gives the
 * result with the training's and the encoding's times (`result`, from the start of training at
 * t0/c0; CPU time is the whole process's, worker threads included). `shared`: codes and norms in
 * SharedArrayBuffers.
 */
export function pqEncoder(codebook: PqCodebook, sampled: number, rows: number, qnorm: boolean | undefined, t0: number, c0: number, shared = false) {
  const t1 = performance.now();
  const c1 = cpuSeconds();
  // shared: worker threads may read and write them later (kernels/pq-pool.ts compensate)
  const codes = new Uint8Array(shared ? new SharedArrayBuffer(rows * codebook.nsubq) : new ArrayBuffer(rows * codebook.nsubq));
  const norms = qnorm ? new Float32Array(shared ? new SharedArrayBuffer(rows * 4) : new ArrayBuffer(rows * 4)) : undefined;
  let index: SubspaceSearch[] | undefined;
  let at = 0;
  let done = 0;
  /** Error sums per block, added in block order at the end (the same total however blocks are encoded). */
  const errs: number[] = [];
  return {
    add(data: Float32Array, n: number): void {
      errs.push(encodeRows(codebook, data, n, codes, at, norms, at, (index ??= codebookIndex(codebook))));
      at += n;
      done += n;
    },
    /** Rows [row, row + n) and the block number their `put` must name. */
    claim(n: number): { row: number; block: number } {
      const r = { row: at, block: errs.length };
      errs.push(0);
      at += n;
      return r;
    },
    put(claimed: { row: number; block: number }, blockCodes: Uint8Array, blockNorms: Float32Array | undefined, err: number): void {
      codes.set(blockCodes, claimed.row * codebook.nsubq);
      if (norms) norms.set(blockNorms!, claimed.row);
      errs[claimed.block] = err;
      done += blockCodes.length / codebook.nsubq;
    },
    result(): PqResult {
      if (at !== rows || done !== rows) throw new Error(`${done} rows encoded, ${rows} announced`);
      const err = errs.reduce((a, b) => a + b, 0);
      return {
        codebook,
        rows,
        codes,
        norms,
        sampled,
        mse: rows ? err / rows : 0,
        trainSeconds: (t1 - t0) / 1000,
        encodeSeconds: (performance.now() - t1) / 1000,
        trainCpuSeconds: c1 - c0,
        encodeCpuSeconds: cpuSeconds() - c1,
      };
    },
  };
}

/** Trains on a sample of all blocks, then encodes every row (blocks in order). */
export function quantizeRows(blocks: readonly RowBlock[], dim: number, o: PqOptions & { even?: boolean } = {}): PqResult {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const { codebook, sampled } = trainPq(blocks, dim, trainOptions(o));
  const enc = pqEncoder(codebook, sampled, blocks.reduce((s, b) => s + b.rows, 0), o.qnorm, t0, c0);
  for (const b of blocks) enc.add(b.data, b.rows);
  return enc.result();
}

/** fastText's norm quantization: 256 levels (1-dim k-means) and each row's level. */
export function quantizeNorms(norms: Float32Array, seed = 1): { levels: Float32Array; codes: Uint8Array } {
  const levels = trainNormQuantizer(norms, { seed });
  return { levels, codes: normCodesFor(levels, norms) };
}

/** The nearest level of each norm. */
export function normCodesFor(levels: Float32Array, norms: Float32Array): Uint8Array {
  const codes = new Uint8Array(norms.length);
  nearestCentroidsSorted(norms, 0, 1, norms.length, sortCentroids(levels, 0, levels.length, 1), codes, 0, 1);
  return codes;
}
