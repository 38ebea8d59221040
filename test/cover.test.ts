/**
 * The cover method (facility-location selection) on a real model: examples/gcide-small.vec,
 * 8,661 words x 25 dims, fastText skipgram trained on GCIDE dictionary text, sorted by frequency.
 * Reference values are computed here from the file by brute force, never copied from our output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from './helpers/fixtures.js';
import { loadModel as load, type Loaded as Model } from './helpers/models.js';
import { runGraph, type GraphSpec } from '../cli/graph.js';
import { pruneGraph, type PruneArgs } from '../cli/commands/prune.js';
import { buildCoverage, gainOf, greedyCover, objectiveOf, type Coverage } from '../stages/cover/index.js';
import { topKRows } from '../stages/kernels/topk.js';
import { TopKPool } from '../stages/kernels/topk-pool.js';
import { normalizeRows } from '../stages/kernels/normalize.js';

const MODEL = path.join(ROOT, 'examples', 'gcide-small.vec');

function unit64(m: Model, rows: number): Float64Array {
  const d = m.dim;
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += m.vectors[r * d + k]! ** 2;
    const n = Math.sqrt(s) || 1;
    for (let k = 0; k < d; k++) out[r * d + k] = m.vectors[r * d + k]! / n;
  }
  return out;
}

/** Dense shifted similarity 1 + cos of every word (rows) to every candidate (the first C rows). */
function denseSims(u: Float64Array, dim: number, rows: number, C: number): Float64Array {
  const s = new Float64Array(rows * C);
  for (let w = 0; w < rows; w++)
    for (let c = 0; c < C; c++) {
      let x = 0;
      for (let k = 0; k < dim; k++) x += u[w * dim + k]! * u[c * dim + k]!;
      s[w * C + c] = 1 + x;
    }
  return s;
}

/** F(S) over all words, by brute force. */
function bruteF(sims: Float64Array, rows: number, C: number, set: number[]): number {
  let f = 0;
  for (let w = 0; w < rows; w++) {
    let b = 0;
    for (const c of set) b = Math.max(b, sims[w * C + c]!);
    f += b;
  }
  return f;
}

/** All subsets of {0..C-1} of size n. */
function* subsets(C: number, n: number, from = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === n) {
    yield acc.slice();
    return;
  }
  for (let c = from; c < C; c++) {
    acc.push(c);
    yield* subsets(C, n, c + 1, acc);
    acc.pop();
  }
}

/** Greedy with every gain recomputed from the dense matrix (ties: lower candidate). */
function naiveGreedy(sims: Float64Array, rows: number, C: number, n: number): number[] {
  const set: number[] = [];
  for (let step = 0; step < n; step++) {
    let bc = -1;
    let bf = -Infinity;
    for (let c = 0; c < C; c++) {
      if (set.includes(c)) continue;
      const f = bruteF(sims, rows, C, [...set, c]);
      if (f > bf) {
        bf = f;
        bc = c;
      }
    }
    set.push(bc);
  }
  return set;
}

function coverGraph(out: string, cover: Record<string, unknown>, layout = 'expanded'): GraphSpec {
  return {
    input: MODEL,
    stages: [
      { stage: 'parse' },
      { stage: 'cover', ...cover },
      { stage: 'assign' },
      { stage: 'serialize', output: out, to: 'w2v-text', layout },
    ],
  };
}

async function keptWords(out: string, cover: Record<string, unknown>): Promise<string[]> {
  const ctx = await runGraph(coverGraph(out, cover), { quiet: true, threads: 1 });
  return ctx.kept!.labels.slice(0, ctx.kept!.size);
}

let model: Model;
let dir: string;

beforeAll(async () => {
  expect(fs.existsSync(MODEL), `${MODEL} is part of the project`).toBe(true);
  model = await load(MODEL);
  dir = tmpDir('pp-cover-');
});

describe('top-k kernel', () => {
  it('returns the k most similar table rows, best first, as a sort of all scores does', () => {
    const d = model.dim;
    const nq = 37;
    const nt = 301;
    const k = 9;
    const table = normalizeRows(model.vectors.slice(0, nt * d), nt, d);
    const q = normalizeRows(model.vectors.slice(5000 * d, (5000 + nq) * d), nq, d);
    const idx = new Int32Array(nq * k);
    const sc = new Float32Array(nq * k);
    topKRows(q, nq, table, nt, d, k, idx, sc);
    for (let i = 0; i < nq; i++) {
      const all = Array.from({ length: nt }, (_, t) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += q[i * d + j]! * table[t * d + j]!;
        return { t, s };
      }).sort((a, b) => b.s - a.s || a.t - b.t);
      for (let j = 0; j < k; j++) {
        expect(idx[i * k + j]).toBe(all[j]!.t);
        expect(sc[i * k + j]).toBeCloseTo(all[j]!.s, 5);
      }
    }
  });
});

describe('top-k of a table against itself', () => {
  it('the symmetric block search (split over workers and merged) equals the plain search', async () => {
    const d = model.dim;
    const n = 1100; // not a multiple of the block size
    const k = 12;
    const table = normalizeRows(model.vectors.slice(0, n * d), n, d, new Float32Array(new SharedArrayBuffer(n * d * 4)));
    const idx = new Int32Array(n * k);
    const sc = new Float32Array(n * k);
    topKRows(table, n, table, n, d, k, idx, sc);
    for (const threads of [0, 2]) {
      const pool = new TopKPool(table, n, d, k, threads);
      const r = await pool.searchSelf();
      await pool.close();
      let same = 0;
      for (let i = 0; i < n * k; i++) {
        expect(r.score[i]!).toBeCloseTo(sc[i]!, 5);
        if (r.index[i] === idx[i]) same++;
      }
      // Sums in another order may round differently: only exact float ties can swap places.
      expect(same).toBeGreaterThanOrEqual(n * k - 10);
      for (let i = 0; i < n; i++) expect(r.index[i * k]).toBe(i);
      // The pool's own search of the table's rows gives exactly the same lists (same sums).
      const p2 = new TopKPool(table, n, d, k, threads);
      const q = await p2.search(table.slice(0, n * d), n);
      await p2.close();
      expect(Array.from(q.index)).toEqual(Array.from(r.index));
      expect(Array.from(q.score)).toEqual(Array.from(r.score));
    }
  });
});

describe('cover on the full objective (no sampling, every candidate listed)', () => {
  const C = 16;

  it('greedy matches brute force: every step the exhaustive best addition; N = 1 the exhaustive optimum', async () => {
    const rows = model.words.length;
    const sims = denseSims(unit64(model, rows), model.dim, rows, C);
    const N = 4;
    const expected = naiveGreedy(sims, rows, C, N);
    // The stage end to end: all words evaluated (sample 0), lazy greedy (epsilon 0), dense lists.
    for (let n = 1; n <= N; n++) {
      const kept = await keptWords(path.join(dir, `full-${n}.txt`), { keep: n, candidates: C, sample: 0, epsilon: 0, forceKeep: 0, neighbors: C, seed: 3 });
      expect(new Set(kept)).toEqual(new Set(expected.slice(0, n).map((c) => model.words[c]!)));
    }
    // N = 1: greedy is the exhaustive optimum.
    let best1 = -1;
    let bf = -Infinity;
    for (let c = 0; c < C; c++) {
      const f = bruteF(sims, rows, C, [c]);
      if (f > bf) {
        bf = f;
        best1 = c;
      }
    }
    expect(expected[0]).toBe(best1);
    // N = 2, 3: within the submodular guarantee of the exhaustive optimum.
    for (const n of [2, 3]) {
      let opt = -Infinity;
      for (const s of subsets(C, n)) opt = Math.max(opt, bruteF(sims, rows, C, s));
      const g = bruteF(sims, rows, C, expected.slice(0, n));
      expect(g).toBeLessThanOrEqual(opt + 1e-9);
      expect(g).toBeGreaterThanOrEqual((1 - 1 / Math.E) * opt);
    }
  });

  it('the coverage table gives the same objective as brute force for any set', async () => {
    const rows = 2000;
    const sims = denseSims(unit64(model, rows), model.dim, rows, C);
    const cov = await buildCoverage({
      dim: model.dim,
      candidates: model.vectors.slice(0, C * model.dim),
      nCandidates: C,
      evals: model.vectors.slice(0, rows * model.dim),
      nEvals: rows,
      weights: new Float64Array(rows).fill(1),
      candidatesFirst: true,
      neighbors: C,
      threads: 0,
    });
    for (const s of [[0], [3, 7], [1, 2, 15], [0, 5, 9, 11, 14]]) {
      expect(objectiveOf(cov, s)).toBeCloseTo(bruteF(sims, rows, C, s), 2);
    }
  });
});

describe('greedy on a sampled objective', () => {
  let cov: Coverage;
  const C = 1500;
  const N = 1000;

  beforeAll(async () => {
    // Candidates: the 1,500 most frequent words; the objective on every 3rd other word, weight 3.
    const d = model.dim;
    const evalRows: number[] = [];
    for (let r = 0; r < C; r++) evalRows.push(r);
    for (let r = C; r < model.words.length; r += 3) evalRows.push(r);
    const o = new Float32Array(evalRows.length * d);
    evalRows.forEach((r, j) => o.set(model.vectors.subarray(r * d, (r + 1) * d), j * d));
    const others = evalRows.length - C;
    cov = await buildCoverage({
      dim: d,
      candidates: model.vectors.slice(0, C * d),
      nCandidates: C,
      evals: o,
      nEvals: evalRows.length,
      weights: Float64Array.from(evalRows, (r) => (r < C ? 1 : (model.words.length - C) / others)),
      evalCandidate: Int32Array.from(evalRows, (r) => (r < C ? r : -1)),
      candidatesFirst: true,
      neighbors: 32,
      threads: 2,
    });
  });

  it('the objective never decreases step by step and each step adds the chosen gain', () => {
    for (const epsilon of [0, 0.01, 0.3]) {
      const r = greedyCover(cov, { keep: N, epsilon, seed: 5 });
      expect(new Set(r.chosen).size).toBe(N);
      for (let i = 1; i < N; i++) expect(r.objective[i]!).toBeGreaterThanOrEqual(r.objective[i - 1]!);
      expect(r.objective[0]!).toBeGreaterThan(0);
      // The recorded objective is the objective of the chosen set, recomputed from scratch.
      expect(objectiveOf(cov, r.chosen)).toBeCloseTo(r.objective[N - 1]!, 3);
    }
  });

  it('lazy greedy makes the same choices as recomputing every gain every step (first 60 steps)', () => {
    const lazy = greedyCover(cov, { keep: 60, epsilon: 0 });
    const best = new Float64Array(cov.evals);
    const taken = new Set<number>();
    for (let step = 0; step < 60; step++) {
      let bc = -1;
      let bg = -Infinity;
      for (let c = 0; c < C; c++) {
        if (taken.has(c)) continue;
        const g = gainOf(cov, best, c);
        if (g > bg) {
          bg = g;
          bc = c;
        }
      }
      expect(lazy.chosen[step]).toBe(bc);
      taken.add(bc);
      for (let p = cov.start[bc]!; p < cov.start[bc + 1]!; p++) best[cov.item[p]!] = Math.max(best[cov.item[p]!]!, cov.sim[p]!);
    }
    // Lazy evaluation saves work: far fewer gain evaluations than C per step.
    expect(lazy.evaluations).toBeLessThan(C + 60 * C * 0.5);
  });

  it('stochastic greedy reaches at least 95% of full greedy, for several N and seeds', () => {
    for (const n of [100, 500, N]) {
      const full = greedyCover(cov, { keep: n, epsilon: 0 }).objective[n - 1]!;
      for (const seed of [1, 2, 3]) {
        const st = greedyCover(cov, { keep: n, epsilon: 0.01, seed });
        expect(st.objective[n - 1]!).toBeGreaterThanOrEqual(0.95 * full);
      }
    }
  });

  it('forced candidates are chosen first, the rest by coverage', () => {
    for (const epsilon of [0, 0.01]) {
      const r = greedyCover(cov, { keep: N, forceKeep: 300, epsilon, seed: 2 });
      expect(Array.from(r.chosen.subarray(0, 300))).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(new Set(r.chosen).size).toBe(N);
    }
  });
});

describe('cover stage in a run', () => {
  it('--force-keep words are always kept; kept words are in frequency order', async () => {
    const kept = await keptWords(path.join(dir, 'force.txt'), { keep: 500, candidates: 1000, forceKeep: 200, sample: 2000, seed: 1 });
    expect(kept.length).toBe(500);
    expect(kept.slice(0, 200)).toEqual(model.words.slice(0, 200));
    const ranks = kept.map((w) => model.words.indexOf(w));
    for (let i = 1; i < ranks.length; i++) expect(ranks[i]!).toBeGreaterThan(ranks[i - 1]!);
    expect(Math.max(...ranks)).toBeLessThan(1000);
    // Coverage chose more than the top 500: some kept words rank beyond 500.
    expect(ranks.some((r) => r >= 500)).toBe(true);
  });

  it('is deterministic with --seed (and the seed matters when sampling)', async () => {
    const opts = { keep: 400, candidates: 800, sample: 1000, epsilon: 0.1 };
    const a = await keptWords(path.join(dir, 's1.txt'), { ...opts, seed: 7 });
    const b = await keptWords(path.join(dir, 's2.txt'), { ...opts, seed: 7 });
    const c = await keptWords(path.join(dir, 's3.txt'), { ...opts, seed: 8 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(fs.readFileSync(path.join(dir, 's1.txt')).equals(fs.readFileSync(path.join(dir, 's2.txt')))).toBe(true);
  });

  it('prune --method cover maps every word to its nearest kept word, in both layouts', async () => {
    const args = (output: string, layout: string): PruneArgs =>
      ({ input: MODEL, output, keep: 300, method: 'cover', layout, candidates: 450, sample: 3000, seed: 4 }) as PruneArgs;
    const exp = path.join(dir, 'cover-expanded.txt');
    const g = pruneGraph(args(exp, 'expanded'));
    expect(g.stages.map((s) => s.stage)).toEqual(['parse', 'cover', 'assign', 'serialize']);
    const ctx = await runGraph(g, { quiet: true, threads: 2 });
    const kept = ctx.kept!.labels.slice(0, ctx.kept!.size);
    expect(kept.length).toBe(300);
    const out = await load(exp);
    expect(out.words).toEqual(model.words);
    const d = model.dim;
    const keptRows = kept.map((w) => model.words.indexOf(w));
    const u = unit64(model, model.words.length);
    const cos = (a: number, b: number) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += u[a * d + k]! * u[b * d + k]!;
      return s;
    };
    const row = (m: Model, r: number) => Array.from(m.vectors.subarray(r * d, (r + 1) * d));
    let sum = 0;
    for (let w = 0; w < model.words.length; w++) {
      let bk = -1;
      let bs = -Infinity;
      for (const k of keptRows) {
        const s = cos(w, k);
        if (s > bs) {
          bs = s;
          bk = k;
        }
      }
      sum += bs;
      if (w % 97 === 0 || keptRows.includes(w)) {
        const got = row(out, w);
        const want = row(model, bk);
        for (let k = 0; k < d; k++) expect(got[k]!).toBeCloseTo(want[k]!, 4);
      }
    }
    expect(ctx.report.cosineAll!.mean).toBeCloseTo(sum / model.words.length, 3);
    const keptOut = path.join(dir, 'cover-kept.txt');
    await runGraph(pruneGraph(args(keptOut, 'kept')), { quiet: true, threads: 2 });
    const k2 = await load(keptOut);
    expect(k2.words).toEqual(kept);
    for (const [i, r] of keptRows.entries()) expect(row(k2, i)).toEqual(row(model, r).map((x) => Math.fround(x)));
  });

  it('cover beats top-N on the mean cosine of all words at the same N', async () => {
    const top = await runGraph(pruneGraph({ input: MODEL, output: path.join(dir, 't.txt'), keep: 1000, method: 'topn', layout: 'kept' } as PruneArgs), {
      quiet: true,
      threads: 2,
    });
    const cov = await runGraph(pruneGraph({ input: MODEL, output: path.join(dir, 'c.txt'), keep: 1000, method: 'cover', layout: 'kept', seed: 1 } as PruneArgs), {
      quiet: true,
      threads: 2,
    });
    expect(cov.report.cosineAll!.mean).toBeGreaterThan(top.report.cosineAll!.mean + 0.005);
  });

  it('rejects bad options before reading the model', async () => {
    await expect(keptWords(path.join(dir, 'bad.txt'), { keep: 10, candidates: 5 })).rejects.toThrow(/--candidates \(5\) must be at least --keep \(10\)/);
    await expect(keptWords(path.join(dir, 'bad.txt'), { keep: 10, forceKeep: 11 })).rejects.toThrow(/--force-keep/);
    await expect(keptWords(path.join(dir, 'bad.txt'), { keep: 10, epsilon: 1 })).rejects.toThrow(/--epsilon/);
  });
});
