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
import { forEachDotBlock } from './dots.js';
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
 * The plain TypeScript kernel: blocks of dot products (dots.ts: four queries against two table rows
 * per inner loop, the table in tiles that stay in cache), each block then scanned for every
 * query's best row. Cost: 2 x queries x rows x dim flops.
 */
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
  forEachDotBlock(queries, nq, table, nt, dim, (block, q0, n, t0, m) => {
    for (let i = 0; i < n; i++) {
      const q = q0 + i;
      const o = i * m;
      let b = outScore[q]!;
      let bi = outIndex[q]!;
      for (let j = 0; j < m; j++) {
        const s = block[o + j]!;
        if (s > b) {
          b = s;
          bi = t0 + j;
        }
      }
      outScore[q] = b;
      outIndex[q] = bi;
    }
  });
}

/** Dot product of two rows. Cost: 2 x dim flops. */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += a[ao + k]! * b[bo + k]!;
  return s;
}
