/**
 * The lookup loader (stages/lookup) on fixtures of every format, eval (stages/eval) of a model
 * against itself, a shuffled copy and pruned outputs, Spearman on a hand-computed pairs file, and
 * the sweep command's table and SVG chart (rendered with rsvg-convert).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { wordFromText } from '../pipeline/words.js';
import { evaluate } from '../stages/eval/eval.js';
import { readPairsFile } from '../stages/eval/pairs.js';
import { fractionalRanks, spearman } from '../stages/eval/spearman.js';
import { openFifu } from '../stages/formats/fifu/index.js';
import { openSource } from '../pipeline/source.js';
import { openLookup, SOURCE_NONE, SOURCE_SUBWORDS, type Lookup } from '../stages/lookup/index.js';
import { runCli } from './helpers/cli.js';
import { fixture, HAVE_FASTTEXT, HAVE_FIXTURES, ROOT, tmpDir } from './helpers/fixtures.js';
import { loadModel, type Loaded } from './helpers/models.js';

const T = (s: string) => wordFromText(s);
const dirs: string[] = [];
const newDir = () => {
  const d = tmpDir('pp-eval-');
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Brute-force k nearest words of row `q` among all rows of a loaded model (itself excluded). */
function bruteNearest(m: Loaded, query: Float32Array, k: number, exclude?: string): { word: string; cosine: number }[] {
  const dim = m.dim;
  const qn = Math.sqrt(query.reduce((s, x) => s + x * x, 0));
  const out: { word: string; cosine: number; i: number }[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < m.words.length; i++) {
    const w = m.words[i]!;
    if (w === exclude || seen.has(w)) continue;
    seen.add(w);
    let d = 0;
    let n = 0;
    for (let j = 0; j < dim; j++) {
      d += query[j]! * m.vectors[i * dim + j]!;
      n += m.vectors[i * dim + j]! ** 2;
    }
    out.push({ word: w, cosine: n && qn ? d / Math.sqrt(n) / qn : 0, i });
  }
  out.sort((a, b) => b.cosine - a.cosine || a.i - b.i);
  return out.slice(0, k).map(({ word, cosine }) => ({ word, cosine }));
}

/** Checks has/vector/similar/words of a lookup against the model read whole by its pass. */
async function checkLookup(file: string, from?: string): Promise<{ lk: Lookup; m: Loaded }> {
  const m = await loadModel(file, from);
  const lk = await openLookup(file, { from });
  const first = new Map<string, number>();
  m.words.forEach((w, i) => {
    if (!first.has(w)) first.set(w, i);
  });
  expect(lk.dim).toBe(m.dim);
  expect([...lk.words()].sort()).toEqual([...first.keys()].sort());
  expect(lk.size).toBe(first.size);
  // Every word, in one batch and a few one by one.
  const words = [...first.keys()];
  const b = await lk.vectors(words);
  words.forEach((w, j) => {
    expect(b.source[j], w).not.toBe(SOURCE_NONE);
    const i = first.get(w)!;
    expect(Array.from(b.vectors.subarray(j * m.dim, (j + 1) * m.dim))).toEqual(Array.from(m.vectors.subarray(i * m.dim, (i + 1) * m.dim)));
  });
  for (const w of words.slice(0, 3)) {
    expect(lk.has(w)).toBe(true);
    const v = await lk.vector(w);
    expect(v?.source).toBe('vocab');
  }
  expect(lk.has(T('no-such-word-in-any-fixture'))).toBe(false);
  // similar: against brute force over the same rows.
  const w0 = words[Math.min(2, words.length - 1)]!;
  const sim = await lk.similar(w0, 5);
  const want = bruteNearest(m, m.vectors.subarray(first.get(w0)! * m.dim, (first.get(w0)! + 1) * m.dim), 5, w0);
  expect(sim!.neighbours.map((n) => n.word)).toEqual(want.map((n) => n.word));
  sim!.neighbours.forEach((n, j) => expect(n.cosine).toBeCloseTo(want[j]!.cosine, 5));
  return { lk, m };
}

describe.skipIf(!HAVE_FIXTURES)('lookup loader on the shared fixtures', () => {
  const cases: [string, string[], string][] = [
    ['w2v-text', ['finalfusion', 'similarity.txt'], 'w2v-text'],
    ['glove (no header)', ['finalfusion', 'similarity.nodims'], 'glove'],
    ['w2v-bin', ['finalfusion', 'similarity.bin'], 'w2v-bin'],
    ['w2v-bin, invalid UTF-8 words', ['finalfusion', 'utf8-incomplete.bin'], 'w2v-bin'],
    ['w2v-text, full precision', ['gensim', 'high_precision.kv.txt'], 'w2v-text'],
    ['GloVe text', ['gensim', 'test_glove.txt'], 'glove'],
    ['fifu SimpleVocab + NdArray', ['finalfusion', 'similarity.fifu'], 'fifu'],
    ['fifu with NdNorms', ['finalfusion', 'embeddings.fifu'], 'fifu'],
    ['fifu QuantizedArray', ['finalfusion', 'pq.fifu'], 'fifu'],
    ['fifu BucketSubwordVocab', ['finalfusion', 'ff_buckets.fifu'], 'fifu'],
    ['fastText .bin (version 12)', ['gensim', 'toy-model.bin'], 'fasttext'],
    ['fastText .bin (old layout)', ['gensim', 'lee_fasttext.bin'], 'fasttext'],
  ];
  for (const [name, parts, format] of cases) {
    test(name, async () => {
      const { lk } = await checkLookup(fixture(...parts));
      expect(lk.info.format).toBe(format);
      await lk.close();
    });
  }

  test('the same embeddings in four formats give the same vectors and neighbours', async () => {
    const files = ['similarity.txt', 'similarity.nodims', 'similarity.bin', 'similarity.fifu'].map((f) => fixture('finalfusion', f));
    const lks = await Promise.all(files.map((f) => openLookup(f)));
    const word = [...lks[0]!.words()][5]!;
    const sims = await Promise.all(lks.map((l) => l.similar(word, 5)));
    for (const s of sims) expect(s!.neighbours.map((n) => n.word)).toEqual(sims[0]!.neighbours.map((n) => n.word));
    for (const l of lks) await l.close();
  });

  test('ff_buckets.fifu: unknown words through bucket subwords (normalised sum of the n-gram rows)', async () => {
    const file = fixture('finalfusion', 'ff_buckets.fifu');
    const lk = await openLookup(file);
    expect(lk.subwords).toBe(true);
    const src = await openSource(file);
    const ff = await openFifu(src);
    for (const text of ['tübingen', 'Tübinger', 'xyzzy', 'berlin']) {
      const w = T(text);
      expect(lk.has(w)).toBe(ff.vocab.wordCount > 0 && (await ff.words()).includes(w));
      const v = await lk.vector(w);
      if (lk.has(w)) continue;
      expect(v?.source).toBe('subwords');
      // Independent check: the rows of the word's n-grams summed in double precision, normalised.
      const ix = ff.subwords!.indexer.indices(w);
      expect(ix.length).toBeGreaterThan(0);
      const sum = new Float64Array(lk.dim);
      for (const r of ix) {
        const row = await ff.subwords!.read(r, 1);
        for (let k = 0; k < lk.dim; k++) sum[k]! += row[k]!;
      }
      const n = Math.sqrt(sum.reduce((s, x) => s + x * x, 0));
      for (let k = 0; k < lk.dim; k++) expect(v!.vector[k]!).toBeCloseTo(sum[k]! / n, 5);
    }
    // similar works for an unknown word (its vector is built first).
    const s = await lk.similar(T('xyzzy'), 2);
    expect(s!.query.source).toBe('subwords');
    expect(s!.neighbours.length).toBe(2);
    await lk.close();
    await src.close();
  });

  test.skipIf(!HAVE_FASTTEXT)('fastText .bin: an unknown word through subwords equals fasttext print-word-vectors', async () => {
    const file = fixture('gensim', 'toy-model.bin');
    const lk = await openLookup(file);
    const word = T('zzzanarchismq');
    expect(lk.has(word)).toBe(false);
    const v = await lk.vector(word);
    expect(v?.source).toBe('subwords');
    const r = spawnSync('fasttext', ['print-word-vectors', file], { input: 'zzzanarchismq\nanarchism\n' });
    expect(r.status).toBe(0);
    const lines = r.stdout.toString().trim().split('\n').map((l) => l.trim().split(/\s+/));
    const ref = lines.find((l) => l[0] === 'zzzanarchismq')!.slice(1).map(Number);
    expect(ref.length).toBe(lk.dim);
    for (let k = 0; k < lk.dim; k++) expect(v!.vector[k]!).toBeCloseTo(ref[k]!, 4);
    // A known word too (its own row plus its n-grams).
    const known = await lk.vector(T('anarchism'));
    expect(known?.source).toBe('vocab');
    const refKnown = lines.find((l) => l[0] === 'anarchism')!.slice(1).map(Number);
    for (let k = 0; k < lk.dim; k++) expect(known!.vector[k]!).toBeCloseTo(refKnown[k]!, 4);
    await lk.close();
  });

  test('a word2vec text model without subwords has no vector for unknown words', async () => {
    const lk = await openLookup(fixture('finalfusion', 'similarity.txt'));
    expect(lk.subwords).toBe(false);
    expect(await lk.vector(T('qqqqq'))).toBeUndefined();
    expect(await lk.similar(T('qqqqq'), 3)).toBeUndefined();
    await lk.close();
  });
});
