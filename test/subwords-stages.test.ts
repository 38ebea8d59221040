/**
 * The subword half of the pipeline: subword-scan (usage counts against a brute-force count),
 * subword-collapse (drop/null/keep M/nearest remap, pruned words rebuilt from subwords), and the
 * writers: finalfusion (read back with our fifu reader; kept words against `fasttext
 * print-word-vectors` on the original model, unknown words through the kept n-grams) and word2vec
 * expanded (against our fastText reader's rows). Bad option combinations are clear errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runGraph, type GraphSpec } from '../cli/graph.js';
import type { StageSpec } from '../cli/registry.js';
import type { RunContext } from '../pipeline/context.js';
import { openSource, type Source } from '../pipeline/source.js';
import { wordFromText } from '../pipeline/words.js';
import { openFastText, type FastTextModel } from '../stages/formats/fasttext/index.js';
import { openFifu, type FifuReader } from '../stages/formats/fifu/index.js';
import { PLAN_STATE, type SubwordPlanHolder } from '../stages/subword-collapse.js';
import { USAGE_STATE, type SubwordUsage } from '../stages/subword-usage.js';
import { fasttextBuckets, fasttextNgrams } from '../stages/subwords/fasttext-hash.js';
import { ffNgramBucket } from '../stages/subwords/ff-hash.js';
import { bracket, forEachNgram } from '../stages/subwords/ngrams.js';
import { pruneGraph, type PruneArgs } from '../cli/commands/prune.js';
import { probeSubwords } from '../cli/commands/prune-subwords.js';
import { UsageError } from '../pipeline/errors.js';
import { runCli } from './helpers/cli.js';
import { fixture, HAVE_FASTTEXT, HAVE_FIXTURES, ROOT, tmpDir } from './helpers/fixtures.js';
import { loadModel } from './helpers/models.js';
import { fasttextVectors } from './helpers/fasttext-peer.js';

const SMALL = path.join(ROOT, 'examples', 'gcide-small.bin');
const dir = tmpDir('pp-subwords-');
if (!HAVE_FASTTEXT) console.warn('skipping fastText peer checks: the fasttext binary is not installed');

const sources: Source[] = [];
const closers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const m of closers) await m.close();
  for (const s of sources) await s.close();
});

async function ft(file: string): Promise<FastTextModel> {
  const s = await openSource(file);
  sources.push(s);
  const m = await openFastText(s);
  closers.push(m);
  return m;
}

async function fifu(file: string): Promise<FifuReader> {
  const s = await openSource(file);
  sources.push(s);
  const m = await openFifu(s);
  closers.push(m);
  return m;
}

function graph(input: string, stages: StageSpec[]): GraphSpec {
  return { input, stages: [{ stage: 'parse' }, ...stages] };
}

async function run(input: string, stages: StageSpec[], threads = 1): Promise<RunContext> {
  return runGraph(graph(input, stages), { quiet: true, threads });
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function unitOf(v: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s);
  return Array.from(v, (x) => x / n);
}

/** Brute-force usage of a fastText .bin: every word except </s>, each n-gram occurrence. */
function bruteUsage(m: FastTextModel, words: readonly string[], weight: (w: string) => number): Float64Array {
  const c = new Float64Array(m.args.bucket);
  for (const w of words) {
    if (w === '</s>') continue;
    for (const b of fasttextBuckets(w, m.args.minn, m.args.maxn, m.args.bucket)) c[b]! += weight(w);
  }
  return c;
}

/** Dictionary words by count, highest first (ties: earlier word first): what rank by counts keeps. */
function topByCount(m: FastTextModel, n: number): string[] {
  const idx = Array.from({ length: m.nwords }, (_, i) => i).sort((a, b) => m.dictionary.counts[b]! - m.dictionary.counts[a]! || a - b);
  return idx.slice(0, n).map((i) => m.dictionary.words[i]!);
}

/** Original n-gram rows of a fastText model, by bucket. */
async function tableRow(m: FastTextModel, bucket: number): Promise<Float32Array> {
  return m.readTableRows(bucket, 1);
}

// Words the bundled model does not know (checked below): misspellings, derivations, non-ASCII.
const UNKNOWN = ['dictionaryish', 'recieved', 'unwebsterlike', 'grammaticalness', 'overdefined', 'naïveté', 'quizzicality', 'zxqv'].map(wordFromText);

describe('subword-scan', () => {
  let m: FastTextModel;
  beforeAll(async () => {
    m = await ft(SMALL);
  });

  test('usage of every vocabulary word equals a brute-force count, weighted and not', async () => {
    const words = m.dictionary.words.slice(0, m.nwords);
    const ctx = await run(SMALL, [{ stage: 'subword-scan' }]);
    const u = ctx.state.get(USAGE_STATE) as SubwordUsage;
    expect(u.complete).toBe(true);
    expect(u.counts).toBeInstanceOf(Uint32Array);
    expect(Array.from(u.counts)).toEqual(Array.from(bruteUsage(m, words, () => 1)));
    const rep = (ctx.report.subwords as { scan: Record<string, number> }).scan;
    expect(rep.buckets).toBe(2000);
    expect(rep.used + rep.unused).toBe(2000);
    expect(rep.used).toBe(Array.from(u.counts).filter((x) => x > 0).length);
    expect(rep.unusedBytes).toBe(rep.unused * 25 * 4);
    expect(rep.wordsScanned).toBe(m.nwords);

    const counts = new Map(words.map((w, i) => [w, m.dictionary.counts[i]!]));
    const ctx2 = await run(SMALL, [{ stage: 'subword-scan', weights: 'counts' }]);
    const u2 = ctx2.state.get(USAGE_STATE) as SubwordUsage;
    expect(u2.counts).toBeInstanceOf(Float64Array);
    expect(Array.from(u2.counts)).toEqual(Array.from(bruteUsage(m, words, (w) => counts.get(w)!)));
  });

  test('kept words only: before the pass (rank by counts) and during it (rank in file order)', async () => {
    const byCount = await run(SMALL, [{ stage: 'rank', keep: 300 }, { stage: 'subword-scan', words: 'kept' }]);
    const u = byCount.state.get(USAGE_STATE) as SubwordUsage;
    expect(u.words).toBe(300);
    expect(Array.from(u.counts)).toEqual(Array.from(bruteUsage(m, topByCount(m, 300), () => 1)));
    // With only 300 words some of the 2,000 buckets are unused.
    expect(u.used).toBeLessThan(2000);

    const inOrder = await run(SMALL, [{ stage: 'rank', keep: 300, by: 'order' }, { stage: 'assign' }, { stage: 'subword-scan', words: 'kept' }], 2);
    const v = inOrder.state.get(USAGE_STATE) as SubwordUsage;
    expect(v.words).toBe(300);
    expect(Array.from(v.counts)).toEqual(Array.from(bruteUsage(m, m.dictionary.words.slice(0, 300), () => 1)));
  });

  test.skipIf(!HAVE_FIXTURES)('fixtures: toy-model.bin, finalfusion fasttext.bin, ff_buckets.fifu', async () => {
    for (const f of [fixture('gensim', 'toy-model.bin'), fixture('finalfusion', 'fasttext.bin')]) {
      const fm = await ft(f);
      const ctx = await run(f, [{ stage: 'subword-scan' }]);
      const u = ctx.state.get(USAGE_STATE) as SubwordUsage;
      expect(Array.from(u.counts), f).toEqual(Array.from(bruteUsage(fm, fm.dictionary.words.slice(0, fm.nwords), () => 1)));
    }
    // finalfusion bucket vocabulary: FNV-1a 64 over code points, 2^exp buckets.
    const ff = await fifu(fixture('finalfusion', 'ff_buckets.fifu'));
    const exp = ff.vocab.buckets!;
    const brute = new Float64Array(2 ** exp);
    for (const w of await ff.words()) {
      const b = bracket(w);
      forEachNgram(b, ff.vocab.minN!, ff.vocab.maxN!, (s, n) => brute[ffNgramBucket(b, s, n, exp)]!++);
    }
    const ctx = await run(fixture('finalfusion', 'ff_buckets.fifu'), [{ stage: 'subword-scan' }]);
    const u = ctx.state.get(USAGE_STATE) as SubwordUsage;
    expect(Array.from(u.counts)).toEqual(Array.from(brute));
    expect(u.used).toBeGreaterThan(0);
    expect(u.used).toBeLessThan(2 ** exp);
  });
});

describe('finalfusion output of a pruned fastText model', () => {
  let m: FastTextModel;
  beforeAll(async () => {
    m = await ft(SMALL);
    for (const w of UNKNOWN) expect(m.wordId(w), w).toBe(-1);
  });

  /** Vocabulary n-gram strings (what the explicit table may hold). */
  function vocabNgrams(): Set<string> {
    const s = new Set<string>();
    for (const w of m.dictionary.words.slice(0, m.nwords)) {
      if (w === '</s>') continue;
      for (const g of fasttextNgrams(w, m.args.minn, m.args.maxn, m.args.bucket)) s.add(g.ngram);
    }
    return s;
  }

  /** What a finalfusion reader should give an unknown word: the normalised sum of the rows its vocabulary n-grams map to. */
  async function expectedUnknown(w: string, rowOf: (bucket: number) => Promise<Float32Array | undefined>, known: Set<string>): Promise<number[] | undefined> {
    const sum = new Float64Array(m.dim);
    let n = 0;
    for (const g of fasttextNgrams(w, m.args.minn, m.args.maxn, m.args.bucket)) {
      if (!known.has(g.ngram)) continue;
      const r = await rowOf(g.bucket);
      if (!r) continue;
      for (let d = 0; d < m.dim; d++) sum[d]! += r[d]!;
      n++;
    }
    return n ? unitOf(sum) : undefined;
  }

  test('drop: kept words are what fastText computes on the original; unknown words use the kept n-grams', async () => {
    const out = path.join(dir, 'drop.fifu');
    const ctx = await run(SMALL, [{ stage: 'rank', keep: 1500 }, { stage: 'subword-scan' }, { stage: 'subword-collapse' }, { stage: 'serialize', output: out, to: 'fifu' }]);
    const f = await fifu(out);
    expect(f.vocab.kind).toBe('explicit');
    const kept = topByCount(m, 1500);
    expect(await f.words()).toEqual(kept);
    const norms = (await f.norms())!;
    expect(norms).toBeDefined();

    // Our reader's vectors of the original model, and fastText's own.
    const keptVectors = await m.vectorsFor(kept);
    const pass = new Map(kept.map((w, i) => [w, keptVectors.subarray(i * m.dim, (i + 1) * m.dim)]));
    let minCos = 1;
    for (let i = 0; i < kept.length; i++) {
      const got = (await f.lookup(kept[i]!))!;
      const orig = pass.get(kept[i]!)!;
      minCos = Math.min(minCos, cosine(got, orig));
      expect(maxAbs(Array.from(got, (x) => x * norms[i]!), orig), kept[i]).toBeLessThanOrEqual(1e-6);
    }
    expect(minCos).toBeGreaterThan(0.9999999);
    if (HAVE_FASTTEXT) {
      const theirs = fasttextVectors(SMALL, kept.filter((w) => !/\s/.test(w) && w !== '</s>'));
      let worst = 0;
      for (const [w, t] of theirs) {
        const i = kept.indexOf(w);
        const got = (await f.lookup(w))!;
        worst = Math.max(worst, maxAbs(Array.from(got, (x) => x * norms[i]!), t));
        expect(cosine(got, t)).toBeGreaterThan(0.99999);
      }
      expect(theirs.size).toBeGreaterThan(1400);
      expect(worst).toBeLessThanOrEqual(1e-4);
    }

    // Unknown words and pruned words: the normalised sum of their vocabulary n-grams' original rows.
    const known = vocabNgrams();
    const plan = (ctx.state.get(PLAN_STATE) as SubwordPlanHolder).plan!;
    const rowOf = async (b: number) => (plan.rowMap[b]! >= 0 ? tableRow(m, b) : undefined);
    const keptSet = new Set(kept);
    const pruned = m.dictionary.words.filter((w) => !keptSet.has(w) && w !== '</s>').slice(0, 30);
    let found = 0;
    for (const w of [...UNKNOWN, ...pruned]) {
      const want = await expectedUnknown(w, rowOf, known);
      const got = await f.lookup(w);
      if (!want) {
        expect(got, w).toBeUndefined();
        continue;
      }
      found++;
      expect(got, w).toBeDefined();
      expect(maxAbs(got!, want), w).toBeLessThanOrEqual(2e-6);
    }
    expect(found).toBeGreaterThanOrEqual(UNKNOWN.length - 1 + pruned.length);
    // The explicit table holds exactly the vocabulary n-grams (every bucket is used here).
    expect(f.explicit!.table.size).toBe(known.size);
    // Pruned words are rebuilt from subwords: their cosine to the original is reported.
    expect(ctx.report.mapped).toBe(m.nwords - 1500);
    expect(ctx.report.cosine!.mean).toBeGreaterThan(0.5);
  });

  test('keep M: the M best buckets by usage x norm; remapped buckets point at the nearest kept row', async () => {
    const out = path.join(dir, 'keep.fifu');
    const M = 600;
    const ctx = await run(SMALL, [
      { stage: 'rank', keep: 1000 },
      { stage: 'subword-scan' },
      { stage: 'subword-collapse', keep: M, pruned: 'nearest' },
      { stage: 'serialize', output: out, to: 'fifu' },
    ]);
    const u = ctx.state.get(USAGE_STATE) as SubwordUsage;
    const plan = (ctx.state.get(PLAN_STATE) as SubwordPlanHolder).plan!;
    // brute force: score = usage x norm of the original row
    const score: { b: number; s: number }[] = [];
    const rows: Float32Array[] = [];
    for (let b = 0; b < 2000; b++) {
      const r = await tableRow(m, b);
      rows.push(r);
      if (u.counts[b]! > 0) score.push({ b, s: u.counts[b]! * Math.hypot(...r) });
    }
    score.sort((x, y) => y.s - x.s || x.b - y.b);
    const keptBuckets = score.slice(0, M).map((x) => x.b).sort((x, y) => x - y);
    expect(Array.from(plan.keptBuckets)).toEqual(keptBuckets);
    for (let k = 0; k < M; k++) expect(Array.from(plan.rows.subarray(k * m.dim, (k + 1) * m.dim))).toEqual(Array.from(rows[keptBuckets[k]!]!));
    // every dropped used bucket maps to the kept row with the highest cosine (up to float ties)
    const keptSet = new Set(keptBuckets);
    let checked = 0;
    for (const { b } of score.slice(M)) {
      if (keptSet.has(b)) continue;
      const target = plan.rowMap[b]!;
      expect(target).toBeGreaterThanOrEqual(0);
      const got = cosine(rows[b]!, rows[keptBuckets[target]!]!);
      let best = -2;
      for (const kb of keptBuckets) best = Math.max(best, cosine(rows[b]!, rows[kb]!));
      expect(got, `bucket ${b}`).toBeGreaterThan(best - 1e-5);
      if (++checked >= 200) break;
    }
    const rep = (ctx.report.subwords as { collapse: Record<string, unknown> }).collapse;
    expect(rep.kept).toBe(M);
    expect(rep.remapped).toBe(u.used - M);

    // The file: n-grams of remapped buckets share their target's row; an unknown word sums them.
    const f = await fifu(out);
    const known = vocabNgrams();
    const rowOf = async (b: number) => (plan.rowMap[b]! >= 0 ? rows[keptBuckets[plan.rowMap[b]!]!] : undefined);
    expect(f.explicit!.table.size).toBe(known.size);
    expect(f.vocab.subwordRows).toBe(M);
    for (const w of UNKNOWN) {
      const want = await expectedUnknown(w, rowOf, known);
      const got = await f.lookup(w);
      if (!want) expect(got).toBeUndefined();
      else expect(maxAbs(got!, want), w).toBeLessThanOrEqual(2e-6);
    }
  });

  test.skipIf(!HAVE_FIXTURES || !HAVE_FASTTEXT)('toy-model.bin and finalfusion fasttext.bin: kept words match fastText', async () => {
    for (const file of [fixture('gensim', 'toy-model.bin'), fixture('finalfusion', 'fasttext.bin')]) {
      const fm = await ft(file);
      const keep = Math.floor(fm.nwords / 2);
      const out = path.join(dir, path.basename(file) + '.fifu');
      await run(file, [{ stage: 'rank', keep }, { stage: 'subword-scan' }, { stage: 'subword-collapse' }, { stage: 'serialize', output: out, to: 'fifu' }]);
      const f = await fifu(out);
      const words = await f.words();
      expect(words.length).toBe(keep);
      const norms = (await f.norms())!;
      const theirs = fasttextVectors(file, words.filter((w) => !/\s/.test(w) && w !== '</s>'));
      expect(theirs.size).toBeGreaterThan(keep / 2);
      for (const [w, t] of theirs) {
        const i = words.indexOf(w);
        const got = (await f.lookup(w))!;
        expect(maxAbs(Array.from(got, (x) => x * norms[i]!), t), `${file}: ${w}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });
});

describe('word2vec expanded output of a pruned fastText model', () => {
  let m: FastTextModel;
  beforeAll(async () => {
    m = await ft(SMALL);
  });

  test('kept words keep their vector; pruned words get the mean of their surviving n-gram rows (null rows count)', async () => {
    const out = path.join(dir, 'exp.bin');
    const map = path.join(dir, 'exp.tsv');
    const ctx = await run(SMALL, [
      { stage: 'rank', keep: 500 },
      { stage: 'subword-scan', words: 'kept' },
      { stage: 'subword-collapse', unused: 'null', keep: 900, score: 'usage' },
      { stage: 'serialize', output: out, to: 'w2v-bin', mapping: map },
    ]);
    const got = await loadModel(out);
    expect(got.words.length).toBe(m.nwords);
    const plan = (ctx.state.get(PLAN_STATE) as SubwordPlanHolder).plan!;
    const u = ctx.state.get(USAGE_STATE) as SubwordUsage;
    expect(plan.nullRow).toBe(900);
    const kept = new Set(topByCount(m, 500));
    const orig = await m.vectorsFor(m.dictionary.words.slice(0, m.nwords));
    const rows: Float32Array[] = [];
    for (let b = 0; b < 2000; b++) rows.push(await tableRow(m, b));
    const keptBuckets = new Set(plan.keptBuckets);
    let checkedPruned = 0;
    for (let i = 0; i < m.nwords; i++) {
      const w = got.words[i]!;
      expect(w).toBe(m.dictionary.words[i]);
      const v = got.vectors.subarray(i * m.dim, (i + 1) * m.dim);
      if (kept.has(w)) {
        expect(Array.from(v), w).toEqual(Array.from(orig.subarray(i * m.dim, (i + 1) * m.dim)));
        continue;
      }
      // mean over n-grams whose bucket is kept (its row) or unused (the zero row); dropped ones do not count
      const sum = new Float64Array(m.dim);
      let n = 0;
      for (const b of fasttextBuckets(w, m.args.minn, m.args.maxn, m.args.bucket)) {
        if (keptBuckets.has(b)) {
          for (let d = 0; d < m.dim; d++) sum[d]! += rows[b]![d]!;
          n++;
        } else if (u.counts[b] === 0) n++;
      }
      const want = Array.from(sum, (x) => (n ? x / n : 0));
      expect(maxAbs(v, want), w).toBeLessThanOrEqual(1e-6);
      checkedPruned++;
    }
    expect(checkedPruned).toBe(m.nwords - 500);
    // mapping: every pruned word, no kept word, an empty kept column
    const lines = fs.readFileSync(map, 'latin1').trim().split('\n');
    expect(lines.length).toBe(m.nwords - 500);
    expect(lines.every((l) => l.split('\t')[1] === '')).toBe(true);
  });

  test('pruned words nearest: the assign stage row, as for any model', async () => {
    const out = path.join(dir, 'near.txt');
    const map = path.join(dir, 'near.tsv');
    await run(SMALL, [{ stage: 'rank', keep: 800 }, { stage: 'assign' }, { stage: 'subword-scan' }, { stage: 'subword-collapse' }, { stage: 'serialize', output: out, to: 'w2v-text', mapping: map }]);
    const got = await loadModel(out);
    const byWord = new Map(got.words.map((w, i) => [w, got.vectors.subarray(i * m.dim, (i + 1) * m.dim)]));
    const lines = fs.readFileSync(map, 'latin1').trim().split('\n');
    expect(lines.length).toBe(m.nwords - 800);
    for (const l of lines.slice(0, 200)) {
      const [w, k] = l.split('\t');
      expect(Array.from(byWord.get(w!)!)).toEqual(Array.from(byWord.get(k!)!));
    }
  });

  test.skipIf(!HAVE_FASTTEXT)('kept words in the expanded output match fasttext print-word-vectors on the original', async () => {
    const out = path.join(dir, 'exp2.txt');
    await run(SMALL, [{ stage: 'rank', keep: 1000 }, { stage: 'subword-scan' }, { stage: 'subword-collapse' }, { stage: 'serialize', output: out, to: 'w2v-text' }]);
    const got = await loadModel(out);
    const kept = topByCount(m, 1000).filter((w) => w !== '</s>' && !/\s/.test(w));
    const theirs = fasttextVectors(SMALL, kept);
    const idx = new Map(got.words.map((w, i) => [w, i]));
    for (const [w, t] of theirs) {
      const i = idx.get(w)!;
      expect(maxAbs(got.vectors.subarray(i * m.dim, (i + 1) * m.dim), t), w).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe.skipIf(!HAVE_FIXTURES)('finalfusion bucket model in, explicit n-grams out', () => {
  test('ff_buckets.fifu: the kept word keeps its row, the pruned word is its normalised n-gram sum', async () => {
    const src = fixture('finalfusion', 'ff_buckets.fifu');
    const ff = await fifu(src);
    const words = await ff.words();
    const out = path.join(dir, 'ffb.fifu');
    await run(src, [{ stage: 'rank', keep: 1 }, { stage: 'subword-scan' }, { stage: 'subword-collapse' }, { stage: 'serialize', output: out, to: 'fifu' }]);
    const f = await fifu(out);
    expect(await f.words()).toEqual([words[0]]);
    expect(maxAbs((await f.lookup(words[0]!))!, (await ff.readRows(0, 1)))).toBeLessThanOrEqual(1e-6);
    // the pruned word: normalised sum of its n-gram rows in the input
    const exp = ff.vocab.buckets!;
    const b = bracket(words[1]!);
    const sum = new Float64Array(ff.info.dim);
    const buckets: number[] = [];
    forEachNgram(b, ff.vocab.minN!, ff.vocab.maxN!, (s, n) => buckets.push(ffNgramBucket(b, s, n, exp)));
    for (const k of buckets) {
      const r = await ff.readRows(ff.vocab.wordCount + k, 1);
      for (let d = 0; d < sum.length; d++) sum[d]! += r[d]!;
    }
    expect(maxAbs((await f.lookup(words[1]!))!, unitOf(sum))).toBeLessThanOrEqual(1e-6);
  });
});

describe('bad option combinations are clear errors before any output', () => {
  const vec = path.join(ROOT, 'examples', 'gcide-small.vec');
  const cases: [string, string[], RegExp][] = [
    ['subword option on a model without subwords', [vec, '--keep-subwords', '100'], /stage "subword-scan": the input \(w2v-text\) has no subword n-gram rows/],
    ['--pruned-words subwords on a model without subwords', [vec, '--pruned-words', 'subwords'], /stage "subword-scan": the input \(w2v-text\) has no subword/],
    ['finalfusion output with pruned words mapped to nearest', [SMALL, '--pruned-words', 'nearest', '--to', 'fifu'], /stage "serialize": a finalfusion file cannot map a pruned word/],
    ['--subword-score without --keep-subwords', [SMALL, '--subword-score', 'usage'], /stage "subword-collapse": score \(--subword-score\) ranks buckets for keep/],
    ['--pruned-subwords without --keep-subwords', [SMALL, '--pruned-subwords', 'nearest'], /stage "subword-collapse": pruned \(--pruned-subwords\)/],
    ['negative --keep-subwords', [SMALL, '--keep-subwords', '-3'], /keep \(--keep-subwords\) must be an integer >= 0, got -3/],
    ['k-means with words rebuilt from subwords', [SMALL, '--method', 'kmeans', '--pruned-words', 'subwords'], /k-means centroids are not words/],
  ];
  // In process (the prune command's own graph builder and probe), then two through the CLI for the exit code.
  test.each(cases)('%s', async (_name, args, message) => {
    const out = path.join(dir, 'bad-out.fifu');
    const flags: Record<string, string> = {};
    for (let i = 1; i < args.length; i += 2) flags[args[i]!.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = args[i + 1]!;
    const a = { input: args[0]!, output: out, keep: 200, method: flags.method ?? 'topn', layout: 'expanded', ...flags } as unknown as PruneArgs;
    if (a.keepSubwords !== undefined) a.keepSubwords = Number(a.keepSubwords);
    const g = pruneGraph(a, await probeSubwords(a.input));
    const e = await runGraph(g, { quiet: true, threads: 1 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('through the CLI: exit 2, one line naming the stage, no output file', () => {
    for (const [args, message] of [
      [[vec, '--keep-subwords', '100'], /^prune-pipe: stage "subword-scan": the input \(w2v-text\) has no subword n-gram rows/],
      [[SMALL, '--pruned-words', 'nearest', '--to', 'fifu'], /^prune-pipe: stage "serialize": a finalfusion file cannot map/],
    ] as [string[], RegExp][]) {
      const out = path.join(dir, 'bad-cli.fifu');
      const r = runCli(['prune', args[0]!, '-o', out, '--keep', '200', ...args.slice(1), '-q']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  test('graph order: collapse without a scan, scan with kept words but no kept table', async () => {
    await expect(run(SMALL, [{ stage: 'rank', keep: 10 }, { stage: 'subword-collapse' }])).rejects.toThrow(
      'stage "subword-collapse" needs subword usage counts (a subword-usage scan before it), which no earlier stage provides',
    );
    await expect(run(SMALL, [{ stage: 'subword-scan', words: 'kept' }])).rejects.toThrow('stage "subword-scan": words "kept" needs a kept table');
    if (HAVE_FIXTURES) {
      await expect(run(fixture('finalfusion', 'ff_buckets.fifu'), [{ stage: 'subword-scan', weights: 'counts' }])).rejects.toThrow(
        'stage "subword-scan": weights "counts" needs word counts',
      );
    }
  });

  test('prune on a fastText .bin picks the subword stages by itself', async () => {
    expect(await probeSubwords(SMALL)).toBe(true);
    expect(await probeSubwords(vec)).toBe(false);
    const a = (o: Partial<PruneArgs>) => ({ input: SMALL, output: path.join(dir, 'x.fifu'), keep: 100, method: 'topn', layout: 'expanded', ...o }) as PruneArgs;
    expect(pruneGraph(a({}), true).stages.map((s) => s.stage)).toEqual(['parse', 'rank', 'subword-scan', 'subword-collapse', 'serialize']);
    expect(pruneGraph(a({ output: 'x.vec', prunedWords: 'nearest' }), true).stages.map((s) => s.stage)).toEqual(['parse', 'rank', 'assign', 'serialize']);
    expect(pruneGraph(a({ output: 'x.vec', keepSubwords: 10, prunedWords: 'nearest' }), true).stages.map((s) => s.stage)).toEqual([
      'parse', 'rank', 'assign', 'subword-scan', 'subword-collapse', 'serialize',
    ]);
    expect(pruneGraph(a({ output: 'x.vec', method: 'kmeans' }), true).stages.map((s) => s.stage)).toEqual(['parse', 'kmeans', 'assign', 'serialize']);
    expect(pruneGraph(a({ output: 'x.vec' }), false).stages.map((s) => s.stage)).toEqual(['parse', 'rank', 'assign', 'serialize']);
  });
});
