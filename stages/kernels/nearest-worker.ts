/**
 * Worker thread for nearest-row search: attaches to the pool's table. SIMD kernel: the pool puts
 * the queries into this worker's slot of the shared WebAssembly memory and sends only their count;
 * the answers are left in the slot (no buffers cross threads, so none pile up in this thread's
 * heap). TypeScript kernel: queries come in the message and answers go back transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IvfSearcher, type IvfLayout, type IvfSetup } from './ivf.js';
import { nearestRowsJs } from './nearest.js';
import { rerankOn, type NearestWorkerData, type RerankTable } from './nearest-pool.js';
import { NgramSearcher, type NgramSetup, type QueryLists } from './ngram-candidates.js';
import { SimdTable } from './nearest-simd.js';

/** The table: from workerData, or (a worker started ahead, NearestPool.prestart) from the first message. */
let data = workerData as NearestWorkerData | null;
let simd = data?.kind === 'simd' ? SimdTable.attach(data.memory, data.layout) : null;
/** The inverted-file index in the same memory (ivf.ts), once the pool attaches one. */
let ivf: IvfSearcher | undefined;
/** The index being built (buildIvf's nearest-centroid steps run here too): its layout only. */
let building: IvfSearcher | undefined;
/** The n-gram candidate index (ngram-candidates.ts), once the pool attaches one. */
let ngram: NgramSearcher | undefined;

type Message = { id: number; queries?: Float32Array; n: number; probes?: number; ivf?: IvfSetup | null; build?: IvfLayout; init?: NearestWorkerData };
type NgramMessage = { ngram?: NgramSetup | null; lists?: QueryLists; k?: number };

parentPort!.on('message', (m: Message & NgramMessage) => {
  if (m.init) {
    data = m.init;
    simd = data.kind === 'simd' ? SimdTable.attach(data.memory, data.layout) : null;
    return;
  }
  if (!data) throw new Error('nearest worker: a request before its table');
  if (m.build) {
    if (data.kind !== 'simd') throw new Error('ivf: needs the WebAssembly SIMD kernel');
    const l = m.build;
    if (building?.setup.layout.centroidBase !== l.centroidBase || building.setup.layout.cells !== l.cells) {
      building = IvfSearcher.forBuild(data.memory, l);
    }
    building.centroidNearest(data.slot, m.n);
    parentPort!.postMessage({ id: m.id });
    return;
  }
  if (m.ivf !== undefined) {
    building = undefined;
    ivf = m.ivf && data.kind === 'simd' ? new IvfSearcher(data.memory, m.ivf) : undefined;
    parentPort!.postMessage({ id: m.id });
    return;
  }
  if (m.ngram !== undefined) {
    ngram = m.ngram ? new NgramSearcher(m.ngram) : undefined;
    parentPort!.postMessage({ id: m.id });
    return;
  }
  if (m.lists) {
    // an n-gram search: the shortlists here, compared exactly in this worker's slot
    const on: RerankTable = data.kind === 'simd' ? { simd: simd!, slot: data.slot } : { table: data.table, dim: data.dim };
    const r = ngram!.search(m.queries!, m.n, m.lists, m.k!, (q, n, cand, k) => rerankOn(on, q, n, cand, k));
    parentPort!.postMessage({ id: m.id, index: r.index, score: r.score, none: r.none }, [r.index.buffer as ArrayBuffer, r.score.buffer as ArrayBuffer]);
    return;
  }
  if (m.probes !== undefined) {
    ivf!.run(data.kind === 'simd' ? data.slot : 0, m.n, m.probes);
    parentPort!.postMessage({ id: m.id });
    return;
  }
  if (data.kind === 'simd') {
    simd!.run(data.slot, m.n);
    parentPort!.postMessage({ id: m.id });
    return;
  }
  const index = new Int32Array(m.n);
  const score = new Float32Array(m.n);
  nearestRowsJs(m.queries!, m.n, data.table, data.rows, data.dim, index, score);
  parentPort!.postMessage({ id: m.id, index, score }, [index.buffer, score.buffer]);
});
