/**
 * Worker thread for top-k search: holds the (shared) unit-length table and answers batches of
 * unit-length queries with their k most similar rows, best first.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { topKRows } from './topk.js';

const { table, rows, dim, k } = workerData as { table: Float32Array; rows: number; dim: number; k: number };

parentPort!.on('message', (m: { id: number; queries: Float32Array; n: number }) => {
  const index = new Int32Array(m.n * k);
  const score = new Float32Array(m.n * k);
  topKRows(m.queries, m.n, table, rows, dim, k, index, score);
  parentPort!.postMessage({ id: m.id, index, score }, [index.buffer, score.buffer]);
});
