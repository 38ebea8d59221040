/**
 * Worker thread for nearest-row search: holds the (shared) unit-length table and answers
 * batches of unit-length queries with the nearest row and its score.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { nearestRows } from './nearest.js';

const { table, rows, dim } = workerData as { table: Float32Array; rows: number; dim: number };

parentPort!.on('message', (m: { id: number; queries: Float32Array; n: number }) => {
  const index = new Int32Array(m.n);
  const score = new Float32Array(m.n);
  nearestRows(m.queries, m.n, table, rows, dim, index, score);
  parentPort!.postMessage({ id: m.id, index, score }, [index.buffer, score.buffer]);
});
