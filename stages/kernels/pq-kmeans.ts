/**
 * Lloyd k-means for one sub-space of a product quantizer: few dims (1 to 8), k up to 256, points
 * in one Float32Array (n x d). Seeding: greedy k-means++ (default) or k distinct points at random
 * (fastText's way). A centroid left without points is moved onto the point
 * farthest from its own centroid (which splits the worst cluster). Stops after `iterations`
 * assignment steps or when no point changes cluster. docs/quantization.md compares it with ml-kmeans.
 * 2-dim points (the default sub-vector size) are seeded over boxes of points (pq-seed.ts) and
 * assigned through a grid of candidate centroids rebuilt every step (pq-nearest-grid.ts); other
 * sizes use the sorted search (pq-nearest-sorted.ts). All searches give brute force's answer.
 * Cost: (iterations + trials + 1) x n x k x d multiply-adds at most (the searches visit far fewer
 * centroids: about 6 per 2-dim point, plus 48^2 cells x ~30 steps per grid), memory 28 x n bytes.
 */
import { buildCentroidGrid, nearestCentroidsGrid } from './pq-nearest-grid.js';
import { nearestCentroids } from './pq-nearest.js';
import { nearestCentroidsSorted, sortCentroids } from './pq-nearest-sorted.js';
import { seedPlusPlus2 } from './pq-seed.js';

export interface SmallKmeansOptions {
  /** Assignment steps at most (default 25, as fastText). */
  iterations?: number;
  /** Uniform [0, 1) numbers (seeded by the caller for reproducible centroids). */
  random: () => number;
  /** 'kmeans++' (default) or 'random' (k distinct points). */
  init?: 'kmeans++' | 'random';
  /** k-means++ candidates per centroid, the best kept (default 2 + floor(ln k), as scikit-learn and ml-kmeans). */
  trials?: number;
  /**
   * Assignment search: 'fast' (default: pq-nearest-grid.ts for d = 2, pq-nearest-sorted.ts
   * otherwise), 'sorted' or 'brute' (pq-nearest.ts); the same result.
   */
  search?: 'fast' | 'sorted' | 'brute';
}

export interface SmallKmeansResult {
  /** k x d. */
  centroids: Float32Array;
  /** Mean squared distance of the points to their final centroids. */
  distortion: number;
  /** Assignment steps run. */
  iterations: number;
}

export function smallKmeans(points: Float32Array, n: number, d: number, k: number, opts: SmallKmeansOptions): SmallKmeansResult {
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`k must be a positive integer, got ${k}`);
  if (points.length < n * d) throw new Error(`${points.length} values for ${n} points of ${d} dims`);
  const maxIter = opts.iterations ?? 25;
  const C = new Float32Array(k * d);
  if (n === 0) return { centroids: C, distortion: 0, iterations: 0 };
  if (n <= k) {
    // Every point is its own centroid; spare centroids repeat the points.
    for (let c = 0; c < k; c++) C.set(points.subarray((c % n) * d, (c % n) * d + d), c * d);
    return { centroids: C, distortion: 0, iterations: 0 };
  }
  const dist = new Float64Array(n);
  const trials = opts.trials ?? 2 + Math.floor(Math.log(k));
  if (opts.init === 'random') seedRandom(points, n, d, k, opts.random, C);
  else if (d === 2) seedPlusPlus2(points, n, k, opts.random, C, trials);
  else seedPlusPlus(points, n, d, k, opts.random, C, dist, trials);
  const assign = new Int32Array(n).fill(-1);
  const next = new Int32Array(n);
  const search = opts.search ?? 'fast';
  const box = d === 2 && search === 'fast' ? boundingBox(points, n) : undefined;
  const step = (out: Int32Array, dst?: Float64Array) =>
    search === 'brute'
      ? nearestCentroids(points, 0, d, n, d, C, 0, k, out, 0, 1, dst)
      : box
        ? nearestCentroidsGrid(points, 0, 2, n, buildCentroidGrid(C, 0, k, LLOYD_GRID, box), out, 0, 1, dst)
        : nearestCentroidsSorted(points, 0, d, n, sortCentroids(C, 0, k, d), out, 0, 1, dst);
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  let total = 0;
  let it = 0;
  let converged = false;
  while (it < maxIter) {
    total = step(next, dist);
    it++;
    let changed = 0;
    for (let i = 0; i < n; i++) {
      if (next[i] !== assign[i]) {
        changed++;
        assign[i] = next[i]!;
      }
    }
    if (changed === 0) {
      converged = true;
      break;
    }
    // Update step: means of the members.
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assign[i]!;
      counts[c]!++;
      for (let j = 0, p = i * d, q = c * d; j < d; j++) sums[q + j]! += points[p + j]!;
    }
    for (let c = 0; c < k; c++) {
      const m = counts[c]!;
      if (m > 0) for (let j = 0; j < d; j++) C[c * d + j] = sums[c * d + j]! / m;
    }
    // Empty clusters take the point farthest from its centroid (each point at most once).
    for (let c = 0; c < k; c++) {
      if (counts[c]! > 0) continue;
      let far = -1;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        if (dist[i]! > worst) {
          worst = dist[i]!;
          far = i;
        }
      }
      if (far < 0) break; // every point sits on a centroid already
      C.set(points.subarray(far * d, far * d + d), c * d);
      dist[far] = 0;
      counts[c] = 1;
    }
  }
  if (!converged) total = step(next);
  return { centroids: C, distortion: total / n, iterations: it };
}

/** Grid cells per axis of the assignment search on 2-dim points (pq-nearest-grid.ts). */
const LLOYD_GRID = 48;

/** The box of n 2-dim points. */
function boundingBox(points: Float32Array, n: number): { x0: number; x1: number; y0: number; y1: number } {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < 2 * n; i += 2) {
    const x = points[i]!;
    const y = points[i + 1]!;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return { x0, x1, y0, y1 };
}

/** k distinct points at random (partial Fisher-Yates over the indices). Cost: n + k x d. */
function seedRandom(points: Float32Array, n: number, d: number, k: number, random: () => number, C: Float32Array): void {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let c = 0; c < k; c++) {
    const j = c + Math.floor(random() * (n - c));
    const t = perm[c]!;
    perm[c] = perm[j]!;
    perm[j] = t;
    C.set(points.subarray(perm[c]! * d, perm[c]! * d + d), c * d);
  }
}

/**
 * Greedy k-means++ seeding: each step draws `trials` candidates with probability proportional to
 * the squared distance to the nearest centroid chosen so far (`near`) and keeps the candidate that
 * lowers the total of those distances most (trials = 1: plain k-means++). When every point already
 * sits on a centroid (duplicates), the next unchosen point is taken.
 * Cost: (trials + 1) x n x k x d.
 */
function seedPlusPlus(points: Float32Array, n: number, d: number, k: number, random: () => number, C: Float32Array, near: Float64Array, trials: number): void {
  const chosen = new Uint8Array(n);
  const cum = new Float64Array(n);
  let pick = Math.floor(random() * n);
  let scan = 0;
  near.fill(Infinity);
  const distTo = (i: number, c: number): number => {
    let s = 0;
    for (let j = 0, p = i * d, q = c * d; j < d; j++) {
      const t = points[p + j]! - points[q + j]!;
      s += t * t;
    }
    return s;
  };
  for (let c = 0; ; c++) {
    chosen[pick] = 1;
    C.set(points.subarray(pick * d, pick * d + d), c * d);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const s = distTo(i, pick);
      if (s < near[i]!) near[i] = s;
      sum += near[i]!;
      cum[i] = sum;
    }
    if (c === k - 1) break;
    if (!(sum > 0)) {
      while (scan < n && chosen[scan]) scan++;
      pick = scan < n ? scan : 0;
      continue;
    }
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      // candidate: first index whose running total exceeds a uniform draw
      const r = random() * sum;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid]! > r) hi = mid;
        else lo = mid + 1;
      }
      while (near[lo] === 0 && lo > 0) lo--; // rounding at the end of the totals
      if (trials === 1) {
        pick = lo;
        break;
      }
      let pot = 0;
      for (let i = 0; i < n && pot < bestPot; i++) pot += Math.min(near[i]!, distTo(i, lo));
      if (pot < bestPot) {
        bestPot = pot;
        pick = lo;
      }
    }
  }
}
