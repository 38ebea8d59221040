/**
 * The word side of the n-gram candidate index (kernels/ngram-candidates.ts): the n-gram-table rows
 * of the kept words and of query words, from the model's subword indexer, and the index built over
 * a kept table with its bucket weights read from the model's n-gram rows.
 * Memory while building: the kept words' rows (about 30 ints per word) on top of the index.
 */
import type { SubwordRows } from '../pipeline/model.js';
import { buildNgramIndex, readBucketWeights, type NgramSetup, type QueryLists } from './kernels/ngram-candidates.js';
import { IntList, ngramRowLister } from './subword-usage.js';

/** What the n-gram index needs from a subword model. */
export interface NgramSource {
  /** The model's n-gram rows and indexer (ModelReader.subwords). */
  subwords: SubwordRows;
  /** The kept table's words: labels[i] is kept row i. */
  labels: readonly string[];
  /** The kept rows' vector norms (KeptTable.norms). */
  norms: Float32Array;
  /**
   * Read the n-gram rows for the bucket weights (default true; false: every bucket weighs 1,
   * no read of the n-gram table).
   */
  readWeights?: boolean;
}

/** The n-gram-table rows of words [0, n) (no -1 entries). Cost: hashing each word once. */
export function wordLists(source: SubwordRows, words: readonly string[], n: number): QueryLists {
  const rowsOf = ngramRowLister(source.indexer);
  const list = new IntList(Math.max(256, n * 32));
  const offsets = new Int32Array(n + 1);
  for (let q = 0; q < n; q++) {
    rowsOf(words[q]!, list);
    offsets[q + 1] = list.length;
  }
  return { offsets, rows: list.data.slice(0, list.length) };
}

/** Builds the index over the `rows` kept words of `s`, with bucket weights unless told not to. */
export async function openNgramIndex(s: NgramSource, rows: number): Promise<NgramSetup> {
  const setup = buildNgramIndex(wordLists(s.subwords, s.labels, rows), rows, s.norms, s.subwords.indexer.size);
  if (s.readWeights !== false) await readBucketWeights(setup, (a, n) => s.subwords.read(a, n), s.subwords.dim);
  return setup;
}
