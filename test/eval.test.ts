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
import { NeighbourOverlap, samplePool } from '../stages/eval/neighbours.js';
import { readPairsFile } from '../stages/eval/pairs.js';
import { fractionalRanks, spearman } from '../stages/eval/spearman.js';
import { openFifu } from '../stages/formats/fifu/index.js';
import { openSource } from '../pipeline/source.js';
import { collect } from '../pipeline/stream.js';
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

/** A finalfusion file read whole as stored (unit rows), as finalfusion's own lookups give them. */
async function loadFifuStored(file: string): Promise<Loaded> {
  const src = await openSource(file);
  try {
    const ff = await openFifu(src);
    const bs = await collect(ff.pass({ batchRows: 512 }));
    const words = bs.flatMap((b) => b.words);
    const vectors = new Float32Array(words.length * ff.info.dim);
    let o = 0;
    for (const b of bs) {
      vectors.set(b.vectors, o);
      o += b.vectors.length;
    }
    return { format: 'fifu', dim: ff.info.dim, words, vectors };
  } finally {
    await src.close();
  }
}

/**
 * Checks has/vector/similar/words of a lookup against the model read whole by its pass
 * (finalfusion: its stored rows).
 */
async function checkLookup(file: string, from?: string): Promise<{ lk: Lookup; m: Loaded }> {
  const m = file.endsWith('.fifu') ? await loadFifuStored(file) : await loadModel(file, from);
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

  test('bad input: InputError naming the file and offset, found on open or when a row is read', async () => {
    const dir = newDir();
    const text = path.join(dir, 'bad.vec');
    fs.writeFileSync(text, '3 2\na 1 2\nb 1 x\nc 1 2 3\n');
    const lk = await openLookup(text);
    expect(Array.from((await lk.vector(T('a')))!.vector)).toEqual([1, 2]);
    await expect(lk.vector(T('b'))).rejects.toMatchObject({ name: 'InputError', where: { file: text, offset: 14 } }); // the 'x'
    await expect(lk.vector(T('b'))).rejects.toThrow(/row 2: value 2 is not a finite number: "x"/);
    await expect(lk.vector(T('c'))).rejects.toThrow(/row 3: expected 2 values after the word, found more/);
    await lk.close();
    const bin = path.join(dir, 'cut.bin');
    fs.writeFileSync(bin, Buffer.concat([Buffer.from('2 2\na '), Buffer.from(new Float32Array([1, 2]).buffer), Buffer.from('\nbbbbbb '), Buffer.alloc(5)]));
    await expect(openLookup(bin)).rejects.toThrow(/file ends inside row 2; the header promised 2 rows/);
    const map = path.join(dir, 'bad.map.tsv');
    fs.writeFileSync(map, 'x\ta\t0.5\ny a 0.5\n');
    await expect(openLookup(text, { mapping: map })).rejects.toMatchObject({
      message: 'expected `word<TAB>kept word<TAB>cosine` (three tab-separated fields)',
      where: { file: map, line: 2 },
    });
  });

  test('a word2vec text model without subwords has no vector for unknown words', async () => {
    const lk = await openLookup(fixture('finalfusion', 'similarity.txt'));
    expect(lk.subwords).toBe(false);
    expect(await lk.vector(T('qqqqq'))).toBeUndefined();
    expect(await lk.similar(T('qqqqq'), 3)).toBeUndefined();
    await lk.close();
  });
});

const EXAMPLE = path.join(ROOT, 'examples', 'gcide-small.vec');
const WORDSIM = fixture('gensim', 'wordsim353.tsv');

/** A word2vec binary copy of a loaded model whose rows are permuted among the words. */
function writeShuffled(m: Loaded, file: string, seed = 7): void {
  const n = m.words.length;
  const perm = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const parts: Buffer[] = [Buffer.from(`${n} ${m.dim}\n`)];
  for (let i = 0; i < n; i++) {
    const r = perm[i]!;
    parts.push(Buffer.from(m.words[i]! + ' ', 'latin1'), Buffer.from(m.vectors.slice(r * m.dim, (r + 1) * m.dim).buffer), Buffer.from('\n'));
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

describe('Spearman with ties', () => {
  test('fractional ranks average the tied positions', () => {
    expect(Array.from(fractionalRanks([9, 7, 5, 1, 7, 4]))).toEqual([6, 4.5, 3, 1, 4.5, 2]);
    expect(Array.from(fractionalRanks([2, 2, 2]))).toEqual([2, 2, 2]);
  });

  test('eval on a tiny model and pairs file equals the hand-computed value', async () => {
    const dir = newDir();
    // Word vectors chosen so the cosines are exact: a=(1,0) b=(2,0) c=(3,4) d=(0,3) e=(-1,0).
    const model = path.join(dir, 'tiny.vec');
    fs.writeFileSync(model, '5 2\na 1 0\nb 2 0\nc 3 4\nd 0 3\ne -1 0\n');
    const pairs = path.join(dir, 'pairs.tsv');
    fs.writeFileSync(pairs, '# word1\tword2\thuman\n\na\tb\t9\na\tc\t7\na\td\t5\na\te\t1\nb\tc\t7\nc\td\t4\na\tzzz\t3\n');
    // human  = 9, 7, 5, 1, 7, 4        -> ranks 6, 4.5, 3, 1, 4.5, 2    (the two 7s share ranks 4 and 5)
    // cosine = 1, .6, 0, -1, .6, .8    -> ranks 6, 3.5, 2, 1, 3.5, 5    (the two .6s share ranks 3 and 4)
    // Both rank lists have mean 3.5; deviations:
    //   dh = 2.5, 1, -0.5, -2.5, 1, -1.5      dc = 2.5, 0, -1.5, -2.5, 0, 1.5
    //   sum dh*dc = 6.25 + 0 + 0.75 + 6.25 + 0 - 2.25 = 11
    //   sum dh^2 = 6.25 + 1 + 0.25 + 6.25 + 1 + 2.25 = 17,  sum dc^2 = 6.25 + 0 + 2.25 + 6.25 + 0 + 2.25 = 17
    //   rho = 11 / sqrt(17 * 17) = 11/17
    const expected = 11 / 17;
    expect(spearman([9, 7, 5, 1, 7, 4], [1, 0.6, 0, -1, 0.6, 0.8])).toBeCloseTo(expected, 12);
    const r = await evaluate(model, model, { pairs, sample: 0 });
    expect(r.pairs!.total).toBe(7);
    expect(r.pairs!.vocabulary.pairs).toBe(6);
    expect(r.pairs!.unused).toBe(1);
    expect(r.pairs!.missing_words).toEqual(['zzz']);
    expect(r.pairs!.vocabulary.original).toBeCloseTo(expected, 6);
    expect(r.pairs!.vocabulary.pruned).toBeCloseTo(expected, 6);
  });

  test('pairs files: comments, lower-casing, bad lines', async () => {
    const dir = newDir();
    const f = path.join(dir, 'p.tsv');
    fs.writeFileSync(f, '# c\nTiger\tCAT\t7.35\n');
    expect((await readPairsFile(f)).map((p) => [p.a, p.b])).toEqual([['Tiger', 'CAT']]);
    expect((await readPairsFile(f, { lowercase: true })).map((p) => [p.a, p.b])).toEqual([['tiger', 'cat']]);
    fs.writeFileSync(f, 'tiger cat 7.35\n');
    await expect(readPairsFile(f)).rejects.toThrow(/expected `word1<TAB>word2<TAB>score`, found 1 tab-separated field/);
    fs.writeFileSync(f, 'tiger\tcat\tseven\n');
    await expect(readPairsFile(f)).rejects.toThrow(/expected a number as the score, found "seven"/);
  });
});

describe('neighbour overlap', () => {
  test('streamed in batches, it equals a brute-force search over the pool', () => {
    const n = 5000;
    const dim = 6;
    let x = 12345;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
    const A = Float32Array.from({ length: n * dim }, rnd);
    const B = A.map((v) => v + 0.3 * rnd());
    const o = { sample: 40, sampleFrom: 700, pool: 4000, k: 10, seed: 3 };
    const ov = new NeighbourOverlap(dim, o);
    for (let i = 0; i < n; i++) ov.add(A.subarray(i * dim, (i + 1) * dim), B.subarray(i * dim, (i + 1) * dim));
    const r = ov.finish()!;
    expect(r).toMatchObject({ k: 10, sample: 40, sample_from: 700, pool: 4000 });
    // Brute force: the same queries, all 4000 pool words, cosine in double precision.
    const picks = samplePool(700, 40, 3);
    const top = (M: Float32Array, q: number) => {
      const norm = (i: number) => Math.hypot(...M.subarray(i * dim, (i + 1) * dim));
      const scores: [number, number][] = [];
      for (let t = 0; t < 4000; t++) {
        if (t === q) continue;
        let d = 0;
        for (let j = 0; j < dim; j++) d += M[q * dim + j]! * M[t * dim + j]!;
        scores.push([d / norm(q) / norm(t), t]);
      }
      scores.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      return new Set(scores.slice(0, 10).map((s) => s[1]));
    };
    const dist = new Array(11).fill(0);
    let sum = 0;
    for (const q of picks) {
      const a = top(A, q);
      const both = [...top(B, q)].filter((t) => a.has(t)).length;
      dist[both]++;
      sum += both / 10;
    }
    expect(r.distribution).toEqual(dist);
    expect(r.overlap).toBeCloseTo(sum / 40, 6);
    expect(r.overlap).toBeGreaterThan(0.1);
    expect(r.overlap).toBeLessThan(0.95);
  });
});

describe.skipIf(!HAVE_FIXTURES)('eval', () => {
  test('a model against itself: every cosine 1, overlap 1, the same Spearman', async () => {
    const r = await evaluate(EXAMPLE, EXAMPLE, { pairs: WORDSIM, sample: 300, sampleFrom: 2000 });
    expect(r.shared).toBe(8661);
    expect(r.cosine.count).toBe(8661);
    expect(r.cosine.identical).toBe(8661);
    expect(r.cosine.min).toBeGreaterThanOrEqual(0.999999);
    expect(r.cosine.mean).toBeCloseTo(1, 6);
    expect(r.neighbours).toMatchObject({ overlap: 1, min: 1, sample: 300, sample_from: 2000, pool: 8661 });
    expect(r.neighbours!.distribution[10]).toBe(300);
    expect(r.pairs!.vocabulary.pairs).toBeGreaterThan(100);
    expect(r.pairs!.vocabulary.pruned).toBe(r.pairs!.vocabulary.original);
    expect(r.missing.from_pruned + r.missing.from_original).toBe(0);
  });

  test('against a shuffled copy (rows permuted among words, another format): low overlap and cosine', async () => {
    const m = await loadModel(EXAMPLE);
    const shuffled = path.join(newDir(), 'shuffled.bin');
    writeShuffled(m, shuffled);
    const r = await evaluate(EXAMPLE, shuffled, { pairs: WORDSIM, sample: 300, sampleFrom: 2000, pool: 5000 });
    expect(r.pruned.format).toBe('w2v-bin');
    expect(r.shared).toBe(8661);
    expect(r.neighbours).toMatchObject({ sample: 300, sample_from: 2000, pool: 5000 });
    expect(r.neighbours!.overlap).toBeLessThan(0.05);
    expect(r.cosine.mean).toBeLessThan(0.5);
    expect(r.cosine.identical).toBeLessThan(10);
    expect(Math.abs(r.pairs!.vocabulary.pruned)).toBeLessThan(r.pairs!.vocabulary.original);
  });

  test('weights: Zipf by rank without counts, counts from a fastText .bin', async () => {
    const r = await evaluate(EXAMPLE, EXAMPLE, { sample: 0 });
    expect(r.weights).toBe('zipf');
    const ft = fixture('gensim', 'toy-model.bin');
    const r2 = await evaluate(ft, ft, { sample: 0 });
    expect(r2.weights).toBe('counts');
    expect(r2.original.counts).toBe(true);
    expect(r2.cosine.weighted_mean).toBeCloseTo(1, 6);
  });

  test('a fastText .bin as the pruned side: words it lacks are built from subwords and reported apart', async () => {
    const vec = fs.readFileSync(fixture('gensim', 'toy-model.vec'), 'latin1').trim().split('\n');
    const [rows] = vec[0]!.split(' ').map(Number);
    // The .vec fastText wrote for the same model, plus three words the .bin does not know.
    const extra = ['zzzanarchismq 0.1 0.2 0.3 0.4 0.5', 'anarchismsq -0.1 0.2 -0.3 0.4 -0.5', 'qqtheq 0.5 0.4 0.3 0.2 0.1'];
    const orig = path.join(newDir(), 'toy-plus.vec');
    fs.writeFileSync(orig, [`${rows! + 3} 5`, ...vec.slice(1), ...extra].join('\n') + '\n', 'latin1');
    const pairs = path.join(newDir(), 'pairs.tsv');
    fs.writeFileSync(pairs, 'the\tof\t5\nthe\tand\t4\nof\tin\t3\nas\tis\t2\nthe\tzzzanarchismq\t1\nqqtheq\tthe\t6\n');
    const r = await evaluate(orig, fixture('gensim', 'toy-model.bin'), { pairs, sample: 0 });
    expect(r.shared).toBe(rows);
    // The .vec holds the .bin's word vectors printed with 5 significant digits.
    expect(r.cosine.min).toBeGreaterThan(0.9999);
    expect(r.subwords?.count).toBe(3);
    expect(r.missing.from_pruned).toBe(0);
    expect(r.pairs!.vocabulary.pairs).toBe(4);
    expect(r.pairs!.with_subwords).toMatchObject({ pairs: 6, original_subword_words: 0, pruned_subword_words: 2 });
    expect(r.pairs!.unused).toBe(0);
  });

  test('dimension mismatch is a usage error', async () => {
    await expect(evaluate(EXAMPLE, fixture('finalfusion', 'similarity.bin'), { sample: 0 })).rejects.toThrow(/cannot compare: .* has 25 dimensions, .* has 100/);
  });
});

describe.skipIf(!HAVE_FIXTURES)('pruned models: finalfusion <word> entries and mapping files', () => {
  const dir = newDir();
  const fifu = path.join(dir, 'p.fifu');
  const fifuMap = path.join(dir, 'p-fifu.map.tsv');
  const kept = path.join(dir, 'kept.bin');
  const keptMap = path.join(dir, 'kept.map.tsv');
  const mapping = () =>
    fs
      .readFileSync(keptMap, 'latin1')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));

  test('prune writes them (CLI)', () => {
    for (const args of [
      [EXAMPLE, '-o', fifu, '--keep', '1000', '--mapping', fifuMap],
      [EXAMPLE, '-o', kept, '--keep', '1000', '--layout', 'kept', '--mapping', keptMap],
    ]) {
      const r = runCli(['prune', ...args, '-q']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  test('eval: each mapped word gets the cosine the mapping file gives it', async () => {
    const lines = mapping();
    const want = (1000 + lines.reduce((s, l) => s + Number(l[2]), 0)) / 8661;
    for (const [file, opts] of [
      [fifu, {}],
      [kept, { mapping: keptMap }],
    ] as const) {
      const r = await evaluate(EXAMPLE, file, { ...opts, sample: 0 });
      expect(r.shared).toBe(8661);
      expect(r.mapped).toBe(8661 - 1000);
      expect(r.pruned.mapped).toBe(8661 - 1000);
      expect(r.cosine.identical).toBeGreaterThanOrEqual(1000);
      expect(r.cosine.mean).toBeCloseTo(want, 5);
      expect(r.missing.from_pruned).toBe(0);
    }
  });

  test('lookup: has/vector/mappedTo/similar on the pruned finalfusion file agree with the mapping file', async () => {
    const lk = await openLookup(fifu);
    expect(lk.pruned).toEqual({ kind: 'fifu', layout: 'duplicate', mapped: 8661 - 1000 });
    expect(lk.vocabSize).toBe(1000);
    expect(lk.size).toBe(8661);
    const lines = mapping();
    for (const [word, keptWord] of [lines[0]!, lines[100]!, lines[lines.length - 1]!]) {
      expect(lk.has(word!)).toBe(true);
      const v = await lk.vector(word!);
      expect(v!.source).toBe('mapped');
      expect(await lk.mappedTo(word!)).toBe(keptWord);
      const k = await lk.vector(keptWord!);
      expect(k!.source).toBe('vocab');
      expect(Array.from(v!.vector)).toEqual(Array.from(k!.vector));
      const s = await lk.similar(word!, 3);
      expect(s!.identical).toBe(keptWord);
      expect(s!.neighbours[0]).toEqual({ word: keptWord, cosine: expect.closeTo(1, 6) });
    }
    expect(lk.has(T('qqqzzz'))).toBe(false);
    expect(await lk.vector(T('qqqzzz'))).toBeUndefined();
    await lk.close();
  });

  test('lookup: a kept-layout word2vec file plus its mapping file', async () => {
    const lk = await openLookup(kept, { mapping: keptMap });
    expect(lk.pruned?.kind).toBe('mapping');
    expect(lk.vocabSize).toBe(1000);
    expect(lk.size).toBe(8661);
    const [word, keptWord, cos] = mapping()[42]!;
    const v = await lk.vector(word!);
    expect(v).toMatchObject({ source: 'mapped', mappedTo: keptWord, cosine: Number(cos) });
    expect(Array.from(v!.vector)).toEqual(Array.from((await lk.vector(keptWord!))!.vector));
    await lk.close();
  });

  test('similar (CLI) says what a pruned word is mapped to, for both kinds', () => {
    const [word, keptWord] = mapping()[7]!;
    const a = runCli(['similar', fifu, word!, '-k', '3']);
    expect(a.code).toBe(0);
    expect(a.stdout.toString().split('\n')[0]).toBe(`${word}: mapped to ${keptWord}`);
    const b = runCli(['similar', kept, '--mapping', keptMap, word!, '-k', '3', '--json']);
    expect(b.code).toBe(0);
    const j = JSON.parse(b.stdout.toString());
    expect(j[0]).toMatchObject({ word, source: 'mapped', mapped_to: keptWord });
    expect(j[0].neighbours[0]).toMatchObject({ word: keptWord, cosine: 1 });
    expect(j[0].neighbours).toHaveLength(3);
  });

  test('eval (CLI) prints the measures, and JSON with --json', () => {
    const r = runCli(['eval', EXAMPLE, fifu, '--sample', '100', '--sample-from', '1000']);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/^shared +8661 words \(7661 mapped to a kept row\)$/m);
    expect(out).toMatch(/^neighbours +overlap@10 0\.\d{4} \(min 0\.\d{4}\): 100 words drawn from the 1000 most frequent shared words, neighbours among the 8661 most frequent$/m);
    expect(out).toMatch(/^pairs +wordsim353\.tsv: 353 pairs; Spearman on \d+ pairs in both vocabularies: original 0\.\d{4}, pruned 0\.\d{4}$/m);
    const j = JSON.parse(runCli(['eval', EXAMPLE, fifu, '--sample', '0', '--json', '--pairs', 'none']).stdout.toString());
    expect(j.shared).toBe(8661);
    expect(j.pairs).toBeUndefined();
    expect(j.neighbours).toBeUndefined();
    const bad = runCli(['eval', EXAMPLE, fifu, '--pairs', path.join(dir, 'nope.tsv')]);
    expect(bad.code, bad.stderr).toBe(3);
    expect(bad.stderr).toMatch(/nope\.tsv: no such pairs file/);
  });
});

const HAVE_RSVG = spawnSync('sh', ['-c', 'command -v rsvg-convert'], { stdio: 'ignore' }).status === 0;
if (!HAVE_RSVG && process.env.CI) throw new Error('rsvg-convert missing: .ci/run must install librsvg2-bin');

/** Numbers of an SVG `points="x,y x,y"` attribute. */
const polyPoints = (pts: string) => pts.trim().split(/\s+/).map((p) => p.split(',').map(Number) as [number, number]);

describe.skipIf(!HAVE_FIXTURES)('sweep', () => {
  const out = newDir();
  const methods = ['topn', 'kmeans', 'cover'];
  const keeps = [100, 200, 400];

  test('runs every method x keep on the example model and writes the table', () => {
    const r = runCli(['sweep', EXAMPLE, '--keep', keeps.join(','), '--method', methods.join(','), '-o', out, '--pairs', WORDSIM, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.toString().trim().split('\n');
    expect(lines[0]).toMatch(/^method +keep +rows +size +mean cos +p5 cos +Spearman +time$/);
    expect(lines).toHaveLength(1 + 9 + 2);
    const tsv = fs.readFileSync(path.join(out, 'sweep.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    expect(tsv[0]).toEqual(['method', 'keep', 'rows', 'bytes', 'mean_cosine', 'weighted_mean_cosine', 'p5_cosine', 'spearman', 'seconds']);
    const rows = tsv.slice(1).map(([method, keep, kept, bytes, mean, wmean, p5, rho, secs]) => ({ method, keep: +keep!, kept: +kept!, bytes: +bytes!, mean: +mean!, wmean: +wmean!, p5: +p5!, rho: +rho!, secs: +secs! }));
    expect(rows.map((x) => `${x.method}-${x.keep}`)).toEqual(methods.flatMap((m) => keeps.map((k) => `${m}-${k}`)));
    for (const x of rows) {
      expect(x.kept).toBe(x.keep);
      expect(x.mean).toBeGreaterThan(0.5);
      expect(x.mean).toBeLessThan(1);
      expect(x.p5).toBeLessThan(x.mean);
      expect(Number.isFinite(x.rho)).toBe(true);
      expect(x.secs).toBeGreaterThan(0);
    }
    for (const m of methods) {
      const s = rows.filter((x) => x.method === m);
      // Bigger kept tables make bigger files.
      expect(s[0]!.bytes).toBeLessThan(s[1]!.bytes);
      expect(s[1]!.bytes).toBeLessThan(s[2]!.bytes);
    }
    // Top-N keeps a superset of rows as N grows, so no word's cosine can drop.
    const topn = rows.filter((x) => x.method === 'topn');
    expect(topn[0]!.mean).toBeLessThan(topn[1]!.mean);
    expect(topn[1]!.mean).toBeLessThan(topn[2]!.mean);
    // The pruned models themselves were removed; the results stay.
    expect(fs.readdirSync(out).sort()).toEqual(['sweep.json', 'sweep.svg', 'sweep.tsv']);
  }, 240_000); // nine prune runs and evaluations: 7 s of CPU (user), longer on a busy machine

  test('the SVG is well-formed, one polyline per method in each panel, size axis increasing', () => {
    const file = path.join(out, 'sweep.svg');
    const svg = fs.readFileSync(file, 'utf8');
    // An independent XML parser accepts it.
    const py = spawnSync('/usr/bin/python3', ['-c', 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.tag)', file]);
    expect(py.stderr.toString()).toBe('');
    expect(py.stdout.toString().trim()).toBe('{http://www.w3.org/2000/svg}svg');
    expect(svg).toMatch(/<title>Pruning gcide-small\.vec: quality against size<\/title>/);
    const panels = svg.split('<g class="panel"').slice(1);
    expect(panels).toHaveLength(2);
    for (const p of panels) {
      const lines = [...p.matchAll(/<polyline class="series" data-method="([^"]+)" points="([^"]+)"/g)];
      expect(lines.map((m) => m[1])).toEqual(methods);
      for (const m of lines) {
        const pts = polyPoints(m[2]!);
        expect(pts).toHaveLength(keeps.length);
        for (let i = 1; i < pts.length; i++) expect(pts[i]![0]).toBeGreaterThan(pts[i - 1]![0]);
      }
      // Size axis: tick values and their positions both increase, and the unit is named.
      const axis = /<g class="x-axis" data-unit="(KiB|MiB|GiB|bytes)">([\s\S]*?)<\/g>/.exec(p)!;
      expect(axis).not.toBeNull();
      const ticks = [...axis[2]!.matchAll(/<text class="tick" data-value="([^"]+)" x="([^"]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < ticks.length; i++) {
        expect(ticks[i]![0]).toBeGreaterThan(ticks[i - 1]![0]!);
        expect(ticks[i]![1]).toBeGreaterThan(ticks[i - 1]![1]!);
      }
      expect(axis[2]).toContain(`model size on disk (${axis[1]})`);
    }
    // Legend: every method named once.
    const legend = /<g class="legend">([\s\S]*?)<\/g>/.exec(svg)![1]!;
    expect([...legend.matchAll(/<text[^>]*>([^<]+)<\/text>/g)].map((m) => m[1])).toEqual(methods);
    // The original model's Spearman is drawn as the reference line.
    const json = JSON.parse(fs.readFileSync(path.join(out, 'sweep.json'), 'utf8'));
    expect(svg).toContain(`original model ${json.pairs.original_spearman.toFixed(3)}`);
  });

  test.skipIf(!HAVE_RSVG)('rsvg-convert renders it without error', () => {
    const png = path.join(out, 'sweep.png');
    const r = spawnSync('rsvg-convert', [path.join(out, 'sweep.svg'), '-o', png]);
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
    const b = fs.readFileSync(png);
    expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([b.readUInt32BE(16), b.readUInt32BE(20)]).toEqual([1000, 530]);
    fs.rmSync(png);
  });

  test('bad lists are usage errors', () => {
    const a = runCli(['sweep', EXAMPLE, '--keep', '10,x', '-o', out]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--keep values must be positive integers, got "x"/);
    const b = runCli(['sweep', EXAMPLE, '--keep', '10', '--method', 'topn,pca', '-o', out]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown --method "pca"; choose from topn, kmeans, cover/);
  });
});
