/**
 * SimpleVocab chunk (id 1): u64 word count, then per word a u32 byte length and the UTF-8 bytes.
 * Also the word-list helpers the subword vocabulary chunks share (their word lists have the same
 * encoding).
 */
import type { Source } from '../../../pipeline/source.js';
import { ByteWriter, ChunkReader } from './bytes.js';
import { ChunkId, encodeFrame, type ChunkFrame } from './header.js';

/** What every vocabulary chunk tells the reader. */
export interface VocabInfo {
  kind: 'simple' | 'bucket' | 'fasttext' | 'explicit';
  frame: ChunkFrame;
  wordCount: number;
  /** Offset of the first word's length field. */
  wordsStart: number;
  /** Offset just past the last word. */
  wordsEnd: number;
  /** Subword vocabularies: n-gram lengths. */
  minN?: number;
  maxN?: number;
  /** Bucket vocab: the exponent; fastText vocab: the bucket count. */
  buckets?: number;
  /** Rows of the n-gram table that follow the word rows in the storage (0 for SimpleVocab). */
  subwordRows: number;
  /** Explicit vocab: n-gram entries and where they start. */
  ngramCount?: number;
  ngramsStart?: number;
}

/** Checks that `count` length-prefixed strings fit and returns the offset after the last one. */
export async function scanWords(r: ChunkReader, count: number, what = 'word'): Promise<number> {
  if (count * 4 > r.remaining) {
    r.fail(`${count} ${what}s need at least ${count * 4} bytes, but only ${r.remaining} remain in the ${r.part}`);
  }
  for (let i = 0; i < count; i++) await r.skipString(`${what} ${i + 1}`);
  return r.pos;
}

/** Reads `count` words as byte strings from a reader positioned at the first one. */
export async function readWords(r: ChunkReader, count: number, what = 'word'): Promise<string[]> {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = await r.readString(`${what} ${i + 1}`);
  return out;
}

/** Sequential reader of a vocabulary's words (for passes). */
export function wordCursor(source: Source, v: VocabInfo): { next(n: number): Promise<string[]> } {
  const r = new ChunkReader(source, v.wordsStart, v.wordsEnd, `${v.frame.name} chunk`);
  let done = 0;
  return {
    async next(n: number) {
      const out: string[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = await r.readString(`word ${done + i + 1}`);
      done += n;
      return out;
    },
  };
}

export function expectChunkEnd(r: ChunkReader, at: number, frame: ChunkFrame, what: string): void {
  if (at !== frame.end) {
    r.fail(`${what} end at byte ${at}, but the chunk length says the chunk ends at byte ${frame.end}`, at);
  }
}

export async function readSimpleVocab(source: Source, frame: ChunkFrame): Promise<VocabInfo> {
  const r = new ChunkReader(source, frame.body, frame.end, 'SimpleVocab chunk');
  const wordCount = await r.readU64('the word count');
  const wordsStart = r.pos;
  const wordsEnd = await scanWords(r, wordCount);
  expectChunkEnd(r, wordsEnd, frame, 'the words');
  return { kind: 'simple', frame, wordCount, wordsStart, wordsEnd, subwordRows: 0 };
}

/** Byte length of a word list (length fields included). */
export function wordsBytes(words: readonly string[]): number {
  let n = 0;
  for (const w of words) n += 4 + w.length;
  return n;
}

export function writeWords(w: ByteWriter, words: readonly string[]): void {
  for (const s of words) w.string(s);
}

/** A whole SimpleVocab chunk; `words` are byte strings. */
export function encodeSimpleVocab(words: readonly string[]): Buffer {
  const body = 8 + wordsBytes(words);
  const w = new ByteWriter(12 + body);
  encodeFrame(w, ChunkId.SimpleVocab, body).u64(words.length);
  writeWords(w, words);
  return w.result();
}
