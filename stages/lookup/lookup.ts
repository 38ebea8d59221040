/**
 * A model opened for lookups: `has(word)`, `vector(word)`, `similar(word, k)`, `words()`, for
 * every supported format, pruned or not, without reading all vectors into memory.
 *
 * What is held: a word -> row map (and, for the formats whose rows have no fixed place, the byte
 * offset of each row, found by one scan: see scan.ts). Vectors are read at their offsets when
 * asked for, several at once in coalesced reads (ranges.ts). `similar` streams the rows once per
 * call (one pass answers any number of query words).
 *
 * Where a vector comes from:
 *   'vocab'    the word has its own row;
 *   'mapped'   a pruned model maps the word to a kept row: a pruned finalfusion file's `<word>`
 *              entry (docs/finalfusion.md), or a line of a mapping file (`word<TAB>kept<TAB>cosine`,
 *              written by `prune --mapping`) - in a kept-layout output the word then gets its kept
 *              row, in an expanded output its own (equal) row;
 *   'subwords' an unknown word built from its n-gram rows, as the model's own tool does
 *              (fastText: mean of the n-gram rows; finalfusion: normalised sum).
 */
import type { Batch } from '../../pipeline/batch.js';
import { InputError } from '../../pipeline/errors.js';
import type { ModelInfo, ModelReader } from '../../pipeline/model.js';
import { openSource, spillSource, type Source } from '../../pipeline/source.js';
import { drain, type Stream } from '../../pipeline/stream.js';
import { fromAsync } from '../../pipeline/stream.js';
import { detectFormat } from '../formats/index.js';
import type { FastTextModel } from '../formats/fasttext/index.js';
import { openFifu, type FifuReader } from '../formats/fifu/index.js';
import { ffSubwordVector } from '../formats/fifu/f32.js';
import type { TextReader } from '../formats/text.js';
import { topKRows } from '../kernels/topk.js';
import { readMappingFile, type MappedWord } from './mapping.js';
import { readRanges, readRowRuns } from './ranges.js';
import { parseTextValues, scanBinary, scanText } from './scan.js';

export type VectorSource = 'vocab' | 'mapped' | 'subwords';

/** Codes of `LookupBatch.source`. */
export const SOURCE_NONE = 0;
export const SOURCE_VOCAB = 1;
export const SOURCE_MAPPED = 2;
export const SOURCE_SUBWORDS = 3;
const SOURCE_NAMES: (VectorSource | undefined)[] = [undefined, 'vocab', 'mapped', 'subwords'];

export interface LookupVector {
  vector: Float32Array;
  source: VectorSource;
  /**
   * Mapped words: the label of the kept row (from the mapping file), `undefined` when only a
   * pass can tell (pruned finalfusion: use `mappedTo`).
   */
  mappedTo?: string;
  /** Mapped words listed in a mapping file: the cosine it gives. */
  cosine?: number;
}

export interface LookupBatch {
  /** words.length x dim; zero rows where source is SOURCE_NONE. */
  vectors: Float32Array;
  /** Per word: SOURCE_NONE, SOURCE_VOCAB, SOURCE_MAPPED or SOURCE_SUBWORDS. */
  source: Uint8Array;
}

export interface Neighbour {
  word: string;
  cosine: number;
}

export interface SimilarResult {
  neighbours: Neighbour[];
  /**
   * The first word whose row equals the query vector (within 1e-6 per component), if any: for a
   * mapped word of a pruned finalfusion file, the kept word it maps to.
   */
  identical?: string;
}

export interface PrunedInfo {
  /** 'fifu': kept words plus `<word>` entries; 'mapping': a mapping file given with the model. */
  kind: 'fifu' | 'mapping';
  /** fifu: 'duplicate' (kept words are the word list) or 'ngrams-only' (empty word list). */
  layout?: 'duplicate' | 'ngrams-only';
  /** Words mapped to a kept row. */
  mapped: number;
  mappingFile?: string;
}

export interface LookupOptions {
  /** Format name (default: detected from content). */
  from?: string;
  /** Mapping file `word<TAB>kept<TAB>cosine` of a pruned word2vec/GloVe/finalfusion output. */
  mapping?: string;
  /** Rows per batch of the passes `similar` makes (default 2048). */
  batchRows?: number;
  /** Bytes the format's reader may hold for rows it reads on demand (fastText: n-gram rows and sums; default its own). */
  memoryBytes?: number;
}

/** How one format's vocabulary rows are found and read. */
interface Backend {
  readonly vocabSize: number;
  rowOf(word: string): number;
  vocabWords(): Iterable<string>;
  /** Vectors of vocabulary rows rows[j] into out[j * dim ..]. */
  readRows(rows: Int32Array, out: Float32Array): Promise<void>;
  /** Whether unknown words can get a vector from n-gram rows. */
  readonly subwords: boolean;
  /** Vectors of unknown words from their n-grams (undefined: the word has no n-gram row). */
  subwordVectors?(words: string[]): Promise<(Float32Array | undefined)[]>;
  /** A pass over the rows `similar` searches, labelled. */
  searchPass(batchRows: number): Stream<Batch>;
}

export class Lookup {
  readonly dim: number;
  readonly info: ModelInfo;
  /** Words with a row of their own. */
  readonly vocabSize: number;
  /** Every word the model knows: own rows plus mapped words. */
  readonly size: number;
  readonly subwords: boolean;
  readonly pruned?: PrunedInfo;
  private readonly batchRows: number;

  /** @internal use openLookup */
  constructor(
    readonly name: string,
    readonly reader: ModelReader,
    private readonly backend: Backend,
    private readonly fifuMapped: FifuMapped | undefined,
    private readonly mapping: Map<string, MappedWord> | undefined,
    mappingFile: string | undefined,
    private readonly release: () => Promise<void>,
    batchRows = 2048,
  ) {
    this.info = reader.info;
    this.dim = reader.info.dim;
    this.vocabSize = backend.vocabSize;
    this.subwords = backend.subwords;
    this.batchRows = batchRows;
    let extra = 0;
    if (fifuMapped) extra += fifuMapped.entries.size;
    if (mapping) for (const w of mapping.keys()) if (backend.rowOf(w) < 0 && !fifuMapped?.entries.has(w)) extra++;
    this.size = this.vocabSize + extra;
    if (fifuMapped) this.pruned = { kind: 'fifu', layout: fifuMapped.layout, mapped: fifuMapped.entries.size };
    if (mapping) this.pruned = { kind: 'mapping', mapped: mapping.size, mappingFile };
  }

  /** Whether the model knows the word (own row or mapped); unknown words may still have subwords. */
  has(word: string): boolean {
    return this.backend.rowOf(word) >= 0 || !!this.fifuMapped?.entries.has(word) || this.mappedRow(word) >= 0;
  }

  /** The label a mapping file gives the word, if any. */
  mappedLabel(word: string): MappedWord | undefined {
    return this.mapping?.get(word);
  }

  private mappedRow(word: string): number {
    const m = this.mapping?.get(word);
    return m ? this.backend.rowOf(m.kept) : -1;
  }

  /** The vector of a word (byte string), or undefined when the model cannot give one. */
  async vector(word: string): Promise<LookupVector | undefined> {
    const b = await this.vectors([word]);
    const source = SOURCE_NAMES[b.source[0]!];
    if (!source) return undefined;
    const out: LookupVector = { vector: b.vectors, source };
    const m = this.mapping?.get(word);
    if (m) Object.assign(out, { mappedTo: m.kept, cosine: m.cosine });
    return out;
  }

  /** Vectors of many words at once (one coalesced read of the rows they need). */
  async vectors(words: readonly string[]): Promise<LookupBatch> {
    const dim = this.dim;
    const n = words.length;
    const vectors = new Float32Array(n * dim);
    const source = new Uint8Array(n);
    const vocabAt: number[] = [];
    const vocabRows: number[] = [];
    const ffAt: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < n; i++) {
      const w = words[i]!;
      let r = this.backend.rowOf(w);
      if (r >= 0) {
        source[i] = this.mapping?.has(w) ? SOURCE_MAPPED : SOURCE_VOCAB;
      } else if (this.fifuMapped?.entries.has(w)) {
        source[i] = SOURCE_MAPPED;
        ffAt.push(i);
        continue;
      } else if ((r = this.mappedRow(w)) >= 0) {
        source[i] = SOURCE_MAPPED;
      } else {
        unknown.push(i);
        continue;
      }
      vocabAt.push(i);
      vocabRows.push(r);
    }
    if (vocabRows.length) {
      const tmp = new Float32Array(vocabRows.length * dim);
      await this.backend.readRows(Int32Array.from(vocabRows), tmp);
      for (let j = 0; j < vocabAt.length; j++) vectors.set(tmp.subarray(j * dim, (j + 1) * dim), vocabAt[j]! * dim);
    }
    if (ffAt.length) {
      const vs = await this.fifuMapped!.vectors(ffAt.map((i) => words[i]!));
      for (let j = 0; j < ffAt.length; j++) vectors.set(vs[j]!, ffAt[j]! * dim);
    }
    if (unknown.length) {
      const viaBrackets = this.fifuMapped ? unknown.filter((i) => /[<>]/.test(words[i]!)) : [];
      if (this.backend.subwordVectors) {
        const vs = await this.backend.subwordVectors(unknown.map((i) => words[i]!));
        for (let j = 0; j < unknown.length; j++) {
          const v = vs[j];
          if (!v) continue;
          vectors.set(v, unknown[j]! * dim);
          source[unknown[j]!] = SOURCE_SUBWORDS;
        }
      } else if (viaBrackets.length) {
        // A pruned finalfusion file: an unknown word holding a stored `<word>` entry gets that
        // entry's row from a stock reader, so it does here too.
        const vs = await this.fifuMapped!.ngramVectors(viaBrackets.map((i) => words[i]!));
        for (let j = 0; j < viaBrackets.length; j++) {
          const v = vs[j];
          if (!v) continue;
          vectors.set(v, viaBrackets[j]! * dim);
          source[viaBrackets[j]!] = SOURCE_SUBWORDS;
        }
      }
    }
    return { vectors, source };
  }

  /**
   * The kept row a mapped word maps to: its label from a mapping file; for a pruned finalfusion
   * file the kept word whose row equals the word's vector (one pass), or null when the row has no
   * word (a k-means centroid). Undefined for words that are not mapped.
   */
  async mappedTo(word: string): Promise<string | null | undefined> {
    const m = this.mapping?.get(word);
    if (m) return m.kept;
    if (!this.fifuMapped?.entries.has(word)) return undefined;
    const v = await this.vector(word);
    const [r] = await this.similarTo([v!.vector], 1);
    return r!.identical ?? this.fifuMapped.firstEntryOfRow(word) ?? null;
  }

  /** The k nearest words by cosine to a word (byte string); undefined when it has no vector. */
  async similar(word: string, k = 10): Promise<(SimilarResult & { query: LookupVector }) | undefined> {
    const q = await this.vector(word);
    if (!q) return undefined;
    const [r] = await this.similarTo([q.vector], k, [word]);
    return { query: q, ...r! };
  }

  /**
   * The k nearest rows by cosine to each query vector, in one pass over the rows. Searched: the
   * word rows (for a pruned finalfusion file, the kept words; with the 'ngrams-only' layout, the
   * n-gram rows labelled by their first word). `exclude[i]` is left out of query i's list.
   * Ties keep file order. Memory: the queries plus one batch.
   */
  async similarTo(queries: Float32Array[], k = 10, exclude: (string | undefined)[] = []): Promise<SimilarResult[]> {
    const dim = this.dim;
    const nq = queries.length;
    const q = new Float32Array(nq * dim);
    for (let i = 0; i < nq; i++) q.set(unitCopy(queries[i]!), i * dim);
    const lists: Neighbour[][] = queries.map(() => []);
    const identical: (string | undefined)[] = new Array(nq);
    const kk = k + 1;
    let idx = new Int32Array(nq * kk);
    let score = new Float32Array(nq * kk);
    const pass = this.backend.searchPass(this.batchRows).map((b: Batch) => {
      const n = b.words.length;
      const unit = unitRows(b.vectors, n, dim);
      const kb = Math.min(kk, n);
      if (idx.length < nq * kb) {
        idx = new Int32Array(nq * kb);
        score = new Float32Array(nq * kb);
      }
      topKRows(q, nq, unit, n, dim, kb, idx, score);
      for (let i = 0; i < nq; i++) {
        for (let j = 0; j < kb; j++) {
          const t = idx[i * kb + j]!;
          if (t < 0) break;
          const s = score[i * kb + j]!;
          if (identical[i] === undefined && s > 0.9999 && sameRow(b.vectors, t * dim, queries[i]!, dim)) identical[i] = b.words[t]!;
          insertNeighbour(lists[i]!, b.words[t]!, s, k, exclude[i]);
        }
      }
      return b;
    });
    await drain(pass);
    return lists.map((neighbours, i) => ({ neighbours, ...(identical[i] !== undefined ? { identical: identical[i] } : {}) }));
  }

  /** Every word the model knows: own rows in file order, then mapped words. */
  *words(): IterableIterator<string> {
    yield* this.backend.vocabWords();
    if (this.fifuMapped) yield* this.fifuMapped.entries.keys();
    if (this.mapping) {
      for (const w of this.mapping.keys()) if (this.backend.rowOf(w) < 0 && !this.fifuMapped?.entries.has(w)) yield w;
    }
  }

  async close(): Promise<void> {
    await this.reader.close().catch(() => undefined);
    await this.release();
  }
}

/**
 * Opens a model file (or '-' for standard input) for lookups. A gzip-compressed file is first
 * decompressed into a temporary file (removed on close): rows are read at offsets.
 */
export async function openLookup(file: string, opts: LookupOptions = {}): Promise<Lookup> {
  let source = await openSource(file);
  if (source.compressed) source = await spillSource(source);
  try {
    return await lookupFromSource(source, opts, () => source.close());
  } catch (e) {
    await source.close();
    throw e;
  }
}

/**
 * Opens a reader whose rows are the vectors a lookup gives: the format's own reader, except that
 * finalfusion files give their stored rows (unit length), as finalfusion's own lookups do.
 */
export async function openLookupReader(source: Source, from?: string, memoryBytes?: number): Promise<ModelReader> {
  const codec = await detectFormat(source, from);
  return codec.name === 'fifu' ? openFifu(source) : codec.open(source, memoryBytes === undefined ? undefined : { memoryBytes });
}

/** A lookup over an open source (the caller keeps ownership unless `release` closes it). */
export async function lookupFromSource(source: Source, opts: LookupOptions = {}, release: () => Promise<void> = async () => undefined): Promise<Lookup> {
  const reader = await openLookupReader(source, opts.from, opts.memoryBytes);
  try {
    let backend: Backend;
    let fifuMapped: FifuMapped | undefined;
    switch (reader.info.format) {
      case 'w2v-text':
      case 'glove':
        backend = await textBackend(source, reader as TextReader);
        break;
      case 'w2v-bin':
        backend = await binaryBackend(source, reader);
        break;
      case 'fifu': {
        const ff = reader as FifuReader;
        fifuMapped = prunedFifu(ff);
        backend = await fifuBackend(ff, !!fifuMapped);
        break;
      }
      case 'fasttext':
        backend = fastTextBackend(reader as FastTextModel);
        break;
      default:
        throw new InputError(`lookups are not supported for the format "${reader.info.format}"`, { file: source.name });
    }
    const mapping = opts.mapping ? await readMappingFile(opts.mapping) : undefined;
    return new Lookup(source.name, reader, backend, fifuMapped, mapping, opts.mapping, release, opts.batchRows);
  } catch (e) {
    await reader.close().catch(() => undefined);
    throw e;
  }
}

async function textBackend(source: Source, reader: TextReader): Promise<Backend> {
  const ix = await scanText(source, reader.layout);
  const dim = reader.info.dim;
  return {
    vocabSize: ix.rows.size,
    rowOf: (w) => ix.rows.get(w) ?? -1,
    vocabWords: () => ix.rows.keys(),
    subwords: false,
    async readRows(rows, out) {
      const starts = Array.from(rows, (r) => ix.starts[r]!);
      const ends = Array.from(rows, (r) => ix.ends![r]!);
      await readRanges(
        (p, l) => source.read(p, l),
        starts,
        ends,
        (j, buf, off) => {
          parseTextValues(buf, off, off + ends[j]! - starts[j]!, dim, out, j * dim, source.name, starts[j]!, rows[j]!);
        },
      );
    },
    searchPass: (batchRows) => reader.pass({ batchRows }),
  };
}

async function binaryBackend(source: Source, reader: ModelReader): Promise<Backend> {
  const dim = reader.info.dim;
  const ix = await scanBinary(source, reader.info.rows ?? 0, dim);
  const rowBytes = dim * 4;
  return {
    vocabSize: ix.rows.size,
    rowOf: (w) => ix.rows.get(w) ?? -1,
    vocabWords: () => ix.rows.keys(),
    subwords: false,
    async readRows(rows, out) {
      const starts = Array.from(rows, (r) => ix.starts[r]!);
      const ends = starts.map((s) => s + rowBytes);
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      await readRanges(
        (p, l) => source.read(p, l),
        starts,
        ends,
        (j, buf, off) => bytes.set(buf.subarray(off, off + rowBytes), j * rowBytes),
      );
      for (let k = 0; k < rows.length * dim; k++) {
        const v = out[k]!;
        if (v - v !== 0) {
          const j = Math.floor(k / dim);
          throw new InputError(`row ${rows[j]! + 1}: value ${(k % dim) + 1} is ${v}`, { file: source.name, offset: starts[j]! + (k % dim) * 4 });
        }
      }
    },
    searchPass: (batchRows) => reader.pass({ batchRows }),
  };
}

async function fifuBackend(ff: FifuReader, pruned: boolean): Promise<Backend> {
  const words = await ff.words();
  const rows = new Map<string, number>();
  for (let i = 0; i < words.length; i++) if (!rows.has(words[i]!)) rows.set(words[i]!, i);
  const dim = ff.info.dim;
  const rowBytes = ff.storage.kind === 'ndarray' ? dim * 4 : ff.storage.quantizedLen;
  const sub = pruned ? undefined : ff.subwords;
  const wordCount = ff.vocab.wordCount;
  return {
    vocabSize: rows.size,
    rowOf: (w) => rows.get(w) ?? -1,
    vocabWords: () => rows.keys(),
    subwords: !!sub,
    readRows: (rs, out) => readRowRuns((s, c) => ff.readRows(s, c), rs, dim, rowBytes, out),
    subwordVectors: sub
      ? async (ws) => {
          const lists = ws.map((w) => sub.indexer.indices(w));
          return ngramSums(lists, (rs, out) => readRowRuns((s, c) => ff.readRows(wordCount + s, c), rs, dim, rowBytes, out), dim);
        }
      : undefined,
    searchPass: (batchRows) => {
      // Word rows as stored (unit length); 'ngrams-only' pruned files have none: their n-gram
      // rows are searched instead, each labelled by its first entry.
      const ngramsOnly = wordCount === 0 && !!ff.explicit;
      const labels = ngramsOnly ? firstEntries(ff) : words;
      const first = ngramsOnly ? wordCount : 0;
      return fromAsync(
        (async function* () {
          for (let s = 0; s < labels.length; s += batchRows) {
            const n = Math.min(batchRows, labels.length - s);
            yield { start: s, words: labels.slice(s, s + n), dim, vectors: await ff.readRows(first + s, n) } as Batch;
          }
        })(),
      );
    },
  };
}

/** N-gram row -> the first entry (bracket-less) pointing at it. */
function firstEntries(ff: FifuReader): string[] {
  const ex = ff.explicit!;
  const labels: string[] = new Array(ex.size).fill('');
  const seen = new Uint8Array(ex.size);
  for (let i = 0; i < ex.ngrams.length; i++) {
    const r = ex.rows[i]!;
    if (seen[r]) continue;
    seen[r] = 1;
    labels[r] = ex.ngrams[i]!.slice(1, -1);
  }
  return labels;
}

/** finalfusion's vector for words built from n-gram rows: the normalised sum, rows in n-gram order. */
async function ngramSums(
  lists: number[][],
  read: (rows: Int32Array, out: Float32Array) => Promise<void>,
  dim: number,
): Promise<(Float32Array | undefined)[]> {
  const unique = [...new Set(lists.flat())];
  const pos = new Map<number, number>();
  unique.forEach((r, u) => pos.set(r, u));
  const rows = new Float32Array(unique.length * dim);
  if (unique.length) await read(Int32Array.from(unique), rows);
  return lists.map((list) => {
    if (list.length === 0) return undefined;
    const block = new Float32Array(list.length * dim);
    list.forEach((r, k) => block.set(rows.subarray(pos.get(r)! * dim, (pos.get(r)! + 1) * dim), k * dim));
    return ffSubwordVector(block, list.length, dim);
  });
}

/** The mapped words of a pruned finalfusion file (its `<word>` entries). */
interface FifuMapped {
  layout: 'duplicate' | 'ngrams-only';
  /** Mapped word (no brackets) -> n-gram row. */
  entries: Map<string, number>;
  /** Vectors of mapped words, exactly as a stock finalfusion reader gives them. */
  vectors(words: string[]): Promise<Float32Array[]>;
  /** Vectors of other words through the stored entries they contain (undefined: none). */
  ngramVectors(words: string[]): Promise<(Float32Array | undefined)[]>;
  /** ngrams-only layout: the first entry sharing the word's row (the kept word). */
  firstEntryOfRow(word: string): string | undefined;
}

/**
 * Recognises a pruned finalfusion file: an explicit n-gram table whose every entry is a whole
 * bracketed word `<w>` (docs/finalfusion.md). Then a word w listed as `<w>` is mapped to that
 * entry's row; unless w holds '<' or '>', no other entry can match one of its n-grams, so its
 * vector is the normalised row; otherwise all matching entries are summed, as a stock reader does.
 */
function prunedFifu(ff: FifuReader): FifuMapped | undefined {
  const ex = ff.explicit;
  const sub = ff.subwords;
  if (!ex || !sub || ex.ngrams.length === 0) return undefined;
  const entries = new Map<string, number>();
  for (let i = 0; i < ex.ngrams.length; i++) {
    const g = ex.ngrams[i]!;
    if (g.length < 3 || g.charCodeAt(0) !== 0x3c || g.charCodeAt(g.length - 1) !== 0x3e) return undefined;
    entries.set(g.slice(1, -1), ex.rows[i]!);
  }
  const dim = ff.info.dim;
  const wordCount = ff.vocab.wordCount;
  const rowBytes = ff.storage.kind === 'ndarray' ? dim * 4 : ff.storage.quantizedLen;
  const readNgrams = (rs: Int32Array, out: Float32Array) => readRowRuns((s, c) => ff.readRows(wordCount + s, c), rs, dim, rowBytes, out);
  let first: string[] | undefined;
  return {
    layout: wordCount === 0 ? 'ngrams-only' : 'duplicate',
    entries,
    async vectors(words) {
      const lists = words.map((w) => (/[<>]/.test(w) ? sub.indexer.indices(w) : [entries.get(w)!]));
      return (await ngramSums(lists, readNgrams, dim)) as Float32Array[];
    },
    ngramVectors: (words) => ngramSums(words.map((w) => sub.indexer.indices(w)), readNgrams, dim),
    firstEntryOfRow(word) {
      if (wordCount > 0) return undefined;
      first ??= firstEntries(ff);
      const r = entries.get(word);
      return r === undefined ? undefined : first[r];
    },
  };
}

function fastTextBackend(ft: FastTextModel): Backend {
  const words = ft.dictionary.words;
  const active = ft.indexer.active;
  return {
    vocabSize: ft.nwords,
    rowOf: (w) => ft.wordId(w),
    *vocabWords() {
      // A word listed twice resolves to its last entry (fastText's lookup): yield it there.
      for (let i = 0; i < ft.nwords; i++) if (ft.wordId(words[i]!) === i) yield words[i]!;
    },
    subwords: active,
    async readRows(rows, out) {
      out.set(await ft.vectorsFor(Array.from(rows, (r) => words[r]!)));
    },
    subwordVectors: active
      ? async (ws) => {
          const has = ws.map((w) => ft.indexer.indices(w).length > 0);
          const vs = await ft.vectorsFor(ws);
          const dim = ft.dim;
          return ws.map((_, i) => (has[i] ? vs.slice(i * dim, (i + 1) * dim) : undefined));
        }
      : undefined,
    searchPass: (batchRows) => ft.pass({ batchRows }),
  };
}

/** A unit-length copy (zero vectors stay zero). */
function unitCopy(v: Float32Array): Float32Array {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k]! * v[k]!;
  const n = Math.sqrt(s);
  const out = new Float32Array(v.length);
  if (n > 0) for (let k = 0; k < v.length; k++) out[k] = v[k]! / n;
  return out;
}

/** Unit-length copies of rows x dim (zero rows stay zero). Cost: 3 x rows x dim flops. */
function unitRows(v: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let k = o; k < o + dim; k++) s += v[k]! * v[k]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = o; k < o + dim; k++) out[k] = v[k]! * inv;
  }
  return out;
}

function sameRow(a: Float32Array, o: number, b: Float32Array, dim: number): boolean {
  for (let k = 0; k < dim; k++) if (Math.abs(a[o + k]! - b[k]!) > 1e-6) return false;
  return true;
}

/** Inserts (word, score) into a best-first list of at most k, skipping `exclude` and repeats. Ties keep arrival order. */
function insertNeighbour(list: Neighbour[], word: string, score: number, k: number, exclude: string | undefined): void {
  if (word === exclude) return;
  if (list.length >= k && score <= list[list.length - 1]!.cosine) return;
  for (const n of list) if (n.word === word) return;
  let j = list.length;
  while (j > 0 && list[j - 1]!.cosine < score) j--;
  list.splice(j, 0, { word, cosine: score });
  if (list.length > k) list.pop();
}
