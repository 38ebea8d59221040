/**
 * Exact nearest-row search spread over worker threads. The table is shared (SharedArrayBuffer),
 * queries are split into equal slices, one per worker, and answers come back in order.
 */
import { Worker } from 'node:worker_threads';
import { workerUrl } from '../../pipeline/workers.js';
import { nearestRows } from './nearest.js';
import { normalizeRows } from './normalize.js';

export interface NearestResult {
  index: Int32Array;
  score: Float32Array;
}

export class NearestPool {
  private workers: Worker[] = [];
  private pending = new Map<number, { resolve: (r: NearestResult) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private rr = 0;

  /** `table` must be unit rows in a SharedArrayBuffer when threads > 0. */
  constructor(
    readonly table: Float32Array,
    readonly rows: number,
    readonly dim: number,
    readonly threads: number,
  ) {
    const url = threads > 0 ? workerUrl(import.meta.url, './nearest-worker.js') : undefined;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(url!, { workerData: { table, rows, dim } });
      w.on('message', (m: { id: number; index: Int32Array; score: Float32Array }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve({ index: m.index, score: m.score });
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Nearest rows of `n` unit-length queries; with threads = 0 runs on this thread. */
  async search(queries: Float32Array, n: number): Promise<NearestResult> {
    if (this.workers.length === 0) {
      const index = new Int32Array(n);
      const score = new Float32Array(n);
      nearestRows(queries, n, this.table, this.rows, this.dim, index, score);
      return { index, score };
    }
    const w = this.workers.length;
    if (n < 64 * w || w === 1) return this.one(this.workers[this.rr++ % w]!, queries, n);
    const per = Math.ceil(n / w);
    const parts: Promise<NearestResult>[] = [];
    for (let i = 0; i < w; i++) {
      const a = i * per;
      const b = Math.min(n, a + per);
      if (a >= b) break;
      parts.push(this.one(this.workers[i]!, queries.slice(a * this.dim, b * this.dim), b - a));
    }
    const got = await Promise.all(parts);
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    let o = 0;
    for (const g of got) {
      index.set(g.index, o);
      score.set(g.score, o);
      o += g.index.length;
    }
    return { index, score };
  }

  private one(w: Worker, queries: Float32Array, n: number): Promise<NearestResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, queries, n });
    }).finally(() => {
      if (this.pending.size === 0) for (const x of this.workers) x.unref();
    }) as Promise<NearestResult>;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}

/** A unit-length copy of `rows` x `dim` in a SharedArrayBuffer (for the pool). */
export function sharedUnitTable(vectors: Float32Array, rows: number, dim: number, norms?: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(Math.max(1, rows * dim) * 4));
  return normalizeRows(vectors, rows, dim, out, norms);
}
