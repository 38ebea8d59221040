import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, HAVE_FIXTURES, HAVE_NUMPY, ROOT, tmpDir } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { loadModel, maxAbsDiff, row } from './helpers/models.js';
import { runGraph } from '../cli/graph.js';

const dir = tmpDir();
const EXAMPLE = path.join(ROOT, 'examples', 'gcide-small.vec');

function readMapping(file: string): { word: string; kept: string; cos: number }[] {
  return fs
    .readFileSync(file, 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [word, kept, cos] = l.split('\t');
      return { word: word!, kept: kept!, cos: Number(cos) };
    });
}

function compareWithReference(model: string, keep: number) {
  const ref = path.join(dir, 'ref.tsv');
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'spacy_prune.py'), model, String(keep), ref], { stdio: 'ignore' });
  const ours = path.join(dir, 'ours.tsv');
  const r = runCli(['prune', model, '-o', path.join(dir, 'o.bin'), '--keep', String(keep), '--mapping', ours, '-q']);
  expect(r.code, r.stderr).toBe(0);
  const a = readMapping(ref);
  const b = readMapping(ours);
  expect(b.length).toBe(a.length);
  let same = 0;
  for (let i = 0; i < a.length; i++) {
    expect(b[i]!.word).toBe(a[i]!.word);
    if (a[i]!.kept === b[i]!.kept) same++;
    else expect(Math.abs(a[i]!.cos - b[i]!.cos), `${a[i]!.word}: ${a[i]!.kept} vs ${b[i]!.kept}`).toBeLessThan(1e-5);
    expect(Math.abs(a[i]!.cos - b[i]!.cos)).toBeLessThan(2e-6);
  }
  expect(same / a.length).toBeGreaterThanOrEqual(0.999);
  return a.length;
}

describe.skipIf(!HAVE_NUMPY)("equal to spaCy's algorithm (numpy reference in bench/)", () => {
  it('on the bundled real model (8,661 words, keep 1,000)', () => {
    expect(compareWithReference(EXAMPLE, 1000)).toBe(7661);
  });
  it.skipIf(!HAVE_FIXTURES)('on a gensim word2vec binary (keep 300)', () => {
    expect(compareWithReference(fixture('gensim', 'euclidean_vectors.bin'), 300)).toBe(2747 - 300);
  });
});

describe('top-N pruning', () => {
  it('expanded output gives every word its kept row; kept layout holds the first N rows', async () => {
    const exp = path.join(dir, 'exp.txt');
    const kept = path.join(dir, 'kept.txt');
    const map = path.join(dir, 'map.tsv');
    expect(runCli(['prune', EXAMPLE, '-o', exp, '--keep', '500', '--mapping', map, '-q']).code).toBe(0);
    expect(runCli(['prune', EXAMPLE, '-o', kept, '--keep', '500', '--layout', 'kept', '-q']).code).toBe(0);
    const orig = await loadModel(EXAMPLE);
    const e = await loadModel(exp);
    const k = await loadModel(kept);
    expect(e.words).toEqual(orig.words);
    expect(k.words).toEqual(orig.words.slice(0, 500));
    for (let i = 0; i < 500; i++) expect(Array.from(row(k, i))).toEqual(Array.from(row(orig, i)));
    const mapping = readMapping(map);
    expect(mapping.length).toBe(orig.words.length - 500);
    const index = new Map(k.words.map((w, i) => [w, i]));
    for (const m of mapping.slice(0, 200)) {
      const wi = orig.words.indexOf(m.word);
      expect(Array.from(row(e, wi))).toEqual(Array.from(row(k, index.get(m.kept)!)));
    }
  });

  it('thread counts 1 and 2 give identical output', () => {
    const a = path.join(dir, 't1.bin');
    const b = path.join(dir, 't2.bin');
    expect(runCli(['prune', EXAMPLE, '-o', a, '--keep', '700', '--threads', '1', '-q']).code).toBe(0);
    expect(runCli(['prune', EXAMPLE, '-o', b, '--keep', '700', '--threads', '2', '--batch', '333', '-q']).code).toBe(0);
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  });

  it('ties go to the lower kept row; zero vectors are divided by 1', async () => {
    const m = path.join(dir, 'ties.txt');
    // c is equally close to a and b; z is the zero vector (cosine 0 to everything: first kept row)
    fs.writeFileSync(m, 'a 1 0\nb 0 1\nc 1 1\nz 0 0\n');
    const map = path.join(dir, 'ties.tsv');
    await runGraph(
      { input: m, stages: [{ stage: 'parse' }, { stage: 'rank', keep: 2 }, { stage: 'assign' }, { stage: 'serialize', output: path.join(dir, 'ties.out'), to: 'glove', mapping: map }] },
      { quiet: true },
    );
    expect(fs.readFileSync(map, 'latin1')).toBe('c\ta\t0.707107\nz\ta\t0.000000\n');
  });

  it('--counts selects the N most frequent with ties by file order, table in rank order', async () => {
    const m = path.join(dir, 'c.txt');
    fs.writeFileSync(m, 'a 1 0\nb 0 1\nc 1 1\nd -1 0\ne 0 -1\n');
    const counts = path.join(dir, 'c.tsv');
    fs.writeFileSync(counts, 'e\t50\nc\t7\nb\t7\nzzz\t1000\n'); // a and d missing: count 0
    const out = path.join(dir, 'c.out.txt');
    const map = path.join(dir, 'c.map');
    const r = runCli(['prune', m, '-o', out, '--keep', '3', '--counts', counts, '--layout', 'kept', '--mapping', map, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'latin1')).toBe('3 2\ne 0 -1\nb 0 1\nc 1 1\n');
    expect(fs.readFileSync(map, 'latin1')).toBe('a\tc\t0.707107\nd\te\t0.000000\n');
  });

  it('the counts path equals the file-order path when counts follow file order', () => {
    const counts = path.join(dir, 'order.tsv');
    const words = fs.readFileSync(EXAMPLE, 'latin1').split('\n').slice(1).filter(Boolean).map((l) => l.split(' ')[0]!);
    // shuffled lines, decreasing counts by rank
    const lines = words.map((w, i) => `${w}\t${words.length - i}`);
    for (let i = lines.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
    fs.writeFileSync(counts, lines.join('\n') + '\n');
    const a = path.join(dir, 'ord.bin');
    const b = path.join(dir, 'cnt.bin');
    expect(runCli(['prune', EXAMPLE, '-o', a, '--keep', '800', '-q']).code).toBe(0);
    expect(runCli(['prune', EXAMPLE, '-o', b, '--keep', '800', '--counts', counts, '-q']).code).toBe(0);
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  });

  it('reports the run as JSON', () => {
    const rep = path.join(dir, 'r.json');
    expect(runCli(['prune', EXAMPLE, '-o', path.join(dir, 'x.bin'), '--keep', '1000', '--report', rep, '-q']).code).toBe(0);
    const r = JSON.parse(fs.readFileSync(rep, 'utf8'));
    expect(r.input.rows).toBe(8661);
    expect(r.kept).toBe(1000);
    expect(r.mapped).toBe(7661);
    expect(r.cosine.count).toBe(7661);
    expect(r.cosine.mean).toBeGreaterThan(0.3);
    expect(r.cosine.mean).toBeLessThan(1);
    expect(r.cosine.min).toBeLessThanOrEqual(r.cosine.p5);
    expect(r.output.rows).toBe(8661);
    expect(r.peakRssBytes).toBeGreaterThan(1e6);
  });
});

describe('finalfusion output of a top-N prune', () => {
  it('a finalfusion reader gives every pruned word the unit vector of its kept word', async () => {
    const { openFifu } = await import('../stages/formats/fifu/index.js');
    const { openSource } = await import('../pipeline/source.js');
    const out = path.join(dir, 'p.fifu');
    const map = path.join(dir, 'p.tsv');
    const r = runCli(['prune', EXAMPLE, '-o', out, '--keep', '1500', '--mapping', map, '-q']);
    expect(r.code, r.stderr).toBe(0);
    const orig = await loadModel(EXAMPLE);
    const src = await openSource(out);
    const ff = await openFifu(src);
    expect(ff.metadata).toMatch(/method = "topn"/);
    expect(ff.metadata).toMatch(/keep = 1500/);
    const index = new Map(orig.words.map((w, i) => [w, i]));
    const unitOf = (w: string) => {
      const v = row(orig, index.get(w)!);
      const n = Math.hypot(...v) || 1;
      return Array.from(v, (x) => x / n);
    };
    const mapping = readMapping(map);
    for (const m of mapping.filter((_, i) => i % 50 === 0)) {
      const got = await ff.lookup(m.word);
      expect(got, m.word).toBeDefined();
      expect(maxAbsDiff(got!, unitOf(m.kept))).toBeLessThan(1e-6);
    }
    for (const w of orig.words.slice(0, 1500).filter((_, i) => i % 100 === 0)) {
      expect(maxAbsDiff((await ff.lookup(w))!, unitOf(w))).toBeLessThan(1e-6);
    }
    expect(await ff.lookup('qqqqzzzzxxxx')).toBeUndefined();
    await src.close();
  });
});
