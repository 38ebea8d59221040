/**
 * Product-quantizer training and encoding on worker threads (pq-worker.ts). Sub-spaces are
 * independent k-means runs (each with its own random stream, pq-train.ts subspaceRandom) and rows
 * are encoded independently, so the results are the same bits whatever the number of threads or
 * the order in which jobs finish: sub-space results are placed by sub-space, a block's codes by its
 * row, and the error sums are added in block order.
 *
 * Memory: per worker, the points of the sub-spaces it trains (sample x dsub x 4 bytes each, one at
 * a time) or the blocks in flight (at most 2 per worker, rows x dim x 4 bytes each), and its copy
 * of the codebook's search structures (about 100 KB per sub-quantizer).
 */
import { workerUrl } from '../../pipeline/workers.js';
import type { CompensateJob } from './pq-compensate.js';
import type { PqCodebook, SubspaceJob } from './pq-train.js';
import { WorkerCalls, type WorkerAnswer } from './worker-calls.js';

/** A message to a worker (pq-worker.ts). */
export type PqWorkerRequest =
  | { id: number; kind: 'train'; job: SubspaceJob }
  | { id: number; kind: 'codebook'; codebook: PqCodebook }
  | { id: number; kind: 'encode'; data: Float32Array; rows: number; norms: boolean }
  | { id: number; kind: 'shared'; codes: Uint8Array; norms?: Float32Array; levels?: Float32Array; normCodes?: Uint8Array }
  | { id: number; kind: 'compensate'; job: CompensateJob };

/** A worker's answer. */
export interface PqWorkerAnswer extends WorkerAnswer {
  centroids?: Float32Array;
  distortion?: number;
  codes?: Uint8Array;
  norms?: Float32Array;
  err?: number;
}

export class PqPool {
  private readonly workers = new WorkerCalls<PqWorkerAnswer>();
  /** Jobs in flight per worker. */
  private readonly busy: number[] = [];

  /** `threads` workers (at least 1). */
  constructor(threads: number) {
    const url = workerUrl(import.meta.url, './pq-worker.js');
    for (let i = 0; i < threads; i++) {
      this.workers.start(url, undefined);
      this.busy.push(0);
    }
  }

  get size(): number {
    return this.workers.size;
  }

  private call(i: number, msg: object, transfer: ArrayBuffer[] = []): Promise<PqWorkerAnswer> {
    this.busy[i]!++;
    return this.workers.call(i, msg, transfer).finally(() => {
      this.busy[i]!--;
    });
  }

  /** Worker numbers 0 .. size - 1. */
  private each(): number[] {
    return Array.from({ length: this.size }, (_, i) => i);
  }

  /** The worker with the fewest jobs in flight (the lowest index on ties). */
  private idlest(): number {
    let best = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[best]!) best = i;
    return best;
  }

  /**
   * Trains n sub-spaces (`job(m)` makes sub-space m's points when a worker is free for it: the
   * points of at most one job per worker exist at a time); results in sub-space order.
   */
  async train(n: number, job: (m: number) => SubspaceJob): Promise<{ centroids: Float32Array; distortion: number }[]> {
    const out: { centroids: Float32Array; distortion: number }[] = new Array(n);
    let next = 0;
    const run = async (i: number): Promise<void> => {
      while (next < n) {
        const m = next++;
        const j = job(m);
        const a = await this.call(i, { kind: 'train', job: j }, [j.points.buffer as ArrayBuffer]);
        out[m] = { centroids: a.centroids!, distortion: a.distortion! };
      }
    };
    await Promise.all(this.each().map((i) => run(i)));
    return out;
  }

  /** Sends the codebook every later `encode` uses (each worker builds its search structures). */
  async setCodebook(codebook: PqCodebook): Promise<void> {
    await Promise.all(this.each().map((i) => this.call(i, { kind: 'codebook', codebook })));
  }

  /** Codes of `rows` rows (the block is moved to the worker), with their norms when asked. */
  encode(data: Float32Array, rows: number, norms: boolean): Promise<PqWorkerAnswer> {
    return this.call(this.idlest(), { kind: 'encode', data, rows, norms }, [data.buffer as ArrayBuffer]);
  }

  /**
   * Shares the codes and norms (SharedArrayBuffer views, the result of a pooled quantization) and
   * the norm levels with every worker, for `compensate`.
   */
  async share(codes: Uint8Array, norms?: Float32Array, levels?: Float32Array, normCodes?: Uint8Array): Promise<void> {
    await Promise.all(this.each().map((i) => this.call(i, { kind: 'shared', codes, norms, levels, normCodes })));
  }

  /** Runs a compensation job (its arrays are moved to the worker); the codes change in place. */
  compensate(job: CompensateJob): Promise<PqWorkerAnswer> {
    return this.call(this.idlest(), { kind: 'compensate', job }, [job.starts.buffer as ArrayBuffer, job.list.buffer as ArrayBuffer, job.v.buffer as ArrayBuffer]);
  }

  /** Jobs in flight on all workers. */
  get inFlight(): number {
    return this.busy.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await this.workers.close();
  }
}
