/**
 * Exact nearest row by inner product: for each query row, the table row with the highest dot
 * product (on unit rows: the cosine). Ties go to the lower table index (strict '>').
 *
 * `nearestRows` runs the WebAssembly SIMD kernel (nearest-simd.ts: f32 lanes, about 25 GFLOP/s per
 * core here) and falls back to `nearestRowsJs` where WebAssembly SIMD is missing or
 * PRUNE_PIPE_KERNEL=js. The two agree on the chosen rows except for near-ties (|d cos| ~ 1e-7):
 * the JS kernel sums in float64 and rounds each dot product to float32 before comparing.
 * Cost: 2 x queries x rows x dim flops.
 */
import { nearestOnce } from './nearest-simd.js';

export function nearestRows(
  queries: Float32Array,
  nq: number,
  table: Float32Array,
  nt: number,
  dim: number,
  outIndex: Int32Array,
  outScore: Float32Array,
): void {
  if (nearestOnce(queries, nq, table, nt, dim, outIndex, outScore)) return;
  nearestRowsJs(queries, nq, table, nt, dim, outIndex, outScore);
}

/**
 * The plain TypeScript kernel: the table is walked in tiles that stay in cache, four queries
 * against two table rows per inner loop (eight accumulators). Cost: 2 x queries x rows x dim flops.
 */
const TILE = 128;
const f32 = Math.fround;

export function nearestRowsJs(
  queries: Float32Array,
  nq: number,
  table: Float32Array,
  nt: number,
  dim: number,
  outIndex: Int32Array,
  outScore: Float32Array,
): void {
  for (let q = 0; q < nq; q++) {
    outIndex[q] = -1;
    outScore[q] = -Infinity;
  }
  for (let t0 = 0; t0 < nt; t0 += TILE) {
    const t1 = Math.min(nt, t0 + TILE);
    let q = 0;
    for (; q + 4 <= nq; q += 4) {
      const a0 = q * dim;
      const a1 = a0 + dim;
      const a2 = a1 + dim;
      const a3 = a2 + dim;
      let b0 = outScore[q]!;
      let b1 = outScore[q + 1]!;
      let b2 = outScore[q + 2]!;
      let b3 = outScore[q + 3]!;
      let i0 = outIndex[q]!;
      let i1 = outIndex[q + 1]!;
      let i2 = outIndex[q + 2]!;
      let i3 = outIndex[q + 3]!;
      let t = t0;
      for (; t + 2 <= t1; t += 2) {
        const c = t * dim;
        const d = c + dim;
        let s00 = 0, s10 = 0, s20 = 0, s30 = 0, s01 = 0, s11 = 0, s21 = 0, s31 = 0;
        for (let k = 0; k < dim; k++) {
          const x = table[c + k]!;
          const y = table[d + k]!;
          const v0 = queries[a0 + k]!;
          const v1 = queries[a1 + k]!;
          const v2 = queries[a2 + k]!;
          const v3 = queries[a3 + k]!;
          s00 += v0 * x;
          s10 += v1 * x;
          s20 += v2 * x;
          s30 += v3 * x;
          s01 += v0 * y;
          s11 += v1 * y;
          s21 += v2 * y;
          s31 += v3 * y;
        }
        s00 = f32(s00); s01 = f32(s01); s10 = f32(s10); s11 = f32(s11);
        s20 = f32(s20); s21 = f32(s21); s30 = f32(s30); s31 = f32(s31);
        if (s00 > b0) { b0 = s00; i0 = t; }
        if (s01 > b0) { b0 = s01; i0 = t + 1; }
        if (s10 > b1) { b1 = s10; i1 = t; }
        if (s11 > b1) { b1 = s11; i1 = t + 1; }
        if (s20 > b2) { b2 = s20; i2 = t; }
        if (s21 > b2) { b2 = s21; i2 = t + 1; }
        if (s30 > b3) { b3 = s30; i3 = t; }
        if (s31 > b3) { b3 = s31; i3 = t + 1; }
      }
      for (; t < t1; t++) {
        const c = t * dim;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = 0; k < dim; k++) {
          const x = table[c + k]!;
          s0 += queries[a0 + k]! * x;
          s1 += queries[a1 + k]! * x;
          s2 += queries[a2 + k]! * x;
          s3 += queries[a3 + k]! * x;
        }
        s0 = f32(s0); s1 = f32(s1); s2 = f32(s2); s3 = f32(s3);
        if (s0 > b0) { b0 = s0; i0 = t; }
        if (s1 > b1) { b1 = s1; i1 = t; }
        if (s2 > b2) { b2 = s2; i2 = t; }
        if (s3 > b3) { b3 = s3; i3 = t; }
      }
      outScore[q] = b0; outScore[q + 1] = b1; outScore[q + 2] = b2; outScore[q + 3] = b3;
      outIndex[q] = i0; outIndex[q + 1] = i1; outIndex[q + 2] = i2; outIndex[q + 3] = i3;
    }
    for (; q < nq; q++) {
      const a = q * dim;
      let b = outScore[q]!;
      let bi = outIndex[q]!;
      for (let t = t0; t < t1; t++) {
        const c = t * dim;
        let s = 0;
        for (let k = 0; k < dim; k++) s += queries[a + k]! * table[c + k]!;
        s = f32(s);
        if (s > b) { b = s; bi = t; }
      }
      outScore[q] = b;
      outIndex[q] = bi;
    }
  }
}

/** Dot product of two rows. Cost: 2 x dim flops. */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += a[ao + k]! * b[bo + k]!;
  return s;
}
