/**
 * Exact (weighted) centroid sums: adds each row, times its weight, to the sum of the centre it is
 * assigned to (rows assigned -1 are skipped); then turns sums into unit-length centroids (the
 * spherical k-means centroid of a set of unit rows is their normalised mean).
 * Cost: 2 x rows x dim flops to add, 3 x centres x dim to normalise. Sums are float64.
 */
export function addToSums(
  sums: Float64Array,
  mass: Float64Array,
  rows: Float32Array,
  n: number,
  dim: number,
  target: Int32Array,
  weights?: ArrayLike<number>,
  targetOffset = 0,
): void {
  for (let i = 0; i < n; i++) {
    const j = target[i]! - targetOffset;
    if (j < 0 || j >= mass.length) continue;
    const w = weights ? weights[i]! : 1;
    if (!(w > 0)) continue;
    mass[j]! += w;
    const o = j * dim;
    const p = i * dim;
    for (let t = 0; t < dim; t++) sums[o + t]! += w * rows[p + t]!;
  }
}

/** Unit-length rows from sums; rows whose sum is zero (no member) are left as they are in `out`. */
export function sumsToUnit(sums: Float64Array, k: number, dim: number, out: Float32Array): void {
  for (let j = 0; j < k; j++) {
    const o = j * dim;
    let s = 0;
    for (let t = 0; t < dim; t++) s += sums[o + t]! * sums[o + t]!;
    if (!(s > 0)) continue;
    const inv = 1 / Math.sqrt(s);
    for (let t = 0; t < dim; t++) out[o + t] = sums[o + t]! * inv;
  }
}
