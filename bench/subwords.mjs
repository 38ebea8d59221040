#!/usr/bin/env node
/**
 * Subword pruning of a fastText model (docs/subwords.md): for each configuration, prunes MODEL.bin
 * to KEEP words with the subword stages and writes finalfusion, then measures
 *   - file size before and after, buckets used / unused (the scan's report);
 *   - kept words: cosine between the finalfusion vector (read back with our reader) and the
 *     original model's vector (our fastText reader, checked against fastText by test/fasttext.test.ts);
 *   - pruned words (rebuilt from their n-grams): the run's cosine figures, and on a sample read back
 *     from the file;
 *   - unknown words (tokens of TEXT the model does not know): cosine between the original model's
 *     vector and the file's (finalfusion lookup: the n-grams of the vocabulary in kept buckets), and
 *     the vector a bucket map would give (every n-gram whose bucket is kept, as a pruned fastText
 *     .ftz looks words up).
 * A configuration 'nearest' maps pruned words to their nearest kept word (written as word2vec) for
 * comparison.
 *
 * usage: node bench/subwords.mjs MODEL.bin TEXT KEEP CONFIG...   (build first: npx tsc -p .)
 *   CONFIG: comma-separated subword-collapse/scan options, e.g. 'default', 'keep=30000,score=usage',
 *   'keep=30000,pruned=nearest', 'weights=counts,keep=30000', 'unused=null', 'nearest'.
 * Writes bench/results/subwords-unknown.txt (the unknown words) and appends JSON lines to
 * bench/results/subwords.jsonl.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { runGraph } = await import(path.join(ROOT, 'dist/cli/graph.js'));
const { openSource } = await import(path.join(ROOT, 'dist/pipeline/source.js'));
const { openFastText } = await import(path.join(ROOT, 'dist/stages/formats/fasttext/index.js'));
const { openFifu } = await import(path.join(ROOT, 'dist/stages/formats/fifu/index.js'));
const { PLAN_STATE } = await import(path.join(ROOT, 'dist/stages/subword-collapse.js'));

const [model, text, keepArg, ...configs] = process.argv.slice(2);
if (!model || !text || !keepArg || configs.length === 0) {
  console.error('usage: node bench/subwords.mjs MODEL.bin TEXT KEEP CONFIG...');
  process.exit(2);
}
const KEEP = Number(keepArg);
const UNKNOWN_N = 1000;
const SAMPLE_PRUNED = 1000;
const RESULTS = path.join(ROOT, 'bench/results');
fs.mkdirSync(RESULTS, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-subwords-bench-'));

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const r4 = (x) => Math.round(x * 1e4) / 1e4;

const src = await openSource(model);
const ft = await openFastText(src);
const dim = ft.dim;

// Unknown words: distinct tokens of the text that are not in the dictionary (fastText splits on
// ASCII whitespace), every k-th in order of first appearance.
const seen = new Set();
const oov = [];
const body = fs.readFileSync(text).toString('latin1');
for (const tok of body.split(/[ \t\n\v\f\r]+/)) {
  if (!tok || seen.has(tok)) continue;
  seen.add(tok);
  if (ft.wordId(tok) < 0) oov.push(tok);
}
const step = Math.max(1, Math.floor(oov.length / UNKNOWN_N));
const unknown = oov.filter((_, i) => i % step === 0).slice(0, UNKNOWN_N);
fs.writeFileSync(path.join(RESULTS, 'subwords-unknown.txt'), Buffer.from(unknown.join('\n') + '\n', 'latin1'));
console.error(`${oov.length} distinct unknown tokens in the text; measuring ${unknown.length}`);
const before = await ft.vectorsFor(unknown);
const rowOf = (v, i) => v.subarray(i * dim, (i + 1) * dim);

function parseConfig(c) {
  if (c === 'default') return { scan: {}, collapse: {} };
  if (c === 'nearest') return { nearest: true, scan: {}, collapse: {} };
  const scan = {};
  const collapse = {};
  for (const kv of c.split(',')) {
    const [k, v] = kv.split('=');
    if (k === 'words' || k === 'weights') scan[k] = v;
    else collapse[k] = k === 'keep' ? Number(v) : v;
  }
  return { scan, collapse };
}

const inputBytes = fs.statSync(model).size;
const rows = [];
for (const c of configs) {
  const cfg = parseConfig(c);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let ctx;
  let out;
  if (cfg.nearest) {
    out = path.join(tmp, 'nearest.bin');
    ctx = await runGraph(
      { input: model, stages: [{ stage: 'parse' }, { stage: 'rank', keep: KEEP }, { stage: 'assign' }, { stage: 'serialize', output: out, to: 'w2v-bin', layout: 'kept' }] },
      { quiet: true },
    );
  } else {
    out = path.join(tmp, 'out.fifu');
    ctx = await runGraph(
      {
        input: model,
        stages: [
          { stage: 'parse' },
          { stage: 'rank', keep: KEEP },
          { stage: 'subword-scan', ...cfg.scan },
          { stage: 'subword-collapse', ...cfg.collapse },
          { stage: 'serialize', output: out, to: 'fifu' },
        ],
      },
      { quiet: true },
    );
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rep = ctx.report;
  const row = {
    config: c,
    keep: KEEP,
    inputBytes,
    outputBytes: fs.statSync(out).size,
    prunedMean: r4(rep.cosine.mean),
    prunedWeighted: r4(rep.cosine.weightedMean),
    prunedP5: r4(rep.cosine.quantile(0.05)),
    wall: Math.round(wall * 10) / 10,
    cpu: Math.round((cpu.user + cpu.system) / 1e5) / 10,
    stages: rep.stages,
  };
  if (!cfg.nearest) {
    const sw = rep.subwords;
    Object.assign(row, { buckets: sw.scan.buckets, used: sw.scan.used, unusedShare: sw.scan.unusedShare, keptBuckets: sw.collapse.kept, ngrams: sw.output.ngrams });
    if (sw.collapse.remapCosine) row.remapCosine = sw.collapse.remapCosine.mean;
    const fsrc = await openSource(out);
    const f = await openFifu(fsrc);
    const words = await f.words();
    const norms = await f.norms();
    const orig = await ft.vectorsFor(words);
    const keptCos = [];
    for (let i = 0; i < words.length; i++) keptCos.push(cosine(await f.lookup(words[i]), rowOf(orig, i)));
    row.keptMean = r4(mean(keptCos));
    row.keptMin = Math.round(Math.min(...keptCos) * 1e7) / 1e7;
    // pruned words read back from the file (a sample)
    const keptSet = new Set(words);
    const pruned = ft.dictionary.words.slice(0, ft.nwords).filter((w) => !keptSet.has(w) && w !== '</s>');
    const sample = pruned.filter((_, i) => i % Math.max(1, Math.floor(pruned.length / SAMPLE_PRUNED)) === 0).slice(0, SAMPLE_PRUNED);
    const so = await ft.vectorsFor(sample);
    const sc = [];
    for (let i = 0; i < sample.length; i++) {
      const v = await f.lookup(sample[i]);
      sc.push(v ? cosine(v, rowOf(so, i)) : 0);
    }
    row.prunedSampleMean = r4(mean(sc));
    // unknown words: the file (explicit n-grams) and a bucket map (plan.rebuild)
    const plan = ctx.state.get(PLAN_STATE).plan;
    const fileCos = [];
    const bucketCos = [];
    const found = [];
    let none = 0;
    const tmpv = new Float32Array(dim);
    for (let i = 0; i < unknown.length; i++) {
      const b = rowOf(before, i);
      if (!b.some((x) => x !== 0)) continue; // no n-gram at all in the original either
      const v = await f.lookup(unknown[i]);
      if (!v) none++;
      found.push(!!v);
      fileCos.push(v ? cosine(v, b) : 0);
      plan.rebuild(unknown[i], tmpv, 0);
      bucketCos.push(cosine(tmpv, b));
    }
    row.unknownMeasured = fileCos.length;
    row.unknownFileMean = r4(mean(fileCos));
    row.unknownFileMeanFound = r4(mean(fileCos.filter((_, i) => found[i])));
    row.unknownNoVector = none;
    row.unknownBucketMean = r4(mean(bucketCos));
    await fsrc.close();
  }
  row.date = new Date().toISOString();
  row.model = path.relative(ROOT, path.resolve(model));
  fs.appendFileSync(path.join(RESULTS, 'subwords.jsonl'), JSON.stringify(row) + '\n');
  rows.push(row);
  console.error(JSON.stringify(row));
  fs.rmSync(out, { force: true });
}
await ft.close();
await src.close();
fs.rmSync(tmp, { recursive: true, force: true });

const cols = ['config', 'outputBytes', 'unusedShare', 'keptBuckets', 'keptMean', 'keptMin', 'prunedMean', 'prunedWeighted', 'prunedSampleMean', 'unknownFileMean', 'unknownFileMeanFound', 'unknownNoVector', 'unknownBucketMean', 'wall'];
console.log('| ' + cols.join(' | ') + ' |');
console.log('|' + cols.map(() => ' --- ').join('|') + '|');
for (const r of rows) console.log('| ' + cols.map((k) => (r[k] === undefined ? '' : k === 'outputBytes' ? `${(r[k] / 2 ** 20).toFixed(1)} MiB` : String(r[k]))).join(' | ') + ' |');
