import { describe, expect, test } from 'vitest';
import { fasttextBuckets, fasttextHash, fasttextNgrams } from '../stages/subwords/fasttext-hash.js';
import { FfBucketIndexer, ExplicitIndexer, FifuFastTextIndexer } from '../stages/subwords/indexers.js';
import { bracket, canonicalWord, ngrams } from '../stages/subwords/ngrams.js';
import { ffHash64 } from '../stages/subwords/ff-hash.js';
import { wordFromText } from '../pipeline/words.js';

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);

describe('fastText hash (FNV-1a 32, sign-extended bytes)', () => {
  test('empty input is the FNV offset basis', () => {
    expect(fasttextHash(new Uint8Array(0))).toBe(2166136261);
  });

  test('bytes >= 0x80 are sign-extended before the XOR', () => {
    // one step by hand: (offset ^ 0xffffffc3) * prime mod 2^32, vs the unsigned variant
    const signed = Number((BigInt(2166136261 ^ 0xffffffc3) & 0xffffffffn) * 16777619n % 4294967296n);
    const unsigned = Number((BigInt((2166136261 ^ 0xc3) >>> 0) * 16777619n) % 4294967296n);
    expect(fasttextHash(Uint8Array.of(0xc3))).toBe(signed);
    expect(signed).not.toBe(unsigned);
  });

  // Bucket lists from finalfusion-rust src/compat/fasttext/indexer.rs (checked there against fastText).
  test('finalfusion-rust test vectors, n 3..6, 2M buckets', () => {
    expect(sorted(fasttextBuckets(Buffer.from('Daniël'), 3, 6, 2_000_000))).toEqual([
      69886, 84537, 338340, 441697, 448390, 468430, 504093, 573175, 749365, 804851, 811506, 991985, 1022467, 1105725,
      1249224, 1418443, 1493412, 1880616,
    ]);
    expect(sorted(fasttextBuckets(Buffer.from('überspringen'), 3, 6, 2_000_000))).toEqual([
      79599, 119685, 255527, 263610, 352266, 385524, 403356, 421853, 485366, 488156, 586161, 619228, 629649, 642367,
      716781, 751724, 754367, 771707, 799583, 887882, 894109, 904527, 908492, 978563, 991164, 992241, 1142035, 1230973,
      1278156, 1350653, 1414694, 1513262, 1533308, 1607098, 1607788, 1664269, 1712300, 1749574, 1793082, 1891605,
      1934955, 1992797,
    ]);
  });

  test('finalfusion-rust test vectors, n 5..5', () => {
    expect(sorted(fasttextBuckets(Buffer.from('Daniël'), 5, 5, 2_000_000))).toEqual([441697, 749365, 1105725, 1880616]);
    expect(sorted(fasttextBuckets(Buffer.from('überspringen'), 5, 5, 2_000_000))).toEqual([
      79599, 352266, 385524, 629649, 716781, 978563, 991164, 1230973, 1350653, 1992797,
    ]);
  });

  test('n-grams start at code point boundaries, boundary 1-grams skipped', () => {
    const grams = fasttextNgrams(Buffer.from('aé'), 1, 2, 1000).map((g) => Buffer.from(g.ngram, 'latin1').toString('utf8'));
    // '<' and '>' alone are skipped; 'é' (2 bytes) is one code point
    expect(grams).toEqual(['<a', 'a', 'aé', 'é', 'é>']);
  });

  test('invalid UTF-8: stray continuation bytes join the code point before them', () => {
    // 'a' 0x80 'b': 0x80 is not a start byte, so n-grams never start there
    const grams = fasttextNgrams(Uint8Array.of(0x61, 0x80, 0x62), 2, 2, 0).map((g) => Buffer.from(g.ngram, 'latin1'));
    expect(grams.map((g) => [...g])).toEqual([[0x3c, 0x61, 0x80], [0x61, 0x80, 0x62], [0x62, 0x3e]]);
  });
});


const text = (byteString: string) => Buffer.from(byteString, 'latin1').toString('utf8');

describe('finalfusion n-grams over code points', () => {
  // finalfusion-rust src/subword.rs tests (NGrams over an unbracketed string there; ours bracket,
  // so compare the inner n-grams through a word whose brackets fall outside the lengths).
  test('short word: the whole bracketed word is an n-gram', () => {
    expect(ngrams(wordFromText('ˈjə'), 3, 6).map(text).sort()).toEqual(['<ˈj', '<ˈjə', '<ˈjə>', 'jə>', 'ˈjə', 'ˈjə>'].sort());
  });

  test('order: by start, longest first', () => {
    expect(ngrams('ab', 2, 3).map(text)).toEqual(['<ab', '<a', 'ab>', 'ab', 'b>']);
  });

  test('min_n 1 keeps the boundary 1-grams (unlike fastText .bin)', () => {
    expect(ngrams('a', 1, 1)).toEqual(['<', 'a', '>']);
  });

  test('invalid UTF-8 is decoded with U+FFFD as Rust lossy conversion does', () => {
    const w = 'zee\xc3n'; // bytes of utf8-incomplete's second word: "zee" + cut 2-byte sequence + "n"
    expect(text(canonicalWord(w))).toBe('zee\uFFFDn');
    expect(bracket(w).codePoints.length).toBe(7);
  });
});

describe('finalfusion bucket hash (FNV-1a 64 over char count and code points)', () => {
  test('FNV-1a 64 of zero bytes is the offset basis, one step checked with BigInt', () => {
    const [hi, lo] = ffHash64([], 0, 0);
    // 8 zero bytes of the u64 length 0
    let h = 0xcbf29ce484222325n;
    for (let i = 0; i < 8; i++) h = ((h ^ 0n) * 0x100000001b3n) & 0xffffffffffffffffn;
    expect(BigInt(hi) * 2n ** 32n + BigInt(lo)).toBe(h);
  });

  test('matches a BigInt reference on random code points', () => {
    const ref = (cps: number[]) => {
      let h = 0xcbf29ce484222325n;
      const bytes: number[] = [];
      const n = cps.length;
      for (let i = 0; i < 8; i++) bytes.push(i < 4 ? (n >>> (8 * i)) & 0xff : 0);
      for (const c of cps) for (let i = 0; i < 4; i++) bytes.push((c >>> (8 * i)) & 0xff);
      for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h;
    };
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let t = 0; t < 200; t++) {
      const cps = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 0x10ffff));
      const [hi, lo] = ffHash64(cps, 0, cps.length);
      expect(BigInt(hi) * 2n ** 32n + BigInt(lo)).toBe(ref(cps));
    }
  });

  // finalfusion-rust src/subword.rs: SUBWORD_TESTS_21 and NGRAMS_INDICES_TESTS_36 (buckets_exp 21).
  test('finalfusion-rust test vectors, 2^21 buckets', () => {
    const ix = new FfBucketIndexer(3, 6, 21);
    expect(sorted(ix.indices(wordFromText('Daniël')))).toEqual([
      214157, 233912, 311961, 488897, 620206, 741276, 841219, 1167494, 1192256, 1489905, 1532271, 1644730, 1666166,
      1679745, 1680294, 1693100, 2026735, 2065822,
    ]);
    expect(sorted(ix.indices('hallo'))).toEqual([
      75867, 104120, 136555, 456131, 599360, 722393, 938007, 985859, 1006102, 1163391, 1218704, 1321513, 1505861,
      1892376,
    ]);
    const pairs = new Map(ix.ngrams(wordFromText('Daniël')).map((g) => [text(g.ngram), g.index]));
    expect(pairs.get('Dan')).toBe(214157);
    expect(pairs.get('iël')).toBe(233912);
    expect(pairs.get('<Danië')).toBe(1680294);
    expect(pairs.get('aniël>')).toBe(1693100);
    expect(pairs.get('<Da')).toBe(2026735);
  });

  test('finalfusion-rust test vectors, 2^2 buckets', () => {
    const ix = new FfBucketIndexer(3, 6, 2);
    expect(sorted(ix.indices(wordFromText('Daniël')))).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3]);
    expect(sorted(ix.indices('hallo'))).toEqual([0, 0, 0, 0, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3]);
  });
});

describe('fifu fastText and explicit indexers', () => {
  test('FastTextSubwordVocab indexer gives the same buckets as fastText for min_n >= 2', () => {
    const ix = new FifuFastTextIndexer(3, 6, 2_000_000);
    expect(sorted(ix.indices(wordFromText('Daniël')))).toEqual(sorted(fasttextBuckets(Buffer.from('Daniël'), 3, 6, 2_000_000)));
  });

  test('explicit table: n-grams not in the table have no row', () => {
    const ix = new ExplicitIndexer(3, 4, new Map([['<ab', 0], ['ab>', 1]]), 2);
    expect(ix.ngrams('ab')).toEqual([
      { ngram: '<ab>', index: -1 },
      { ngram: '<ab', index: 0 },
      { ngram: 'ab>', index: 1 },
    ]);
    expect(ix.indices('ab')).toEqual([0, 1]);
  });
});
