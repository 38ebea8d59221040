/**
 * The k most similar table rows of each query row by inner product (on unit rows: the cosine),
 * best first. Ties go to the lower table index. Blocked like nearest.ts: the table is walked in
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
  const put = (q: number, t: number, s: number): void => {
    const o = q * k;
    let j = k - 1;
    while (j > 0 && outScore[o + j - 1]! < s) {
      outScore[o + j] = outScore[o + j - 1]!;
      outIndex[o + j] = outIndex[o + j - 1]!;
      j--;
    }
    outScore[o + j] = s;
    outIndex[o + j] = t;
    th[q] = outScore[o + k - 1]!;
  };
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
        if (s00 > th[q]!) put(q, t, s00);
        if (s01 > th[q]!) put(q, t + 1, s01);
        if (s10 > th[q + 1]!) put(q + 1, t, s10);
        if (s11 > th[q + 1]!) put(q + 1, t + 1, s11);
        if (s20 > th[q + 2]!) put(q + 2, t, s20);
        if (s21 > th[q + 2]!) put(q + 2, t + 1, s21);
        if (s30 > th[q + 3]!) put(q + 3, t, s30);
        if (s31 > th[q + 3]!) put(q + 3, t + 1, s31);
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
        if (s0 > th[q]!) put(q, t, s0);
        if (s1 > th[q + 1]!) put(q + 1, t, s1);
        if (s2 > th[q + 2]!) put(q + 2, t, s2);
        if (s3 > th[q + 3]!) put(q + 3, t, s3);
      }
    }
    for (; q < nq; q++) {
      const a = q * dim;
      for (let t = t0; t < t1; t++) {
        const c = t * dim;
        let s = 0;
        for (let i = 0; i < dim; i++) s += queries[a + i]! * table[c + i]!;
        s = Math.fround(s);
        if (s > th[q]!) put(q, t, s);
      }
    }
  }
}
