/**
 * The WebAssembly SIMD nearest-row kernel (nearest-simd.wat, compiled into nearest-simd-wasm.ts by
 * scripts/wasm/build.mjs): memory layout and calls.
 *
 * A `SimdTable` is one shared WebAssembly memory holding a table of rows padded with zeros to a
 * multiple of 8 floats, followed by `slots` scratch areas (padded queries, answers, candidates),
 * one per thread that searches it: the pool's workers attach to the same memory, so the table is
 * held once whatever the thread count. Rows are never written after creation, and every thread
 * writes only into its own slot.
 * Cost of a search: 2 x queries x rows x padded dim flops (about 25 GFLOP/s per core here).
 */
import { NEAREST_SIMD_WASM } from './nearest-simd-wasm.js';
import {
  copyPaddedRows,
  instantiate,
  lazyModule,
  sharedMemory,
  WASM_MAX_PAGES as MAX_PAGES,
  WASM_PAGE as PAGE,
  type WasmMemory,
  type WasmModule,
} from './wasm.js';

export type { WasmMemory, WasmModule } from './wasm.js';

/** Floats per padded row are a multiple of this (the kernel reads 2 x 4 floats per step). */
export const SIMD_PAD = 8;
/** Queries per kernel call (a slot's capacity). */
export const SLOT_QUERIES = 1024;
/** Candidates per query a slot can hold for rerank. */
export const SLOT_CANDIDATES = 64;

export function paddedDim(dim: number): number {
  return Math.max(SIMD_PAD, Math.ceil(dim / SIMD_PAD) * SIMD_PAD);
}

interface Exports {
  nearest(q: number, nq: number, t: number, nt: number, d: number, oi: number, os: number): void;
  rerank(q: number, nq: number, t: number, d: number, cand: number, k: number, oi: number, os: number): void;
}

/**
 * The compiled kernel, or null where WebAssembly SIMD is missing or PRUNE_PIPE_KERNEL=js asks for
 * the plain TypeScript kernel (used to compare the two).
 */
export const simdModule: () => WasmModule | null = lazyModule(NEAREST_SIMD_WASM);

/** Where things are in a SimdTable's memory (byte offsets); plain data, sent to workers. */
export interface SimdLayout {
  rows: number;
  dim: number;
  /** Floats per padded row. */
  d: number;
  slots: number;
  /** Bytes per slot. */
  slotBytes: number;
  /** Byte offset of slot 0. */
  slotBase: number;
  pages: number;
  /** Byte offset of the area left for the caller after the slots (`extraBytes` long, 64-aligned). */
  extraBase: number;
  extraBytes: number;
}

export function simdLayout(rows: number, dim: number, slots: number, extraBytes = 0): SimdLayout | null {
  const d = paddedDim(dim);
  const tableBytes = Math.ceil((rows * d * 4) / 64) * 64;
  const slotBytes = SLOT_QUERIES * d * 4 + SLOT_QUERIES * 8 + SLOT_QUERIES * SLOT_CANDIDATES * 4;
  const extraBase = Math.ceil((tableBytes + slots * slotBytes) / 64) * 64;
  const pages = Math.ceil((extraBase + extraBytes) / PAGE);
  if (pages > MAX_PAGES) return null;
  return { rows, dim, d, slots, slotBytes, slotBase: tableBytes, pages, extraBase, extraBytes };
}

export class SimdTable {
  private readonly ex: Exports;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;

  private constructor(
    readonly memory: WasmMemory,
    readonly layout: SimdLayout,
    module: WasmModule,
  ) {
    this.ex = instantiate<Exports>(module, memory);
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }

  /**
   * A table of `rows` x `dim` copied from `rows` (as given: normalise first for cosines), with
   * `slots` scratch areas (and `extraBytes` for the caller after them, at layout.extraBase); null
   * when the kernel is unavailable or the memory would exceed 4 GiB.
   */
  static create(table: Float32Array, rows: number, dim: number, slots: number, normalize = false, extraBytes = 0): SimdTable | null {
    const module = simdModule();
    const layout = simdLayout(rows, dim, slots, extraBytes);
    if (!module || !layout) return null;
    const t = new SimdTable(sharedMemory(layout.pages), layout, module);
    copyPaddedRows(t.f32, table, rows, dim, layout.d, normalize);
    return t;
  }

  /** The same table seen from another thread (memory and layout as posted by the creator). */
  static attach(memory: WasmMemory, layout: SimdLayout): SimdTable {
    const module = simdModule();
    if (!module) throw new Error('WebAssembly SIMD kernel unavailable in this thread');
    return new SimdTable(memory, layout, module);
  }

  /** Row r without padding (a copy). */
  row(r: number): Float32Array {
    const { d, dim } = this.layout;
    return this.f32.slice(r * d, r * d + dim);
  }

  /** Rows [a, b) without padding (a copy; all rows by default). */
  rows(a = 0, b = this.layout.rows): Float32Array {
    const { dim, d } = this.layout;
    const out = new Float32Array((b - a) * dim);
    for (let r = a; r < b; r++) out.set(this.f32.subarray(r * d, r * d + dim), (r - a) * dim);
    return out;
  }

  /** Copies queries [q0, q0 + n) into the slot's query area; returns its byte offset. */
  private stage(slot: number, queries: Float32Array, q0: number, n: number): number {
    const { d, dim, slotBase, slotBytes } = this.layout;
    const base = slotBase + slot * slotBytes;
    const f = base >> 2;
    for (let j = 0; j < n; j++) this.f32.set(queries.subarray((q0 + j) * dim, (q0 + j + 1) * dim), f + j * d);
    return base;
  }

  /**
   * Nearest table row of each of `nq` queries (rows of `dim`, unpadded) by inner product, ties to the
   * lower row, using scratch slot `slot` (one per thread).
   */
  search(slot: number, queries: Float32Array, nq: number, outIndex: Int32Array, outScore: Float32Array): void {
    for (let q0 = 0; q0 < nq; q0 += SLOT_QUERIES) {
      const n = Math.min(SLOT_QUERIES, nq - q0);
      this.put(slot, queries, q0, n);
      this.run(slot, n);
      this.take(slot, n, outIndex, outScore, q0);
    }
  }

  /** Step 1 of a search in a slot: queries [q0, q0 + n) (n <= SLOT_QUERIES) in, answers reset. */
  put(slot: number, queries: Float32Array, q0: number, n: number): void {
    const { oi, os } = this.slotAreas(slot);
    this.stage(slot, queries, q0, n);
    this.i32.fill(-1, oi >> 2, (oi >> 2) + n);
    this.f32.fill(-Infinity, os >> 2, (os >> 2) + n);
  }

  /** Step 2: the kernel on the slot's n queries (any thread attached to the memory). */
  run(slot: number, n: number): void {
    const { base, oi, os } = this.slotAreas(slot);
    this.ex.nearest(base, n, 0, this.layout.rows, this.layout.d, oi, os);
  }

  /** Step 3: the slot's n answers out, at outIndex/outScore[at...]. */
  take(slot: number, n: number, outIndex: Int32Array, outScore: Float32Array, at = 0): void {
    const { oi, os } = this.slotAreas(slot);
    outIndex.set(this.i32.subarray(oi >> 2, (oi >> 2) + n), at);
    outScore.set(this.f32.subarray(os >> 2, (os >> 2) + n), at);
  }

  private slotAreas(slot: number): { base: number; oi: number; os: number } {
    const { d, slotBase, slotBytes } = this.layout;
    const base = slotBase + slot * slotBytes;
    const oi = base + SLOT_QUERIES * d * 4;
    return { base, oi, os: oi + SLOT_QUERIES * 4 };
  }

  /**
   * For each query, the best of its `k` candidate rows (`cand`: nq x k row numbers, -1 = none) by
   * the same dot product as `search` (so a candidate list that holds the exact answer gives exactly
   * the exact answer); -1 and -Infinity where a query has no candidate.
   */
  rerank(slot: number, queries: Float32Array, nq: number, cand: Int32Array, k: number, outIndex: Int32Array, outScore: Float32Array): void {
    if (k > SLOT_CANDIDATES) throw new Error(`rerank: at most ${SLOT_CANDIDATES} candidates per query, got ${k}`);
    const { d } = this.layout;
    const qBytes = SLOT_QUERIES * d * 4;
    for (let q0 = 0; q0 < nq; q0 += SLOT_QUERIES) {
      const n = Math.min(SLOT_QUERIES, nq - q0);
      const base = this.stage(slot, queries, q0, n);
      const oi = base + qBytes;
      const os = oi + SLOT_QUERIES * 4;
      const cp = os + SLOT_QUERIES * 4;
      this.i32.set(cand.subarray(q0 * k, (q0 + n) * k), cp >> 2);
      this.ex.rerank(base, n, 0, d, cp, k, oi, os);
      outIndex.set(this.i32.subarray(oi >> 2, (oi >> 2) + n), q0);
      outScore.set(this.f32.subarray(os >> 2, (os >> 2) + n), q0);
    }
  }
}

/** One thread's growable scratch memory for `nearestOnce` (the table is copied in per call). */
let scratch: { memory: WasmMemory; ex: Exports; f32: Float32Array; i32: Int32Array; bytes: number } | undefined;

/**
 * `SimdTable.search` for a table given as a plain Float32Array (copied in on each call: cost
 * nt x dim, small next to the search's nq x nt x dim). Returns false when the kernel is unavailable
 * or the table does not fit in 4 GiB (the caller then uses the TypeScript kernel).
 */
export function nearestOnce(
  queries: Float32Array,
  nq: number,
  table: Float32Array,
  nt: number,
  dim: number,
  outIndex: Int32Array,
  outScore: Float32Array,
): boolean {
  const module = simdModule();
  if (!module) return false;
  const d = paddedDim(dim);
  const tableBytes = Math.ceil((nt * d * 4) / 64) * 64;
  const chunk = Math.max(1, Math.min(nq, SLOT_QUERIES));
  const need = tableBytes + chunk * d * 4 + chunk * 8;
  if (need > MAX_PAGES * PAGE) return false;
  if (!scratch || scratch.bytes < need) {
    let pages = 16;
    while (pages * PAGE < need) pages *= 2;
    pages = Math.min(pages, MAX_PAGES);
    const memory = sharedMemory(pages);
    const ex = instantiate<Exports>(module, memory);
    scratch = { memory, ex, f32: new Float32Array(memory.buffer), i32: new Int32Array(memory.buffer), bytes: pages * PAGE };
  }
  const { f32, i32, ex } = scratch;
  // pads must be zero: clear the areas once per call, then write the rows' first `dim` floats
  f32.fill(0, 0, (tableBytes + chunk * d * 4) >> 2);
  copyPaddedRows(f32, table, nt, dim, d, false);
  const qb = tableBytes;
  const oi = qb + chunk * d * 4;
  const os = oi + chunk * 4;
  for (let q0 = 0; q0 < nq; q0 += chunk) {
    const n = Math.min(chunk, nq - q0);
    for (let j = 0; j < n; j++) f32.set(queries.subarray((q0 + j) * dim, (q0 + j + 1) * dim), (qb >> 2) + j * d);
    i32.fill(-1, oi >> 2, (oi >> 2) + n);
    f32.fill(-Infinity, os >> 2, (os >> 2) + n);
    ex.nearest(qb, n, 0, nt, d, oi, os);
    outIndex.set(i32.subarray(oi >> 2, (oi >> 2) + n), q0);
    outScore.set(f32.subarray(os >> 2, (os >> 2) + n), q0);
  }
  return true;
}
