/**
 * Worker thread of pq-pool.ts: trains sub-spaces (pq-train.ts trainSubspace) and encodes blocks of
 * rows with the codebook it was last sent (pq-encode.ts). Answers carry their results transferred.
 */
import { parentPort } from 'node:worker_threads';
import { compensateRows } from './pq-compensate.js';
import { codebookIndex, encodeRows, type SubspaceSearch } from './pq-encode.js';
import type { PqWorkerAnswer, PqWorkerRequest } from './pq-pool.js';
import { trainSubspace, type PqCodebook } from './pq-train.js';

let codebook: PqCodebook | undefined;
let index: SubspaceSearch[] = [];
let shared: { codes: Uint8Array; norms?: Float32Array; levels?: Float32Array; normCodes?: Uint8Array } | undefined;

parentPort!.on('message', (m: PqWorkerRequest) => {
  try {
    if (m.kind === 'train') {
      const r = trainSubspace(m.job);
      const a: PqWorkerAnswer = { id: m.id, centroids: r.centroids, distortion: r.distortion };
      parentPort!.postMessage(a, [r.centroids.buffer as ArrayBuffer]);
    } else if (m.kind === 'codebook') {
      codebook = m.codebook;
      index = codebookIndex(codebook);
      parentPort!.postMessage({ id: m.id });
    } else if (m.kind === 'shared') {
      shared = m;
      parentPort!.postMessage({ id: m.id });
    } else if (m.kind === 'compensate') {
      compensateRows(codebook!, index, shared!, m.job);
      parentPort!.postMessage({ id: m.id });
    } else {
      const cb = codebook!;
      const codes = new Uint8Array(m.rows * cb.nsubq);
      const norms = m.norms ? new Float32Array(m.rows) : undefined;
      const err = encodeRows(cb, m.data, m.rows, codes, 0, norms, 0, index);
      const a: PqWorkerAnswer = { id: m.id, codes, norms, err };
      parentPort!.postMessage(a, norms ? [codes.buffer as ArrayBuffer, norms.buffer as ArrayBuffer] : [codes.buffer as ArrayBuffer]);
    }
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).stack ?? String(e) });
  }
});
