/**
 * fastText .bin/.ftz reader, checked against the real fastText (`fasttext print-word-vectors`) on
 * the shared fixtures, on models trained here with `fasttext skipgram`, and on quantized files built
 * here; old-layout fixtures against gensim's load_facebook_vectors; bad input -> InputError with offset.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputError } from '../pipeline/errors.js';
import { openSource, sourceFromBuffer, type Source } from '../pipeline/source.js';
import { collect } from '../pipeline/stream.js';
import { wordFromText } from '../pipeline/words.js';
import { fasttextBuckets } from '../stages/subwords/fasttext-hash.js';
import { fasttextCodec, openFastText, type FastTextModel, type QuantLayout } from '../stages/formats/fasttext/index.js';
import { fixture, HAVE_FASTTEXT, HAVE_FIXTURES, HAVE_NUMPY, tmpDir } from './helpers/fixtures.js';

const HAVE_GENSIM =
  HAVE_NUMPY && spawnSync('/usr/bin/python3', ['-c', 'import gensim'], { stdio: 'ignore' }).status === 0;
if (process.env.CI && !HAVE_GENSIM) throw new Error('python3-gensim missing: CI must install it for the old-layout fastText tests');
if (!HAVE_FASTTEXT) console.warn('skipping fastText peer tests: the fasttext binary is not installed');

const sources: Source[] = [];
afterAll(async () => {
  for (const s of sources) await s.close();
});

async function open(file: string, opts?: Parameters<typeof openFastText>[1]): Promise<FastTextModel> {
  const s = await openSource(file);
  sources.push(s);
  return openFastText(s, opts);
}

async function openBuffer(b: Uint8Array, opts?: Parameters<typeof openFastText>[1]): Promise<FastTextModel> {
  const s = await sourceFromBuffer(b, 'test.bin');
  sources.push(s);
  return openFastText(s, opts);
}

/** Every word vector of a pass, by word. */
async function passVectors(m: FastTextModel, batchRows?: number): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const batches = await collect(m.pass({ batchRows }));
  let next = 0;
  for (const b of batches) {
    expect(b.start).toBe(next);
    expect(b.counts).toBeDefined();
    for (let i = 0; i < b.words.length; i++) {
      expect(b.counts![i]).toBe(m.dictionary.counts[b.start + i]);
      out.set(b.words[i]!, b.vectors.slice(i * b.dim, (i + 1) * b.dim));
    }
    next += b.words.length;
  }
  expect(next).toBe(m.nwords);
  return out;
}

/** `fasttext print-word-vectors MODEL < words`, words as byte strings (one per line). */
function fasttextVectors(model: string, words: readonly string[]): Map<string, number[]> {
  const r = spawnSync('fasttext', ['print-word-vectors', model], {
    input: Buffer.from(words.join('\n') + '\n', 'latin1'),
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`fasttext print-word-vectors ${model} failed: ${r.stderr.toString()}`);
  const out = new Map<string, number[]>();
  for (const line of r.stdout.toString('latin1').split('\n')) {
    if (!line) continue;
    const parts = line.split(' ').filter((p) => p !== '');
    out.set(parts[0]!, parts.slice(1).map(Number));
  }
  return out;
}

/** Words fastText's `cin >> word` can read back (no ASCII whitespace). */
const queryable = (w: string) => w.length > 0 && !/[\t\n\v\f\r ]/.test(w);

/**
 * Max |ours - theirs| over all words, and the count of values outside fastText's print precision
 * (5 significant digits: |error| <= half a unit of the 5th digit) plus float32 slack.
 */
function compareAll(ours: (w: string) => Float32Array | undefined, theirs: Map<string, number[]>) {
  let maxAbs = 0;
  let outside = 0;
  let n = 0;
  for (const [w, t] of theirs) {
    const o = ours(w);
    expect(o, `no vector for ${JSON.stringify(w)}`).toBeDefined();
    expect(o!.length).toBe(t.length);
    // float32 sums in another order differ by a few ulps of the summands, not of the result
    const scale = t.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    for (let d = 0; d < t.length; d++) {
      const diff = Math.abs(o![d]! - t[d]!);
      maxAbs = Math.max(maxAbs, diff);
      const e = t[d] === 0 ? -10 : Math.floor(Math.log10(Math.abs(t[d]!)));
      if (diff > 0.5 * 10 ** (e - 4) * 1.0001 + 1e-6 * scale) outside++;
    }
    n++;
  }
  return { maxAbs, outside, n };
}

/** Checks a model against fastText: every queryable dictionary word (pass) and `unknown` words (vectorsFor). */
async function checkAgainstFastText(file: string, unknown: string[], opts?: Parameters<typeof openFastText>[1]) {
  const m = await open(file, opts);
  const ours = await passVectors(m);
  const words = m.dictionary.words.slice(0, m.nwords).filter(queryable);
  expect(words.length).toBeGreaterThan(0);
  const theirs = fasttextVectors(file, words);
  expect(theirs.size).toBe(new Set(words).size);
  const known = compareAll((w) => ours.get(w), theirs);
  expect(known.maxAbs).toBeLessThanOrEqual(1e-4);
  expect(known.outside).toBe(0);

  for (const w of unknown) expect(m.wordId(w), `${w} should be unknown`).toBe(-1);
  const theirsU = fasttextVectors(file, unknown);
  const vecs = await m.vectorsFor(unknown);
  const U = new Map(unknown.map((w, i) => [w, vecs.subarray(i * m.dim, (i + 1) * m.dim)]));
  const unk = compareAll((w) => U.get(w), theirsU);
  expect(unk.maxAbs).toBeLessThanOrEqual(1e-4);
  expect(unk.outside).toBe(0);
  // Unknown words really used n-gram rows (not all zero), except those without n-grams.
  if (m.subwords) expect(unknown.filter((w) => U.get(w)!.some((v) => v !== 0)).length).toBe(unknown.length);
  // vectorFor of known words equals the pass, bit for bit.
  const sample = words.slice(0, 25);
  const kv = await m.vectorsFor(sample);
  sample.forEach((w, i) => expect(Array.from(kv.subarray(i * m.dim, (i + 1) * m.dim))).toEqual(Array.from(ours.get(w)!)));
  return { m, ours, known, unk };
}

const T = (s: string) => wordFromText(s);

describe.skipIf(!HAVE_FIXTURES || !HAVE_FASTTEXT)('fastText fixtures against fasttext print-word-vectors', () => {
  test('toy-model.bin (version 12, cbow)', async () => {
    const { m } = await checkAgainstFastText(fixture('gensim', 'toy-model.bin'), ['zzzq', 'theoretical', 'anarchisms', 'xyzw', 'q', 'qj']);
    expect(m.layout.header.version).toBe(12);
    expect(m.info.details?.model).toBe('cbow');
    expect(m.info.hasCounts).toBe(true);
  });

  test('lee_fasttext_new.bin (version 11)', async () => {
    const { m } = await checkAgainstFastText(fixture('gensim', 'lee_fasttext_new.bin'), ['zzzq', 'governmentally', 'Australiansk', 'hellooo']);
    expect(m.layout.header.layout).toBe('v11');
    expect(m.nwords).toBe(1763);
  });

  test('finalfusion fasttext.bin (German, </s> first)', async () => {
    const { m, ours } = await checkAgainstFastText(fixture('finalfusion', 'fasttext.bin'), [T('Straße'), T('übermorgen'), 'Kindergarten', 'zzz']);
    expect(m.dictionary.words[0]).toBe('</s>');
    // </s> has no n-grams in version 12: its vector is its own row.
    expect(Array.from(ours.get('</s>')!)).toEqual(Array.from(await m.readInputRows(0, 1)));
  });
});

describe('codec detection', () => {
  test.skipIf(!HAVE_FIXTURES)('magic -> 2, old layout -> 1, other formats -> 0', async () => {
    const head = (p: string) => fs.readFileSync(p).subarray(0, 1 << 16);
    expect(fasttextCodec.detect(head(fixture('gensim', 'toy-model.bin')), 0)).toBe(2);
    expect(fasttextCodec.detect(head(fixture('gensim', 'lee_fasttext_new.bin')), 0)).toBe(2);
    expect(fasttextCodec.detect(head(fixture('gensim', 'lee_fasttext.bin')), 0)).toBe(1);
    expect(fasttextCodec.detect(head(fixture('gensim', 'cp852_fasttext.bin')), 0)).toBe(1);
    for (const f of [
      fixture('finalfusion', 'similarity.bin'),
      fixture('finalfusion', 'similarity.fifu'),
      fixture('finalfusion', 'similarity.txt'),
      fixture('gensim', 'euclidean_vectors.bin'),
      fixture('gensim', 'test_glove.txt'),
    ]) {
      expect(fasttextCodec.detect(head(f), 0), f).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Models trained here.

const EN_WORDS = (
  'the river runs over stones and the light falls on green water while quick brown foxes jump ' +
  'over lazy dogs near the forest house at the mountain where children play with cats and birds sing'
).split(' ');
const CS_WORDS = (
  'příliš žluťoučký kůň úpěl ďábelské ódy řeka teče přes kameny a světlo padá na zelenou vodu ' +
  'děti si hrají u lesa kde ptáci zpívají v horách stojí malý dům se zahradou škola město člověk'
).split(' ');
/** ISO-8859-2 bytes of the Czech letters used above. */
const LATIN2: Record<string, number> = { á: 0xe1, č: 0xe8, ď: 0xef, é: 0xe9, ě: 0xec, í: 0xed, ň: 0xf2, ó: 0xf3, ř: 0xf8, š: 0xb9, ť: 0xbb, ú: 0xfa, ů: 0xf9, ý: 0xfd, ž: 0xbe };
function latin2(text: string): Buffer {
  return Buffer.from(
    [...text].map((ch) => {
      const c = ch.charCodeAt(0);
      if (c < 0x80) return c;
      const b = LATIN2[ch];
      if (b === undefined) throw new Error(`no ISO-8859-2 byte for ${ch}`);
      return b;
    }),
  );
}

/** Deterministic pseudo-random sentences over a vocabulary. */
function corpus(vocab: string[], lines: number, seed: number): string {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 6 + Math.floor(rnd() * 8);
    const line: string[] = [];
    for (let k = 0; k < n; k++) line.push(vocab[Math.floor(rnd() * rnd() * vocab.length)]!);
    out.push(line.join(' '));
  }
  return out.join('\n') + '\n';
}

function train(dir: string, name: string, text: Buffer, extra: string[] = []): string {
  const input = path.join(dir, `${name}.txt`);
  fs.writeFileSync(input, text);
  const r = spawnSync(
    'fasttext',
    ['skipgram', '-input', input, '-output', path.join(dir, name), '-dim', '12', '-epoch', '5', '-minCount', '1', '-bucket', '5000', '-minn', '2', '-maxn', '5', '-thread', '1', '-lr', '0.2', '-verbose', '0', ...extra],
    { encoding: 'latin1' },
  );
  if (r.status !== 0) throw new Error(`fasttext skipgram failed: ${r.stderr}`);
  return path.join(dir, `${name}.bin`);
}

describe.skipIf(!HAVE_FASTTEXT)('models trained with fasttext skipgram', () => {
  let dir = '';
  beforeAll(() => {
    dir = tmpDir('pp-fasttext-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('plain English', async () => {
    const file = train(dir, 'en', Buffer.from(corpus(EN_WORDS, 400, 7)));
    const { m, ours } = await checkAgainstFastText(file, ['rivers', 'stony', 'waterfall', 'zq', 'x', 'housecats']);
    expect(m.wordId('</s>')).toBeGreaterThanOrEqual(0);
    expect(m.nwords).toBe(new Set(EN_WORDS).size + 1);
    // Streaming path (n-gram rows not resident) gives the same bits as the resident path.
    const small = await open(file, { memoryBytes: 4096 });
    expect(small.tableResident).toBe(false);
    const streamed = await passVectors(small, 5);
    for (const [w, v] of ours) expect(Array.from(streamed.get(w)!), w).toEqual(Array.from(v));
    const unk = ['rivers', 'waterfall'];
    expect(Array.from(await small.vectorsFor(unk))).toEqual(Array.from(await m.vectorsFor(unk)));
  });

  test('Czech, UTF-8', async () => {
    const file = train(dir, 'cs', Buffer.from(corpus(CS_WORDS, 400, 11)));
    const unknown = ['žluťoučká', 'řekami', 'ďábel', 'přílišný', 'čč'].map(T);
    const { m } = await checkAgainstFastText(file, unknown);
    expect(m.wordId(T('příliš'))).toBeGreaterThanOrEqual(0);
  });

  test('Czech in ISO-8859-2 (words that are not valid UTF-8)', async () => {
    const file = train(dir, 'l2', latin2(corpus(CS_WORDS, 400, 11)));
    const unknown = ['žluťoučká', 'řekami', 'ďábel', 'přílišný', 'šťáva'].map((w) => latin2(w).toString('latin1'));
    const { m, ours } = await checkAgainstFastText(file, unknown);
    const w = latin2('žluťoučký').toString('latin1');
    expect(ours.has(w)).toBe(true);
    expect(Buffer.from(w, 'latin1').toString('utf8')).toContain('\uFFFD');
    // The n-grams are the raw bytes' (0xbe, 0xbb, 0xb9 count as continuation bytes, as in fastText).
    expect(m.indexer.bucketsOf(w)).toEqual(fasttextBuckets(Buffer.from(w, 'latin1'), 2, 5, 5000));
  });

  test('a model without subwords (maxn 0) streams word rows', async () => {
    const file = train(dir, 'nosub', Buffer.from(corpus(EN_WORDS, 200, 3)), ['-maxn', '0']);
    const { m, ours } = await checkAgainstFastText(file, ['rivers', 'zq']);
    expect(m.subwords).toBeUndefined();
    expect(Array.from(await m.vectorFor('rivers')).every((v) => v === 0)).toBe(true);
    expect(Array.from(ours.get(m.dictionary.words[3]!)!)).toEqual(Array.from(await m.readInputRows(3, 1)));
  });

  test('supervised models are refused', async () => {
    const input = path.join(dir, 'sup.txt');
    fs.writeFileSync(input, '__label__a good day\n__label__b bad night\n__label__a fine morning\n');
    const r = spawnSync('fasttext', ['supervised', '-input', input, '-output', path.join(dir, 'sup'), '-dim', '4', '-epoch', '1', '-minCount', '1', '-bucket', '100', '-verbose', '0']);
    expect(r.status).toBe(0);
    const e = await open(path.join(dir, 'sup.bin')).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/supervised.*not supported/);
    expect(e.where.offset).toBe(8 + 7 * 4); // the model field of the arguments
    // The same file claiming to be skipgram is still refused, at its labels.
    const b = fs.readFileSync(path.join(dir, 'sup.bin'));
    b.writeInt32LE(2, 8 + 7 * 4);
    const e2 = await openBuffer(b).catch((x) => x);
    expect(e2).toBeInstanceOf(InputError);
    expect(e2.message).toMatch(/labels.*supervised.*not supported/);
    expect(e2.where.offset).toBe(64 + 8);
  });
});
