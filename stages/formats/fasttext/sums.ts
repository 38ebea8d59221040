/**
 * Sums of n-gram-table rows for many slots at once, in bounded memory ("sweeps").
 *
 * A sweep gets S slots (accumulators of dim float32 in a WebAssembly memory) and, for each slot, a
 * list of n-gram-table rows. It counting-sorts the (row, slot) pairs by row, visits the needed rows
 * in ascending order in runs of coalesced rows (read from the file, or copied from the rows held in
 * memory), and adds each row to every slot that lists it (WebAssembly SIMD kernel, JavaScript when
 * WebAssembly is unavailable: the same IEEE float32 additions). Every slot thus receives its rows in
 * ascending row order, whatever the number of slots per sweep, the run length, where the rows come
 * from, or how many threads add (in a sweep large enough, helper threads take the slots j with
 * j % threads = their number, kernels/ngram-add.ts): the sums are the same bits in every
 * configuration.
 *
 * Memory: two run buffers of 8 MiB (the next run is read while the current one is added) + 0.5 MiB
 * of pair offsets per thread + slots x dim x 4 bytes (the accumulators), in one (shared)
 * WebAssembly memory sized for `capacity` slots, whose pages are backed as sweeps first touch them
 * (the largest sweep so far); 8 bytes per pair of the largest sweep and 8 bytes per table row
 * (counting sort), kept from sweep to sweep. Cost per sweep: one read of every needed row (runs of at most 8 MiB; gaps shorter than
 * 64 KiB are read through), one addition of dim floats per pair.
 */
import { AddHelpers, addKernel, addMemory, type AddKernel, type PairLists } from '../../kernels/ngram-add.js';
import type { WasmMemory } from '../../kernels/wasm.js';

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

/** Float additions (pairs x dim) of a sweep from which helper threads take part. */
const HELPER_MIN_ADDS = 1 << 24;

export class RowSweeper {
  readonly dim: number;
  /** Slots one sweep can hold. */
  readonly capacity: number;
  private readonly memory: WasmMemory;
  private readonly kernel: AddKernel;
  private readonly runRows: number;
  private readonly gapRows: number;
  private readonly runBase = 0;
  /** Pair lists: one per thread that may add (this one first). */
  private readonly lists: PairLists[] = [];
  private readonly accBase: number;
  /** Most slots a sweep has used so far. */
  private allocated = 0;
  /** Per-row pair counts, then bounds (tableRows + 1), and fill positions, reused between sweeps. */
  private bounds?: Int32Array;
  private fill?: Int32Array;
  private pairs?: { pr: Int32Array; ps: Int32Array };
  /** Helper threads (started by the first large sweep), or null where they cannot run. */
  private helpers?: AddHelpers | null;

  /**
   * @param tableRows rows of the n-gram table
   * @param read reads table rows (from the file, or from rows held in memory)
   * @param fileRowBytes bytes one row takes in the file (float32 rows, or code bytes), for the gap rule
   * @param capacity slots per sweep (at least 1)
   * @param threads threads adding rows in large sweeps (this one and threads - 1 helpers)
   */
  constructor(
    readonly tableRows: number,
    dim: number,
    private readonly read: TableRowReader,
    fileRowBytes: number,
    capacity: number,
    private readonly threads = 1,
  ) {
    this.dim = dim;
    this.capacity = Math.max(1, Math.floor(capacity));
    const rowBytes = dim * 4;
    this.runRows = Math.max(1, Math.floor(RUN_BYTES / Math.max(rowBytes, fileRowBytes)));
    this.gapRows = Math.max(1, Math.floor(GAP_BYTES / Math.max(1, fileRowBytes)));
    // two run buffers (the next run is read while the kernel adds the current one), the pair lists
    let at = this.runBase + 2 * this.runRows * rowBytes;
    const lists = AddHelpers.usable(threads) ? threads : 1;
    for (let t = 0; t < lists; t++, at += 2 * PAIR_CHUNK * 4) this.lists.push({ accOff: at, srcOff: at + PAIR_CHUNK * 4 });
    this.accBase = at;
    const most = this.accBase + this.capacity * rowBytes;
    if (most > 4 * 1024 ** 3 - 65536) throw new RangeError(`a sweep of ${this.capacity} slots of ${dim} floats needs ${most} bytes, over the 4 GiB of a WebAssembly memory`);
    this.memory = addMemory(most);
    this.kernel = addKernel(this.memory);
  }

  /** The accumulators of the first `slots` slots (a view; valid until the next sweep starts). */
  acc(slots: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.accBase, slots * this.dim);
  }

  /** Bytes of the memory the sweeps have touched so far (the run buffers, offsets and accumulators used). */
  get bytes(): number {
    return this.accBase + this.allocated * this.dim * 4;
  }

  /** Helper threads started (0 before the first large sweep, or where they cannot run). */
  get helperThreads(): number {
    return this.helpers ? this.lists.length - 1 : 0;
  }

  /** Stops the helper threads (a later sweep starts them again). */
  async close(): Promise<void> {
    const h = this.helpers;
    this.helpers = undefined;
    await h?.close();
  }

  /** The helpers for a sweep of `adds` float additions, or null (the calling thread adds alone). */
  private helpersFor(adds: number): AddHelpers | null {
    if (adds < HELPER_MIN_ADDS || this.lists.length < 2) return null;
    return (this.helpers ??= new AddHelpers(this.memory, this.lists, this.dim));
  }

  /**
   * Sets slots [0, slots) to zero, then adds to slot j every row listed in
   * rows[starts[j] .. starts[j + 1]) (rows in [0, tableRows), in any order, repeats allowed).
   */
  async sweep(rows: Int32Array, starts: Int32Array, slots: number): Promise<void> {
    if (slots > this.capacity) throw new RangeError(`${slots} slots, capacity ${this.capacity}`);
    this.allocated = Math.max(this.allocated, slots);
    const dim = this.dim;
    const rowBytes = dim * 4;
    this.acc(slots).fill(0);
    const total = starts[slots]! - starts[0]!;
    if (total === 0) return;
    // The pairs sorted by row, slots ascending within a row.
    const { pr, ps } = total * 8 < this.tableRows ? this.sortFew(rows, starts, slots, total) : this.sortMany(rows, starts, slots, total);
    // slot j's pairs go to thread j % parts (this one alone without helpers)
    const helpers = this.helpersFor(total * dim);
    const parts = helpers ? this.lists.length : 1;
    const counts = new Int32Array(parts);
    const accAt = Int32Array.from(this.lists.slice(0, parts), (l) => l.accOff >> 2);
    const srcAt = Int32Array.from(this.lists.slice(0, parts), (l) => l.srcOff >> 2);
    const own = this.lists[0]!;
    const flush = async (): Promise<void> => {
      if (helpers) await helpers.add(this.kernel, counts);
      else this.kernel.addPairs(own.accOff, own.srcOff, counts[0]!, dim);
      counts.fill(0);
    };
    const i32 = new Int32Array(this.memory.buffer);
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
      for (let k = p; k < q; k++) {
        const j = ps[k]!;
        const t = parts === 1 ? 0 : j % parts;
        const n = counts[t]!;
        if (n === PAIR_CHUNK) {
          await flush();
          k--;
          continue;
        }
        i32[accAt[t]! + n] = this.accBase + j * rowBytes;
        i32[srcAt[t]! + n] = base + (pr[k]! - a) * rowBytes;
        counts[t] = n + 1;
      }
      await flush();
    }
  }

  /** The sorted pairs' arrays for `total` pairs: reused from sweep to sweep (grown to the largest so far). */
  private pairArrays(total: number): { pr: Int32Array; ps: Int32Array } {
    if (!this.pairs || this.pairs.pr.length < total) this.pairs = { pr: new Int32Array(total), ps: new Int32Array(total) };
    return { pr: this.pairs.pr.subarray(0, total), ps: this.pairs.ps.subarray(0, total) };
  }

  /** Counting sort over the table rows: O(pairs + tableRows). */
  private sortMany(rows: Int32Array, starts: Int32Array, slots: number, total: number): { pr: Int32Array; ps: Int32Array } {
    const T = this.tableRows;
    const bounds = (this.bounds ??= new Int32Array(T + 1));
    bounds.fill(0);
    const p0 = starts[0]!;
    for (let p = p0; p < p0 + total; p++) bounds[rows[p]! + 1]!++;
    for (let r = 0; r < T; r++) bounds[r + 1]! += bounds[r]!;
    const { pr, ps } = this.pairArrays(total);
    const fill = (this.fill ??= new Int32Array(T));
    fill.set(bounds.subarray(0, T));
    for (let j = 0; j < slots; j++) {
      for (let p = starts[j]!; p < starts[j + 1]!; p++) ps[fill[rows[p]!]!++] = j;
    }
    // the rows in order: written sequentially rather than scattered with the slots
    for (let r = 0, k = 0; r < T; r++) for (const e = bounds[r + 1]!; k < e; k++) pr[k] = r;
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
