/**
 * Nearest centroid of each sub-vector by squared L2 distance, ties to the lower centroid index
 * (the assignment step of product quantization, in training and in encoding).
 * Cost: n x k x d multiply-adds (loops specialised for d = 1 and d = 2, the usual sub-vector sizes).
 *
 * Sub-vector i is x[xOffset + i * xStride .. + d): strided access reads sub-space m of full rows
 * (xStride = dim, xOffset = m * dsub) without copying them out. Centroid c is
 * centroids[cOffset + c * d .. + d). The code of sub-vector i goes to codes[codeOffset + i * codeStride];
 * its squared distance to dist[i] when `dist` is given. Returns the sum of squared distances.
 */
export function nearestCentroids(
  x: Float32Array,
  xOffset: number,
  xStride: number,
  n: number,
  d: number,
  centroids: Float32Array,
  cOffset: number,
  k: number,
  codes: Uint8Array | Int32Array,
  codeOffset: number,
  codeStride: number,
  dist?: Float64Array,
): number {
  let total = 0;
  if (d === 1) {
    for (let i = 0; i < n; i++) {
      const a = x[xOffset + i * xStride]!;
      let best = Infinity;
      let arg = 0;
      for (let c = 0; c < k; c++) {
        const t = a - centroids[cOffset + c]!;
        const s = t * t;
        if (s < best) {
          best = s;
          arg = c;
        }
      }
      codes[codeOffset + i * codeStride] = arg;
      if (dist) dist[i] = best;
      total += best;
    }
    return total;
  }
  if (d === 2) {
    for (let i = 0; i < n; i++) {
      const p = xOffset + i * xStride;
      const a0 = x[p]!;
      const a1 = x[p + 1]!;
      let best = Infinity;
      let arg = 0;
      for (let c = 0, q = cOffset; c < k; c++, q += 2) {
        const t0 = a0 - centroids[q]!;
        const t1 = a1 - centroids[q + 1]!;
        const s = t0 * t0 + t1 * t1;
        if (s < best) {
          best = s;
          arg = c;
        }
      }
      codes[codeOffset + i * codeStride] = arg;
      if (dist) dist[i] = best;
      total += best;
    }
    return total;
  }
  for (let i = 0; i < n; i++) {
    const p = xOffset + i * xStride;
    let best = Infinity;
    let arg = 0;
    for (let c = 0, q = cOffset; c < k; c++, q += d) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = x[p + j]! - centroids[q + j]!;
        s += t * t;
        if (s >= best) break; // partial distance: this centroid cannot win
      }
      if (s < best) {
        best = s;
        arg = c;
      }
    }
    codes[codeOffset + i * codeStride] = arg;
    if (dist) dist[i] = best;
    total += best;
  }
  return total;
}
