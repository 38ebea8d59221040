/**
 * Sum of a word's n-gram rows through a bucket map: out[o .. o + dim) += rows[map[b]] for each
 * bucket b of `list[0 .. n)` whose map entry is not -1. Returns how many rows were added.
 * Cost: n x dim additions (float32 accumulation, in list order).
 */
export function addMappedRows(
  out: Float32Array,
  o: number,
  rows: Float32Array,
  list: Int32Array,
  n: number,
  map: Int32Array,
  dim: number,
): number {
  let used = 0;
  for (let k = 0; k < n; k++) {
    const r = map[list[k]!]!;
    if (r < 0) continue;
    used++;
    const s = r * dim;
    for (let d = 0; d < dim; d++) out[o + d]! += rows[s + d]!;
  }
  return used;
}

/** v[o .. o + dim) *= float32(f). Cost: dim multiplications. */
export function scaleRow(v: Float32Array, o: number, dim: number, f: number): void {
  const s = Math.fround(f);
  for (let d = 0; d < dim; d++) v[o + d]! *= s;
}

/** Cosine of two rows (0 when either is zero), accumulated in float64. Cost: 3 x dim. */
export function cosineRows(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let d = 0; d < dim; d++) {
    const x = a[ao + d]!;
    const y = b[bo + d]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
