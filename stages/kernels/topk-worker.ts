/**
 * Worker thread for top-k search: attaches to the pool's table (its slot of the shared
 * WebAssembly memory, or the plain shared table) and answers either batches of unit-length queries
 * (their k most similar rows, best first) or a share of the table's search against itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DotsTable } from './dots-simd.js';
import { topKRows, topKSelfBlocks } from './topk.js';
import type { TopKWorkerData } from './topk-pool.js';
import { topKRowsSimd, topKSelfSimd } from './topk-simd.js';
import { DOT_QUERIES } from './dots-simd.js';

const data = workerData as TopKWorkerData;
const simd = data.kind === 'simd' ? DotsTable.attach(data.memory, data.layout) : null;
const rows = data.kind === 'simd' ? data.layout.rows : data.rows;
const k = data.k;

type Message = { id: number; kind: 'rows'; queries: Float32Array; n: number } | { id: number; kind: 'self'; blocks: number[] };

parentPort!.on('message', (m: Message) => {
  const n = m.kind === 'rows' ? m.n : rows;
  const index = new Int32Array(n * k);
  const score = new Float32Array(n * k);
  if (m.kind === 'rows') {
    if (simd) topKRowsSimd(simd, data.kind === 'simd' ? data.slot : 0, m.queries, m.n, k, index, score);
    else if (data.kind === 'js') topKRows(m.queries, m.n, data.table, data.rows, data.dim, k, index, score);
  } else {
    if (simd) topKSelfSimd(simd, data.kind === 'simd' ? data.slot : 0, m.blocks, k, index, score);
    else if (data.kind === 'js') topKSelfBlocks(data.table, data.rows, data.dim, k, DOT_QUERIES, m.blocks, index, score);
  }
  parentPort!.postMessage({ id: m.id, index, score }, [index.buffer, score.buffer]);
});
