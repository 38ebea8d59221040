/**
 * Product quantization (docs/quantization.md): the kernels against brute force and known
 * clusters; the .ftz writer against the real fastText (`print-word-vectors`, `nn`) and against our
 * own decoding of the written file; finalfusion QuantizedArray output read back by our reader and
 * equal, row for row, to the PQ reconstruction; the CLI options and their errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runGraph } from '../cli/graph.js';
import type { StageSpec } from '../cli/registry.js';
import type { RunContext } from '../pipeline/context.js';
import { UsageError } from '../pipeline/errors.js';
import { OutputFile } from '../pipeline/output.js';
import { openSource, type Source } from '../pipeline/source.js';
import { collect } from '../pipeline/stream.js';
import { openFastText, writeFtz, type FastTextModel, type QuantLayout } from '../stages/formats/fasttext/index.js';
import { FifuWriter, openFifu, writePrunedFifu, writePrunedSubwordFifu, type QuantizedArrayData, type RowQuantizer } from '../stages/formats/fifu/index.js';
import { decodeRows } from '../stages/kernels/pq-decode.js';
import { smallKmeans } from '../stages/kernels/pq-kmeans.js';
import { buildCentroidGrid, nearestCentroidsGrid } from '../stages/kernels/pq-nearest-grid.js';
import { nearestCentroids } from '../stages/kernels/pq-nearest.js';
import { nearestCentroidsSorted, sortCentroids } from '../stages/kernels/pq-nearest-sorted.js';
import { seedPlusPlus2 } from '../stages/kernels/pq-seed.js';
import { pqShape, seededRandom, type PqCodebook } from '../stages/kernels/pq-train.js';
import { quantizeNorms, quantizeRows } from '../stages/pq-quantize.js';
import { quantizeRowSources } from '../stages/pq-stream.js';
import { PQ_THREADS, type QuantizationReport } from '../stages/serialize-quantized.js';
import { fasttextBuckets } from '../stages/subwords/fasttext-hash.js';
import { runCli } from './helpers/cli.js';
import { fasttextNN, fasttextVectors, printedGap } from './helpers/fasttext-peer.js';
import { HAVE_FASTTEXT, ROOT, tmpDir } from './helpers/fixtures.js';

const SMALL = path.join(ROOT, 'examples', 'gcide-small.bin');
const SMALL_VEC = path.join(ROOT, 'examples', 'gcide-small.vec');
const dir = tmpDir('pp-pq-');
if (!HAVE_FASTTEXT) console.warn('skipping fastText peer checks: the fasttext binary is not installed');

const sources: Source[] = [];
const models: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const m of models) await m.close();
  for (const s of sources) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function ft(file: string): Promise<FastTextModel> {
  const s = await openSource(file);
  sources.push(s);
  const m = await openFastText(s);
  models.push(m);
  return m;
}

async function run(input: string, stages: StageSpec[]): Promise<RunContext> {
  return runGraph({ input, stages: [{ stage: 'parse' }, ...stages] }, { quiet: true, threads: 1 });
}

/** parse, rank (top N by counts), subword-scan, subword-collapse, serialize. */
function subwordRun(out: string, keep: number, serialize: Record<string, unknown>, collapse: Record<string, unknown> = {}): StageSpec[] {
  return [{ stage: 'rank', keep }, { stage: 'subword-scan' }, { stage: 'subword-collapse', ...collapse }, { stage: 'serialize', output: out, ...serialize } as StageSpec];
}

function cos(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, dim: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let d = 0; d < dim; d++) {
    ab += a[ao + d]! * b[bo + d]!;
    aa += a[ao + d]! * a[ao + d]!;
    bb += b[bo + d]! * b[bo + d]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Every word of a model with its vector (a pass of our reader). */
async function allVectors(m: FastTextModel): Promise<{ words: string[]; vectors: Float32Array }> {
  const bs = await collect(m.pass({ batchRows: 1024 }));
  const words = bs.flatMap((b) => b.words);
  const vectors = new Float32Array(words.length * m.dim);
  let o = 0;
  for (const b of bs) {
    vectors.set(b.vectors, o);
    o += b.vectors.length;
  }
  return { words, vectors };
}

/** Exactly equal as numbers (+0 and -0 alike). */
function sameNumbers(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------

describe('PQ kernels', () => {
  test('the sorted nearest-centroid search gives the brute-force codes and distances, ties to the lower index', () => {
    const rnd = seededRandom(3);
    for (const d of [1, 2, 3, 5]) {
      for (const k of [1, 7, 256]) {
        const n = 500;
        const x = Float32Array.from({ length: n * d }, () => Math.fround(rnd() * 2 - 1));
        const c = Float32Array.from({ length: k * d }, () => Math.fround(rnd() * 2 - 1));
        // duplicated centroids and points sitting exactly on centroids: ties
        if (k > 3) c.copyWithin(2 * d, 0, d);
        for (let i = 0; i < Math.min(k, 20); i++) x.set(c.subarray(i * d, i * d + d), i * d);
        const a = new Int32Array(n);
        const b = new Int32Array(n);
        const da = new Float64Array(n);
        const db = new Float64Array(n);
        const ta = nearestCentroids(x, 0, d, n, d, c, 0, k, a, 0, 1, da);
        const tb = nearestCentroidsSorted(x, 0, d, n, sortCentroids(c, 0, k, d), b, 0, 1, db);
        expect(Array.from(b), `d ${d} k ${k}`).toEqual(Array.from(a));
        expect(Array.from(db)).toEqual(Array.from(da));
        expect(tb).toBe(ta);
        if (k > 3) expect(a[2]).toBe(0); // a point on centroid 2 = centroid 0: the lower index
      }
    }
  });

  test('the grid search (2-dim) gives the brute-force codes and distances: clustered and uniform centroids, ties, points outside the grid', () => {
    const rnd = seededRandom(4);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const n = 20000;
    for (const [shape, k, g] of [['gauss', 256, 64], ['uniform', 256, 128], ['gauss', 7, 8], ['uniform', 1, 4]] as const) {
      const draw = () => Math.fround(shape === 'gauss' ? gauss() * 0.05 : rnd() * 2 - 1);
      const c = Float32Array.from({ length: k * 2 }, draw);
      if (k > 3) c.copyWithin(4, 0, 2); // centroid 2 = centroid 0
      // queries drawn wider than the centroids (some outside the grid), some on centroids, some on a lattice
      const x = Float32Array.from({ length: n * 2 }, () => Math.fround(draw() * 1.5));
      for (let i = 0; i < Math.min(k, 20); i++) x.set(c.subarray(2 * i, 2 * i + 2), 2 * i);
      for (let i = 100; i < 600; i++) {
        x[2 * i] = Math.fround(((i % 25) - 12) / 100);
        x[2 * i + 1] = Math.fround((Math.floor(i / 25) - 12) / 100);
      }
      const a = new Int32Array(n);
      const b = new Int32Array(n);
      const da = new Float64Array(n);
      const db = new Float64Array(n);
      const ta = nearestCentroids(x, 0, 2, n, 2, c, 0, k, a, 0, 1, da);
      const grid = buildCentroidGrid(c, 0, k, g);
      const tb = nearestCentroidsGrid(x, 0, 2, n, grid, b, 0, 1, db);
      expect(Array.from(b), `${shape} k ${k}`).toEqual(Array.from(a));
      expect(Array.from(db)).toEqual(Array.from(da));
      expect(tb).toBe(ta);
      if (k > 3) expect(a[2]).toBe(0);
      let outside = 0;
      for (let i = 0; i < n; i++) if (x[2 * i]! < grid.x0 || x[2 * i]! > grid.x1 || x[2 * i + 1]! < grid.y0 || x[2 * i + 1]! > grid.y1) outside++;
      if (k > 1) expect(outside, 'some queries take the fallback').toBeGreaterThan(0);
      // few candidates per cell: the point of the grid
      if (k === 256) expect(grid.cand.length / (g * g)).toBeLessThan(8);
    }
  });

  test('k-means on 2-dim points: the grid search in the assignment steps gives the centroids of the sorted and brute-force searches', () => {
    const rnd = seededRandom(6);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    for (const [n, k] of [[20000, 256], [3000, 40]] as const) {
      // a heavy tail and a grid of exact duplicates (ties)
      const pts = Float32Array.from({ length: 2 * n }, (_, i) => (i < 400 ? Math.floor(i / 20) / 4 : gauss() * (rnd() < 0.05 ? 0.3 : 0.05)));
      const runs = (['fast', 'sorted', 'brute'] as const).map((search) => smallKmeans(pts, n, 2, k, { random: seededRandom(2), iterations: 12, trials: 1, search }));
      for (const r of runs.slice(1)) {
        expect(Array.from(r.centroids)).toEqual(Array.from(runs[0]!.centroids));
        expect(r.distortion).toBe(runs[0]!.distortion);
        expect(r.iterations).toBe(runs[0]!.iterations);
      }
    }
  });

  test('k-means++ seeding on 2-dim points: distinct points of the set, spread over the clusters, the same for the same stream', () => {
    const rnd = seededRandom(8);
    const pts = new Float32Array(2 * 4000);
    // 16 tight clusters, one of them 20 times denser than the others
    for (let i = 0; i < 4000; i++) {
      const cl = i < 2000 ? 0 : 1 + (i % 15);
      pts[2 * i] = Math.fround((cl % 4) * 10 + rnd() * 0.01);
      pts[2 * i + 1] = Math.fround(Math.floor(cl / 4) * 10 + rnd() * 0.01);
    }
    const C = new Float32Array(2 * 16);
    seedPlusPlus2(pts, 4000, 16, seededRandom(1), C, 1);
    const key = (x: number, y: number) => `${x},${y}`;
    const all = new Set(Array.from({ length: 4000 }, (_, i) => key(pts[2 * i]!, pts[2 * i + 1]!)));
    const hit = new Set<number>();
    for (let c = 0; c < 16; c++) {
      expect(all.has(key(C[2 * c]!, C[2 * c + 1]!))).toBe(true);
      hit.add(Math.round(C[2 * c]! / 10) + 4 * Math.round(C[2 * c + 1]! / 10));
    }
    // k-means++ puts one centroid in each far-apart cluster (a uniform draw would crowd the dense one)
    expect(hit.size).toBe(16);
    const again = new Float32Array(2 * 16);
    seedPlusPlus2(pts, 4000, 16, seededRandom(1), again, 3);
    expect(new Set(Array.from({ length: 16 }, (_, c) => Math.round(again[2 * c]! / 10) + 4 * Math.round(again[2 * c + 1]! / 10))).size).toBe(16);
    const same = new Float32Array(2 * 16);
    seedPlusPlus2(pts, 4000, 16, seededRandom(1), same, 1);
    expect(Array.from(same)).toEqual(Array.from(C));
    // duplicates only: every distinct point becomes a centroid
    const dup = Float32Array.from({ length: 2 * 300 }, (_, i) => (i >> 1) % 5);
    const D = new Float32Array(2 * 8);
    seedPlusPlus2(dup, 300, 8, seededRandom(2), D, 1);
    expect(new Set(Array.from({ length: 8 }, (_, c) => D[2 * c])).size).toBe(5);
  });

  test('k-means finds 64 well-separated clusters; fewer distinct points than centroids give distortion 0', () => {
    const rnd = seededRandom(5);
    const centres: number[][] = [];
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) centres.push([i, j]);
    const per = 40;
    const sigma = 0.01;
    const pts = new Float32Array(64 * per * 2);
    let p = 0;
    for (const [cx, cy] of centres) {
      for (let t = 0; t < per; t++) {
        pts[p++] = cx! + sigma * (rnd() * 2 - 1);
        pts[p++] = cy! + sigma * (rnd() * 2 - 1);
      }
    }
    const r = smallKmeans(pts, 64 * per, 2, 64, { random: seededRandom(1) });
    // uniform noise in [-sigma, sigma]^2: variance 2 sigma^2 / 3 per point
    expect(r.distortion).toBeLessThan(2 * ((2 * sigma * sigma) / 3));
    for (const [cx, cy] of centres) {
      let best = Infinity;
      for (let c = 0; c < 64; c++) best = Math.min(best, Math.hypot(r.centroids[2 * c]! - cx!, r.centroids[2 * c + 1]! - cy!));
      expect(best).toBeLessThan(3 * sigma);
    }
    const few = Float32Array.from({ length: 1000 }, (_, i) => i % 10);
    const f = smallKmeans(few, 1000, 1, 256, { random: seededRandom(1) });
    expect(f.distortion).toBe(0);
    const tiny = smallKmeans(Float32Array.of(1, 2, 3, 4), 2, 2, 256, { random: seededRandom(1) });
    expect(Array.from(tiny.centroids.subarray(0, 4))).toEqual([1, 2, 3, 4]);
  });

  test('quantizer shapes: fastText splits any dimension, finalfusion needs sub-vectors of one size', () => {
    expect(pqShape(25)).toEqual({ nsubq: 13, dsub: 2, lastdsub: 1 });
    expect(pqShape(100, { nsubq: 20 })).toEqual({ nsubq: 20, dsub: 5, lastdsub: 5 });
    expect(pqShape(25, { dsub: 4 })).toEqual({ nsubq: 7, dsub: 4, lastdsub: 1 });
    expect(() => pqShape(25, { even: true })).toThrow(/not a multiple of the sub-vector size 2/);
    expect(() => pqShape(100, { nsubq: 30 })).toThrow(/cannot split dimension 100/);
    expect(() => pqShape(10, { dsub: 11 })).toThrow(/from 1 to the dimension 10/);
  });

  test('encoding picks the nearest centroid of every sub-vector; decoding concatenates the centroids (times the norm with qnorm)', () => {
    const rnd = seededRandom(9);
    const dim = 7;
    const n = 600;
    const x = Float32Array.from({ length: n * dim }, () => rnd() * 2 - 1);
    for (const qnorm of [false, true]) {
      const r = quantizeRows([{ data: x.subarray(0, 250 * dim), rows: 250 }, { data: x.subarray(250 * dim), rows: 350 }], dim, { dsub: 3, qnorm, sample: 400, seed: 2 });
      const cb = r.codebook;
      expect([cb.nsubq, cb.dsub, cb.lastdsub, cb.k]).toEqual([3, 3, 1, 256]);
      expect(r.sampled).toBe(400);
      const out = new Float32Array(n * dim);
      decodeRows(cb, r.codes, 0, n, out, 0, r.norms);
      for (let t = 0; t < n; t += 37) {
        const norm = qnorm ? r.norms![t]! : 1;
        if (qnorm) expect(norm).toBeCloseTo(Math.hypot(...x.subarray(t * dim, (t + 1) * dim)), 5);
        for (let m = 0; m < cb.nsubq; m++) {
          const d = m === cb.nsubq - 1 ? cb.lastdsub : cb.dsub;
          const code = r.codes[t * cb.nsubq + m]!;
          // decoded = norm x centroid, rounded to float32
          for (let j = 0; j < d; j++) expect(out[t * dim + m * 3 + j]).toBe(Math.fround(Math.fround(norm) * cb.centroids[m * 256 * 3 + code * d + j]!));
          // no centroid is nearer to the (unit) sub-vector
          const sub = Array.from({ length: d }, (_, j) => x[t * dim + m * 3 + j]! / (qnorm ? norm : 1));
          const dist = (c: number) => sub.reduce((s, v, j) => s + (v - cb.centroids[m * 256 * 3 + c * d + j]!) ** 2, 0);
          for (let c = 0; c < 256; c++) expect(dist(c)).toBeGreaterThanOrEqual(dist(code) - 1e-6);
        }
      }
    }
    const norms = Float32Array.from({ length: 1000 }, (_, i) => 1 + (i % 300) / 100);
    const { levels, codes } = quantizeNorms(norms);
    expect(levels.length).toBe(256);
    for (let i = 0; i < 1000; i++) expect(Math.abs(levels[codes[i]!]! - norms[i]!)).toBeLessThan(0.01);
  });
});

test('training and encoding on worker threads give the bits of one thread, rows in memory or read as they go', async () => {
  const rnd = seededRandom(11);
  const dim = 30;
  const n = 9000;
  const x = Float32Array.from({ length: n * dim }, () => Math.fround((rnd() + rnd() + rnd() - 1.5) * (1 + (rnd() < 0.1 ? 5 : 0))));
  const o = { qnorm: true, sample: 3000, iterations: 4, seed: 3 };
  const memory = [{ data: x.subarray(0, 2000 * dim), rows: 2000 }, { data: x.subarray(2000 * dim), rows: n - 2000 }];
  const streamed = [
    memory[0]!,
    { rows: n - 2000, read: async (rows: Int32Array, fn: (k: number, data: Float32Array, offset: number) => void) => rows.forEach((r, k) => fn(k, x, (2000 + r) * dim)) },
  ];
  const one = await quantizeRowSources(memory, dim, o, 0);
  const sync = quantizeRows(memory, dim, o);
  for (const [name, r] of [['2 threads, in memory', await quantizeRowSources(memory, dim, o, 2)], ['3 threads, streamed', await quantizeRowSources(streamed, dim, o, 3)], ['quantizeRows', sync]] as const) {
    expect(Buffer.from(r.codebook.centroids.buffer).equals(Buffer.from(one.codebook.centroids.buffer)), name).toBe(true);
    expect(Buffer.from(r.codes).equals(Buffer.from(one.codes)), name).toBe(true);
    expect(Array.from(r.norms!), name).toEqual(Array.from(one.norms!));
    expect(r.mse, name).toBeCloseTo(one.mse, 12); // summed by blocks of other sizes: the last bits may differ
  }
  // and the codes are the nearest centroids (spot check against brute force on sub-space 3)
  const cb = one.codebook;
  const sub = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) sub[2 * i + j] = x[i * dim + 6 + j]! / one.norms![i]!;
  const want = new Int32Array(n);
  nearestCentroids(sub, 0, 2, n, 2, cb.centroids, 3 * 256 * 2, 256, want, 0, 1);
  let same = 0;
  for (let i = 0; i < n; i++) if (one.codes[i * cb.nsubq + 3] === want[i]) same++;
  expect(same).toBeGreaterThan(n * 0.999); // the unit rows are divided in float32 before encoding: a rare rounding tie may differ
});

// ---------------------------------------------------------------------------------------------

/** Our fastText reader's decoding of every input row equals decodeRows of the codes written. */
describe('.ftz writer (library)', () => {
  test('the input rows fastText reads back are the decoded codes, with and without norm quantization', async () => {
    const src = await ft(SMALL);
    const dim = src.dim;
    const N = 300;
    const words = src.dictionary.words.slice(0, N);
    const used = [...new Set(words.slice(1).flatMap((w) => fasttextBuckets(w, src.args.minn, src.args.maxn, src.args.bucket)))].sort((a, b) => a - b);
    const wordRows = await src.readInputRows(0, N);
    const ngramRows = new Float32Array(used.length * dim);
    for (let i = 0; i < used.length; i++) ngramRows.set(await src.readTableRows(used[i]!, 1), i * dim);
    for (const qnorm of [false, true]) {
      const r = quantizeRows([{ data: wordRows, rows: N }, { data: ngramRows, rows: used.length }], dim, { qnorm, sample: 2000, iterations: 10 });
      const nq = qnorm ? quantizeNorms(r.norms!) : undefined;
      const file = path.join(dir, `lib-${qnorm}.ftz`);
      const out = await OutputFile.open(file);
      const outRows = await src.readOutputRows(0, N);
      await writeFtz(out, {
        args: src.args,
        dictionary: { words, counts: src.dictionary.counts.subarray(0, N), ntokens: src.dictionary.ntokens, prune: { buckets: Int32Array.from(used), rows: Int32Array.from(used, (_, i) => i) } },
        input: { rows: N + used.length, codes: r.codes, pq: r.codebook, normCodes: nq?.codes, norms: nq?.levels },
        output: { rows: N, blocks: [outRows.subarray(0, 100 * dim), outRows.subarray(100 * dim)] },
      });
      await out.commit();
      const m = await ft(file);
      expect(m.quantized).toBe(true);
      expect((m.layout.input as QuantLayout).qnorm).toBe(qnorm);
      expect(m.dictionary.words).toEqual(words);
      expect(Array.from(m.dictionary.counts)).toEqual(Array.from(src.dictionary.counts.subarray(0, N)));
      expect(m.dictionary.pruneidxSize).toBe(used.length);
      const want = decodeRows(r.codebook, r.codes, 0, N + used.length, new Float32Array((N + used.length) * dim), 0, nq ? Array.from(nq.codes, (c) => nq.levels[c]!) : undefined);
      expect(sameNumbers(await m.readInputRows(0, N + used.length), want)).toBe(true);
      expect(sameNumbers(await m.readOutputRows(0, N), outRows)).toBe(true);
      // a word's n-grams go through the pruned index to the rows written for their buckets
      const w = words[50]!;
      expect(m.indexer.indices(w)).toEqual(fasttextBuckets(w, src.args.minn, src.args.maxn, src.args.bucket).map((k) => used.indexOf(k)));
    }
  });

  test('inconsistent input is refused before anything is written', async () => {
    const src = await ft(SMALL);
    const r = quantizeRows([{ data: await src.readInputRows(0, 300), rows: 300 }], src.dim, { sample: 300, iterations: 2 });
    const out = await OutputFile.open(path.join(dir, 'bad.ftz'));
    const base = { args: src.args, dictionary: { words: src.dictionary.words.slice(0, 300), counts: src.dictionary.counts, ntokens: 1 }, output: { rows: 0, blocks: [] } };
    await expect(writeFtz(out, { ...base, input: { rows: 300, codes: r.codes, pq: r.codebook } })).rejects.toThrow(/unpruned model needs 300 \+ 2000 input rows/);
    await expect(
      writeFtz(out, { ...base, dictionary: { ...base.dictionary, prune: { buckets: [5], rows: [0] } }, input: { rows: 300, codes: r.codes, pq: r.codebook } }),
    ).rejects.toThrow(/row 0 outside the 0 n-gram rows/);
    await out.abort();
    expect(fs.existsSync(path.join(dir, 'bad.ftz'))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('prune to .ftz (fastText skipgram model, keep 1,000 of 8,661 words, 2,000 buckets, dim 25)', () => {
  const out = path.join(dir, 'small.ftz');
  const plain = path.join(dir, 'small-plain.ftz');
  const qnorm = path.join(dir, 'small-no-qnorm.ftz');
  let ctx: RunContext;
  let plainCtx: RunContext;
  const unknown = ['zebrafish', 'unhorselike', 'photosynthesizing', 'qwxz', 'antidisestablish'];

  beforeAll(async () => {
    ctx = await run(SMALL, subwordRun(out, 1000, { to: 'ftz' }));
    plainCtx = await run(SMALL, subwordRun(plain, 1000, { to: 'ftz', quantize: { compensate: false } }));
  });

  test('on worker threads (quantization and compensation) the file is the same, byte for byte', async () => {
    const pooled = path.join(dir, 'small-pooled.ftz');
    const saved = PQ_THREADS.minValues;
    PQ_THREADS.minValues = 0;
    try {
      const c = await runGraph({ input: SMALL, stages: [{ stage: 'parse' }, ...subwordRun(pooled, 1000, { to: 'ftz' })] }, { quiet: true, threads: 2 });
      expect((c.report.quantization as QuantizationReport).compensated).toBe(1000);
    } finally {
      PQ_THREADS.minValues = saved;
    }
    expect(fs.readFileSync(pooled).equals(fs.readFileSync(out))).toBe(true);
  });

  test('the file holds the kept words with their counts, the pruned index of every bucket the vocabulary uses, and is small', async () => {
    const src = await ft(SMALL);
    const m = await ft(out);
    expect(m.nwords).toBe(1000);
    expect(m.dictionary.words).toEqual(src.dictionary.words.slice(0, 1000));
    expect(Array.from(m.dictionary.counts)).toEqual(Array.from(src.dictionary.counts.subarray(0, 1000)));
    expect(m.args).toEqual(src.args);
    // subword-scan 'all': every bucket some vocabulary word uses (here all 2,000)
    const used = new Set(src.dictionary.words.slice(1).flatMap((w) => fasttextBuckets(w, src.args.minn, src.args.maxn, src.args.bucket)));
    expect(m.dictionary.pruneidxSize).toBe(used.size);
    expect(new Set(m.dictionary.pruneBuckets)).toEqual(used);
    const q = m.layout.input as QuantLayout;
    expect([q.pq.nsubq, q.pq.dsub, q.pq.lastdsub, q.rows, q.qnorm]).toEqual([13, 2, 1, 1000 + used.size, true]);
    expect(m.layout.output.rows).toBe(1000);
    expect(Array.from(await m.readOutputRows(0, 1000))).toEqual(Array.from(await src.readOutputRows(0, 1000)));
    const size = fs.statSync(out).size;
    expect(size).toBeLessThan(fs.statSync(SMALL).size / 8);
    expect(ctx.report.output!.bytes).toBe(size);
  });

  test.skipIf(!HAVE_FASTTEXT)('fastText print-word-vectors gives what our reader decodes from the file, for kept and unknown words', async () => {
    for (const file of [out, plain]) {
      const m = await ft(file);
      const { words, vectors } = await allVectors(m);
      const mine = new Map(words.map((w, i) => [w, vectors.subarray(i * m.dim, (i + 1) * m.dim)]));
      const uv = await m.vectorsFor(unknown);
      unknown.forEach((w, i) => mine.set(w, uv.subarray(i * m.dim, (i + 1) * m.dim)));
      const theirs = fasttextVectors(file, [...words.filter((w) => w !== '</s>'), ...unknown]);
      expect(theirs.size).toBe(words.length - 1 + unknown.length);
      let beyond = 0;
      let below1 = 0;
      for (const [w, t] of theirs) {
        const g = printedGap(mine.get(w)!, t);
        beyond = Math.max(beyond, g.beyondPrint);
        below1 = Math.max(below1, g.maxAbsBelow1);
      }
      // equal up to fastText's 5 printed digits (plus float32 summation order), and within 1e-5
      // wherever 5 digits resolve it
      expect(beyond).toBeLessThan(2e-6);
      expect(below1).toBeLessThanOrEqual(1e-5);
    }
  });

  test.skipIf(!HAVE_FASTTEXT)('fastText nn finds the neighbours our decoded vectors give, with the same cosines (within 1e-5)', async () => {
    const m = await ft(out);
    const { words, vectors } = await allVectors(m);
    const dim = m.dim;
    const unit = vectors.slice();
    for (let i = 0; i < words.length; i++) {
      const n = Math.hypot(...unit.subarray(i * dim, (i + 1) * dim));
      if (n > 0) for (let d = 0; d < dim; d++) unit[i * dim + d]! /= n;
    }
    const queries = ['water', 'king', 'red', 'zebrafish', 'running'];
    const qv = await m.vectorsFor(queries);
    const theirs = fasttextNN(out, queries, 10);
    expect(theirs.length).toBe(queries.length);
    queries.forEach((q, j) => {
      const qn = Math.hypot(...qv.subarray(j * dim, (j + 1) * dim));
      const score = new Map<string, number>();
      for (let i = 0; i < words.length; i++) {
        if (words[i] === q) continue;
        let s = 0;
        for (let d = 0; d < dim; d++) s += unit[i * dim + d]! * qv[j * dim + d]!;
        score.set(words[i]!, s / qn);
      }
      const ours = [...score.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
      expect(theirs[j]!.length).toBe(10);
      theirs[j]!.forEach((t, r) => {
        expect(Math.abs(score.get(t.word)! - t.score), `${q}: ${t.word}`).toBeLessThanOrEqual(1e-5);
        expect(Math.abs(ours[r]![1] - t.score), `${q}: rank ${r + 1}`).toBeLessThanOrEqual(1e-5);
      });
    });
  });

  test('the reported cosines are those of the written file against the original; compensation brings kept words closer', async () => {
    const src = await ft(SMALL);
    const orig = await allVectors(src);
    const dim = src.dim;
    // pruned, unquantized: kept words keep their vectors, the others the mean of their n-gram rows
    const table = await src.readTableRows(0, src.tableRows);
    for (const [file, c] of [[out, ctx], [plain, plainCtx]] as const) {
      const m = await ft(file);
      const got = await m.vectorsFor(orig.words);
      let kept = 0;
      let all = 0;
      let toUnq = 0;
      for (let i = 0; i < orig.words.length; i++) {
        const x = cos(orig.vectors, i * dim, got, i * dim, dim);
        all += x;
        if (i < 1000) kept += x;
      }
      const rep = c.report.quantization as QuantizationReport;
      expect(rep.cosine!.all.n).toBe(orig.words.length);
      expect(rep.cosine!.kept.n).toBe(1000);
      expect(rep.cosine!.all.mean).toBeCloseTo(all / orig.words.length, 6);
      expect(rep.cosine!.kept.mean).toBeCloseTo(kept / 1000, 6);
      expect(rep.cosine!.missing).toBe(0);
      // against the unquantized pruned model
      const pruned = orig.words.slice(1000);
      const ngramOnly = new Float32Array(pruned.length * dim);
      for (let i = 0; i < pruned.length; i++) {
        const rows = src.indexer.indices(pruned[i]!);
        for (const r of rows) for (let d = 0; d < dim; d++) ngramOnly[i * dim + d]! += table[r * dim + d]! / rows.length;
      }
      for (let i = 0; i < orig.words.length; i++) {
        toUnq += i < 1000 ? cos(orig.vectors, i * dim, got, i * dim, dim) : cos(ngramOnly, (i - 1000) * dim, got, i * dim, dim);
      }
      console.log(`${path.basename(file)}: mean cosine to the original ${(all / orig.words.length).toFixed(4)} (kept ${(kept / 1000).toFixed(4)}), to the unquantized pruned vectors ${(toUnq / orig.words.length).toFixed(4)}`);
      expect(toUnq / orig.words.length).toBeGreaterThan(0.98);
    }
    const a = (ctx.report.quantization as QuantizationReport).cosine!;
    const b = (plainCtx.report.quantization as QuantizationReport).cosine!;
    expect(a.kept.mean).toBeGreaterThan(b.kept.mean);
    expect(a.kept.mean).toBeGreaterThan(0.998);
    expect((ctx.report.quantization as QuantizationReport).compensated).toBe(1000);
  });

  test.skipIf(!HAVE_FASTTEXT)('without norm quantization (--no-pq-qnorm) through the CLI: fastText reads the codes as we do', async () => {
    const r = runCli(['prune', SMALL, '-o', qnorm, '-n', '1000', '--no-pq-qnorm', '--pq-iterations', '5', '-q', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    const m = await ft(qnorm);
    expect((m.layout.input as QuantLayout).qnorm).toBe(false);
    const words = ['the', 'water', 'king', ...unknown];
    const v = await m.vectorsFor(words);
    const theirs = fasttextVectors(qnorm, words);
    words.forEach((w, i) => {
      const g = printedGap(v.subarray(i * m.dim, (i + 1) * m.dim), theirs.get(w)!);
      expect(g.beyondPrint, w).toBeLessThan(2e-6);
      expect(g.maxAbsBelow1, w).toBeLessThanOrEqual(1e-5);
    });
  });
});

describe('prune word2vec text to .ftz (no subwords)', () => {
  test.skipIf(!HAVE_FASTTEXT)('the kept words only; fastText loads it and gives them our vectors', async () => {
    const file = path.join(dir, 'vec.ftz');
    const ctx = await run(SMALL_VEC, [{ stage: 'rank', keep: 500 }, { stage: 'assign' }, { stage: 'serialize', output: file, to: 'ftz' }]);
    expect(ctx.report.warnings.some((w) => /holds the 500 kept words only/.test(w))).toBe(true);
    const m = await ft(file);
    expect(m.nwords).toBe(500);
    expect(m.dictionary.pruneidxSize).toBe(0);
    expect(m.layout.output.rows).toBe(0);
    const { words, vectors } = await allVectors(m);
    const theirs = fasttextVectors(file, words);
    words.forEach((w, i) => expect(printedGap(vectors.subarray(i * 25, (i + 1) * 25), theirs.get(w)!).beyondPrint, w).toBeLessThan(2e-6));
    const rep = ctx.report.quantization as QuantizationReport;
    expect(rep.cosine!.kept.n).toBe(500);
    expect(rep.cosine!.missing).toBe(8661 - 500);
    expect(rep.cosine!.kept.mean).toBeGreaterThan(0.98);
  });
});

// ---------------------------------------------------------------------------------------------

/** A quantizer that also keeps what it returned, to compare the file with. */
function recording(o: { dsub?: number; qnorm?: boolean } = {}): { q: RowQuantizer; got: QuantizedArrayData[] } {
  const got: QuantizedArrayData[] = [];
  return {
    got,
    q: (rows, count, dim) => {
      const r = quantizeRows([{ data: rows, rows: count }], dim, { dsub: o.dsub ?? 5, qnorm: o.qnorm, even: true, sample: 3000, iterations: 8 });
      const d: QuantizedArrayData = { rows: count, cols: dim, quantizedLen: r.codebook.nsubq, centroids: 256, quantizers: r.codebook.centroids, norms: r.norms, codes: r.codes };
      got.push(d);
      return d;
    },
  };
}

function reconstruction(d: QuantizedArrayData): Float32Array {
  const cb: PqCodebook = { dim: d.cols, nsubq: d.quantizedLen, dsub: d.cols / d.quantizedLen, lastdsub: d.cols / d.quantizedLen, k: d.centroids, centroids: d.quantizers };
  return decodeRows(cb, d.codes, 0, d.rows, new Float32Array(d.rows * d.cols), 0, d.norms);
}

async function readBack(file: string): Promise<{ rows: Float32Array; kind: string; total: number; norms: boolean }> {
  const s = await openSource(file);
  sources.push(s);
  const f = await openFifu(s);
  const total = f.storage.rows;
  return { rows: await f.readRows(0, total), kind: f.storage.kind, total, norms: f.storage.kind === 'quantized' && f.storage.normsStart !== undefined };
}

describe('finalfusion QuantizedArray output', () => {
  test('every vocabulary scheme: the rows our reader decodes are the PQ reconstruction, bit for bit', async () => {
    const src = await ft(SMALL);
    const { words, vectors } = await allVectors(src);
    const dim = src.dim;
    for (const qnorm of [false, true]) {
      // unpruned SimpleVocab (streaming writer, rows held for the quantizer)
      let rec = recording({ qnorm });
      let file = path.join(dir, `simple-${qnorm}.fifu`);
      let out = await OutputFile.open(file);
      const w = await FifuWriter.begin(out, { dim, quantizer: rec.q });
      await w.writeRows(vectors.subarray(0, 4000 * dim), words.slice(0, 4000));
      await w.writeRows(vectors.subarray(4000 * dim), words.slice(4000));
      await w.end();
      await out.commit();
      let back = await readBack(file);
      expect([back.kind, back.total, back.norms]).toEqual(['quantized', words.length, qnorm]);
      expect(sameNumbers(back.rows, reconstruction(rec.got[0]!))).toBe(true);

      // pruned, no subwords: kept words + `<word>` entries (rows repeated for pruned words)
      rec = recording({ qnorm });
      file = path.join(dir, `pruned-${qnorm}.fifu`);
      out = await OutputFile.open(file);
      await writePrunedFifu(out, {
        dim,
        labels: words.slice(0, 300),
        vectors: vectors.subarray(0, 300 * dim),
        pruned: words.slice(300, 2000),
        prunedRows: Int32Array.from({ length: 1700 }, (_, i) => i % 300),
        quantizer: rec.q,
      });
      await out.commit();
      back = await readBack(file);
      expect(back.total).toBe(600);
      expect(sameNumbers(back.rows, reconstruction(rec.got[0]!))).toBe(true);

      // pruned subword layout: kept words + explicit n-gram table
      rec = recording({ qnorm });
      file = path.join(dir, `sub-${qnorm}.fifu`);
      out = await OutputFile.open(file);
      const ngrams = ['<th', 'the', 'he>', '<wa', 'ate', 'ter'];
      await writePrunedSubwordFifu(out, {
        dim,
        labels: words.slice(0, 300),
        vectors: vectors.subarray(0, 300 * dim),
        ngrams,
        ngramRows: [0, 1, 2, 3, 4, 0],
        ngramVectors: await src.readTableRows(0, 5),
        minN: 3,
        maxN: 3,
        quantizer: rec.q,
      });
      await out.commit();
      back = await readBack(file);
      expect(back.total).toBe(305);
      expect(sameNumbers(back.rows, reconstruction(rec.got[0]!))).toBe(true);
    }
  });

  test('prune --to fifu --quantize pq: the subword layout and the pruned layout, with the verified cosines', async () => {
    const sub = path.join(dir, 'q-sub.fifu');
    const ctx = await run(SMALL, subwordRun(sub, 1000, { to: 'fifu', quantize: { dsub: 5 } }));
    const rep = ctx.report.quantization as QuantizationReport;
    expect([rep.subquantizers, rep.dsub, rep.qnorm]).toEqual([5, 5, true]);
    expect(rep.cosine!.all.n).toBe(8661);
    // 5 bytes for 25 dims
    expect(rep.cosine!.kept.mean).toBeGreaterThan(0.93);
    expect(rep.cosine!.pruned.mean).toBeGreaterThan(0.9);
    const s = await openSource(sub);
    sources.push(s);
    const f = await openFifu(s);
    expect(f.storage.kind).toBe('quantized');
    expect(f.vocab.kind).toBe('explicit');

    const vecOut = path.join(dir, 'q-vec.fifu');
    const r = runCli(['prune', SMALL_VEC, '-o', vecOut, '-n', '1000', '--quantize', 'pq', '--pq-subquantizers', '25', '--no-pq-qnorm', '-q', '--threads', '1', '--report', path.join(dir, 'q-vec.json')]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'q-vec.json'), 'utf8'));
    expect([report.quantization.qnorm, report.quantization.dsub]).toEqual([false, 1]);
    expect(report.quantization.cosine.all.count).toBe(8661);
    expect(report.quantization.cosine.missing).toBe(0);
    expect(report.quantization.cosine.pruned.count).toBe(7661);
    expect(fs.statSync(vecOut).size).toBe(report.output.bytes);
  });

  test('options that cannot work are usage errors', async () => {
    const o = path.join(dir, 'err.out');
    const bad: [StageSpec[], RegExp][] = [
      [subwordRun(o, 100, { to: 'fifu', quantize: {} }), /--pq-dsub: dimension 25 is not a multiple of the sub-vector size 2.*divide 25: 1, 5/],
      [subwordRun(o, 100, { to: 'ftz', quantize: { dsub: 2, subquantizers: 5 } }), /not both/],
      [[{ stage: 'rank', keep: 100 }, { stage: 'subword-scan', words: 'kept' }, { stage: 'subword-collapse', unused: 'null' }, { stage: 'serialize', output: o, to: 'ftz' }], /--unused-subwords null/],
      [[{ stage: 'rank', keep: 100 }, { stage: 'assign' }, { stage: 'serialize', output: o, to: 'ftz' }], /cannot map a pruned word/],
      [subwordRun(o, 100, { to: 'w2v-text', quantize: {} }), /writes fifu or ftz/],
      [subwordRun(o + '.gz', 100, { to: 'ftz' }), /cannot be gzip-compressed/],
      [subwordRun(o, 100, { to: 'ftz', quantize: { method: 'opq' } }), /--quantize must be pq/],
    ];
    for (const [stages, msg] of bad) {
      const e = await run(SMALL, stages).catch((x: unknown) => x);
      expect(e, String(msg)).toBeInstanceOf(UsageError);
      expect((e as Error).message).toMatch(msg);
    }
    expect(fs.existsSync(o)).toBe(false);
    const r = runCli(['prune', SMALL, '-o', o, '-n', '100', '--pq-dsub', '3', '--to', 'w2v-text']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--pq-\* options need --quantize pq/);
  });
});
