/**
 * k-means++ seeding (Arthur and Vassilvitskii 2007) on unit rows, in cosine geometry: the first
 * centre is drawn with probability proportional to the row's weight, each next one proportional to
 * weight x (1 - cosine to the nearest centre chosen so far) (half the squared Euclidean distance
 * between unit rows). Greedy variant: each step draws `trials` candidates that way and keeps the
 * one that lowers the total potential most (trials = 1: plain k-means++). Rows are never chosen
 * twice; when every remaining potential is 0 (duplicates) the next unchosen row in order is taken.
 * Cost: 2 x trials x k x rows x dim flops (dot-product blocks), memory (20 + 4 x trials) x rows bytes.
 */
import { dotBlock } from './dots.js';

export function kmeansPlusPlus(
  points: Float32Array,
  rows: number,
  dim: number,
  k: number,
  random: () => number,
  weights?: ArrayLike<number>,
  trials = 1,
  out: Int32Array = new Int32Array(k),
): Int32Array {
  if (k > rows) throw new Error(`k-means++: ${k} centres from ${rows} rows`);
  const L = Math.max(1, Math.floor(trials));
  const best = new Float32Array(rows).fill(-Infinity);
  const pot = new Float64Array(rows);
  const chosen = new Uint8Array(rows);
  const w = new Float64Array(rows);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    w[i] = weights ? Math.max(0, weights[i]!) : 1;
    pot[i] = w[i]!;
    total += pot[i]!;
  }
  const cand = new Int32Array(L);
  const candRows = new Float32Array(L * dim);
  const dots = new Float32Array(L * rows);
  let nextFree = 0;
  const draw = (): number => {
    let r = random() * total;
    let pick = -1;
    for (let i = 0; i < rows; i++) {
      const p = pot[i]!;
      if (p <= 0) continue;
      pick = i;
      r -= p;
      if (r < 0) break;
    }
    return pick;
  };
  for (let c = 0; c < k; c++) {
    // Candidates: drawn by potential (the first centre by weight alone).
    let nc = 0;
    if (total > 0) {
      const tries = c === 0 ? 1 : L;
      for (let t = 0; t < tries; t++) {
        const p = draw();
        if (p >= 0) cand[nc++] = p;
      }
    }
    if (nc === 0) {
      while (chosen[nextFree]) nextFree++;
      cand[nc++] = nextFree;
    }
    if (c === k - 1 && nc === 1) {
      out[c] = cand[0]!;
      break;
    }
    for (let t = 0; t < nc; t++) candRows.set(points.subarray(cand[t]! * dim, (cand[t]! + 1) * dim), t * dim);
    dotBlock(candRows, nc, points, rows, dim, dots);
    // The candidate leaving the least potential.
    let bt = 0;
    if (nc > 1) {
      let bestSum = Infinity;
      for (let t = 0; t < nc; t++) {
        const o = t * rows;
        let sum = 0;
        for (let i = 0; i < rows; i++) {
          const s = dots[o + i]!;
          sum += s > best[i]! ? (s >= 1 ? 0 : w[i]! * (1 - s)) : pot[i]!;
        }
        if (sum < bestSum) {
          bestSum = sum;
          bt = t;
        }
      }
    }
    const pick = cand[bt]!;
    chosen[pick] = 1;
    best[pick] = 1;
    out[c] = pick;
    if (c === k - 1) break;
    total = 0;
    const o = bt * rows;
    for (let i = 0; i < rows; i++) {
      if (chosen[i]) {
        pot[i] = 0;
        continue;
      }
      const s = dots[o + i]!;
      if (s > best[i]!) {
        best[i] = s;
        pot[i] = s >= 1 ? 0 : w[i]! * (1 - s);
      }
      total += pot[i]!;
    }
  }
  return out;
}
