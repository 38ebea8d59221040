/**
 * The WebAssembly SIMD dot-product block (dots-simd.wat, compiled into dots-simd-wasm.ts by
 * scripts/wasm/build-dots.mjs): a table held once in a shared WebAssembly memory, rows padded to a
 * multiple of 8 floats and the row count to a multiple of 4, followed by one scratch slot per
 * thread (up to DOT_QUERIES padded query rows and a DOT_QUERIES x DOT_TILE block of answers).
 * Worker threads attach to the same memory; each writes only into its own slot.
 * Cost of a block: 2 x queries x rows x padded dim flops (SIMD, about 25 GFLOP/s per core here).
 */
import { DOTS_SIMD_WASM } from './dots-simd-wasm.js';
import { paddedDim } from './nearest-simd.js';
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

/** Query rows per block (a multiple of 4). */
export const DOT_QUERIES = 256;
/** Table rows per block (a multiple of 4). */
export const DOT_TILE = 1024;

interface Exports {
  dots(q: number, nq: number, t: number, nt: number, d: number, out: number, ldo: number): void;
}

/** The compiled kernel, or null where WebAssembly SIMD is missing or PRUNE_PIPE_KERNEL=js. */
export const dotsModule: () => WasmModule | null = lazyModule(DOTS_SIMD_WASM);

/** Where things are in a DotsTable's memory (byte offsets); plain data, sent to workers. */
export interface DotsLayout {
  rows: number;
  dim: number;
  /** Floats per padded row. */
  d: number;
  slots: number;
  slotBytes: number;
  slotBase: number;
  pages: number;
}

const round4 = (n: number) => Math.ceil(n / 4) * 4;

export class DotsTable {
  private readonly ex: Exports;
  private readonly f32: Float32Array;

  private constructor(
    readonly memory: WasmMemory,
    readonly layout: DotsLayout,
    module: WasmModule,
  ) {
    this.ex = instantiate<Exports>(module, memory);
    this.f32 = new Float32Array(memory.buffer);
  }

  /**
   * A copy of `rows` x `dim` (as given, or normalised to unit length with `normalize`) with `slots`
   * scratch slots; null without the kernel or past 4 GiB.
   */
  static create(table: Float32Array, rows: number, dim: number, slots: number, normalize = false): DotsTable | null {
    const module = dotsModule();
    if (!module) return null;
    const d = paddedDim(dim);
    const tableBytes = Math.ceil((round4(rows) * d * 4) / 64) * 64;
    const slotBytes = DOT_QUERIES * d * 4 + DOT_QUERIES * DOT_TILE * 4;
    const pages = Math.ceil((tableBytes + slots * slotBytes) / PAGE);
    if (pages > MAX_PAGES) return null;
    const t = new DotsTable(sharedMemory(pages), { rows, dim, d, slots, slotBytes, slotBase: tableBytes, pages }, module);
    copyPaddedRows(t.f32, table, rows, dim, d, normalize);
    return t;
  }

  /** The same table seen from another thread. */
  static attach(memory: WasmMemory, layout: DotsLayout): DotsTable {
    const module = dotsModule();
    if (!module) throw new Error('WebAssembly SIMD kernel unavailable in this thread');
    return new DotsTable(memory, layout, module);
  }

  /** The answer block of `slot`: row i of the block at i x DOT_TILE. */
  block(slot: number): Float32Array {
    const { slotBase, slotBytes, d } = this.layout;
    const o = (slotBase + slot * slotBytes + DOT_QUERIES * d * 4) >> 2;
    return this.f32.subarray(o, o + DOT_QUERIES * DOT_TILE);
  }

  /** Dots of table rows [i0, i0 + ni) against table rows [j0, j0 + nj) into the slot's block (i0 a multiple of 4). */
  selfDots(slot: number, i0: number, ni: number, j0: number, nj: number): void {
    const { d, slotBase, slotBytes } = this.layout;
    const out = slotBase + slot * slotBytes + DOT_QUERIES * d * 4;
    this.ex.dots(i0 * d * 4, round4(ni), j0 * d * 4, round4(nj), d, out, DOT_TILE);
  }

  /** Copies queries [q0, q0 + n) (unpadded rows, n <= DOT_QUERIES) into the slot. */
  loadQueries(slot: number, queries: Float32Array, q0: number, n: number): void {
    const { d, dim, slotBase, slotBytes } = this.layout;
    const f = (slotBase + slot * slotBytes) >> 2;
    this.f32.fill(0, f, f + round4(n) * d);
    for (let j = 0; j < n; j++) this.f32.set(queries.subarray((q0 + j) * dim, (q0 + j + 1) * dim), f + j * d);
  }

  /** Dots of the slot's `n` loaded queries against table rows [j0, j0 + nj) into the slot's block. */
  queryDots(slot: number, n: number, j0: number, nj: number): void {
    const { d, slotBase, slotBytes } = this.layout;
    const base = slotBase + slot * slotBytes;
    this.ex.dots(base, round4(n), j0 * d * 4, round4(nj), d, base + DOT_QUERIES * d * 4, DOT_TILE);
  }
}
