/**
 * Sums of n-gram-table rows for many slots at once, in bounded memory ("sweeps").
 *
 * A sweep gets S slots (accumulators of dim float32 in a WebAssembly memory) and, for each slot, a
 * list of n-gram-table rows. It sorts the (row, slot) pairs by row (radix sort), visits the needed rows
 * in ascending order in runs of coalesced rows (read from the file, or copied from the rows held in
 * memory), and adds each row to every slot that lists it (WebAssembly SIMD kernel, JavaScript when
 * WebAssembly is unavailable: the same IEEE float32 additions). Every slot thus receives its rows in
 * ascending row order, whatever the number of slots per sweep, the run length, where the rows come
 * from, or how many threads add (in a sweep large enough, helper threads take the slots j with
 * j % threads = their number, kernels/ngram-add.ts): the sums are the same bits in every
 * configuration. A sweep "in the background" leaves every addition to the helpers: this thread
 * only reads runs and hands out pairs, and can do other work meanwhile (a pass's next window).
 *
 * Memory: four run buffers of 4 MiB (three runs are read ahead of the one being added) + 2 MiB of
 * pair offsets per thread + regions x slots x dim x 4 bytes (the accumulators; a pass uses two
 * regions, one swept while the other is read), in one (shared) WebAssembly memory sized for
 * `capacity` slots per region, whose pages are backed as sweeps first touch them; 16 bytes per pair
 * of the largest sweep (the sorted pairs and the sort's second arrays), kept from sweep to sweep. Cost
 * per sweep: one read of every needed row (runs of at most 4 MiB; gaps shorter than 64 KiB are
 * read through), one addition of dim floats per pair.
 */
import { AddHelpers, addKernel, addMemory, type AddKernel, type PairList } from '../../kernels/ngram-add.js';
import type { WasmMemory } from '../../kernels/wasm.js';

/** Longest run of rows read at once. */
export const RUN_BYTES = 4 << 20;
/** Run buffers: up to RUN_BUFFERS - 1 runs are read ahead of the one being added. */
const RUN_BUFFERS = 4;
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

/** The (row, slot) pairs of a sweep sorted by row, slots ascending within a row: row pr[k], slot ps[k]. */
export interface SortedPairs {
  pr: Int32Array;
  ps: Int32Array;
}

/**
 * `p` when its arrays hold at least `total` pairs, else new arrays of `total` x `headroom` (reused
 * pair arrays grow to the largest sweep so far).
 */
export function pairArraysFor(p: SortedPairs | undefined, total: number, headroom = 1): SortedPairs {
  if (p && p.pr.length >= total && p.ps.length >= total) return p;
  const n = Math.ceil(total * headroom);
  return { pr: new Int32Array(n), ps: new Int32Array(n) };
}

/** The first `total` pairs of `p` (views). */
function head(p: SortedPairs, total: number): SortedPairs {
  return { pr: p.pr.subarray(0, total), ps: p.ps.subarray(0, total) };
}

/** Bits of the row sorted per radix pass (the counters of a pass: 8 KiB). */
const RADIX_BITS = 11;

/** Float additions (pairs x dim) of a sweep from which helper threads take part. */
const HELPER_MIN_ADDS = 1 << 22;

export class RowSweeper {
  readonly dim: number;
  /** Slots one sweep can hold. */
  readonly capacity: number;
  private readonly memory: WasmMemory;
  private readonly kernel: AddKernel;
  private readonly runRows: number;
  private readonly gapRows: number;
  private readonly runBase = 0;
  /** Pair lists: lists[phase][t] for thread t (this one first); run i uses phase i % RUN_BUFFERS. */
  private readonly lists: PairList[][] = Array.from({ length: RUN_BUFFERS }, () => []);
  /** Threads that may add: this one and threads - 1 helpers (1 where helpers cannot run). */
  private readonly adders: number;
  private readonly accBase: number;
  /** Most slots a sweep has used so far, per region. */
  private readonly allocated: number[];
  /** The radix sort's counters and its second pair of arrays, reused between sweeps. */
  private hist?: Int32Array;
  private spare?: SortedPairs;
  private pairs?: SortedPairs;
  /** Helper threads (started by the first large sweep). */
  private helpers?: AddHelpers;

  /**
   * @param tableRows rows of the n-gram table
   * @param read reads table rows (from the file, or from rows held in memory)
   * @param fileRowBytes bytes one row takes in the file (float32 rows, or code bytes), for the gap rule
   * @param capacity slots per sweep (at least 1)
   * @param threads threads adding rows in large sweeps (this one and threads - 1 helpers)
   * @param regions accumulator regions of `capacity` slots (2: one is read while a sweep fills the other)
   * @param memory the memory of a sweeper made with the same arguments in another thread (a sweep
   *   worker, sweep-worker.ts), instead of a new one
   */
  constructor(
    readonly tableRows: number,
    dim: number,
    private readonly read: TableRowReader,
    fileRowBytes: number,
    capacity: number,
    threads = 1,
    readonly regions = 1,
    memory?: WasmMemory,
  ) {
    this.dim = dim;
    this.capacity = Math.max(1, Math.floor(capacity));
    this.allocated = new Array<number>(regions).fill(0);
    const rowBytes = dim * 4;
    this.runRows = Math.max(1, Math.floor(RUN_BYTES / Math.max(rowBytes, fileRowBytes)));
    this.gapRows = Math.max(1, Math.floor(GAP_BYTES / Math.max(1, fileRowBytes)));
    // the run buffers (runs are read ahead while the current one is added), the pair lists
    let at = this.runBase + RUN_BUFFERS * this.runRows * rowBytes;
    this.adders = AddHelpers.usable(threads) ? threads : 1;
    for (const phase of this.lists) {
      for (let t = 0; t < this.adders; t++, at += 2 * PAIR_CHUNK * 4) phase.push({ accOff: at, srcOff: at + PAIR_CHUNK * 4 });
    }
    this.accBase = at;
    const most = this.accBase + regions * this.capacity * rowBytes;
    if (most > 4 * 1024 ** 3 - 65536) throw new RangeError(`a sweep of ${this.capacity} slots of ${dim} floats needs ${most} bytes, over the 4 GiB of a WebAssembly memory`);
    if (memory && memory.buffer.byteLength < most) throw new RangeError(`a shared sweep memory of ${memory.buffer.byteLength} bytes, ${most} needed`);
    this.memory = memory ?? addMemory(most);
    this.kernel = addKernel(this.memory);
  }

  /** The memory (to hand to a sweep worker, which then fills this sweeper's regions). */
  get sharedMemory(): WasmMemory {
    return this.memory;
  }

  /** Whether sweeps can run in the background (helper threads add every pair). */
  get background(): boolean {
    return this.adders > 1;
  }

  /** The accumulators of the first `slots` slots of `region` (a view; valid until a sweep of that region starts). */
  acc(slots: number, region = 0): Float32Array {
    return new Float32Array(this.memory.buffer, this.regionBase(region), slots * this.dim);
  }

  private regionBase(region: number): number {
    return this.accBase + region * this.capacity * this.dim * 4;
  }

  /** Bytes of the memory the sweeps have touched so far (the run buffers, offsets and accumulators used). */
  get bytes(): number {
    return this.accBase + this.allocated.reduce((a, b) => a + b, 0) * this.dim * 4;
  }

  /** Sweeps so far whose additions all ran on helper threads (or in a sweep worker: counted by its caller). */
  backgroundSweeps = 0;

  /** Helper threads started (0 before the first large sweep, or where they cannot run). */
  get helperThreads(): number {
    return this.helpers?.size ?? 0;
  }

  /** Stops the helper threads (a later sweep starts them again). */
  async close(): Promise<void> {
    const h = this.helpers;
    this.helpers = undefined;
    await h?.close();
  }

  /** The helpers for a sweep of `adds` float additions, or undefined (this thread adds alone). */
  private helpersFor(adds: number): AddHelpers | undefined {
    if (adds < HELPER_MIN_ADDS || this.adders < 2) return undefined;
    return (this.helpers ??= new AddHelpers(this.memory, this.dim, this.adders - 1));
  }

  /**
   * Sets slots [0, slots) of `region` to zero, then adds to slot j every row listed in
   * rows[starts[j] .. starts[j + 1]) (rows in [0, tableRows), in any order, repeats allowed).
   * With `background` (and helpers), the helper threads add every pair and this thread only reads
   * rows and hands out pairs: other work can go on here meanwhile. One sweep at a time.
   */
  async sweep(rows: Int32Array, starts: Int32Array, slots: number, region = 0, background = false): Promise<void> {
    return this.sweepSorted(this.sortPairs(rows, starts, slots), slots, region, background);
  }

  /**
   * The pairs (row, slot) of a sweep, sorted by row, slots ascending within a row: in arrays kept
   * from sweep to sweep, or in `out` (each at least as long as the pairs) when given, e.g. arrays
   * to move to a sweep worker, which sweeps them with `sweepSorted`.
   */
  sortPairs(rows: Int32Array, starts: Int32Array, slots: number, out?: SortedPairs): SortedPairs {
    const total = starts[slots]! - starts[0]!;
    if (out && (out.pr.length < total || out.ps.length < total)) throw new RangeError(`pair arrays of ${Math.min(out.pr.length, out.ps.length)}, ${total} pairs`);
    if (total === 0) return { pr: new Int32Array(0), ps: new Int32Array(0) };
    if (!out && total * 8 < this.tableRows) return this.sortFew(rows, starts, slots, total);
    const into = out ?? (this.pairs = pairArraysFor(this.pairs, total));
    return this.sortMany(rows, starts, slots, total, head(into, total));
  }

  /** The sweep of `sweep` from its sorted pairs (sortPairs, here or in the thread that sent them). */
  async sweepSorted(pairs: SortedPairs, slots: number, region = 0, background = false): Promise<void> {
    if (slots > this.capacity) throw new RangeError(`${slots} slots, capacity ${this.capacity}`);
    if (!(region >= 0 && region < this.regions)) throw new RangeError(`region ${region} of ${this.regions}`);
    this.allocated[region] = Math.max(this.allocated[region]!, slots);
    const dim = this.dim;
    const rowBytes = dim * 4;
    this.acc(slots, region).fill(0);
    const { pr, ps } = pairs;
    const total = pr.length;
    if (total === 0) return;
    // Slot j's pairs go to adder j % parts: this thread (unless in the background) and the helpers.
    const helpers = this.helpersFor(total * dim);
    const own = helpers && background ? 0 : 1;
    if (!own) this.backgroundSweeps++;
    const parts = own + (helpers?.size ?? 0);
    const counts = new Int32Array(parts);
    const i32 = new Int32Array(this.memory.buffer);
    const accBase = this.regionBase(region);
    /** Adds the pairs of the lists of `phase` (this thread's part here, the helpers' in their threads). */
    const flush = (phase: number): Promise<unknown> => {
      const lists = this.lists[phase]!;
      const done: Promise<unknown>[] = [];
      for (let t = own; t < parts; t++) if (counts[t]! > 0) done.push(helpers!.add(t - own, lists[t]!, counts[t]!));
      if (own && counts[0]! > 0) this.kernel.addPairs(lists[0]!.accOff, lists[0]!.srcOff, counts[0]!, dim);
      counts.fill(0);
      return Promise.all(done);
    };
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
      const into = new Float32Array(this.memory.buffer, this.runBase + (i % RUN_BUFFERS) * runBytes, this.runRows * dim);
      return this.read(a, pr[q - 1]! - a + 1, into, 0, pr.subarray(p, q));
    };
    const runs = runStart.length - 1;
    // Run i is read into buffer i % B and its pairs listed in lists[i % B] (B = RUN_BUFFERS): the
    // next B - 1 runs are read meanwhile, and in the background the adds of run i go on while the
    // next runs are listed. Run i + B - 1 is read into the buffer of run i - 1 once its adds are done.
    const B = RUN_BUFFERS;
    const adding: Promise<unknown>[] = Array.from({ length: B }, () => Promise.resolve());
    const reading: Promise<unknown>[] = [];
    const startRead = (i: number) => {
      const r = (reading[i % B] = readRun(i));
      r.catch(() => undefined); // awaited in its turn; a failure surfaces there
    };
    for (let i = 0; i < Math.min(B - 1, runs); i++) startRead(i);
    for (let i = 0; i < runs; i++) {
      await reading[i % B];
      const phase = i % B;
      if (i + B - 1 < runs) {
        await adding[(i + B - 1) % B];
        startRead(i + B - 1);
      }
      const lists = this.lists[phase]!;
      const p = runStart[i]!;
      const q = runStart[i + 1]!;
      const a = pr[p]!;
      const base = this.runBase + phase * runBytes;
      for (let k = p; k < q; k++) {
        const j = ps[k]!;
        const t = parts === 1 ? 0 : j % parts;
        const n = counts[t]!;
        if (n === PAIR_CHUNK) {
          // a full list: add what the lists hold, then go on
          await flush(phase);
          k--;
          continue;
        }
        i32[(lists[t]!.accOff >> 2) + n] = accBase + j * rowBytes;
        i32[(lists[t]!.srcOff >> 2) + n] = base + (pr[k]! - a) * rowBytes;
        counts[t] = n + 1;
      }
      adding[phase] = flush(phase);
      if (!background) await adding[phase];
    }
    await Promise.all(adding);
  }

  /**
   * Radix sort by row into `out` (`total` long), least significant digit first, RADIX_BITS bits a
   * pass (two passes for up to 4M table rows): each pass is stable, so the slots stay ascending
   * within a row. O(pairs x passes); the counters fit the cache, where a counting sort over the
   * table rows would scatter over arrays of tableRows entries.
   */
  private sortMany(rows: Int32Array, starts: Int32Array, slots: number, total: number, out: SortedPairs): SortedPairs {
    const bits = Math.max(1, 32 - Math.clz32(Math.max(1, this.tableRows - 1)));
    const passes = Math.ceil(bits / RADIX_BITS);
    const R = 1 << RADIX_BITS;
    const mask = R - 1;
    const hist = (this.hist ??= new Int32Array(4 * R)).fill(0);
    const p0 = starts[0]!;
    for (let p = p0; p < p0 + total; p++) {
      const r = rows[p]!;
      for (let d = 0; d < passes; d++) hist[d * R + ((r >>> (d * RADIX_BITS)) & mask)]!++;
    }
    for (let d = 0; d < passes; d++) {
      for (let k = 0, at = 0; k < R; k++) {
        const c = hist[d * R + k]!;
        hist[d * R + k] = at;
        at += c;
      }
    }
    // the passes alternate between `out` and the spare arrays, the last one writing `out`
    const spare = head((this.spare = pairArraysFor(this.spare, total)), total);
    let to = passes % 2 === 1 ? out : spare;
    // pass 0 reads the lists slot by slot
    for (let j = 0; j < slots; j++) {
      for (let p = starts[j]!; p < starts[j + 1]!; p++) {
        const r = rows[p]!;
        const k = hist[r & mask]!++;
        to.pr[k] = r;
        to.ps[k] = j;
      }
    }
    for (let d = 1; d < passes; d++) {
      const from = to;
      to = from === out ? spare : out;
      const shift = d * RADIX_BITS;
      const h = d * R;
      const { pr: fr, ps: fs } = from;
      const { pr: tr, ps: ts } = to;
      for (let q = 0; q < total; q++) {
        const r = fr[q]!;
        const k = hist[h + ((r >>> shift) & mask)]!++;
        tr[k] = r;
        ts[k] = fs[q]!;
      }
    }
    return out;
  }

  /** Few pairs (under 1/8 of the table rows): a comparison sort, O(pairs log pairs). */
  private sortFew(rows: Int32Array, starts: Int32Array, slots: number, total: number): SortedPairs {
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
