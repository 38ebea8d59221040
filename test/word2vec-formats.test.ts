import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, HAVE_FIXTURES, tmpDir } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { loadModel, maxAbsDiff, unit } from './helpers/models.js';
import { formatFloat32, parseNumber } from '../stages/formats/numbers.js';
import { displayWord, wordFromText } from '../pipeline/words.js';
import { runGraph } from '../cli/graph.js';

describe.skipIf(!HAVE_FIXTURES)('word2vec and GloVe readers on real files', () => {
  it('detects each format from content', async () => {
    expect((await loadModel(fixture('finalfusion', 'similarity.bin'))).format).toBe('w2v-bin');
    expect((await loadModel(fixture('finalfusion', 'similarity.txt'))).format).toBe('w2v-text');
    expect((await loadModel(fixture('finalfusion', 'similarity.nodims'))).format).toBe('glove');
    expect((await loadModel(fixture('gensim', 'test_glove.txt'))).format).toBe('glove');
  });

  it('similarity.bin, .txt and .nodims hold the same words and vectors', async () => {
    const bin = await loadModel(fixture('finalfusion', 'similarity.bin'));
    const txt = await loadModel(fixture('finalfusion', 'similarity.txt'));
    const glove = await loadModel(fixture('finalfusion', 'similarity.nodims'));
    expect(bin.words.length).toBe(41);
    expect(bin.dim).toBe(100);
    expect(txt.words).toEqual(bin.words);
    expect(glove.words).toEqual(bin.words);
    expect(maxAbsDiff(txt.vectors, bin.vectors)).toBeLessThan(1e-5);
    expect(maxAbsDiff(glove.vectors, bin.vectors)).toBeLessThan(1e-5);
  });

  it('embeddings in word2vec binary, text and GloVe agree after normalisation', async () => {
    const w2v = await loadModel(fixture('finalfusion', 'embeddings.w2v'));
    const dims = await loadModel(fixture('finalfusion', 'embeddings.dims.txt'));
    const txt = await loadModel(fixture('finalfusion', 'embeddings.txt'));
    expect(dims.words).toEqual(w2v.words);
    expect(txt.words).toEqual(w2v.words);
    for (let i = 0; i < w2v.words.length; i++) {
      const a = unit(w2v.vectors.subarray(i * 10, i * 10 + 10));
      const b = unit(dims.vectors.subarray(i * 10, i * 10 + 10));
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    }
  });

  it('high-precision text and binary agree to float32 precision', async () => {
    const t = await loadModel(fixture('gensim', 'high_precision.kv.txt'));
    const b = await loadModel(fixture('gensim', 'high_precision.kv.bin'));
    expect(t.words).toEqual(b.words);
    for (let i = 0; i < t.vectors.length; i++) expect(Math.abs(t.vectors[i]! - b.vectors[i]!)).toBeLessThanOrEqual(Math.abs(b.vectors[i]!) * 1e-3);
  });

  it('words that are not valid UTF-8 survive and stay distinct', async () => {
    for (const f of ['utf8-incomplete.bin', 'utf8-incomplete.dims', 'utf8-incomplete.txt']) {
      const m = await loadModel(fixture('finalfusion', f));
      expect(m.words.length).toBe(3);
      expect(new Set(m.words).size).toBe(3);
      const raw = fs.readFileSync(fixture('finalfusion', f));
      // every word is present byte for byte in the file
      for (const w of m.words) expect(raw.includes(Buffer.from(w, 'latin1'))).toBe(true);
    }
    const bin = await loadModel(fixture('finalfusion', 'utf8-incomplete.bin'));
    expect(displayWord(bin.words[1]!)).toMatch(/\\x[0-9a-f]{2}/);
  });

  it('convert round-trips words byte for byte through every writer', async () => {
    const dir = tmpDir();
    const convert = (input: string, output: string, to: string) =>
      runGraph({ input, stages: [{ stage: 'parse' }, { stage: 'serialize', output, to }] }, { quiet: true });
    for (const input of [fixture('finalfusion', 'utf8-incomplete.bin'), fixture('gensim', 'test_glove.txt'), fixture('finalfusion', 'similarity.bin')]) {
      const again = path.join(dir, `again.bin`);
      await convert(input, again, 'w2v-bin');
      for (const to of ['w2v-text', 'w2v-bin', 'glove']) {
        const out = path.join(dir, `out.${to}`);
        await convert(input, out, to);
        const back = path.join(dir, `back.bin`);
        await convert(out, back, 'w2v-bin');
        expect(fs.readFileSync(back).equals(fs.readFileSync(again)), `${input} via ${to}`).toBe(true);
      }
    }
  });

  it('the word2vec binary writer reproduces a word2vec binary fixture byte for byte', () => {
    const dir = tmpDir();
    const out = path.join(dir, 'x.bin');
    expect(runCli(['convert', fixture('finalfusion', 'similarity.bin'), out, '-q']).code).toBe(0);
    expect(fs.readFileSync(out).equals(fs.readFileSync(fixture('finalfusion', 'similarity.bin')))).toBe(true);
  });
});

describe('numbers', () => {
  it('parses decimal forms exactly like Number() within float32', () => {
    const cases = ['0', '-0.5', '1e-3', '3.4028234e38', '-1.25E+2', '0.000012345', '123456789012345678901', '.5', '7.'];
    for (const c of cases) {
      const b = Buffer.from(c);
      expect(Math.fround(parseNumber(b, 0, b.length))).toBe(Math.fround(Number(c)));
    }
    for (const bad of ['nan', 'inf', '1.2.3', '--1', 'abc', '1e']) {
      const b = Buffer.from(bad);
      expect(parseNumber(b, 0, b.length)).toBeNaN();
    }
  });

  it('formats float32 values with the shortest text that reads back the same', () => {
    const f = new Float32Array([0.1, -1 / 3, 1e-20, 3.4e38, 123456.78, 0]);
    for (const x of f) expect(Math.fround(Number(formatFloat32(x)))).toBe(x);
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
  });

  it('byte strings keep UTF-8 text', () => {
    expect(displayWord(wordFromText('žluťoučký'))).toBe('žluťoučký');
  });
});
