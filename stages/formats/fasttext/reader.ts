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
 * Memory: the n-gram rows ("bucket rows") are held in memory, decoded as float32, only when they
 * fit `memoryBytes` (default 512 MiB). Otherwise a pass computes word vectors in windows: the
 * window's word rows are accumulators (at most memoryBytes / 2), the n-gram rows the window needs
 * are read once each, in ascending order, in coalesced ranges, and added to every word using them.
 */
import type { Batch } from '../../../pipeline/batch.js';
import { DEFAULT_BATCH_ROWS } from '../../../pipeline/batch.js';
import type { ModelInfo, ModelReader, PassOptions, SubwordRows } from '../../../pipeline/model.js';
import type { Source } from '../../../pipeline/source.js';
import { fromAsync, type Stream } from '../../../pipeline/stream.js';
import { Cursor, RowFile } from './cursor.js';
import { readDenseLayout, readDenseRows, type DenseLayout } from './dense.js';
import { readDictionary, type FastTextDictionary } from './dictionary.js';
import { LOSS_NAMES, MODEL_NAMES, readHeader, type FastTextHeader } from './header.js';
import { FastTextBinIndexer, IntList } from './indexer.js';
import { readQuantLayout, readQuantRows, type QuantLayout } from './quantized.js';

export const DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024;
/** Largest single read of n-gram rows. */
const READ_CHUNK_BYTES = 8 * 1024 * 1024;
/** Gaps between needed rows shorter than this are read through rather than seeked over. */
const GAP_BYTES = 64 * 1024;

export interface FastTextOptions {
  /** Rows per batch of a pass (default 2048). */
  batchRows?: number;
  /** Memory the n-gram rows (and a pass's accumulators) may take, in bytes (default 512 MiB). */
  memoryBytes?: number;
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
type RowReader = (start: number, count: number, out?: Float32Array, outOffset?: number) => Promise<Float32Array>;

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
  private readonly readRows: RowReader;
  /** All n-gram rows, decoded, once loaded (only when they fit memoryBytes). */
  private table?: Float32Array;
  private tableLoading?: Promise<Float32Array | undefined>;
  private wordIds?: Map<string, number>;
  private readonly file: RowFile;

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
    const file = (this.file = new RowFile(source));
    this.readRows =
      input.kind === 'dense'
        ? (s, n, out, o) => readDenseRows(file, input, s, n, 'input matrix', out, o)
        : (s, n, out, o) => readQuantRows(file, input, s, n, 'input matrix', out, o);
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
    await this.file.close();
  }

  /**
   * Dictionary index of a word (byte string), or -1. Builds a word -> index map on first use
   * (about 50-100 bytes per word). A word listed twice (never written by fastText) resolves to its
   * last entry, as fastText's own lookup table does.
   */
  wordId(word: string): number {
    if (!this.wordIds) {
      const m = new Map<string, number>();
      const w = this.dictionary.words;
      for (let i = 0; i < this.nwords; i++) m.set(w[i]!, i);
      this.wordIds = m;
    }
    return this.wordIds.get(word) ?? -1;
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

  /** Vectors of several words, words.length x dim; one sorted read of the rows they need. */
  async vectorsFor(words: readonly string[]): Promise<Float32Array> {
    const dim = this.dim;
    const out = new Float32Array(words.length * dim);
    const ids = words.map((w) => this.wordId(w));
    const idx = new IntList();
    const starts = new Int32Array(words.length + 1);
    for (let i = 0; i < words.length; i++) {
      this.indexer.pushIndices(words[i]!, idx);
      starts[i + 1] = idx.length;
    }
    // Known words start from their own row.
    const known = ids.map((id, i) => [id, i] as const).filter(([id]) => id >= 0).sort((a, b) => a[0] - b[0]);
    for (const [id, i] of known) await this.readRows(id, 1, out, i * dim);
    // The n-gram rows needed, once each.
    const unique = Int32Array.from(new Set(idx.data.subarray(0, idx.length))).sort();
    const rows = new Float32Array(unique.length * dim);
    await this.fetchRows(unique, (u, src, off) => rows.set(src.subarray(off, off + dim), u * dim));
    const pos = new Map<number, number>();
    for (let u = 0; u < unique.length; u++) pos.set(unique[u]!, u);
    for (let i = 0; i < words.length; i++) {
      const list = sortSmall(idx.data.slice(starts[i]!, starts[i + 1]!));
      const o = i * dim;
      for (let k = 0; k < list.length; k++) {
        const r = pos.get(list[k]!)! * dim;
        for (let d = 0; d < dim; d++) out[o + d]! += rows[r + d]!;
      }
      const n = list.length + (ids[i]! >= 0 ? 1 : 0);
      if (n > 0) scale(out, o, dim, 1 / n);
    }
    return out;
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
   * Calls fn(u, rows, offset) for each n-gram row `sorted[u]` (ascending, distinct), with the row's
   * floats at rows[offset .. offset + dim). Reads coalesced ranges of the file unless resident.
   */
  private async fetchRows(sorted: Int32Array, fn: (u: number, rows: Float32Array, offset: number) => void): Promise<void> {
    const dim = this.dim;
    if (this.table) {
      for (let u = 0; u < sorted.length; u++) fn(u, this.table, sorted[u]! * dim);
      return;
    }
    const rowBytes = this.quantized ? (this.layout.input as QuantLayout).pq.nsubq : dim * 4;
    const gap = Math.max(1, Math.floor(GAP_BYTES / rowBytes));
    const maxRows = Math.max(1, Math.floor(READ_CHUNK_BYTES / Math.max(rowBytes, dim * 4)));
    let buf = new Float32Array(0);
    let u = 0;
    while (u < sorted.length) {
      const a = sorted[u]!;
      let v = u + 1;
      while (v < sorted.length && sorted[v]! - sorted[v - 1]! <= gap && sorted[v]! - a < maxRows) v++;
      const count = sorted[v - 1]! - a + 1;
      if (buf.length < count * dim) buf = new Float32Array(count * dim);
      await this.readRows(this.nwords + a, count, buf, 0);
      for (let k = u; k < v; k++) fn(k, buf, (sorted[k]! - a) * dim);
      u = v;
    }
  }

  private async *batches(opts: PassOptions): AsyncGenerator<Batch> {
    const dim = this.dim;
    const nwords = this.nwords;
    const batchRows = opts.batchRows ?? this.batchRows;
    const words = this.dictionary.words;
    const counts = this.dictionary.counts;
    const table = this.indexer.active ? await this.loadTable() : undefined;
    const streaming = this.indexer.active && !table;
    // Window: words whose vectors are computed together (one read of the n-gram rows they need).
    let windowRows = batchRows;
    if (streaming) {
      const fit = Math.floor(this.memoryBytes / 2 / (dim * 4));
      windowRows = Math.max(batchRows, Math.floor(fit / batchRows) * batchRows);
    }
    const idx = new IntList(windowRows * 16);
    let slot: Int32Array | undefined;
    for (let w0 = 0; w0 < nwords; w0 += windowRows) {
      const W = Math.min(windowRows, nwords - w0);
      // Batches of this window, filled with the word rows.
      const out: Batch[] = [];
      for (let b = 0; b < W; b += batchRows) {
        const n = Math.min(batchRows, W - b);
        const s = w0 + b;
        const vectors = new Float32Array(n * dim);
        await this.readRows(s, n, vectors, 0);
        out.push({ start: s, words: words.slice(s, s + n), dim, vectors, counts: counts.slice(s, s + n) });
      }
      if (this.indexer.active) {
        // n-gram rows of every word of the window.
        idx.clear();
        const starts = new Int32Array(W + 1);
        for (let j = 0; j < W; j++) {
          this.indexer.pushIndices(words[w0 + j]!, idx);
          starts[j + 1] = idx.length;
        }
        if (table) {
          for (let j = 0; j < W; j++) {
            const list = sortSmall(idx.data.subarray(starts[j]!, starts[j + 1]!));
            addListedRows(out[Math.floor(j / batchRows)]!.vectors, (j % batchRows) * dim, table, list, dim);
          }
        } else {
          // Counting sort of (row, word) pairs by row: each word meets its rows in ascending order.
          slot ??= new Int32Array(this.tableRows + 1);
          slot.fill(0);
          const total = idx.length;
          for (let k = 0; k < total; k++) slot[idx.data[k]! + 1]!++;
          const used: number[] = [];
          for (let r = 0; r < this.tableRows; r++) {
            if (slot[r + 1]! > 0) used.push(r);
            slot[r + 1]! += slot[r]!;
          }
          const pairWord = new Int32Array(total);
          const fill = slot.slice(0, this.tableRows);
          for (let j = 0; j < W; j++) {
            for (let k = starts[j]!; k < starts[j + 1]!; k++) pairWord[fill[idx.data[k]!]!++] = j;
          }
          const vectors = out.map((b) => b.vectors);
          const bounds = slot;
          await this.fetchRows(Int32Array.from(used), (u, src, off) => {
            const r = used[u]!;
            addRowToWords(vectors, batchRows, dim, src, off, pairWord, bounds[r]!, bounds[r + 1]!);
          });
        }
        for (let j = 0; j < W; j++) {
          const n = starts[j + 1]! - starts[j]!;
          if (n > 0) scale(out[Math.floor(j / batchRows)]!.vectors, (j % batchRows) * dim, dim, 1 / (1 + n));
        }
      }
      for (const b of out) {
        opts.onBytes?.(Math.round((this.source.size * (b.start + b.words.length)) / Math.max(1, nwords)));
        yield b;
      }
    }
  }
}

/** Sorts a word's n-gram rows in place (insertion sort: lists are short). Cost: O(n^2), n ~ 20-60. */
function sortSmall(a: Int32Array): Int32Array {
  if (a.length > 64) return a.sort();
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
  return a;
}

/** v[o .. o + dim) += the rows of `table` listed in `list`, in list order. Cost: list.length x dim. */
function addListedRows(v: Float32Array, o: number, table: Float32Array, list: Int32Array, dim: number): void {
  const n = list.length;
  const d4 = dim & ~3;
  for (let k = 0; k < n; k++) {
    const r = list[k]! * dim;
    let d = 0;
    for (; d < d4; d += 4) {
      v[o + d]! += table[r + d]!;
      v[o + d + 1]! += table[r + d + 1]!;
      v[o + d + 2]! += table[r + d + 2]!;
      v[o + d + 3]! += table[r + d + 3]!;
    }
    for (; d < dim; d++) v[o + d]! += table[r + d]!;
  }
}

/** Adds src[off .. off + dim) to the accumulators of words pairWord[p0 .. p1). Cost: (p1 - p0) x dim. */
function addRowToWords(
  vectors: Float32Array[],
  batchRows: number,
  dim: number,
  src: Float32Array,
  off: number,
  pairWord: Int32Array,
  p0: number,
  p1: number,
): void {
  for (let p = p0; p < p1; p++) {
    const j = pairWord[p]!;
    const v = vectors[Math.floor(j / batchRows)]!;
    const o = (j % batchRows) * dim;
    for (let d = 0; d < dim; d++) v[o + d]! += src[off + d]!;
  }
}

/** v[o .. o + dim) *= float32(f), as fastText's Vector::mul. */
function scale(v: Float32Array, o: number, dim: number, f: number): void {
  const s = Math.fround(f);
  for (let d = 0; d < dim; d++) v[o + d]! *= s;
}

function describeMatrix(m: MatrixLayout): string {
  if (m.kind === 'dense') return `dense ${m.rows} x ${m.cols} at byte ${m.offset}`;
  return `quantized ${m.rows} x ${m.cols} at byte ${m.offset} (${m.pq.nsubq} sub-quantizers of ${m.pq.dsub} dims${m.qnorm ? ', norms quantized' : ''})`;
}
