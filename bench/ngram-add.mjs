#!/usr/bin/env node
// The row-addition kernel of n-gram sums (stages/kernels/ngram-add.ts) against the same kernel taking
// one pair at a time (scripts/wasm/gen-ngram-add-wat.mjs with K = 1, what it was before) and against
// the JavaScript loop, on the work of a sweep: runs of rows (a 4 MiB buffer, rows ascending) added
// to accumulators at random across a region of R MiB, 256 pairs per call. Prints ns per pair and
// the ratios; every kernel's sums are compared bit for bit.
// usage: node bench/ngram-add.mjs [dim] [regions MiB, comma-separated]   (default 300 1,16,64,128; needs npm run build)
import { addKernel, jsAddKernel } from '../dist/stages/kernels/ngram-add.js';
import { compileWat } from '../scripts/wasm/build.mjs';
import { ngramAddWat } from '../scripts/wasm/gen-ngram-add-wat.mjs';

const dim = Number(process.argv[2] ?? 300);
const regions = (process.argv[3] ?? '1,16,64,128').split(',').map(Number);
const rowBytes = dim * 4;
const RUN = 4 << 20;
const runRows = Math.floor(RUN / rowBytes);
const N = 1 << 16; // pairs per list
const LISTS = 8;
const CALL = 256;
let seed = 12345;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  let x = seed ^ (seed >>> 16);
  x = Math.imul(x, 0x45d9f3b);
  return ((x ^ (x >>> 16)) >>> 0) / 4294967296;
};
const one = await WebAssembly.compile(await compileWat(ngramAddWat(1)));

console.log(`dim ${dim}, ${LISTS * N} pairs per kernel and region, ${CALL} per call; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const mib of regions) {
  const slots = Math.floor((mib << 20) / rowBytes);
  const listBase = RUN;
  const accBase = listBase + 8 * N;
  const pages = Math.ceil((accBase + slots * rowBytes) / 65536);
  const lists = Array.from({ length: LISTS }, () => {
    const a = new Int32Array(N);
    const s = new Int32Array(N);
    for (let p = 0; p < N; p++) {
      a[p] = accBase + Math.floor(rnd() * slots) * rowBytes;
      s[p] = Math.floor((p / N) * runRows) * rowBytes;
    }
    return [a, s];
  });
  const sums = {};
  const line = [];
  for (const [name, make] of [
    ['lockstep', (m) => addKernel(m)],
    ['one pair', (m) => new WebAssembly.Instance(one, { env: { memory: m } }).exports],
    ['JavaScript', (m) => jsAddKernel(m)],
  ]) {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
    const f = new Float32Array(memory.buffer);
    // the same rows for every kernel; the accumulators touched (zero) before the clock starts
    for (let i = 0, x = 1; i < runRows * dim; i++) f[i] = ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) >>> 8) / (1 << 24) - 0.5;
    f.fill(0, accBase / 4);
    const k = make(memory);
    const i32 = new Int32Array(memory.buffer);
    let ms = 0;
    for (const [a, s] of lists) {
      i32.set(a, listBase >> 2);
      i32.set(s, (listBase >> 2) + N);
      const t = performance.now();
      for (let p = 0; p < N; p += CALL) k.addPairs(listBase + 4 * p, listBase + 4 * N + 4 * p, Math.min(CALL, N - p), dim);
      ms += performance.now() - t;
    }
    sums[name] = f.subarray(accBase / 4);
    line.push([name, (ms / (LISTS * N)) * 1e6]);
  }
  let same = true;
  for (let i = 0; i < sums.lockstep.length && same; i++) same = Object.is(sums.lockstep[i], sums['one pair'][i]) && Object.is(sums.lockstep[i], sums.JavaScript[i]);
  const base = line[0][1];
  console.log(
    `region ${String(mib).padStart(4)} MiB: ` + line.map(([n, ns]) => `${n} ${ns.toFixed(0)} ns/pair (x${(ns / base).toFixed(2)})`).join(', ') + `; same sums: ${same}`,
  );
}
