/**
 * Writing finalfusion files that the stock finalfusion readers load. Chunk order is the one they
 * read: Metadata (first, or they ignore it), the vocabulary, NdArray, NdNorms.
 *
 *   FifuWriter          unpruned, streaming: SimpleVocab + NdArray (+ NdNorms, + Metadata); rows are
 *                       written as they arrive. With the word list given up front the file is written
 *                       front to back; without it, words arrive with their rows and the head of the
 *                       file is put in front at the end (a file copy; not possible on standard output).
 *   writePrunedFifu     pruned, no subwords: kept words are the vocabulary and every pruned word is
 *                       the n-gram `<word>` of an ExplicitSubwordVocab pointing at its kept row.
 *   writePrunedSubwordFifu  pruned subword model: kept words + an explicit table of the used n-grams.
 *
 * Word rows are stored unit-length (normalised with finalfusion's own f32 arithmetic, see f32.ts)
 * and their norms go to NdNorms, as finalfusion does. The caller owns the OutputFile: it opens it,
 * and commits it after `end` (or aborts it on failure).
 *
 * With a `quantizer` (see quantized.ts) every writer stores a QuantizedArray instead of the
 * NdArray: the storage rows (the same rows, in the same order) are gathered in memory and handed
 * to the quantizer once all are known; the file is then written front to back.
 */
import { OutputError } from '../../../pipeline/errors.js';
import type { OutputFile } from '../../../pipeline/output.js';
import { canonicalWord, charLength } from '../../subwords/ngrams.js';
import { f32Bytes } from './bytes.js';
import { encodeExplicitVocab } from './explicit-vocab.js';
import { ffNormalize } from './f32.js';
import { ChunkId, encodeHeader } from './header.js';
import { encodeQuantizedArray, type QuantizedArrayData, type RowQuantizer } from './quantized.js';
import { encodeMetadata } from './metadata.js';
import { encodeNdArrayPrefix } from './ndarray.js';
import { encodeNorms } from './norms.js';
import { encodeSimpleVocab } from './simple-vocab.js';

/**
 * Words that are not valid UTF-8: 'replace' (default) turns each invalid sequence into U+FFFD, as
 * finalfusion's own converters do (stock readers refuse a file with invalid UTF-8 strings);
 * 'keep' stores the bytes as they are (byte-exact, but only this project's reader loads the file).
 */
export type Utf8Policy = 'replace' | 'keep';

function converter(policy: Utf8Policy = 'replace'): (w: string) => string {
  if (policy !== 'replace' && policy !== 'keep') throw new Error(`utf8 policy must be 'replace' or 'keep', got ${String(policy)}`);
  return policy === 'keep' ? (w) => w : canonicalWord;
}

/**
 * Header + optional Metadata + vocabulary + NdArray prefix; returns the bytes and where row 0 lands.
 * With `storage`, the whole QuantizedArray chunk instead of the NdArray prefix (dataStart: its end).
 */
function filePrefix(
  metadata: string | undefined,
  vocabChunk: Buffer,
  vocabId: number,
  rows: number,
  dim: number,
  withNorms: boolean,
  storage?: QuantizedArrayData,
): { prefix: Buffer; dataStart: number } {
  const ids: number[] = [];
  if (metadata !== undefined) ids.push(ChunkId.Metadata);
  ids.push(vocabId, storage ? ChunkId.QuantizedArray : ChunkId.NdArray);
  if (withNorms) ids.push(ChunkId.NdNorms);
  const parts: Buffer[] = [encodeHeader(ids)];
  if (metadata !== undefined) parts.push(encodeMetadata(metadata));
  parts.push(vocabChunk);
  const arrayOffset = parts.reduce((s, p) => s + p.length, 0);
  if (storage) {
    if (storage.rows !== rows || storage.cols !== dim) throw new Error(`the quantizer returned ${storage.rows} x ${storage.cols} for ${rows} x ${dim} rows`);
    parts.push(encodeQuantizedArray(arrayOffset, storage));
  } else parts.push(encodeNdArrayPrefix(arrayOffset, rows, dim));
  const prefix = Buffer.concat(parts);
  return { prefix, dataStart: prefix.length };
}

export interface FifuWriterOptions {
  /** Vector width. */
  dim: number;
  /**
   * Words (byte strings) in row order, when known before the rows: the file is then written front
   * to back. Without them, pass each batch's words to `writeRows`.
   */
  words?: readonly string[];
  /** TOML text of a Metadata chunk (see toToml); may also be given (or replaced) at `end`. */
  metadata?: string;
  /**
   * Rows arrive unit-length already (e.g. read from a finalfusion file): they are stored as given
   * and the norms come with `end`. Default false: rows are normalised here and their norms kept.
   */
  normalized?: boolean;
  /** Write an NdNorms chunk (default true). */
  norms?: boolean;
  utf8?: Utf8Policy;
  /** Store a QuantizedArray made by this function from the stored rows (rows are held until `end`). */
  quantizer?: RowQuantizer;
}

export interface FifuWriteResult {
  /** Bytes in the file. */
  bytes: number;
  /** Word rows written. */
  rows: number;
  /** Input words left out because an earlier word is the same (after the UTF-8 policy). */
  dropped: string[];
}

/** Streaming writer of an unpruned finalfusion file. */
export class FifuWriter {
  private words: string[] = [];
  private keep: Uint8Array | undefined;
  private seen = new Set<string>();
  private inRows = 0;
  private outRows = 0;
  private norms: Float32Array;
  private prefixLength = 0;
  private dataStart = 0;
  private readonly dropped: string[] = [];
  private readonly convert: (w: string) => string;
  private ended = false;
  /** Stored rows gathered for the quantizer. */
  private held: Float32Array | undefined;

  private constructor(
    private readonly out: OutputFile,
    private readonly opts: FifuWriterOptions,
  ) {
    this.convert = converter(opts.utf8);
    this.norms = new Float32Array(opts.words ? opts.words.length : 1024);
  }

  /** Starts a file; with `opts.words` the head of the file is written at once. */
  static async begin(out: OutputFile, opts: FifuWriterOptions): Promise<FifuWriter> {
    if (!Number.isInteger(opts.dim) || opts.dim < 1) throw new Error(`dim must be a positive integer, got ${opts.dim}`);
    const w = new FifuWriter(out, opts);
    if (opts.quantizer) w.held = new Float32Array(opts.dim * (opts.words ? Math.max(1, opts.words.length) : 1024));
    if (opts.words) {
      w.keep = new Uint8Array(opts.words.length);
      for (let i = 0; i < opts.words.length; i++) w.keep[i] = w.admit(opts.words[i]!) ? 1 : 0;
      if (opts.quantizer) return w; // everything is written at `end`
      const { prefix, dataStart } = w.prefix();
      w.prefixLength = prefix.length;
      w.dataStart = dataStart;
      await out.put(prefix);
    } else if (out.target === '-' && !opts.quantizer) {
      throw new OutputError('writing finalfusion to standard output needs the word list before the rows', { file: 'standard output' });
    }
    return w;
  }

  private admit(word: string): boolean {
    const c = this.convert(word);
    if (this.seen.has(c)) {
      this.dropped.push(word);
      return false;
    }
    this.seen.add(c);
    this.words.push(c);
    return true;
  }

  /** Word rows written so far (duplicates dropped). */
  get rows(): number {
    return this.outRows;
  }

  private withNorms(): boolean {
    return this.opts.norms !== false;
  }

  private prefix(metadata = this.opts.metadata): { prefix: Buffer; dataStart: number } {
    return filePrefix(metadata, encodeSimpleVocab(this.words), ChunkId.SimpleVocab, this.words.length, this.opts.dim, this.withNorms());
  }

  /**
   * Appends rows (row-major, dim wide). With no word list at `begin`, `words` gives one word per
   * row. The caller's array is not modified.
   */
  async writeRows(vectors: Float32Array, words?: readonly string[]): Promise<void> {
    if (this.ended) throw new Error('writeRows after end');
    const dim = this.opts.dim;
    const n = Math.floor(vectors.length / dim);
    if (n * dim !== vectors.length) throw new Error(`got ${vectors.length} values, not a whole number of ${dim}-wide rows`);
    if (!this.keep && (!words || words.length !== n)) throw new Error('writeRows needs one word per row when the word list was not given to begin');
    if (this.keep && this.inRows + n > this.keep.length) throw new Error(`more rows than the ${this.keep.length} words given to begin`);
    const rows = new Float32Array(n * dim);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const ok = this.keep ? this.keep[this.inRows + i] === 1 : this.admit(words![i]!);
      if (!ok) continue;
      rows.set(vectors.subarray(i * dim, (i + 1) * dim), k * dim);
      if (!this.opts.normalized) {
        if (this.outRows + k >= this.norms.length) {
          const grown = new Float32Array(this.norms.length * 2);
          grown.set(this.norms);
          this.norms = grown;
        }
        this.norms[this.outRows + k] = ffNormalize(rows, k * dim, dim);
      }
      k++;
    }
    this.inRows += n;
    if (this.held) {
      if ((this.outRows + k) * dim > this.held.length) {
        const grown = new Float32Array(Math.max(this.held.length * 2, (this.outRows + k) * dim));
        grown.set(this.held);
        this.held = grown;
      }
      this.held.set(rows.subarray(0, k * dim), this.outRows * dim);
    } else if (k) await this.out.put(f32Bytes(rows.subarray(0, k * dim)));
    this.outRows += k;
  }

  /**
   * Writes NdNorms and finishes the file (the caller then commits the OutputFile). `norms` (one per
   * written row) is required when the rows came normalised. `metadata` given here replaces the
   * one given to `begin`; when the head was already written that rewrites it (a file copy).
   */
  async end(opts: { norms?: Float32Array; metadata?: string } = {}): Promise<FifuWriteResult> {
    if (this.ended) throw new Error('end called twice');
    this.ended = true;
    if (this.keep && this.inRows !== this.keep.length) throw new Error(`${this.inRows} rows written for ${this.keep.length} words`);
    let norms: Float32Array | undefined;
    if (this.withNorms()) {
      if (this.opts.normalized) {
        if (!opts.norms) throw new Error('rows were given normalised: end needs their norms (or begin with norms: false)');
        if (opts.norms.length !== this.outRows) throw new Error(`${opts.norms.length} norms for ${this.outRows} rows`);
        norms = opts.norms;
      } else norms = this.norms.subarray(0, this.outRows);
    }
    const metadata = opts.metadata ?? this.opts.metadata;
    if (this.held) {
      const dim = this.opts.dim;
      const storage = await this.opts.quantizer!(this.held.subarray(0, this.outRows * dim), this.outRows, dim);
      const { prefix } = filePrefix(metadata, encodeSimpleVocab(this.words), ChunkId.SimpleVocab, this.words.length, dim, !!norms, storage);
      this.held = undefined;
      await this.out.put(prefix);
      let total = prefix.length;
      if (norms) {
        const chunk = encodeNorms(total, norms);
        total += chunk.length;
        await this.out.put(chunk);
      }
      await this.out.flush();
      return { bytes: total, rows: this.outRows, dropped: this.dropped };
    }
    const rewrite = !this.keep || opts.metadata !== undefined;
    const head = rewrite ? this.prefix(metadata) : { prefix: undefined, dataStart: this.dataStart };
    const normsAt = head.dataStart + this.outRows * this.opts.dim * 4;
    let total = normsAt;
    if (norms) {
      const chunk = encodeNorms(normsAt, norms);
      total += chunk.length;
      await this.out.put(chunk);
    }
    if (head.prefix) await this.out.replacePrefix(this.keep ? this.prefixLength : 0, head.prefix);
    await this.out.flush();
    return { bytes: total, rows: this.outRows, dropped: this.dropped };
  }
}

/**
 * Adapter with the row-writer shape of the serialize stage (begin(rows, dim) / writeRows(words,
 * vectors, dim, rowIndex?) / end(dim) / written), for convert and the expanded layout: every word
 * gets a row; `rowIndex[i]` picks word i's row from `vectors` when given.
 */
export class FifuRowWriter {
  private w: FifuWriter | undefined;
  result: FifuWriteResult | undefined;
  constructor(
    readonly out: OutputFile,
    readonly opts: Omit<FifuWriterOptions, 'dim' | 'words'> = {},
  ) {}

  async begin(_rows: number, dim: number): Promise<void> {
    this.w = await FifuWriter.begin(this.out, { ...this.opts, dim });
  }

  async writeRows(words: readonly string[], vectors: Float32Array, dim: number, rowIndex?: Int32Array): Promise<void> {
    let v = vectors;
    if (rowIndex) {
      v = new Float32Array(words.length * dim);
      for (let i = 0; i < words.length; i++) v.set(vectors.subarray(rowIndex[i]! * dim, (rowIndex[i]! + 1) * dim), i * dim);
    }
    await this.w!.writeRows(v.subarray(0, words.length * dim), words);
  }

  async end(_dim: number): Promise<void> {
    this.result = await this.w!.end();
  }

  /** Rows written (later duplicates are dropped). */
  get written(): number {
    return this.w?.rows ?? 0;
  }
}

/** Layout of a pruned model without subwords; see docs/finalfusion.md. */
export type PrunedLayout = 'duplicate' | 'ngrams-only';

export interface PrunedFifuInput {
  dim: number;
  /**
   * Label of each kept row: its word (byte string), or null for a row that is not a word (e.g. a
   * k-means centroid), which is then only reachable through the words mapped to it.
   */
  labels: readonly (string | null)[];
  /** Kept rows, labels.length x dim, as in the source (normalised here unless `normalized`). */
  vectors: Float32Array;
  /** Pruned words (byte strings) and the kept row each maps to. */
  pruned: readonly string[];
  prunedRows: ArrayLike<number>;
  /** TOML text of the Metadata chunk. */
  metadata?: string;
  /**
   * 'duplicate' (default): kept words are the word list, n-gram rows repeat the kept rows that
   * pruned words point to. 'ngrams-only': empty word list, every word (kept or pruned) is an
   * n-gram entry, each kept row stored once.
   */
  layout?: PrunedLayout;
  /** Kept rows are unit-length already; `norms` then gives their norms. */
  normalized?: boolean;
  norms?: Float32Array;
  utf8?: Utf8Policy;
  /** Store a QuantizedArray made by this function from the storage rows. */
  quantizer?: RowQuantizer;
}

export interface PrunedFifuResult extends FifuWriteResult {
  /** Entries in the n-gram table. */
  ngrams: number;
  /** Rows after the word rows (distinct n-gram rows). */
  ngramRows: number;
  minN: number;
  maxN: number;
  /** Pruned words left out: the same as a kept word or as an earlier pruned word. */
  skipped: string[];
  /**
   * Words whose stock lookup also adds other entries' rows (their text contains `<q>` for another
   * stored word q mapped to a different row), so it does not give exactly their kept row.
   */
  conflicts: { word: string; others: string[] }[];
}

/** Kept rows normalised (copy) and their norms. */
function unitRows(input: { vectors: Float32Array; dim: number; normalized?: boolean; norms?: Float32Array }, rows: number): { unit: Float32Array; norms: Float32Array } {
  const { dim } = input;
  if (input.vectors.length < rows * dim) throw new Error(`${input.vectors.length} values for ${rows} rows of ${dim}`);
  if (input.normalized) {
    if (!input.norms || input.norms.length < rows) throw new Error('normalized rows need their norms');
    return { unit: input.vectors, norms: input.norms };
  }
  const unit = input.vectors.slice(0, rows * dim);
  const norms = new Float32Array(rows);
  for (let r = 0; r < rows; r++) norms[r] = ffNormalize(unit, r * dim, dim);
  return { unit, norms };
}

/** Duplicate words after the UTF-8 policy make a file stock readers refuse: say so. */
function duplicateError(out: OutputFile, what: string, a: string, b: string): OutputError {
  return new OutputError(
    `${what} ${JSON.stringify(Buffer.from(a, 'latin1').toString('utf8'))} and ${JSON.stringify(Buffer.from(b, 'latin1').toString('utf8'))} become the same word once invalid UTF-8 is replaced; use the 'keep' UTF-8 policy or drop one`,
    { file: out.target },
  );
}

/**
 * Checks which entries' stock lookups pick up other entries: for an entry `<p>` whose p holds '<'
 * or '>', every proper substring running from a '<' to a '>' with a length in min_n..max_n is also
 * one of p's n-grams. Cost: O(L^2) per such word, nothing for the others.
 */
function findConflicts(entries: readonly string[], rows: ArrayLike<number>, table: Map<string, number>, minN: number, maxN: number, inner: (e: string) => string): { word: string; others: string[] }[] {
  const out: { word: string; others: string[] }[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!/[<>]/.test(e.slice(1, -1))) continue;
    const others = new Set<string>();
    // char start offsets of the entry (UTF-8 byte string)
    const starts: number[] = [];
    for (let k = 0; k < e.length; k++) if ((e.charCodeAt(k) & 0xc0) !== 0x80) starts.push(k);
    starts.push(e.length);
    const chars = starts.length - 1;
    for (let s = 0; s < chars; s++) {
      if (e[starts[s]!] !== '<') continue;
      for (let t = s + 1; t < chars; t++) {
        const n = t - s + 1;
        if (n > maxN) break;
        if (n < minN || e[starts[t]!] !== '>' || (s === 0 && t === chars - 1)) continue;
        const g = e.slice(starts[s]!, starts[t + 1]!);
        const r = table.get(g);
        if (r !== undefined && r !== rows[i]) others.add(inner(g));
      }
    }
    if (others.size) out.push({ word: inner(e), others: [...others] });
  }
  return out;
}

async function writeExplicitFile(
  out: OutputFile,
  p: { metadata?: string; words: string[]; ngrams: string[]; ngramRows: Int32Array; minN: number; maxN: number; dim: number; wordNorms?: Float32Array; quantizer?: RowQuantizer },
  rows: (emit: (block: Float32Array) => Promise<void>) => Promise<number>,
): Promise<number> {
  const vocab = encodeExplicitVocab(p.words, p.ngrams, p.ngramRows, p.minN, p.maxN);
  let distinct = 0;
  for (let i = 0; i < p.ngramRows.length; i++) distinct = Math.max(distinct, p.ngramRows[i]! + 1);
  const total = p.words.length + distinct;
  if (p.quantizer) {
    const all = new Float32Array(total * p.dim);
    let at = 0;
    const written = await rows(async (block) => {
      if (at + block.length > all.length) throw new Error(`more rows than the ${total} the vocabulary needs`);
      all.set(block, at);
      at += block.length;
    });
    if (written !== total || at !== all.length) throw new Error(`wrote ${written} rows, the vocabulary needs ${total}`);
    const storage = await p.quantizer(all, total, p.dim);
    const { prefix } = filePrefix(p.metadata, vocab, ChunkId.ExplicitSubwordVocab, total, p.dim, !!p.wordNorms, storage);
    await out.put(prefix);
    let bytes = prefix.length;
    if (p.wordNorms) {
      const chunk = encodeNorms(bytes, p.wordNorms);
      bytes += chunk.length;
      await out.put(chunk);
    }
    await out.flush();
    return bytes;
  }
  const { prefix, dataStart } = filePrefix(p.metadata, vocab, ChunkId.ExplicitSubwordVocab, total, p.dim, !!p.wordNorms);
  await out.put(prefix);
  const written = await rows(async (block) => out.put(f32Bytes(block)));
  if (written !== total) throw new Error(`wrote ${written} rows, the vocabulary needs ${total}`);
  let bytes = dataStart + total * p.dim * 4;
  if (p.wordNorms) {
    const chunk = encodeNorms(bytes, p.wordNorms);
    bytes += chunk.length;
    await out.put(chunk);
  }
  await out.flush();
  return bytes;
}

/**
 * Writes a pruned model without subwords (see docs/finalfusion.md for the layout): a stock
 * finalfusion reader returns each kept word's unit row for the kept word, the same vector (bit for
 * bit, unless the rows came normalised) for every pruned word mapped to it, and nothing for other
 * words (except those containing a stored `<word>`, see `conflicts`).
 */
export async function writePrunedFifu(out: OutputFile, input: PrunedFifuInput): Promise<PrunedFifuResult> {
  const { dim } = input;
  const layout = input.layout ?? 'duplicate';
  if (layout !== 'duplicate' && layout !== 'ngrams-only') throw new Error(`layout must be 'duplicate' or 'ngrams-only', got ${String(layout)}`);
  const convert = converter(input.utf8);
  const kept = input.labels.length;
  if (input.pruned.length !== input.prunedRows.length) throw new Error('pruned words and prunedRows differ in length');
  const { unit, norms } = unitRows(input, kept);

  // Word list (duplicate layout) and the set of all kept words.
  const keptWords = new Map<string, number>();
  for (let r = 0; r < kept; r++) {
    const l = input.labels[r];
    if (l === null || l === undefined) continue;
    const c = convert(l);
    const prev = keptWords.get(c);
    if (prev !== undefined) throw duplicateError(out, 'kept words', input.labels[prev]!, l);
    keptWords.set(c, r);
  }

  // N-gram entries: `<word>` -> kept row; n-gram rows numbered by first appearance.
  const entries: string[] = [];
  const entryKept: number[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  if (layout === 'ngrams-only') {
    for (const [w, r] of keptWords) {
      entries.push('<' + w + '>');
      entryKept.push(r);
      seen.add(w);
    }
  }
  for (let i = 0; i < input.pruned.length; i++) {
    const t = input.prunedRows[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= kept) throw new Error(`pruned word ${i} maps to row ${t}, outside the ${kept} kept rows`);
    const c = convert(input.pruned[i]!);
    if (keptWords.has(c) || seen.has(c)) {
      skipped.push(input.pruned[i]!);
      continue;
    }
    seen.add(c);
    entries.push('<' + c + '>');
    entryKept.push(t);
  }
  const renumber = new Map<number, number>();
  const ngramRows = new Int32Array(entries.length);
  const subwordKept: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    let r = renumber.get(entryKept[i]!);
    if (r === undefined) {
      r = renumber.size;
      renumber.set(entryKept[i]!, r);
      subwordKept.push(entryKept[i]!);
    }
    ngramRows[i] = r;
  }
  let minN = Infinity;
  let maxN = 0;
  for (const e of entries) {
    const n = charLength(e);
    if (n < minN) minN = n;
    if (n > maxN) maxN = n;
  }
  const words = layout === 'duplicate' ? [...keptWords.keys()] : [];
  const wordKept = layout === 'duplicate' ? [...keptWords.values()] : [];

  if (entries.length === 0) {
    // Nothing pruned: a plain SimpleVocab file of the kept words.
    const w = await FifuWriter.begin(out, { dim, words, metadata: input.metadata, normalized: true, utf8: 'keep', quantizer: input.quantizer });
    const rowsOut = new Float32Array(wordKept.length * dim);
    wordKept.forEach((r, i) => rowsOut.set(unit.subarray(r * dim, (r + 1) * dim), i * dim));
    await w.writeRows(rowsOut);
    const res = await w.end({ norms: Float32Array.from(wordKept, (r) => norms[r]!) });
    return { ...res, ngrams: 0, ngramRows: 0, minN: 0, maxN: 0, skipped, conflicts: [] };
  }

  const table = new Map<string, number>();
  entries.forEach((e, i) => table.set(e, ngramRows[i]!));
  const conflicts = findConflicts(entries, ngramRows, table, minN, maxN, (e) => e.slice(1, -1));

  const wordNorms = layout === 'duplicate' ? Float32Array.from(wordKept, (r) => norms[r]!) : undefined;
  // Word rows are stored unit-length. N-gram rows hold the kept vectors as given: a stock lookup
  // normalises the (one-row) sum, which is then bit for bit the unit row finalfusion stores for
  // the kept word. Rows given normalised are stored as they are (re-normalising a unit row may
  // move its last bit).
  const sub = input.normalized ? unit : input.vectors;
  const order = [...wordKept.map((r) => [unit, r] as const), ...subwordKept.map((r) => [sub, r] as const)];
  const bytes = await writeExplicitFile(out, { metadata: input.metadata, words, ngrams: entries, ngramRows, minN, maxN, dim, wordNorms, quantizer: input.quantizer }, async (emit) => {
    const BLOCK = 4096;
    for (let s = 0; s < order.length; s += BLOCK) {
      const n = Math.min(BLOCK, order.length - s);
      const block = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) {
        const [m, r] = order[s + i]!;
        block.set(m.subarray(r * dim, (r + 1) * dim), i * dim);
      }
      await emit(block);
    }
    return order.length;
  });
  return {
    bytes,
    rows: words.length,
    dropped: [],
    ngrams: entries.length,
    ngramRows: subwordKept.length,
    minN,
    maxN,
    skipped,
    conflicts,
  };
}

export interface PrunedSubwordFifuInput {
  dim: number;
  /** Kept words (byte strings). */
  labels: readonly string[];
  /** Their rows, labels.length x dim, as in the source (normalised here unless `normalized`). */
  vectors: Float32Array;
  normalized?: boolean;
  norms?: Float32Array;
  /** Used n-grams (byte strings, as the n-gram extractor gives them) and the row of each in `ngramVectors`. */
  ngrams: readonly string[];
  ngramRows: ArrayLike<number>;
  /** N-gram rows, stored as given (finalfusion does not normalise n-gram rows). */
  ngramVectors: Float32Array;
  minN: number;
  maxN: number;
  metadata?: string;
  utf8?: Utf8Policy;
  /** Store a QuantizedArray made by this function from the storage rows. */
  quantizer?: RowQuantizer;
}

/**
 * Writes a pruned subword model: kept words + ExplicitSubwordVocab of the given n-grams (several
 * may share a row); only rows some n-gram uses are stored, in first-appearance order. A stock
 * reader gives unknown words the normalised sum of their n-grams' rows, n-grams missing from the
 * table counting for nothing.
 */
export async function writePrunedSubwordFifu(out: OutputFile, input: PrunedSubwordFifuInput): Promise<PrunedFifuResult> {
  const { dim } = input;
  if (!(input.minN >= 1 && input.minN <= input.maxN)) throw new Error(`need 1 <= minN <= maxN, got ${input.minN} and ${input.maxN}`);
  if (input.ngrams.length !== input.ngramRows.length) throw new Error('ngrams and ngramRows differ in length');
  const convert = converter(input.utf8);
  const kept = input.labels.length;
  const { unit, norms } = unitRows(input, kept);
  const words: string[] = [];
  const seenWords = new Map<string, string>();
  for (const l of input.labels) {
    const c = convert(l);
    const prev = seenWords.get(c);
    if (prev !== undefined) throw duplicateError(out, 'kept words', prev, l);
    seenWords.set(c, l);
    words.push(c);
  }
  const available = Math.floor(input.ngramVectors.length / dim);
  const renumber = new Map<number, number>();
  const sources: number[] = [];
  const ngrams: string[] = [];
  const rowsList: number[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < input.ngrams.length; i++) {
    const src = input.ngramRows[i]!;
    if (!Number.isInteger(src) || src < 0 || src >= available) throw new Error(`n-gram ${i} uses row ${src}, outside the ${available} n-gram rows`);
    const g = convert(input.ngrams[i]!);
    if (seen.has(g)) {
      skipped.push(input.ngrams[i]!);
      continue;
    }
    seen.add(g);
    let r = renumber.get(src);
    if (r === undefined) {
      r = renumber.size;
      renumber.set(src, r);
      sources.push(src);
    }
    ngrams.push(g);
    rowsList.push(r);
  }
  const ngramRows = Int32Array.from(rowsList);
  const bytes = await writeExplicitFile(
    out,
    { metadata: input.metadata, words, ngrams, ngramRows, minN: input.minN, maxN: input.maxN, dim, wordNorms: norms.subarray(0, kept), quantizer: input.quantizer },
    async (emit) => {
      if (kept) await emit(unit.subarray(0, kept * dim));
      const BLOCK = 4096;
      for (let s = 0; s < sources.length; s += BLOCK) {
        const n = Math.min(BLOCK, sources.length - s);
        const block = new Float32Array(n * dim);
        for (let i = 0; i < n; i++) block.set(input.ngramVectors.subarray(sources[s + i]! * dim, (sources[s + i]! + 1) * dim), i * dim);
        await emit(block);
      }
      return kept + sources.length;
    },
  );
  return { bytes, rows: kept, dropped: [], ngrams: ngrams.length, ngramRows: sources.length, minN: input.minN, maxN: input.maxN, skipped, conflicts: [] };
}
