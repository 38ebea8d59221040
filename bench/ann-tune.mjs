#!/usr/bin/env node
// Approximate search on a real model: agreement with exact search, cosine lost and time for HNSW
// parameters, usearch (the dependency) and, when installed, hnswlib-node (the alternative that was
// measured against it). The first KEEP rows are the table, the rest are the queries (top-N).
// usage: node bench/ann-tune.mjs MODEL KEEP [--ef 32,64,128] [--k 1,4,8] [--rerank 4] [--threads 2] [--hnswlib]
// Needs `npm run build`. Times are wall clock and CPU (user + system) of this process.
import { openSource } from '../dist/pipeline/source.js';
import { openModel } from '../dist/stages/formats/index.js';
import { collect } from '../dist/pipeline/stream.js';
import { normalizeRows } from '../dist/stages/kernels/normalize.js';
import { NearestPool, sharedUnitTable } from '../dist/stages/kernels/nearest-pool.js';
import { buildHnswIndex } from '../dist/stages/kernels/ann-index.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const [file, keepS] = args;
const keep = Number(keepS);
const efs = opt('--ef', '32,64,128').split(',').map(Number);
const ks = opt('--k', '1,4,8').split(',').map(Number);
const threads = Number(opt('--threads', '2'));
const conn = Number(opt('--connectivity', '16'));
const efc = Number(opt('--ef-construction', '128'));

const source = await openSource(file);
const model = await openModel(source);
const batches = await collect(model.pass({ batchRows: 8192 }));
const dim = model.info.dim;
const rows = batches.reduce((n, b) => n + b.words.length, 0);
const all = new Float32Array(rows * dim);
let o = 0;
for (const b of batches) {
  all.set(b.vectors.subarray(0, b.words.length * dim), o * dim);
  o += b.words.length;
}
await model.close();
await source.close();
const nq = rows - keep;
const unit = sharedUnitTable(all, keep, dim);
const queries = normalizeRows(all.subarray(keep * dim), nq, dim, new Float32Array(nq * dim));
console.log(`${file}: ${rows} rows x ${dim}, keep ${keep}, ${nq} queries, threads ${threads}`);

const clock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const since = (c) => {
  const u = process.cpuUsage(c.cpu);
  return `${((performance.now() - c.wall) / 1000).toFixed(2)} s wall, ${((u.user + u.system) / 1e6).toFixed(2)} s cpu`;
};

const pool = new NearestPool(unit, keep, dim, threads);
let c = clock();
const exact = await pool.search(queries, nq);
console.log(`exact (${pool.kernel}, ${threads} workers): ${since(c)}`);

const rr = Number(opt('--rerank', '4'));
// the index returns k candidates best first (k also widens the search: HNSW keeps max(ef, k));
// the first `rr` of them are compared exactly
function score(all, k) {
  const kk = Math.min(k, rr);
  const cand = new Int32Array(nq * kk);
  for (let q = 0; q < nq; q++) for (let j = 0; j < kk; j++) cand[q * kk + j] = all[q * k + j];
  const r = pool.rerank(queries, nq, cand, kk);
  let agree = 0;
  let lost = 0;
  for (let i = 0; i < nq; i++) {
    if (r.index[i] === exact.index[i] || r.score[i] === exact.score[i]) agree++;
    lost += exact.score[i] - (r.index[i] >= 0 ? r.score[i] : -1);
  }
  return `agreement ${((agree / nq) * 100).toFixed(2)}%, mean cosine lost ${(lost / nq).toFixed(5)}`;
}

for (const ef of efs) {
  c = clock();
  const index = await buildHnswIndex((a, b) => unit.subarray(a * dim, b * dim), keep, dim, { connectivity: conn, expansionAdd: efc, expansionSearch: ef, threads });
  const built = since(c);
  for (const k of ks) {
    c = clock();
    const cand = index.search(queries, nq, k);
    console.log(`usearch M${conn} efC${efc} ef${ef} k${k}: build ${built}; search ${since(c)}; ${score(cand, k)}`);
  }
  index.close();
}

if (args.includes('--hnswlib')) {
  const { default: hnsw } = await import('hnswlib-node');
  const h = new hnsw.HierarchicalNSW('ip', dim);
  c = clock();
  h.initIndex(keep, conn, efc, 100);
  for (let i = 0; i < keep; i++) h.addPoint(Array.from(unit.subarray(i * dim, (i + 1) * dim)), i);
  const built = since(c);
  for (const ef of efs) {
    h.setEf(ef);
    for (const k of ks) {
      c = clock();
      const cand = new Int32Array(nq * k).fill(-1);
      for (let q = 0; q < nq; q++) {
        const r = h.searchKnn(Array.from(queries.subarray(q * dim, (q + 1) * dim)), k);
        r.neighbors.forEach((x, j) => (cand[q * k + j] = x));
      }
      console.log(`hnswlib-node M${conn} efC${efc} ef${ef} k${k}: build ${built} (1 thread); search ${since(c)} (1 thread); ${score(cand, k)}`);
    }
  }
}
await pool.close();
