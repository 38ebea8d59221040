/**
 * Exact top-k search spread over worker threads (see topk.ts). The table is shared
 * (SharedArrayBuffer); each call splits its queries into one slice per worker and answers in order.
 * Cost: 2 x queries x rows x dim flops, divided over the workers.
 */
import { Worker } from 'node:worker_threads';
import { workerUrl } from '../../pipeline/workers.js';
import { topKRows } from './topk.js';

export interface TopKResult {
  /** queries x k table rows, best first (-1 past the table's end). */
  index: Int32Array;
  /** queries x k inner products, matching `index`. */
  score: Float32Array;
}

export class TopKPool {
  private workers: Worker[] = [];
  private pending = new Map<number, { resolve: (r: TopKResult) => void; reject: (e: unknown) => void }>();
  private nextId = 0;

  /** `table` must be unit rows in a SharedArrayBuffer when threads > 0. */
  constructor(
    readonly table: Float32Array,
    readonly rows: number,
    readonly dim: number,
    readonly k: number,
    threads: number,
  ) {
    const url = threads > 0 ? workerUrl(import.meta.url, './topk-worker.js') : undefined;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(url!, { workerData: { table, rows, dim, k } });
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

  /** Top k rows of `n` unit-length queries; with threads = 0 runs on this thread. */
  async search(queries: Float32Array, n: number): Promise<TopKResult> {
    const k = this.k;
    const w = this.workers.length;
    if (w === 0) {
      const index = new Int32Array(n * k);
      const score = new Float32Array(n * k);
      topKRows(queries, n, this.table, this.rows, this.dim, k, index, score);
      return { index, score };
    }
    const per = Math.ceil(n / w);
    const parts: Promise<TopKResult>[] = [];
    for (let i = 0; i < w; i++) {
      const a = i * per;
      const b = Math.min(n, a + per);
      if (a >= b) break;
      parts.push(this.one(this.workers[i]!, queries.slice(a * this.dim, b * this.dim), b - a));
    }
    const got = await Promise.all(parts);
    const index = new Int32Array(n * k);
    const score = new Float32Array(n * k);
    let o = 0;
    for (const g of got) {
      index.set(g.index, o);
      score.set(g.score, o);
      o += g.index.length;
    }
    return { index, score };
  }

  private one(w: Worker, queries: Float32Array, n: number): Promise<TopKResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, queries, n });
    }).finally(() => {
      if (this.pending.size === 0) for (const x of this.workers) x.unref();
    }) as Promise<TopKResult>;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}
