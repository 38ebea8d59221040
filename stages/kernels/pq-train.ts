/**
 * Product-quantizer training: rows of `dim` floats are cut into sub-vectors (nsubq - 1 of `dsub`
 * dims and a last one of `lastdsub`, 1 <= lastdsub <= dsub), and each sub-space gets k centroids
 * by k-means (pq-kmeans.ts) on a random sample of the rows. With `normalize`, rows are scaled to
 * unit length before sampling (their norms are quantized apart, see trainNormQuantizer).
 * Defaults: docs/quantization.md (bench/pq-train.mjs on a real model).
 * Cost: nsubq x (iterations + trials + 1) x sample x k x dsub multiply-adds at most; memory
 * sample x dim x 4 bytes for the sample plus 28 bytes per sampled sub-vector.
 *
 * Centroid layout (fastText's and finalfusion's alike): sub-quantizer m < nsubq - 1 has centroid c
 * at centroids[(m x k + c) x dsub]; the last at m x k x dsub + c x lastdsub; dim x k floats in all.
 */
import { smallKmeans } from './pq-kmeans.js';
import { mulberry32 } from './random.js';

export interface PqCodebook {
  dim: number;
  /** Sub-quantizers (bytes per code). */
  nsubq: number;
  /** Dims of every sub-vector but the last. */
  dsub: number;
  /** Dims of the last sub-vector. */
  lastdsub: number;
  /** Centroids per sub-quantizer. */
  k: number;
  /** dim x k floats, layout above. */
  centroids: Float32Array;
}

/** Rows handed to training and encoding: several row-major blocks of the same width. */
export interface RowBlock {
  data: Float32Array;
  rows: number;
}

export interface PqShapeOptions {
  /** Dims per sub-vector (fastText's -dsub; default 2). */
  dsub?: number;
  /** Number of sub-quantizers (finalfusion's --subquantizers); sets dsub = ceil(dim / nsubq). */
  nsubq?: number;
  /** Every sub-vector must have the same size (finalfusion): dim must be a multiple of dsub. */
  even?: boolean;
}

/** Shape of the quantizer for `dim`; throws an Error naming the option that cannot work. */
export function pqShape(dim: number, o: PqShapeOptions = {}): { nsubq: number; dsub: number; lastdsub: number } {
  if (o.dsub !== undefined && o.nsubq !== undefined) throw new Error('give the sub-vector size or the number of sub-quantizers, not both');
  let dsub: number;
  if (o.nsubq !== undefined) {
    if (!(Number.isInteger(o.nsubq) && o.nsubq >= 1 && o.nsubq <= dim)) throw new Error(`the number of sub-quantizers must be an integer from 1 to the dimension ${dim}, got ${o.nsubq}`);
    dsub = Math.ceil(dim / o.nsubq);
    if (Math.ceil(dim / dsub) !== o.nsubq) {
      throw new Error(`${o.nsubq} sub-quantizers cannot split dimension ${dim} into sub-vectors of one size (and a shorter last one); try ${Math.ceil(dim / dsub)}`);
    }
  } else {
    dsub = o.dsub ?? 2;
    if (!(Number.isInteger(dsub) && dsub >= 1 && dsub <= dim)) throw new Error(`the sub-vector size must be an integer from 1 to the dimension ${dim}, got ${dsub}`);
  }
  const nsubq = Math.ceil(dim / dsub);
  const lastdsub = dim - (nsubq - 1) * dsub;
  if (o.even && lastdsub !== dsub) {
    throw new Error(`dimension ${dim} is not a multiple of the sub-vector size ${dsub} (finalfusion needs sub-vectors of one size)`);
  }
  return { nsubq, dsub, lastdsub };
}

export interface PqTrainOptions extends PqShapeOptions {
  /** Centroids per sub-quantizer (default 256: one byte per code). */
  k?: number;
  /** Rows sampled for training (default 65536, fastText's cap; all rows when fewer). */
  sample?: number;
  /** k-means steps per sub-space (default 10). */
  iterations?: number;
  /** k-means++ candidates per centroid (default 1: plain k-means++). */
  trials?: number;
  /** Train on unit-length rows. */
  normalize?: boolean;
  seed?: number;
}

export interface PqTrainResult {
  codebook: PqCodebook;
  /** Rows the centroids were trained on. */
  sampled: number;
  /** Mean squared error per sub-space on the sample, summed over sub-spaces (per row). */
  distortion: number;
}

/** Seeded uniform [0, 1) numbers (mulberry32); the same seed gives the same quantizer. */
export function seededRandom(seed: number): () => number {
  return mulberry32((Math.floor(Math.abs(seed)) ^ 0x6d2b79f5) >>> 0);
}

/** Squared L2 norm of row r of a block. */
function sq(b: Float32Array, o: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += b[o + j]! * b[o + j]!;
  return s;
}

/**
 * Rows of [0, total) drawn for a training sample of `want` (selection sampling: one draw per row,
 * in row order, until the sample is full; ascending, exact size).
 */
export function selectRows(total: number, want: number, random: () => number): Int32Array {
  const ids = new Int32Array(Math.min(total, want));
  let got = 0;
  for (let seen = 0; seen < total && got < ids.length; seen++) {
    if (random() * (total - seen) >= ids.length - got) continue;
    ids[got++] = seen;
  }
  return ids;
}

export function trainPq(blocks: readonly RowBlock[], dim: number, o: PqTrainOptions = {}): PqTrainResult {
  const random = seededRandom(o.seed ?? 1);
  const total = blocks.reduce((s, b) => s + b.rows, 0);
  const ids = selectRows(total, o.sample ?? 65536, random);
  const sample = new Float32Array(ids.length * dim);
  let k = 0;
  let base = 0;
  for (const b of blocks) {
    for (; k < ids.length && ids[k]! < base + b.rows; k++) sample.set(b.data.subarray((ids[k]! - base) * dim, (ids[k]! - base + 1) * dim), k * dim);
    base += b.rows;
  }
  return trainPqOnSample(sample, ids.length, dim, o);
}

/**
 * The random stream of sub-space m's k-means (seeding draws): its own stream per sub-space, derived
 * from the seed and m, so sub-spaces can be trained in any order or on any thread.
 */
export function subspaceRandom(seed: number, m: number): () => number {
  const s = Math.floor(Math.abs(seed)) >>> 0;
  return mulberry32((Math.imul(s ^ 0x6d2b79f5, 0x9e3779b1) + Math.imul(m + 1, 0x85ebca6b)) >>> 0);
}

/** Settings of one sub-space's k-means (sent to worker threads as they are). */
export interface SubspaceJob {
  m: number;
  /** got x d values. */
  points: Float32Array;
  got: number;
  d: number;
  k: number;
  iterations: number;
  trials: number;
  seed: number;
}

/** One sub-space's centroids (k x d) and distortion. */
export function trainSubspace(j: SubspaceJob): { centroids: Float32Array; distortion: number } {
  const r = smallKmeans(j.points, j.got, j.d, j.k, { iterations: j.iterations, random: subspaceRandom(j.seed, j.m), trials: j.trials });
  return { centroids: r.centroids, distortion: r.distortion };
}

/**
 * Training of `got` sampled rows cut into sub-space jobs (with `normalize` the rows are made unit
 * length in place first); `finish` assembles the codebook from the jobs' results, in any order of
 * completion (the distortion is summed in sub-space order).
 */
export function pqJobs(sample: Float32Array, got: number, dim: number, o: PqTrainOptions) {
  const { nsubq, dsub, lastdsub } = pqShape(dim, o);
  const k = o.k ?? 256;
  if (!(Number.isInteger(k) && k >= 1 && k <= 256)) throw new Error(`centroids per sub-quantizer must be 1 to 256, got ${k}`);
  if (o.normalize) {
    for (let dst = 0; dst < got * dim; dst += dim) {
      const n = Math.sqrt(sq(sample, dst, dim));
      if (n > 0) for (let j = 0; j < dim; j++) sample[dst + j] = sample[dst + j]! / n;
    }
  }
  const job = (m: number): SubspaceJob => {
    const d = m === nsubq - 1 ? lastdsub : dsub;
    const points = new Float32Array(got * d);
    for (let i = 0; i < got; i++) for (let j = 0; j < d; j++) points[i * d + j] = sample[i * dim + m * dsub + j]!;
    return { m, points, got, d, k, iterations: o.iterations ?? 10, trials: o.trials ?? 1, seed: o.seed ?? 1 };
  };
  const finish = (results: readonly { centroids: Float32Array; distortion: number }[]): PqTrainResult => {
    const centroids = new Float32Array(dim * k);
    let distortion = 0;
    for (let m = 0; m < nsubq; m++) {
      centroids.set(results[m]!.centroids, m * k * dsub);
      distortion += results[m]!.distortion;
    }
    return { codebook: { dim, nsubq, dsub, lastdsub, k, centroids }, sampled: got, distortion };
  };
  return { nsubq, job, finish };
}

/**
 * The quantizer trained on `got` sampled rows (sub-space m's k-means draws from
 * subspaceRandom(seed, m)); with `normalize` the rows are made unit length in place.
 */
export function trainPqOnSample(sample: Float32Array, got: number, dim: number, o: PqTrainOptions): PqTrainResult {
  const { nsubq, job, finish } = pqJobs(sample, got, dim, o);
  const results = [];
  for (let m = 0; m < nsubq; m++) results.push(trainSubspace(job(m)));
  return finish(results);
}

/**
 * The scalar quantizer of row norms (fastText's -qnorm): k levels by 1-dim k-means over all the
 * norms (or a sample). Cost: (iterations + trials + 1) x n x k.
 */
export function trainNormQuantizer(norms: Float32Array, o: { k?: number; sample?: number; iterations?: number; seed?: number } = {}): Float32Array {
  const k = o.k ?? 256;
  const random = seededRandom((o.seed ?? 1) + 7919);
  const n = norms.length;
  const want = Math.min(n, o.sample ?? 65536);
  const pts = want < n ? Float32Array.from(selectRows(n, want, random), (i) => norms[i]!) : norms;
  return smallKmeans(pts, pts.length, 1, k, { iterations: o.iterations ?? 25, random }).centroids;
}
