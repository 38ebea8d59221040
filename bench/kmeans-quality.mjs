#!/usr/bin/env node
/**
 * k-means pruning against top-N on one model (docs/kmeans.md): for each configuration, runs
 * `prune-pipe prune` and reports, from the run report, the plain and frequency-weighted mean
 * cosine and the p5 cosine of all words (each word to the row it now maps to; with --counts the
 * weights are the counts), WordSim-353 Spearman of the pruned vectors (pairs whose two words are in
 * the model, lower-cased as the GCIDE corpus is), wall and CPU time and peak RSS (/usr/bin/time -v).
 *
 * usage: node bench/kmeans-quality.mjs MODEL.vec KEEP [--counts FILE] CONFIG...   (build first)
 *   CONFIG: 'original' (WordSim of the unpruned model) or a method with flags, e.g. 'topn',
 *   'kmeans --force-keep 7400 --weights counts'. Runs use --search exact.
 * Results are appended as JSON lines to bench/results/kmeans-quality.jsonl and printed as a table.
 * A counts file for a fastText model: fasttext dump MODEL.bin dict | awk 'NR>1{print $1"\t"$2}'.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cosine as cos, ROOT, spearman, timeV, vectorsOf as readVectors, wordsimPairs } from './lib.mjs';

const argv = process.argv.slice(2);
let counts;
const ci = argv.indexOf('--counts');
if (ci >= 0) {
  counts = argv[ci + 1];
  argv.splice(ci, 2);
}
const [model, keepArg, ...configs] = argv;
if (!model || !keepArg || configs.length === 0) {
  console.error('usage: node bench/kmeans-quality.mjs MODEL.vec KEEP [--counts FILE] CONFIG...');
  process.exit(2);
}
const keep = Number(keepArg);

const pairs = wordsimPairs();
const inModel = new Set(readVectors(model, new Set(pairs.flatMap(([a, b]) => [a, b]))).keys());
const usable = pairs.filter(([a, b]) => inModel.has(a) && inModel.has(b));

function wordsim(file) {
  const v = readVectors(file, inModel);
  return spearman(
    usable.map(([a, b]) => cos(v.get(a), v.get(b))),
    usable.map((p) => p[2]),
  );
}

function timed(args) {
  const t = timeV(args);
  return { ...t, rssMiB: Math.round(t.rssMiB) };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-kmeans-quality-'));
const results = path.join(ROOT, 'bench', 'results', 'kmeans-quality.jsonl');
fs.mkdirSync(path.dirname(results), { recursive: true });
const f = (x, d = 4) => (x === undefined ? '' : x.toFixed(d));
console.log(`model ${model}, N = ${keep}, WordSim-353 pairs in the model: ${usable.length} of ${pairs.length}${counts ? `, weights: counts from ${counts}` : ', weights: Zipf by row'}`);
console.log('| config | mean cos | weighted | p5 | WordSim | wall s | CPU s | RSS MiB |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const config of configs) {
  const [method, ...flags] = config.split(/\s+/).filter(Boolean);
  let row;
  if (method === 'original') {
    row = { config, wordsim: wordsim(model) };
  } else {
    const out = path.join(tmp, 'out.vec');
    const rep = path.join(tmp, 'report.json');
    const args = [path.join(ROOT, 'dist/cli/main.js'), 'prune', model, '-o', out, '--keep', String(keep), '--method', method, '--search', 'exact', '--report', rep, '-q'];
    if (counts) args.push('--counts', counts);
    const t = timed([...args, ...flags]);
    const r = JSON.parse(fs.readFileSync(rep, 'utf8'));
    row = {
      config,
      keep,
      mean: r.cosineAll.mean,
      weighted: r.cosineAll.weighted_mean,
      p5: r.cosineAll.p5,
      wordsim: wordsim(out),
      ...t,
      stages: r.stages,
      ...(r.kmeans ? { kmeans: r.kmeans } : {}),
    };
    fs.rmSync(out, { force: true });
  }
  Object.assign(row, { pairs: usable.length, counts: counts ?? null, model, date: new Date().toISOString() });
  fs.appendFileSync(results, JSON.stringify(row) + '\n');
  console.log(`| ${config} | ${f(row.mean)} | ${f(row.weighted)} | ${f(row.p5)} | ${f(row.wordsim)} | ${f(row.wall, 1)} | ${f(row.cpu, 1)} | ${row.rssMiB ?? ''} |`);
}
fs.rmSync(tmp, { recursive: true, force: true });
