/**
 * Top-k search on the SIMD dot-product blocks (dots-simd.ts): blocks of dots are computed in
 * WebAssembly and scanned by topk.ts's offerScores/offerSelfScores, as the TypeScript kernel's
 * blocks are. Same answers as topk.ts (lists best first, ties to the lower row), with the SIMD
 * kernel's sums.
 * Cost: 2 x queries x rows x dim flops in SIMD plus one comparison per product (rows search);
 * rows^2 x dim flops plus two comparisons per pair (self search).
 */
import { DOT_QUERIES, DOT_TILE, type DotsTable } from './dots-simd.js';
import { offerScores, offerSelfScores } from './topk.js';

/** The k table rows most similar to each of `nq` queries (unpadded rows), using scratch `slot`. */
export function topKRowsSimd(t: DotsTable, slot: number, queries: Float32Array, nq: number, k: number, outIndex: Int32Array, outScore: Float32Array): void {
  outIndex.fill(-1, 0, nq * k);
  outScore.fill(-Infinity, 0, nq * k);
  const th = new Float64Array(nq).fill(-Infinity);
  const out = t.block(slot);
  const nt = t.layout.rows;
  for (let q0 = 0; q0 < nq; q0 += DOT_QUERIES) {
    const n = Math.min(DOT_QUERIES, nq - q0);
    t.loadQueries(slot, queries, q0, n);
    for (let j0 = 0; j0 < nt; j0 += DOT_TILE) {
      const nj = Math.min(DOT_TILE, nt - j0);
      t.queryDots(slot, n, j0, nj);
      for (let i = 0; i < n; i++) offerScores(out, i * DOT_TILE, 0, nj, j0, q0 + i, k, outIndex, outScore, th);
    }
  }
}

/**
 * Top k of table rows against the table itself for the row blocks `blocks` (block I = rows
 * [I x DOT_QUERIES, (I + 1) x DOT_QUERIES)): each pair (i, j >= i) is computed once, in the block
 * of i, and offered to both lists; merge the answers of several calls with mergeTopK.
 */
export function topKSelfSimd(t: DotsTable, slot: number, blocks: ArrayLike<number>, k: number, outIndex: Int32Array, outScore: Float32Array): void {
  const n = t.layout.rows;
  outIndex.fill(-1, 0, n * k);
  outScore.fill(-Infinity, 0, n * k);
  const th = new Float64Array(n).fill(-Infinity);
  const out = t.block(slot);
  for (let b = 0; b < blocks.length; b++) {
    const i0 = blocks[b]! * DOT_QUERIES;
    const ni = Math.min(DOT_QUERIES, n - i0);
    if (ni <= 0) continue;
    for (let j0 = i0; j0 < n; j0 += DOT_TILE) {
      const nj = Math.min(DOT_TILE, n - j0);
      t.selfDots(slot, i0, ni, j0, nj);
      for (let a = 0; a < ni; a++) offerSelfScores(out, a * DOT_TILE, nj, j0, i0 + a, k, outIndex, outScore, th);
    }
  }
}

/** Number of row blocks of a self search over `rows` rows. */
export function selfBlocks(rows: number): number {
  return Math.ceil(rows / DOT_QUERIES);
}
