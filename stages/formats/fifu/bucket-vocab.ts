/**
 * Hashed subword vocabularies: BucketSubwordVocab (id 3, finalfusion FNV-1a 64, 2^buckets n-gram
 * rows) and FastTextSubwordVocab (id 7, fastText hash, `buckets` n-gram rows). Same layout:
 * u64 word count, u32 min_n, u32 max_n, u32 buckets (exponent for id 3, count for id 7), words.
 * (The word count comes first, before min_n/max_n/buckets, as finalfusion-rust writes it.)
 */
import type { Source } from '../../../pipeline/source.js';
import { ByteWriter, ChunkReader } from './bytes.js';
import { ChunkId, encodeFrame, type ChunkFrame } from './header.js';
import { expectChunkEnd, scanWords, wordsBytes, writeWords, type VocabInfo } from './simple-vocab.js';

export async function readBucketVocab(source: Source, frame: ChunkFrame): Promise<VocabInfo> {
  const fasttext = frame.id === ChunkId.FastTextSubwordVocab;
  const r = new ChunkReader(source, frame.body, frame.end, `${frame.name} chunk`);
  const wordCount = await r.readU64('the word count');
  const minAt = r.pos;
  const minN = await r.readU32('min_n');
  const maxN = await r.readU32('max_n');
  const bucketsAt = r.pos;
  const buckets = await r.readU32(fasttext ? 'the bucket count' : 'the bucket exponent');
  if (minN < 1 || minN > maxN) r.fail(`expected 1 <= min_n <= max_n, found min_n ${minN} and max_n ${maxN}`, minAt);
  if (!fasttext && buckets > 40) {
    r.fail(`bucket exponent ${buckets} means 2^${buckets} n-gram rows, far more than the file can hold`, bucketsAt);
  }
  if (fasttext && buckets > 0x7fffffff) r.fail(`bucket count ${buckets} is larger than fastText allows (2^31 - 1)`, bucketsAt);
  const wordsStart = r.pos;
  const wordsEnd = await scanWords(r, wordCount);
  expectChunkEnd(r, wordsEnd, frame, 'the words');
  return {
    kind: fasttext ? 'fasttext' : 'bucket',
    frame,
    wordCount,
    wordsStart,
    wordsEnd,
    minN,
    maxN,
    buckets,
    subwordRows: fasttext ? buckets : 2 ** buckets,
  };
}

/** A whole bucket or fastText subword vocabulary chunk. */
export function encodeBucketVocab(
  id: typeof ChunkId.BucketSubwordVocab | typeof ChunkId.FastTextSubwordVocab,
  words: readonly string[],
  minN: number,
  maxN: number,
  buckets: number,
): Buffer {
  const body = 8 + 12 + wordsBytes(words);
  const w = new ByteWriter(12 + body);
  encodeFrame(w, id, body).u64(words.length).u32(minN).u32(maxN).u32(buckets);
  writeWords(w, words);
  return w.result();
}
