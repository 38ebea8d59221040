/**
 * The k most similar table rows of each query row by inner product (on unit rows: the cosine),
 * best first. Ties go to the lower table index, whatever order rows are offered in. Blocks of dot
 * products come from dots.ts (as for nearest.ts), or from the SIMD kernel (topk-simd.ts); each
 * block is scanned against every row's current k-th score, so only the few products that enter a
 * list cost more than one comparison.
 * Cost: 2 x queries x rows x dim flops, plus k per insertion (about k ln(rows / k) per query).
 */
import { dotBlock, forEachDotBlock } from './dots.js';

/**
 * Fills `outIndex`/`outScore` (nq x k, row q at q*k) with each query's top k, best first.
 * With fewer than k table rows the tail stays index -1, score -Infinity.
 */
export function topKRows(
  queries: Float32Array,
  nq: number,
  table: Float32Array,
  nt: number,
  dim: number,
  k: number,
  outIndex: Int32Array,
  outScore: Float32Array,
): void {
  outIndex.fill(-1, 0, nq * k);
  outScore.fill(-Infinity, 0, nq * k);
  const th = new Float64Array(nq).fill(-Infinity);
  forEachDotBlock(queries, nq, table, nt, dim, (block, q0, n, t0, m) => {
    for (let i = 0; i < n; i++) offerScores(block, i * m, 0, m, t0, q0 + i, k, outIndex, outScore, th);
  });
}

/**
 * Offers row t with score s to query q's list (outIndex/outScore at q*k, sorted best first, ties
 * by lower index); th[q] is the list's last score (-Infinity while not full). Cost: at most k moves.
 */
export function insertTopK(
  outIndex: Int32Array,
  outScore: Float32Array,
  th: Float64Array,
  q: number,
  k: number,
  t: number,
  s: number,
): void {
  const o = q * k;
  const last = o + k - 1;
  if (s < outScore[last]! || (s === outScore[last]! && outIndex[last]! >= 0 && outIndex[last]! < t)) return;
  let j = last;
  while (j > o && (outScore[j - 1]! < s || (outScore[j - 1] === s && (outIndex[j - 1]! < 0 || outIndex[j - 1]! > t)))) {
    outScore[j] = outScore[j - 1]!;
    outIndex[j] = outIndex[j - 1]!;
    j--;
  }
  outScore[j] = s;
  outIndex[j] = t;
  th[q] = outScore[last]!;
}

/**
 * Offers the scores block[o + c] for c in [from, to) as rows t0 + c to query q's list.
 * Cost: one comparison per score, plus insertTopK for the few that enter the list.
 */
export function offerScores(
  block: Float32Array,
  o: number,
  from: number,
  to: number,
  t0: number,
  q: number,
  k: number,
  outIndex: Int32Array,
  outScore: Float32Array,
  th: Float64Array,
): void {
  let thr = th[q]!;
  for (let c = from; c < to; c++) {
    const s = block[o + c]!;
    if (s >= thr) {
      insertTopK(outIndex, outScore, th, q, k, t0 + c, s);
      thr = th[q]!;
    }
  }
}

/**
 * For a self search: the products of table row i with rows j0 + c, c in [0, nj), at block[o + c],
 * each pair (i, j >= i) offered to both rows' lists (columns j < i belong to the block of row j).
 */
export function offerSelfScores(
  block: Float32Array,
  o: number,
  nj: number,
  j0: number,
  i: number,
  k: number,
  outIndex: Int32Array,
  outScore: Float32Array,
  th: Float64Array,
): void {
  let thi = th[i]!;
  for (let c = Math.max(0, i - j0); c < nj; c++) {
    const s = block[o + c]!;
    const j = j0 + c;
    if (s >= thi) {
      insertTopK(outIndex, outScore, th, i, k, j, s);
      thi = th[i]!;
    }
    if (j !== i && s >= th[j]!) insertTopK(outIndex, outScore, th, j, k, i, s);
  }
}

/**
 * Merges several top-k answers for the same n rows (each sorted as topKRows leaves them) into
 * `outIndex`/`outScore`. Cost: n x k x parts insertions at most.
 */
export function mergeTopK(parts: { index: Int32Array; score: Float32Array }[], n: number, k: number, outIndex: Int32Array, outScore: Float32Array): void {
  outIndex.fill(-1, 0, n * k);
  outScore.fill(-Infinity, 0, n * k);
  const th = new Float64Array(n).fill(-Infinity);
  for (const p of parts) {
    for (let q = 0; q < n; q++) {
      for (let j = q * k, e = j + k; j < e; j++) {
        const t = p.index[j]!;
        if (t < 0) break;
        if (p.score[j]! < th[q]!) break;
        insertTopK(outIndex, outScore, th, q, k, t, p.score[j]!);
      }
    }
  }
}

/**
 * Top k of every row of one table against the same table (itself included), using the symmetry
 * of the inner product: the table is cut into blocks of `block` rows and only block pairs
 * (I, J >= I) are computed, each product offered to both rows' lists. `blocks` says which block
 * rows I this call computes (so workers can share the work; merge their answers with mergeTopK).
 * Cost: dim x pairs flops, about n^2 x dim for the whole table (half of topKRows on itself).
 */
export function topKSelfBlocks(
  table: Float32Array,
  n: number,
  dim: number,
  k: number,
  block: number,
  blocks: ArrayLike<number>,
  outIndex: Int32Array,
  outScore: Float32Array,
): void {
  outIndex.fill(-1, 0, n * k);
  outScore.fill(-Infinity, 0, n * k);
  const th = new Float64Array(n).fill(-Infinity);
  const nb = Math.ceil(n / block);
  const out = new Float32Array(Math.min(n, block) * Math.min(n, block));
  for (let bi = 0; bi < blocks.length; bi++) {
    const I = blocks[bi]!;
    const i0 = I * block;
    const ni = Math.min(n, i0 + block) - i0;
    if (ni <= 0) continue;
    const rows = table.subarray(i0 * dim, (i0 + ni) * dim);
    for (let J = I; J < nb; J++) {
      const j0 = J * block;
      const nj = Math.min(n, j0 + block) - j0;
      dotBlock(rows, ni, table.subarray(j0 * dim, (j0 + nj) * dim), nj, dim, out);
      for (let a = 0; a < ni; a++) offerSelfScores(out, a * nj, nj, j0, i0 + a, k, outIndex, outScore, th);
    }
  }
}
