/**
 * Mini-batch k-means update (Sculley 2010): each point of the batch moves the centre it was
 * assigned to towards itself by weight / (the centre's accumulated weight), so every centre is the
 * running (weighted) mean of the points it has won; then the touched centres' unit-length copies
 * (what assignment searches) are recomputed.
 * Cost: 2 x points x dim flops for the moves plus 3 x dim per touched centre.
 */
export function miniBatchUpdate(
  centres: Float32Array,
  unit: Float32Array,
  counts: Float64Array,
  points: Float32Array,
  n: number,
  dim: number,
  assign: Int32Array,
  weights: ArrayLike<number> | undefined,
  touched: Uint8Array,
): number {
  const list: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = assign[i]!;
    if (j < 0) continue;
    const w = weights ? weights[i]! : 1;
    if (!(w > 0)) continue;
    const c = (counts[j] = counts[j]! + w);
    const eta = w / c;
    const o = j * dim;
    const p = i * dim;
    for (let t = 0; t < dim; t++) centres[o + t]! += eta * (points[p + t]! - centres[o + t]!);
    if (!touched[j]) {
      touched[j] = 1;
      list.push(j);
    }
  }
  for (const j of list) {
    touched[j] = 0;
    const o = j * dim;
    let s = 0;
    for (let t = 0; t < dim; t++) s += centres[o + t]! * centres[o + t]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = 0; t < dim; t++) unit[o + t] = centres[o + t]! * inv;
  }
  return list.length;
}
