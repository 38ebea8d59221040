/**
 * finalfusion's bucket hash (BucketSubwordVocab): FNV-1a 64 over the n-gram's length in chars as
 * a little-endian u64, then each code point as a little-endian u32; the bucket is the low
 * `bucketsExp` bits. Computed on two 32-bit halves (no BigInt in the hot path).
 * Cost: O(chars) per n-gram.
 */
import type { Bracketed } from './ngrams.js';

// FNV-1a 64: offset basis 0xcbf29ce484222325, prime 0x100000001b3 = 2^40 + 0x1b3.
const OFF_HI = 0xcbf29ce4;
const OFF_LO = 0x84222325;

let hi = 0;
let lo = 0;

function byte(b: number): void {
  lo = (lo ^ b) >>> 0;
  // (hi:lo) * 0x1b3 + (hi:lo) << 40, modulo 2^64
  const a = (lo & 0xffff) * 0x1b3;
  const c = (lo >>> 16) * 0x1b3 + (a >>> 16);
  const newLo = (((c & 0xffff) << 16) | (a & 0xffff)) >>> 0;
  hi = (Math.imul(hi, 0x1b3) + Math.floor(c / 0x10000) + (lo << 8)) >>> 0;
  lo = newLo;
}

function u32(x: number): void {
  byte(x & 0xff);
  byte((x >>> 8) & 0xff);
  byte((x >>> 16) & 0xff);
  byte(x >>> 24);
}

/** The 64-bit hash of code points `cps[start, start + n)` as [hi, lo] unsigned 32-bit halves. */
export function ffHash64(cps: ArrayLike<number>, start: number, n: number): [number, number] {
  hi = OFF_HI;
  lo = OFF_LO;
  u32(n);
  u32(0); // high half of the u64 length
  for (let i = start; i < start + n; i++) u32(cps[i]!);
  return [hi, lo];
}

/** Bucket of an n-gram: the low `bucketsExp` bits of its hash (bucketsExp <= 52 to stay exact). */
export function ffBucket(cps: ArrayLike<number>, start: number, n: number, bucketsExp: number): number {
  const [h, l] = ffHash64(cps, start, n);
  if (bucketsExp >= 32) {
    const hiBits = bucketsExp - 32;
    const hm = hiBits >= 32 ? h : h & (2 ** hiBits - 1);
    return hm * 4294967296 + l;
  }
  return bucketsExp === 0 ? 0 : (l & (2 ** bucketsExp - 1)) >>> 0;
}

/** Bucket of the n-gram (start, n) of a bracketed word. */
export function ffNgramBucket(b: Bracketed, start: number, n: number, bucketsExp: number): number {
  return ffBucket(b.codePoints, start, n, bucketsExp);
}
