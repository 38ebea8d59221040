/**
 * The plain TypeScript dot-product kernels: `dotBlock` computes a dense block of dot products,
 * `forEachDotBlock` walks a whole queries x table product block by block for the kernels that
 * reduce it (nearest.ts: best row; topk.ts: k best rows). Each dot product is summed in float64
 * in dimension order and stored as float32.
 */

/** Queries per block of forEachDotBlock. */
const BLOCK_QUERIES = 64;
/** Table rows per block of forEachDotBlock: a tile of the table that stays in cache. */
const BLOCK_ROWS = 128;

/**
 * Calls `visit(block, q0, n, t0, m)` for every block of queries [q0, q0 + n) against table rows
 * [t0, t0 + m), query by query block and, within one, table row ascending: `block[i x m + j]` is
 * <query q0 + i, table row t0 + j> rounded to float32. The block is reused between calls.
 * Cost: 2 x nq x nt x dim flops.
 */
export function forEachDotBlock(
  queries: Float32Array,
  nq: number,
  table: Float32Array,
  nt: number,
  dim: number,
  visit: (block: Float32Array, q0: number, n: number, t0: number, m: number) => void,
): void {
  const block = new Float32Array(Math.min(nq, BLOCK_QUERIES) * BLOCK_ROWS);
  for (let q0 = 0; q0 < nq; q0 += BLOCK_QUERIES) {
    const n = Math.min(BLOCK_QUERIES, nq - q0);
    const qs = queries.subarray(q0 * dim, (q0 + n) * dim);
    for (let t0 = 0; t0 < nt; t0 += BLOCK_ROWS) {
      const m = Math.min(BLOCK_ROWS, nt - t0);
      dotBlock(qs, n, table.subarray(t0 * dim, (t0 + m) * dim), m, dim, block);
      visit(block, q0, n, t0, m);
    }
  }
}

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
