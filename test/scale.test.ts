import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from './helpers/fixtures.js';
import { loadModel } from './helpers/models.js';
import { runCli } from './helpers/cli.js';
import { nearestRows, nearestRowsJs } from '../stages/kernels/nearest.js';
import { NearestPool, sharedUnitTable } from '../stages/kernels/nearest-pool.js';
import { normalizeRows } from '../stages/kernels/normalize.js';
import type { CandidateIndex } from '../stages/kernels/ann-index.js';
import { chooseSearch, NearestSearch, VerifyError, type SearchOptions } from '../stages/search.js';
import { runWithFallback } from '../cli/commands/search-options.js';
import type { GraphSpec } from '../cli/graph.js';

const dir = tmpDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const EXAMPLE = path.join(ROOT, 'examples', 'gcide-small.vec');
const KEEP = 2000;

/** The bundled real model split top-N style: first KEEP rows are the table, the rest queries (unit rows). */
async function realSplit() {
  const m = await loadModel(EXAMPLE);
  const dim = m.dim;
  const rows = m.words.length;
  const table = sharedUnitTable(m.vectors, KEEP, dim);
  const nq = rows - KEEP;
  const queries = normalizeRows(m.vectors.subarray(KEEP * dim, rows * dim), nq, dim, new Float32Array(nq * dim));
  return { dim, table, queries, nq, words: m.words };
}

function dot64(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += a[ai * dim + k]! * b[bi * dim + k]!;
  return s;
}

/** Seeded uniform numbers in [-0.5, 0.5). */
function randomRows(n: number, dim: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = (a >>> 8) / (1 << 24) - 0.5;
  }
  return out;
}

describe('exact kernel (WebAssembly SIMD)', () => {
  it('the committed .wat and compiled module are what the scripts generate', () => {
    // fails when someone edits one without the other (the scripts exit 1 on a difference)
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/wasm/gen-nearest-wat.mjs'), '--check'], { stdio: 'pipe' });
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/wasm/build.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('finds the highest dot product (float64 brute force) for odd sizes; exact ties keep the lower row across lanes and tiles', () => {
    for (const [nq, nt, dim] of [
      [1, 1, 1],
      [7, 5, 3],
      [37, 301, 29],
      [130, 517, 300],
    ] as const) {
      // unit rows, so that a query equal to a row has that row (and its copies) as its best
      const t = normalizeRows(randomRows(nt, dim, nt * 31 + dim), nt, dim);
      const q = normalizeRows(randomRows(nq, dim, nq * 17 + dim), nq, dim);
      // row 1 repeated at rows in another lane, the same lane, and another tile (tiles are 128 rows)
      for (const r of [2, 5, 130, 301]) if (r < nt && nt > 1) t.copyWithin(r * dim, 1 * dim, 2 * dim);
      if (nt > 1) q.set(t.subarray(dim, 2 * dim), 0);
      const idx = new Int32Array(nq);
      const sc = new Float32Array(nq);
      nearestRows(q, nq, t, nt, dim, idx, sc);
      const jsIdx = new Int32Array(nq);
      const jsSc = new Float32Array(nq);
      nearestRowsJs(q, nq, t, nt, dim, jsIdx, jsSc);
      if (nt > 1) {
        expect(idx[0]).toBe(1);
        expect(jsIdx[0]).toBe(1);
      }
      for (let i = 0; i < nq; i++) {
        let best = -Infinity;
        for (let r = 0; r < nt; r++) best = Math.max(best, dot64(q, i, t, r, dim));
        const got = dot64(q, i, t, idx[i]!, dim);
        // the chosen row is the best one up to float32 rounding, and its score is its dot product
        expect(best - got).toBeLessThan(1e-5);
        expect(Math.abs(sc[i]! - got)).toBeLessThan(1e-5);
        if (jsIdx[i] !== idx[i]) expect(Math.abs(dot64(q, i, t, jsIdx[i]!, dim) - got)).toBeLessThan(1e-5);
      }
    }
  });

  it('thread counts 0, 1 and 2 give bit-identical exact results on a real model', async () => {
    const { dim, table, queries, nq } = await realSplit();
    const results = [];
    for (const threads of [0, 1, 2]) {
      const pool = new NearestPool(table, KEEP, dim, threads);
      try {
        results.push(await pool.search(queries, nq));
      } finally {
        await pool.close();
      }
    }
    for (const r of results.slice(1)) {
      expect(Buffer.from(r.index.buffer).equals(Buffer.from(results[0]!.index.buffer))).toBe(true);
      expect(Buffer.from(r.score.buffer).equals(Buffer.from(results[0]!.score.buffer))).toBe(true);
    }
    // and through the CLI: the mappings written with --threads 1 and 2 are the same bytes
    const maps = [1, 2].map((t) => {
      const map = path.join(dir, `map-${t}.tsv`);
      const r = runCli(['prune', EXAMPLE, '-o', path.join(dir, `o-${t}.txt`), '--keep', String(KEEP), '--search', 'exact', '--threads', String(t), '--mapping', map, '-q']);
      expect(r.code, r.stderr).toBe(0);
      return fs.readFileSync(map);
    });
    expect(maps[0]!.equals(maps[1]!)).toBe(true);
  });
});

describe('approximate search', () => {
  it.each([
    ['ivf', /^ivf$/],
    ['hnsw', /usearch/],
  ] as const)('%s: agrees with exact search on a real model above the threshold, and every score is the exact cosine', async (kind, name) => {
    const { dim, table, queries, nq } = await realSplit();
    const exact = await NearestSearch.open(table, KEEP, dim, { threads: 2, seed: 1, queries: nq }, { search: 'exact' });
    // hnsw on one thread: usearch's multi-threaded build gives a different graph each run
    const approx = await NearestSearch.open(table, KEEP, dim, { threads: kind === 'hnsw' ? 1 : 2, seed: 1, queries: nq }, { search: 'approx', index: kind });
    try {
      expect(exact.mode).toBe('exact');
      expect(approx.mode).toBe('approx');
      const e = await exact.search(queries, nq);
      const a = { index: new Int32Array(nq), score: new Float32Array(nq) };
      for (let s = 0; s < nq; s += 1000) {
        const n = Math.min(1000, nq - s);
        const r = await approx.search(queries.subarray(s * dim, (s + n) * dim), n);
        a.index.set(r.index, s);
        a.score.set(r.score, s);
      }
      let agree = 0;
      for (let i = 0; i < nq; i++) {
        if (a.index[i] === e.index[i]) agree++;
        expect(Math.abs(a.score[i]! - dot64(queries, i, table, a.index[i]!, dim))).toBeLessThan(1e-5);
        expect(a.score[i]!).toBeLessThanOrEqual(e.score[i]!);
      }
      expect(agree / nq).toBeGreaterThanOrEqual(0.98);
      const v = (await approx.verify())!;
      expect(v.sample).toBe(2000);
      expect(v.passed).toBe(true);
      expect(v.agreement).toBeGreaterThanOrEqual(0.98);
      expect(v.meanCosineLost).toBeGreaterThanOrEqual(0);
      expect(v.meanCosineLost).toBeLessThan(0.002);
      const rep = approx.reportEntry() as { verify: { agreement: number }; index: { name: string } };
      expect(rep.index.name).toMatch(name);
      expect(rep.verify.agreement).toBe(Math.round(v.agreement * 1e6) / 1e6);
    } finally {
      await exact.close();
      await approx.close();
    }
  });

  /** An index that proposes the row after the right one: plausible-looking, always wrong. */
  const brokenIndex: SearchOptions['indexFactory'] = (rowsOf, rows, dim) => {
    const t = rowsOf(0, rows);
    return {
      name: 'broken',
      params: {},
      search(q, n, k) {
        const idx = new Int32Array(n);
        const sc = new Float32Array(n);
        nearestRowsJs(q, n, t, rows, dim, idx, sc);
        const out = new Int32Array(n * k).fill(-1);
        for (let i = 0; i < n; i++) out[i * k] = (idx[i]! + 1) % rows;
        return out;
      },
      close() {},
    } satisfies CandidateIndex;
  };

  it('the verification sample detects a broken index', async () => {
    const { dim, table, queries, nq } = await realSplit();
    const s = await NearestSearch.open(table, KEEP, dim, { threads: 1, seed: 3, queries: nq }, { search: 'approx', indexFactory: brokenIndex, verifySample: 500 });
    try {
      await s.search(queries, nq);
      const v = (await s.verify())!;
      expect(v.sample).toBe(500);
      expect(v.passed).toBe(false);
      expect(v.agreement).toBeLessThan(0.05);
      expect(v.meanCosineLost).toBeGreaterThan(0.01);
    } finally {
      await s.close();
    }
  });

  function graph(out: string, assign: Record<string, unknown>): GraphSpec {
    return {
      input: EXAMPLE,
      stages: [
        { stage: 'parse' },
        { stage: 'rank', keep: KEEP },
        { stage: 'assign', ...assign },
        { stage: 'serialize', output: out, to: 'w2v-text', layout: 'kept', mapping: out + '.map' },
      ],
    };
  }

  it('a failed verification fails the run (exit code 5, no output), or reruns exactly with --fallback exact', async () => {
    const out = path.join(dir, 'broken.txt');
    const err = await runWithFallback(graph(out, { search: 'approx', indexFactory: brokenIndex }), { quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerifyError);
    expect((err as VerifyError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/agreed with exact search on \d+\.\d+% of 2000 sampled rows, below --min-agreement 0\.98/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(out + '.map')).toBe(false);

    const ctx = await runWithFallback(graph(out, { search: 'approx', indexFactory: brokenIndex }), { quiet: true, fallback: 'exact' });
    const search = ctx.report.search as { mode: string; fallback_from: { passed: boolean } };
    expect(search.mode).toBe('exact');
    expect(search.fallback_from.passed).toBe(false);
    // the fallback's mapping is the exact one
    const exactOut = path.join(dir, 'exact.txt');
    await runWithFallback(graph(exactOut, { search: 'exact' }), { quiet: true });
    expect(fs.readFileSync(out + '.map').equals(fs.readFileSync(exactOut + '.map'))).toBe(true);
  });

  it('--fallback exact is refused on standard input (it cannot be read twice)', () => {
    const r = runCli(['prune', '-', '-o', path.join(dir, 'x.txt'), '--keep', '10', '--search', 'approx', '--fallback', 'exact'], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--fallback exact needs a file input/);
  });

  it('auto picks by size and says why', () => {
    expect(chooseSearch('auto', 6661, 2000, 25)).toMatchObject({ mode: 'exact' });
    expect(chooseSearch('auto', 6661, 2000, 25).reason).toMatch(/auto chose exact: 2000 kept rows < 4096/);
    expect(chooseSearch('auto', 950000, 20000, 300, 'hnsw').reason).toMatch(/auto chose exact: 20000 kept rows < 32768/);
    // the IVF build (k-means) must be cheap next to exact search: a few queries against a big table are not worth it
    expect(chooseSearch('auto', 2000, 1000000, 100)).toMatchObject({ mode: 'exact' });
    expect(chooseSearch('auto', 2000, 1000000, 100).reason).toMatch(/building the index \(.*\) would cost more than 5% of exact search/);
    expect(chooseSearch('auto', 990000, 10000, 300)).toMatchObject({ mode: 'approx' });
    expect(chooseSearch('auto', 950000, 50000, 300)).toMatchObject({ mode: 'approx' });
    expect(chooseSearch('auto', 950000, 50000, 300).reason).toMatch(/28\.5 TFLOP/);
    expect(chooseSearch('auto', 1000, 40000, 10)).toMatchObject({ mode: 'exact' });
    expect(chooseSearch('exact', 950000, 50000, 300)).toMatchObject({ mode: 'exact' });
    const r = runCli(['prune', EXAMPLE, '-o', path.join(dir, 'auto.txt'), '--keep', String(KEEP), '--report', path.join(dir, 'auto.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/search: auto chose exact/);
    const rep = JSON.parse(fs.readFileSync(path.join(dir, 'auto.json'), 'utf8')) as { search: { mode: string; requested: string } };
    expect(rep.search).toMatchObject({ mode: 'exact', requested: 'auto' });
  });
});
