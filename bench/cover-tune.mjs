#!/usr/bin/env node
/**
 * Tuning the cover defaults cheaply (docs/cover.md): loads the model once, then for each
 * configuration builds the coverage table and runs the greedy selection as the cover stage does,
 * and scores the kept set on a fixed random hold-out of words (exact nearest kept word), instead of
 * assigning every word. Reports the hold-out mean cosine (plain and Zipf-weighted), WordSim-353
 * Spearman of the pruned vectors (every WordSim word mapped exactly), how many WordSim words keep
 * their own vector, and the CPU seconds of each part. Consecutive configurations that differ only
 * in f and e reuse the coverage table.
 *
 * usage: node bench/cover-tune.mjs MODEL.vec KEEP HOLDOUT CONFIG...   (build first: npx tsc -p .)
 *   CONFIG: comma-separated key=value among c (candidates / N), s (sample), k (neighbors),
 *   f (force-keep / N), e (epsilon), seed, u (1: uniform sample of all words, candidates included),
 *   gs (seed of the greedy steps only, default seed), sym (0: candidates' own lists by the plain search instead of the symmetric one); e.g. 'c=1.5,s=20000,k=32,f=0,e=0.01'. 'topn' scores top-N.
 */
import { dist, loadRows, spearman, wordsimPairs } from './lib.mjs';

const { buildCoverage } = await dist('stages/cover/coverage.js');
const { greedyCover } = await dist('stages/cover/greedy.js');
const { Xorshift128: Random } = await dist('stages/kernels/random.js');
const { NearestPool, sharedUnitTable } = await dist('stages/kernels/nearest-pool.js');
const { normalizeRows } = await dist('stages/kernels/normalize.js');

const [file, keepArg, holdArg, ...configs] = process.argv.slice(2);
const N = Number(keepArg);
const H = Number(holdArg);

const { words, dim, n: V, vectors: vec } = await loadRows(file);

// Hold-out: H distinct random rows (seed 12345), unit length.
const hr = new Random(12345);
const holdSet = new Set();
while (holdSet.size < Math.min(H, V)) holdSet.add(hr.below(V));
const hold = [...holdSet].sort((a, b) => a - b);
const hq = new Float32Array(hold.length * dim);
hold.forEach((r, j) => hq.set(vec.subarray(r * dim, (r + 1) * dim), j * dim));
normalizeRows(hq, hold.length, dim);

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function score(keptRows) {
  const kv = new Float32Array(keptRows.length * dim);
  keptRows.forEach((r, j) => kv.set(vec.subarray(r * dim, (r + 1) * dim), j * dim));
  const pool = new NearestPool(sharedUnitTable(kv, keptRows.length, dim), keptRows.length, dim, 2);
  const res = await pool.search(hq, hold.length);
  await pool.close();
  const keptSet = new Set(keptRows);
  let s = 0, ws = 0, wt = 0;
  const all = [];
  hold.forEach((r, j) => {
    const c = keptSet.has(r) ? 1 : res.score[j];
    s += c;
    ws += c / (r + 1);
    wt += 1 / (r + 1);
    all.push(c);
  });
  all.sort((a, b) => a - b);
  return { mean: s / hold.length, weighted: ws / wt, p5: all[Math.floor(0.05 * (all.length - 1))], keptSet };
}

const wsPairs = wordsimPairs();
const wsWords = new Set(wsPairs.flatMap(([a, b]) => [a, b]));
const wsRows = words.map((w, i) => (wsWords.has(w) ? i : -1)).filter((i) => i >= 0);
const rowOfWord = new Map(wsRows.map((r) => [words[r], r]));
const wsIn = wsPairs.filter(([a, b]) => rowOfWord.has(a) && rowOfWord.has(b));

/** WordSim-353 Spearman when every word takes its nearest kept row's vector (bench/cover.mjs's way). */
async function wordsimOf(keptRows, keptSet) {
  const kv = new Float32Array(keptRows.length * dim);
  keptRows.forEach((r, j) => kv.set(vec.subarray(r * dim, (r + 1) * dim), j * dim));
  const pool = new NearestPool(sharedUnitTable(kv, keptRows.length, dim), keptRows.length, dim, 2);
  const q = new Float32Array(wsRows.length * dim);
  wsRows.forEach((r, j) => q.set(vec.subarray(r * dim, (r + 1) * dim), j * dim));
  normalizeRows(q, wsRows.length, dim);
  const res = await pool.search(q, wsRows.length);
  await pool.close();
  const mapped = new Map(wsRows.map((r, j) => [r, keptSet.has(r) ? r : keptRows[res.index[j]]]));
  const cos = (a, b) => {
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < dim; i++) {
      const x = vec[a * dim + i], y = vec[b * dim + i];
      d += x * y; na += x * x; nb += y * y;
    }
    return d / Math.sqrt(na * nb);
  };
  const xs = wsIn.map(([a, b]) => cos(mapped.get(rowOfWord.get(a)), mapped.get(rowOfWord.get(b))));
  return spearman(xs, wsIn.map((p) => p[2]));
}

const covCache = new Map();
for (const config of configs) {
  const t0 = cpu();
  const w0 = performance.now();
  let keptRows;
  let extra = {};
  if (config === 'topn') keptRows = Array.from({ length: N }, (_, i) => i);
  else {
    const o = Object.fromEntries(config.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
    const C = Math.min(V, Math.round((o.c ?? 1.5) * N));
    const S = o.s ?? 20000;
    const key = `${C}/${S}/${o.k ?? 32}/${o.seed ?? 1}/${o.u ?? 0}/${o.sym ?? 1}`;
    let cached = covCache.get(key);
    if (!cached) {
      const rng = new Random(o.seed ?? 1);
      // u=1: a uniform sample of all words (candidates included, weight V/S); else every candidate
      // (weight 1) plus a reservoir sample of the others (weight (V - C)/S).
      const uniform = o.u === 1;
      const from = uniform ? 0 : C;
      const res = [];
      for (let r = from, seen = 0; r < V; r++, seen++) {
        if (res.length < S) res.push(r);
        else {
          const j = rng.below(seen + 1);
          if (j < S) res[j] = r;
        }
      }
      res.sort((a, b) => a - b);
      const evalRows = uniform ? res : [...Array.from({ length: C }, (_, i) => i), ...res];
      const evals = new Float32Array(evalRows.length * dim);
      evalRows.forEach((r, j) => evals.set(vec.subarray(r * dim, (r + 1) * dim), j * dim));
      const weights = Float64Array.from(evalRows, (r) => (uniform ? V / res.length : r < C ? 1 : (V - C) / res.length));
      const cov = await buildCoverage({
        dim,
        candidates: vec.subarray(0, C * dim),
        nCandidates: C,
        evals,
        nEvals: evalRows.length,
        weights,
        evalCandidate: Int32Array.from(evalRows, (r) => (r < C ? r : -1)),
        candidatesFirst: !uniform && o.sym !== 0,
        neighbors: o.k ?? 32,
        threads: 2,
      });
      cached = { cov, E: evalRows.length };
      covCache.clear();
      covCache.set(key, cached);
    }
    const { cov } = cached;
    const t1 = cpu();
    const g = greedyCover(cov, { keep: N, forceKeep: Math.round((o.f ?? 0) * N), epsilon: o.e ?? 0.01, seed: o.gs ?? o.seed ?? 1 });
    keptRows = Array.from(g.chosen).sort((a, b) => a - b);
    extra = { C, E: cached.E, est: g.objective[N - 1] / V - 1, simCpu: t1 - t0, greedyCpu: cpu() - t1, wall: (performance.now() - w0) / 1000 };
  }
  const s = await score(keptRows);
  const wsKept = wsRows.filter((r) => s.keptSet.has(r)).length;
  const ws = await wordsimOf(keptRows, s.keptSet);
  const f = (x) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(4)) : x);
  const out = { config, mean: s.mean, weighted: s.weighted, p5: s.p5, wordsim: ws, wordsimOwn: `${wsKept}/${wsRows.length}`, beyondN: keptRows.filter((r) => r >= N).length, ...extra };
  console.log(Object.entries(out).map(([k, v]) => `${k}=${f(v)}`).join(' '));
}
