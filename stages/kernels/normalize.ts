/**
 * L2 normalisation of rows. Zero vectors stay zero (divided by 1), as spaCy does.
 * Cost: 2 x rows x dim flops.
 */
export function normalizeRows(src: Float32Array, rows: number, dim: number, out: Float32Array = src, norms?: Float32Array): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const v = src[o + k]!;
      s += v * v;
    }
    const n = Math.sqrt(s);
    if (norms) norms[r] = n;
    const inv = n > 0 ? 1 / n : 1;
    for (let k = 0; k < dim; k++) out[o + k] = src[o + k]! * inv;
  }
  return out;
}

/** L2 norm of one row. Cost: 2 x dim flops. */
export function rowNorm(v: Float32Array, offset: number, dim: number): number {
  let s = 0;
  for (let k = offset, e = offset + dim; k < e; k++) s += v[k]! * v[k]!;
  return Math.sqrt(s);
}
