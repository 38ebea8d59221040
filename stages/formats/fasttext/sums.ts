/**
 * Sums of n-gram-table rows for many slots at once, in bounded memory ("sweeps").
 *
 * A sweep gets S slots (accumulators of dim float32 in a WebAssembly memory) and, for each slot, a
 * list of n-gram-table rows. It counting-sorts the (row, slot) pairs by row, visits the needed rows
 * in ascending order in runs of coalesced rows (read from the file, or copied from the rows held in
 * memory), and adds each row to every slot that lists it (WebAssembly SIMD kernel, JavaScript when
 * WebAssembly is unavailable: the same IEEE float32 additions). Every slot thus receives its rows in
 * ascending row order, whatever the number of slots per sweep, the run length or where the rows come
 * from: the sums are the same bits in every configuration.
 *
 * Memory: two run buffers of 8 MiB (the next run is read while the current one is added) + 0.5 MiB
 * of pair offsets + slots x dim x 4 bytes (the accumulators), in one WebAssembly memory that grows
 * to the largest sweep so far (at most `capacity` slots) and is never shrunk; per sweep, 8 bytes
 * per pair and 8 bytes per table row (counting sort). Cost per sweep: one read of every needed row (runs of at most
 * 8 MiB; gaps shorter than 64 KiB are read through), one addition of dim floats per pair.
 */
import { NGRAM_ADD_WASM } from '../../kernels/ngram-add-wasm.js';
import { instantiate, lazyModule, localMemory, type WasmMemory } from '../../kernels/wasm.js';

/** Longest run of rows read at once. */
export const RUN_BYTES = 8 << 20;
/** Gaps between needed rows shorter than this are read through rather than seeked over. */
export const GAP_BYTES = 64 << 10;
/** Pairs handed to the kernel per call. */
const PAIR_CHUNK = 1 << 16;

/**
 * Reads table rows [start, start + count) into out at outOffset (floats). `wanted` (ascending,
 * repeats allowed) lists the rows of the range the sweep will use: a reader may fill only those
 * (rows read through in a gap are never looked at), e.g. when a row costs a decoding.
 */
export type TableRowReader = (start: number, count: number, out: Float32Array, outOffset: number, wanted?: Int32Array) => Promise<unknown>;

interface Kernel {
  addPairs(accOff: number, srcOff: number, n: number, dim: number): void;
}

/** The compiled kernel, or null where WebAssembly SIMD is missing or PRUNE_PIPE_KERNEL=js asks for JavaScript. */
const kernelModule = lazyModule(NGRAM_ADD_WASM);

/** Whether the WebAssembly kernel is in use (else the JavaScript loop: same results). */
export function sweepKernel(): 'wasm-simd' | 'js' {
  return kernelModule() ? 'wasm-simd' : 'js';
}

export class RowSweeper {
  readonly dim: number;
  /** Slots one sweep can hold. */
  readonly capacity: number;
  private memory: WasmMemory;
  private readonly wasm: boolean;
  private readonly kernel: Kernel;
  private readonly runRows: number;
  private readonly gapRows: number;
  private readonly runBase = 0;
  private readonly accOffBase: number;
  private readonly srcOffBase: number;
  private readonly accBase: number;
  /** Slots the memory holds now. */
  private allocated = 0;
  /** Per-row pair counts, then bounds (tableRows + 1), and fill positions, reused between sweeps. */
  private bounds?: Int32Array;
  private fill?: Int32Array;

  /**
   * @param tableRows rows of the n-gram table
   * @param read reads table rows (from the file, or from rows held in memory)
   * @param fileRowBytes bytes one row takes in the file (float32 rows, or code bytes), for the gap rule
   * @param capacity slots per sweep (at least 1)
   */
  constructor(
    readonly tableRows: number,
    dim: number,
    private readonly read: TableRowReader,
    fileRowBytes: number,
    capacity: number,
  ) {
    this.dim = dim;
    this.capacity = Math.max(1, Math.floor(capacity));
    const rowBytes = dim * 4;
    this.runRows = Math.max(1, Math.floor(RUN_BYTES / Math.max(rowBytes, fileRowBytes)));
    this.gapRows = Math.max(1, Math.floor(GAP_BYTES / Math.max(1, fileRowBytes)));
    // two run buffers: the next run is read while the kernel adds the current one
    this.accOffBase = this.runBase + 2 * this.runRows * rowBytes;
    this.srcOffBase = this.accOffBase + PAIR_CHUNK * 4;
    this.accBase = this.srcOffBase + PAIR_CHUNK * 4;
    const most = this.accBase + this.capacity * rowBytes;
    if (most > 4 * 1024 ** 3 - 65536) throw new RangeError(`a sweep of ${this.capacity} slots of ${dim} floats needs ${most} bytes, over the 4 GiB of a WebAssembly memory`);
    const mod = kernelModule();
    this.wasm = !!mod;
    const bytes = this.accBase;
    this.memory = mod ? localMemory(Math.ceil(bytes / 65536)) : { buffer: new ArrayBuffer(bytes) };
    if (mod) {
      this.kernel = instantiate<Kernel>(mod, this.memory);
    } else {
      this.kernel = {
        addPairs: (accOff, srcOff, n, d) => {
          const f = new Float32Array(this.memory.buffer);
          const i32 = new Int32Array(this.memory.buffer);
          for (let p = 0; p < n; p++) {
            const a = i32[(accOff >> 2) + p]! >> 2;
            const s = i32[(srcOff >> 2) + p]! >> 2;
            for (let k = 0; k < d; k++) f[a + k]! += f[s + k]!;
          }
        },
      };
    }
  }

  /** The accumulators of the first `slots` slots (a view; valid until the next sweep starts). */
  acc(slots: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.accBase, slots * this.dim);
  }

  /** Bytes of the memory now. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Grows the memory to hold `slots` accumulators. */
  private ensure(slots: number): void {
    if (slots <= this.allocated) return;
    const need = this.accBase + slots * this.dim * 4;
    const have = this.memory.buffer.byteLength;
    if (need > have) {
      if (this.wasm) (this.memory as WasmMemory & { grow(pages: number): number }).grow(Math.ceil((need - have) / 65536));
      else {
        const b = new ArrayBuffer(need);
        new Uint8Array(b).set(new Uint8Array(this.memory.buffer));
        this.memory = { buffer: b };
      }
    }
    this.allocated = slots;
  }

  /**
   * Sets slots [0, slots) to zero, then adds to slot j every row listed in
   * rows[starts[j] .. starts[j + 1]) (rows in [0, tableRows), in any order, repeats allowed).
   */
  async sweep(rows: Int32Array, starts: Int32Array, slots: number): Promise<void> {
    if (slots > this.capacity) throw new RangeError(`${slots} slots, capacity ${this.capacity}`);
    this.ensure(slots);
    const dim = this.dim;
    const rowBytes = dim * 4;
    this.acc(slots).fill(0);
    const total = starts[slots]! - starts[0]!;
    if (total === 0) return;
    // The pairs sorted by row, slots ascending within a row.
    const { pr, ps } = total * 8 < this.tableRows ? this.sortFew(rows, starts, slots, total) : this.sortMany(rows, starts, slots, total);
    const i32 = new Int32Array(this.memory.buffer);
    const accOff = this.accOffBase >> 2;
    const srcOff = this.srcOffBase >> 2;
    // the runs: rows from pr[p] on, gaps of at most gapRows, at most runRows long
    const runStart: number[] = [];
    for (let p = 0; p < total; ) {
      const a = pr[p]!;
      let last = a;
      let q = p;
      while (q < total) {
        const r = pr[q]!;
        if (r !== last) {
          if (r - last > this.gapRows || r - a >= this.runRows) break;
          last = r;
        }
        q++;
      }
      runStart.push(p);
      p = q;
    }
    runStart.push(total);
    const runBytes = this.runRows * rowBytes;
    const readRun = (i: number): Promise<unknown> => {
      const p = runStart[i]!;
      const q = runStart[i + 1]!;
      const a = pr[p]!;
      const into = new Float32Array(this.memory.buffer, this.runBase + (i % 2) * runBytes, this.runRows * dim);
      return this.read(a, pr[q - 1]! - a + 1, into, 0, pr.subarray(p, q));
    };
    const runs = runStart.length - 1;
    let pending = readRun(0);
    for (let i = 0; i < runs; i++) {
      await pending;
      // the next run is read (into the other buffer) while this one is added
      if (i + 1 < runs) {
        pending = readRun(i + 1);
        pending.catch(() => undefined); // awaited on the next round; a failure surfaces there
      }
      const p = runStart[i]!;
      const q = runStart[i + 1]!;
      const a = pr[p]!;
      const base = this.runBase + (i % 2) * runBytes;
      let n = 0;
      for (let k = p; k < q; k++) {
        if (n === PAIR_CHUNK) {
          this.kernel.addPairs(this.accOffBase, this.srcOffBase, n, dim);
          n = 0;
        }
        i32[accOff + n] = this.accBase + ps[k]! * rowBytes;
        i32[srcOff + n] = base + (pr[k]! - a) * rowBytes;
        n++;
      }
      if (n > 0) this.kernel.addPairs(this.accOffBase, this.srcOffBase, n, dim);
    }
  }

  /** Counting sort over the table rows: O(pairs + tableRows). */
  private sortMany(rows: Int32Array, starts: Int32Array, slots: number, total: number): { pr: Int32Array; ps: Int32Array } {
    const T = this.tableRows;
    const bounds = (this.bounds ??= new Int32Array(T + 1));
    bounds.fill(0);
    const p0 = starts[0]!;
    for (let p = p0; p < p0 + total; p++) bounds[rows[p]! + 1]!++;
    for (let r = 0; r < T; r++) bounds[r + 1]! += bounds[r]!;
    const pr = new Int32Array(total);
    const ps = new Int32Array(total);
    const fill = (this.fill ??= new Int32Array(T));
    fill.set(bounds.subarray(0, T));
    for (let j = 0; j < slots; j++) {
      for (let p = starts[j]!; p < starts[j + 1]!; p++) {
        const r = rows[p]!;
        const at = fill[r]!++;
        pr[at] = r;
        ps[at] = j;
      }
    }
    return { pr, ps };
  }

  /** Few pairs (under 1/8 of the table rows): a comparison sort, O(pairs log pairs). */
  private sortFew(rows: Int32Array, starts: Int32Array, slots: number, total: number): { pr: Int32Array; ps: Int32Array } {
    const slotOf = new Int32Array(total);
    const rowOf = new Int32Array(total);
    const p0 = starts[0]!;
    for (let j = 0; j < slots; j++) {
      for (let p = starts[j]!; p < starts[j + 1]!; p++) {
        slotOf[p - p0] = j;
        rowOf[p - p0] = rows[p]!;
      }
    }
    const order = Int32Array.from({ length: total }, (_, k) => k).sort((x, y) => rowOf[x]! - rowOf[y]! || slotOf[x]! - slotOf[y]!);
    const pr = new Int32Array(total);
    const ps = new Int32Array(total);
    for (let k = 0; k < total; k++) {
      pr[k] = rowOf[order[k]!]!;
      ps[k] = slotOf[order[k]!]!;
    }
    return { pr, ps };
  }
}
