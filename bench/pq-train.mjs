#!/usr/bin/env node
/**
 * Product-quantizer training settings on the rows a pruned .ftz of a real fastText model holds:
 * the input rows of the KEEP most frequent words plus the n-gram rows of every bucket the
 * vocabulary uses. For each setting (sample size, k-means++ candidates, k-means steps): CPU
 * seconds of training and of encoding all rows, and the reconstruction error of all rows
 * relative to their squared norm (sum |x - q(x)|^2 / sum |x|^2). Build first: npx tsc -p .
 *
 * usage: node bench/pq-train.mjs MODEL.bin KEEP [sample:trials:iterations ...]
 *   default settings: 20000:7:25 20000:1:25 65536:7:25 65536:1:25 20000:7:10 5000:7:25
 */
import { openSource } from '../dist/pipeline/source.js';
import { openFastText } from '../dist/stages/formats/fasttext/index.js';
import { quantizeRows } from '../dist/stages/pq-quantize.js';
import { decodeRows } from '../dist/stages/kernels/pq-decode.js';

const [file, keepArg, ...settings] = process.argv.slice(2);
if (!file || !keepArg) {
  console.error('usage: node bench/pq-train.mjs MODEL.bin KEEP [sample:trials:iterations ...]');
  process.exit(2);
}
const keep = Number(keepArg);
const list = settings.length ? settings : ['20000:7:25', '20000:1:25', '65536:7:25', '65536:1:25', '20000:7:10', '5000:7:25'];

const src = await openSource(file);
const m = await openFastText(src);
const dim = m.dim;
const used = new Uint8Array(m.tableRows);
for (const w of m.dictionary.words.slice(0, m.nwords)) for (const r of m.indexer.indices(w)) used[r] = 1;
const rows = [];
for (let r = 0; r < used.length; r++) if (used[r]) rows.push(r);
const ngram = new Float32Array(rows.length * dim);
const CH = 65536;
for (let s = 0; s < rows.length; s += CH) {
  // rows are ascending: read the covering range once per chunk
  const part = rows.slice(s, s + CH);
  const data = await m.readTableRows(part[0], part[part.length - 1] - part[0] + 1);
  part.forEach((r, i) => ngram.set(data.subarray((r - part[0]) * dim, (r - part[0] + 1) * dim), (s + i) * dim));
}
const words = await m.readInputRows(0, Math.min(keep, m.nwords));
const blocks = [
  { data: words, rows: words.length / dim },
  { data: ngram, rows: rows.length },
];
const total = blocks.reduce((s, b) => s + b.rows, 0);
let energy = 0;
for (const b of blocks) for (let i = 0; i < b.rows * dim; i++) energy += b.data[i] * b.data[i];
console.log(`# ${file}: ${words.length / dim} word rows + ${rows.length} n-gram rows (buckets the vocabulary uses) x ${dim}; node ${process.version}`);
console.log('sample\ttrials\titerations\ttrain_cpu_s\tencode_cpu_s\trelative_error');
for (const s of list) {
  const [sample, trials, iterations] = s.split(':').map(Number);
  const r = quantizeRows(blocks, dim, { sample, trials, iterations, seed: 1 });
  // relative error from the decoded rows
  let err = 0;
  let at = 0;
  const buf = new Float32Array(4096 * dim);
  for (const b of blocks) {
    for (let s0 = 0; s0 < b.rows; s0 += 4096) {
      const n = Math.min(4096, b.rows - s0);
      decodeRows(r.codebook, r.codes, at + s0, n, buf, 0);
      for (let i = 0; i < n * dim; i++) err += (b.data[s0 * dim + i] - buf[i]) ** 2;
    }
    at += b.rows;
  }
  console.log(`${sample}\t${trials}\t${iterations}\t${r.trainCpuSeconds.toFixed(1)}\t${r.encodeCpuSeconds.toFixed(1)}\t${(err / energy).toFixed(5)}`);
}
await m.close();
await src.close();
