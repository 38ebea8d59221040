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
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORDSIM = path.resolve(ROOT, '../shared/fixtures/gensim/wordsim353.tsv');
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

function wordsimPairs() {
  const out = [];
  for (const line of fs.readFileSync(WORDSIM, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [a, b, s] = line.split('\t');
    out.push([a.toLowerCase(), b.toLowerCase(), Number(s)]);
  }
  return out;
}

/** Vectors of `wanted` words from a word2vec text file. */
function readVectors(file, wanted) {
  const out = new Map();
  const text = fs.readFileSync(file, 'latin1');
  for (let s = text.indexOf('\n') + 1; s < text.length; ) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = text.length;
    const sp = text.indexOf(' ', s);
    if (sp > s && sp < e) {
      const w = text.slice(s, sp);
      if (wanted.has(w)) out.set(w, text.slice(sp + 1, e).trim().split(' ').map(Number));
    }
    s = e + 1;
  }
  return out;
}

function cos(a, b) {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? d / Math.sqrt(na * nb) : 0;
}

/** Average ranks (ties share their mean rank). */
function rank(xs) {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Array(xs.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]] === xs[order[i]]) j++;
    for (let t = i; t <= j; t++) r[order[t]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

/** Spearman correlation: Pearson correlation of the ranks. */
function spearman(x, y) {
  const a = rank(x);
  const b = rank(y);
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

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
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${args.join(' ')}\n${r.stderr}`);
  const get = (re) => r.stderr.match(re)?.[1];
  const wall = get(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/)
    .split(':')
    .reduce((s, x) => s * 60 + Number(x), 0);
  const cpu = Number(get(/User time \(seconds\): ([\d.]+)/)) + Number(get(/System time \(seconds\): ([\d.]+)/));
  return { wall, cpu, rssMiB: Math.round(Number(get(/Maximum resident set size \(kbytes\): (\d+)/)) / 1024) };
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
