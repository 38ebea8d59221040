#!/usr/bin/env node
/**
 * k-means for product quantization: ml-kmeans (number[][] input) against our Float32Array kernel
 * (stages/kernels/pq-kmeans.ts), k = 256 centroids on 2-dim sub-vectors of real word vectors.
 * For each sub-space and sample size: CPU time of this process (the machine is shared, so wall
 * time says little) and distortion (mean squared distance of the points to their nearest centroid,
 * computed the same way for all). Also the assignment kernels alone (brute force against the
 * sorted search, which must give the same codes). Build first: npx tsc -p .
 *
 * usage: node bench/pq-kmeans.mjs MODEL.vec [SAMPLE...]   (default samples 20000 65536)
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { kmeans } from 'ml-kmeans';
import { smallKmeans } from '../dist/stages/kernels/pq-kmeans.js';
import { nearestCentroids } from '../dist/stages/kernels/pq-nearest.js';
import { nearestCentroidsSorted, sortCentroids } from '../dist/stages/kernels/pq-nearest-sorted.js';

const [file, ...sampleArgs] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/pq-kmeans.mjs MODEL.vec [SAMPLE...]');
  process.exit(2);
}
const samples = sampleArgs.length ? sampleArgs.map(Number) : [20000, 65536];
const K = 256;
const D = 2;
const ITER = 25;
const SUBSPACES = [0, 17, 49];

async function readVec(path, maxRows) {
  const rl = readline.createInterface({ input: fs.createReadStream(path), crlfDelay: Infinity });
  let dim = 0;
  let rows = 0;
  let data;
  for await (const line of rl) {
    if (!dim) {
      const [n, d] = line.split(' ').map(Number);
      dim = d;
      data = new Float32Array(Math.min(n, maxRows) * dim);
      continue;
    }
    if (rows >= maxRows) break;
    const p = line.trimEnd().split(' ');
    for (let j = 0; j < dim; j++) data[rows * dim + j] = Number(p[p.length - dim + j]);
    rows++;
  }
  rl.close();
  return { dim, rows, data };
}

function lcg(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function distortion(points, n, centroids) {
  const codes = new Int32Array(n);
  return nearestCentroids(points, 0, D, n, D, centroids, 0, K, codes, 0, 1) / n;
}

const maxN = Math.max(...samples);
const { dim, rows, data } = await readVec(file, maxN);
console.log(`# ${file}: ${rows} rows x ${dim}; k = ${K}, d = ${D}, ${ITER} iterations; node ${process.version}`);
console.log('sample\tsubspace\tmethod\tcpu_seconds\titerations\tdistortion');
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
for (const n of samples) {
  for (const m of SUBSPACES) {
    if (m * D + D > dim) continue;
    const pts = new Float32Array(n * D);
    for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) pts[i * D + j] = data[(i % rows) * dim + m * D + j];
    const arr = Array.from({ length: n }, (_, i) => [pts[i * D], pts[i * D + 1]]);
    for (const init of ['random', 'kmeans++']) {
      const t = cpu();
      const r = kmeans(arr, K, { initialization: init, maxIterations: ITER, seed: 1 });
      const s = cpu() - t;
      const C = new Float32Array(K * D);
      r.centroids.forEach((c, i) => C.set(c, i * D));
      console.log(`${n}\t${m}\tml-kmeans ${init}\t${s.toFixed(2)}\t${r.iterations}\t${distortion(pts, n, C).toExponential(4)}`);
    }
    let last;
    for (const [init, search, trials] of [['random', 'brute'], ['random', 'sorted'], ['kmeans++', 'sorted', 1], ['kmeans++', 'brute'], ['kmeans++', 'sorted']]) {
      const t = cpu();
      const r = smallKmeans(pts, n, D, K, { iterations: ITER, random: lcg(1), init, search, trials });
      const s = cpu() - t;
      console.log(`${n}\t${m}\tpq-kmeans ${init}${trials ? ` trials=${trials}` : ''} ${search}\t${s.toFixed(2)}\t${r.iterations}\t${distortion(pts, n, r.centroids).toExponential(4)}`);
      last = r.centroids;
    }
    // the assignment kernels alone, 10 rounds over the sample with the final centroids
    const a = new Int32Array(n);
    const b = new Int32Array(n);
    let t = cpu();
    for (let rep = 0; rep < 10; rep++) nearestCentroids(pts, 0, D, n, D, last, 0, K, a, 0, 1);
    const tb = cpu() - t;
    t = cpu();
    for (let rep = 0; rep < 10; rep++) nearestCentroidsSorted(pts, 0, D, n, sortCentroids(last, 0, K, D), b, 0, 1);
    const ts = cpu() - t;
    const same = a.every((v, i) => v === b[i]);
    console.log(`# assignment of ${10 * n} sub-vectors: brute ${tb.toFixed(2)} s (${((10 * n * K) / tb / 1e6).toFixed(0)} M distances/s), sorted ${ts.toFixed(2)} s; same codes: ${same}`);
  }
}
