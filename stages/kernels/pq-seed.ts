/**
 * k-means++ seeding of 2-dim points (the default sub-vector size of product quantization) with
 * blocks: the points are grouped into small boxes (cells of a grid cut at quantiles of each
 * coordinate), and each box keeps its bounding box, the sum and the largest of its points' squared
 * distances to the nearest centroid chosen so far. A new centroid can only lower the distances of a
 * box whose bounding box is nearer to it than the box's largest distance; every other box is
 * skipped whole (the test is exact: rounding is monotone, so the box's distance never exceeds a
 * point's). A draw finds its box by binary search in the running totals of the box sums, then
 * walks that box's points.
 *
 * The draws follow k-means++ (each next centroid drawn with probability proportional to the
 * squared distance to the nearest one chosen so far; with `trials` > 1 the candidate that lowers
 * the total most) over the points in box order; the seeding is a function of the points and the
 * random stream only.
 *
 * Cost: n log n to build the boxes; per centroid, one test per box plus the points of the boxes
 * it reaches (about n / centroids so far); memory 40 x n bytes.
 */

import { lowerBound } from './pq-nearest-grid.js';

/** Points per box (about). */
const PER_BOX = 32;

/** g - 1 cuts at the quantiles of `v` (of every step-th value: they only shape the boxes). */
function quantileCuts(v: Float64Array, g: number): Float64Array {
  const step = Math.max(1, Math.floor(v.length / (64 * g)));
  const s = new Float64Array(Math.ceil(v.length / step));
  for (let i = 0, j = 0; i < v.length; i += step) s[j++] = v[i]!;
  s.sort();
  const out = new Float64Array(g - 1);
  for (let i = 1; i < g; i++) out[i - 1] = s[Math.floor((i * s.length) / g)]!;
  return out;
}

/**
 * k centroids into C (k x 2) for n > k points (n x 2 in `points`), drawn with `random`; `trials`
 * candidates per centroid (1: plain k-means++). When every point already sits on a centroid
 * (duplicates), the next point not yet chosen is taken.
 */
export function seedPlusPlus2(points: Float32Array, n: number, k: number, random: () => number, C: Float32Array, trials: number): void {
  // boxes: cells of a g x g grid at the coordinates' quantiles, points listed box by box
  const g = Math.max(1, Math.round(Math.sqrt(n / PER_BOX)));
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = points[2 * i]!;
    ys[i] = points[2 * i + 1]!;
  }
  const xcut = quantileCuts(xs, g);
  const ycut = quantileCuts(ys, g);
  const cellOf = new Int32Array(n);
  const count = new Int32Array(g * g + 1);
  for (let i = 0; i < n; i++) {
    const c = lowerBound(ycut, ys[i]!) * g + lowerBound(xcut, xs[i]!);
    cellOf[i] = c;
    count[c + 1]!++;
  }
  for (let c = 0; c < g * g; c++) count[c + 1]! += count[c]!;
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  {
    const at = count.slice(0, g * g);
    for (let i = 0; i < n; i++) {
      const p = at[cellOf[i]!]!++;
      px[p] = xs[i]!;
      py[p] = ys[i]!;
    }
  }
  // the non-empty cells are the boxes
  let nb = 0;
  for (let c = 0; c < g * g; c++) if (count[c + 1]! > count[c]!) nb++;
  const bStart = new Int32Array(nb + 1);
  const bx0 = new Float64Array(nb);
  const bx1 = new Float64Array(nb);
  const by0 = new Float64Array(nb);
  const by1 = new Float64Array(nb);
  const bSum = new Float64Array(nb);
  const bMax = new Float64Array(nb).fill(Infinity);
  /** Running total of the box sums after box b. */
  const bCum = new Float64Array(nb);
  for (let c = 0, b = 0; c < g * g; c++) {
    const s = count[c]!;
    const e = count[c + 1]!;
    if (e === s) continue;
    bStart[b] = s;
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let p = s; p < e; p++) {
      if (px[p]! < x0) x0 = px[p]!;
      if (px[p]! > x1) x1 = px[p]!;
      if (py[p]! < y0) y0 = py[p]!;
      if (py[p]! > y1) y1 = py[p]!;
    }
    bx0[b] = x0;
    bx1[b] = x1;
    by0[b] = y0;
    by1[b] = y1;
    b++;
  }
  bStart[nb] = n;

  const near = new Float64Array(n).fill(Infinity);
  const chosen = new Uint8Array(n);
  let scan = 0;
  /** Squared distance from (x, y) to box b (0 inside). */
  const boxDist = (b: number, x: number, y: number): number => {
    const nx = x < bx0[b]! ? bx0[b]! - x : x > bx1[b]! ? x - bx1[b]! : 0;
    const ny = y < by0[b]! ? by0[b]! - y : y > by1[b]! ? y - by1[b]! : 0;
    return nx * nx + ny * ny;
  };
  let pick = Math.floor(random() * n);
  for (let c = 0; ; c++) {
    chosen[pick] = 1;
    const cx = px[pick]!;
    const cy = py[pick]!;
    C[2 * c] = cx;
    C[2 * c + 1] = cy;
    let total = 0;
    for (let b = 0; b < nb; b++) {
      if (boxDist(b, cx, cy) < bMax[b]!) {
        let sum = 0;
        let max = 0;
        for (let p = bStart[b]!, e = bStart[b + 1]!; p < e; p++) {
          const t0 = px[p]! - cx;
          const t1 = py[p]! - cy;
          const s = t0 * t0 + t1 * t1;
          if (s < near[p]!) near[p] = s;
          sum += near[p]!;
          if (near[p]! > max) max = near[p]!;
        }
        bSum[b] = sum;
        bMax[b] = max;
      }
      total += bSum[b]!;
      bCum[b] = total;
    }
    if (c === k - 1) break;
    if (!(total > 0)) {
      while (scan < n && chosen[scan]) scan++;
      pick = scan < n ? scan : 0;
      continue;
    }
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      // candidate: the first point whose running total (box by box) exceeds a uniform draw
      const r = random() * total;
      let lo = 0;
      let hi = nb - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (bCum[mid]! > r) hi = mid;
        else lo = mid + 1;
      }
      let acc = lo > 0 ? bCum[lo - 1]! : 0;
      const e = bStart[lo + 1]!;
      let cand = e - 1;
      for (let p = bStart[lo]!; p < e; p++) {
        acc += near[p]!;
        if (acc > r) {
          cand = p;
          break;
        }
      }
      while (near[cand] === 0 && cand > 0) cand--; // rounding at the end of the totals
      if (trials === 1) {
        pick = cand;
        break;
      }
      // the total the candidate would leave: boxes it cannot reach keep their sums
      const x = px[cand]!;
      const y = py[cand]!;
      let pot = 0;
      for (let b = 0; b < nb && pot < bestPot; b++) {
        if (!(boxDist(b, x, y) < bMax[b]!)) {
          pot += bSum[b]!;
          continue;
        }
        for (let p = bStart[b]!, e = bStart[b + 1]!; p < e; p++) {
          const t0 = px[p]! - x;
          const t1 = py[p]! - y;
          const s = t0 * t0 + t1 * t1;
          pot += s < near[p]! ? s : near[p]!;
        }
      }
      if (pot < bestPot) {
        bestPot = pot;
        pick = cand;
      }
    }
  }
}
