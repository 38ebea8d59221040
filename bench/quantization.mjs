#!/usr/bin/env node
/**
 * Pruning plus product quantization on a real fastText model (docs/quantization.md): for each
 * kept size N, the original, the pruned model without quantization (finalfusion, explicit n-grams)
 * and the pruned, quantized outputs (.ftz; finalfusion QuantizedArray). For each: file size,
 * `prune` CPU time and peak RSS (/usr/bin/time -v), mean cosine to the original for the known
 * words (every vocabulary word: kept words and words rebuilt from n-grams) and for a list of
 * unknown words (corpus words the model never saw: both models build them from n-grams), and
 * WordSim-353 Spearman (all 353 pairs, words lower-cased; unknown words from n-grams on both
 * sides) from `prune-pipe eval --json`.
 *
 * usage: node bench/quantization.mjs MODEL.bin CORPUS.txt N [N...]   (build first: npx tsc -p .)
 * Results are appended to bench/results/quantization.jsonl and printed as a table.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLookup } from '../dist/stages/lookup/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const [model, corpus, ...keeps] = process.argv.slice(2);
if (!model || !corpus || keeps.length === 0) {
  console.error('usage: node bench/quantization.mjs MODEL.bin CORPUS.txt N [N...]');
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-pq-'));
const results = path.join(ROOT, 'bench/results/quantization.jsonl');
fs.mkdirSync(path.dirname(results), { recursive: true });

function timed(args) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, CLI, ...args], { maxBuffer: 1 << 28 });
  const err = r.stderr.toString();
  if (r.status !== 0) throw new Error(`prune-pipe ${args.join(' ')} failed:\n${err}`);
  const num = (re) => Number(re.exec(err)?.[1] ?? NaN);
  return { stdout: r.stdout.toString(), cpu: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/), rssMB: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024 };
}

/** Unknown words: corpus words (letters only, 4+ long) the model's vocabulary lacks, the most frequent first. */
async function unknownWords(limit) {
  const lk = await openLookup(model);
  const counts = new Map();
  const text = fs.readFileSync(corpus, 'latin1');
  for (const t of text.split(/\s+/)) if (/^[a-z]{4,}$/.test(t) && !lk.has(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
  await lk.close();
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit).map(([w]) => w);
}

async function unknownCosine(pruned, words) {
  const a = await openLookup(model);
  const b = await openLookup(pruned);
  const va = await a.vectors(words);
  const vb = await b.vectors(words);
  const dim = a.dim;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    if (!va.source[i] || !vb.source[i]) continue;
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let d = i * dim; d < (i + 1) * dim; d++) {
      ab += va.vectors[d] * vb.vectors[d];
      aa += va.vectors[d] ** 2;
      bb += vb.vectors[d] ** 2;
    }
    if (aa > 0 && bb > 0) {
      sum += ab / Math.sqrt(aa * bb);
      n++;
    }
  }
  await a.close();
  await b.close();
  return { mean: n ? sum / n : NaN, n };
}

function evaluate(pruned) {
  const r = spawnSync(process.execPath, [CLI, 'eval', model, pruned, '--json', '-q', '--sample', '0', '--lowercase'], { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`eval ${pruned} failed: ${r.stderr}`);
  const e = JSON.parse(r.stdout.toString());
  const parts = [e.cosine, e.subwords].filter((c) => c && c.count);
  const known = parts.reduce((s, c) => s + c.count * c.mean, 0) / parts.reduce((s, c) => s + c.count, 0);
  const pairs = e.pairs.with_subwords ?? e.pairs.vocabulary;
  return { known, keptCos: e.cosine.mean, rebuiltCos: e.subwords?.mean, words: parts.reduce((s, c) => s + c.count, 0), spearman: pairs.pruned, spearmanOriginal: pairs.original, pairs: pairs.pairs };
}

const unknown = await unknownWords(1000);
const rows = [];
const date = new Date().toISOString().slice(0, 10);
const base = { date, model: path.basename(model), node: process.version, cpus: os.cpus().length, load: os.loadavg()[0].toFixed(1) };
const original = { ...base, variant: 'original', keep: '', bytes: fs.statSync(model).size, known: 1, unknown: 1 };
rows.push(original);
for (const n of keeps) {
  const variants = [
    ['pruned fifu', `${n}.fifu`, []],
    ['pruned+PQ ftz', `${n}.ftz`, []],
    ['pruned+PQ ftz, norms not apart', `${n}-noqnorm.ftz`, ['--no-pq-qnorm']],
    ['pruned+PQ ftz, no compensation', `${n}-plain.ftz`, ['--no-pq-compensate']],
    ['pruned+PQ ftz, dsub 4', `${n}-d4.ftz`, ['--pq-dsub', '4']],
    ['pruned+PQ ftz, 100k n-gram rows', `${n}-100k.ftz`, ['--keep-subwords', '100000']],
    ['pruned+PQ fifu', `${n}-pq.fifu`, ['--quantize', 'pq']],
  ];
  for (const [variant, name, extra] of variants) {
    const out = path.join(work, name);
    const quantized = /ftz$/.test(name) || extra.includes('--quantize');
    const t = timed(['prune', model, '-n', n, '-o', out, '-q', ...(quantized ? ['--pq-verify', 'false'] : []), ...extra]);
    const e = evaluate(out);
    const u = await unknownCosine(out, unknown);
    const row = { ...base, variant, keep: Number(n), bytes: fs.statSync(out).size, cpuSeconds: t.cpu, peakRssMB: Math.round(t.rssMB), ...e, unknown: u.mean, unknownWords: u.n };
    rows.push(row);
    if (original.spearman === undefined) Object.assign(original, { spearman: e.spearmanOriginal, pairs: e.pairs });
    fs.appendFileSync(results, JSON.stringify(row) + '\n');
    fs.rmSync(out, { force: true });
  }
}
fs.rmSync(work, { recursive: true, force: true });
const mb = (b) => (b / 1048576).toFixed(b < 10 * 1048576 ? 2 : 1);
console.log(`# ${model}, ${unknown.length} unknown words; ${date}, node ${process.version}, ${os.cpus().length} cores, load ${base.load}`);
console.log('| variant | N | size MiB | prune CPU s | peak RSS MB | known words cos | unknown words cos | WordSim-353 Spearman (pairs) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.variant} | ${r.keep} | ${mb(r.bytes)} | ${r.cpuSeconds?.toFixed(1) ?? ''} | ${r.peakRssMB ?? ''} | ${r.known.toFixed(4)} | ${r.unknown.toFixed(4)} | ${r.spearman.toFixed(4)} (${r.pairs}) |`,
  );
}
