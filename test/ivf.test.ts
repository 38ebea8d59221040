import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { ROOT, tmpDir } from './helpers/fixtures.js';
import { loadModel } from './helpers/models.js';
import { buildIvf, defaultCells, ivfBytes, kthLargest, unpermute } from '../stages/kernels/ivf.js';
import { NearestPool, sharedUnitTable } from '../stages/kernels/nearest-pool.js';
import { normalizeRows } from '../stages/kernels/normalize.js';
import { WorkerCalls } from '../stages/kernels/worker-calls.js';
import { workerUrl } from '../pipeline/workers.js';
import { UsageError } from '../pipeline/errors.js';
import { checkSearchOptions, indexKind, NearestSearch } from '../stages/search.js';

const EXAMPLE = path.join(ROOT, 'examples', 'gcide-small.vec');
const KEEP = 2000;
const dir = tmpDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The bundled real model split top-N style: the first KEEP rows are the table, the rest queries. */
async function realSplit() {
  const m = await loadModel(EXAMPLE);
  const dim = m.dim;
  const rows = m.words.length;
  const nq = rows - KEEP;
  const queries = normalizeRows(m.vectors.subarray(KEEP * dim, rows * dim), nq, dim, new Float32Array(nq * dim));
  return { dim, vectors: m.vectors, queries, nq };
}

/** A pool over the unit kept rows with an IVF index of `cells` cells attached. */
async function ivfPool(vectors: Float32Array, rows: number, dim: number, threads: number, cells: number) {
  const pool = new NearestPool(sharedUnitTable(vectors, rows, dim), rows, dim, threads, false, ivfBytes(dim, cells, threads + 1));
  const simd = pool.simdTable!;
  const setup = await buildIvf(simd.memory, simd.layout, threads + 1, { cells, seed: 5, runner: pool.ivfBuildRunner() });
  await pool.attachIvf(setup);
  return { pool, setup };
}

describe('inverted-file index (ivf.ts)', () => {
  it('workers started ahead (NearestPool.prestart) are taken by the next pool and answer exactly like fresh ones', async () => {
    const { dim, vectors, queries, nq } = await realSplit();
    const url = workerUrl(import.meta.url, '../stages/kernels/nearest-worker.js');
    const fresh = new NearestPool(sharedUnitTable(vectors, KEEP, dim), KEEP, dim, 2);
    const a = await fresh.search(queries, nq);
    await fresh.close();
    NearestPool.prestart(2);
    expect(WorkerCalls.spares(url)).toBe(2);
    const { pool, setup } = await ivfPool(vectors, KEEP, dim, 2, 40);
    expect(WorkerCalls.spares(url)).toBe(0);
    try {
      const b = await pool.search(queries, nq);
      for (let i = 0; i < nq; i++) b.index[i] = setup.perm[b.index[i]!]!;
      expect(Buffer.from(b.index.buffer).equals(Buffer.from(a.index.buffer))).toBe(true);
      expect(Buffer.from(b.score.buffer).equals(Buffer.from(a.score.buffer))).toBe(true);
      // and the IVF with every cell probed, on those workers, is the exact answer too
      const c = await pool.searchIvf(queries, nq, 40);
      expect(Buffer.from(c.index.buffer).equals(Buffer.from(a.index.buffer))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a worker started ahead that fails before it is taken is dropped, not left to crash the process', async () => {
    const url = new URL('data:text/javascript,throw new Error("spare fails")');
    WorkerCalls.prestart(url, 1);
    expect(WorkerCalls.spares(url)).toBe(1);
    for (let i = 0; i < 100 && WorkerCalls.spares(url) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(WorkerCalls.spares(url)).toBe(0);
  });

  it('the build gives the same cells and centroids on the workers (2 threads) as on the calling thread', async () => {
    const { dim, vectors } = await realSplit();
    const cells = 40;
    const builds = [];
    for (const threads of [0, 2]) {
      const { pool, setup } = await ivfPool(vectors, KEEP, dim, threads, cells);
      const simd = pool.simdTable!;
      const cb = setup.layout.centroidBase >> 2;
      const centroids = new Float32Array(simd.memory.buffer).slice(cb, cb + cells * setup.layout.d);
      builds.push({ setup, centroids, threads, runner: pool.ivfBuildRunner() });
      await pool.close();
    }
    expect(builds[0]!.runner).toBeUndefined();
    expect(builds[1]!.runner!.slots).toEqual([1, 2]);
    const [a, b] = builds;
    expect(Array.from(b!.setup.cellStart)).toEqual(Array.from(a!.setup.cellStart));
    expect(Buffer.from(b!.setup.perm.buffer).equals(Buffer.from(a!.setup.perm.buffer))).toBe(true);
    expect(Buffer.from(b!.centroids.buffer).equals(Buffer.from(a!.centroids.buffer))).toBe(true);
    // a real partition: every row in one cell, more than one cell used
    expect(a!.setup.cellStart[cells]).toBe(KEEP);
    expect(new Set(a!.setup.perm).size).toBe(KEEP);
    expect(a!.setup.cellStart.filter((x, c) => c < cells && x === a!.setup.cellStart[c + 1]).length).toBeLessThan(cells / 2);
  });

  it('probing every cell gives exactly the exact answers (rows and bits of the scores); the table is permuted by cell and restored exactly', async () => {
    const { dim, vectors, queries, nq } = await realSplit();
    const plain = new NearestPool(sharedUnitTable(vectors, KEEP, dim), KEEP, dim, 0);
    const exact = plain.searchHere(queries, nq);
    const before = plain.table;
    await plain.close();
    const cells = 40;
    const { pool, setup } = await ivfPool(vectors, KEEP, dim, 2, cells);
    try {
      // cells partition the rows: every row once, cell by cell, in original order inside a cell
      expect(setup.cellStart[0]).toBe(0);
      expect(setup.cellStart[cells]).toBe(KEEP);
      expect([...setup.perm].sort((a, b) => a - b)).toEqual(Array.from({ length: KEEP }, (_, i) => i));
      for (let c = 0; c < cells; c++) for (let p = setup.cellStart[c]! + 1; p < setup.cellStart[c + 1]!; p++) expect(setup.perm[p]!).toBeGreaterThan(setup.perm[p - 1]!);
      // the pool's memory holds row perm[p] at position p
      const t = pool.table;
      for (const p of [0, 17, KEEP - 1]) expect(t.subarray(p * dim, (p + 1) * dim)).toEqual(before.subarray(setup.perm[p]! * dim, (setup.perm[p]! + 1) * dim));
      const all = await pool.searchIvf(queries, nq, cells);
      expect(Buffer.from(all.index.buffer).equals(Buffer.from(exact.index.buffer))).toBe(true);
      expect(Buffer.from(all.score.buffer).equals(Buffer.from(exact.score.buffer))).toBe(true);
      // fewer probes: some misses, but never a better score than exact, and each score is the row's exact one
      const few = await pool.searchIvf(queries, nq, 2);
      let agree = 0;
      for (let i = 0; i < nq; i++) {
        expect(few.score[i]!).toBeLessThanOrEqual(exact.score[i]!);
        if (few.index[i] === exact.index[i]) {
          agree++;
          expect(few.score[i]).toBe(exact.score[i]);
        }
      }
      expect(agree / nq).toBeGreaterThan(0.5);
      expect(agree).toBeLessThan(nq);
      await pool.attachIvf(undefined);
      unpermute(pool.simdTable!.memory, setup);
      expect(Buffer.from(pool.table.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('kthLargest agrees with a sort, ties included', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rnd() * 300);
      const v = Float32Array.from({ length: n }, () => Math.round(rnd() * 20) / 20 - 0.5);
      const sorted = [...v].sort((a, b) => b - a);
      const k = 1 + Math.floor(rnd() * n);
      expect(kthLargest(v, k, new Float32Array(n))).toBe(sorted[k - 1]);
    }
  });

  it('more probes never give a worse answer, across the switch from insertion (<= 8) to selection (> 8) of the best cells', async () => {
    const { dim, vectors, queries, nq } = await realSplit();
    const cells = 40;
    const { pool } = await ivfPool(vectors, KEEP, dim, 0, cells);
    try {
      let prev = await pool.searchIvf(queries, nq, 4);
      for (const p of [8, 9, 16, 39, 40]) {
        const r = await pool.searchIvf(queries, nq, p);
        for (let i = 0; i < nq; i++) expect(r.score[i]!).toBeGreaterThanOrEqual(prev.score[i]!);
        prev = r;
      }
    } finally {
      await pool.close();
    }
  });

  it('thread counts 0, 1 and 2 give bit-identical answers; exact ties keep the lower original row', async () => {
    const { dim, vectors, queries, nq } = await realSplit();
    // rows 3 and 1500 made copies of row 700: a query equal to it must get row 3 (lowest of the copies)
    const v = vectors.slice(0, KEEP * dim);
    for (const r of [3, 1500]) v.copyWithin(r * dim, 700 * dim, 701 * dim);
    const q = queries.slice();
    normalizeRows(v.slice(700 * dim, 701 * dim), 1, dim, q.subarray(0, dim));
    const results = [];
    for (const threads of [0, 1, 2]) {
      const { pool } = await ivfPool(v, KEEP, dim, threads, 30);
      try {
        results.push(await pool.searchIvf(q, nq, 3));
      } finally {
        await pool.close();
      }
    }
    expect(results[0]!.index[0]).toBe(3);
    for (const r of results.slice(1)) {
      expect(Buffer.from(r.index.buffer).equals(Buffer.from(results[0]!.index.buffer))).toBe(true);
      expect(Buffer.from(r.score.buffer).equals(Buffer.from(results[0]!.score.buffer))).toBe(true);
    }
  });

  it('NearestSearch: calibrates the probes, reports the index, and verifies itself', async () => {
    const { dim, vectors, queries, nq } = await realSplit();
    expect(defaultCells(KEEP)).toBe(89);
    const lines: string[] = [];
    const s = await NearestSearch.open(vectors.subarray(0, KEEP * dim), KEEP, dim, { threads: 1, seed: 2, queries: nq, normalize: true, log: (l) => lines.push(l) }, { search: 'approx', cells: 50 });
    try {
      const r = await s.search(queries, nq);
      expect(r.index.every((x) => x >= 0 && x < KEEP)).toBe(true);
      const v = (await s.verify())!;
      expect(v.passed).toBe(true);
      const rep = s.reportEntry() as { index: { name: string; cells: number; probes: number }; calibration: { probes: number; agreement: number; tried: { probes: number }[] } };
      expect(rep.index).toMatchObject({ name: 'ivf', cells: 50 });
      expect(rep.index.probes).toBe(rep.calibration.probes);
      expect(rep.calibration.agreement).toBeGreaterThanOrEqual(0.99);
      // the first breadth tried is the smallest that reaches the target on the calibration rows
      // (the first 1,024 queries): one probe less falls short of it
      const p = rep.calibration.tried[0]!.probes;
      expect(p).toBeGreaterThan(1);
      const c = 1024;
      const q = queries.subarray(0, c * dim);
      const plain = new NearestPool(sharedUnitTable(vectors, KEEP, dim), KEEP, dim, 0);
      const exact = plain.searchHere(q, c);
      await plain.close();
      const agreement = (probes: number) => {
        const r = s.pool.searchIvfHere(q, c, probes);
        let n = 0;
        for (let i = 0; i < c; i++) if (r.index[i] === exact.index[i] || r.score[i] === exact.score[i]) n++;
        return n / c;
      };
      expect(agreement(p)).toBeGreaterThanOrEqual(0.99);
      expect(agreement(p - 1)).toBeLessThan(0.99);
      expect(lines.join('\n')).toMatch(/IVF \(50 cells\) index built/);
      expect(lines.join('\n')).toMatch(/calibrated on 1024 rows: probes \d+ agrees/);
    } finally {
      await s.close();
    }
    // a fixed probe count skips calibration
    const f = await NearestSearch.open(vectors.subarray(0, KEEP * dim), KEEP, dim, { threads: 0, seed: 2, queries: nq, normalize: true }, { search: 'approx', cells: 50, probes: 50 });
    try {
      const r = await f.search(queries, 500);
      expect(r.index.every((x) => x >= 0)).toBe(true);
      expect((await f.verify())!.agreement).toBe(1);
      expect(f.reportEntry().calibration).toBeUndefined();
    } finally {
      await f.close();
    }
  });

  it('the index follows its options: HNSW-only options select hnsw, options of the other index are refused', () => {
    expect(indexKind({})).toBe('ivf');
    expect(indexKind({ cells: 10, probes: 2 })).toBe('ivf');
    expect(indexKind({ ef: 32 })).toBe('hnsw');
    expect(indexKind({ connectivity: 8 })).toBe('hnsw');
    expect(indexKind({ index: 'hnsw' })).toBe('hnsw');
    expect(() => checkSearchOptions({ index: 'ivf', ef: 32 })).toThrow(UsageError);
    expect(() => checkSearchOptions({ index: 'ivf', ef: 32 })).toThrow(/ef does not apply to the ivf index/);
    expect(() => checkSearchOptions({ ef: 32, probes: 4 })).toThrow(/probes does not apply to the hnsw index/);
    expect(() => checkSearchOptions({ probes: 0 })).toThrow(/probes must be an integer in \[1, 512\]/);
    expect(() => checkSearchOptions({ cells: 100, probes: 8 })).not.toThrow();
  });

  it('prune --search approx uses the IVF index unless --search-index hnsw; both map the same words as exact search nearly everywhere', () => {
    const maps: Record<string, string[]> = {};
    for (const kind of ['exact', 'ivf', 'hnsw']) {
      const report = path.join(dir, `${kind}.json`);
      const map = path.join(dir, `${kind}.tsv`);
      // hnsw on one thread: usearch's graph built on several threads differs from run to run (one CI
      // run in many fell under the 98% verification bar); on one thread it is the same every time
      const search = kind === 'exact' ? ['--search', 'exact'] : ['--search', 'approx', ...(kind === 'hnsw' ? ['--search-index', 'hnsw', '--threads', '1'] : [])];
      const r = runCli(['prune', EXAMPLE, '-o', path.join(dir, `${kind}.txt`), '--keep', String(KEEP), '--mapping', map, '--report', report, ...search]);
      expect(r.code, r.stderr).toBe(0);
      const rep = JSON.parse(fs.readFileSync(report, 'utf8')) as { search: { mode: string; index?: { name: string } } };
      if (kind === 'exact') expect(rep.search.mode).toBe('exact');
      else expect(rep.search.index!.name).toMatch(kind === 'ivf' ? /^ivf$/ : /usearch/);
      maps[kind] = fs.readFileSync(map, 'utf8').split('\n');
    }
    for (const kind of ['ivf', 'hnsw']) {
      const same = maps[kind]!.filter((l, i) => l === maps.exact![i]).length;
      expect(same / maps.exact!.length).toBeGreaterThan(0.98);
    }
    const bad = runCli(['prune', EXAMPLE, '-o', path.join(dir, 'x.txt'), '--keep', '10', '--search-index', 'lsh']);
    expect(bad.code).toBe(2);
  });
});
