// Quality of pruned huge fastText models (issue 12, docs/huge-fasttext.md): on a sample of pruned
// words, the cosine between the vector fastText itself computes from the original model
// (`fasttext print-word-vectors ORIGINAL`) and the vector each pruned output gives the word:
//   .ftz  -> `fasttext print-word-vectors pruned.ftz` (fastText reads our file)
//   word2vec binary (expanded) -> gensim's KeyedVectors.load_word2vec_format (gensim reads our file)
//   finalfusion -> prune-pipe's own finalfusion lookup (no other finalfusion reader installs here)
//
// usage: node bench/huge-fasttext-quality.mjs ORIGINAL.bin KEEP SAMPLE OUTPUT...
//   OUTPUT: a .ftz, .fifu or word2vec .bin file (expanded layout) written by `prune --keep KEEP`
// The sample: SAMPLE of the words top-N pruned (all but the KEEP highest counts), spread evenly
// in dictionary order. Also reports how many buckets the kept words use. Prints one JSON
// line per output and appends it to bench/results/huge-fasttext-quality.jsonl.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cosine, dist, ROOT } from './lib.mjs';

const { openSource, openModel, openLookup } = await dist('index.js');

const [original, keepArg, sampleArg, ...outputs] = process.argv.slice(2);
if (!original || !keepArg || !sampleArg || !outputs.length) {
  console.error('usage: node bench/huge-fasttext-quality.mjs ORIGINAL.bin KEEP SAMPLE OUTPUT...');
  process.exit(2);
}
const keep = Number(keepArg);
const sample = Number(sampleArg);

// Dictionary words, from the header and dictionary only.
const src = await openSource(original);
const model = await openModel(src);
const all = model.dictionary.words;
const dim = model.info.dim;
// kept = the KEEP highest counts, ties to the earlier row (the rank stage's rule)
const order = Array.from({ length: all.length }, (_, i) => i).sort((a, b) => model.dictionary.counts[b] - model.dictionary.counts[a] || a - b);
const pruned = order.slice(keep).sort((a, b) => a - b);
const words = [];
for (let j = 0; j < sample; j++) {
  const w = all[pruned[Math.floor((pruned.length * j) / sample)]];
  // fastText reads whitespace-separated words from standard input
  if (!/\s/.test(w)) words.push(w);
}
// buckets (n-gram rows) the kept words use
const usedByKept = new Uint8Array(model.tableRows);
let bucketsUsedByKeptWords = 0;
for (const i of order.slice(0, keep)) for (const r of model.indexer.indices(all[i])) if (!usedByKept[r]) (usedByKept[r] = 1), bucketsUsedByKeptWords++;
await model.close();
await src.close();
console.error(`buckets used by the ${keep} kept words: ${bucketsUsedByKeptWords} of ${usedByKept.length}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-huge-quality-'));
const wordsFile = path.join(tmp, 'words.txt');
fs.writeFileSync(wordsFile, Buffer.from(words.join('\n') + '\n', 'latin1'));

/** `fasttext print-word-vectors MODEL` on the sample: word -> Float64Array. */
function fastTextVectors(file) {
  const out = execFileSync('sh', ['-c', `fasttext print-word-vectors '${file}' < '${wordsFile}'`], { maxBuffer: 1 << 30, encoding: 'latin1' });
  const m = new Map();
  for (const line of out.split('\n')) {
    const t = line.trimEnd().split(' ');
    if (t.length === dim + 1) m.set(t[0], Float64Array.from(t.slice(1), Number));
  }
  return m;
}

/** gensim's reading of a word2vec binary, the sample's vectors. */
function gensimVectors(file) {
  const py = `
import sys, json
from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=True, unicode_errors='ignore')
out = {}
for w in open(sys.argv[2], encoding='utf-8', errors='ignore').read().split('\\n'):
    if w and w in kv.key_to_index: out[w] = [float(x) for x in kv[w]]
json.dump(out, sys.stdout)
`;
  const out = execFileSync('/usr/bin/python3', ['-c', py, file, wordsFile], { maxBuffer: 1 << 30, encoding: 'utf8' });
  const m = new Map();
  for (const [w, v] of Object.entries(JSON.parse(out))) m.set(Buffer.from(w, 'utf8').toString('latin1'), Float64Array.from(v));
  return m;
}

/** prune-pipe's lookup of a finalfusion file. */
async function fifuVectors(file) {
  const lk = await openLookup(file, { from: 'fifu' });
  const r = await lk.vectors(words);
  await lk.close();
  const m = new Map();
  words.forEach((w, i) => {
    if (r.source[i] !== 0) m.set(w, Float64Array.from(r.vectors.subarray(i * dim, (i + 1) * dim)));
  });
  return m;
}

const t0 = Date.now();
const ref = fastTextVectors(original);
console.error(`fastText vectors of ${ref.size} sampled words from ${original} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const results = path.join(ROOT, 'bench', 'results', 'huge-fasttext-quality.jsonl');
fs.mkdirSync(path.dirname(results), { recursive: true });
for (const file of outputs) {
  const kind = file.endsWith('.ftz') ? 'ftz (read by fasttext)' : file.endsWith('.fifu') ? 'finalfusion (read by prune-pipe)' : 'word2vec binary (read by gensim)';
  const got = file.endsWith('.ftz') ? fastTextVectors(file) : file.endsWith('.fifu') ? await fifuVectors(file) : gensimVectors(file);
  const cs = [];
  let missing = 0;
  for (const w of words) {
    const a = ref.get(w);
    const b = got.get(w);
    if (!a) continue;
    if (!b) {
      missing++;
      continue;
    }
    cs.push(cosine(a, b));
  }
  cs.sort((x, y) => x - y);
  const row = {
    date: new Date().toISOString(),
    original,
    output: file,
    kind,
    keep,
    bucketsUsedByKeptWords,
    sampled: words.length,
    compared: cs.length,
    missing,
    mean_cosine: Number((cs.reduce((s, c) => s + c, 0) / Math.max(1, cs.length)).toFixed(5)),
    p5_cosine: Number((cs[Math.floor(cs.length * 0.05)] ?? 0).toFixed(5)),
    min_cosine: Number((cs[0] ?? 0).toFixed(5)),
  };
  fs.appendFileSync(results, JSON.stringify(row) + '\n');
  console.log(JSON.stringify(row));
}
fs.rmSync(tmp, { recursive: true, force: true });
