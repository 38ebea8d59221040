import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Batch } from '../pipeline/batch.js';
import { InputError } from '../pipeline/errors.js';
import { OutputFile } from '../pipeline/output.js';
import { openSource, sourceFromBuffer, type Source } from '../pipeline/source.js';
import { collect } from '../pipeline/stream.js';
import { wordFromText } from '../pipeline/words.js';
import { getFormat } from '../stages/formats/registry.js';
import { openText } from '../stages/formats/text.js';
import { openWord2vecBin } from '../stages/formats/word2vec-bin.js';
import { ByteWriter } from '../stages/formats/fifu/bytes.js';
import { encodeFrame, encodeHeader } from '../stages/formats/fifu/header.js';
import { encodeNdArrayPrefix } from '../stages/formats/fifu/ndarray.js';
import { encodeBucketVocab } from '../stages/formats/fifu/bucket-vocab.js';
import { fasttextBuckets } from '../stages/subwords/fasttext-hash.js';
import {
  fifuCodec,
  FifuRowWriter,
  FifuWriter,
  openFifu,
  toToml,
  writePrunedFifu,
  writePrunedSubwordFifu,
  type FifuReader,
} from '../stages/formats/fifu/index.js';
import { fixture, HAVE_FIXTURES, tmpDir } from './helpers/fixtures.js';

const ff = (name: string) => fixture('finalfusion', name);
const dir = tmpDir('pp-fifu-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sources: Source[] = [];
afterAll(async () => {
  for (const s of sources) await s.close();
});

async function open(file: string): Promise<FifuReader> {
  const s = await openSource(file);
  sources.push(s);
  return openFifu(s);
}

async function openBuf(data: Uint8Array): Promise<FifuReader> {
  const s = await sourceFromBuffer(data, 'test.fifu');
  sources.push(s);
  return openFifu(s);
}

async function rowsOf(r: { pass(o?: { batchRows?: number }): import('../pipeline/stream.js').Stream<Batch> }, batchRows = 7) {
  const bs = await collect(r.pass({ batchRows }));
  const words = bs.flatMap((b) => b.words);
  const dim = bs[0]?.dim ?? 0;
  const vectors = new Float32Array(words.length * dim);
  let o = 0;
  for (const b of bs) {
    vectors.set(b.vectors, o);
    o += b.vectors.length;
  }
  return { words, vectors, dim };
}

/** Double-precision L2 normalisation (an independent reference for the f32 code). */
function unit(v: Float32Array, dim: number): Float64Array {
  const out = new Float64Array(v.length);
  for (let r = 0; r < v.length / dim; r++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += v[r * dim + k]! ** 2;
    const n = Math.sqrt(s) || 1;
    for (let k = 0; k < dim; k++) out[r * dim + k] = v[r * dim + k]! / n;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! ** 2;
  return Math.sqrt(s);
}

async function writeTo(name: string, fn: (out: OutputFile) => Promise<unknown>): Promise<Buffer> {
  const file = path.join(dir, name);
  const out = await OutputFile.open(file);
  await fn(out);
  await out.commit();
  return fs.readFileSync(file);
}

describe.skipIf(!HAVE_FIXTURES)('reading the finalfusion fixtures', () => {
  test('codec is registered and detects the magic', () => {
    expect(getFormat('fifu')).toBe(fifuCodec);
    expect(fifuCodec.detect(fs.readFileSync(ff('similarity.fifu')).subarray(0, 64), 0)).toBe(2);
    expect(fifuCodec.detect(fs.readFileSync(ff('similarity.bin')).subarray(0, 64), 0)).toBe(0);
  });

  test('similarity.fifu equals similarity.bin, .txt and .nodims after normalisation', async () => {
    const fifu = await open(ff('similarity.fifu'));
    expect(fifu.vocab.kind).toBe('simple');
    expect(fifu.storage.kind).toBe('ndarray');
    const a = await rowsOf(fifu);
    expect(a.words.length).toBe(41);
    expect(a.dim).toBe(100);
    for (const [file, reader] of [
      ['similarity.bin', (s: Source) => openWord2vecBin(s)],
      ['similarity.txt', (s: Source) => openText(s, false)],
      ['similarity.nodims', (s: Source) => openText(s, true)],
    ] as const) {
      const s = await openSource(ff(file));
      sources.push(s);
      const b = await rowsOf(await reader(s));
      expect(b.words, file).toEqual(a.words);
      expect(maxAbsDiff(a.vectors, unit(b.vectors, b.dim)), file).toBeLessThan(file === 'similarity.bin' ? 1e-7 : 1e-5);
    }
  });

  test('simple_vocab.fifu: 43 unit-length rows', async () => {
    const r = await open(ff('simple_vocab.fifu'));
    const { words, vectors, dim } = await rowsOf(r);
    expect(words.slice(0, 4)).toEqual(['Paris', 'Frankreich', 'Berlin', 'Deutschland']);
    expect(words.length).toBe(43);
    for (let i = 0; i < 43; i++) expect(norm(vectors.subarray(i * dim, (i + 1) * dim))).toBeCloseTo(1, 5);
  });

  test('embeddings.fifu: the NdNorms chunk the header does not list is read, norms restore the .txt vectors', async () => {
    const r = await open(ff('embeddings.fifu'));
    expect(r.normsInfo?.length).toBe(7);
    expect(String(r.info.details?.notes)).toMatch(/NdNorms .* not listed in the header/);
    const s = await openSource(ff('embeddings.txt'));
    sources.push(s);
    const w2v = await rowsOf(await openText(s, true));
    const src = await openSource(ff('embeddings.fifu'));
    sources.push(src);
    const raw = await rowsOf(await openFifu(src, { unnormalize: true }));
    expect(raw.words).toEqual(w2v.words);
    expect(maxAbsDiff(raw.vectors, w2v.vectors)).toBeLessThan(1e-5);
    const norms = await r.norms();
    const first = w2v.vectors.subarray(0, 10);
    expect(norms![0]).toBeCloseTo(norm(first), 5);
  });

  test('pq.fifu decodes row by row to the vectors of pq-check.fifu (within quantization error)', async () => {
    const pq = await open(ff('pq.fifu'));
    expect(pq.storage.kind).toBe('quantized');
    if (pq.storage.kind !== 'quantized') return;
    expect(pq.storage.quantizedLen).toBe(50);
    expect(pq.storage.centroids).toBe(32);
    const check = await rowsOf(await open(ff('pq-check.fifu')));
    const got = await rowsOf(pq, 5);
    expect(got.words).toEqual(check.words);
    // finalfusion-python's own test uses atol 0.05 for this pair
    expect(maxAbsDiff(got.vectors, check.vectors)).toBeLessThan(0.05);
    // batches of different sizes decode the same rows
    const one = await pq.readRows(17, 1);
    expect([...one]).toEqual([...got.vectors.subarray(17 * 100, 18 * 100)]);
  });

  test('quantized.fifu reads: same words, rows point the same way as similarity.fifu', async () => {
    const q = await rowsOf(await open(ff('quantized.fifu')));
    const s = await rowsOf(await open(ff('similarity.fifu')));
    expect(q.words).toEqual(s.words);
    const qu = unit(q.vectors, 100);
    for (let r = 0; r < 41; r++) {
      let dot = 0;
      for (let k = 0; k < 100; k++) dot += qu[r * 100 + k]! * s.vectors[r * 100 + k]!;
      expect(dot).toBeGreaterThan(0.99);
    }
  });

  test('ff_buckets.fifu: metadata, bucket vocabulary, known and unknown words', async () => {
    const r = await open(ff('ff_buckets.fifu'));
    expect(r.metadata).toMatch(/\[common_config\]\ndims = 5\n/);
    expect(r.vocab).toMatchObject({ kind: 'bucket', wordCount: 2, minN: 3, maxN: 6, buckets: 10, subwordRows: 1024 });
    expect(r.subwords?.indexer.kind).toBe('ff-bucket');
    expect(r.subwords?.indexer.size).toBe(1024);
    expect(await r.words()).toEqual(['one', '</s>']);
    for (const w of ['one', '</s>']) {
      const v = (await r.lookup(w))!;
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    // hand-derived n-grams of 'one' (n 3..6 over '<one>'), in finalfusion's order
    expect(r.subwords!.indexer.ngrams('one').map((g) => g.ngram)).toEqual(['<one>', '<one', '<on', 'one>', 'one', 'ne>']);
    // finalfusion-python tests/test_vocab.py lists these storage indices for 'tübingen' (word offset 2 included)
    const tue = wordFromText('tübingen');
    expect(r.subwords!.indexer.indices(tue).map((i) => i + 2).sort((a, b) => a - b)).toEqual([
      14, 69, 74, 124, 168, 181, 197, 246, 250, 276, 300, 308, 325, 416, 549, 590, 648, 651, 707, 717, 761, 817, 820, 857, 860, 1007,
    ]);
    for (const w of [tue, 'two', 'oneone', wordFromText('Straße')]) {
      const v = (await r.lookup(w))!;
      expect(v, w).toBeDefined();
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
      // independent reference: double-precision sum of the n-gram rows, normalised
      const ix = r.subwords!.indexer.indices(w);
      const sum = new Float64Array(5);
      for (const i of ix) {
        const row = await r.subwords!.read(i, 1);
        for (let k = 0; k < 5; k++) sum[k]! += row[k]!;
      }
      const n = norm(sum);
      expect(maxAbsDiff(v, Array.from(sum, (x) => x / n))).toBeLessThan(1e-6);
    }
    expect(r.normsInfo?.length).toBe(2);
  });

  test('a word list is only looked up by exact bytes; SimpleVocab has no vector for unknown words', async () => {
    const r = await open(ff('similarity.fifu'));
    expect(await r.lookup('Berlin')).toEqual(await r.readRows(0, 1));
    expect(await r.lookup('berlin')).toBeUndefined();
  });
});

describe.skipIf(!HAVE_FIXTURES)('writing unpruned files', () => {
  test('similarity.bin written by FifuWriter is byte-identical to finalfusion-rust\'s similarity.fifu', async () => {
    const s = await openSource(ff('similarity.bin'));
    sources.push(s);
    const { words, vectors, dim } = await rowsOf(await openWord2vecBin(s));
    const bytes = await writeTo('sim.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim, words, norms: false });
      await w.writeRows(vectors.subarray(0, 13 * dim));
      await w.writeRows(vectors.subarray(13 * dim));
      expect(await w.end()).toMatchObject({ rows: 41, dropped: [] });
    });
    expect(bytes.equals(fs.readFileSync(ff('similarity.fifu')))).toBe(true);
  });

  test('embeddings.txt written with norms matches embeddings.fifu apart from the header listing NdNorms', async () => {
    const s = await openSource(ff('embeddings.txt'));
    sources.push(s);
    const { words, vectors, dim } = await rowsOf(await openText(s, true));
    const bytes = await writeTo('emb.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim, words });
      await w.writeRows(vectors);
      await w.end();
    });
    const theirs = fs.readFileSync(ff('embeddings.fifu'));
    // ours lists 3 chunks (4 more header bytes); the chunks themselves are the same bytes
    expect(bytes.readUInt32LE(8)).toBe(3);
    expect(theirs.readUInt32LE(8)).toBe(2);
    expect(bytes.subarray(24).equals(theirs.subarray(20))).toBe(true);
  });

  test('write -> read -> write round trip is byte-exact (SimpleVocab, NdArray, NdNorms, Metadata)', async () => {
    const r = await open(ff('embeddings.fifu'));
    const metadata = toToml({ tool: 'prune-pipe', source: 'embeddings.fifu', rows: 7, mean_cosine: 0.5, exact: true, nested: { 'key with space': 'a "quoted" \\ value' } });
    const rewrite = async (from: FifuReader, name: string, meta?: string) =>
      writeTo(name, async (out) => {
        const { words, vectors, dim } = await rowsOf(from);
        const w = await FifuWriter.begin(out, { dim, words, normalized: true, metadata: meta ?? from.metadata });
        await w.writeRows(vectors);
        await w.end({ norms: await from.norms() });
      });
    const first = await rewrite(r, 'rt1.fifu', metadata);
    const back = await openBuf(first);
    expect(back.metadata).toBe(metadata);
    expect(back.chunks.map((c) => c.name)).toEqual(['Metadata', 'SimpleVocab', 'NdArray', 'NdNorms']);
    expect([...(await back.norms())!]).toEqual([...(await r.norms())!]);
    const second = await rewrite(back, 'rt2.fifu');
    expect(second.equals(first)).toBe(true);
  });

  test('word list given late (with the rows) and metadata given at end give the same bytes', async () => {
    const r = await open(ff('similarity.fifu'));
    const { words, vectors, dim } = await rowsOf(r);
    const meta = toToml({ method: 'none' });
    const a = await writeTo('early.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim, words, metadata: meta });
      await w.writeRows(vectors);
      await w.end();
    });
    const b = await writeTo('late.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim });
      for (let s = 0; s < words.length; s += 10) await w.writeRows(vectors.subarray(s * dim, Math.min(words.length, s + 10) * dim), words.slice(s, s + 10));
      await w.end({ metadata: meta });
    });
    const c = await writeTo('meta-late.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim, words, metadata: 'x = 1\n' });
      await w.writeRows(vectors);
      await w.end({ metadata: meta });
    });
    const d = await writeTo('rowwriter.fifu', async (out) => {
      const w = new FifuRowWriter(out, { metadata: meta });
      await w.begin(words.length, dim);
      await w.writeRows(words, vectors, dim);
      await w.end(dim);
    });
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(true);
    expect(d.equals(a)).toBe(true);
  });

  test('duplicate words: later ones are dropped with their rows', async () => {
    const bytes = await writeTo('dups.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim: 2 });
      await w.writeRows(Float32Array.of(3, 4, 1, 0, 0, 2), ['a', 'b', 'a']);
      expect((await w.end()).dropped).toEqual(['a']);
    });
    const r = await openBuf(bytes);
    expect(await r.words()).toEqual(['a', 'b']);
    expect([...(await r.readRows(0, 2))]).toEqual([0.6000000238418579, 0.800000011920929, 1, 0]);
    expect([...(await r.norms())!]).toEqual([5, 1]);
  });

  test('utf8-incomplete words survive: kept byte-exact, or replaced as finalfusion does', async () => {
    const s = await openSource(ff('utf8-incomplete.bin'));
    sources.push(s);
    const { words, vectors, dim } = await rowsOf(await openWord2vecBin(s));
    expect(words.some((w) => !Buffer.from(w, 'latin1').equals(Buffer.from(Buffer.from(w, 'latin1').toString('utf8'), 'utf8')))).toBe(true);
    const keep = await writeTo('utf8-keep.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim, words, utf8: 'keep' });
      await w.writeRows(vectors);
      await w.end();
    });
    const k = await rowsOf(await openBuf(keep));
    expect(k.words).toEqual(words);
    expect(maxAbsDiff(k.vectors, unit(vectors, dim))).toBeLessThan(1e-7);
    const replace = await writeTo('utf8-replace.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim, words });
      await w.writeRows(vectors);
      await w.end();
    });
    const rr = await openBuf(replace);
    // finalfusion-rust's lossy word2vec test expects exactly these words
    expect((await rr.words()).map((w) => Buffer.from(w, 'latin1').toString('utf8'))).toEqual(['meren', 'zee\uFFFDn', 'rivieren']);
  });
});

/** A pruned model from similarity.fifu: the first `keep` words kept, the others mapped to their nearest kept word. */
async function prunedInput(keep: number) {
  const r = await open(ff('similarity.fifu'));
  const { words, vectors, dim } = await rowsOf(r);
  const labels = words.slice(0, keep);
  const kept = vectors.slice(0, keep * dim);
  const pruned = words.slice(keep);
  const prunedRows = pruned.map((_, i) => {
    const o = (keep + i) * dim;
    let best = 0;
    let bestDot = -Infinity;
    for (let k = 0; k < keep; k++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += vectors[o + j]! * kept[k * dim + j]!;
      if (d > bestDot) [best, bestDot] = [k, d];
    }
    return best;
  });
  return { labels, kept, pruned, prunedRows, dim, norms: new Float32Array(keep).fill(1) };
}

describe.skipIf(!HAVE_FIXTURES)('pruned files', () => {
  for (const layout of ['duplicate', 'ngrams-only'] as const) {
    test(`${layout}: each pruned word reads back as its kept row; unknown words get nothing`, async () => {
      const p = await prunedInput(10);
      const meta = toToml({ tool: 'prune-pipe', method: 'top-n', keep: 10 });
      let res: Awaited<ReturnType<typeof writePrunedFifu>> | undefined;
      const bytes = await writeTo(`pruned-${layout}.fifu`, async (out) => {
        res = await writePrunedFifu(out, { dim: p.dim, labels: p.labels, vectors: p.kept, pruned: p.pruned, prunedRows: p.prunedRows, metadata: meta, layout });
      });
      expect(res!.bytes).toBe(bytes.length);
      expect(res!.conflicts).toEqual([]);
      const r = await openBuf(bytes);
      expect(r.vocab.kind).toBe('explicit');
      expect(r.metadata).toBe(meta);
      const targets = new Set(p.prunedRows);
      if (layout === 'duplicate') {
        expect(await r.words()).toEqual(p.labels);
        expect(r.storage.rows).toBe(10 + targets.size);
        expect(r.vocab.ngramCount).toBe(31);
      } else {
        expect(await r.words()).toEqual([]);
        expect(r.storage.rows).toBe(10);
        expect(r.vocab.ngramCount).toBe(41);
      }
      // min_n / max_n span exactly the bracketed entries' lengths
      const lens = [...r.explicit!.table.keys()].map((g) => Buffer.from(g, 'latin1').toString('utf8').length);
      expect([r.vocab.minN, r.vocab.maxN]).toEqual([Math.min(...lens), Math.max(...lens)]);
      const keptLookups: Float32Array[] = [];
      for (let k = 0; k < 10; k++) {
        const v = (await r.lookup(p.labels[k]!))!;
        keptLookups.push(v);
        // kept rows were unit-length already: re-normalised they differ by at most an ulp
        expect(maxAbsDiff(v, p.kept.subarray(k * p.dim, (k + 1) * p.dim))).toBeLessThan(1e-7);
        expect(norm(v)).toBeCloseTo(1, 6);
      }
      for (let i = 0; i < p.pruned.length; i++) {
        const v = (await r.lookup(p.pruned[i]!))!;
        // bit for bit the vector of the kept word it maps to
        expect([...v], p.pruned[i]).toEqual([...keptLookups[p.prunedRows[i]!]!]);
        // exactly one n-gram of the pruned word is in the table: the whole bracketed word
        expect(r.subwords!.indexer.indices(p.pruned[i]!)).toHaveLength(1);
      }
      expect(await r.lookup('Paris')).toBeUndefined();
      expect(await r.lookup('Berlinx')).toBeUndefined();
    });
  }

  test('pruned file re-written from what the reader gives is byte-exact (ExplicitSubwordVocab round trip)', async () => {
    const p = await prunedInput(12);
    const first = await writeTo('pr1.fifu', (out) =>
      writePrunedFifu(out, { dim: p.dim, labels: p.labels, vectors: p.kept, normalized: true, norms: p.norms, pruned: p.pruned, prunedRows: p.prunedRows, metadata: 'a = 1\n' }),
    );
    const r = await openBuf(first);
    const words = await r.words();
    const ex = r.explicit!;
    const second = await writeTo('pr2.fifu', async (out) =>
      writePrunedSubwordFifu(out, {
        dim: p.dim,
        labels: words,
        vectors: await r.readRows(0, words.length),
        normalized: true,
        norms: await r.norms(),
        ngrams: ex.ngrams,
        ngramRows: ex.rows,
        ngramVectors: await r.subwords!.read(0, ex.size),
        minN: r.vocab.minN!,
        maxN: r.vocab.maxN!,
        metadata: r.metadata,
      }),
    );
    expect(second.equals(first)).toBe(true);
  });

  test('nothing pruned: a plain SimpleVocab file', async () => {
    const p = await prunedInput(41);
    const bytes = await writeTo('none-pruned.fifu', (out) => writePrunedFifu(out, { dim: p.dim, labels: p.labels, vectors: p.kept, normalized: true, norms: p.norms, pruned: [], prunedRows: [] }));
    const r = await openBuf(bytes);
    expect(r.vocab.kind).toBe('simple');
    expect(maxAbsDiff((await rowsOf(r)).vectors, p.kept)).toBe(0);
  });
});

describe('pruned files: edge cases of words holding < or >', () => {
  const dim = 3;
  const kept = Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);

  test('a pruned word whose text contains <q> of another stored word is reported; its stock lookup mixes both rows', async () => {
    let res: Awaited<ReturnType<typeof writePrunedFifu>> | undefined;
    const bytes = await writeTo('brackets.fifu', async (out) => {
      res = await writePrunedFifu(out, {
        dim,
        labels: ['k0', 'k1', 'k2'],
        vectors: kept,
        pruned: ['b', 'x<b>y', 'a>b', '<b', 'c'],
        prunedRows: [0, 1, 2, 2, 0],
      });
    });
    // '<x<b>y>' holds '<b>' (row 0): conflict; '<<b>' holds '<b>' (row 0): conflict;
    // '<a>b>' holds no stored '<...>'; 'b' and 'c' are plain.
    expect(res!.conflicts).toEqual([
      { word: 'x<b>y', others: ['b'] },
      { word: '<b', others: ['b'] },
    ]);
    const r = await openBuf(bytes);
    // the stock lookup (which this reader follows) sums both rows and normalises
    const mixed = (await r.lookup('x<b>y'))!;
    expect(maxAbsDiff(mixed, [Math.SQRT1_2, Math.SQRT1_2, 0])).toBeLessThan(1e-7);
    expect([...(await r.lookup('a>b'))!]).toEqual([0, 0, 1]);
    expect([...(await r.lookup('b'))!]).toEqual([1, 0, 0]);
    // an unknown word holding a stored '<b>' gets b's row
    expect([...(await r.lookup('zz<b>zz'))!]).toEqual([1, 0, 0]);
  });

  test('a kept word in the word list holding brackets is found directly; pruned words equal to kept words are skipped', async () => {
    let res: Awaited<ReturnType<typeof writePrunedFifu>> | undefined;
    const bytes = await writeTo('brackets2.fifu', async (out) => {
      res = await writePrunedFifu(out, { dim, labels: ['<k>', 'k', null], vectors: kept, pruned: ['k', 'p', 'p', 'q'], prunedRows: [2, 2, 1, 2] });
    });
    expect(res!.skipped).toEqual(['k', 'p']);
    const r = await openBuf(bytes);
    expect(await r.words()).toEqual(['<k>', 'k']);
    expect([...(await r.lookup('<k>'))!]).toEqual([1, 0, 0]);
    expect([...(await r.lookup('k'))!]).toEqual([0, 1, 0]);
    // the unlabelled row (a centroid) is reachable through the words mapped to it
    expect([...(await r.lookup('p'))!]).toEqual([0, 0, 1]);
    expect([...(await r.lookup('q'))!]).toEqual([0, 0, 1]);
    expect(r.storage.rows).toBe(3);
  });
});

describe('pruned subword files', () => {
  test('kept words + used n-grams; shared rows stored once; unknown words sum their n-grams', async () => {
    const dim = 2;
    const bytes = await writeTo('subword.fifu', (out) =>
      writePrunedSubwordFifu(out, {
        dim,
        labels: ['ab'],
        vectors: Float32Array.of(0, 2),
        ngrams: ['<a', 'a>', 'b>', '<b'],
        ngramRows: [3, 5, 3, 0],
        ngramVectors: Float32Array.of(1, 1, 9, 9, 9, 9, 1, 0, 9, 9, 0, 1),
        minN: 2,
        maxN: 2,
      }),
    );
    const r = await openBuf(bytes);
    expect(r.storage.rows).toBe(1 + 3);
    expect([...r.explicit!.rows]).toEqual([0, 1, 0, 2]);
    expect([...(await r.subwords!.read(0, 3))]).toEqual([1, 0, 0, 1, 1, 1]);
    expect([...(await r.lookup('ab'))!]).toEqual([0, 1]);
    expect([...(await r.norms())!]).toEqual([2]);
    // 'a': n-grams '<a' (row 0: 1,0) and 'a>' (row 1: 0,1)
    expect(maxAbsDiff((await r.lookup('a'))!, [Math.SQRT1_2, Math.SQRT1_2])).toBeLessThan(1e-7);
    // 'zz': no n-gram in the table
    expect(await r.lookup('zz')).toBeUndefined();
  });
});

describe('explicit vocabularies written by others: indices renumbered by first appearance', () => {
  test('stored indices 7, 3, 7, 12 address n-gram rows 0, 1, 0, 2', async () => {
    const ngrams = ['<a', 'a>', '<b', 'b>'];
    const idx = [7, 3, 7, 12];
    const words: string[] = [];
    const w = new ByteWriter();
    w.u64(words.length).u64(ngrams.length).u32(2).u32(2);
    ngrams.forEach((g, i) => w.string(g).u64(idx[i]!));
    const vocabBody = w.result();
    const head = encodeHeader([8, 2]);
    const vocab = Buffer.concat([encodeFrame(new ByteWriter(), 8, vocabBody.length).result(), vocabBody]);
    const rows = Float32Array.of(1, 0, 0, 1, 1, 1);
    const arr = Buffer.concat([encodeNdArrayPrefix(head.length + vocab.length, 3, 2), Buffer.from(rows.buffer)]);
    const r = await openBuf(Buffer.concat([head, vocab, arr]));
    expect([...r.explicit!.rows]).toEqual([0, 1, 0, 2]);
    expect(r.subwords!.indexer.size).toBe(3);
    // 'a' -> '<a' (row 0) + 'a>' (row 1)
    expect(maxAbsDiff((await r.lookup('a'))!, [Math.SQRT1_2, Math.SQRT1_2])).toBeLessThan(1e-7);
    // 'b' -> '<b' (row 0) + 'b>' (row 2) = (2, 1) normalised
    expect(maxAbsDiff((await r.lookup('b'))!, [2 / Math.sqrt(5), 1 / Math.sqrt(5)])).toBeLessThan(1e-7);
  });
});

describe('hashed subword vocabularies (chunks 3 and 7)', () => {
  test.skipIf(!HAVE_FIXTURES)('the BucketSubwordVocab chunk of ff_buckets.fifu re-encodes byte for byte', async () => {
    const r = await open(ff('ff_buckets.fifu'));
    const file = fs.readFileSync(ff('ff_buckets.fifu'));
    const chunk = encodeBucketVocab(3, await r.words(), r.vocab.minN!, r.vocab.maxN!, r.vocab.buckets!);
    expect(chunk.equals(file.subarray(r.vocab.frame.offset, r.vocab.frame.end))).toBe(true);
  });

  test('FastTextSubwordVocab: unknown words sum the rows fastText hashing picks', async () => {
    const dim = 2;
    const buckets = 10;
    const head = encodeHeader([7, 2]);
    const vocab = encodeBucketVocab(7, ['a'], 3, 4, buckets);
    const rows = new Float32Array((1 + buckets) * dim);
    for (let i = 0; i < 1 + buckets; i++) rows.set([i, 1], i * dim);
    const file = Buffer.concat([head, vocab, encodeNdArrayPrefix(head.length + vocab.length, 1 + buckets, dim), Buffer.from(rows.buffer)]);
    const r = await openBuf(file);
    expect(r.subwords!.indexer.kind).toBe('fasttext');
    // reference: fastText's own byte-level n-grams (fasttext-hash.ts), a separate code path
    const ids = fasttextBuckets(Buffer.from('abc'), 3, 4, buckets);
    expect(ids).toHaveLength(5); // <ab <abc abc abc> bc>
    const sum = [0, 0];
    for (const b of ids) {
      sum[0]! += 1 + b;
      sum[1]! += 1;
    }
    const n = Math.hypot(sum[0]!, sum[1]!);
    expect(maxAbsDiff((await r.lookup('abc'))!, [sum[0]! / n, sum[1]! / n])).toBeLessThan(1e-7);
    expect([...(await r.lookup('a'))!]).toEqual([0, 1]);
  });
});

/** A SimpleVocab + QuantizedArray file built by hand (dims 4, 2 sub-quantizers of 2 centroids). */
function quantizedFile(codes: number[], opts: { projection?: number[]; norm?: number }): Buffer {
  const head = encodeHeader([1, 4]);
  const vocabBody = new ByteWriter().u64(1).string('w').result();
  const vocab = Buffer.concat([encodeFrame(new ByteWriter(), 1, vocabBody.length).result(), vocabBody]);
  const at = head.length + vocab.length;
  const pad = 4 - ((at + 48) % 4);
  const centroids = [1, 2, 3, 4, 5, 6, 7, 8]; // sub 0: (1,2) (3,4); sub 1: (5,6) (7,8)
  const f = (xs: number[]) => Buffer.from(Float32Array.from(xs).buffer);
  const data = Buffer.concat([
    Buffer.alloc(pad),
    opts.projection ? f(opts.projection) : Buffer.alloc(0),
    f(centroids),
    opts.norm !== undefined ? f([opts.norm]) : Buffer.alloc(0),
    Buffer.from(codes),
  ]);
  const w = new ByteWriter();
  encodeFrame(w, 4, 36 + data.length).u32(opts.projection ? 1 : 0).u32(opts.norm !== undefined ? 1 : 0).u32(2).u32(4).u32(2).u64(1).u32(1).u32(10);
  return Buffer.concat([head, vocab, w.result(), data]);
}

describe('QuantizedArray decoding (hand-built files)', () => {
  test('codes pick centroids; without projection and norms the row is their concatenation', async () => {
    const r = await openBuf(quantizedFile([1, 0], {}));
    expect([...(await r.readRows(0, 1))]).toEqual([3, 4, 5, 6]);
  });

  test('projection: the row times the transposed projection, then scaled by its norm', async () => {
    // P[0][3] = P[1][0] = P[2][1] = P[3][2] = 1: out[i] = sum_j r[j] P[i][j] = (r3, r0, r1, r2)
    const P = [0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
    const r = await openBuf(quantizedFile([1, 1], { projection: P, norm: 2 }));
    expect([...(await r.readRows(0, 1))]).toEqual([16, 6, 8, 14]);
  });

  test('a code not below the centroid count is an InputError at its byte', async () => {
    const file = quantizedFile([0, 2], {});
    const r = await openBuf(file);
    const err = await r.readRows(0, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toMatchObject({ part: 'QuantizedArray chunk', offset: file.length - 1 });
  });
});

describe('bad input: an InputError naming the part of the file and the byte offset', () => {
  let good: Buffer;
  const vocabAt = 20; // header with 2 chunk ids

  async function fails(data: Uint8Array, part: RegExp, offset: number, message: RegExp): Promise<void> {
    let err: unknown;
    try {
      const r = await openBuf(data);
      await rowsOf(r);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.where.file).toBe('test.fifu');
    expect(e.where.part).toMatch(part);
    expect(e.where.offset).toBe(offset);
    expect(e.message).toMatch(message);
  }

  test('setup: a small valid file', async () => {
    good = await writeTo('small.fifu', async (out) => {
      const w = await FifuWriter.begin(out, { dim: 3, words: ['alpha', 'beta'], norms: false });
      await w.writeRows(Float32Array.of(1, 2, 3, 4, 5, 6));
      await w.end();
    });
    expect((await rowsOf(await openBuf(good))).words).toEqual(['alpha', 'beta']);
  });

  test('wrong magic', async () => {
    const b = Buffer.from(good);
    b.write('FiFo', 0, 'latin1');
    await fails(b, /header/, 0, /expected the magic 'FiFu', found "FiFo"/);
  });

  test('unknown version', async () => {
    const b = Buffer.from(good);
    b.writeUInt32LE(1, 4);
    await fails(b, /header/, 4, /unknown finalfusion version 1/);
  });

  test('unknown chunk id in the header and in a chunk', async () => {
    const b = Buffer.from(good);
    b.writeUInt32LE(42, 16);
    await fails(b, /header/, 16, /unknown chunk id 42/);
    const c = Buffer.from(good);
    c.writeUInt32LE(42, vocabAt);
    await fails(c, /chunk 1/, vocabAt, /unknown chunk id 42/);
  });

  test('floret chunks are refused as not supported', async () => {
    const b = Buffer.from(good);
    b.writeUInt32LE(9, vocabAt);
    await fails(b, /FloretSubwordVocab/, vocabAt, /not supported/);
  });

  test('chunk length past the end of the file', async () => {
    const b = Buffer.from(good);
    b.writeUInt32LE(1 << 30, vocabAt + 4);
    await fails(b, /SimpleVocab chunk/, vocabAt + 4, /runs past the end of the file/);
    // a file cut inside the matrix: the NdArray chunk length no longer fits
    const cut = good.subarray(0, good.length - 5);
    const arrayAt = vocabAt + 12 + 8 + 4 + 5 + 4 + 4;
    await fails(cut, /NdArray chunk/, arrayAt + 4, /runs past the end of the file/);
  });

  test('rows x cols larger than the file', async () => {
    const arrayAt = vocabAt + 12 + 8 + 4 + 5 + 4 + 4;
    const b = Buffer.from(good);
    b.writeUInt32LE(1000, arrayAt + 12); // rows
    await fails(b, /NdArray chunk/, arrayAt + 12, /1000 rows x 3 cols of f32 need 12000 bytes/);
    const c = Buffer.from(good);
    c.writeUInt32LE(0xffffffff, arrayAt + 16); // high half of rows
    await fails(c, /NdArray chunk/, arrayAt + 12, /the row count is \d+, far larger than the file/);
  });

  test('truncated strings', async () => {
    const b = Buffer.from(good);
    b.writeUInt32LE(500, vocabAt + 20); // length of 'alpha'
    await fails(b, /SimpleVocab chunk/, vocabAt + 20, /word 1 claims 500 bytes .*\(truncated string\)/);
    const c = Buffer.from(good);
    c.writeUInt32LE(0x7fffffff, vocabAt + 12); // word count
    await fails(c, /SimpleVocab chunk/, vocabAt + 20, /2147483647 words need at least/);
  });

  test('a file holding only a header', async () => {
    await fails(good.subarray(0, 20), /chunk 1/, 20, /the file ends at byte 20/);
    await fails(good.subarray(0, 6), /header/, 4, /expected the format version .* ends/);
  });
});
