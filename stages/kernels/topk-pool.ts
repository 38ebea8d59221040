/**
 * Exact top-k search spread over worker threads. The table is held once: in a shared
 * WebAssembly memory every worker attaches to (SIMD dot blocks, dots-simd.ts / topk-simd.ts), or in
 * a SharedArrayBuffer (TypeScript kernel, topk.ts, where WebAssembly SIMD is missing or
 * PRUNE_PIPE_KERNEL=js). `search` splits its queries into one slice per worker and answers in
 * order; `searchSelf` shares the table's row blocks between the workers and merges their lists.
 * Cost: 2 x queries x rows x dim flops (search), rows^2 x dim flops (searchSelf), over the workers;
 * memory: the padded table, about 1 MB of scratch per thread, and for searchSelf one rows x k list
 * per worker.
 */
import { workerUrl } from '../../pipeline/workers.js';
import { sharedUnitTable } from './nearest-pool.js';
import { DOT_QUERIES, DotsTable, type DotsLayout } from './dots-simd.js';
import type { WasmMemory } from './nearest-simd.js';
import { mergeTopK, topKRows, topKSelfBlocks } from './topk.js';
import { selfBlocks, topKRowsSimd, topKSelfSimd } from './topk-simd.js';
import { WorkerCalls } from './worker-calls.js';

export interface TopKResult {
  /** queries x k table rows, best first (-1 past the table's end). */
  index: Int32Array;
  /** queries x k inner products, matching `index`. */
  score: Float32Array;
}

/** What a worker is started with: the SIMD table's memory and its slot, or the plain table. */
export type TopKWorkerData =
  | { kind: 'simd'; memory: WasmMemory; layout: DotsLayout; slot: number; k: number }
  | { kind: 'js'; table: Float32Array; rows: number; dim: number; k: number };

export class TopKPool {
  private readonly workers = new WorkerCalls();
  private readonly simd: DotsTable | null;
  /** 'wasm-simd' or 'js': the kernel this pool runs. */
  readonly kernel: 'wasm-simd' | 'js';

  /** The plain table the TypeScript kernel searches (unset with the SIMD kernel). */
  private readonly table: Float32Array | undefined;

  /**
   * `table`: `rows` x `dim`, unit rows for cosines (in a SharedArrayBuffer when the TypeScript
   * kernel runs on workers), or any rows with `normalize` (the pool then holds its own unit-length
   * copy, so the caller needs none). `threads` workers; 0 searches on the calling thread.
   */
  constructor(
    table: Float32Array,
    readonly rows: number,
    readonly dim: number,
    readonly k: number,
    threads: number,
    normalize = false,
  ) {
    this.simd = DotsTable.create(table, rows, dim, threads + 1, normalize);
    this.kernel = this.simd ? 'wasm-simd' : 'js';
    if (!this.simd) this.table = normalize ? sharedUnitTable(table, rows, dim) : table;
    table = this.table ?? table;
    const url = threads > 0 ? workerUrl(import.meta.url, './topk-worker.js') : undefined;
    for (let i = 0; i < threads; i++) {
      const data: TopKWorkerData = this.simd
        ? { kind: 'simd', memory: this.simd.memory, layout: this.simd.layout, slot: i + 1, k }
        : { kind: 'js', table, rows, dim, k };
      this.workers.start(url!, data);
    }
  }

  /** Top k rows of `n` unit-length queries; with threads = 0 runs on this thread. */
  async search(queries: Float32Array, n: number): Promise<TopKResult> {
    const k = this.k;
    const w = this.workers.size;
    if (w === 0) {
      const index = new Int32Array(n * k);
      const score = new Float32Array(n * k);
      if (this.simd) topKRowsSimd(this.simd, 0, queries, n, k, index, score);
      else topKRows(queries, n, this.table!, this.rows, this.dim, k, index, score);
      return { index, score };
    }
    const per = Math.ceil(n / w);
    const parts: Promise<TopKResult>[] = [];
    for (let i = 0; i < w; i++) {
      const a = i * per;
      const b = Math.min(n, a + per);
      if (a >= b) break;
      parts.push(this.workers.call(i, { kind: 'rows', queries: queries.slice(a * this.dim, b * this.dim), n: b - a }));
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

  /**
   * Top k rows of every table row against the table itself (a row lists itself unless k earlier
   * rows tie with it). Each pair is computed once; the answers equal `search` on the table's rows.
   */
  async searchSelf(): Promise<TopKResult> {
    const { rows: n, k } = this;
    const nb = selfBlocks(n);
    const w = this.workers.size;
    if (w === 0) {
      const index = new Int32Array(n * k);
      const score = new Float32Array(n * k);
      const all = Array.from({ length: nb }, (_, i) => i);
      if (this.simd) topKSelfSimd(this.simd, 0, all, k, index, score);
      else topKSelfBlocks(this.table!, n, this.dim, k, DOT_QUERIES, all, index, score);
      return { index, score };
    }
    // Block I costs about nb - I tiles: deal the largest first to the least loaded worker.
    const load = new Array<number>(w).fill(0);
    const share: number[][] = Array.from({ length: w }, () => []);
    for (let I = 0; I < nb; I++) {
      let best = 0;
      for (let j = 1; j < w; j++) if (load[j]! < load[best]!) best = j;
      share[best]!.push(I);
      load[best]! += nb - I;
    }
    const got = await Promise.all(share.map((blocks, i) => this.workers.call(i, { kind: 'self', blocks })));
    const index = new Int32Array(n * k);
    const score = new Float32Array(n * k);
    mergeTopK(got, n, k, index, score);
    return { index, score };
  }

  async close(): Promise<void> {
    await this.workers.close();
  }
}
