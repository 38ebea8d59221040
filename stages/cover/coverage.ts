/**
 * The coverage table the greedy selection works on: for every evaluation word (a sample of the
 * model's words, or all of them) its `neighbors` most similar candidates by cosine, stored by
 * candidate (compressed rows: for candidate c, the words it could cover and the similarity).
 * Similarities are shifted to 1 + cosine, in [0, 2], so the objective is non-negative; a word
 * counts 0 until one of its listed candidates is chosen (a candidate outside a word's list is
 * treated as no better than not covering it, which only matters for words none of whose
 * `neighbors` nearest candidates is chosen).
 * Cost: 2 x E x C x dim flops for the similarity block (on worker threads; C x C x dim when the
 * candidates are evaluation words too, by symmetry), E x k memory entries, for E evaluation words
 * and k neighbors.
 */
import { normalizeRows, rowNorm } from '../kernels/normalize.js';
import { TopKPool } from '../kernels/topk-pool.js';

export interface Coverage {
  /** Number of candidates (C). */
  candidates: number;
  /** Number of evaluation words (E). */
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
  /** Evaluation words' vectors, E x dim, in one array or in consecutive parts (copied, normalised here). */
  evals: Float32Array | Float32Array[];
  nEvals: number;
  /** How many words of the model each evaluation word stands for. */
  weights: Float64Array;
  /** The candidate each evaluation word is, or -1 (a candidate always lists itself). */
  evalCandidate?: Int32Array;
  /**
   * The first C evaluation words are the candidates themselves, in order: their lists come from
   * the candidates' search against themselves, which computes each pair once (half the work).
   */
  candidatesFirst?: boolean;
  /** Neighbours listed per evaluation word (clamped to C). */
  neighbors: number;
  threads: number;
  /** Evaluation words per call to the pool (bounds the memory of one answer). */
  chunk?: number;
}

export async function buildCoverage(inp: CoverageInput): Promise<Coverage> {
  const { dim, nCandidates: C, nEvals: E } = inp;
  const k = Math.max(1, Math.min(inp.neighbors, C));
  const pool = new TopKPool(inp.candidates, C, dim, k, inp.threads, true);
  const nb = new Int32Array(E * k);
  const ns = new Float32Array(E * k);
  const parts = Array.isArray(inp.evals) ? inp.evals : [inp.evals];
  try {
    const chunk = inp.chunk ?? 8192;
    let first = 0;
    if (inp.candidatesFirst && E >= C) {
      const r = await pool.searchSelf();
      nb.set(r.index, 0);
      ns.set(r.score, 0);
      first = C;
    }
    for (let e0 = first; e0 < E; e0 += chunk) {
      const e1 = Math.min(E, e0 + chunk);
      const q = rowsOf(parts, e0, e1, dim);
      normalizeRows(q, e1 - e0, dim);
      const r = await pool.search(q, e1 - e0);
      nb.set(r.index, e0 * k);
      ns.set(r.score, e0 * k);
    }
  } finally {
    await pool.close();
  }
  // A candidate always covers itself at its own similarity (1 for a non-zero vector), even when
  // ties with duplicate vectors pushed it out of its own list: make sure it is listed.
  if (inp.evalCandidate) {
    for (let e = 0; e < E; e++) {
      const c = inp.evalCandidate[e]!;
      if (c < 0) continue;
      const o = e * k;
      let found = false;
      for (let j = 0; j < k; j++) if (nb[o + j] === c) found = true;
      if (!found) {
        nb[o + k - 1] = c;
        ns[o + k - 1] = rowNorm(inp.candidates, c * dim, dim) > 0 ? 1 : 0;
      }
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
  return { candidates: C, evals: E, weight: Float64Array.from(inp.weights), start, item, sim };
}
/** Rows [e0, e1) of the concatenation of `parts`, copied into one array. */
function rowsOf(parts: Float32Array[], e0: number, e1: number, dim: number): Float32Array {
  const out = new Float32Array((e1 - e0) * dim);
  let base = 0; // first row of the current part
  for (const p of parts) {
    const n = Math.floor(p.length / dim);
    const a = Math.max(e0, base);
    const b = Math.min(e1, base + n);
    if (a < b) out.set(p.subarray((a - base) * dim, (b - base) * dim), (a - e0) * dim);
    base += n;
  }
  return out;
}
