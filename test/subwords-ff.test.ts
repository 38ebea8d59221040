import { describe, expect, test } from 'vitest';
import { fasttextBuckets, fasttextHash, fasttextNgrams } from '../stages/subwords/fasttext-hash.js';

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
