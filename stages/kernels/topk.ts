/**
 * The k most similar table rows of each query row by inner product (on unit rows: the cosine),
 * best first. Ties go to the lower table index, whatever order rows are offered in. Blocked like nearest.ts: the table is walked in
 * tiles that stay in cache, four queries against two table rows per inner loop.
 * Cost: 2 x queries x rows x dim flops, plus k per insertion (about k ln(rows / k) per query).
 */
const TILE = 128;

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
  const put = (q: number, t: number, s: number): void => insertTopK(outIndex, outScore, th, q, k, t, s);
  for (let t0 = 0; t0 < nt; t0 += TILE) {
    const t1 = Math.min(nt, t0 + TILE);
    let q = 0;
    for (; q + 4 <= nq; q += 4) {
      const a0 = q * dim;
      const a1 = a0 + dim;
      const a2 = a1 + dim;
      const a3 = a2 + dim;
      let t = t0;
      for (; t + 2 <= t1; t += 2) {
        const c = t * dim;
        const d = c + dim;
        let s00 = 0, s10 = 0, s20 = 0, s30 = 0, s01 = 0, s11 = 0, s21 = 0, s31 = 0;
        for (let i = 0; i < dim; i++) {
          const x = table[c + i]!;
          const y = table[d + i]!;
          const v0 = queries[a0 + i]!;
          const v1 = queries[a1 + i]!;
          const v2 = queries[a2 + i]!;
          const v3 = queries[a3 + i]!;
          s00 += v0 * x;
          s10 += v1 * x;
          s20 += v2 * x;
          s30 += v3 * x;
          s01 += v0 * y;
          s11 += v1 * y;
          s21 += v2 * y;
          s31 += v3 * y;
        }
        // Float32 rounding first, so scores compare exactly as stored.
        s00 = Math.fround(s00); s01 = Math.fround(s01); s10 = Math.fround(s10); s11 = Math.fround(s11);
        s20 = Math.fround(s20); s21 = Math.fround(s21); s30 = Math.fround(s30); s31 = Math.fround(s31);
        if (s00 >= th[q]!) put(q, t, s00);
        if (s01 >= th[q]!) put(q, t + 1, s01);
        if (s10 >= th[q + 1]!) put(q + 1, t, s10);
        if (s11 >= th[q + 1]!) put(q + 1, t + 1, s11);
        if (s20 >= th[q + 2]!) put(q + 2, t, s20);
        if (s21 >= th[q + 2]!) put(q + 2, t + 1, s21);
        if (s30 >= th[q + 3]!) put(q + 3, t, s30);
        if (s31 >= th[q + 3]!) put(q + 3, t + 1, s31);
      }
      for (; t < t1; t++) {
        const c = t * dim;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let i = 0; i < dim; i++) {
          const x = table[c + i]!;
          s0 += queries[a0 + i]! * x;
          s1 += queries[a1 + i]! * x;
          s2 += queries[a2 + i]! * x;
          s3 += queries[a3 + i]! * x;
        }
        s0 = Math.fround(s0); s1 = Math.fround(s1); s2 = Math.fround(s2); s3 = Math.fround(s3);
        if (s0 >= th[q]!) put(q, t, s0);
        if (s1 >= th[q + 1]!) put(q + 1, t, s1);
        if (s2 >= th[q + 2]!) put(q + 2, t, s2);
        if (s3 >= th[q + 3]!) put(q + 3, t, s3);
      }
    }
    for (; q < nq; q++) {
      const a = q * dim;
      for (let t = t0; t < t1; t++) {
        const c = t * dim;
        let s = 0;
        for (let i = 0; i < dim; i++) s += queries[a + i]! * table[c + i]!;
        s = Math.fround(s);
        if (s >= th[q]!) put(q, t, s);
      }
    }
  }
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
  const offer = (i: number, j: number, s: number): void => {
    if (j > i) {
      if (s >= th[i]!) insertTopK(outIndex, outScore, th, i, k, j, s);
      if (s >= th[j]!) insertTopK(outIndex, outScore, th, j, k, i, s);
    } else if (j === i && s >= th[i]!) insertTopK(outIndex, outScore, th, i, k, i, s);
  };
  const nb = Math.ceil(n / block);
  for (let bi = 0; bi < blocks.length; bi++) {
    const I = blocks[bi]!;
    const i0 = I * block;
    const i1 = Math.min(n, i0 + block);
    for (let J = I; J < nb; J++) {
      const j0 = J * block;
      const j1 = Math.min(n, j0 + block);
      let i = i0;
      for (; i + 2 <= i1; i += 2) {
        const a0 = i * dim;
        const a1 = a0 + dim;
        let j = j0;
        for (; j + 4 <= j1; j += 4) {
          const c0 = j * dim;
          const c1 = c0 + dim;
          const c2 = c1 + dim;
          const c3 = c2 + dim;
          let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
          for (let d = 0; d < dim; d++) {
            const x = table[a0 + d]!;
            const y = table[a1 + d]!;
            const v0 = table[c0 + d]!;
            const v1 = table[c1 + d]!;
            const v2 = table[c2 + d]!;
            const v3 = table[c3 + d]!;
            s00 += x * v0;
            s01 += x * v1;
            s02 += x * v2;
            s03 += x * v3;
            s10 += y * v0;
            s11 += y * v1;
            s12 += y * v2;
            s13 += y * v3;
          }
          offer(i, j, Math.fround(s00));
          offer(i, j + 1, Math.fround(s01));
          offer(i, j + 2, Math.fround(s02));
          offer(i, j + 3, Math.fround(s03));
          offer(i + 1, j, Math.fround(s10));
          offer(i + 1, j + 1, Math.fround(s11));
          offer(i + 1, j + 2, Math.fround(s12));
          offer(i + 1, j + 3, Math.fround(s13));
        }
        for (; j < j1; j++) {
          const c = j * dim;
          let s0 = 0, s1 = 0;
          for (let d = 0; d < dim; d++) {
            const v = table[c + d]!;
            s0 += table[a0 + d]! * v;
            s1 += table[a1 + d]! * v;
          }
          offer(i, j, Math.fround(s0));
          offer(i + 1, j, Math.fround(s1));
        }
      }
      for (; i < i1; i++) {
        const a = i * dim;
        for (let j = j0; j < j1; j++) {
          const c = j * dim;
          let s = 0;
          for (let d = 0; d < dim; d++) s += table[a + d]! * table[c + d]!;
          offer(i, j, Math.fround(s));
        }
      }
    }
  }
}
