#!/usr/bin/env node
/**
 * Quality and cost of the pruning methods on one model (docs/cover.md):
 * for each configuration, runs `prune-pipe prune` under /usr/bin/time -v and reports the plain and
 * frequency-weighted (Zipf 1/rank: the .vec is sorted by frequency) mean cosine and p5 cosine of all
 * words (from the run report), WordSim-353 Spearman on the pruned vectors, wall time, CPU time and
 * peak RSS.
 *
 * usage: node bench/cover.mjs MODEL.vec KEEP CONFIG...   (build first: npx tsc -p .)
 *   CONFIG is a method with its flags, e.g. 'topn' 'cover' 'cover --force-keep 2000 --candidates 25000'
 *   'original' scores the unpruned model (WordSim only).
 * Results are appended as JSON lines to bench/results/cover.jsonl and printed as a table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cosine, ROOT, spearman, timeV, vectorsOf, wordsimPairs as readPairs } from './lib.mjs';

const [model, keepArg, ...configs] = process.argv.slice(2);
if (!model || !keepArg || configs.length === 0) {
  console.error('usage: node bench/cover.mjs MODEL.vec KEEP CONFIG...');
  process.exit(2);
}
const keep = Number(keepArg);

/** Spearman over the pairs whose words are both in the original model. */
function wordsim(file, vocab) {
  const pairs = readPairs().filter(([a, b]) => vocab.has(a) && vocab.has(b));
  const v = vectorsOf(file, new Set(pairs.flatMap(([a, b]) => [a, b])));
  const ok = pairs.filter(([a, b]) => v.has(a) && v.has(b));
  return { rho: spearman(ok.map(([a, b]) => cosine(v.get(a), v.get(b))), ok.map((p) => p[2])), pairs: ok.length, of: readPairs().length };
}

const pairs = readPairs();
const vocabWords = new Set(pairs.flatMap(([a, b]) => [a, b]));
const inModel = new Set(vectorsOf(model, vocabWords).keys());
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-cover-'));
const resultsDir = path.join(ROOT, 'bench', 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const rows = [];
for (const config of configs) {
  const [method, ...flags] = config.split(/\s+/).filter(Boolean);
  let row;
  if (method === 'original') {
    const ws = wordsim(model, inModel);
    row = { config, wordsim: ws.rho, pairs: ws.pairs };
  } else {
    const out = path.join(tmp, 'out.vec');
    const rep = path.join(tmp, 'report.json');
    const args = [path.join(ROOT, 'dist/cli/main.js'), 'prune', model, '-o', out, '--keep', String(keep), '--method', method, '--report', rep, '-q', ...flags];
    const t = timeV(args);
    const r = JSON.parse(fs.readFileSync(rep, 'utf8'));
    const ws = wordsim(out, inModel);
    row = {
      config,
      keep,
      mean: r.cosineAll.mean,
      weighted: r.cosineAll.weighted_mean,
      p5: r.cosineAll.p5,
      wordsim: ws.rho,
      pairs: ws.pairs,
      ...t,
      stages: r.stages,
      ...(r.cover ? { cover: r.cover } : {}),
    };
    fs.rmSync(out, { force: true });
  }
  row.date = new Date().toISOString();
  row.model = model;
  rows.push(row);
  fs.appendFileSync(path.join(resultsDir, 'cover.jsonl'), JSON.stringify(row) + '\n');
  const f = (x, d = 4) => (x === undefined ? '' : x.toFixed(d));
  console.log(`| ${config} | ${f(row.mean)} | ${f(row.weighted)} | ${f(row.p5)} | ${f(row.wordsim)} (${row.pairs}) | ${f(row.wall, 1)} | ${f(row.cpu, 1)} | ${f(row.rssMiB, 0)} |`);
}
fs.rmSync(tmp, { recursive: true, force: true });
