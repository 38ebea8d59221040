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
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORDSIM = path.resolve(ROOT, '../shared/fixtures/gensim/wordsim353.tsv');
const [model, keepArg, ...configs] = process.argv.slice(2);
if (!model || !keepArg || configs.length === 0) {
  console.error('usage: node bench/cover.mjs MODEL.vec KEEP CONFIG...');
  process.exit(2);
}
const keep = Number(keepArg);

/** WordSim-353 pairs (lower-cased, as the GCIDE corpus is). */
function readPairs() {
  const pairs = [];
  for (const line of fs.readFileSync(WORDSIM, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [a, b, s] = line.split('\t');
    pairs.push([a.toLowerCase(), b.toLowerCase(), Number(s)]);
  }
  return pairs;
}

/** Vectors of the given words from a word2vec text file (one pass, latin1). */
function vectorsOf(file, wanted) {
  const out = new Map();
  const text = fs.readFileSync(file, 'latin1');
  let s = text.indexOf('\n') + 1;
  while (s < text.length) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = text.length;
    const sp = text.indexOf(' ', s);
    if (sp > s && sp < e) {
      const w = text.slice(s, sp);
      if (wanted.has(w)) out.set(w, Float64Array.from(text.slice(sp + 1, e).trim().split(' '), Number));
    }
    s = e + 1;
  }
  return out;
}

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? d / Math.sqrt(na * nb) : 0;
}

/** Ranks with ties averaged. */
function ranks(xs) {
  const idx = xs.map((x, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Array(xs.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1]] === xs[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rho: Pearson correlation of the ranks. */
function spearman(x, y) {
  const rx = ranks(x);
  const ry = ranks(y);
  const n = x.length;
  const mx = rx.reduce((a, b) => a + b, 0) / n;
  const my = ry.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman over the pairs whose words are both in the original model. */
function wordsim(file, vocab) {
  const pairs = readPairs().filter(([a, b]) => vocab.has(a) && vocab.has(b));
  const v = vectorsOf(file, new Set(pairs.flatMap(([a, b]) => [a, b])));
  const ok = pairs.filter(([a, b]) => v.has(a) && v.has(b));
  return { rho: spearman(ok.map(([a, b]) => cosine(v.get(a), v.get(b))), ok.map((p) => p[2])), pairs: ok.length, of: readPairs().length };
}

function timeV(args) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${args.join(' ')}\n${r.stderr}`);
  const get = (re) => r.stderr.match(re)?.[1];
  const wall = get(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/)
    .split(':')
    .reduce((acc, x) => acc * 60 + Number(x), 0);
  const cpu = Number(get(/User time \(seconds\): ([\d.]+)/)) + Number(get(/System time \(seconds\): ([\d.]+)/));
  return { wall, cpu, rssMiB: Number(get(/Maximum resident set size \(kbytes\): (\d+)/)) / 1024 };
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
