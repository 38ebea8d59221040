/**
 * The unit that flows between stages: a run of consecutive rows of the model.
 * Stages add columns (assigned row, score); per-word objects never enter the stream.
 *
 * A reader may lend a batch its vectors (lendVectors): once the batch has left the last stage of a
 * run, the runner hands the array back (releaseBatch) and the reader fills it again for a later
 * batch, instead of allocating gigabytes of arrays for the garbage collector over a huge model.
 * So a stage that keeps a batch's vectors after passing the batch on keeps a copy, never the array
 * itself (every stage here does).
 */
export interface Batch {
  /** Index of the first row in the source (after duplicate words were dropped). */
  start: number;
  /** Words as byte strings (see words.ts), one per row. */
  words: string[];
  /** Vector width. */
  dim: number;
  /** Row-major, words.length x dim. */
  vectors: Float32Array;
  /** Frequencies, when the source or a counts file gives them. */
  counts?: Float64Array;
  /** Row of the kept table each word maps to (-1: not decided yet). Set by rank/assign stages. */
  target?: Int32Array;
  /** Cosine between the word's own vector and its target row (1 for kept words). */
  score?: Float32Array;
}

export function batchRows(b: Batch): number {
  return b.words.length;
}

/** A view of row `i` of a batch. */
export function rowOf(b: Batch, i: number): Float32Array {
  return b.vectors.subarray(i * b.dim, (i + 1) * b.dim);
}

/** Adds empty target/score columns when missing. */
export function withAssignment(b: Batch): Batch & { target: Int32Array; score: Float32Array } {
  if (!b.target) b.target = new Int32Array(b.words.length).fill(-1);
  if (!b.score) b.score = new Float32Array(b.words.length);
  return b as Batch & { target: Int32Array; score: Float32Array };
}

/** Default number of rows per batch. */
export const DEFAULT_BATCH_ROWS = 2048;

/** Arrays lent to batches, and how each goes back to its lender. */
const lent = new WeakMap<Float32Array, () => void>();

/** Lends `vectors` (a new batch's) to the batch: `release` is called once the batch has left the run. */
export function lendVectors(vectors: Float32Array, release: () => void): void {
  lent.set(vectors, release);
}

/** Hands a lent vectors array back to its lender (once; the runner calls it for every batch that left the last stage). */
export function releaseBatch(b: Batch): void {
  const release = lent.get(b.vectors);
  if (!release) return;
  lent.delete(b.vectors);
  release();
}
