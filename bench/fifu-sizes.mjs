#!/usr/bin/env node
/**
 * Sizes of the finalfusion layouts for one pruned model (docs/finalfusion.md): the unpruned model
 * as finalfusion, and the pruned model in both layouts of writePrunedFifu ('duplicate' and
 * 'ngrams-only'); then reads each pruned file back and checks every pruned word's vector against
 * its kept row (largest absolute difference, and how many are bit-identical to the kept word's own
 * vector).
 *
 * usage: node bench/fifu-sizes.mjs MODEL MAPPING.tsv   (build first: npx tsc -p .)
 *   MODEL is any model prune-pipe reads; MAPPING is the `word<TAB>kept word<TAB>cosine` file of a
 *   `prune-pipe prune --mapping` run on it: words not in it are the kept words.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(ROOT, 'dist', p));
const [model, mappingFile] = process.argv.slice(2);
if (!model || !mappingFile) {
  console.error('usage: node bench/fifu-sizes.mjs MODEL MAPPING.tsv');
  process.exit(2);
}
const { openSource } = await dist('pipeline/source.js');
const { OutputFile } = await dist('pipeline/output.js');
const { collect } = await dist('pipeline/stream.js');
const { openModel } = await dist('stages/formats/index.js');
const fifu = await dist('stages/formats/fifu/index.js');

const mapping = new Map();
for (const line of fs.readFileSync(mappingFile, 'latin1').split('\n')) {
  if (!line) continue;
  const [w, k] = line.split('\t');
  mapping.set(w, k);
}

const src = await openSource(model);
const reader = await openModel(src);
const dim = reader.info.dim;
const labels = [];
const keptVecs = [];
const allWords = [];
const prunedWords = [];
const prunedKeptWord = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fifu-sizes-'));
const t0 = performance.now();
// unpruned, streaming, word list given with the rows
const fullOut = await OutputFile.open(path.join(tmp, 'full.fifu'));
const full = await fifu.FifuWriter.begin(fullOut, { dim });
for (const b of await collect(reader.pass({ batchRows: 4096 }))) {
  await full.writeRows(b.vectors, b.words);
  for (let i = 0; i < b.words.length; i++) {
    const w = b.words[i];
    allWords.push(w);
    if (mapping.has(w)) {
      prunedWords.push(w);
      prunedKeptWord.push(mapping.get(w));
    } else {
      labels.push(w);
      keptVecs.push(b.vectors.slice(i * dim, (i + 1) * dim));
    }
  }
}
const fullRes = await full.end({ metadata: fifu.toToml({ tool: 'prune-pipe', source: path.basename(model) }) });
await fullOut.commit();
const tFull = (performance.now() - t0) / 1000;

const keptIndex = new Map(labels.map((l, i) => [l, i]));
const vectors = new Float32Array(labels.length * dim);
keptVecs.forEach((v, i) => vectors.set(v, i * dim));
const prunedRows = prunedKeptWord.map((k) => {
  const r = keptIndex.get(k);
  if (r === undefined) throw new Error(`mapping names ${k}, which is not a kept word`);
  return r;
});

// one streaming pass over the unpruned file with the reader
const { drain } = await dist('pipeline/stream.js');
const fullSrc = await openSource(path.join(tmp, 'full.fifu'));
const tp = performance.now();
let passRows = 0;
await drain((await fifu.openFifu(fullSrc)).pass({ batchRows: 2048 }).map((b) => (passRows += b.words.length)));
const passSeconds = (performance.now() - tp) / 1000;
await fullSrc.close();
const rows = [
  { file: 'full.fifu', bytes: fullRes.bytes, seconds: tFull, storageRows: fullRes.rows, ngrams: 0, passSeconds, passRows },
];
for (const layout of ['duplicate', 'ngrams-only']) {
  const t = performance.now();
  const file = path.join(tmp, `pruned-${layout}.fifu`);
  const out = await OutputFile.open(file);
  const res = await fifu.writePrunedFifu(out, { dim, labels, vectors, pruned: prunedWords, prunedRows, layout, metadata: fifu.toToml({ tool: 'prune-pipe', keep: labels.length }) });
  await out.commit();
  const seconds = (performance.now() - t) / 1000;
  // read back: every pruned word against its kept row
  const s = await openSource(file);
  const r = await fifu.openFifu(s);
  let maxDiff = 0;
  let bitEqual = 0;
  const t2 = performance.now();
  for (let i = 0; i < prunedWords.length; i++) {
    const v = await r.lookup(prunedWords[i]);
    const want = await r.lookup(labels[prunedRows[i]]);
    let same = true;
    for (let k = 0; k < dim; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(v[k] - want[k]));
      if (v[k] !== want[k]) same = false;
    }
    if (same) bitEqual++;
  }
  const lookupSeconds = (performance.now() - t2) / 1000;
  await s.close();
  rows.push({
    file: path.basename(file),
    bytes: fs.statSync(file).size,
    seconds,
    storageRows: r.storage.rows,
    words: res.rows,
    ngrams: res.ngrams,
    minN: res.minN,
    maxN: res.maxN,
    conflicts: res.conflicts.length,
    maxDiff,
    bitEqual: `${bitEqual}/${prunedWords.length}`,
    lookupSeconds,
  });
}
await src.close();
console.log(`model ${model}: ${allWords.length} words x ${dim}, kept ${labels.length}, pruned ${prunedWords.length}`);
console.table(rows.map((r) => ({ ...r, MB: (r.bytes / 1e6).toFixed(2), seconds: r.seconds.toFixed(2), lookupSeconds: r.lookupSeconds?.toFixed(2), passSeconds: r.passSeconds?.toFixed(2) })));
fs.rmSync(tmp, { recursive: true, force: true });
