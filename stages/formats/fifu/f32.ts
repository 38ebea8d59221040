/**
 * finalfusion's float32 arithmetic, reproduced operation by operation so that vectors computed
 * here (unit-length word rows, subword sums) are bit-identical to what the Rust crate computes:
 *   - L2 norm: sqrt of a dot product accumulated in f32 in 8 interleaved partial sums (lanes
 *     k mod 8), combined as ((p0+p4) + (p1+p5)) + (p2+p6) + (p3+p7) onto 0, then the leftover
 *     elements (the unrolled dot product of the ndarray crate without BLAS);
 *   - normalisation: each component divided by the norm in f32 (zero vectors left as they are);
 *   - subword sums: rows added one after the other in f32, in n-gram order.
 * Every operation rounds to f32 (Math.fround), as the Rust code does. Cost: O(dim) per vector.
 */
const f = Math.fround;

/** finalfusion's L2 norm of v[offset, offset + dim). */
export function ffNorm(v: Float32Array, offset: number, dim: number): number {
  let p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0; // prettier-ignore
  let k = offset;
  const end = offset + dim;
  for (; end - k >= 8; k += 8) {
    p0 = f(p0 + f(v[k]! * v[k]!));
    p1 = f(p1 + f(v[k + 1]! * v[k + 1]!));
    p2 = f(p2 + f(v[k + 2]! * v[k + 2]!));
    p3 = f(p3 + f(v[k + 3]! * v[k + 3]!));
    p4 = f(p4 + f(v[k + 4]! * v[k + 4]!));
    p5 = f(p5 + f(v[k + 5]! * v[k + 5]!));
    p6 = f(p6 + f(v[k + 6]! * v[k + 6]!));
    p7 = f(p7 + f(v[k + 7]! * v[k + 7]!));
  }
  let sum = 0;
  sum = f(sum + f(p0 + p4));
  sum = f(sum + f(p1 + p5));
  sum = f(sum + f(p2 + p6));
  sum = f(sum + f(p3 + p7));
  for (; k < end; k++) sum = f(sum + f(v[k]! * v[k]!));
  return f(Math.sqrt(sum));
}

/** Normalises v[offset, offset + dim) in place as finalfusion does; returns the norm it had. */
export function ffNormalize(v: Float32Array, offset: number, dim: number): number {
  const n = ffNorm(v, offset, dim);
  if (n !== 0) for (let k = offset, e = offset + dim; k < e; k++) v[k] = v[k]! / n;
  return n;
}

/** Normalises every row of a rows x dim block; returns the norms. */
export function ffNormalizeRows(v: Float32Array, rows: number, dim: number, norms = new Float32Array(rows)): Float32Array {
  for (let r = 0; r < rows; r++) norms[r] = ffNormalize(v, r * dim, dim);
  return norms;
}

/** Sum of rows (in order) of a rows x dim block, normalised: finalfusion's vector of an unknown word. */
export function ffSubwordVector(rows: Float32Array, count: number, dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (let r = 0; r < count; r++) {
    const o = r * dim;
    for (let k = 0; k < dim; k++) out[k] = out[k]! + rows[o + k]!;
  }
  ffNormalize(out, 0, dim);
  return out;
}
