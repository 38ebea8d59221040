/**
 * Rank correlation. Spearman's rho is Pearson's correlation of the ranks, where tied values share
 * the mean of the ranks they span (fractional ranking), as scipy.stats.spearmanr computes it.
 * Cost: O(n log n).
 */

/** Ranks 1..n of `values`; ties get the average of their ranks. */
export function fractionalRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]!] === values[order[i]!]) j++;
    const r = (i + 1 + j) / 2; // mean of ranks i+1 .. j
    for (let k = i; k < j; k++) ranks[order[k]!] = r;
    i = j;
  }
  return ranks;
}

/** Pearson's correlation; NaN when either side is constant or there are fewer than 2 values. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new Error(`pearson: ${n} and ${b.length} values`);
  if (n < 2) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return NaN;
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman's rank correlation with ties averaged. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(fractionalRanks(a), fractionalRanks(b));
}
