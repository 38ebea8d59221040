#!/usr/bin/env node
/**
 * prune-pipe's k-means trainer against scikit-learn's MiniBatchKMeans (docs/kmeans.md), in one
 * run, on the same L2-normalised rows of a model, with the same k, batch size and seed:
 * training time (ours: stages/kmeans/train.ts on one thread; scikit-learn: MiniBatchKMeans.fit)
 * and the mean cosine of every row to its most similar normalised centre, scored for both by the
 * same numpy code (bench/kmeans-sklearn.py eval). Optionally times ml-kmeans on a subsample.
 *
 * usage: node bench/kmeans-vs-sklearn.mjs MODEL K [--batch 1024] [--seed 0] [--n-init N]
 *          [--no-sklearn] [--ours JSON-OPTIONS] [--ml-kmeans ROWS,K]    (build first: npx tsc -p .)
 * Appends JSON lines to bench/results/kmeans-vs-sklearn.jsonl.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dist, loadRows, ROOT } from './lib.mjs';

const { normalizeRows } = await dist('stages/kernels/normalize.js');
const { trainKMeans } = await dist('stages/kmeans/train.js');
const { kmeansPlusPlus } = await dist('stages/kernels/kmeanspp.js');
const { Rng } = await dist('stages/kernels/random.js');

const argv = process.argv.slice(2);
const flag = (name, def) => {
  const i = argv.indexOf(name);
  if (i < 0) return def;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const batch = Number(flag('--batch', '1024'));
const seed = Number(flag('--seed', '0'));
const nInit = flag('--n-init', undefined);
const ours = JSON.parse(flag('--ours', '{}'));
const ml = flag('--ml-kmeans', undefined);
const noSk = argv.includes('--no-sklearn');
if (noSk) argv.splice(argv.indexOf('--no-sklearn'), 1);
const [model, kArg] = argv;
if (!model || !kArg) {
  console.error('usage: node bench/kmeans-vs-sklearn.mjs MODEL K [--batch B] [--seed S] [--n-init N] [--no-sklearn] [--ours JSON] [--ml-kmeans ROWS,K]');
  process.exit(2);
}
const k = Number(kArg);

// Rows of the model, unit length, written once for the Python side.
const { dim, n, vectors: x } = await loadRows(model);
normalizeRows(x, n, dim);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-kmeans-sk-'));
const rowsFile = path.join(tmp, 'rows.f32');
fs.writeFileSync(rowsFile, Buffer.from(x.buffer, 0, n * dim * 4));
const py = (args) => JSON.parse(execFileSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'kmeans-sklearn.py'), ...args], { encoding: 'utf8', maxBuffer: 1 << 24 }));

const machine = `${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;
const base = { date: new Date().toISOString(), model, rows: n, dim, k, batch, seed, node: process.version, machine };
const results = path.join(ROOT, 'bench', 'results', 'kmeans-vs-sklearn.jsonl');
fs.mkdirSync(path.dirname(results), { recursive: true });
const record = (r) => {
  const row = { ...base, ...r };
  fs.appendFileSync(results, JSON.stringify(row) + '\n');
  console.log(JSON.stringify(row));
  return row;
};

// ml-kmeans: k-means++ seeding alone on a small subsample (where it might serve).
if (ml) {
  const [mRows, mK] = ml.split(',').map(Number);
  const { kmeans } = await import('ml-kmeans');
  const data = [];
  for (let i = 0; i < mRows; i++) data.push(Array.from(x.subarray(i * dim, (i + 1) * dim)));
  let t = performance.now();
  kmeans(data, mK, { initialization: 'kmeans++', maxIterations: 1, seed: 1 });
  const mlSeconds = (performance.now() - t) / 1000;
  const sub = x.subarray(0, mRows * dim);
  const rng = new Rng(1);
  t = performance.now();
  kmeansPlusPlus(sub, mRows, dim, mK, () => rng.next(), undefined, 1);
  const plain = (performance.now() - t) / 1000;
  t = performance.now();
  kmeansPlusPlus(sub, mRows, dim, mK, () => rng.next(), undefined, 2 + Math.floor(Math.log(mK)));
  const greedy = (performance.now() - t) / 1000;
  record({ what: 'seeding', subsample: mRows, seedK: mK, mlKmeansSeconds: +mlSeconds.toFixed(3), oursPlainSeconds: +plain.toFixed(3), oursGreedySeconds: +greedy.toFixed(3) });
}

// Ours.
let t = performance.now();
const r = trainKMeans(x, n, dim, undefined, { k, batchSize: batch, seed: seed + 1, ...ours });
const oursSeconds = (performance.now() - t) / 1000;
const cFile = path.join(tmp, 'centres.f32');
fs.writeFileSync(cFile, Buffer.from(r.centroids.buffer, r.centroids.byteOffset, r.k * dim * 4));
const oursRow = record({
  what: 'prune-pipe',
  options: ours,
  seconds: +oursSeconds.toFixed(2),
  phases: Object.fromEntries(Object.entries(r.seconds).map(([a, b]) => [a, +b.toFixed(2)])),
  cells: r.cells,
  epochs: r.epochs,
  batches: r.steps,
  stoppedEarly: r.stoppedEarly,
  ...py(['eval', rowsFile, String(n), String(dim), cFile]),
});

// scikit-learn.
if (!noSk) {
  const sk = record({ what: 'sklearn MiniBatchKMeans', ...py(['fit', rowsFile, String(n), String(dim), String(k), String(batch), String(seed), ...(nInit ? ['--n-init', nInit] : [])]) });
  console.log(
    `k = ${k}: prune-pipe ${oursRow.seconds} s, mean cosine ${oursRow.mean_cosine}; scikit-learn ${sk.seconds} s (n_init ${sk.n_init}), mean cosine ${sk.mean_cosine}; time ratio ${(oursRow.seconds / sk.seconds).toFixed(3)}`,
  );
}
fs.rmSync(tmp, { recursive: true, force: true });
