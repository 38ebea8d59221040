/**
 * fastText dictionary.
 *
 * Layout: int32 size, int32 nwords, int32 nlabels, int64 ntokens, then (versions 11 and 12 only)
 * int64 pruneidx_size; `size` entries of { word bytes, NUL, int64 count, int8 type (0 word,
 * 1 label) }; then pruneidx_size pairs of int32 (bucket, row in the pruned n-gram table).
 * pruneidx_size -1 means "not pruned" (n-gram rows are addressed by bucket directly); 0 means a
 * pruned model that kept no n-gram rows; > 0 a pruned model. `encodeDictionary` writes the same
 * layout (format versions 11 and 12).
 */
import { wordFromBytes } from '../../../pipeline/words.js';
import type { Cursor } from './cursor.js';
import type { FastTextHeader } from './header.js';

/** Smallest entry: empty word, NUL, int64 count, int8 type. */
const MIN_ENTRY_BYTES = 1 + 8 + 1;
/** Longest word accepted (a missing NUL in a corrupt file otherwise swallows the file). */
export const MAX_WORD_BYTES = 1 << 20;

export interface FastTextDictionary {
  /** Entries (words plus labels). */
  size: number;
  nwords: number;
  nlabels: number;
  ntokens: number;
  /** -1: not pruned; >= 0: number of (bucket, row) pairs. */
  pruneidxSize: number;
  /** Words as byte strings, in file order. */
  words: string[];
  /** Word counts from training. */
  counts: Float64Array;
  /** Buckets kept by a pruned model, and the n-gram-table row of each (same length); empty otherwise. */
  pruneBuckets: Int32Array;
  pruneRows: Int32Array;
  /** File offset of the dictionary and just after it. */
  offset: number;
  end: number;
}

export async function readDictionary(c: Cursor, h: FastTextHeader): Promise<FastTextDictionary> {
  c.part = 'dictionary';
  const offset = c.pos;
  const sizeAt = c.pos;
  const size = await c.i32('dictionary size');
  const nwords = await c.i32('dictionary word count');
  const nlabels = await c.i32('dictionary label count');
  const ntokens = await c.i64('dictionary token count');
  let pruneidxSize = -1;
  const pruneAt = c.pos;
  if (h.layout !== 'old') pruneidxSize = await c.i64('pruned index size');

  if (nlabels > 0) {
    throw c.error(
      `the dictionary holds ${nlabels} labels: this is a supervised fastText model (a classifier), which is not supported`,
      sizeAt + 8,
    );
  }
  if (size < 0) throw c.error(`expected a dictionary size of 0 or more, found ${size}`, sizeAt);
  if (nwords < 0 || nlabels < 0 || nwords + nlabels !== size) {
    throw c.error(`dictionary counts disagree: ${size} entries, ${nwords} words and ${nlabels} labels`, sizeAt);
  }
  if (ntokens < 0) throw c.error(`expected a token count of 0 or more, found ${ntokens}`, sizeAt + 12);
  if (pruneidxSize < -1) throw c.error(`expected a pruned index size of -1 or more, found ${pruneidxSize}`, pruneAt);
  const minBytes = size * MIN_ENTRY_BYTES + Math.max(0, pruneidxSize) * 8;
  if (minBytes > c.remaining) {
    throw c.error(
      `dictionary claims ${size} entries and ${Math.max(0, pruneidxSize)} pruned-index pairs, at least ${minBytes} bytes; ` +
        `only ${c.remaining} bytes are left in the file`,
      sizeAt,
    );
  }

  const words: string[] = new Array(size);
  const counts = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    // Fast path: the whole entry is in the cursor's window.
    const w = c.window();
    const nul = w.indexOf(0);
    if (nul >= 0 && nul + 10 <= w.length) {
      const count = Number(w.readBigInt64LE(nul + 1));
      const type = w[nul + 9]!;
      if (count >= 0 && type === 0) {
        words[i] = wordFromBytes(w, 0, nul);
        counts[i] = count;
        c.skip(nul + 10);
        continue;
      }
    }
    await c.cString(`word ${i + 1} of ${size}`, MAX_WORD_BYTES).then((bytes) => (words[i] = wordFromBytes(bytes)));
    const countAt = c.pos;
    const count = await c.i64(`count of word ${i + 1}`);
    if (count < 0) throw c.error(`word ${i + 1} has a negative count ${count}`, countAt);
    const typeAt = c.pos;
    const type = await c.u8(`entry type of word ${i + 1}`);
    if (type === 1) {
      throw c.error(`entry ${i + 1} is a label: this is a supervised fastText model (a classifier), which is not supported`, typeAt);
    }
    if (type !== 0) throw c.error(`expected entry type 0 (word) or 1 (label) for entry ${i + 1}, found ${type}`, typeAt);
    counts[i] = count;
  }

  let pruneBuckets = new Int32Array(0);
  let pruneRows = new Int32Array(0);
  if (pruneidxSize > 0) {
    const n = pruneidxSize;
    if (n * 8 > c.remaining) {
      throw c.error(`pruned index claims ${n} pairs (${n * 8} bytes); only ${c.remaining} bytes are left`, pruneAt);
    }
    pruneBuckets = new Int32Array(n);
    pruneRows = new Int32Array(n);
    const pairsAt = c.pos;
    for (let i = 0; i < n; i++) {
      pruneBuckets[i] = await c.i32('pruned index bucket');
      pruneRows[i] = await c.i32('pruned index row');
      if (pruneBuckets[i]! < 0 || pruneRows[i]! < 0) {
        throw c.error(`pruned index pair ${i + 1} is (${pruneBuckets[i]}, ${pruneRows[i]}); expected non-negative numbers`, pairsAt + i * 8);
      }
    }
  }
  return { size, nwords, nlabels, ntokens, pruneidxSize, words, counts, pruneBuckets, pruneRows, offset, end: c.pos };
}

export interface DictionaryInput {
  /** Words as byte strings (no NUL byte), in the order of the input matrix rows. */
  words: readonly string[];
  /** Word counts (non-negative integers). */
  counts: ArrayLike<number>;
  /** Tokens of the training corpus. */
  ntokens: number;
  /**
   * Pruned index: bucket -> n-gram-table row pairs; undefined writes pruneidx_size -1 (not
   * pruned), an empty list 0 (pruned, no n-gram rows).
   */
  prune?: { buckets: ArrayLike<number>; rows: ArrayLike<number> };
}

/** The dictionary bytes (versions 11/12). Throws an Error for a word fastText cannot store. */
export function encodeDictionary(d: DictionaryInput): Buffer {
  const n = d.words.length;
  if (d.counts.length < n) throw new Error(`${d.counts.length} counts for ${n} words`);
  const pairs = d.prune ? d.prune.buckets.length : -1;
  if (d.prune && d.prune.rows.length !== pairs) throw new Error('pruned index buckets and rows differ in length');
  let bytes = 28;
  for (const w of d.words) bytes += w.length + 10;
  bytes += Math.max(0, pairs) * 8;
  const b = Buffer.alloc(bytes);
  b.writeInt32LE(n, 0);
  b.writeInt32LE(n, 4);
  b.writeInt32LE(0, 8);
  b.writeBigInt64LE(BigInt(d.ntokens), 12);
  b.writeBigInt64LE(BigInt(pairs), 20);
  let p = 28;
  for (let i = 0; i < n; i++) {
    const w = d.words[i]!;
    if (w.includes('\0')) throw new Error(`word ${i + 1} contains a NUL byte, which a fastText dictionary cannot store`);
    const c = d.counts[i]!;
    if (!(Number.isInteger(c) && c >= 0)) throw new Error(`word ${i + 1} has count ${c}; expected a non-negative integer`);
    p += b.write(w, p, 'latin1');
    b[p++] = 0;
    b.writeBigInt64LE(BigInt(c), p);
    p += 8;
    b[p++] = 0; // entry type: word
  }
  for (let i = 0; i < pairs; i++) {
    b.writeInt32LE(d.prune!.buckets[i]!, p);
    b.writeInt32LE(d.prune!.rows[i]!, p + 4);
    p += 8;
  }
  return b;
}
