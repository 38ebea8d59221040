/**
 * finalfusion's n-grams: substrings of `<word>` counted in Unicode scalar values (code points),
 * lengths min_n..max_n; the whole bracketed word is one of them when it is short enough.
 *
 * Words are byte strings (pipeline/words.ts). finalfusion words are Rust strings, always valid
 * UTF-8; a byte string that is not valid UTF-8 is decoded the way Rust's lossy conversion does it
 * (each maximal invalid subsequence becomes U+FFFD, which is also what the WHATWG decoder does),
 * so it gets the n-grams of the word a finalfusion tool would have stored.
 *
 * Order matters for bit-exact sums: n-grams are visited by start position, and for each start
 * from the longest length down to min_n, which is the order finalfusion sums subword rows in.
 * Cost: O(chars x (max_n - min_n + 1)) per word.
 */
import { isValidUtf8 } from '../../pipeline/words.js';

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The byte string finalfusion would hold for `word` (itself when valid UTF-8). */
export function canonicalWord(word: string): string {
  const bytes = Buffer.from(word, 'latin1');
  if (isValidUtf8(bytes)) return word;
  return Buffer.from(decoder.decode(bytes), 'utf8').toString('latin1');
}

/** A bracketed word split into code points. */
export interface Bracketed {
  /** `<word>` as a byte string (UTF-8 bytes, one char per byte). */
  readonly text: string;
  /** Code point of each char. */
  readonly codePoints: Uint32Array;
  /** Byte offset of each char in `text`, plus one final entry = text.length. */
  readonly offsets: Uint32Array;
}

/** Brackets a byte-string word with '<' and '>' and splits it into code points. */
export function bracket(word: string): Bracketed {
  const text = '<' + canonicalWord(word) + '>';
  const n = text.length;
  const cps = new Uint32Array(n);
  const offs = new Uint32Array(n + 1);
  let k = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    let len = 1;
    let cp = c;
    if (c >= 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else if (c >= 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xc0) {
      len = 2;
      cp = c & 0x1f;
    }
    for (let j = 1; j < len; j++) cp = (cp << 6) | (text.charCodeAt(i + j) & 0x3f);
    cps[k] = cp;
    offs[k] = i;
    k++;
    i += len;
  }
  offs[k] = n;
  return { text, codePoints: cps.subarray(0, k), offsets: offs.subarray(0, k + 1) };
}

/** Number of code points in a byte string (valid UTF-8 assumed after canonicalWord). */
export function charLength(word: string): number {
  let n = 0;
  for (let i = 0; i < word.length; i++) if ((word.charCodeAt(i) & 0xc0) !== 0x80) n++;
  return n;
}

/**
 * Calls `fn(start, n)` for each n-gram (start char, length in chars) of a bracketed word, in
 * finalfusion's order. Nothing when min_n < 1 or min_n > max_n.
 */
export function forEachNgram(b: Bracketed, minN: number, maxN: number, fn: (start: number, n: number) => void): void {
  const len = b.codePoints.length;
  if (minN < 1 || minN > maxN) return;
  for (let s = 0; len - s >= minN; s++) {
    for (let n = Math.min(maxN, len - s); n >= minN; n--) fn(s, n);
  }
}

/** The n-gram at (start, n) of a bracketed word as a byte string. */
export function ngramText(b: Bracketed, start: number, n: number): string {
  return b.text.slice(b.offsets[start]!, b.offsets[start + n]!);
}

/** All n-grams of `<word>` as byte strings, in finalfusion's order. */
export function ngrams(word: string, minN: number, maxN: number): string[] {
  const b = bracket(word);
  const out: string[] = [];
  forEachNgram(b, minN, maxN, (s, n) => out.push(ngramText(b, s, n)));
  return out;
}
