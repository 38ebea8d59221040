/**
 * The three ways a finalfusion subword vocabulary turns a word into rows of its n-gram table
 * (rows counted from the first n-gram row, i.e. after the word rows):
 *   ff-bucket  BucketSubwordVocab: finalfusion FNV-1a 64, low buckets_exp bits (2^exp rows)
 *   fasttext   FastTextSubwordVocab: fastText FNV-1a 32 of the n-gram's UTF-8 bytes, modulo buckets
 *   explicit   ExplicitSubwordVocab: a table n-gram -> row; n-grams not in it have no row
 * All use finalfusion's n-grams of `<word>` over code points (ngrams.ts), in finalfusion's order.
 * (finalfusion's fastText indexer works on chars, so unlike a fastText .bin it keeps the boundary
 * 1-grams '<' and '>' when min_n is 1; fasttext-hash.ts has the .bin behaviour.)
 * Cost per word: O(chars x (max_n - min_n + 1)) n-grams, each hashed in O(its length).
 */
import type { SubwordIndexer } from '../../pipeline/model.js';
import { fasttextHash } from './fasttext-hash.js';
import { ffNgramBucket } from './ff-hash.js';
import { bracket, forEachNgram, ngramText } from './ngrams.js';

abstract class NgramIndexer implements SubwordIndexer {
  abstract readonly kind: string;
  abstract readonly size: number;
  constructor(
    readonly minN: number,
    readonly maxN: number,
  ) {}

  protected abstract visit(word: string, fn: (ngram: () => string, index: number) => void): void;

  ngrams(word: string): { ngram: string; index: number }[] {
    const out: { ngram: string; index: number }[] = [];
    this.visit(word, (g, index) => out.push({ ngram: g(), index }));
    return out;
  }

  indices(word: string): number[] {
    const out: number[] = [];
    this.visit(word, (_g, index) => {
      if (index >= 0) out.push(index);
    });
    return out;
  }
}

/** BucketSubwordVocab (chunk 3). */
export class FfBucketIndexer extends NgramIndexer {
  readonly kind = 'ff-bucket';
  readonly size: number;
  constructor(
    minN: number,
    maxN: number,
    readonly bucketsExp: number,
  ) {
    super(minN, maxN);
    this.size = 2 ** bucketsExp;
  }

  protected visit(word: string, fn: (ngram: () => string, index: number) => void): void {
    const b = bracket(word);
    forEachNgram(b, this.minN, this.maxN, (s, n) => fn(() => ngramText(b, s, n), ffNgramBucket(b, s, n, this.bucketsExp)));
  }
}

/** FastTextSubwordVocab (chunk 7). */
export class FifuFastTextIndexer extends NgramIndexer {
  readonly kind = 'fasttext';
  constructor(
    minN: number,
    maxN: number,
    readonly size: number,
  ) {
    super(minN, maxN);
  }

  protected visit(word: string, fn: (ngram: () => string, index: number) => void): void {
    const b = bracket(word);
    const bytes = Buffer.from(b.text, 'latin1');
    forEachNgram(b, this.minN, this.maxN, (s, n) => {
      const h = fasttextHash(bytes, b.offsets[s]!, b.offsets[s + n]!);
      fn(() => ngramText(b, s, n), this.size > 0 ? h % this.size : -1);
    });
  }
}

/** ExplicitSubwordVocab (chunk 8): `table` maps n-gram byte strings to n-gram rows. */
export class ExplicitIndexer extends NgramIndexer {
  readonly kind = 'explicit';
  constructor(
    minN: number,
    maxN: number,
    readonly table: ReadonlyMap<string, number>,
    readonly size: number,
  ) {
    super(minN, maxN);
  }

  protected visit(word: string, fn: (ngram: () => string, index: number) => void): void {
    const b = bracket(word);
    forEachNgram(b, this.minN, this.maxN, (s, n) => {
      const g = ngramText(b, s, n);
      fn(() => g, this.table.get(g) ?? -1);
    });
  }
}
