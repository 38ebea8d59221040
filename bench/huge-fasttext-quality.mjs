// Quality of pruned huge fastText models (docs/huge-fasttext.md): for a sample of pruned words,
// the mean cosine between the vector fastText computes for them from the original model (our
// reader's vectorsFor, equal to `fasttext print-word-vectors` up to float32 rounding: tested in
// test/fasttext.test.ts) and the vector the pruned model gives them (read back with stages/lookup);
// and the buckets the kept words use.
//
// usage: node bench/huge-fasttext-quality.mjs ORIGINAL.bin KEEP SAMPLE [--dist DIR] PRUNED_FILE...
//   KEEP: the --keep of the runs (the kept words are the KEEP most frequent: fastText's dictionary
//   order); SAMPLE pruned words are taken evenly in dictionary order (every k-th).
// Prints one JSON line per pruned file.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
let dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const di = args.indexOf('--dist');
if (di >= 0) {
  dist = path.resolve(args[di + 1]);
  args.splice(di, 2);
}
const [original, keepArg, sampleArg, ...files] = args;
const keep = Number(keepArg);
const sampleSize = Number(sampleArg);
const imp = (p) => import(pathToFileURL(path.join(dist, p)).href);
const { openSource } = await imp('pipeline/source.js');
const { openFastText } = await imp('stages/formats/fasttext/index.js');
const { openLookup } = await imp('stages/lookup/index.js');

const src = await openSource(original);
const m = await openFastText(src);
const words = m.dictionary.words;
// kept = the KEEP highest counts, ties to the earlier row (the rank stage's rule)
const order = Array.from({ length: m.nwords }, (_, i) => i).sort((a, b) => m.dictionary.counts[b] - m.dictionary.counts[a] || a - b);
const kept = new Set(order.slice(0, keep));
const pruned = [];
for (let i = 0; i < m.nwords; i++) if (!kept.has(i)) pruned.push(i);
const step = Math.max(1, Math.floor(pruned.length / sampleSize));
const sample = [];
for (let k = 0; k < pruned.length && sample.length < sampleSize; k += step) sample.push(pruned[k]);
const t0 = performance.now();
const orig = await m.vectorsOfIds(sample);
const dim = m.dim;
// buckets (n-gram rows) the kept words use
const usedByKept = new Uint8Array(m.tableRows);
let keptBuckets = 0;
for (const i of kept) for (const r of m.indexer.indices(words[i])) if (!usedByKept[r]) (usedByKept[r] = 1), keptBuckets++;
const sampleWords = sample.map((i) => words[i]);
const base = { original: path.basename(original), keep, sample: sample.length, sampleStep: step, bucketsUsedByKeptWords: keptBuckets, originalSeconds: Math.round(performance.now() - t0) / 1000 };

for (const file of files) {
  const t = performance.now();
  const from = file.endsWith('.ftz') ? 'fasttext' : undefined;
  const lk = await openLookup(file, from ? { from } : {});
  try {
    const r = await lk.vectors(sampleWords);
    let sum = 0;
    let n = 0;
    let missing = 0;
    let min = 1;
    for (let k = 0; k < sample.length; k++) {
      if (r.source[k] === 0) {
        missing++;
        continue;
      }
      let ab = 0, aa = 0, bb = 0;
      for (let d = 0; d < dim; d++) {
        const x = orig[k * dim + d], y = r.vectors[k * dim + d];
        ab += x * y;
        aa += x * x;
        bb += y * y;
      }
      const c = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
      sum += c;
      n++;
      if (c < min) min = c;
    }
    console.log(JSON.stringify({ ...base, file: path.basename(file), meanCosine: n ? Math.round((sum / n) * 1e6) / 1e6 : null, minCosine: n ? Math.round(min * 1e6) / 1e6 : null, withVector: n, missing, seconds: Math.round(performance.now() - t) / 1000 }));
  } finally {
    await lk.close();
  }
}
await m.close();
await src.close();
