/**
 * Greedy maximisation of the facility-location objective on a coverage table (coverage.ts):
 *   F(S) = sum over evaluation words w of weight(w) x max over chosen s of sim(w, s),
 * which is monotone submodular, so greedy is within 1 - 1/e of the best choice.
 *  - epsilon = 0: lazy greedy (Minoux): stale gains are upper bounds in a max-heap; the top is
 *    recomputed until a fresh gain stays on top. Same choices as plain greedy (ties: the more
 *    frequent candidate).
 *  - epsilon > 0: stochastic greedy (Mirzasoleiman et al. 2015): each step looks at a random
 *    subset of ceil((C / N) ln(1 / epsilon)) remaining candidates, within 1 - 1/e - epsilon in
 *    expectation; inside the subset stale gains are upper bounds too, so candidates whose stale
 *    gain cannot beat the best fresh one are skipped.
 * The first `forceKeep` candidates are chosen before the greedy steps.
 * Cost: one gain evaluation of candidate c reads its coverage list (E x k / C items on average);
 * stochastic greedy evaluates at most C ln(1/epsilon) gains in all, lazy greedy usually a few per step.
 */
import { Heap } from '../heap.js';
import type { Coverage } from './coverage.js';
import { Xorshift128 } from '../kernels/random.js';

export interface GreedyOptions {
  /** Candidates to choose (N <= C). */
  keep: number;
  /** The first K candidates are always chosen (K <= N). */
  forceKeep?: number;
  /** 0: lazy greedy over all candidates; > 0: stochastic greedy. */
  epsilon?: number;
  seed?: number;
}

export interface GreedyResult {
  /** Chosen candidates in the order they were chosen (forced ones first). */
  chosen: Int32Array;
  /** Objective after each choice (non-decreasing). */
  objective: Float64Array;
  /** Gain evaluations done (forced choices excluded). */
  evaluations: number;
}

interface HeapEntry {
  gain: number;
  c: number;
}

/** Gain of adding candidate c given the current best similarity of every word. Cost: its list length. */
export function gainOf(cov: Coverage, best: Float64Array, c: number): number {
  let g = 0;
  const { item, sim, weight } = cov;
  for (let p = cov.start[c]!, e = cov.start[c + 1]!; p < e; p++) {
    const w = item[p]!;
    const d = sim[p]! - best[w]!;
    if (d > 0) g += weight[w]! * d;
  }
  return g;
}

/** Adds candidate c: raises the best similarity of the words it covers; returns the gain. */
function take(cov: Coverage, best: Float64Array, c: number): number {
  let g = 0;
  const { item, sim, weight } = cov;
  for (let p = cov.start[c]!, e = cov.start[c + 1]!; p < e; p++) {
    const w = item[p]!;
    const d = sim[p]! - best[w]!;
    if (d > 0) {
      g += weight[w]! * d;
      best[w] = sim[p]!;
    }
  }
  return g;
}

export function greedyCover(cov: Coverage, opts: GreedyOptions): GreedyResult {
  const C = cov.candidates;
  const N = Math.min(opts.keep, C);
  const K = Math.min(opts.forceKeep ?? 0, N);
  const eps = opts.epsilon ?? 0;
  const best = new Float64Array(cov.evals);
  const chosen = new Int32Array(N);
  const objective = new Float64Array(N);
  let f = 0;
  let evaluations = 0;
  for (let i = 0; i < K; i++) {
    f += take(cov, best, i);
    chosen[i] = i;
    objective[i] = f;
  }
  // Upper bounds on the gains: exact gains against the forced set, refreshed lazily.
  const ub = new Float64Array(C);
  for (let c = K; c < C; c++) ub[c] = gainOf(cov, best, c);
  evaluations += C - K;

  if (eps <= 0) {
    // Lazy greedy. stamp[c] = step at which ub[c] was computed.
    const stamp = new Int32Array(C).fill(K);
    const heap = new Heap<HeapEntry>((a, b) => (a.gain !== b.gain ? b.gain - a.gain : a.c - b.c));
    for (let c = K; c < C; c++) heap.push({ gain: ub[c]!, c });
    for (let step = K; step < N; step++) {
      for (;;) {
        const top = heap.pop()!;
        if (stamp[top.c] === step) {
          f += take(cov, best, top.c);
          chosen[step] = top.c;
          objective[step] = f;
          break;
        }
        ub[top.c] = gainOf(cov, best, top.c);
        evaluations++;
        stamp[top.c] = step;
        heap.push({ gain: ub[top.c]!, c: top.c });
      }
    }
    return { chosen, objective, evaluations };
  }

  // Stochastic greedy over a pool of the remaining candidates (swap-removal keeps it dense).
  const rng = new Xorshift128(opts.seed ?? 1);
  const pool = new Int32Array(C - K);
  for (let c = K; c < C; c++) pool[c - K] = c;
  let left = C - K;
  const per = Math.max(1, Math.ceil(((C - K) / Math.max(1, N - K)) * Math.log(1 / eps)));
  const pos = new Int32Array(C); // position of each candidate in `pool`
  for (let j = 0; j < left; j++) pos[pool[j]!] = j;
  const pick: number[] = [];
  for (let step = K; step < N; step++) {
    const s = Math.min(per, left);
    // Partial Fisher-Yates: the subset is pool[0 .. s-1].
    pick.length = 0;
    for (let j = 0; j < s; j++) {
      const r = j + rng.below(left - j);
      const a = pool[j]!;
      const b = pool[r]!;
      pool[j] = b;
      pool[r] = a;
      pos[b] = j;
      pos[a] = r;
      pick.push(b);
    }
    pick.sort((a, b) => (ub[a] !== ub[b] ? ub[b]! - ub[a]! : a - b));
    let bc = -1;
    let bg = -Infinity;
    for (const c of pick) {
      if (ub[c]! < bg || (ub[c] === bg && c > bc)) break;
      const g = gainOf(cov, best, c);
      evaluations++;
      ub[c] = g;
      if (g > bg || (g === bg && c < bc)) {
        bg = g;
        bc = c;
      }
    }
    f += take(cov, best, bc);
    chosen[step] = bc;
    objective[step] = f;
    // Remove bc from the pool.
    const j = pos[bc]!;
    const last = pool[left - 1]!;
    pool[j] = last;
    pos[last] = j;
    left--;
  }
  return { chosen, objective, evaluations };
}

/** The objective of a given set of candidates (for checks). Cost: the sum of their list lengths. */
export function objectiveOf(cov: Coverage, set: ArrayLike<number>): number {
  const best = new Float64Array(cov.evals);
  let f = 0;
  for (let i = 0; i < set.length; i++) f += take(cov, best, set[i]!);
  return f;
}
