/**
 * What the subword stages share: the usage counters (one per n-gram-table row, filled by the
 * subword-scan stage), the words of the vocabulary without their vectors, and a word's n-gram rows.
 *
 * "Bucket" below means a row of the model's n-gram table: for a fastText `.bin` that is the hash
 * bucket itself, for a pruned `.ftz` the row its pruned index maps the bucket to, for a finalfusion
 * bucket vocabulary the bucket, for an explicit vocabulary the table row.
 *
 * Memory: 4 bytes per bucket (unweighted counts) or 8 (counts weighted by word frequency).
 */
import type { Batch } from '../pipeline/batch.js';
import type { RunContext } from '../pipeline/context.js';
import type { ModelReader, SubwordIndexer } from '../pipeline/model.js';
import { openPass } from '../pipeline/context.js';
import { drain } from '../pipeline/stream.js';
import { FastTextModel } from './formats/fasttext/index.js';
import { IntList } from './formats/fasttext/indexer.js';

export { IntList };

/** Key of the SubwordUsage in RunContext.state. */
export const USAGE_STATE = 'subword-usage';

/** Which words are scanned: every vocabulary word, or only the kept ones. */
export type ScanWords = 'all' | 'kept';
/** 'none': each n-gram occurrence counts 1; 'counts': it counts the word's frequency. */
export type UsageWeights = 'none' | 'counts';

/** Per-bucket usage counters. Cost of `addWord`: O(bytes x maxn) hashing plus one add per n-gram. */
export class SubwordUsage {
  readonly counts: Uint32Array | Float64Array;
  /** Set once every word in scope was counted. */
  complete = false;
  /** Words counted. */
  words = 0;
  /** N-gram occurrences counted (a word using a bucket twice counts twice). */
  hits = 0;
  /** Buckets with a non-zero count (valid once complete). */
  used = 0;
  private readonly list = new IntList(256);
  private readonly rowsOf: (word: string, out: IntList) => number;

  constructor(
    readonly indexer: SubwordIndexer,
    readonly scope: ScanWords,
    readonly weights: UsageWeights,
  ) {
    this.counts = weights === 'counts' ? new Float64Array(indexer.size) : new Uint32Array(indexer.size);
    this.rowsOf = ngramRowLister(indexer);
  }

  get buckets(): number {
    return this.counts.length;
  }

  /** Counts one word's n-gram rows, each weighted `weight` (ignored for unweighted counters). */
  addWord(word: string, weight = 1): void {
    const l = this.list;
    l.clear();
    const n = this.rowsOf(word, l);
    const c = this.counts;
    if (c instanceof Float64Array) {
      for (let k = 0; k < n; k++) c[l.data[k]!]! += weight;
    } else {
      for (let k = 0; k < n; k++) c[l.data[k]!]!++;
    }
    this.words++;
    this.hits += n;
  }

  /** Marks the counters final and counts the used buckets. Cost: O(buckets). */
  finish(): void {
    if (this.complete) return;
    let u = 0;
    const c = this.counts;
    for (let i = 0; i < c.length; i++) if (c[i]! > 0) u++;
    this.used = u;
    this.complete = true;
  }

  /** The used buckets, ascending. */
  usedRows(): Int32Array {
    const out = new Int32Array(this.used);
    const c = this.counts;
    let k = 0;
    for (let i = 0; i < c.length; i++) if (c[i]! > 0) out[k++] = i;
    return out;
  }
}

/** The usage counters of this run (set by the subword-scan stage's open). */
export function usageOf(ctx: RunContext): SubwordUsage | undefined {
  return ctx.state.get(USAGE_STATE) as SubwordUsage | undefined;
}

/**
 * A function appending a word's n-gram rows (no -1 entries) to a list, returning how many.
 * Uses the indexer's allocation-free path where it has one.
 */
export function ngramRowLister(indexer: SubwordIndexer): (word: string, out: IntList) => number {
  const fast = indexer as SubwordIndexer & { pushIndices?: (w: string, out: IntList) => number };
  if (typeof fast.pushIndices === 'function') return (w, out) => fast.pushIndices!(w, out);
  return (w, out) => {
    const ix = indexer.indices(w);
    for (const i of ix) out.push(i);
    return ix.length;
  };
}

/** Bytes one n-gram row takes in the input file (float32 rows, or code bytes when quantized). */
export function ngramRowBytes(model: ModelReader): number {
  const dim = model.info.dim;
  if (model instanceof FastTextModel) {
    const input = model.layout.input;
    return input.kind === 'quantized' ? input.pq.nsubq : dim * 4;
  }
  const st = (model as ModelReader & { storage?: { kind: string; quantizedLen?: number } }).storage;
  if (st?.kind === 'quantized' && st.quantizedLen) return st.quantizedLen;
  return dim * 4;
}

/**
 * Calls `fn` with batches of the vocabulary's words (no vectors: `vectors` is empty) and their
 * counts after the run's decorators (a counts file), without computing any vector where the
 * reader can list its words: a fastText dictionary or a finalfusion word list. Other readers
 * are read through a normal pass. `decorate: false` skips the decorators when counts do not
 * matter. Words are in file order; fastText dictionaries hold no
 * duplicates, finalfusion refuses them.
 */
export async function forEachVocabularyBatch(ctx: RunContext, fn: (b: Batch) => void, decorate = true): Promise<void> {
  const model = ctx.model!;
  let words: readonly string[] | undefined;
  let counts: Float64Array | undefined;
  if (model instanceof FastTextModel) {
    words = model.dictionary.words.slice(0, model.nwords);
    counts = model.dictionary.counts;
  } else {
    const listed = (model as ModelReader & { words?: () => Promise<string[]> }).words;
    if (typeof listed === 'function') words = await listed.call(model);
  }
  if (!words) {
    await drain(
      openPass(ctx, 'subword words').map((b: Batch) => {
        fn(b);
        return b;
      }),
    );
    return;
  }
  const step = ctx.options.batchRows;
  const dim = model.info.dim;
  for (let s = 0; s < words.length; s += step) {
    const n = Math.min(step, words.length - s);
    let b: Batch = { start: s, words: words.slice(s, s + n), dim, vectors: new Float32Array(0), counts: counts?.slice(s, s + n) };
    if (decorate) for (const d of ctx.decorators) b = d(b);
    fn(b);
  }
}
