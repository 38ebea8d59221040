/**
 * ExplicitSubwordVocab (id 8): u64 word count, u64 n-gram count, u32 min_n, u32 max_n, the words,
 * then per n-gram a u32 byte length, its UTF-8 bytes and a u64 index. Several n-grams may share an
 * index. finalfusion renumbers the stored indices by first appearance (the first distinct index
 * seen becomes n-gram row 0, the next new one row 1, ...), and the n-gram rows of the storage are
 * addressed by these new numbers after the word rows. This reader does the same; the writer
 * stores indices already numbered that way, so the renumbering leaves them unchanged.
 */
import type { Source } from '../../../pipeline/source.js';
import { ByteWriter, ChunkReader } from './bytes.js';
import { ChunkId, encodeFrame, type ChunkFrame } from './header.js';
import { expectChunkEnd, scanWords, wordsBytes, writeWords, type VocabInfo } from './simple-vocab.js';

export interface ExplicitTable {
  /** N-gram byte string -> n-gram row (renumbered by first appearance). */
  table: Map<string, number>;
  /** N-grams in file order. */
  ngrams: string[];
  /** Their n-gram rows, in file order. */
  rows: Int32Array;
  /** Distinct rows (the n-gram table's size). */
  size: number;
}

export async function readExplicitVocab(source: Source, frame: ChunkFrame): Promise<{ info: VocabInfo; explicit: ExplicitTable }> {
  const r = new ChunkReader(source, frame.body, frame.end, 'ExplicitSubwordVocab chunk');
  const wordCount = await r.readU64('the word count');
  const ngramCount = await r.readU64('the n-gram count');
  const minAt = r.pos;
  const minN = await r.readU32('min_n');
  const maxN = await r.readU32('max_n');
  if (minN < 1 || minN > maxN) r.fail(`expected 1 <= min_n <= max_n, found min_n ${minN} and max_n ${maxN}`, minAt);
  const wordsStart = r.pos;
  if (wordCount * 4 + ngramCount * 12 > r.remaining) {
    r.fail(`${wordCount} words and ${ngramCount} n-grams need at least ${wordCount * 4 + ngramCount * 12} bytes, but only ${r.remaining} remain in the chunk`);
  }
  const wordsEnd = await scanWords(r, wordCount);
  const ngramsStart = r.pos;
  const table = new Map<string, number>();
  const renumber = new Map<number, number>();
  const ngrams: string[] = new Array(ngramCount);
  const rows = new Int32Array(ngramCount);
  for (let i = 0; i < ngramCount; i++) {
    const at = r.pos;
    const g = await r.readString(`n-gram ${i + 1}`);
    await r.need(8, `the index of n-gram ${i + 1}`);
    const idx = r.u64(`the index of n-gram ${i + 1}`);
    let row = renumber.get(idx);
    if (row === undefined) {
      row = renumber.size;
      renumber.set(idx, row);
    }
    if (table.has(g)) r.fail(`n-gram ${i + 1} repeats an earlier n-gram (finalfusion refuses duplicate n-grams)`, at);
    table.set(g, row);
    ngrams[i] = g;
    rows[i] = row;
  }
  expectChunkEnd(r, r.pos, frame, 'the n-grams');
  return {
    info: {
      kind: 'explicit',
      frame,
      wordCount,
      wordsStart,
      wordsEnd,
      minN,
      maxN,
      subwordRows: renumber.size,
      ngramCount,
      ngramsStart,
    },
    explicit: { table, ngrams, rows, size: renumber.size },
  };
}

/**
 * A whole ExplicitSubwordVocab chunk. `rows[i]` is the n-gram row of `ngrams[i]`; rows must be
 * numbered by first appearance (0, then each new row one more than the largest so far), which the
 * writer guarantees and this function checks.
 */
export function encodeExplicitVocab(words: readonly string[], ngrams: readonly string[], rows: ArrayLike<number>, minN: number, maxN: number): Buffer {
  let next = 0;
  for (let i = 0; i < ngrams.length; i++) {
    const r = rows[i]!;
    if (r === next) next++;
    else if (r > next || r < 0) throw new Error(`n-gram rows must be numbered by first appearance; n-gram ${i} has row ${r}, expected at most ${next}`);
  }
  const body = 8 + 8 + 8 + wordsBytes(words) + wordsBytes(ngrams) + 8 * ngrams.length;
  const w = new ByteWriter(12 + body);
  encodeFrame(w, ChunkId.ExplicitSubwordVocab, body).u64(words.length).u64(ngrams.length).u32(minN).u32(maxN);
  writeWords(w, words);
  for (let i = 0; i < ngrams.length; i++) w.string(ngrams[i]!).u64(rows[i]!);
  return w.result();
}
