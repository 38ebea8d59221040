import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { ROOT, tmpDir } from './helpers/fixtures.js';
import { UsageError } from '../pipeline/errors.js';
import type { SubwordIndexer, SubwordRows } from '../pipeline/model.js';
import { encodeDictionary, encodeHeader } from '../stages/formats/fasttext/index.js';
import { buildNgramIndex, NgramSearcher } from '../stages/kernels/ngram-candidates.js';
import { NearestPool, sharedUnitTable } from '../stages/kernels/nearest-pool.js';
import { mulberry32 } from '../stages/kernels/random.js';
import { normalizeRows } from '../stages/kernels/normalize.js';
import { checkSearchOptions, indexKind, NearestSearch } from '../stages/search.js';

const dir = tmpDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * A dense fastText .bin (format 12, minn 3, maxn 6) the way ../shared/bench/gen_ftbin.py makes its
 * benchmark models, small: words of the bundled example vocabulary, then some of them with
 * suffixes; word rows N(0, 0.15^2), n-gram rows N(0, 0.05^2) (the benchmark's 0.3 word rows at 300
 * dims are about as noisy as 0.15 at 128), so words relate only through the n-gram rows they
 * share. Returns the word count.
 */
function writeFtBin(file: string, bucket: number, dim: number, seed: number): number {
  const vec = fs.readFileSync(path.join(ROOT, 'examples', 'gcide-small.vec'), 'latin1').split('\n');
  const base = vec
    .slice(1)
    .map((l) => l.split(' ', 1)[0]!)
    .filter((w) => w && w !== '</s>')
    .slice(0, 2000);
  const words = ['</s>', ...base];
  const seen = new Set(words);
  for (const suffix of ['s', 'ing', 'ness']) {
    for (const w of base.slice(0, 700)) {
      if (!seen.has(w + suffix)) {
        seen.add(w + suffix);
        words.push(w + suffix);
      }
    }
  }
  const n = words.length;
  const r = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const input = new Float32Array((n + bucket) * dim);
  for (let i = 0; i < input.length; i++) input[i] = gauss() * (i < n * dim ? 0.15 : 0.05);
  const output = new Float32Array(n * dim);
  const i64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(v));
    return b;
  };
  fs.writeFileSync(
    file,
    Buffer.concat([
      encodeHeader({ dim, ws: 5, epoch: 5, minCount: 1, neg: 5, wordNgrams: 1, loss: 2, model: 2, bucket, minn: 3, maxn: 6, lrUpdateRate: 100, t: 1e-4 }),
      encodeDictionary({ words, counts: words.map((_, i) => 100000 - i), ntokens: 1e6 }),
      Buffer.of(0),
      i64(n + bucket),
      i64(dim),
      Buffer.from(input.buffer),
      Buffer.of(0),
      i64(n),
      i64(dim),
      Buffer.from(output.buffer),
    ]),
  );
  return n;
}

const MODEL = path.join(dir, 'gen.bin');
const KEEP = 1200;
let nwords = 0;
beforeAll(() => {
  nwords = writeFtBin(MODEL, 40000, 128, 11);
});

/** Prunes MODEL keeping KEEP words, pruned words mapped to the nearest; returns the report and the mapping text. */
function prune(name: string, extra: string[]): { report: Record<string, any>; mapping: string; output: Buffer } {
  const out = path.join(dir, `${name}.bin`);
  const map = path.join(dir, `${name}.tsv`);
  const rep = path.join(dir, `${name}.json`);
  const r = runCli(['prune', MODEL, '-o', out, '--keep', String(KEEP), '--pruned-words', 'nearest', '--mapping', map, '--report', rep, '-q', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { report: JSON.parse(fs.readFileSync(rep, 'utf8')), mapping: fs.readFileSync(map, 'utf8'), output: fs.readFileSync(out) };
}

describe('ngram candidate index on a generated fastText model', () => {
  const ngram = ['--search', 'approx', '--search-index', 'ngram', '--min-agreement', '0'];

  it('agrees with exact search on most pruned words, and says so in the report', () => {
    const exact = prune('exact', ['--search', 'exact']);
    const approx = prune('ngram', [...ngram, '--verify-sample', '100000']);
    const s = approx.report.search;
    expect(s.mode).toBe('approx');
    expect(s.index.name).toBe('ngram');
    expect(s.index.weights).toBe('row norms');
    expect(s.index.postings).toBeGreaterThan(KEEP * 10);
    expect([16, 32, 64, 128, 256]).toContain(s.index.shortlist);
    // the sample holds every pruned word (verify-sample larger than their count) but the first
    // 1024, which calibration answered exactly
    expect(s.verify.sample).toBe(nwords - KEEP - 1024);
    // measured: 0.771 (mean cosine lost 0.0112) at the calibrated shortlist of 32, 0.794 at 128; the
    // rest are mostly kept words whose random word rows happen to lie closer than any word sharing
    // n-grams
    expect(s.verify.agreement).toBeGreaterThan(0.75);
    expect(s.verify.mean_cosine_lost).toBeLessThan(0.015);
    // the mapping files (pruned words in file order) agree on the same share of words as the
    // verification says, after the calibration rows
    const e = exact.mapping.trim().split('\n');
    const a = approx.mapping.trim().split('\n');
    expect(a.length).toBe(e.length);
    let same = 0;
    for (let i = 1024; i < e.length; i++) if (e[i]!.split('\t')[1] === a[i]!.split('\t')[1]) same++;
    expect(Math.abs(same / (e.length - 1024) - s.verify.agreement)).toBeLessThan(0.01);
  }, 60000);

  it('gives the same output for any thread count', () => {
    const fixed = [...ngram, '--verify-sample', '0'];
    const one = prune('t1', [...fixed, '--threads', '1']);
    const two = prune('t2', [...fixed, '--threads', '2']);
    const three = prune('t3', [...fixed, '--threads', '3']);
    expect(one.report.search.index.shortlist).toBe(two.report.search.index.shortlist);
    expect(two.output.equals(one.output)).toBe(true);
    expect(three.output.equals(one.output)).toBe(true);
    expect(two.mapping).toBe(one.mapping);
  }, 60000);

  it('refuses a model without subwords and options of other indexes (exit 2)', () => {
    const vec = path.join(ROOT, 'examples', 'gcide-small.vec');
    const r = runCli(['prune', vec, '-o', path.join(dir, 'x.vec'), '--keep', '2000', '--search', 'approx', '--search-index', 'ngram', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ngram index needs a model with subword n-grams/);
    const bad = runCli(['prune', MODEL, '-o', path.join(dir, 'x.bin'), '--keep', '100', '--pruned-words', 'nearest', '--search-index', 'ivf', '--shortlist', '8', '-q']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/search option shortlist does not apply to the ivf index/);
    expect(() => checkSearchOptions({ index: 'ngram', probes: 4 })).toThrow(UsageError);
    expect(() => checkSearchOptions({ index: 'ngram', probes: 4 })).toThrow(/probes does not apply to the ngram index/);
    expect(() => checkSearchOptions({ shortlist: 0 })).toThrow(/shortlist must be an integer in \[1, 4096\], got 0/);
    expect(() => checkSearchOptions({ index: 'ivf', shortlist: 8 })).toThrow(/shortlist does not apply to the ivf index/);
    expect(indexKind({ shortlist: 8 })).toBe('ngram');
  });
});

/** An indexer with explicit n-gram rows per word (rows of a table of `size`). */
function fixedIndexer(rows: Record<string, number[]>, size: number): SubwordIndexer {
  return {
    kind: 'explicit',
    minN: 3,
    maxN: 6,
    size,
    ngrams: (w) => (rows[w] ?? []).map((index) => ({ ngram: w, index })),
    indices: (w) => rows[w] ?? [],
  };
}

describe('ngram shortlists (kernel)', () => {
  it('ranks kept rows by shared bucket weight over the square root of their norm x (1 + n-grams), skips long lists unless nothing else is shared', () => {
    // kept rows 0..3 use buckets: 0 -> {0, 1}, 1 -> {1}, 2 -> {1, 2}, 3 -> {1, 3}; bucket 1 is long (4 > 3)
    const kept = { offsets: Int32Array.of(0, 2, 3, 5, 7), rows: Int32Array.of(0, 1, 1, 1, 2, 1, 3) };
    const g = buildNgramIndex(kept, 4, Float32Array.of(1, 1, 1, 1), 5, 3);
    g.weight.set([1, 1, 4, 1, 1]);
    const s = new NgramSearcher(g);
    const out = new Int32Array(3 * 2);
    // query 0: buckets {0, 2, 3}: rows 0 (weight 1 / sqrt 3), 2 (4 / sqrt 3), 3 (1 / sqrt 3); k = 2 keeps 2 and 0 (tie with 3: lower row)
    // query 1: only the long bucket 1: walked, rows 0..3 all tie, k = 2 keeps 0 and 1
    // query 2: bucket 4, which no kept row uses: no candidate
    const lists = { offsets: Int32Array.of(0, 3, 4, 5), rows: Int32Array.of(0, 2, 3, 1, 4) };
    expect(s.shortlist(lists, 3, 2, out)).toBe(1);
    expect([...out]).toEqual([0, 2, 0, 1, -1, -1]);
  });

  it('a word without candidates is searched exactly; the others among their shortlist', async () => {
    const dim = 8;
    const r = mulberry32(3);
    const rows = 6;
    const table = new Float32Array(rows * dim).map(() => r() - 0.5);
    const labels = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
    const norms = new Float32Array(rows);
    for (let i = 0; i < rows; i++) norms[i] = Math.hypot(...table.subarray(i * dim, (i + 1) * dim));
    const words: Record<string, number[]> = { k0: [0], k1: [0, 1], k2: [1], k3: [2], k4: [2, 3], k5: [3], q0: [0], q1: [9], q2: [] };
    const subwords: SubwordRows = { indexer: fixedIndexer(words, 10), dim, read: async (a, n) => new Float32Array(n * dim).fill(1) };
    const q = normalizeRows(new Float32Array(3 * dim).map(() => r() - 0.5), 3, dim);
    const s = await NearestSearch.open(table, rows, dim, { threads: 0, seed: 1, queries: 3, normalize: true }, { search: 'approx', index: 'ngram', shortlist: 4, verifySample: 10, ngram: { subwords, labels, norms } });
    try {
      const got = await s.search(q, 3, ['q0', 'q1', 'q2']);
      const pool = new NearestPool(sharedUnitTable(table, rows, dim), rows, dim, 0);
      const exact = pool.searchHere(q, 3);
      await pool.close();
      // q0 shares bucket 0 with k0 and k1 only: the better of those two by cosine
      const cos = (i: number) => {
        let d = 0;
        for (let j = 0; j < dim; j++) d += q[j]! * table[i * dim + j]!;
        return d / norms[i]!;
      };
      expect(got.index[0]).toBe(cos(0) >= cos(1) ? 0 : 1);
      expect(got.score[0]).toBeCloseTo(Math.max(cos(0), cos(1)), 5);
      // q1 (a bucket no kept word uses) and q2 (no n-gram) get the exact answer
      expect(got.index[1]).toBe(exact.index[1]);
      expect(got.score[1]).toBe(exact.score[1]);
      expect(got.index[2]).toBe(exact.index[2]);
      await s.verify();
      expect(s.reportEntry().index).toMatchObject({ name: 'ngram', shortlist: 4, no_candidates: 2, postings: 8 });
    } finally {
      await s.close();
    }
  });
});
