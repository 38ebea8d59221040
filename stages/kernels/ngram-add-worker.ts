/**
 * Helper thread of the n-gram row additions (ngram-add.ts, AddHelpers): adds the pairs of the list
 * it is sent (offset arrays in the shared memory), then answers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { addKernel, type AddWorkerData } from './ngram-add.js';

const data = workerData as AddWorkerData;
const kernel = addKernel(data.memory);

parentPort!.on('message', (m: { id: number; n: number; accOff: number; srcOff: number }) => {
  try {
    kernel.addPairs(m.accOff, m.srcOff, m.n, data.dim);
    parentPort!.postMessage({ id: m.id });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
