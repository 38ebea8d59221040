/**
 * Calls to the worker threads of a kernel pool (nearest-pool.ts, topk-pool.ts, pq-pool.ts): each
 * call posts { id, ...message } to one worker and resolves with the answer that comes back with the
 * same id; an answer with an `error` message rejects its call, and a worker's crash rejects every
 * pending call. Workers are unref'd while no call is pending, so an idle pool does not keep the
 * process alive.
 */
import { Worker } from 'node:worker_threads';
import { InputError, type Where } from '../../pipeline/errors.js';

/**
 * What every answer carries: its call's id, and an error message when the call failed (with
 * `where` when it was bad input: the call then rejects with an InputError).
 */
export interface WorkerAnswer {
  id: number;
  error?: string;
  where?: Where;
}

/** The nearest and top-k kernels' answer: rows and scores, laid out as the pool's kernel defines. */
export interface RowsAnswer extends WorkerAnswer {
  index: Int32Array;
  score: Float32Array;
}

/**
 * Kernel workers keep their rows in typed arrays (outside the JavaScript heap) and allocate little
 * else, so a small young generation serves them; V8's default lets each worker's grow to tens of
 * MB, which several workers add up to at the peak of a run.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

/** Workers started ahead by `WorkerCalls.prestart`, per script URL, not yet given their data. */
const spares = new Map<string, Worker[]>();

export class WorkerCalls<A extends WorkerAnswer = RowsAnswer> {
  /** Workers of `url` started ahead and not yet taken. */
  static spares(url: URL): number {
    return spares.get(url.href)?.length ?? 0;
  }

  /**
   * Starts `n` workers of `url` ahead of need (they load their script meanwhile, unref'd); `start`
   * then takes one and sends its data as { init: workerData } instead of starting a new worker. Only
   * for worker scripts that accept that message (nearest-worker.ts). A spare that fails before it
   * is taken is dropped (`start` then starts a worker of its own, whose failure reaches the calls).
   */
  static prestart(url: URL, n: number): void {
    const list = spares.get(url.href) ?? [];
    spares.set(url.href, list);
    while (list.length < n) {
      const w = new Worker(url, { workerData: null, resourceLimits: WORKER_LIMITS });
      const drop = () => {
        const i = list.indexOf(w);
        if (i >= 0) list.splice(i, 1);
      };
      w.once('error', drop);
      w.unref();
      list.push(w);
    }
  }

  private list: Worker[] = [];
  private pending = new Map<number, { resolve: (r: A) => void; reject: (e: unknown) => void }>();
  private nextId = 0;

  get size(): number {
    return this.list.length;
  }

  /** Starts one more worker on `url` with `workerData` (or hands it to a worker started ahead). */
  start(url: URL, workerData: unknown): void {
    const spare = spares.get(url.href)?.shift();
    const w = spare ?? new Worker(url, { workerData, resourceLimits: WORKER_LIMITS });
    if (spare) {
      w.removeAllListeners('error');
      w.postMessage({ init: workerData });
    }
    w.on('message', (m: A) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (typeof m.error === 'string') p?.reject(m.where ? new InputError(m.error, m.where) : new Error(m.error));
      else p?.resolve(m);
    });
    w.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    w.unref();
    this.list.push(w);
  }

  /** Posts `msg` to worker `i` (moving `transfer`) and waits for its answer. */
  call(i: number, msg: object, transfer: ArrayBuffer[] = []): Promise<A> {
    const w = this.list[i]!;
    const id = this.nextId++;
    return new Promise<A>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, ...msg }, transfer);
    }).finally(() => {
      if (this.pending.size === 0) for (const x of this.list) x.unref();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((w) => w.terminate()));
    this.list = [];
  }
}
