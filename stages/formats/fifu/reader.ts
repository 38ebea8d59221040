/**
 * Reading a finalfusion file: the header and every chunk's framing and fixed fields are read and
 * checked against the file size on open; word rows are streamed in batches, read at their
 * offsets (the storage is never loaded whole); words are read sequentially beside them.
 *
 * Passes yield the stored word rows: finalfusion stores them unit-length (with their original
 * norms in NdNorms); `unnormalize: true` multiplies them back by those norms.
 * `lookup` gives the vector a finalfusion reader gives for a word: its row when known, else the
 * L2-normalised sum of its n-gram rows (subword vocabularies), else undefined.
 */
import type { Batch } from '../../../pipeline/batch.js';
import { DEFAULT_BATCH_ROWS } from '../../../pipeline/batch.js';
import { InputError } from '../../../pipeline/errors.js';
import type { ModelReader, PassOptions, SubwordIndexer, SubwordRows } from '../../../pipeline/model.js';
import type { Source } from '../../../pipeline/source.js';
import { fromAsync } from '../../../pipeline/stream.js';
import { ExplicitIndexer, FfBucketIndexer, FifuFastTextIndexer } from '../../subwords/indexers.js';
import { ChunkReader } from './bytes.js';
import { readBucketVocab } from './bucket-vocab.js';
import { readExplicitVocab, type ExplicitTable } from './explicit-vocab.js';
import { ffSubwordVector } from './f32.js';
import { chunkFollows, ChunkId, chunkName, readFrame, readHeader, type ChunkFrame } from './header.js';
import { readMetadata } from './metadata.js';
import { readNdArray, readNdArrayRows, type NdArrayInfo } from './ndarray.js';
import { readNorms, readNormsInfo, type NormsInfo } from './norms.js';
import { readQuantized, readQuantizedRows, type QuantizedInfo } from './quantized.js';
import { readSimpleVocab, readWords, wordCursor, type VocabInfo } from './simple-vocab.js';

export interface FifuOpenOptions {
  /** Passes yield rows multiplied by their NdNorms norms (the vectors before normalisation). */
  unnormalize?: boolean;
}

export interface FifuReader extends ModelReader {
  /** Chunks in file order. */
  readonly chunks: readonly ChunkFrame[];
  readonly vocab: VocabInfo;
  readonly storage: NdArrayInfo | QuantizedInfo;
  /** The Metadata chunk's TOML text. */
  readonly metadata?: string;
  readonly normsInfo?: NormsInfo;
  /** ExplicitSubwordVocab: the n-gram table (rows renumbered as finalfusion does). */
  readonly explicit?: ExplicitTable;
  /** N-gram rows and indexer, for subword vocabularies. */
  readonly subwords?: SubwordRows;
  /** All word norms from NdNorms, or undefined without that chunk. */
  norms(): Promise<Float32Array | undefined>;
  /** All words (byte strings) in row order; read once, then kept. */
  words(): Promise<string[]>;
  /** Storage rows [start, start + count): word rows first, then n-gram rows. */
  readRows(start: number, count: number): Promise<Float32Array>;
  /** The vector finalfusion gives for `word` (a byte string), or undefined. */
  lookup(word: string): Promise<Float32Array | undefined>;
}

export async function openFifu(source: Source, opts: FifuOpenOptions = {}): Promise<FifuReader> {
  const header = await readHeader(source);
  const chunks: ChunkFrame[] = [];
  let vocab: VocabInfo | undefined;
  let explicit: ExplicitTable | undefined;
  let storage: NdArrayInfo | QuantizedInfo | undefined;
  let metadata: string | undefined;
  let normsInfo: NormsInfo | undefined;
  let offset = header.end;
  const notes: string[] = [];
  const where = (fr: ChunkFrame) => ({ file: source.name, offset: fr.offset, part: `${fr.name} chunk` });
  // Chunks the header lists must be there; after them, further complete chunks are read too (old
  // finalfusion writers appended NdNorms without listing it, and the stock readers read it).
  for (let i = 0; i < header.chunkIds.length || (await chunkFollows(source, offset)); i++) {
    const fr = await readFrame(source, offset, i);
    if (i >= header.chunkIds.length) notes.push(`${fr.name} at byte ${fr.offset} is not listed in the header`);
    else if (fr.id !== header.chunkIds[i]) notes.push(`the header lists ${chunkName(header.chunkIds[i]!)} as chunk ${i + 1}, the file has ${fr.name}`);
    chunks.push(fr);
    offset = fr.end;
    switch (fr.id) {
      case ChunkId.SimpleVocab:
      case ChunkId.BucketSubwordVocab:
      case ChunkId.FastTextSubwordVocab:
      case ChunkId.ExplicitSubwordVocab:
        if (vocab) throw new InputError(`a second vocabulary chunk (the first is ${vocab.frame.name} at byte ${vocab.frame.offset})`, where(fr));
        if (fr.id === ChunkId.SimpleVocab) vocab = await readSimpleVocab(source, fr);
        else if (fr.id === ChunkId.ExplicitSubwordVocab) ({ info: vocab, explicit } = await readExplicitVocab(source, fr));
        else vocab = await readBucketVocab(source, fr);
        break;
      case ChunkId.FloretSubwordVocab:
        throw new InputError('floret vocabularies (FloretSubwordVocab, chunk id 9) are not supported', where(fr));
      case ChunkId.NdArray:
      case ChunkId.QuantizedArray:
        if (storage) throw new InputError(`a second storage chunk (the first is ${storage.frame.name} at byte ${storage.frame.offset})`, where(fr));
        storage = fr.id === ChunkId.NdArray ? await readNdArray(source, fr) : await readQuantized(source, fr);
        break;
      case ChunkId.Metadata:
        if (metadata !== undefined) throw new InputError('a second Metadata chunk', where(fr));
        metadata = await readMetadata(source, fr);
        break;
      case ChunkId.NdNorms:
        if (normsInfo) throw new InputError('a second NdNorms chunk', where(fr));
        normsInfo = await readNormsInfo(source, fr);
        break;
    }
  }
  const at = { file: source.name, offset: header.end, part: 'header' };
  if (!vocab) throw new InputError('the file has no vocabulary chunk (SimpleVocab or a subword vocabulary)', at);
  if (!storage) throw new InputError('the file has no storage chunk (NdArray or QuantizedArray)', at);
  const v = vocab;
  const st = storage;
  const needRows = v.wordCount + v.subwordRows;
  if (st.rows < needRows) {
    throw new InputError(
      `the storage has ${st.rows} rows, but the vocabulary needs ${needRows} (${v.wordCount} words${v.subwordRows ? ` + ${v.subwordRows} n-gram rows` : ''})`,
      { file: source.name, offset: st.frame.offset, part: `${st.frame.name} chunk` },
    );
  }
  if (normsInfo && normsInfo.length !== v.wordCount) {
    throw new InputError(`${normsInfo.length} norms for ${v.wordCount} words`, { file: source.name, offset: normsInfo.frame.offset, part: 'NdNorms chunk' });
  }
  const dim = st.cols;
  const readRows = (start: number, count: number): Promise<Float32Array> =>
    st.kind === 'ndarray' ? readNdArrayRows(source, st, start, count) : readQuantizedRows(source, st, start, count);

  let indexer: SubwordIndexer | undefined;
  if (v.kind === 'bucket') indexer = new FfBucketIndexer(v.minN!, v.maxN!, v.buckets!);
  else if (v.kind === 'fasttext') indexer = new FifuFastTextIndexer(v.minN!, v.maxN!, v.buckets!);
  else if (v.kind === 'explicit') indexer = new ExplicitIndexer(v.minN!, v.maxN!, explicit!.table, explicit!.size);
  const subwords: SubwordRows | undefined = indexer && {
    indexer,
    dim,
    read(start: number, count: number) {
      if (start < 0 || count < 0 || start + count > v.subwordRows) {
        throw new RangeError(`n-gram rows ${start}..${start + count} outside 0..${v.subwordRows}`);
      }
      return readRows(v.wordCount + start, count);
    },
  };

  let normsCache: Float32Array | undefined;
  const norms = async () => {
    if (!normsInfo) return undefined;
    normsCache ??= await readNorms(source, normsInfo);
    return normsCache;
  };
  let wordsCache: string[] | undefined;
  const words = async () => {
    if (!wordsCache) {
      const r = new ChunkReader(source, v.wordsStart, v.wordsEnd, `${v.frame.name} chunk`);
      wordsCache = await readWords(r, v.wordCount);
    }
    return wordsCache;
  };
  let index: Map<string, number> | undefined;
  const lookup = async (word: string): Promise<Float32Array | undefined> => {
    if (!index) {
      const ws = await words();
      index = new Map();
      for (let i = 0; i < ws.length; i++) if (!index.has(ws[i]!)) index.set(ws[i]!, i);
    }
    const i = index.get(word);
    if (i !== undefined) return readRows(i, 1);
    if (!indexer) return undefined;
    const ix = indexer.indices(word);
    if (ix.length === 0) return undefined;
    const rows = new Float32Array(ix.length * dim);
    for (let k = 0; k < ix.length; k++) rows.set(await readRows(v.wordCount + ix[k]!, 1), k * dim);
    return ffSubwordVector(rows, ix.length, dim);
  };

  const details: Record<string, unknown> = {
    chunks: chunks.map((c) => c.name).join(', '),
    vocabulary: v.frame.name,
    words: v.wordCount,
    storage: st.frame.name,
    storageRows: st.rows,
  };
  if (v.minN !== undefined) Object.assign(details, { minN: v.minN, maxN: v.maxN });
  if (v.kind === 'bucket') details.bucketsExp = v.buckets;
  if (v.kind === 'fasttext') details.buckets = v.buckets;
  if (v.kind === 'explicit') Object.assign(details, { ngrams: v.ngramCount, ngramRows: v.subwordRows });
  if (st.kind === 'quantized') Object.assign(details, { subquantizers: st.quantizedLen, centroids: st.centroids, projection: !!st.projection, quantizedNorms: st.normsStart !== undefined });
  details.norms = !!normsInfo;
  if (metadata !== undefined) details.metadata = metadata;
  if (offset < source.size) details.trailingBytes = source.size - offset;
  if (notes.length) details.notes = notes;
  if (opts.unnormalize && !normsInfo) {
    throw new InputError('rows cannot be un-normalised: the file has no NdNorms chunk', { file: source.name, offset: 0 });
  }

  async function* pass(po: PassOptions = {}): AsyncGenerator<Batch> {
    const batchRows = Math.max(1, po.batchRows ?? DEFAULT_BATCH_ROWS);
    const cursor = wordCursor(source, v);
    const n = v.wordCount;
    const ns = opts.unnormalize ? await norms() : undefined;
    for (let start = 0; start < n; start += batchRows) {
      const count = Math.min(batchRows, n - start);
      const batchWords = await cursor.next(count);
      const vectors = await readRows(start, count);
      if (ns) {
        for (let r = 0; r < count; r++) {
          const s = ns[start + r]!;
          for (let k = r * dim; k < (r + 1) * dim; k++) vectors[k] = vectors[k]! * s;
        }
      }
      po.onBytes?.(Math.round(((start + count) / n) * source.size));
      yield { start, words: batchWords, dim, vectors };
    }
  }

  return {
    info: { format: 'fifu', rows: v.wordCount, dim, hasCounts: false, details },
    chunks,
    vocab: v,
    storage: st,
    metadata,
    normsInfo,
    explicit,
    subwords,
    norms,
    words,
    readRows,
    lookup,
    pass: (po?: PassOptions) => fromAsync(pass(po)),
    countRows: async () => v.wordCount,
    close: async () => undefined,
  };
}
