/**
 * What a reader gives the pipeline: the model's header facts and re-startable passes over its
 * word rows. Subword models also expose their n-gram rows and indexer.
 */
import type { Batch } from './batch.js';
import type { Stream } from './stream.js';

export interface PassOptions {
  /** Rows per batch. */
  batchRows?: number;
  /** Called as bytes are consumed (for progress). */
  onBytes?: (bytesRead: number) => void;
}

/** How a subword model turns a word into rows of its n-gram table. */
export interface SubwordIndexer {
  /** 'fasttext' (FNV-1a 32, modulo), 'ff-bucket' (FNV-1a 64, low bits), 'explicit' (n-gram table). */
  readonly kind: string;
  readonly minN: number;
  readonly maxN: number;
  /** Rows in the n-gram table. */
  readonly size: number;
  /** The n-grams of a word (byte string) with their n-gram-table rows; an n-gram may have no row (-1). */
  ngrams(word: string): { ngram: string; index: number }[];
  /** Just the n-gram-table rows (no -1 entries), in n-gram order. */
  indices(word: string): number[];
}

/** The n-gram rows of a subword model, read on demand (never all at once unless small). */
export interface SubwordRows {
  readonly indexer: SubwordIndexer;
  readonly dim: number;
  /** Reads rows [start, start + count) of the n-gram table. */
  read(start: number, count: number): Promise<Float32Array>;
}

export interface ModelInfo {
  /** Codec name: 'w2v-text', 'w2v-bin', 'glove', 'fifu', 'fasttext'. */
  format: string;
  /** Word rows, when known from a header. */
  rows?: number;
  dim: number;
  /** Batches carry counts (fastText .bin dictionary). */
  hasCounts: boolean;
  /** Free-form facts to show in `inspect`. */
  details?: Record<string, unknown>;
}

export interface ModelReader {
  readonly info: ModelInfo;
  /** A new pass over the word rows in file order. */
  pass(opts?: PassOptions): Stream<Batch>;
  /** The row count, counting if the header does not say (may read the file once). */
  countRows(): Promise<number>;
  /** N-gram rows, for subword models. */
  subwords?: SubwordRows;
  /** Vector a word would get from its subwords alone (unknown words), or undefined. */
  close(): Promise<void>;
}
