/**
 * Nearest centroid of 2-dim sub-vectors (the default dsub) through a grid of candidate lists: the
 * same answer as pq-nearest.ts (squared L2 in float64, ties to the lower centroid index), with a
 * handful of distance computations per query instead of the ~30 of pq-nearest-sorted.ts.
 *
 * The plane [x0, x1] x [y0, y1] is cut into g x g cells at quantiles of the centroids' coordinates
 * (each column and each row of cells holds about k / g centroids). A cell's candidates are the
 * centroids that can be nearest for some point of the (closed) cell: with U the smallest, over the
 * centroids, of the largest squared distance from a centroid to the cell, a centroid is a candidate
 * when its smallest squared distance to the cell is at most U (with a relative margin for rounding).
 * Candidates are kept in ascending centroid index, so strict `<` keeps the lower index on ties.
 * A query outside the plane falls back to the sorted search (pq-nearest-sorted.ts).
 *
 * Cost: build g^2 x k x 2 (k = 256, g = 16: 131,072 steps); a query 2 x log2 g comparisons plus its
 * cell's candidates (about 4-8 on word-vector sub-spaces).
 */
import { nearestCentroidsSorted, sortCentroids, type SortedCentroids } from './pq-nearest-sorted.js';

export interface CentroidGrid {
  k: number;
  g: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** Cells per unit of x and of y: cell column i spans x0 + [i, i + 1] / sx. */
  sx: number;
  sy: number;
  /** Cell (i, j) = j x g + i lists candidates [start[cell], start[cell + 1]). */
  start: Int32Array;
  /** Candidates' centroid indices (k <= 256) and coordinates (x, y interleaved; float32 like the centroids). */
  cand: Uint8Array;
  cxy: Float32Array;
  /** Fallback for queries outside the plane. */
  sorted: SortedCentroids;
}

/** Relative margin on the pruning bound (rounding of the squared distances). */
const MARGIN = 1e-9;

/**
 * The grid of k 2-dim centroids at centroids[cOffset ..] for queries within [x0, x1] x [y0, y1]
 * (bounds that do not hold every centroid are widened to do so); g cells per axis.
 */
export function buildCentroidGrid(centroids: Float32Array, cOffset: number, k: number, g: number, bounds?: { x0: number; x1: number; y0: number; y1: number }): CentroidGrid {
  if (!(k >= 1 && k <= 256)) throw new Error(`the grid search takes 1 to 256 centroids, got ${k}`);
  const px = new Float64Array(k);
  const py = new Float64Array(k);
  let mx0 = Infinity;
  let mx1 = -Infinity;
  let my0 = Infinity;
  let my1 = -Infinity;
  for (let c = 0; c < k; c++) {
    const x = centroids[cOffset + 2 * c]!;
    const y = centroids[cOffset + 2 * c + 1]!;
    px[c] = x;
    py[c] = y;
    if (x < mx0) mx0 = x;
    if (x > mx1) mx1 = x;
    if (y < my0) my0 = y;
    if (y > my1) my1 = y;
  }
  // default bounds: the centroids' box widened by a quarter of its size on every side
  const wx = mx1 - mx0;
  const wy = my1 - my0;
  const x0 = Math.min(mx0, bounds ? bounds.x0 : mx0 - wx / 4);
  const x1 = Math.max(mx1, bounds ? bounds.x1 : mx1 + wx / 4);
  const y0 = Math.min(my0, bounds ? bounds.y0 : my0 - wy / 4);
  const y1 = Math.max(my1, bounds ? bounds.y1 : my1 + wy / 4);
  const sx = g / (x1 - x0 || 1);
  const sy = g / (y1 - y0 || 1);
  const sorted = sortCentroids(centroids, cOffset, k, 2);
  const { order, first } = sorted;
  const start = new Int32Array(g * g + 1);
  let cand = new Int32Array(g * g * 8);
  let n = 0;
  // each cell's box widened a little: a query's cell, computed with rounding, holds it
  const ex = 1e-9 / sx;
  const ey = 1e-9 / sy;
  for (let j = 0; j < g; j++) {
    const ya = y0 + j / sy - ey;
    const yb = y0 + (j + 1) / sy + ey;
    for (let i = 0; i < g; i++) {
      const xa = x0 + i / sx - ex;
      const xb = x0 + (i + 1) / sx + ex;
      // a first bound: the centroid nearest to the cell's centre, plus half the cell's diagonal
      const mx = (xa + xb) / 2;
      const my = (ya + yb) / 2;
      const dc = nearCentre(sorted, mx, my);
      const reach = (Math.sqrt(dc) + Math.hypot(xb - xa, yb - ya) / 2) * (1 + MARGIN);
      // centroids within `reach` of the cell in x: a range of the x order
      const r0 = lowerBound(first, xa - reach);
      const r1 = upperBound(first, xb + reach);
      let u = Infinity;
      for (let r = r0; r < r1; r++) {
        const c = order[r]!;
        const fx = Math.max(px[c]! - xa, xb - px[c]!);
        const fy = Math.max(py[c]! - ya, yb - py[c]!);
        const far = fx * fx + fy * fy;
        if (far < u) u = far;
      }
      const bound = u * (1 + MARGIN);
      start[j * g + i] = n;
      if (n + (r1 - r0) > cand.length) {
        const grown = new Int32Array(Math.max(cand.length * 2, n + (r1 - r0)));
        grown.set(cand);
        cand = grown;
      }
      const from = n;
      for (let r = r0; r < r1; r++) {
        const c = order[r]!;
        const x = px[c]!;
        const y = py[c]!;
        const nx = x < xa ? xa - x : x > xb ? x - xb : 0;
        const ny = y < ya ? ya - y : y > yb ? y - yb : 0;
        if (nx * nx + ny * ny > bound) continue;
        // insertion in ascending centroid index
        let t = n++;
        while (t > from && cand[t - 1]! > c) {
          cand[t] = cand[t - 1]!;
          t--;
        }
        cand[t] = c;
      }
    }
  }
  start[g * g] = n;
  const cxy = new Float32Array(2 * n);
  for (let t = 0; t < n; t++) {
    cxy[2 * t] = px[cand[t]!]!;
    cxy[2 * t + 1] = py[cand[t]!]!;
  }
  return { k, g, x0, x1, y0, y1, sx, sy, start, cand: Uint8Array.from(cand.subarray(0, n)), cxy, sorted };
}

/** First position of the ascending `a` whose value is >= v. */
export function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position of the ascending `a` whose value is > v. */
function upperBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Squared distance from (mx, my) to a centroid near it (the nearest, up to rounding: any centroid
 * gives a valid bound), walking the x order outwards as pq-nearest-sorted.ts does.
 */
function nearCentre(s: SortedCentroids, mx: number, my: number): number {
  const { k, first, sorted } = s;
  let up = lowerBound(first, mx);
  let down = up - 1;
  let best = Infinity;
  while (up < k || down >= 0) {
    const gu = up < k ? first[up]! - mx : Infinity;
    const gd = down >= 0 ? mx - first[down]! : Infinity;
    const r = gu <= gd ? up++ : down--;
    const g = Math.min(gu, gd);
    if (g * g > best) break;
    const tx = sorted[2 * r]! - mx;
    const ty = sorted[2 * r + 1]! - my;
    const d = tx * tx + ty * ty;
    if (d < best) best = d;
  }
  return best;
}

/**
 * Codes (and squared distances) of n 2-dim sub-vectors; arguments as nearestCentroids in
 * pq-nearest.ts. Returns the sum of squared distances.
 */
export function nearestCentroidsGrid(
  x: Float32Array,
  xOffset: number,
  xStride: number,
  n: number,
  grid: CentroidGrid,
  codes: Uint8Array | Int32Array,
  codeOffset: number,
  codeStride: number,
  dist?: Float64Array,
): number {
  const { g, x0, x1, y0, y1, sx, sy, start, cand, cxy } = grid;
  const last = g - 1;
  let total = 0;
  for (let i = 0, p = xOffset; i < n; i++, p += xStride) {
    const a0 = x[p]!;
    const a1 = x[p + 1]!;
    if (!(a0 >= x0 && a0 <= x1 && a1 >= y0 && a1 <= y1)) {
      // outside the plane (or NaN): the sorted search
      total += nearestCentroidsSorted(x, p, xStride, 1, grid.sorted, codes, codeOffset + i * codeStride, codeStride, dist?.subarray(i, i + 1));
      continue;
    }
    const ci = Math.min(last, Math.floor((a0 - x0) * sx));
    const cj = Math.min(last, Math.floor((a1 - y0) * sy));
    const cell = cj * g + ci;
    let best = Infinity;
    let arg = 0;
    for (let t = start[cell]!, e = start[cell + 1]!; t < e; t++) {
      const t0 = a0 - cxy[2 * t]!;
      const t1 = a1 - cxy[2 * t + 1]!;
      const s = t0 * t0 + t1 * t1;
      if (s < best) {
        best = s;
        arg = t;
      }
    }
    codes[codeOffset + i * codeStride] = cand[arg]!;
    if (dist) dist[i] = best;
    total += best;
  }
  return total;
}
