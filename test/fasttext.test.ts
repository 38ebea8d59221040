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
import { getFormat } from '../stages/formats/registry.js';
import { fixture, HAVE_FASTTEXT, HAVE_FIXTURES, HAVE_NUMPY, tmpDir } from './helpers/fixtures.js';

const HAVE_GENSIM =
  HAVE_NUMPY && spawnSync('/usr/bin/python3', ['-c', 'import gensim'], { stdio: 'ignore' }).status === 0;
if (process.env.CI && !HAVE_GENSIM) throw new Error('python3-gensim missing: CI must install it for the old-layout fastText tests');
if (!HAVE_FASTTEXT) console.warn('skipping fastText peer tests: the fasttext binary is not installed');

const sources: Source[] = [];
const models: FastTextModel[] = [];
afterAll(async () => {
  for (const m of models) await m.close();
  for (const s of sources) await s.close();
});

async function open(file: string, opts?: Parameters<typeof openFastText>[1]): Promise<FastTextModel> {
  const s = await openSource(file);
  sources.push(s);
  const m = await openFastText(s, opts);
  models.push(m);
  return m;
}

async function openBuffer(b: Uint8Array, opts?: Parameters<typeof openFastText>[1]): Promise<FastTextModel> {
  const s = await sourceFromBuffer(b, 'test.bin');
  sources.push(s);
  const m = await openFastText(s, opts);
  models.push(m);
  return m;
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
  for (const w of unknown) expect(m.wordId(w), `${w} should be unknown`).toBe(-1);
  // one fastText run for known and unknown words
  const all = fasttextVectors(file, [...words, ...unknown]);
  const theirs = new Map(words.map((w) => [w, all.get(w)!]));
  const theirsU = new Map(unknown.map((w) => [w, all.get(w)!]));
  expect(all.size).toBe(new Set([...words, ...unknown]).size);
  const known = compareAll((w) => ours.get(w), theirs);
  expect(known.maxAbs).toBeLessThanOrEqual(1e-4);
  expect(known.outside).toBe(0);

  const vecs = await m.vectorsFor(unknown);
  const U = new Map(unknown.map((w, i) => [w, vecs.subarray(i * m.dim, (i + 1) * m.dim)]));
  const unk = compareAll((w) => U.get(w), theirsU);
  expect(unk.maxAbs).toBeLessThanOrEqual(1e-4);
  expect(unk.outside).toBe(0);
  // Unknown words really used n-gram rows (not all zero), except those without n-grams.
  for (const w of unknown) {
    if (m.indexer.indices(w).length > 0) expect(U.get(w)!.some((v) => v !== 0), w).toBe(true);
  }
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

describe.skipIf(!HAVE_FIXTURES)('.vec files fastText wrote beside its .bin', () => {
  // fastText's .vec holds getWordVector of every word (5 significant digits); lee_fasttext.vec
  // comes from the fastText that wrote the old layout, </s> included.
  for (const [bin, vec] of [
    ['lee_fasttext.bin', 'lee_fasttext.vec'],
    ['toy-model.bin', 'toy-model.vec'],
  ]) {
    test(`${bin} agrees with ${vec}`, async () => {
      const m = await open(fixture('gensim', bin));
      const lines = fs.readFileSync(fixture('gensim', vec), 'latin1').split('\n').filter(Boolean);
      expect(lines[0]).toBe(`${m.nwords} ${m.dim}`);
      const theirs = new Map(lines.slice(1).map((l) => {
        const p = l.trim().split(' ');
        return [p[0]!, p.slice(1).map(Number)] as [string, number[]];
      }));
      expect(theirs.size).toBe(m.nwords);
      const ours = await passVectors(m);
      const r = compareAll((w) => ours.get(w), theirs);
      expect(r.n).toBe(m.nwords);
      expect(r.maxAbs).toBeLessThanOrEqual(1e-4);
      expect(r.outside).toBe(0);
    });
  }
});

describe('codec detection', () => {
  test.skipIf(!HAVE_FIXTURES)('magic -> 2, old layout -> 1, other formats -> 0', async () => {
    const head = (p: string) => fs.readFileSync(p).subarray(0, 1 << 16);
    expect(fasttextCodec.detect(head(fixture('gensim', 'toy-model.bin')), 0)).toBe(2);
    expect(fasttextCodec.detect(head(fixture('gensim', 'lee_fasttext_new.bin')), 0)).toBe(2);
    expect(fasttextCodec.detect(head(fixture('gensim', 'lee_fasttext.bin')), 0)).toBe(1);
    expect(fasttextCodec.detect(head(fixture('gensim', 'cp852_fasttext.bin')), 0)).toBe(1);
    // registered under its name; the registry's open gives the same reader
    expect(getFormat('fasttext')).toBe(fasttextCodec);
    const src = await openSource(fixture('gensim', 'toy-model.bin'));
    sources.push(src);
    const r = await fasttextCodec.open(src, { batchRows: 7 });
    models.push(r as FastTextModel);
    expect(r.info).toMatchObject({ format: 'fasttext', rows: 22, dim: 5, hasCounts: true });
    expect((await collect(r.pass())).map((b) => b.words.length)).toEqual([7, 7, 7, 1]);
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
    // n-gram rows: from memory, from the file, and as raw input-matrix rows
    const rows = Array.from(await small.subwords!.read(3, 4));
    expect(rows).toEqual(Array.from(await m.subwords!.read(3, 4)));
    expect(rows).toEqual(Array.from(await m.readInputRows(m.nwords + 3, 4)));
    expect(m.subwords!.indexer.size).toBe(5000);
  });

  test('a non-finite n-gram row is an InputError where a sweep uses it, and only there', async () => {
    const file = train(dir, 'en-nan', Buffer.from(corpus(EN_WORDS, 400, 7)));
    const m = await open(file);
    const dense = m.layout.input as { dataOffset: number };
    const rowOffset = (tableRow: number) => dense.dataOffset + (m.nwords + tableRow) * m.dim * 4;
    // a row the word 'rivers' uses, and a row no word of the dictionary (nor 'rivers') uses
    const used = m.indexer.indices('rivers')[2]!;
    const hit = new Set<number>(m.indexer.indices('rivers'));
    for (const w of m.dictionary.words) for (const r of m.indexer.indices(w)) hit.add(r);
    // between used rows, so that a run of rows reads it through
    let unused = Math.min(...hit);
    while (hit.has(unused)) unused++;
    const bytes = fs.readFileSync(file);
    bytes.writeFloatLE(NaN, rowOffset(unused) + 8);
    const quiet = path.join(dir, 'nan-unused.bin');
    fs.writeFileSync(quiet, bytes);
    // streaming sweeps read runs of rows through gaps: the unused bad row is read, never used, never reported
    const a = await open(quiet, { memoryBytes: 4096 });
    expect(a.tableResident).toBe(false);
    expect((await passVectors(a, 5)).size).toBe(m.nwords);
    expect((await a.vectorsFor(['rivers'])).every(Number.isFinite)).toBe(true);
    bytes.writeFloatLE(Infinity, rowOffset(used) + 12);
    const bad = path.join(dir, 'nan-used.bin');
    fs.writeFileSync(bad, bytes);
    for (let round = 0; round < 2; round++) {
      // a fresh reader each round: the check happens on the first read of the row
      const b = await open(bad, { memoryBytes: 4096 });
      const e = await b.vectorsFor(['rivers']).catch((x) => x);
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe(`row ${m.nwords + used} holds a non-finite value (Infinity)`);
      expect(e.where.offset).toBe(rowOffset(used) + 12);
    }
    // a pass whose sweeps run in a sweep worker (which reads and checks the rows itself)
    const c = await open(bad, { memoryBytes: 4096, threads: 2 });
    c.passPlan = { sweepWorker: true };
    const e = await passVectors(c, 5).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe(`row ${m.nwords + used} holds a non-finite value (Infinity)`);
    expect(e.where).toMatchObject({ file: bad, offset: rowOffset(used) + 12 });
    expect(c.backgroundSweeps).toBe(0);
    // and on the good file, the same vectors as a pass on this thread
    const d = await open(quiet, { memoryBytes: 4096, threads: 2 });
    d.passPlan = { sweepWorker: true };
    const viaWorker = await passVectors(d, 5);
    expect(d.backgroundSweeps).toBe(1);
    const here = await passVectors(a, 5);
    for (const [w, v] of here) expect(Array.from(viaWorker.get(w)!), w).toEqual(Array.from(v));
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

// ---------------------------------------------------------------------------------------------
// The old layout (no magic number): gensim reads it, fastText 0.9.2 does not.

const GENSIM_PEER = `
import sys, json
import numpy as np
from gensim.models.fasttext import load_facebook_vectors
out = []
for req in json.load(sys.stdin):
    enc = req['encoding']
    wv = load_facebook_vectors(req['path'], encoding=enc)
    vec = [[float(x) for x in wv[bytes.fromhex(h).decode(enc)]] for h in req['words']]
    out.append({
      'vocab': [w.encode(enc).hex() for w in wv.index_to_key],
      'vectors': vec,
      'vocabRows': np.asarray(wv.vectors_vocab, dtype=np.float64).ravel().tolist(),
      'ngramRows': np.asarray(wv.vectors_ngrams, dtype=np.float64).ravel().tolist(),
    })
print(json.dumps(out))
`;

interface GensimAnswer {
  vocab: string[];
  vectors: number[][];
  vocabRows: number[];
  ngramRows: number[];
}

/** One python run (gensim takes seconds to import) answering several requests. */
function gensim(reqs: { path: string; encoding: string; words: readonly string[] }[]): GensimAnswer[] {
  const r = spawnSync('/usr/bin/python3', ['-c', GENSIM_PEER], {
    input: JSON.stringify(reqs.map((q) => ({ ...q, words: q.words.map((w) => Buffer.from(w, 'latin1').toString('hex')) }))),
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`gensim failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as GensimAnswer[];
}

/** The same model in the version-12 layout: magic, version, pruneidx_size -1, quant flags 0. */
function toVersion12(file: string, m: FastTextModel): Buffer {
  const b = fs.readFileSync(file);
  const { input, output } = m.layout;
  const i32 = (v: number) => {
    const x = Buffer.alloc(4);
    x.writeInt32LE(v);
    return x;
  };
  const i64 = (v: number) => {
    const x = Buffer.alloc(8);
    x.writeBigInt64LE(BigInt(v));
    return x;
  };
  return Buffer.concat([
    i32(793712314),
    i32(12),
    b.subarray(0, 56 + 20),
    i64(-1),
    b.subarray(56 + 20, m.layout.dictionary.end),
    Buffer.of(0),
    b.subarray(input.offset, input.end),
    Buffer.of(0),
    b.subarray(output.offset, output.end),
  ]);
}

const isAscii = (w: string) => /^[\x00-\x7f]*$/.test(w);

describe.skipIf(!HAVE_FIXTURES || !HAVE_GENSIM)('old-layout fixtures against gensim load_facebook_vectors', () => {
  const cases = [
    { file: 'lee_fasttext.bin', encoding: 'utf-8', unknown: ['governmentally', 'zzzq', 'Australiansk'], words: 1762 },
    { file: 'non_ascii_fasttext.bin', encoding: 'utf-8', unknown: [T('kteréhož'), T('příliš'), 'qq'], words: 171 },
    // gensim decodes cp852 and hashes the UTF-8 of the decoded text, so only ASCII words can agree
    // with it; fastText (on the same file in the version-12 layout) checks every word below.
    { file: 'cp852_fasttext.bin', encoding: 'cp852', unknown: ['zzzq', 'podlex', 'jenom'], words: 171 },
  ];
  const oldModels = new Map<string, FastTextModel>();
  const answers = new Map<string, GensimAnswer>();
  const compared = (c: (typeof cases)[number], m: FastTextModel) => {
    const words = m.dictionary.words.slice(0, m.nwords);
    return c.encoding === 'cp852' ? words.filter(isAscii) : words;
  };
  beforeAll(async () => {
    for (const c of cases) oldModels.set(c.file, await open(fixture('gensim', c.file)));
    const got = gensim(
      cases.map((c) => ({ path: fixture('gensim', c.file), encoding: c.encoding, words: [...compared(c, oldModels.get(c.file)!), ...c.unknown] })),
    );
    cases.forEach((c, i) => answers.set(c.file, got[i]!));
  });
  for (const c of cases) {
    test(c.file, async () => {
      const m = oldModels.get(c.file)!;
      expect(m.layout.header.layout).toBe('old');
      expect(m.nwords).toBe(c.words);
      const ours = await passVectors(m);
      const words = m.dictionary.words.slice(0, m.nwords);
      const g = answers.get(c.file)!;
      // Same dictionary, same raw rows.
      expect(g.vocab.map((h) => Buffer.from(h, 'hex').toString('latin1'))).toEqual(words);
      const raw = await m.readInputRows(0, m.nwords + m.tableRows);
      expect(Array.from(raw.subarray(0, m.nwords * m.dim))).toEqual(g.vocabRows);
      expect(Array.from(raw.subarray(m.nwords * m.dim))).toEqual(g.ngramRows);
      // Word vectors (known words, then unknown words).
      const unk = await m.vectorsFor(c.unknown);
      let maxAbs = 0;
      const known = compared(c, m);
      [...known, ...c.unknown].forEach((w, i) => {
        const o = i < known.length ? ours.get(w)! : unk.subarray((i - known.length) * m.dim, (i - known.length + 1) * m.dim);
        g.vectors[i]!.forEach((v, d) => (maxAbs = Math.max(maxAbs, Math.abs(v - o[d]!))));
      });
      expect(maxAbs).toBeLessThanOrEqual(1e-5);
      if (words.includes('</s>')) {
        // The old layout gives </s> n-grams like any word (gensim and the fastText of that time).
        expect(m.indexer.indices('</s>').length).toBeGreaterThan(0);
      }
    });
  }

  test.skipIf(!HAVE_FASTTEXT)('every word, through fastText on the same files in the version-12 layout', async () => {
    const dir = tmpDir('pp-ft-old-');
    try {
      for (const c of cases) {
        const file = fixture('gensim', c.file);
        const m = oldModels.get(c.file)!;
        const v12 = path.join(dir, c.file);
        fs.writeFileSync(v12, toVersion12(file, m));
        const ours = await passVectors(m);
        // </s> is the one word whose n-grams differ between the layouts (none in version 12).
        const words = m.dictionary.words.slice(0, m.nwords).filter((w) => queryable(w) && w !== '</s>');
        const unknown = c.encoding === 'cp852' ? [Buffer.from([0x6b, 0x74, 0x65, 0x72, 0xec, 0x6d]).toString('latin1'), 'zzzq'] : c.unknown;
        const theirs = fasttextVectors(v12, [...words, ...unknown]);
        const known = compareAll((w) => ours.get(w), new Map(words.map((w) => [w, theirs.get(w)!])));
        expect(known.n).toBe(words.length);
        expect(known.maxAbs, c.file).toBeLessThanOrEqual(1e-4);
        expect(known.outside, c.file).toBe(0);
        const uv = await m.vectorsFor(unknown);
        const at = (w: string) => unknown.indexOf(w) * m.dim;
        const unk = compareAll((w) => uv.subarray(at(w), at(w) + m.dim), new Map(unknown.map((w) => [w, theirs.get(w)!])));
        expect(unk.maxAbs, c.file).toBeLessThanOrEqual(1e-4);
        expect(unk.outside, c.file).toBe(0);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Quantized (.ftz) files built here from known centroids and codes.

interface FtzSpec {
  dim: number;
  dsub: number;
  words: string[];
  minn: number;
  maxn: number;
  bucket: number;
  /** Pruned: bucket -> n-gram row pairs; undefined = not pruned (rows = words + bucket). */
  prune?: [number, number][];
  qnorm: boolean;
  seed: number;
  /** Overrides of the product quantizer header (dim, nsubq, dsub, lastdsub). */
  pqHeader?: [number, number, number, number];
  codesizeDelta?: number;
  codesize?: number;
}

interface Ftz {
  bytes: Buffer;
  /** Expected decoded input rows, computed from the centroids and codes chosen here. */
  rows: number[][];
  offsets: { dictionary: number; input: number; codesize: number; pq: number };
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function buildFtz(spec: FtzSpec): Ftz {
  const { dim, dsub, words } = spec;
  const rnd = lcg(spec.seed);
  const nsubq = Math.ceil(dim / dsub);
  const lastdsub = dim - (nsubq - 1) * dsub;
  const subDims = (m: number) => (m === nsubq - 1 ? lastdsub : dsub);
  // centroid[m][k] = the sub-vector of sub-quantizer m, centroid k
  const centroid = Array.from({ length: nsubq }, (_, m) =>
    Array.from({ length: 256 }, () => Array.from({ length: subDims(m) }, () => Math.fround(rnd() * 2 - 1))),
  );
  const norms = Array.from({ length: 256 }, () => Math.fround(0.5 + rnd()));
  const tableRows = spec.prune ? spec.prune.length : spec.bucket;
  const m = words.length + tableRows;
  const codes = Array.from({ length: m }, () => Array.from({ length: nsubq }, () => Math.floor(rnd() * 256)));
  const normCodes = Array.from({ length: m }, () => Math.floor(rnd() * 256));
  const rows = codes.map((code, t) => {
    const alpha = spec.qnorm ? norms[normCodes[t]!]! : 1;
    return code.flatMap((k, mm) => centroid[mm]![k]!.map((c) => Math.fround(alpha * c)));
  });

  const parts: Buffer[] = [];
  let size = 0;
  const put = (b: Buffer) => {
    parts.push(b);
    size += b.length;
  };
  const i32 = (...v: number[]) => {
    const b = Buffer.alloc(4 * v.length);
    v.forEach((x, i) => b.writeInt32LE(x, 4 * i));
    put(b);
  };
  const i64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(v));
    put(b);
  };
  const f32 = (v: number[]) => put(Buffer.from(new Float32Array(v).buffer));
  i32(793712314, 12);
  i32(dim, 5, 5, 1, 5, 1, 2, 2, spec.bucket, spec.minn, spec.maxn, 100);
  const t = Buffer.alloc(8);
  t.writeDoubleLE(1e-4);
  put(t);
  const dictionary = size;
  i32(words.length, words.length, 0);
  i64(1000);
  i64(spec.prune ? spec.prune.length : -1);
  words.forEach((w, i) => {
    put(Buffer.concat([Buffer.from(w, 'latin1'), Buffer.of(0)]));
    i64(100 - i);
    put(Buffer.of(0));
  });
  for (const [k, r] of spec.prune ?? []) i32(k, r);
  put(Buffer.of(1)); // quantized input
  const input = size;
  put(Buffer.of(spec.qnorm ? 1 : 0));
  i64(m);
  i64(dim);
  const codesize = size;
  const cs = spec.codesize ?? m * nsubq + (spec.codesizeDelta ?? 0);
  i32(cs);
  put(Buffer.from(codes.flat().slice(0, Math.max(0, Math.min(cs, m * nsubq)))));
  const pq = size;
  i32(...(spec.pqHeader ?? [dim, nsubq, dsub, lastdsub]));
  // layout: sub-quantizer m's centroid k at (m*256 + k)*dsub, the last one's at m*256*dsub + k*lastdsub
  f32(centroid.flatMap((cm) => cm.flat()));
  if (spec.qnorm) {
    put(Buffer.from(normCodes));
    i32(1, 1, 1, 1);
    f32(norms);
  }
  put(Buffer.of(0)); // dense output
  i64(words.length);
  i64(dim);
  f32(Array.from({ length: words.length * dim }, () => rnd() - 0.5));
  return { bytes: Buffer.concat(parts), rows, offsets: { dictionary, input, codesize, pq } };
}

const FTZ_WORDS = ['</s>', 'river', 'stone', 'water', 'light', 'forest', 'house', 'green', T('žluťoučký'), T('kůň')];

/** Keeps every other bucket the words use. */
function prunePairs(minn: number, maxn: number, bucket: number): [number, number][] {
  const used = [...new Set(FTZ_WORDS.slice(1).flatMap((w) => fasttextBuckets(w, minn, maxn, bucket)))].sort((a, b) => a - b);
  return used.filter((_, i) => i % 2 === 0).map((k, i) => [k, i]);
}

describe('quantized input matrix (product quantizer)', () => {
  const specs: FtzSpec[] = [
    { dim: 6, dsub: 2, words: FTZ_WORDS, minn: 2, maxn: 4, bucket: 300, qnorm: false, seed: 1 },
    { dim: 5, dsub: 2, words: FTZ_WORDS, minn: 3, maxn: 5, bucket: 5000, prune: prunePairs(3, 5, 5000), qnorm: true, seed: 2 },
    { dim: 7, dsub: 3, words: FTZ_WORDS, minn: 2, maxn: 3, bucket: 1000, prune: [], qnorm: true, seed: 3 },
  ];

  test('decoded rows are norm x concatenated centroids', async () => {
    for (const spec of specs) {
      const f = buildFtz(spec);
      const m = await openBuffer(f.bytes);
      expect(m.quantized).toBe(true);
      const q = m.layout.input as QuantLayout;
      expect(q.qnorm).toBe(spec.qnorm);
      expect(q.pq.nsubq).toBe(Math.ceil(spec.dim / spec.dsub));
      const all = await m.readInputRows(0, f.rows.length);
      expect(Array.from(all)).toEqual(f.rows.flat());
      // n-gram rows through the subwords interface, resident or read at offsets
      if (m.tableRows > 1) {
        const want = f.rows.slice(m.nwords + 1, m.nwords + 3).flat();
        expect(Array.from(await m.readTableRows(1, 2))).toEqual(want);
        expect(Array.from(await m.subwords!.read(1, 2))).toEqual(want);
        const small = await openBuffer(f.bytes, { memoryBytes: 16 });
        expect(Array.from(await small.readTableRows(1, 2))).toEqual(want);
      }
    }
  });

  test('pruned dictionaries map buckets through the pruned index', async () => {
    const spec = specs[1]!;
    const m = await openBuffer(buildFtz(spec).bytes);
    const pairs = new Map(spec.prune);
    const w = 'forest';
    const rows = fasttextBuckets(w, 3, 5, 5000).filter((k) => pairs.has(k)).map((k) => pairs.get(k)!);
    expect(rows.length).toBeGreaterThan(0);
    expect(m.indexer.indices(w)).toEqual(rows);
    expect(m.indexer.ngrams(w).some((g) => g.index === -1)).toBe(true);
    // pruneidx_size 0: no n-gram rows at all
    const none = await openBuffer(buildFtz(specs[2]!).bytes);
    expect(none.indexer.indices('forest')).toEqual([]);
  });

  test.skipIf(!HAVE_FASTTEXT)('word vectors match fasttext print-word-vectors on the same .ftz', async () => {
    const dir = tmpDir('pp-ftz-');
    try {
      for (const spec of specs) {
        const f = buildFtz(spec);
        const file = path.join(dir, `s${spec.seed}.ftz`);
        fs.writeFileSync(file, f.bytes);
        const { ours } = await checkAgainstFastText(file, spec.prune?.length === 0 ? [] : ['rivers', 'stones', T('koně'), 'zz']);
        // n-gram rows read at their offsets give the same bits as resident ones
        const streamed = await passVectors(await open(file, { memoryBytes: 8 }), 3);
        for (const [w, v] of ours) expect(Array.from(streamed.get(w)!), w).toEqual(Array.from(v));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('impossible quantizer sizes are InputErrors at their offset', async () => {
    const base = specs[1]!; // dim 5, dsub 2: 3 sub-quantizers, the last of 1 dim
    const cases: [Partial<FtzSpec>, (f: Ftz) => number, RegExp][] = [
      [{ pqHeader: [5, 2, 2, 1] }, (f) => f.offsets.pq + 4, /sizes are impossible: 2 sub-quantizers of 2 dims \(last 1\) do not cover dimension 5/],
      [{ pqHeader: [5, 3, 2, 3] }, (f) => f.offsets.pq + 12, /last sub-vector of 3 dims; expected 1 to 2/],
      [{ pqHeader: [5, 3, 0, 1] }, (f) => f.offsets.pq + 8, /sub-vectors of 0 dims/],
      [{ pqHeader: [4, 2, 2, 2] }, (f) => f.offsets.pq, /dimension 4; expected 5/],
      [{ codesizeDelta: -3 }, (f) => f.offsets.pq, /bytes of codes; .* need/],
      [{ codesize: 2_000_000_000 }, (f) => f.offsets.codesize, /claims 2000000000 bytes of codes/],
      [{ codesize: -5 }, (f) => f.offsets.codesize, /code size is -5/],
    ];
    for (const [over, at, msg] of cases) {
      const f = buildFtz({ ...base, ...over });
      const e = await openBuffer(f.bytes).catch((x) => x);
      expect(e, JSON.stringify(over)).toBeInstanceOf(InputError);
      expect(e.message).toMatch(msg);
      expect(e.where.offset, JSON.stringify(over)).toBe(at(f));
      expect(e.where.part).toBe('input matrix');
    }
    // a pruned index pointing past the n-gram rows
    const bad = buildFtz({ ...base, prune: [[5, 0], [7, 9]] });
    const e = await openBuffer(bad.bytes).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/maps bucket 7 to n-gram row 9/);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input.

describe.skipIf(!HAVE_FIXTURES)('bad input is an InputError naming the offset', () => {
  const toy = () => Buffer.from(fs.readFileSync(fixture('gensim', 'toy-model.bin')));
  const DICT = 64; // magic, version, 56 bytes of arguments
  /** File offset of dictionary entry i (0-based) of toy-model.bin, walked by hand. */
  const entryOffset = (b: Buffer, i: number) => {
    let p = DICT + 28;
    for (let k = 0; k < i; k++) p = b.indexOf(0, p) + 1 + 9;
    return p;
  };

  async function fails(b: Buffer, offset: number, msg: RegExp, part?: string) {
    const e = await openBuffer(b).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(msg);
    expect(e.where.offset).toBe(offset);
    expect(e.where.file).toBe('test.bin');
    if (part) expect(e.where.part).toBe(part);
    expect(e.describe()).toContain(`@ byte ${offset}`);
  }

  test('wrong magic', async () => {
    const b = Buffer.from('this is a text file and not a fastText model, no magic number here at all; '.repeat(3), 'latin1');
    await fails(b, 0, /not a fastText model: expected the magic number 793712314 at byte 0/);
    await fails(Buffer.of(1, 2, 3), 0, /3 bytes/);
  });

  test('version 13 and other versions', async () => {
    const b = toy();
    b.writeInt32LE(13, 4);
    await fails(b, 4, /version 13 is newer than the versions this reader knows \(11 and 12\)/, 'header');
    b.writeInt32LE(10, 4);
    await fails(b, 4, /version 10 is not supported/);
  });

  test('dictionary counts larger than the file', async () => {
    const b = toy();
    b.writeInt32LE(100_000_000, DICT);
    b.writeInt32LE(100_000_000, DICT + 4);
    await fails(b, DICT, /claims 100000000 entries .* at least 1000000000 bytes; only \d+ bytes are left/, 'dictionary');
    const c = toy();
    c.writeInt32LE(23, DICT + 4); // nwords + nlabels != size
    await fails(c, DICT, /dictionary counts disagree: 22 entries, 23 words and 0 labels/);
    const d = toy();
    d.writeBigInt64LE(1_000_000_000n, DICT + 20); // pruneidx_size
    await fails(d, DICT, /1000000000 pruned-index pairs/);
  });

  test('truncated dictionary strings and entries', async () => {
    const b = toy();
    // (cut in the last entries: earlier cuts fail the size check before any word is read)
    const at = entryOffset(b, 21);
    await fails(b.subarray(0, at + 2), at, /word 22 of 22 has no NUL terminator before the end of the file/, 'dictionary');
    const nul = b.indexOf(0, at);
    await fails(b.subarray(0, nul + 4), nul + 1, /file ends inside count of word 22/);
    const early = entryOffset(b, 5);
    await fails(b.subarray(0, early + 2), DICT, /claims 22 entries .* only \d+ bytes are left/);
  });

  test('matrix sizes larger than the file, or not matching the header', async () => {
    const m = await openBuffer(toy());
    const inAt = m.layout.input.offset;
    const outAt = m.layout.output.offset;
    const b = toy();
    b.writeBigInt64LE(1_000_000_000n, inAt);
    await fails(b, inAt, /input matrix claims 1000000000 x 5 float32 \(20000000000 bytes\)/, 'input matrix');
    const c = toy();
    c.writeBigInt64LE(7n, inAt + 8);
    await fails(c, inAt + 8, /input matrix has 7 columns; the header gives dimension 5/);
    const d = toy();
    d.writeInt32LE(99, 8 + 8 * 4); // bucket
    await fails(d, inAt, /input matrix has 122 rows; the header's 22 words \+ 99 buckets need 121/);
    const e = toy();
    e.writeBigInt64LE(1n << 40n, outAt);
    await fails(e, outAt, /output matrix claims 1099511627776 x 5/, 'output matrix');
    const f = toy();
    f[inAt - 1] = 7; // the quantized-input flag
    await fails(f, inAt - 1, /quantized-input flag as a boolean byte 0 or 1, found 7/);
  });

  test('every truncation of a model is an InputError', async () => {
    const files: [string, Buffer, number][] = [
      ['toy-model.bin', toy(), 37],
      ['lee_fasttext.bin (old layout)', fs.readFileSync(fixture('gensim', 'lee_fasttext.bin')), 4099],
      ['quantized', buildFtz({ dim: 5, dsub: 2, words: FTZ_WORDS, minn: 3, maxn: 5, bucket: 500, prune: [[1, 0], [2, 1]], qnorm: true, seed: 9 }).bytes, 29],
    ];
    for (const [name, b, step] of files) {
      for (let n = 0; n < b.length; n += n < 100 ? 1 : step) {
        const e = await openBuffer(b.subarray(0, n)).catch((x) => x);
        expect(e, `${name} truncated to ${n} bytes`).toBeInstanceOf(InputError);
        expect(e.where.offset, `${name} truncated to ${n} bytes`).toBeGreaterThanOrEqual(0);
        expect(e.where.offset).toBeLessThanOrEqual(n);
      }
      await openBuffer(b); // and the whole file opens
    }
  });

  test('corrupted bytes give an InputError or a readable model, never another error', async () => {
    const rnd = lcg(42);
    const b0 = toy();
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(b0);
      const flips = 1 + Math.floor(rnd() * 3);
      const span = i % 2 ? b.length : 400; // the header and dictionary, or anywhere
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * span)] = Math.floor(rnd() * 256);
      try {
        const m = await openBuffer(b);
        await collect(m.pass());
        await m.vectorsFor(['zzzq']);
      } catch (e) {
        expect(e, `corruption ${i}: ${String(e)}`).toBeInstanceOf(InputError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});
