/**
 * A pruned subword model with an ExplicitSubwordVocab, written front to back without holding the
 * n-gram rows or the n-gram strings as JavaScript objects (for models of millions of words): the
 * caller gives the n-gram entries already grouped by storage row (rows ascending) and streams the
 * n-gram rows in that order. The layout is writePrunedSubwordFifu's (writer.ts): Header,
 * Metadata, ExplicitSubwordVocab (kept words, then every n-gram with its row), NdArray (the kept
 * words' unit rows, then the n-gram rows as given), NdNorms (the kept words' norms). N-grams are
 * listed row by row, so finalfusion's first-appearance numbering of the indices is the storage
 * order itself, and the n-gram rows are copied through in ascending order.
 */
import { OutputError } from '../../../pipeline/errors.js';
import type { OutputFile } from '../../../pipeline/output.js';
import { canonicalWord } from '../../subwords/ngrams.js';
import { ByteWriter, f32Bytes } from './bytes.js';
import { ffNormalize } from './f32.js';
import { ChunkId, encodeFrame, encodeHeader } from './header.js';
import { encodeMetadata } from './metadata.js';
import { encodeNdArrayPrefix } from './ndarray.js';
import { encodeNorms } from './norms.js';
import { wordsBytes, writeWords } from './simple-vocab.js';

export interface StreamedSubwordFifuInput {
  dim: number;
  /** Kept words (byte strings), stored in their canonical UTF-8 form. */
  labels: readonly string[];
  /** Their vectors, labels.length x dim (normalised here, norms kept). */
  vectors: Float32Array;
  minN: number;
  maxN: number;
  metadata?: string;
  /** N-gram entries and the sum of their byte lengths. */
  ngramCount: number;
  ngramBytes: number;
  /** Storage rows of n-grams (the rows `rows` streams). */
  ngramRows: number;
  /** Calls `entry` for every n-gram in storage order (storage row non-decreasing, from 0). */
  ngrams(entry: (bytes: Uint8Array, row: number) => Promise<void> | void): Promise<void>;
  /** Streams the ngramRows n-gram rows in storage order, in blocks of whole rows. */
  rows(emit: (block: Float32Array) => Promise<void>): Promise<void>;
}

/** Kept rows normalised and written at a time. */
const WORD_BLOCK = 4096;

/** Writes the file; returns its size in bytes. */
export async function writeExplicitSubwordFifuStreamed(out: OutputFile, p: StreamedSubwordFifuInput): Promise<number> {
  const { dim } = p;
  if (!(p.minN >= 1 && p.minN <= p.maxN)) throw new Error(`need 1 <= minN <= maxN, got ${p.minN} and ${p.maxN}`);
  const kept = p.labels.length;
  const words: string[] = [];
  const seen = new Map<string, string>();
  for (const l of p.labels) {
    const c = canonicalWord(l);
    const prev = seen.get(c);
    if (prev !== undefined) {
      throw new OutputError(
        `kept words ${JSON.stringify(Buffer.from(prev, 'latin1').toString('utf8'))} and ${JSON.stringify(Buffer.from(l, 'latin1').toString('utf8'))} become the same word once invalid UTF-8 is replaced`,
        { file: out.target },
      );
    }
    seen.set(c, l);
    words.push(c);
  }
  if (p.vectors.length < kept * dim) throw new Error(`${p.vectors.length} values for ${kept} rows of ${dim}`);
  const norms = new Float32Array(kept);

  const total = kept + p.ngramRows;
  const head: Buffer[] = [encodeHeader(p.metadata !== undefined ? [ChunkId.Metadata, ChunkId.ExplicitSubwordVocab, ChunkId.NdArray, ChunkId.NdNorms] : [ChunkId.ExplicitSubwordVocab, ChunkId.NdArray, ChunkId.NdNorms])];
  if (p.metadata !== undefined) head.push(encodeMetadata(p.metadata));
  const body = 8 + 8 + 8 + wordsBytes(words) + 4 * p.ngramCount + p.ngramBytes + 8 * p.ngramCount;
  const w = new ByteWriter(12 + 24 + wordsBytes(words));
  encodeFrame(w, ChunkId.ExplicitSubwordVocab, body).u64(words.length).u64(p.ngramCount).u32(p.minN).u32(p.maxN);
  writeWords(w, words);
  head.push(w.result());
  let bytes = 0;
  for (const h of head) {
    await out.put(h);
    bytes += h.length;
  }
  // n-gram entries: u32 length, bytes, u64 index, in blocks of about 1 MiB
  let block = Buffer.alloc(1 << 20);
  let at = 0;
  let count = 0;
  let ngramBytes = 0;
  let next = 0;
  await p.ngrams(async (b, row) => {
    if (row !== next && row !== next - 1) throw new Error(`n-gram rows must come in storage order: row ${row} after ${next - 1}`);
    if (row === next) next++;
    const need = 12 + b.length;
    if (at + need > block.length) {
      await out.put(block.subarray(0, at));
      bytes += at;
      if (need > block.length) block = Buffer.alloc(need);
      else block = Buffer.alloc(block.length);
      at = 0;
    }
    block.writeUInt32LE(b.length, at);
    block.set(b, at + 4);
    block.writeUInt32LE(row % 4294967296, at + 4 + b.length);
    block.writeUInt32LE(Math.floor(row / 4294967296), at + 8 + b.length);
    at += need;
    count++;
    ngramBytes += b.length;
  });
  if (at > 0) {
    await out.put(block.subarray(0, at));
    bytes += at;
  }
  if (count !== p.ngramCount || ngramBytes !== p.ngramBytes || next !== p.ngramRows) {
    throw new Error(`announced ${p.ngramCount} n-grams (${p.ngramBytes} bytes, ${p.ngramRows} rows), wrote ${count} (${ngramBytes} bytes, ${next} rows)`);
  }
  const prefix = encodeNdArrayPrefix(bytes, total, dim);
  await out.put(prefix);
  bytes += prefix.length;
  // the kept words' unit rows, normalised block by block (the caller's vectors stay as they are)
  for (let s = 0; s < kept; s += WORD_BLOCK) {
    const n = Math.min(WORD_BLOCK, kept - s);
    const unit = p.vectors.slice(s * dim, (s + n) * dim);
    for (let r = 0; r < n; r++) norms[s + r] = ffNormalize(unit, r * dim, dim);
    await out.put(f32Bytes(unit));
  }
  let rows = 0;
  await p.rows(async (b) => {
    if (b.length % dim !== 0) throw new Error(`a block of ${b.length} values is not whole rows of ${dim}`);
    rows += b.length / dim;
    if (rows > p.ngramRows) throw new Error(`more n-gram rows than the ${p.ngramRows} announced`);
    await out.put(f32Bytes(b));
  });
  if (rows !== p.ngramRows) throw new Error(`wrote ${rows} n-gram rows, ${p.ngramRows} announced`);
  bytes += total * dim * 4;
  const normsChunk = encodeNorms(bytes, norms);
  await out.put(normsChunk);
  bytes += normsChunk.length;
  await out.flush();
  return bytes;
}
