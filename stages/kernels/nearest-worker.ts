/**
 * Worker thread for nearest-row search: attaches to the pool's table (its slot of the shared
 * WebAssembly memory, or the plain shared table) and answers batches of unit-length queries with
 * the nearest row and its score.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { nearestRowsJs } from './nearest.js';
import type { NearestWorkerData } from './nearest-pool.js';
import { SimdTable } from './nearest-simd.js';

const data = workerData as NearestWorkerData;
const simd = data.kind === 'simd' ? SimdTable.attach(data.memory, data.layout) : null;

parentPort!.on('message', (m: { id: number; queries: Float32Array; n: number }) => {
  const index = new Int32Array(m.n);
  const score = new Float32Array(m.n);
  if (data.kind === 'simd') simd!.search(data.slot, m.queries, m.n, index, score);
  else nearestRowsJs(m.queries, m.n, data.table, data.rows, data.dim, index, score);
  parentPort!.postMessage({ id: m.id, index, score }, [index.buffer, score.buffer]);
});
