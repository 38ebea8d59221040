/**
 * How a fastText `.bin` turns a word into rows of its n-gram table: the n-grams and hashes of
 * stages/subwords/fasttext-hash.ts, then
 *   - not pruned: n-gram-table row = bucket (hash mod bucket count);
 *   - pruned (pruneidx present): row = pruneidx[bucket], n-grams whose bucket was pruned have no row;
 *     a pruned model that kept no pairs has no n-gram rows at all;
 *   - the end-of-sentence token `</s>` has no n-grams in format versions 11 and 12 (fastText 0.9.2);
 *     in the old layout it has them like any word (the fastText of that time and gensim agree).
 * Rows are counted from the first n-gram row of the input matrix (matrix row = nwords + row).
 * Cost per word: O(bytes x maxn) hashing, no allocation per n-gram.
 */
import type { SubwordIndexer } from '../../../pipeline/model.js';
import { forEachFasttextNgram } from '../../subwords/fasttext-hash.js';

export const EOS = '</s>';

export interface IndexerConfig {
  minn: number;
  maxn: number;
  /** Bucket count of the hash (args.bucket). */
  bucket: number;
  /** Rows of the n-gram table (bucket, or the kept rows of a pruned model). */
  size: number;
  /** Whether `</s>` has no n-grams (format versions 11/12). */
  skipEos: boolean;
  /** Pruned models: bucket -> n-gram-table row; undefined when not pruned. */
  prune?: ReadonlyMap<number, number>;
}

export class FastTextBinIndexer implements SubwordIndexer {
  readonly kind = 'fasttext';
  readonly minN: number;
  readonly maxN: number;
  readonly size: number;
  /** Hash buckets (args.bucket); equals `size` unless pruned. */
  readonly buckets: number;
  readonly skipEos: boolean;
  readonly prune?: ReadonlyMap<number, number>;

  constructor(cfg: IndexerConfig) {
    this.minN = cfg.minn;
    this.maxN = cfg.maxn;
    this.size = cfg.size;
    this.buckets = cfg.bucket;
    this.skipEos = cfg.skipEos;
    this.prune = cfg.prune;
  }

  /** Whether any word can have n-gram rows. */
  get active(): boolean {
    return this.maxN > 0 && this.buckets > 0 && this.minN <= this.maxN && (!this.prune || this.prune.size > 0);
  }

  /**
   * Calls `fn(row, bucket, start, end, bracketed)` for each n-gram of `word` in fastText's order;
   * row is -1 for an n-gram whose bucket a pruned model dropped.
   */
  visit(word: string, fn: (row: number, bucket: number, start: number, end: number, bracketed: Uint8Array) => void, raw = false): void {
    if (this.maxN <= 0 || this.buckets <= 0) return;
    if (!raw && this.prune && this.prune.size === 0) return;
    if (this.skipEos && word === EOS) return;
    const bucket = this.buckets;
    const prune = this.prune;
    forEachFasttextNgram(word, this.minN, this.maxN, (s, e, h, b) => {
      const k = h % bucket;
      fn(prune ? (prune.get(k) ?? -1) : k, k, s, e, b);
    });
  }

  ngrams(word: string): { ngram: string; index: number }[] {
    const out: { ngram: string; index: number }[] = [];
    this.visit(word, (row, _k, s, e, b) => out.push({ ngram: Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1'), index: row }));
    return out;
  }

  indices(word: string): number[] {
    const out: number[] = [];
    this.visit(word, (row) => {
      if (row >= 0) out.push(row);
    });
    return out;
  }

  /** The hash buckets of the word's n-grams (before any pruning), in fastText's order. */
  bucketsOf(word: string): number[] {
    const out: number[] = [];
    this.visit(word, (_row, k) => out.push(k), true);
    return out;
  }

  /** Appends the word's n-gram-table rows (no -1) to `out`; returns how many. */
  pushIndices(word: string, out: IntList): number {
    const before = out.length;
    this.visit(word, (row) => {
      if (row >= 0) out.push(row);
    });
    return out.length - before;
  }
}

/** A growable Int32 list (no per-item objects). */
export class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  clear(): void {
    this.length = 0;
  }
}
