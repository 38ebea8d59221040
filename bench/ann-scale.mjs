#!/usr/bin/env node
// Approximate nearest-row search at 300 dims (issue 7): CPU per query, build CPU and agreement with
// exact search, on rows read from a generated word2vec binary (first KEEP rows = kept table, the
// next QUERIES rows = queries, all unit length). Variants: the inverted-file index (ivf.ts) at
// several cell counts and probes, and usearch HNSW at several quantizations, degrees and build
// breadths (ef x 4 candidates reranked exactly, as search.ts does). CPU time = all threads of this
// process (process.cpuUsage), so numbers stay comparable on a shared, loaded machine.
// usage: node bench/ann-scale.mjs FILE [--keep 50000] [--queries 20000] [--threads 2]
//          [--cells 224,448,896] [--probes 1,2,4,8] [--hnsw f32:16:128,f16:16:128,...] [--ef 16,32,64]
//        (needs npm run build; --hnsw none skips usearch)
import fs from 'node:fs';
import { NearestPool, sharedUnitTable } from '../dist/stages/kernels/nearest-pool.js';
import { normalizeRows } from '../dist/stages/kernels/normalize.js';
import { buildIvf, ivfBytes, unpermute } from '../dist/stages/kernels/ivf.js';
import { loadUsearch } from '../dist/stages/kernels/ann-index.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const file = args[0];
const keep = Number(opt('keep', 50000));
const nq = Number(opt('queries', 20000));
const threads = Number(opt('threads', 2));
const cellsList = opt('cells', '224,448,896').split(',').map(Number);
const probesList = opt('probes', '1,2,4,8').split(',').map(Number);
const hnswList = opt('hnsw', 'f32:16:128,f16:16:128,i8:16:128,f32:8:64,f16:12:64,f16:16:32').split(',').filter((x) => x !== 'none');
const efList = opt('ef', '16,32,64').split(',').map(Number);

/** First `n` rows of a word2vec binary. */
function readW2v(path, n) {
  const fd = fs.openSync(path, 'r');
  const head = Buffer.alloc(64);
  fs.readSync(fd, head, 0, 64, 0);
  const nl = head.indexOf(10);
  const [rows, dim] = head.subarray(0, nl).toString().trim().split(/\s+/).map(Number);
  n = Math.min(n, rows);
  const bytes = Math.min(fs.fstatSync(fd).size - nl - 1, n * (dim * 4 + 64));
  const buf = Buffer.alloc(bytes);
  fs.readSync(fd, buf, 0, bytes, nl + 1);
  fs.closeSync(fd);
  const out = new Float32Array(n * dim);
  let p = 0;
  for (let r = 0; r < n; r++) {
    while (buf[p] === 10 || buf[p] === 13) p++;
    p = buf.indexOf(32, p) + 1;
    for (let j = 0; j < dim; j++) out[r * dim + j] = buf.readFloatLE(p + 4 * j);
    p += 4 * dim;
  }
  return { dim, vectors: out };
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);

const { dim, vectors } = readW2v(file, keep + nq);
const table = sharedUnitTable(vectors.subarray(0, keep * dim), keep, dim);
const queries = normalizeRows(vectors.subarray(keep * dim, (keep + nq) * dim), nq, dim, new Float32Array(nq * dim));
console.log(`${file}: ${keep} kept x ${nq} queries x ${dim} dims, ${threads} threads; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);

const rows = [];
function compare(name, build, searchCpu, r, exact, extra = {}) {
  let agree = 0;
  let lost = 0;
  for (let i = 0; i < nq; i++) {
    if (r.index[i] === exact.index[i] || r.score[i] === exact.score[i]) agree++;
    lost += exact.score[i] - r.score[i];
  }
  const row = { variant: name, build_cpu_s: +build.toFixed(2), cpu_us_per_query: +((searchCpu / nq) * 1e6).toFixed(1), agreement: +((agree / nq) * 100).toFixed(2), cosine_lost: +(lost / nq).toFixed(5), rss_mb: rss(), ...extra };
  rows.push(row);
  console.log(JSON.stringify(row));
}

// exact
let pool = new NearestPool(table, keep, dim, threads);
let t = cpu();
const exact = await pool.search(queries, nq);
const exactCpu = cpu() - t;
console.log(JSON.stringify({ variant: 'exact (wasm SIMD pool)', cpu_us_per_query: +((exactCpu / nq) * 1e6).toFixed(1), rss_mb: rss() }));
await pool.close();

// IVF
for (const cells of cellsList) {
  pool = new NearestPool(table, keep, dim, threads, false, ivfBytes(dim, cells, threads + 1));
  t = cpu();
  const setup = await buildIvf(pool.simdTable.memory, pool.simdTable.layout, threads + 1, { cells, seed: 1, runner: pool.ivfBuildRunner() });
  await pool.attachIvf(setup);
  const build = cpu() - t;
  const sizes = Array.from({ length: cells }, (_, c) => setup.cellStart[c + 1] - setup.cellStart[c]);
  for (const probes of probesList) {
    t = cpu();
    const r = await pool.searchIvf(queries, nq, probes);
    compare(`ivf cells ${cells} probes ${probes}`, build, cpu() - t, r, exact, { largest_cell: Math.max(...sizes) });
  }
  // the permuted table searched exactly (positions mapped back) is the exact answer
  unpermute(pool.simdTable.memory, setup);
  await pool.attachIvf(undefined);
  const back = await pool.search(queries.subarray(0, 256 * dim), 256);
  if (back.index.some((x, i) => x !== exact.index[i])) console.log('unpermute: rows differ!');
  await pool.close();
}

// HNSW (usearch), candidates reranked exactly
if (hnswList.length) {
  const u = await loadUsearch();
  pool = new NearestPool(table, keep, dim, threads);
  for (const v of hnswList) {
    const [q, conn, efc] = v.split(':');
    const before = rss();
    t = cpu();
    const index = new u.Index({ dimensions: dim, metric: u.MetricKind.IP, quantization: q, connectivity: Number(conn), expansion_add: Number(efc), expansion_search: 16, multi: false });
    const keys = new BigUint64Array(keep);
    for (let i = 0; i < keep; i++) keys[i] = BigInt(i);
    index.add(keys, table.slice(), threads);
    const build = cpu() - t;
    const indexMb = rss() - before;
    for (const ef of efList) {
      t = cpu();
      const m = index.search(queries, ef, threads);
      const cand = new Int32Array(nq * 4).fill(-1);
      for (let i = 0; i < nq; i++) {
        const c = Number(m.counts[i]);
        for (let j = 0; j < Math.min(4, c); j++) cand[i * 4 + j] = Number(m.keys[i * ef + j]);
      }
      const r = pool.rerank(queries, nq, cand, 4);
      compare(`hnsw ${q} M ${conn} efC ${efc} ef ${ef}`, build, cpu() - t, r, exact, { index_rss_mb: indexMb });
    }
  }
  await pool.close();
}
