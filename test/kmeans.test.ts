/**
 * k-means pruning (issue 5). The real model is examples/gcide-small.vec (8,661 words x 25 dims,
 * fastText skipgram on GCIDE text, sorted by frequency); reference values are computed here by
 * brute force in float64 from the input file, never copied from our own output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { loadModel, maxAbsDiff, row, type Loaded } from './helpers/models.js';
import { runGraph } from '../cli/graph.js';
import { pruneGraph, type PruneArgs } from '../cli/commands/prune.js';
import type { RunContext } from '../pipeline/context.js';
import { trainKMeans } from '../stages/kmeans/train.js';
import { PrioritySample } from '../stages/kmeans/sample.js';
import { Rng } from '../stages/kernels/random.js';
import { dotBlock } from '../stages/kernels/dots.js';
import { kmeansPlusPlus } from '../stages/kernels/kmeanspp.js';
import { miniBatchUpdate } from '../stages/kernels/kmeans-update.js';
import { normalizeRows } from '../stages/kernels/normalize.js';

const MODEL = path.join(ROOT, 'examples', 'gcide-small.vec');
let model: Loaded;
let dir: string;

beforeAll(async () => {
  model = await loadModel(MODEL);
  dir = tmpDir('pp-kmeans-');
});

function args(over: Partial<PruneArgs>): PruneArgs {
  return { input: MODEL, output: path.join(dir, 'out.txt'), keep: 1000, method: 'kmeans', layout: 'expanded', quiet: true, ...over } as PruneArgs;
}

async function prune(over: Partial<PruneArgs>, threads = 2): Promise<RunContext> {
  return runGraph(pruneGraph(args(over)), { quiet: true, threads, seed: over.seed ?? 1 });
}

function unit64(v: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s) || 1;
  return Float64Array.from(v as ArrayLike<number>, (x) => x / n);
}

function cos64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? s / Math.sqrt(na * nb) : 0;
}

function readMapping(file: string): Map<string, { label: string; cos: number }> {
  const m = new Map<string, { label: string; cos: number }>();
  for (const line of fs.readFileSync(file, 'latin1').split('\n')) {
    if (!line) continue;
    const [w, l, c] = line.split('\t');
    m.set(w!, { label: l!, cos: Number(c) });
  }
  return m;
}

/** Unit rows of the whole model (float32, as the trainer takes them). */
function unitRows(m: Loaded): Float32Array {
  return normalizeRows(m.vectors.slice(), m.words.length, m.dim);
}

describe('kernels', () => {
  it('the dot-product block equals plain dot products for every shape of remainder', () => {
    const rng = new Rng(5);
    for (const [nc, rows, dim] of [
      [7, 13, 5],
      [4, 2, 3],
      [1, 1, 1],
      [9, 8, 25],
    ] as const) {
      const c = Float32Array.from({ length: nc * dim }, () => rng.next() - 0.5);
      const p = Float32Array.from({ length: rows * dim }, () => rng.next() - 0.5);
      const out = new Float32Array(nc * rows);
      dotBlock(c, nc, p, rows, dim, out);
      for (let a = 0; a < nc; a++) {
        for (let i = 0; i < rows; i++) {
          let s = 0;
          for (let k = 0; k < dim; k++) s += c[a * dim + k]! * p[i * dim + k]!;
          expect(Math.abs(out[a * rows + i]! - s)).toBeLessThan(1e-6);
        }
      }
    }
  });

  it('k-means++ never picks a row twice and spreads over tight, distant groups', () => {
    // 4 groups of 10 identical rows along the axes: 4 seeds must land in 4 different groups.
    const d = 4;
    const pts = new Float32Array(40 * d);
    for (let i = 0; i < 40; i++) pts[i * d + (i % 4)] = 1;
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Rng(seed);
      const picks = kmeansPlusPlus(pts, 40, d, 4, () => rng.next());
      expect(new Set(Array.from(picks)).size).toBe(4);
      expect(new Set(Array.from(picks, (p) => p % 4)).size).toBe(4);
    }
    // More centres than distinct rows: falls back to unchosen rows, still no repeats.
    const rng = new Rng(3);
    const picks = kmeansPlusPlus(pts, 40, d, 6, () => rng.next());
    expect(new Set(Array.from(picks)).size).toBe(6);
  });

  it('the mini-batch update makes each centre the running weighted mean of its points', () => {
    const d = 3;
    const centres = new Float32Array(2 * d);
    const unit = new Float32Array(2 * d);
    const counts = new Float64Array(2);
    const pts = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0]);
    const assign = Int32Array.from([0, 0, 1, 1]);
    const w = [1, 3, 2, 2];
    miniBatchUpdate(centres, unit, counts, pts, 4, d, assign, w, new Uint8Array(2));
    expect(Array.from(counts)).toEqual([4, 4]);
    expect(maxAbsDiff(centres.subarray(0, 3), [0.25, 0.75, 0])).toBeLessThan(1e-7);
    expect(maxAbsDiff(centres.subarray(3, 6), [0.5, 0.5, 0.5])).toBeLessThan(1e-7);
    expect(maxAbsDiff(unit.subarray(3, 6), unit64([1, 1, 1]))).toBeLessThan(1e-7);
  });

  it('priority sampling: equal weights give a uniform sample, heavy rows are always in', () => {
    const d = 2;
    const rng = new Rng(7);
    const hits = new Float64Array(100);
    for (let rep = 0; rep < 400; rep++) {
      const s = new PrioritySample(10, d);
      for (let r = 0; r < 100; r++) s.offer(r, `w${r}`, Float32Array.from([r + 1, 1]), 0, 1, rng.nextOpen());
      const out = s.finish();
      expect(out.n).toBe(10);
      for (const r of out.rows) hits[r]!++;
      // Rows come back in input order with their own word, vector and norm.
      for (let i = 0; i < out.n; i++) {
        const r = out.rows[i]!;
        if (i > 0) expect(r).toBeGreaterThan(out.rows[i - 1]!);
        expect(out.words[i]).toBe(`w${r}`);
        expect(Array.from(out.vectors.subarray(i * d, (i + 1) * d))).toEqual([r + 1, 1]);
        expect(out.norms[i]).toBeCloseTo(Math.hypot(r + 1, 1), 4);
      }
      // Estimate weights sum to about the number of rows offered.
      expect(out.estimates.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    }
    // Each row's inclusion rate is 10% in expectation: 40 of 400 runs (binomial sd ~6).
    expect(Math.min(...hits)).toBeGreaterThan(15);
    expect(Math.max(...hits)).toBeLessThan(70);
    const s = new PrioritySample(5, d);
    for (let r = 0; r < 1000; r++) s.offer(r, `w${r}`, Float32Array.from([1, 0]), 0, r < 3 ? 1e9 : 1, rng.nextOpen());
    const out = s.finish();
    expect(Array.from(out.rows.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(out.estimates[0]).toBe(1e9);
    // The sample's total estimate weight is close to the true total (3e9 + 997).
    expect(Math.abs(out.estimates.reduce((a, b) => a + b, 0) - (3e9 + 997)) / (3e9 + 997)).toBeLessThan(1e-5);
  });
});

describe('training', () => {
  it('k = 1 gives the normalised mean of the unit rows', () => {
    const n = model.words.length;
    const d = model.dim;
    const x = unitRows(model);
    const r = trainKMeans(x, n, d, undefined, { k: 1, seed: 5 });
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
    expect(maxAbsDiff(r.centroids, unit64(mean))).toBeLessThan(1e-5);
    // Weighted: the normalised weighted mean.
    const w = Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
    const rw = trainKMeans(x, n, d, w, { k: 1, seed: 5 });
    const wm = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) wm[j]! += w[i]! * x[i * d + j]!;
    expect(maxAbsDiff(rw.centroids, unit64(wm))).toBeLessThan(1e-5);
  });

  it('recovers well-separated synthetic clusters exactly, flat and in cells', () => {
    // Cluster centres are random unit directions in 32 dims, no two closer than cosine 0.9; the
    // cell case groups them around 5 distant directions (8 clusters each), so that the cells
    // themselves are well separated. Points: centre + Gaussian noise, normalised.
    const d = 32;
    const rng = new Rng(11);
    const gauss = () => Math.sqrt(-2 * Math.log(rng.nextOpen())) * Math.cos(2 * Math.PI * rng.next());
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const cases = [
      { groups: 12, per: 1, offset: 0, noise: 0.03, cellCentres: Infinity, seeds: [1, 2, 3] },
      { groups: 5, per: 8, offset: 0.6, noise: 0.01, cellCentres: 8, seeds: [1, 2, 3] },
    ];
    for (const c of cases) {
      const clusters = c.groups * c.per;
      const groups: Float64Array[] = [];
      while (groups.length < c.groups) {
        const g = unit64(Array.from({ length: d }, gauss));
        if (groups.every((h) => dot(g, h) < 0.5)) groups.push(g);
      }
      const centres: Float64Array[] = [];
      while (centres.length < clusters) {
        const g = groups[centres.length % c.groups]!;
        const u = unit64(Array.from({ length: d }, gauss));
        const v = c.offset > 0 ? unit64(g.map((x, j) => x + c.offset * u[j]!)) : g;
        if (centres.every((h) => dot(v, h) < 0.9)) centres.push(v);
      }
      const per = 30;
      const n = clusters * per;
      const x = new Float32Array(n * d);
      const truth = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const t = (i * 7) % clusters;
        truth[i] = t;
        for (let j = 0; j < d; j++) x[i * d + j] = centres[t]![j]! + c.noise * gauss();
      }
      normalizeRows(x, n, d);
      for (const seed of c.seeds) {
        const r = trainKMeans(x, n, d, undefined, { k: clusters, seed, cellCentres: c.cellCentres, batchSize: 64 });
        expect(r.cells).toBe(c.cellCentres === Infinity ? 1 : c.groups);
        // The partition is the true one: a bijection between true clusters and centres.
        const toCentre = new Map<number, number>();
        for (let i = 0; i < n; i++) {
          const prev = toCentre.get(truth[i]!);
          if (prev === undefined) toCentre.set(truth[i]!, r.assign[i]!);
          else expect(r.assign[i]).toBe(prev);
        }
        expect(new Set(toCentre.values()).size).toBe(clusters);
        // And each centre is its cluster's normalised mean (the final Lloyd step).
        for (const [t, j] of toCentre) {
          const mean = new Float64Array(d);
          for (let i = 0; i < n; i++) if (truth[i] === t) for (let q = 0; q < d; q++) mean[q]! += x[i * d + q]!;
          expect(maxAbsDiff(r.centroids.subarray(j * d, (j + 1) * d), unit64(mean))).toBeLessThan(1e-5);
        }
      }
    }
  });

  it('same seed, same centres; another seed, other centres', () => {
    const n = model.words.length;
    const x = unitRows(model);
    const a = trainKMeans(x, n, model.dim, undefined, { k: 300, seed: 9, cellCentres: 64 });
    const b = trainKMeans(x, n, model.dim, undefined, { k: 300, seed: 9, cellCentres: 64 });
    const c = trainKMeans(x, n, model.dim, undefined, { k: 300, seed: 10, cellCentres: 64 });
    expect(a.cells).toBeGreaterThan(1);
    expect(Buffer.from(a.centroids.buffer).equals(Buffer.from(b.centroids.buffer))).toBe(true);
    expect(Buffer.from(a.centroids.buffer).equals(Buffer.from(c.centroids.buffer))).toBe(false);
  });
});

describe('prune --method kmeans', () => {
  it('is deterministic: same seed, same output files; another seed, another output', async () => {
    const outs: Buffer[] = [];
    for (const seed of [4, 4, 5]) {
      const o = path.join(dir, `det-${outs.length}.txt`);
      await prune({ output: o, seed, keep: 800, forceKeep: 200 });
      outs.push(fs.readFileSync(o));
    }
    expect(outs[0]!.equals(outs[1]!)).toBe(true);
    expect(outs[0]!.equals(outs[2]!)).toBe(false);
  });

  it('maps every word to its most similar row among all N (brute force), force-kept words to themselves', async () => {
    const mapFile = path.join(dir, 'bf.tsv');
    const ctx = await prune({ keep: 1000, forceKeep: 300, mapping: mapFile, search: 'exact' });
    const kept = ctx.kept!;
    expect(kept.size).toBe(1000);
    const d = model.dim;
    const map = readMapping(mapFile);
    const labelRow = new Map<string, number>();
    for (let j = 0; j < kept.size; j++) labelRow.set(kept.labels[j]!, j);
    expect(labelRow.size).toBe(kept.size);
    const rows = Array.from({ length: kept.size }, (_, j) => unit64(kept.row(j)));
    let checked = 0;
    for (let i = 0; i < model.words.length; i++) {
      const w = model.words[i]!;
      if (i < 300) {
        // Force-kept: its own row, exactly its input vector, not in the mapping.
        expect(kept.labels[i]).toBe(w);
        expect(Array.from(kept.row(i))).toEqual(Array.from(row(model, i)));
        expect(map.has(w)).toBe(false);
        continue;
      }
      const u = unit64(row(model, i));
      let best = -Infinity;
      let bestJ = -1;
      for (let j = 0; j < kept.size; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += u[t]! * rows[j]![t]!;
        if (s > best) {
          best = s;
          bestJ = j;
        }
      }
      const got = map.get(w)!;
      expect(got, w).toBeDefined();
      const gotJ = labelRow.get(got.label)!;
      // Same row, or a tie within float32 rounding.
      if (gotJ !== bestJ) {
        let s = 0;
        for (let t = 0; t < d; t++) s += u[t]! * rows[gotJ]![t]!;
        expect(best - s, w).toBeLessThan(1e-6);
      }
      expect(Math.abs(got.cos - best)).toBeLessThan(2e-6);
      checked++;
    }
    expect(checked).toBe(model.words.length - 300);
  });

  it('--force-keep words keep their exact vectors in the output; by counts when counts are given', async () => {
    // Counts file that reverses the frequency order: the last 50 words are the most frequent.
    const n = model.words.length;
    const counts = path.join(dir, 'counts.tsv');
    fs.writeFileSync(counts, Buffer.from(model.words.map((w, i) => `${w}\t${i + 1}\n`).join(''), 'latin1'));
    const out = path.join(dir, 'fk.txt');
    const ctx = await prune({ output: out, keep: 400, forceKeep: 50, counts });
    const expected = model.words.slice(n - 50).reverse();
    expect(ctx.kept!.labels.slice(0, 50)).toEqual(expected);
    const written = await loadModel(out);
    expect(written.words).toEqual(model.words);
    for (let i = n - 50; i < n; i++) expect(Array.from(row(written, i))).toEqual(Array.from(row(model, i)));
    expect((ctx.report.kmeans as { weights: string }).weights).toBe('counts');
  });

  it('k >= rows: every word keeps its own row, cosine 1.0', async () => {
    const ctx = await prune({ keep: model.words.length + 10, forceKeep: 100 });
    expect(ctx.kept!.size).toBe(model.words.length);
    expect(ctx.report.cosineAll!.min).toBe(1);
    expect(ctx.report.cosine!.n).toBe(0);
    const written = await loadModel(path.join(dir, 'out.txt'));
    expect(maxAbsDiff(written.vectors, model.vectors)).toBe(0);
  });

  it('keep 1, force-keep 0: every word maps to the normalised mean of all unit rows', async () => {
    const ctx = await prune({ keep: 1, forceKeep: 0, weights: 'none' });
    const d = model.dim;
    const mean = new Float64Array(d);
    for (let i = 0; i < model.words.length; i++) {
      const u = unit64(row(model, i));
      for (let t = 0; t < d; t++) mean[t]! += u[t]!;
    }
    expect(maxAbsDiff(unit64(ctx.kept!.row(0)), unit64(mean))).toBeLessThan(1e-5);
    const c0 = cos64(row(model, 0), mean);
    const c1 = cos64(row(model, 1), mean);
    expect(ctx.report.cosine!.min).toBeLessThanOrEqual(Math.min(c0, c1) + 1e-4);
  });

  it('--refine does not lower the weighted mean cosine (a Lloyd step on all words)', async () => {
    const base = await prune({ keep: 600, forceKeep: 100, weights: 'rank' });
    const ref = await prune({ keep: 600, forceKeep: 100, weights: 'rank', refine: true });
    expect(ref.report.cosineAll!.weightedMean).toBeGreaterThanOrEqual(base.report.cosineAll!.weightedMean - 1e-6);
    expect(ref.report.cosineAll!.mean).toBeGreaterThan(0.5);
    // Labels stay unique, and force-kept words keep their own names.
    const labels = ref.kept!.labels.slice(0, ref.kept!.size);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels.slice(0, 100)).toEqual(model.words.slice(0, 100));
  });

  it('rejects bad options with exit code 2 and a clear message', () => {
    const o = path.join(dir, 'bad.txt');
    const cases: [string[], RegExp][] = [
      [['--keep', '0'], /--keep must be a positive integer, got 0/],
      [['--keep', '100', '--force-keep', '100'], /--force-keep 100 must be less than --keep 100/],
      [['--keep', '100', '--force-keep', '20', '--sample', '50'], /--sample 50 is smaller than the 80 centroids/],
      [['--keep', '100', '--batch-size', '0'], /--batch-size must be a positive integer, got 0/],
      [['--keep', '100', '--weights', 'counts'], /--weights counts needs word counts/],
    ];
    for (const [extra, msg] of cases) {
      const r = runCli(['prune', MODEL, '-o', o, '--method', 'kmeans', ...extra]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(fs.existsSync(o)).toBe(false);
    }
  });
});
