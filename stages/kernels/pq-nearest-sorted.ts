/**
 * Nearest centroid of each sub-vector, the same answer as pq-nearest.ts (squared L2, ties to the
 * lower centroid index) with fewer distance computations: centroids are sorted by their first
 * coordinate, each query starts at its own first coordinate (binary search) and walks outwards on
 * both sides, stopping a side once the gap in the first coordinate alone exceeds the best distance.
 * Pays off for small d (on 2-dim sub-vectors of word vectors about 30 of 256 centroids are visited).
 * Cost: n x (log2 k + visited x d) per query, k log k to sort; O(n x k x d) in the worst case.
 */

/** Centroids of one sub-space ordered by their first coordinate. */
export interface SortedCentroids {
  k: number;
  d: number;
  /** Centroid indices in order of the first coordinate. */
  order: Int32Array;
  /** First coordinates in that order. */
  first: Float64Array;
  /** The centroids in that order (k x d). */
  sorted: Float32Array;
}

/** Cost: k log k. */
export function sortCentroids(centroids: Float32Array, cOffset: number, k: number, d: number): SortedCentroids {
  const idx = Array.from({ length: k }, (_, c) => c);
  idx.sort((a, b) => centroids[cOffset + a * d]! - centroids[cOffset + b * d]! || a - b);
  const order = Int32Array.from(idx);
  const first = new Float64Array(k);
  const sorted = new Float32Array(k * d);
  for (let r = 0; r < k; r++) {
    const c = order[r]!;
    first[r] = centroids[cOffset + c * d]!;
    for (let j = 0; j < d; j++) sorted[r * d + j] = centroids[cOffset + c * d + j]!;
  }
  return { k, d, order, first, sorted };
}

/**
 * Codes (and squared distances) of n sub-vectors; arguments as nearestCentroids in pq-nearest.ts.
 * Returns the sum of squared distances.
 */
export function nearestCentroidsSorted(
  x: Float32Array,
  xOffset: number,
  xStride: number,
  n: number,
  s: SortedCentroids,
  codes: Uint8Array | Int32Array,
  codeOffset: number,
  codeStride: number,
  dist?: Float64Array,
): number {
  const { k, d, order, first, sorted } = s;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const p = xOffset + i * xStride;
    const a0 = x[p]!;
    // first sorted position with first coordinate >= a0
    let lo = 0;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (first[mid]! < a0) lo = mid + 1;
      else hi = mid;
    }
    let best = Infinity;
    let arg = 0;
    let up = lo;
    let down = lo - 1;
    while (up < k || down >= 0) {
      // the side whose next centroid is closer in the first coordinate
      let r: number;
      let g: number;
      const gu = up < k ? first[up]! - a0 : Infinity;
      const gd = down >= 0 ? a0 - first[down]! : Infinity;
      if (gu <= gd) {
        r = up++;
        g = gu;
      } else {
        r = down--;
        g = gd;
      }
      if (g * g > best) break; // every remaining centroid is at least this far
      let q = r * d;
      let t = a0 - sorted[q]!;
      let sum = t * t;
      for (let j = 1; j < d; j++) {
        t = x[p + j]! - sorted[++q]!;
        sum += t * t;
      }
      const c = order[r]!;
      if (sum < best || (sum === best && c < arg)) {
        best = sum;
        arg = c;
      }
    }
    codes[codeOffset + i * codeStride] = arg;
    if (dist) dist[i] = best;
    total += best;
  }
  return total;
}
