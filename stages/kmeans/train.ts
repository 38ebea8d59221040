/**
 * Spherical mini-batch k-means on an in-memory sample of unit rows (the reservoir sample of the
 * k-means stage), independent of the pipeline so tests and benchmarks can call it directly.
 *
 * The algorithm:
 * 1. Cells. For k above `cellCentres`, a first, coarse k-means (the same algorithm, flat) splits
 *    the sample into G = ceil(k / cellCentres) cells and the k centres are shared out between the
 *    cells in proportion to their weight (at least one per non-empty cell, at most one per
 *    point). During training a point only competes for the centres of its own cell, so one
 *    assignment costs k / G dot products instead of k. The pipeline's assign stage later maps
 *    every word to its nearest centre among all of them, exactly, across cells.
 * 2. Seeding: greedy k-means++ (2 + ln k candidates per step, the one lowering the potential
 *    most is kept) inside each cell on a subsample of max(3 x its centres, 3 x batch size) of its points
 *    (as scikit-learn's init_size), weights included.
 * 3. Training: mini-batch k-means (Sculley 2010): each epoch walks the sample in a fresh random
 *    order in batches; each point is assigned to its nearest centre by cosine (blocked exact
 *    kernel over the cell's unit centres), then every centre moves towards its points with
 *    learning rate weight / (the centre's accumulated weight). At the end of each epoch, centres
 *    of a cell that won less than `reassignRatio` of the busiest centre's weight in that epoch
 *    are moved onto points drawn in proportion to weight x (1 - cosine to their centre).
 *    Stops early when the smoothed batch objective (exponentially weighted with alpha =
 *    2 x batch / (n + 1), as scikit-learn does, started as the plain mean of the first 1 / alpha
 *    batches) has not reached a new minimum for `patience` batches, or after `iterations` epochs.
 * 4. Finish: `lloydSteps` spherical Lloyd steps on the sample (every point assigned within its
 *    cell, each centre becomes the normalised weighted mean of its members); a centre left
 *    without members is moved onto the worst-served point of its cell (none is empty on the sample).
 * Same seed and input, same result (a single thread does all of it).
 */
import { addToSums, sumsToUnit } from '../kernels/centroid-sums.js';
import { kmeansPlusPlus } from '../kernels/kmeanspp.js';
import { miniBatchUpdate } from '../kernels/kmeans-update.js';
import { nearestRows } from '../kernels/nearest.js';
import { Rng } from '../kernels/random.js';

export interface TrainOptions {
  /** Centres to learn (k >= 1). */
  k: number;
  /** Points per mini-batch (default 1024). */
  batchSize?: number;
  /** At most this many epochs (passes over the sample; default 20). */
  iterations?: number;
  /** Seed (default 1). */
  seed?: number;
  /** Target centres per cell; k above it trains in cells (default 256; Infinity: always flat). */
  cellCentres?: number;
  /**
   * Batches without improvement of the smoothed objective before stopping (default: the
   * smoothing window, (n + 1) / (2 x batch size) batches, at least 10).
   */
  patience?: number;
  /** Starved-centre threshold relative to the busiest centre of its cell (default 0.01; 0: off). */
  reassignRatio?: number;
  /** Start each centre as the mean of the points nearest to its seed, counting their weight (default true). */
  warmStart?: boolean;
  /** Spherical Lloyd steps on the sample after the mini-batch phase (default 3, at least 1). */
  lloydSteps?: number;
  /** Candidates per k-means++ step (default 2 + ln(centres in the cell), greedy k-means++). */
  seedingTrials?: number;
  /** Progress lines (phases, epochs). */
  log?: (line: string) => void;
}

export const TRAIN_DEFAULTS = {
  batchSize: 1024,
  iterations: 20,
  cellCentres: 256,
  patience: 10,
  reassignRatio: 0.01,
  lloydSteps: 3,
} as const;

export interface TrainResult {
  k: number;
  dim: number;
  /** k unit rows. */
  centroids: Float32Array;
  /** Centre of each sample point (nearest within its cell after the last step). */
  assign: Int32Array;
  /** Cosine of each sample point to its centre. */
  score: Float32Array;
  /** Cells used (1: flat). */
  cells: number;
  /** Mini-batch steps taken in the main training (not counting the coarse one). */
  steps: number;
  epochs: number;
  stoppedEarly: boolean;
  /** Centres moved because they were starved. */
  reassigned: number;
  /** Seconds per phase. */
  seconds: { cells: number; seeding: number; training: number; finish: number };
}

/**
 * Trains k centres on `n` unit rows `points` (n x dim) with optional per-point weights.
 * The rows must already have unit length (zero rows are allowed and never win anything).
 */
export function trainKMeans(points: Float32Array, n: number, dim: number, weights: Float64Array | undefined, opts: TrainOptions): TrainResult {
  const k = opts.k;
  if (!Number.isInteger(k) || k < 1) throw new Error(`k-means: k must be a positive integer, got ${k}`);
  if (n < 1) throw new Error('k-means: no points to train on');
  const batchSize = opts.batchSize ?? TRAIN_DEFAULTS.batchSize;
  const iterations = opts.iterations ?? TRAIN_DEFAULTS.iterations;
  const cellCentres = opts.cellCentres ?? TRAIN_DEFAULTS.cellCentres;
  const rng = new Rng(opts.seed ?? 1);
  const log = opts.log ?? (() => undefined);
  const seconds = { cells: 0, seeding: 0, training: 0, finish: 0 };

  if (k >= n) {
    // Every point is its own centre.
    const assign = new Int32Array(n);
    for (let i = 0; i < n; i++) assign[i] = i;
    return {
      k: n,
      dim,
      centroids: points.slice(0, n * dim),
      assign,
      score: new Float32Array(n).fill(1),
      cells: 1,
      steps: 0,
      epochs: 0,
      stoppedEarly: false,
      reassigned: 0,
      seconds,
    };
  }

  // 1. Cells.
  let t = performance.now();
  let cells = 1;
  const cellOf = new Int32Array(n);
  if (Number.isFinite(cellCentres) && k > cellCentres) {
    cells = Math.min(Math.ceil(k / cellCentres), Math.floor(k / 2), n);
  }
  if (cells > 1) {
    const coarse = trainKMeans(points, n, dim, weights, { ...opts, k: cells, cellCentres: Infinity, seed: rng.nextU32(), log: undefined });
    cells = coarse.k;
    cellOf.set(coarse.assign);
    log(`k-means: ${cells} cells (coarse k-means, ${coarse.epochs} epochs)`);
  }
  const part = partition(cellOf, n, cells);
  const mass = new Float64Array(cells);
  for (let i = 0; i < n; i++) mass[cellOf[i]!]! += weights ? weights[i]! : 1;
  const cap = new Int32Array(cells);
  for (let g = 0; g < cells; g++) cap[g] = part.start[g + 1]! - part.start[g]!;
  const kc = apportion(k, mass, cap);
  const cStart = new Int32Array(cells + 1);
  for (let g = 0; g < cells; g++) cStart[g + 1] = cStart[g]! + kc[g]!;
  seconds.cells = (performance.now() - t) / 1000;

  // 2. Seeding, cell by cell.
  t = performance.now();
  const centres = new Float32Array(k * dim);
  for (let g = 0; g < cells; g++) {
    const kg = kc[g]!;
    if (kg === 0) continue;
    const members = part.order.subarray(part.start[g]!, part.start[g + 1]!);
    const m = Math.min(members.length, Math.max(3 * kg, 3 * batchSize));
    const sub = m < members.length ? sampleWithoutReplacement(members, m, rng) : members;
    const rows = gatherRows(points, dim, sub);
    const w = weights ? Float64Array.from(sub, (i) => weights[i]!) : undefined;
    const trials = opts.seedingTrials ?? 2 + Math.floor(Math.log(kg));
    const picks = kmeansPlusPlus(rows, sub.length, dim, kg, () => rng.next(), w, trials);
    for (let c = 0; c < kg; c++) centres.set(rows.subarray(picks[c]! * dim, (picks[c]! + 1) * dim), (cStart[g]! + c) * dim);
  }
  const unit = centres.slice();
  const counts = new Float64Array(k);
  if (opts.warmStart ?? true) {
    // Each seed becomes the weighted mean of the points nearest to it, and starts with their
    // weight as its count, so the first mini-batch updates refine it instead of replacing it.
    const a = new Int32Array(n);
    const sc = new Float32Array(n);
    assignAll(points, dim, part, cells, cStart, unit, a, sc);
    const sums = new Float64Array(k * dim);
    addToSums(sums, counts, points, n, dim, a, weights);
    for (let j = 0; j < k; j++) {
      const m = counts[j]!;
      if (!(m > 0)) continue;
      for (let c = 0; c < dim; c++) centres[j * dim + c] = sums[j * dim + c]! / m;
    }
    sumsToUnit(sums, k, dim, unit);
  }
  seconds.seeding = (performance.now() - t) / 1000;

  // 3. Mini-batch training.
  t = performance.now();
  const epochStartCounts = new Float64Array(k);
  const touched = new Uint8Array(k);
  const lastScore = new Float32Array(n);
  const b = Math.min(batchSize, n);
  const q = new Float32Array(b * dim);
  const qPoint = new Int32Array(b);
  const qW = new Float64Array(b);
  const qAssign = new Int32Array(b);
  const qScore = new Float32Array(b);
  const cellCount = new Int32Array(cells + 1);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const alpha = Math.min(1, (2 * b) / (n + 1));
  // The smoothed objective starts as the plain mean of the first `warm` batches (its window).
  const warm = Math.ceil(1 / alpha);
  const patience = opts.patience ?? Math.max(TRAIN_DEFAULTS.patience, warm);
  let warmSum = 0;
  const ratio = opts.reassignRatio ?? TRAIN_DEFAULTS.reassignRatio;
  let ewa = NaN;
  let ewaMin = Infinity;
  let noImprovement = 0;
  let steps = 0;
  let epochs = 0;
  let stoppedEarly = false;
  let reassigned = 0;

  training: for (let e = 0; e < iterations; e++) {
    epochs++;
    epochStartCounts.set(counts);
    rng.shuffle(order);
    for (let s = 0; s < n; s += b) {
      const nb = Math.min(b, n - s);
      const batch = order.subarray(s, s + nb);
      // Group the batch by cell (stable), gather rows.
      cellCount.fill(0);
      for (let i = 0; i < nb; i++) cellCount[cellOf[batch[i]!]! + 1]!++;
      for (let g = 0; g < cells; g++) cellCount[g + 1]! += cellCount[g]!;
      const fill = cellCount.slice(0, cells);
      for (let i = 0; i < nb; i++) {
        const p = batch[i]!;
        const at = fill[cellOf[p]!]!++;
        qPoint[at] = p;
      }
      for (let i = 0; i < nb; i++) {
        const p = qPoint[i]!;
        q.set(points.subarray(p * dim, (p + 1) * dim), i * dim);
        qW[i] = weights ? weights[p]! : 1;
      }
      searchCells(q, nb, dim, unit, cStart, cellCount, cells, qAssign, qScore);
      let obj = 0;
      let wsum = 0;
      for (let i = 0; i < nb; i++) {
        lastScore[qPoint[i]!] = qScore[i]!;
        obj += qW[i]! * (1 - qScore[i]!);
        wsum += qW[i]!;
      }
      miniBatchUpdate(centres, unit, counts, q, nb, dim, qAssign, weights ? qW : undefined, touched);
      steps++;
      // Early stop on the smoothed batch objective (mean weighted 1 - cosine).
      const batchObj = wsum > 0 ? obj / wsum : 0;
      if (steps <= warm) {
        warmSum += batchObj;
        if (steps === warm) ewa = ewaMin = warmSum / warm;
        continue;
      }
      ewa = ewa * (1 - alpha) + batchObj * alpha;
      if (ewa < ewaMin) {
        ewaMin = ewa;
        noImprovement = 0;
      } else if (++noImprovement >= patience) {
        stoppedEarly = true;
        break training;
      }
    }
    if (ratio > 0 && e + 1 < iterations) reassigned += reassignStarved(points, dim, weights, part, cells, cStart, counts, epochStartCounts, centres, unit, lastScore, ratio, rng);
    log(`k-means: epoch ${epochs}, ${steps} batches, smoothed 1 - cosine ${ewa.toFixed(5)}`);
  }
  seconds.training = (performance.now() - t) / 1000;

  // 4. Finish: assign all, one Lloyd step, no empty centre.
  t = performance.now();
  const assign = new Int32Array(n);
  const score = new Float32Array(n);
  const sums = new Float64Array(k * dim);
  const cmass = new Float64Array(k);
  const lloyd = Math.max(1, opts.lloydSteps ?? TRAIN_DEFAULTS.lloydSteps);
  for (let l = 0; l < lloyd; l++) {
    assignAll(points, dim, part, cells, cStart, unit, assign, score);
    sums.fill(0);
    cmass.fill(0);
    addToSums(sums, cmass, points, n, dim, assign, weights);
    sumsToUnit(sums, k, dim, unit);
  }
  fillEmpty(points, dim, weights, part, cells, cStart, unit, assign, score, cmass);
  for (let i = 0; i < n; i++) {
    const o = assign[i]! * dim;
    const p = i * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += points[p + j]! * unit[o + j]!;
    score[i] = s;
  }
  seconds.finish = (performance.now() - t) / 1000;
  return { k, dim, centroids: unit, assign, score, cells, steps, epochs, stoppedEarly, reassigned, seconds };
}

interface Partition {
  /** Point indices grouped by cell (ascending within a cell). */
  order: Int32Array;
  /** Cell g holds order[start[g] .. start[g + 1]). */
  start: Int32Array;
}

function partition(cellOf: Int32Array, n: number, cells: number): Partition {
  const start = new Int32Array(cells + 1);
  for (let i = 0; i < n; i++) start[cellOf[i]! + 1]!++;
  for (let g = 0; g < cells; g++) start[g + 1]! += start[g]!;
  const fill = start.slice(0, cells);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[cellOf[i]!]!++] = i;
  return { order, start };
}

/**
 * Shares k centres out between cells in proportion to `mass` (largest remainders), at least one
 * per non-empty cell and at most `cap[g]` (its points). Needs k <= sum of caps.
 */
export function apportion(k: number, mass: Float64Array, cap: Int32Array): Int32Array {
  const g = mass.length;
  const out = new Int32Array(g);
  let left = k;
  for (let i = 0; i < g; i++) {
    if (cap[i]! > 0 && left > 0) {
      out[i] = 1;
      left--;
    }
  }
  while (left > 0) {
    let open = 0;
    for (let i = 0; i < g; i++) if (out[i]! < cap[i]!) open += Math.max(0, mass[i]!);
    const rem: { i: number; r: number }[] = [];
    let given = 0;
    const share = left;
    for (let i = 0; i < g; i++) {
      const room = cap[i]! - out[i]!;
      if (room <= 0) continue;
      const ideal = open > 0 ? (share * Math.max(0, mass[i]!)) / open : share / g;
      const whole = Math.min(room, Math.floor(ideal));
      out[i]! += whole;
      given += whole;
      if (whole < room) rem.push({ i, r: ideal - whole });
    }
    left -= given;
    rem.sort((a, b) => b.r - a.r || a.i - b.i);
    for (const { i } of rem) {
      if (left === 0) break;
      out[i]!++;
      left--;
    }
    if (given === 0 && rem.length === 0) throw new Error('apportion: more centres than points');
  }
  return out;
}

function sampleWithoutReplacement(from: Int32Array, m: number, rng: Rng): Int32Array {
  const a = from.slice();
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(a.length - i);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a.subarray(0, m).sort();
}

function gatherRows(points: Float32Array, dim: number, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * dim);
  for (let i = 0; i < idx.length; i++) out.set(points.subarray(idx[i]! * dim, (idx[i]! + 1) * dim), i * dim);
  return out;
}

/**
 * Nearest centre of each query within its cell: queries are grouped by cell, cell g's queries are
 * q[cellStart[g] .. cellStart[g + 1]); answers are absolute centre indices.
 */
function searchCells(
  q: Float32Array,
  nq: number,
  dim: number,
  unit: Float32Array,
  cStart: Int32Array,
  qStart: Int32Array,
  cells: number,
  outIndex: Int32Array,
  outScore: Float32Array,
): void {
  for (let g = 0; g < cells; g++) {
    const a = qStart[g]!;
    const e = g + 1 <= cells ? qStart[g + 1]! : nq;
    if (e <= a) continue;
    const c0 = cStart[g]!;
    const kc = cStart[g + 1]! - c0;
    const idx = outIndex.subarray(a, e);
    const sc = outScore.subarray(a, e);
    if (kc === 0) {
      idx.fill(-1);
      sc.fill(0);
      continue;
    }
    nearestRows(q.subarray(a * dim, e * dim), e - a, unit.subarray(c0 * dim, (c0 + kc) * dim), kc, dim, idx, sc);
    for (let i = 0; i < idx.length; i++) idx[i]! += c0;
  }
}

/** Assigns every point to its nearest centre within its cell. */
function assignAll(
  points: Float32Array,
  dim: number,
  part: Partition,
  cells: number,
  cStart: Int32Array,
  unit: Float32Array,
  assign: Int32Array,
  score: Float32Array,
): void {
  const chunk = 2048;
  for (let g = 0; g < cells; g++) {
    const c0 = cStart[g]!;
    const kc = cStart[g + 1]! - c0;
    const members = part.order.subarray(part.start[g]!, part.start[g + 1]!);
    if (kc === 0) {
      for (const p of members) {
        assign[p] = -1;
        score[p] = 0;
      }
      continue;
    }
    const table = unit.subarray(c0 * dim, (c0 + kc) * dim);
    for (let s = 0; s < members.length; s += chunk) {
      const ids = members.subarray(s, Math.min(members.length, s + chunk));
      const rows = gatherRows(points, dim, ids);
      const idx = new Int32Array(ids.length);
      const sc = new Float32Array(ids.length);
      nearestRows(rows, ids.length, table, kc, dim, idx, sc);
      for (let i = 0; i < ids.length; i++) {
        assign[ids[i]!] = c0 + idx[i]!;
        score[ids[i]!] = sc[i]!;
      }
    }
  }
}

/**
 * End of an epoch: in each cell, centres that won less than `ratio` of the busiest centre's
 * weight during the epoch move onto points drawn in proportion to weight x (1 - cosine), and get
 * the smallest accumulated weight of the cell's other centres (so they are not starved at once).
 */
function reassignStarved(
  points: Float32Array,
  dim: number,
  weights: Float64Array | undefined,
  part: Partition,
  cells: number,
  cStart: Int32Array,
  counts: Float64Array,
  before: Float64Array,
  centres: Float32Array,
  unit: Float32Array,
  lastScore: Float32Array,
  ratio: number,
  rng: Rng,
): number {
  let moved = 0;
  for (let g = 0; g < cells; g++) {
    const c0 = cStart[g]!;
    const c1 = cStart[g + 1]!;
    if (c1 - c0 < 2) continue;
    let maxGain = 0;
    for (let j = c0; j < c1; j++) maxGain = Math.max(maxGain, counts[j]! - before[j]!);
    const starved: number[] = [];
    let minKept = Infinity;
    for (let j = c0; j < c1; j++) {
      if (counts[j]! - before[j]! < ratio * maxGain) starved.push(j);
      else minKept = Math.min(minKept, counts[j]!);
    }
    if (starved.length === 0 || !Number.isFinite(minKept)) continue;
    const members = part.order.subarray(part.start[g]!, part.start[g + 1]!);
    const pot = new Float64Array(members.length);
    let total = 0;
    for (let i = 0; i < members.length; i++) {
      const p = members[i]!;
      pot[i] = (weights ? weights[p]! : 1) * Math.max(0, 1 - lastScore[p]!);
      total += pot[i]!;
    }
    const limit = Math.min(starved.length, Math.floor(members.length / 2));
    for (let s = 0; s < limit && total > 0; s++) {
      let r = rng.next() * total;
      let pick = -1;
      for (let i = 0; i < members.length; i++) {
        if (pot[i]! <= 0) continue;
        pick = i;
        r -= pot[i]!;
        if (r < 0) break;
      }
      if (pick < 0) break;
      total -= pot[pick]!;
      pot[pick] = 0;
      const j = starved[s]!;
      const p = members[pick]!;
      centres.set(points.subarray(p * dim, (p + 1) * dim), j * dim);
      unit.set(points.subarray(p * dim, (p + 1) * dim), j * dim);
      counts[j] = minKept;
      lastScore[p] = 1;
      moved++;
    }
  }
  return moved;
}

/**
 * Centres without a member on the sample move onto the point of their cell that is served worst
 * (largest weight x (1 - cosine)) among points whose centre has other members.
 */
function fillEmpty(
  points: Float32Array,
  dim: number,
  weights: Float64Array | undefined,
  part: Partition,
  cells: number,
  cStart: Int32Array,
  unit: Float32Array,
  assign: Int32Array,
  score: Float32Array,
  cmass: Float64Array,
): void {
  const members = new Int32Array(cmass.length);
  for (let i = 0; i < assign.length; i++) if (assign[i]! >= 0) members[assign[i]!]!++;
  for (let g = 0; g < cells; g++) {
    const c0 = cStart[g]!;
    const c1 = cStart[g + 1]!;
    const pts = part.order.subarray(part.start[g]!, part.start[g + 1]!);
    for (let j = c0; j < c1; j++) {
      if (members[j]! > 0) continue;
      let best = -1;
      let bestLoss = -Infinity;
      for (const p of pts) {
        const a = assign[p]!;
        if (a >= 0 && members[a]! < 2) continue;
        const loss = (weights ? weights[p]! : 1) * (1 - score[p]!);
        if (loss > bestLoss) {
          bestLoss = loss;
          best = p;
        }
      }
      if (best < 0) continue;
      const old = assign[best]!;
      if (old >= 0) members[old]!--;
      assign[best] = j;
      score[best] = 1;
      members[j] = 1;
      unit.set(points.subarray(best * dim, (best + 1) * dim), j * dim);
    }
  }
}
