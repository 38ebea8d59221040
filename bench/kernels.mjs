#!/usr/bin/env node
// Exact nearest-row kernels on the same work: Q queries x N rows x D dims (unit random rows), argmax
// per query. The TypeScript kernel and the WebAssembly SIMD kernel on this thread, the pool of SIMD
// workers, and usearch's exactSearch (in chunks of 2048 queries: all at once dies with bad_alloc).
// Prints wall time and GFLOP/s by wall and by CPU time (all threads of this process), so numbers
// stay comparable on a loaded machine; and whether every kernel picked the same rows.
// (usearch 2.25.3's exactSearch reads a subarray from the start of its buffer: chunks are copied.)
// usage: node bench/kernels.mjs [Q N D] [--threads 2]       (default 4096 10000 300; needs npm run build)
import { nearestRows, nearestRowsJs } from '../dist/stages/kernels/nearest.js';
import { NearestPool } from '../dist/stages/kernels/nearest-pool.js';
import { normalizeRows } from '../dist/stages/kernels/normalize.js';

const args = process.argv.slice(2);
const ti = args.indexOf('--threads');
const threads = ti >= 0 ? Number(args[ti + 1]) : 2;
const [nq, nt, dim] = (args.filter((a, i) => !a.startsWith('--') && (ti < 0 || i !== ti + 1)).map(Number).concat([4096, 10000, 300])).slice(0, 3);
const flop = 2 * nq * nt * dim;

let seed = 12345;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296 - 0.5;
};
const table = normalizeRows(Float32Array.from({ length: nt * dim }, rnd), nt, dim, new Float32Array(new SharedArrayBuffer(nt * dim * 4)));
const queries = normalizeRows(Float32Array.from({ length: nq * dim }, rnd), nq, dim);

async function time(name, fn) {
  const c = process.cpuUsage();
  const w = performance.now();
  const idx = await fn();
  const wall = (performance.now() - w) / 1000;
  const u = process.cpuUsage(c);
  const cpu = (u.user + u.system) / 1e6;
  console.log(`${name.padEnd(34)} ${wall.toFixed(2).padStart(7)} s wall ${(flop / wall / 1e9).toFixed(1).padStart(6)} GFLOP/s   ${cpu.toFixed(2).padStart(7)} s cpu ${(flop / cpu / 1e9).toFixed(1).padStart(6)} GFLOP/s per cpu-second`);
  return idx;
}

console.log(`${nq} queries x ${nt} rows x ${dim} dims = ${(flop / 1e9).toFixed(1)} GFLOP; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const answers = {};
answers.js = await time('TypeScript kernel, 1 thread', () => {
  const i = new Int32Array(nq);
  nearestRowsJs(queries, nq, table, nt, dim, i, new Float32Array(nq));
  return i;
});
answers.simd = await time('WebAssembly SIMD, 1 thread', () => {
  const i = new Int32Array(nq);
  nearestRows(queries, nq, table, nt, dim, i, new Float32Array(nq));
  return i;
});
const pool = new NearestPool(table, nt, dim, threads);
await pool.search(queries.subarray(0, 64 * dim), 64); // workers started
answers.pool = await time(`WebAssembly SIMD, ${threads} workers`, async () => (await pool.search(queries, nq)).index);
await pool.close();
try {
  const { default: usearch } = await import('usearch');
  const plain = table.slice(); // usearch rejects views of a SharedArrayBuffer ("Invalid argument")
  answers.usearch = await time(`usearch exactSearch, ${threads} threads`, () => {
    const i = new Int32Array(nq);
    for (let a = 0; a < nq; a += 2048) {
      const n = Math.min(2048, nq - a);
      const r = usearch.exactSearch(plain, queries.slice(a * dim, (a + n) * dim), dim, 1, usearch.MetricKind.IP, threads);
      for (let j = 0; j < n; j++) i[a + j] = Number(r.keys[j]);
    }
    return i;
  });
} catch (e) {
  console.log(`usearch: ${e.message}`);
}
for (const [k, v] of Object.entries(answers)) {
  let d = 0;
  for (let i = 0; i < nq; i++) if (v[i] !== answers.simd[i]) d++;
  if (k !== 'simd') console.log(`${k}: ${d} of ${nq} answers differ from the SIMD kernel's (near-ties)`);
}
