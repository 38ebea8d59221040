/**
 * fastText `.bin` / `.ftz` reader: header, dictionary, input matrix (dense or product-quantized),
 * output matrix located but not read.
 *
 * Word vectors are what fastText's getWordVector computes: (word row + sum of the word's n-gram
 * rows) / (1 + number of n-grams), in float32; unknown words get the mean of their n-gram rows
 * (zero when they have none). We add a word's n-gram rows in ascending row order (fastText adds
 * them in n-gram order), so every path of this reader gives bit-identical vectors and they differ
 * from fastText's only by float32 rounding (about 1e-7 relative).
 *
 * The n-gram sum of a word is accumulated first (its rows in ascending row order, float32), then
 * the word row is added and the sum scaled by 1 / (1 + n): vector = fl(word row + sum) x fl(1 / (1 + n)).
 *
 * Memory: the n-gram rows ("bucket rows") are held in memory, decoded as float32, only when they
 * fit `memoryBytes` (default 512 MiB). Sums are computed in sweeps (sums.ts): up to a quarter
 * of `memoryBytes` of accumulators, the n-gram rows a sweep needs
 * visited once each in ascending order (coalesced reads from the file, or copies from memory).
 * A pass holds one sweep's accumulators and the batch being built, never every word's vector; it
 * computes only the words a pass plan asks for (see `passPlan`), and optional companion sums (the
 * mean of a word's n-gram rows through a row map) in the same sweep.
 */
import type { Batch } from '../../../pipeline/batch.js';
import { DEFAULT_BATCH_ROWS, lendVectors } from '../../../pipeline/batch.js';
import type { ModelInfo, ModelReader, PassOptions, SubwordRows } from '../../../pipeline/model.js';
import type { Source } from '../../../pipeline/source.js';
import { fromAsync, type Stream } from '../../../pipeline/stream.js';
import { Cursor, RowFile } from './cursor.js';
import { denseRowReader, readDenseLayout, readDenseRows, type DenseLayout } from './dense.js';
import { readDictionary, type FastTextDictionary } from './dictionary.js';
import { LOSS_NAMES, MODEL_NAMES, readHeader, type FastTextHeader } from './header.js';
import { FastTextBinIndexer, IntList } from './indexer.js';
import { readQuantLayout, readQuantRows, type QuantLayout } from './quantized.js';
import { AddHelpers } from '../../kernels/ngram-add.js';
import { WorkerCalls, type WorkerAnswer } from '../../kernels/worker-calls.js';
import { workerUrl } from '../../../pipeline/workers.js';
import { pairArraysFor, RowSweeper, type SortedPairs } from './sums.js';
import type { SweepWorkerData } from './sweep-worker.js';

export const DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024;
/** Batches of a pass whose companion rows are kept (see FastTextModel.companionOf). */
const COMPANION_RING = 4;
/** Largest single read of n-gram rows. */
const READ_CHUNK_BYTES = 8 * 1024 * 1024;
/** Sweep memory kept between uses up to this size (larger is released after each use). */
const SWEEPER_KEEP_BYTES = 32 * 1024 * 1024;
/** Word rows further apart than this are read separately rather than read through. */
const WORD_GAP_ROWS = 64;

/** In a companion map: the row is dropped (adds nothing, does not count in the divisor). */
export const COMPANION_DROP = -1;
/** In a companion map: the row becomes a zero row (adds nothing, counts in the divisor). */
export const COMPANION_ZERO = -2;

/**
 * What the next passes compute (stages set it before the streaming pass; undefined: everything).
 */
export interface FastTextPassPlan {
  /**
   * Words (by dictionary index) whose vectors a pass computes; the others come as zero rows, and
   * a batch without any computed word shares one read-only zero array with the other such
   * batches (no stage may write to rows that were not computed).
   */
  need?: Uint8Array;
  /**
   * Whether the pass's sweeps may run in a sweep worker that reads the n-gram rows itself
   * (sweep-worker.ts: dense rows in a plain file, more than one thread): the next window is then
   * swept whatever this thread is doing. It costs one more thread with its own heap, and its
   * regions take a quarter of the reader budget (other passes: three sixteenths); stages set it
   * when the pass is the run's main work.
   */
  sweepWorker?: boolean;
  /**
   * Companion sums: for every computed word (or those marked in `words`), the mean of its n-gram
   * rows through `map` (n-gram-table row -> the row added in its place, COMPANION_DROP or
   * COMPANION_ZERO), added in ascending order of the rows added. Read with `companionOf(batch)`.
   */
  companion?: {
    map: Int32Array;
    words?: Uint8Array;
    /**
     * Set when `map` sends every row any word of the dictionary uses to itself (the caller has
     * checked this): each companion is then the word's own sum, and the map is not read.
     */
    identity?: boolean;
  };
}

const NO_ROWS = new Int32Array(0);

/** Vector arrays a pass lends its batches (see lendVectors), at most this many kept for reuse. */
const SPARE_ARRAYS = 8;

/**
 * The vectors of a pass's batches: arrays of one batch lent to each batch and reused once the
 * batch has left the run, and one shared zero array for batches without a computed word.
 */
class BatchArrays {
  private readonly free: Float32Array[] = [];
  zeros?: Float32Array;

  constructor(
    private readonly batchRows: number,
    private readonly dim: number,
  ) {}

  /**
   * Rows for a batch of n words, lent to it: zero when `zero`, else as an earlier batch left them
   * (the caller writes every row).
   */
  take(n: number, zero: boolean): Float32Array {
    const reused = this.free.pop();
    const whole = reused ?? new Float32Array(this.batchRows * this.dim);
    const v = n === this.batchRows ? whole : whole.subarray(0, n * this.dim);
    if (zero && reused) v.fill(0);
    lendVectors(v, () => {
      if (this.free.length < SPARE_ARRAYS) this.free.push(whole);
    });
    return v;
  }
}

/** A window of a pass: words [w0, w1) and the sweep that computes them. */
interface PassWindow {
  w0: number;
  w1: number;
  /** Slots of the sweep. */
  slots: number;
  /** N-gram rows of slot j: idx[starts[j] .. starts[j + 1]). */
  idx: Int32Array;
  starts: Int32Array;
  /** With a sweep worker: the sorted pairs (RowSweeper.sortPairs) in the first `total` entries of `arrays` (idx is then dropped). */
  sorted?: { arrays: SortedPairs; total: number };
  /** Per word (index - w0): its slot (-1: not computed), its companion's slot (-1 none, -2 the word's own sum), rows in its companion mean. */
  slotOf: Int32Array;
  compOf: Int32Array;
  compUsed: Int32Array;
}

/** Companion sums of one batch (rows as in the batch; zero rows for words without one). */
export interface CompanionRows {
  vectors: Float32Array;
  /** Rows counted in each mean (0: no row, zero vector); -1 for words without a companion. */
  used: Int32Array;
}

export interface FastTextOptions {
  /** Rows per batch of a pass (default 2048). */
  batchRows?: number;
  /** Memory the n-gram rows (and a pass's accumulators) may take, in bytes (default 512 MiB). */
  memoryBytes?: number;
  /** Threads adding n-gram rows in large sweeps (default 1: this thread only). */
  threads?: number;
}

export type MatrixLayout = DenseLayout | QuantLayout;

/** Where the matrices are in the file, for writers that copy parts of them. */
export interface FastTextLayoutInfo {
  header: FastTextHeader;
  dictionary: { offset: number; end: number };
  /** Offset of the quant_input flag byte (-1 in the old layout, which has none). */
  quantInputFlagOffset: number;
  input: MatrixLayout;
  /** Offset of the qout flag byte (-1 in the old layout). */
  quantOutputFlagOffset: number;
  output: MatrixLayout;
  /** Bytes after the output matrix (fastText ignores them). */
  trailingBytes: number;
}

export async function openFastText(source: Source, opts: FastTextOptions = {}): Promise<FastTextModel> {
  const c = new Cursor(source, 0, 'header');
  const header = await readHeader(c);
  const dict = await readDictionary(c, header);
  const dim = header.args.dim;
  const layoutOld = header.layout === 'old';

  c.part = 'input matrix';
  let quantInputFlagOffset = -1;
  let quantInput = false;
  if (!layoutOld) {
    quantInputFlagOffset = c.pos;
    quantInput = await c.bool('quantized-input flag');
  }
  const input: MatrixLayout = quantInput ? await readQuantLayout(c, 'quantized input matrix', dim) : await readDenseLayout(c, 'input matrix', dim);

  const pruned = dict.pruneidxSize >= 0;
  if (pruned && !quantInput) {
    throw c.error(
      'the dictionary is pruned but the input matrix is dense; fastText refuses such files (a pruned model must be quantized)',
      dict.offset + 20,
    );
  }
  if (input.rows < dict.nwords) {
    throw c.error(`input matrix has ${input.rows} rows, fewer than the ${dict.nwords} words of the dictionary`, input.offset);
  }
  const tableRows = input.rows - dict.nwords;
  let prune: Map<number, number> | undefined;
  if (pruned) {
    prune = new Map();
    for (let i = 0; i < dict.pruneBuckets.length; i++) {
      const k = dict.pruneBuckets[i]!;
      const r = dict.pruneRows[i]!;
      if (k >= header.args.bucket || r >= tableRows) {
        c.part = 'dictionary';
        throw c.error(
          `pruned index pair ${i + 1} maps bucket ${k} to n-gram row ${r}; expected a bucket below ${header.args.bucket} and a row below ${tableRows}`,
          dict.end - dict.pruneBuckets.length * 8 + i * 8,
        );
      }
      prune.set(k, r);
    }
  } else if (tableRows !== header.args.bucket) {
    throw c.error(
      `input matrix has ${input.rows} rows; the header's ${dict.nwords} words + ${header.args.bucket} buckets need ${dict.nwords + header.args.bucket}`,
      input.offset,
    );
  }

  c.part = 'output matrix';
  let quantOutputFlagOffset = -1;
  let quantOutput = false;
  if (!layoutOld) {
    quantOutputFlagOffset = c.pos;
    quantOutput = await c.bool('quantized-output flag');
  }
  const output: MatrixLayout =
    quantInput && quantOutput ? await readQuantLayout(c, 'quantized output matrix', dim) : await readDenseLayout(c, 'output matrix', dim);

  const layout: FastTextLayoutInfo = {
    header,
    dictionary: { offset: dict.offset, end: dict.end },
    quantInputFlagOffset,
    input,
    quantOutputFlagOffset,
    output,
    trailingBytes: source.size - c.pos,
  };
  const indexer = new FastTextBinIndexer({
    minn: header.args.minn,
    maxn: header.args.maxn,
    bucket: header.args.bucket,
    size: tableRows,
    skipEos: !layoutOld,
    prune,
  });
  return new FastTextModel(source, layout, dict, indexer, opts);
}

/** A read of matrix rows [start, start + count) into out at outOffset (floats). */
/** Rows [start, start + count) of the input matrix; with `wanted` (table rows, ascending), only those need be filled. */
type RowReader = (start: number, count: number, out?: Float32Array, outOffset?: number, wanted?: Int32Array) => Promise<Float32Array>;

export class FastTextModel implements ModelReader {
  readonly info: ModelInfo;
  readonly args: FastTextHeader['args'];
  readonly dim: number;
  readonly nwords: number;
  /** Rows of the n-gram table. */
  readonly tableRows: number;
  readonly subwords?: SubwordRows;
  readonly memoryBytes: number;
  private readonly batchRows: number;
  private readonly threads: number;
  private readonly readRows: RowReader;
  /** All n-gram rows, decoded, once loaded (only when they fit memoryBytes). */
  private table?: Float32Array;
  private tableLoading?: Promise<Float32Array | undefined>;
  /** word -> index hash (open addressing; slot value index + 1, 0 empty), built on first use. */
  private wordSlots?: Int32Array;
  private duplicates = 0;
  private sweeper?: RowSweeper;
  /** Sweeps of finished passes whose additions all ran on helper threads (next window swept while one went out). */
  backgroundSweeps = 0;
  /** The sweepers of passes under way (each pass has its own; closed when it ends). */
  private readonly passSweepers = new Set<RowSweeper>();
  /** The sweep workers of passes under way. */
  private readonly passWorkers = new Set<WorkerCalls<WorkerAnswer>>();
  private wordRowBuffer = new Float32Array(0);
  /**
   * Companion rows of the last COMPANION_RING batches of a pass, reused in turn (a pass would
   * otherwise allocate them anew for every batch); `owner` is the batch they belong to now.
   */
  private readonly companionRing: { rows: CompanionRows; owner?: Batch }[] = [];
  private companionNext = 0;
  private readonly companions = new WeakMap<Batch, { n: number; slot: number }>();
  private readonly file: RowFile;
  /** What the next passes compute (see FastTextPassPlan); undefined: every word, no companion. */
  passPlan?: FastTextPassPlan;

  constructor(
    readonly source: Source,
    readonly layout: FastTextLayoutInfo,
    readonly dictionary: FastTextDictionary,
    readonly indexer: FastTextBinIndexer,
    opts: FastTextOptions = {},
  ) {
    const { header, input, output } = layout;
    this.args = header.args;
    this.dim = header.args.dim;
    this.nwords = dictionary.nwords;
    this.tableRows = input.rows - dictionary.nwords;
    this.memoryBytes = opts.memoryBytes ?? DEFAULT_MEMORY_BYTES;
    this.batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
    this.threads = opts.threads ?? 1;
    const file = (this.file = new RowFile(source));
    this.readRows =
      input.kind === 'dense'
        ? denseRowReader(file, input, 'input matrix', dictionary.nwords, this.tableRows)
        : (s, n, out, o, wanted) => readQuantRows(file, input, s, n, 'input matrix', out, o, wanted && { rows: wanted, base: dictionary.nwords });
    const a = header.args;
    this.info = {
      format: 'fasttext',
      rows: dictionary.nwords,
      dim: a.dim,
      hasCounts: true,
      details: {
        layout: header.layout === 'old' ? 'old (no magic number)' : `version ${header.version}`,
        model: MODEL_NAMES[a.model] ?? a.model,
        loss: LOSS_NAMES[a.loss] ?? a.loss,
        dim: a.dim,
        ws: a.ws,
        epoch: a.epoch,
        minCount: a.minCount,
        neg: a.neg,
        wordNgrams: a.wordNgrams,
        bucket: a.bucket,
        minn: a.minn,
        maxn: a.maxn,
        lrUpdateRate: a.lrUpdateRate,
        t: a.t,
        words: dictionary.nwords,
        tokens: dictionary.ntokens,
        ngramRows: this.tableRows,
        pruned: dictionary.pruneidxSize >= 0 ? `${dictionary.pruneidxSize} buckets kept` : 'no',
        input: describeMatrix(input),
        output: describeMatrix(output),
        ...(layout.trailingBytes ? { trailingBytes: layout.trailingBytes } : {}),
      },
    };
    if (indexer.active) {
      this.subwords = {
        indexer,
        dim: this.dim,
        read: (start, count) => this.readTableRows(start, count),
      };
    }
  }

  get quantized(): boolean {
    return this.layout.input.kind === 'quantized';
  }

  /** Bytes the decoded n-gram rows take. */
  get tableBytes(): number {
    return this.tableRows * this.dim * 4;
  }

  /** Whether the n-gram rows are (or will be) held in memory. */
  get tableResident(): boolean {
    return this.tableBytes <= this.memoryBytes;
  }

  pass(opts: PassOptions = {}): Stream<Batch> {
    return fromAsync(this.batches(opts));
  }

  async countRows(): Promise<number> {
    return this.nwords;
  }

  /** Drops the n-gram rows held in memory (the source stays open: it is the caller's). */
  async close(): Promise<void> {
    this.table = undefined;
    this.tableLoading = undefined;
    await this.sweeper?.close();
    this.sweeper = undefined;
    for (const w of this.passWorkers) await w.close();
    this.passWorkers.clear();
    for (const sw of this.passSweepers) await sw.close();
    this.passSweepers.clear();
    await this.file.close();
  }

  /**
   * Dictionary index of a word (byte string), or -1. Builds a word -> index hash on first use
   * (open addressing over the dictionary's own strings: 8 bytes per word). A word listed twice
   * (never written by fastText) resolves to its last entry, as fastText's own lookup table does.
   */
  wordId(word: string): number {
    const slots = this.wordSlots ?? this.buildWordSlots();
    const mask = slots.length - 1;
    const words = this.dictionary.words;
    for (let h = hashWord(word) & mask; ; h = (h + 1) & mask) {
      const v = slots[h]!;
      if (v === 0) return -1;
      if (words[v - 1] === word) return v - 1;
    }
  }

  /** Dictionary entries that repeat an earlier word (0 for every file fastText writes). */
  get duplicateWords(): number {
    if (!this.wordSlots) this.buildWordSlots();
    return this.duplicates;
  }

  private buildWordSlots(): Int32Array {
    let cap = 16;
    while (cap < this.nwords * 2) cap *= 2;
    const slots = new Int32Array(cap);
    const mask = cap - 1;
    const words = this.dictionary.words;
    let dups = 0;
    for (let i = 0; i < this.nwords; i++) {
      const w = words[i]!;
      for (let h = hashWord(w) & mask; ; h = (h + 1) & mask) {
        const v = slots[h]!;
        if (v === 0) {
          slots[h] = i + 1;
          break;
        }
        if (words[v - 1] === w) {
          slots[h] = i + 1;
          dups++;
          break;
        }
      }
    }
    this.duplicates = dups;
    this.wordSlots = slots;
    return slots;
  }

  /** Raw input-matrix rows [start, start + count) (word rows first, then n-gram rows). */
  readInputRows(start: number, count: number): Promise<Float32Array> {
    return this.readRows(start, count);
  }

  /** Output-matrix rows [start, start + count) (dense, or decoded when quantized), for writers that copy them. */
  readOutputRows(start: number, count: number): Promise<Float32Array> {
    const o = this.layout.output;
    return o.kind === 'dense' ? readDenseRows(this.file, o, start, count, 'output matrix') : readQuantRows(this.file, o, start, count, 'output matrix');
  }

  /** Rows [start, start + count) of the n-gram table into out[0 ..) (no allocation when read from the file). */
  async readTableRowsInto(start: number, count: number, out: Float32Array): Promise<void> {
    if (start < 0 || count < 0 || start + count > this.tableRows || out.length < count * this.dim) {
      throw new RangeError(`n-gram rows [${start}, ${start + count}) outside 0..${this.tableRows} or larger than the buffer`);
    }
    if (this.table) out.set(this.table.subarray(start * this.dim, (start + count) * this.dim));
    else await this.readRows(this.nwords + start, count, out, 0);
  }

  /** Rows [start, start + count) of the n-gram table. */
  async readTableRows(start: number, count: number): Promise<Float32Array> {
    if (start < 0 || count < 0 || start + count > this.tableRows) {
      throw new RangeError(`n-gram rows [${start}, ${start + count}) outside 0..${this.tableRows}`);
    }
    if (this.table) return this.table.slice(start * this.dim, (start + count) * this.dim);
    return this.readRows(this.nwords + start, count);
  }

  /** The vector fastText gives `word` (byte string): its own for known words, from n-grams otherwise. */
  async vectorFor(word: string): Promise<Float32Array> {
    return this.vectorsFor([word]);
  }

  /**
   * Vectors of several words, words.length x dim: known words as a pass gives them (bit for bit),
   * unknown words the mean of their n-gram rows (zero without any). Sweeps of at most the sweep
   * capacity, so memory stays bounded whatever the number of words (the result itself aside).
   */
  async vectorsFor(words: readonly string[]): Promise<Float32Array> {
    return this.vectorsOf(words.map((w) => this.wordId(w)), words);
  }

  /** Vectors of dictionary words by index (ids in [0, nwords)), ids.length x dim, as a pass gives them. */
  async vectorsOfIds(ids: ArrayLike<number>): Promise<Float32Array> {
    const list: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(Number.isInteger(id) && id >= 0 && id < this.nwords)) throw new RangeError(`word index ${id} outside 0..${this.nwords}`);
      list.push(id);
    }
    return this.vectorsOf(list, list.map((id) => this.dictionary.words[id]!));
  }

  /**
   * Companion sums of a batch this reader's pass yielded (see FastTextPassPlan.companion), while
   * they are kept: for the last COMPANION_RING batches of the pass that had any (a stage reads them
   * as the batch goes by; later, undefined, and `companionsFor` computes them again).
   */
  companionOf(b: Batch): CompanionRows | undefined {
    const c = this.companions.get(b);
    // a batch whose rows were dropped since (duplicate words) no longer lines up
    if (!c || c.n !== b.words.length) return undefined;
    const slot = this.companionRing[c.slot]!;
    if (slot.owner !== b) return undefined;
    return { vectors: slot.rows.vectors.subarray(0, c.n * this.dim), used: slot.rows.used.subarray(0, c.n) };
  }

  /** Ring slot `k`'s companion rows for a batch of `n` words, cleared (zero vectors, used -1). */
  private companionRows(k: number, n: number, batchRows: number): CompanionRows {
    const dim = this.dim;
    let slot = this.companionRing[k];
    if (!slot || slot.rows.used.length < n) {
      const rows = Math.max(n, batchRows);
      slot = this.companionRing[k] = { rows: { vectors: new Float32Array(rows * dim), used: new Int32Array(rows) } };
    }
    slot.owner = undefined;
    slot.rows.vectors.fill(0, 0, n * dim);
    slot.rows.used.fill(-1, 0, n);
    return { vectors: slot.rows.vectors.subarray(0, n * dim), used: slot.rows.used.subarray(0, n) };
  }

  /**
   * Companion means of any words (as a pass with a companion plan gives them, bit for bit): the
   * mean of each word's n-gram rows through `map` (see FastTextPassPlan.companion).
   */
  async companionsFor(words: readonly string[], map: Int32Array): Promise<CompanionRows> {
    const dim = this.dim;
    const vectors = new Float32Array(words.length * dim);
    const used = new Int32Array(words.length);
    if (!this.indexer.active) return { vectors, used };
    const sw = await this.getSweeper();
    const idx = new IntList(1024);
    for (let s = 0; s < words.length; s += sw.capacity) {
      const n = Math.min(sw.capacity, words.length - s);
      const starts = new Int32Array(n + 1);
      idx.clear();
      for (let j = 0; j < n; j++) {
        const before = idx.length;
        this.indexer.pushIndices(words[s + j]!, idx);
        let c = 0;
        let w = before;
        for (let k = before; k < idx.length; k++) {
          const m = map[idx.data[k]!]!;
          if (m >= 0) {
            idx.data[w++] = m;
            c++;
          } else if (m === COMPANION_ZERO) c++;
        }
        idx.length = w;
        used[s + j] = c;
        starts[j + 1] = idx.length;
      }
      await sw.sweep(idx.data, starts, n);
      const acc = sw.acc(n);
      for (let j = 0; j < n; j++) {
        const c = used[s + j]!;
        if (c > 0 && starts[j + 1]! > starts[j]!) scaleInto(vectors, (s + j) * dim, acc, j * dim, dim, 1 / c);
      }
    }
    return { vectors, used };
  }

  private async vectorsOf(ids: readonly number[], words: readonly string[]): Promise<Float32Array> {
    const dim = this.dim;
    const out = new Float32Array(words.length * dim);
    const sw = this.indexer.active ? await this.getSweeper() : undefined;
    const cap = sw ? sw.capacity : words.length;
    const idx = new IntList(1024);
    for (let s = 0; s < words.length; s += cap) {
      const e = Math.min(words.length, s + cap);
      const n = e - s;
      const starts = new Int32Array(n + 1);
      idx.clear();
      if (sw) {
        for (let j = 0; j < n; j++) {
          this.indexer.pushIndices(words[s + j]!, idx);
          starts[j + 1] = idx.length;
        }
        await sw.sweep(idx.data, starts, n);
      }
      const acc = sw?.acc(n);
      // Known words: their own rows (coalesced reads in id order), then fl(row + sum) x fl(1 / (1 + n)).
      const known: number[] = [];
      for (let j = 0; j < n; j++) if (ids[s + j]! >= 0) known.push(j);
      known.sort((a, b) => ids[s + a]! - ids[s + b]! || a - b);
      const knownIds = Int32Array.from(known, (j) => ids[s + j]!);
      await this.readWordRows(knownIds, (k, data, off) => out.set(data.subarray(off, off + dim), (s + known[k]!) * dim));
      for (let j = 0; j < n; j++) {
        const c = starts[j + 1]! - starts[j]!;
        const o = (s + j) * dim;
        if (ids[s + j]! >= 0) {
          if (c > 0) combine(out, o, acc!, j * dim, dim, 1 / (1 + c));
        } else if (c > 0) {
          scaleInto(out, o, acc!, j * dim, dim, 1 / c);
        }
      }
    }
    await this.releaseSweeper();
    return out;
  }

  /** The sweeper of this model's lookups (vectorsFor, companionsFor): made on first use. */
  private async getSweeper(): Promise<RowSweeper> {
    return (this.sweeper ??= await this.newSweeper(1));
  }

  /**
   * A sweeper (rows from memory when resident, else from the file) with `regions` accumulator
   * regions: a pass asks for two (one region is read while a sweep fills the other, where helper
   * threads or a sweep worker add in the background). The regions share `share` of the memory
   * budget: a quarter for lookups and for passes whose sweeps are the run's main work (a sweep
   * worker runs them); three sixteenths for other passes, which run beside other work that holds
   * memory (the nearest-word search of --pruned-words nearest: on ft2m its peak went from 962 to
   * 910 MiB, its time from about 120 to 109 s, where an eighth took 805 MiB and 138 s).
   */
  private async newSweeper(regions: number, adders = this.threads, share = 1 / 4): Promise<RowSweeper> {
    const want = regions === 2 && AddHelpers.usable(this.threads) ? 2 : 1;
    const table = await this.loadTable();
    const dim = this.dim;
    const rowBytes = this.quantized ? (this.layout.input as QuantLayout).pq.nsubq : dim * 4;
    const budget = (this.memoryBytes * share) / want;
    const capacity = Math.min(Math.max(1, this.nwords), Math.max(2 * this.batchRows, Math.floor(budget / (dim * 4))));
    const read = table
      ? async (start: number, count: number, out: Float32Array, off: number) => out.set(table.subarray(start * dim, (start + count) * dim), off)
      : (start: number, count: number, out: Float32Array, off: number, wanted?: Int32Array) => this.readRows(this.nwords + start, count, out, off, wanted);
    return new RowSweeper(this.tableRows, dim, read, rowBytes, capacity, adders, want);
  }

  /** Loads every n-gram row into memory when they fit the budget (once). */
  private async loadTable(): Promise<Float32Array | undefined> {
    if (this.table) return this.table;
    if (!this.tableResident) return undefined;
    this.tableLoading ??= (async () => {
      const dim = this.dim;
      const t = new Float32Array(this.tableRows * dim);
      const chunk = Math.max(1, Math.floor(READ_CHUNK_BYTES / (dim * 4)));
      for (let s = 0; s < this.tableRows; s += chunk) {
        await this.readRows(this.nwords + s, Math.min(chunk, this.tableRows - s), t, s * dim);
      }
      this.table = t;
      return t;
    })();
    return this.tableLoading;
  }

  /**
   * Calls fn(k, rows, offset) for each word row `ids[k]` (ascending, repeats allowed), its floats
   * at rows[offset .. offset + dim); reads runs of nearby rows at once (at most 8 MiB).
   */
  private async readWordRows(ids: Int32Array, fn: (k: number, rows: Float32Array, offset: number) => void): Promise<void> {
    const dim = this.dim;
    const maxRows = Math.max(1, Math.floor(READ_CHUNK_BYTES / (dim * 4)));
    let u = 0;
    while (u < ids.length) {
      const a = ids[u]!;
      let v = u + 1;
      while (v < ids.length && ids[v]! - ids[v - 1]! <= WORD_GAP_ROWS && ids[v]! - a < maxRows) v++;
      const count = ids[v - 1]! - a + 1;
      // one buffer per model, grown to the largest run so far (at most 8 MiB)
      let buf = this.wordRowBuffer;
      if (buf.length < count * dim) buf = this.wordRowBuffer = new Float32Array(Math.max(count, Math.min(maxRows, 2048)) * dim);
      await this.readRows(a, count, buf, 0);
      for (let k = u; k < v; k++) fn(k, buf, (ids[k]! - a) * dim);
      u = v;
    }
  }

  private async *batches(opts: PassOptions): AsyncGenerator<Batch> {
    // the pass's own sweeper (lookups during the pass, companionsFor, sweep with the other one);
    // with a sweep worker, made with one adder: the worker's sweeper has the same layout
    const useWorker = this.indexer.active && this.sweepWorkerApplies();
    const sw = this.indexer.active ? await this.newSweeper(2, useWorker ? 1 : this.threads, useWorker ? 1 / 4 : 3 / 16) : undefined;
    const worker = sw && useWorker ? this.sweepWorker(sw) : undefined;
    if (sw) this.passSweepers.add(sw);
    if (worker) this.passWorkers.add(worker);
    try {
      yield* this.passBatches(opts, sw, worker);
    } finally {
      if (worker) {
        this.passWorkers.delete(worker);
        await worker.call(0, { close: true }).catch(() => undefined);
        await worker.close();
      }
      if (sw) {
        this.passSweepers.delete(sw);
        this.backgroundSweeps += sw.backgroundSweeps;
        await sw.close();
      }
    }
  }

  /**
   * Whether the next pass's sweeps run in a sweep worker: the pass plan asks for it, there is more
   * than one thread, and the n-gram rows are dense in a plain file, not held in memory.
   */
  private sweepWorkerApplies(): boolean {
    return !!this.passPlan?.sweepWorker && AddHelpers.usable(this.threads) && this.layout.input.kind === 'dense' && !this.tableResident && !this.source.compressed;
  }

  /** A worker that runs the sweeps of `sw` (two regions, one adder) on its own, reading the rows from the file. */
  private sweepWorker(sw: RowSweeper): WorkerCalls<WorkerAnswer> {
    const input = this.layout.input as DenseLayout;
    const calls = new WorkerCalls<WorkerAnswer>();
    const data: SweepWorkerData = {
      memory: sw.sharedMemory,
      path: this.source.path,
      input,
      nwords: this.nwords,
      tableRows: this.tableRows,
      dim: this.dim,
      capacity: sw.capacity,
      regions: sw.regions,
    };
    calls.start(workerUrl(import.meta.url, './sweep-worker.js'), data);
    return calls;
  }

  /**
   * The batches of a pass, computed with `sw` (undefined: no n-gram rows), its sweeps run by
   * `worker` when given. With two regions and helpers or a worker, the sweep of the next window
   * runs while this window's batches go out. With a worker, the window after it is planned
   * meanwhile, sorting its pairs included, into arrays that go to the worker and come back.
   */
  private async *passBatches(opts: PassOptions, sw: RowSweeper | undefined, worker: WorkerCalls<WorkerAnswer> | undefined): AsyncGenerator<Batch> {
    const nwords = this.nwords;
    const cap = sw ? sw.capacity : Infinity;
    // a batch (with its companions) must fit one sweep
    const batchRows = Math.min(opts.batchRows ?? this.batchRows, Math.max(1, Math.floor(cap / 2)));
    const pipelined = !!sw && sw.regions === 2 && (sw.background || !!worker);
    const spare: SortedPairs[] = [];
    const plan = (w0: number): PassWindow => {
      const win = this.planWindow(w0, batchRows, cap, !!sw);
      if (worker && win.slots > 0) {
        const total = win.starts[win.slots]! - win.starts[0]!;
        // windows differ a little in size: room for 1/8 more before new arrays are needed
        const arrays = pairArraysFor(spare.pop(), total, 1.125);
        sw!.sortPairs(win.idx, win.starts, win.slots, arrays);
        win.sorted = { arrays, total };
        win.idx = NO_ROWS;
      }
      return win;
    };
    const sweepWindow = async (win: PassWindow, region: number, background: boolean): Promise<void> => {
      if (!sw || win.slots === 0) return;
      if (!worker) return sw.sweep(win.idx, win.starts, win.slots, region, background);
      const { arrays, total } = win.sorted!;
      win.sorted = undefined;
      const msg = { pr: arrays.pr, ps: arrays.ps, total, slots: win.slots, region };
      const back = (await worker.call(0, msg, [arrays.pr.buffer as ArrayBuffer, arrays.ps.buffer as ArrayBuffer])) as WorkerAnswer & SortedPairs;
      spare.push({ pr: back.pr, ps: back.ps });
      sw.backgroundSweeps++;
    };
    const vectorArrays = new BatchArrays(batchRows, this.dim);
    let cur: PassWindow | undefined = plan(0);
    let sweeping = sweepWindow(cur, 0, pipelined);
    sweeping.catch(() => undefined); // awaited in the loop; a failure surfaces there
    // with a worker, the window after the one being swept is planned (and sorted) meanwhile; with
    // helpers this thread reads the runs of the sweep, and a window planned ahead would only be held
    const ahead = !!worker;
    let next = ahead && cur.w1 < nwords ? plan(cur.w1) : undefined;
    let region = 0;
    while (cur) {
      await sweeping;
      const win: PassWindow = cur;
      const acc = sw?.acc(win.slots, region);
      if (pipelined) {
        cur = ahead ? next : win.w1 < nwords ? plan(win.w1) : undefined;
        if (cur) {
          region = 1 - region;
          sweeping = sweepWindow(cur, region, true);
          sweeping.catch(() => undefined); // awaited on the next round; a failure surfaces there
          if (ahead) next = cur.w1 < nwords ? plan(cur.w1) : undefined;
        }
      } else {
        cur = win.w1 < nwords ? plan(win.w1) : undefined;
      }
      yield* this.windowBatches(opts, win, acc, batchRows, vectorArrays);
      // one region: the next window is swept once this one's batches are out
      if (cur && !pipelined) sweeping = sweepWindow(cur, region, false);
    }
  }

  /** The batches of one swept window (`acc`: its sums; undefined: no n-gram rows). */
  private async *windowBatches(opts: PassOptions, win: PassWindow, acc: Float32Array | undefined, batchRows: number, vectorArrays: BatchArrays): AsyncGenerator<Batch> {
    const dim = this.dim;
    const nwords = this.nwords;
    const words = this.dictionary.words;
    const counts = this.dictionary.counts;
    const st = win.starts;
    for (let b0 = win.w0; b0 < win.w1; b0 += batchRows) {
      const n = Math.min(batchRows, win.w1 - b0);
      const o = b0 - win.w0;
      // own rows of the computed words, in runs
      const ids: number[] = [];
      for (let j = 0; j < n; j++) if (win.slotOf[o + j]! >= 0) ids.push(b0 + j);
      const vectors = ids.length > 0 ? vectorArrays.take(n, ids.length < n) : (vectorArrays.zeros ??= new Float32Array(batchRows * dim)).subarray(0, n * dim);
      await this.readWordRows(Int32Array.from(ids), (k, data, off) => vectors.set(data.subarray(off, off + dim), (ids[k]! - b0) * dim));
      let crows: CompanionRows | undefined;
      let ringSlot = -1;
      for (let j = 0; j < n; j++) {
        const s = win.slotOf[o + j]!;
        if (s < 0 || !acc) continue;
        const c = st[s + 1]! - st[s]!;
        if (c > 0) combine(vectors, j * dim, acc, s * dim, dim, 1 / (1 + c));
        const cs = win.compOf[o + j]!;
        if (cs === -1) continue;
        if (!crows) {
          ringSlot = this.companionNext;
          this.companionNext = (ringSlot + 1) % COMPANION_RING;
          crows = this.companionRows(ringSlot, n, batchRows);
        }
        const used = win.compUsed[o + j]!;
        crows.used[j] = used;
        // the mean over the rows added; zero rows count in the divisor
        const from = cs === -2 ? s : cs;
        const added = st[from + 1]! - st[from]!;
        if (used > 0 && added > 0) scaleInto(crows.vectors, j * dim, acc, from * dim, dim, 1 / used);
      }
      const batch: Batch = { start: b0, words: words.slice(b0, b0 + n), dim, vectors, counts: counts.slice(b0, b0 + n) };
      if (crows) {
        this.companionRing[ringSlot]!.owner = batch;
        this.companions.set(batch, { n, slot: ringSlot });
      }
      opts.onBytes?.(Math.round((this.source.size * (b0 + n)) / Math.max(1, nwords)));
      yield batch;
    }
  }

  /**
   * The window of a pass from word w0: whole batches whose slots fit one sweep (at least one
   * batch), with the n-gram rows of each slot (`withRows` false: no subwords, no rows).
   */
  private planWindow(w0: number, batchRows: number, cap: number, withRows: boolean): PassWindow {
    const nwords = this.nwords;
    const words = this.dictionary.words;
    const plan = this.passPlan;
    const need = plan?.need;
    const comp = plan?.companion;
    const idx = new IntList(4096);
    const mapped = new IntList(256);
    const batchIdx = new IntList(256);
    const starts = new IntList(1024);
    const slotOf = new IntList(1024);
    const compOf = new IntList(1024);
    const compUsed = new IntList(1024);
    starts.push(0);
    let w1 = w0;
    while (w1 < nwords) {
      const n = Math.min(batchRows, nwords - w1);
      let bSlots = 0;
      batchIdx.clear();
      const bStarts: number[] = [];
      const bSlot: number[] = [];
      const bComp: number[] = [];
      const bUsed: number[] = [];
      for (let j = 0; j < n; j++) {
        const id = w1 + j;
        if (need && !need[id]) {
          bSlot.push(-1);
          bComp.push(-1);
          bUsed.push(-1);
          continue;
        }
        const before = batchIdx.length;
        if (withRows) this.indexer.pushIndices(words[id]!, batchIdx);
        bStarts.push(batchIdx.length);
        bSlot.push(bSlots++);
        if (!comp || (comp.words && !comp.words[id]) || !withRows) {
          bComp.push(-1);
          bUsed.push(-1);
          continue;
        }
        if (comp.identity) {
          bUsed.push(batchIdx.length - before);
          bComp.push(-2);
          continue;
        }
        // Companion rows: the word's rows through the map; its own sum when unchanged.
        mapped.clear();
        let c = 0;
        let same = true;
        for (let k = before; k < batchIdx.length; k++) {
          const r = batchIdx.data[k]!;
          const m = comp.map[r]!;
          if (m !== r) same = false;
          if (m >= 0) {
            mapped.push(m);
            c++;
          } else if (m === COMPANION_ZERO) c++;
        }
        bUsed.push(c);
        if (same) {
          bComp.push(-2);
          continue;
        }
        for (let k = 0; k < mapped.length; k++) batchIdx.push(mapped.data[k]!);
        bStarts.push(batchIdx.length);
        bComp.push(bSlots++);
      }
      if (w1 > w0 && starts.length - 1 + bSlots > cap) break;
      // append the batch to the window
      const base = starts.length - 1;
      const off = idx.length;
      for (let k = 0; k < batchIdx.length; k++) idx.push(batchIdx.data[k]!);
      for (const e of bStarts) starts.push(off + e);
      for (let j = 0; j < n; j++) {
        slotOf.push(bSlot[j]! >= 0 ? base + bSlot[j]! : -1);
        compOf.push(bComp[j]! >= 0 ? base + bComp[j]! : bComp[j]!);
        compUsed.push(bUsed[j]!);
      }
      w1 += n;
      if (starts.length - 1 >= cap) break;
    }
    return {
      w0,
      w1,
      slots: starts.length - 1,
      // a copy of the rows' length: the list's spare capacity (up to as much again) is not held
      idx: idx.data.slice(0, idx.length),
      starts: starts.data.slice(0, starts.length),
      slotOf: slotOf.data,
      compOf: compOf.data,
      compUsed: compUsed.data,
    };
  }

  /**
   * Drops the lookup sweeper (made again on the next use) when it is large: its memory keeps the
   * pages the largest sweep so far touched, and small sweeps (lookups of a few thousand words)
   * reuse it.
   */
  private async releaseSweeper(): Promise<void> {
    const sw = this.sweeper;
    if (sw && sw.bytes > SWEEPER_KEEP_BYTES) {
      this.sweeper = undefined;
      await sw.close();
    }
  }
}

/** FNV-1a over the char codes of a byte string (one byte per char). */
function hashWord(w: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
  return (h ^ (h >>> 15)) >>> 0;
}

/** v[o .. o + dim) = fl(v + sum[so ..]) x fl(f): a known word's row plus its n-gram sum, scaled. */
function combine(v: Float32Array, o: number, sum: Float32Array, so: number, dim: number, f: number): void {
  const s = Math.fround(f);
  for (let d = 0; d < dim; d++) v[o + d] = Math.fround(v[o + d]! + sum[so + d]!) * s;
}

/** v[o .. o + dim) = sum[so ..] x fl(f) (as fastText's Vector::mul). */
function scaleInto(v: Float32Array, o: number, sum: Float32Array, so: number, dim: number, f: number): void {
  const s = Math.fround(f);
  for (let d = 0; d < dim; d++) v[o + d] = sum[so + d]! * s;
}

function describeMatrix(m: MatrixLayout): string {
  if (m.kind === 'dense') return `dense ${m.rows} x ${m.cols} at byte ${m.offset}`;
  return `quantized ${m.rows} x ${m.cols} at byte ${m.offset} (${m.pq.nsubq} sub-quantizers of ${m.pq.dsub} dims${m.qnorm ? ', norms quantized' : ''})`;
}
