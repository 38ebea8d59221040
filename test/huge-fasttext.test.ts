/**
 * Huge fastText models (docs/huge-fasttext.md): on a generated fastText .bin (50,000 words +
 * 100,000 buckets x 50), every prune variant run with the n-gram rows in memory and again with a
 * tiny reader budget (n-gram rows streamed from the file in many sweeps, subword plan rows left in
 * the file, kept-rows-only passes) writes byte-identical files; kept words keep the reader's vector.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runGraph } from '../cli/graph.js';
import { pruneGraph, type PruneArgs } from '../cli/commands/prune.js';
import type { RunContext } from '../pipeline/context.js';
import { openSource } from '../pipeline/source.js';
import { encodeDictionary, encodeHeader, FastTextModel, openFastText, type FastTextArgs } from '../stages/formats/fasttext/index.js';
import { encodeDenseHead } from '../stages/formats/fasttext/dense.js';
import { PLAN_STATE, type SubwordPlanHolder } from '../stages/subword-collapse.js';
import { tmpDir } from './helpers/fixtures.js';

const dir = tmpDir('pp-huge-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const WORDS = 50_000;
const BUCKETS = 100_000;
const DIM = 50;
const KEEP = 2_000;

/** xorshift32, deterministic. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/**
 * Words from syllables (ASCII, and UTF-8 letters such as č and ü as byte strings), a few ending in
 * a lone byte 0xe9 (not valid UTF-8); </s> first, counts falling with the row, some ties.
 */
function vocabulary(n: number, random: () => number): string[] {
  const syl = ['ka', 'lo', 'mi', 'ter', 'ing', 'ous', 're', 'pra', 'st', 'an', 'el', 'qu', 'ox', 'un', 'be', 'ly'];
  const utf8 = ['č', 'ü', 'ß', 'ř', 'é'].map((c) => Buffer.from(c, 'utf8').toString('latin1'));
  const seen = new Set<string>(['</s>']);
  const out = ['</s>'];
  while (out.length < n) {
    let w = '';
    const parts = 1 + Math.floor(random() * 4);
    for (let p = 0; p < parts; p++) w += random() < 0.08 ? utf8[Math.floor(random() * utf8.length)]! : syl[Math.floor(random() * syl.length)]!;
    if (random() < 0.01) w += '\xe9';
    if (w.length < 2 || seen.has(w)) continue;
    seen.add(w);
    out.push(w);
  }
  return out;
}

/** A version-12 skipgram .bin (dense matrices) as fastText writes it. */
function writeModel(file: string): void {
  const random = rng(12345);
  const words = vocabulary(WORDS, random);
  const counts = words.map((_, i) => Math.floor(1e7 / (i + 10)) + (i % 7 === 0 ? 1 : 0));
  const args: FastTextArgs = { dim: DIM, ws: 5, epoch: 5, minCount: 1, neg: 5, wordNgrams: 1, loss: 2, model: 2, bucket: BUCKETS, minn: 3, maxn: 6, lrUpdateRate: 100, t: 1e-4 };
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, Buffer.concat([encodeHeader(args), encodeDictionary({ words, counts, ntokens: counts.reduce((a, b) => a + b, 0) }), Buffer.of(0), encodeDenseHead(WORDS + BUCKETS, DIM)]));
    const rows = (n: number, scale: number) => {
      const CH = 8192;
      for (let s = 0; s < n; s += CH) {
        const m = Math.min(CH, n - s);
        const v = new Float32Array(m * DIM);
        for (let i = 0; i < v.length; i++) v[i] = (random() - 0.5) * scale;
        fs.writeSync(fd, new Uint8Array(v.buffer));
      }
    };
    rows(WORDS, 0.6);
    rows(BUCKETS, 0.1);
    fs.writeSync(fd, Buffer.concat([Buffer.of(0), encodeDenseHead(WORDS, DIM)]));
    rows(WORDS, 0.2);
  } finally {
    fs.closeSync(fd);
  }
}

const model = path.join(dir, 'model.bin');
beforeAll(() => writeModel(model));

/**
 * In memory: the default budget holds the 20 MB n-gram table. Streaming: 64 KiB (sweeps of 2 x 500
 * words). Background: 12 MiB, two regions of 7,864 words, large enough for helper threads to add every
 * pair while the previous window goes down the stream.
 */
const BUDGETS = { memory: 1 << 30, streaming: 64 << 10, background: 12 << 20 } as const;

async function prune(name: string, flags: Partial<PruneArgs>, budget: keyof typeof BUDGETS): Promise<{ files: Record<string, Buffer>; ctx: RunContext }> {
  const ext = flags.to === 'ftz' ? 'ftz' : flags.to === 'fifu' ? 'fifu' : 'bin';
  const output = path.join(dir, `${name}-${budget}.${ext}`);
  const mapping = flags.mapping ? path.join(dir, `${name}-${budget}.tsv`) : undefined;
  const a = { input: model, output, keep: KEEP, method: 'topn', layout: 'expanded', ...flags, mapping } as PruneArgs;
  const g = pruneGraph(a, true);
  g.stages[0]!.memory = BUDGETS[budget];
  const ctx = await runGraph(g, { quiet: true, threads: 2, batchRows: 500 });
  const files: Record<string, Buffer> = { output: fs.readFileSync(output) };
  if (mapping) files.mapping = fs.readFileSync(mapping);
  fs.rmSync(output);
  if (mapping) fs.rmSync(mapping);
  return { files, ctx };
}

const variants: [string, Partial<PruneArgs>][] = [
  ['finalfusion, pruned words from subwords', { to: 'fifu' }],
  ['finalfusion, 20,000 buckets kept by usage x norm', { to: 'fifu', keepSubwords: 20_000 }],
  ['word2vec expanded, pruned words rebuilt, mapping file', { to: 'w2v-bin', mapping: 'yes' }],
  ['word2vec expanded, kept words scanned, unused buckets as one null row', { to: 'w2v-bin', scanWords: 'kept', unusedSubwords: 'null' }],
  ['word2vec kept rows', { to: 'w2v-bin', layout: 'kept' }],
  ['word2vec expanded, pruned words mapped to the nearest kept word', { to: 'w2v-bin', prunedWords: 'nearest' }],
  ['fastText .ftz, pruned and quantized', { to: 'ftz', pqIterations: 1, pqSample: 2048 }],
];

describe('streaming and in-memory paths on a generated 50k-word fastText model', () => {
  test.each(variants)('%s: byte-identical outputs', async (name, flags) => {
    const slug = name.replace(/[^a-z0-9]+/gi, '-');
    const mem = await prune(slug, flags, 'memory');
    const str = await prune(slug, flags, 'streaming');
    const mm = mem.ctx.model as FastTextModel;
    const sm = str.ctx.model as FastTextModel;
    expect(mm.tableResident).toBe(true);
    expect(sm.tableResident).toBe(false);
    const plan = (str.ctx.state.get(PLAN_STATE) as SubwordPlanHolder | undefined)?.plan;
    if (plan) {
      expect(plan.rowsResident).toBe(false);
      expect((mem.ctx.state.get(PLAN_STATE) as SubwordPlanHolder).plan!.rowsResident).toBe(true);
    }
    expect(Object.keys(str.files)).toEqual(Object.keys(mem.files));
    for (const k of Object.keys(mem.files)) {
      expect(str.files[k]!.length, `${k} size`).toBe(mem.files[k]!.length);
      expect(str.files[k]!.equals(mem.files[k]!), `${k} bytes`).toBe(true);
    }
    expect(str.ctx.report.kept).toBe(KEEP);
  });

  test.each([
    ['word2vec expanded, pruned words rebuilt', { to: 'w2v-bin' }],
    ['word2vec expanded, nearest kept word, mapping file', { to: 'w2v-bin', prunedWords: 'nearest', mapping: 'yes' }],
  ] as [string, Partial<PruneArgs>][])('%s: sweeps in the background on helper threads give the same bytes', async (name, flags) => {
    const slug = 'bg-' + name.replace(/[^a-z0-9]+/gi, '-');
    const mem = await prune(slug, flags, 'memory');
    const bg = await prune(slug, flags, 'background');
    const m = bg.ctx.model as FastTextModel;
    expect(m.tableResident).toBe(false);
    expect(m.backgroundSweeps).toBeGreaterThan(2);
    for (const k of Object.keys(mem.files)) expect(bg.files[k]!.equals(mem.files[k]!), `${k} bytes`).toBe(true);
  });

  test('word2vec expanded: kept words have the reader vector bit for bit, rebuilt words the mean of their n-gram rows', async () => {
    const { files } = await prune('check', { to: 'w2v-bin' }, 'streaming');
    const src = await openSource(model);
    const m = await openFastText(src);
    try {
      // word2vec binary: header line, then per row "word " + dim float32 (+ newline)
      const buf = files.output!;
      let at = buf.indexOf(0x0a) + 1;
      expect(buf.subarray(0, at).toString('latin1')).toBe(`${WORDS} ${DIM}\n`);
      const rows = new Map<string, Float32Array>();
      for (let r = 0; r < WORDS; r++) {
        const sp = buf.indexOf(0x20, at);
        const w = buf.subarray(at, sp).toString('latin1').replace(/^\n/, '');
        const v = new Float32Array(DIM);
        new Uint8Array(v.buffer).set(buf.subarray(sp + 1, sp + 1 + DIM * 4));
        rows.set(w, v);
        at = sp + 1 + DIM * 4;
        if (buf[at] === 0x0a) at++;
      }
      expect(rows.size).toBe(WORDS);
      const words = m.dictionary.words;
      const kept = Array.from({ length: KEEP }, (_, i) => words[i]!);
      const want = await m.vectorsFor(kept);
      kept.forEach((w, i) => expect(Array.from(rows.get(w)!), w).toEqual(Array.from(want.subarray(i * DIM, (i + 1) * DIM))));
      // a pruned word: the mean of its n-gram rows (every vocabulary bucket is kept by default)
      for (const w of [words[KEEP + 5]!, words[WORDS - 1]!]) {
        const ix = m.indexer.indices(w).sort((x, y) => x - y);
        const sum = new Float32Array(DIM);
        for (const r of ix) {
          const row = await m.subwords!.read(r, 1);
          for (let d = 0; d < DIM; d++) sum[d]! += row[d]!;
        }
        const f = Math.fround(1 / ix.length);
        const got = rows.get(w)!;
        for (let d = 0; d < DIM; d++) expect(got[d]).toBe(Math.fround(sum[d]! * f));
      }
    } finally {
      await m.close();
      await src.close();
    }
  });
});
