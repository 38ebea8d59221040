/**
 * The coverage table the greedy selection works on: for every evaluation word (every candidate,
 * then the sampled other words) its `neighbors` most similar candidates by cosine, stored by
 * candidate (compressed rows: for candidate c, the words it could cover and the similarity).
 * Similarities are shifted to 1 + cosine, in [0, 2], so the objective is non-negative; a word
 * counts 0 until one of its listed candidates is chosen (a candidate outside a word's list is
 * treated as no better than not covering it, which only matters for words none of whose
 * `neighbors` nearest candidates is chosen).
 * Cost: 2 x E x C x dim flops for the similarity block (on worker threads), E x k memory entries,
 * for E = C + S evaluation words and k neighbors.
 */
import { sharedUnitTable } from '../kernels/nearest-pool.js';
import { normalizeRows } from '../kernels/normalize.js';
import { TopKPool } from '../kernels/topk-pool.js';

export interface Coverage {
  /** Number of candidates (C). */
  candidates: number;
  /** Number of evaluation words (E); the first C are the candidates themselves. */
  evals: number;
  /** Weight of each evaluation word (how many words of the model it stands for). */
  weight: Float64Array;
  /** Candidate c covers items start[c] .. start[c+1]-1. */
  start: Int32Array;
  /** Evaluation word of each item. */
  item: Int32Array;
  /** Shifted similarity (1 + cosine) of each item. */
  sim: Float32Array;
}

export interface CoverageInput {
  dim: number;
  /** Candidate vectors, C x dim (any length; normalised here). */
  candidates: Float32Array;
  nCandidates: number;
  /** Other words' vectors, S x dim. */
  others: Float32Array;
  nOthers: number;
  /** Weight of each other word (1 when every word is present). */
  otherWeight: number;
  /** Neighbours listed per evaluation word (clamped to C). */
  neighbors: number;
  threads: number;
  /** Evaluation words per call to the pool (bounds the memory of one answer). */
  chunk?: number;
}

export async function buildCoverage(inp: CoverageInput): Promise<Coverage> {
  const { dim, nCandidates: C, nOthers: S } = inp;
  const k = Math.max(1, Math.min(inp.neighbors, C));
  const E = C + S;
  const table = sharedUnitTable(inp.candidates, C, dim);
  const pool = new TopKPool(table, C, dim, k, inp.threads);
  const nb = new Int32Array(E * k);
  const ns = new Float32Array(E * k);
  try {
    const chunk = inp.chunk ?? 8192;
    for (let e0 = 0; e0 < E; e0 += chunk) {
      const e1 = Math.min(E, e0 + chunk);
      const q = new Float32Array((e1 - e0) * dim);
      for (let e = e0; e < e1; e++) {
        const src = e < C ? table.subarray(e * dim, (e + 1) * dim) : inp.others.subarray((e - C) * dim, (e - C + 1) * dim);
        q.set(src, (e - e0) * dim);
      }
      if (e1 > C) {
        const from = Math.max(e0, C) - e0;
        normalizeRows(q.subarray(from * dim), e1 - e0 - from, dim);
      }
      const r = await pool.search(q, e1 - e0);
      nb.set(r.index, e0 * k);
      ns.set(r.score, e0 * k);
    }
  } finally {
    await pool.close();
  }
  // A candidate always covers itself at its own similarity (1 for a non-zero vector), even when
  // ties with duplicates pushed it out of its own list: make sure it is listed.
  for (let c = 0; c < C; c++) {
    const o = c * k;
    let found = false;
    for (let j = 0; j < k; j++) if (nb[o + j] === c) found = true;
    if (!found) {
      nb[o + k - 1] = c;
      ns[o + k - 1] = selfSimilarity(table, c, dim);
    }
  }
  const start = new Int32Array(C + 1);
  for (let i = 0; i < E * k; i++) if (nb[i]! >= 0) start[nb[i]! + 1]!++;
  for (let c = 0; c < C; c++) start[c + 1]! += start[c]!;
  const fill = start.slice(0, C);
  const n = start[C]!;
  const item = new Int32Array(n);
  const sim = new Float32Array(n);
  for (let e = 0; e < E; e++) {
    for (let j = 0; j < k; j++) {
      const c = nb[e * k + j]!;
      if (c < 0) continue;
      const p = fill[c]!++;
      item[p] = e;
      sim[p] = 1 + Math.max(-1, Math.min(1, ns[e * k + j]!));
    }
  }
  const weight = new Float64Array(E);
  weight.fill(1, 0, C);
  weight.fill(inp.otherWeight, C, E);
  return { candidates: C, evals: E, weight, start, item, sim };
}

function selfSimilarity(table: Float32Array, c: number, dim: number): number {
  let s = 0;
  for (let i = c * dim, e = i + dim; i < e; i++) s += table[i]! * table[i]!;
  return s;
}
