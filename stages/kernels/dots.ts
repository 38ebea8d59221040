/**
 * Dense dot-product block: out[c x rows + i] = <cands row c, points row i> for every candidate
 * row and every point row. Four candidates against two points per inner loop (eight
 * accumulators), so each loaded value serves several products.
 * Cost: 2 x nc x rows x dim flops.
 */
export function dotBlock(cands: Float32Array, nc: number, points: Float32Array, rows: number, dim: number, out: Float32Array): void {
  let c = 0;
  for (; c + 4 <= nc; c += 4) {
    const a0 = c * dim;
    const a1 = a0 + dim;
    const a2 = a1 + dim;
    const a3 = a2 + dim;
    const o0 = c * rows;
    const o1 = o0 + rows;
    const o2 = o1 + rows;
    const o3 = o2 + rows;
    let i = 0;
    for (; i + 2 <= rows; i += 2) {
      const p = i * dim;
      const q = p + dim;
      let s00 = 0, s10 = 0, s20 = 0, s30 = 0, s01 = 0, s11 = 0, s21 = 0, s31 = 0;
      for (let k = 0; k < dim; k++) {
        const x = points[p + k]!;
        const y = points[q + k]!;
        const v0 = cands[a0 + k]!;
        const v1 = cands[a1 + k]!;
        const v2 = cands[a2 + k]!;
        const v3 = cands[a3 + k]!;
        s00 += v0 * x;
        s10 += v1 * x;
        s20 += v2 * x;
        s30 += v3 * x;
        s01 += v0 * y;
        s11 += v1 * y;
        s21 += v2 * y;
        s31 += v3 * y;
      }
      out[o0 + i] = s00; out[o1 + i] = s10; out[o2 + i] = s20; out[o3 + i] = s30;
      out[o0 + i + 1] = s01; out[o1 + i + 1] = s11; out[o2 + i + 1] = s21; out[o3 + i + 1] = s31;
    }
    for (; i < rows; i++) {
      const p = i * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < dim; k++) {
        const x = points[p + k]!;
        s0 += cands[a0 + k]! * x;
        s1 += cands[a1 + k]! * x;
        s2 += cands[a2 + k]! * x;
        s3 += cands[a3 + k]! * x;
      }
      out[o0 + i] = s0; out[o1 + i] = s1; out[o2 + i] = s2; out[o3 + i] = s3;
    }
  }
  for (; c < nc; c++) {
    const a = c * dim;
    const o = c * rows;
    let i = 0;
    for (; i + 2 <= rows; i += 2) {
      const p = i * dim;
      const q = p + dim;
      let s0 = 0, s1 = 0;
      for (let k = 0; k < dim; k++) {
        const v = cands[a + k]!;
        s0 += v * points[p + k]!;
        s1 += v * points[q + k]!;
      }
      out[o + i] = s0;
      out[o + i + 1] = s1;
    }
    for (; i < rows; i++) {
      const p = i * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) s += cands[a + k]! * points[p + k]!;
      out[o + i] = s;
    }
  }
}
