/**
 * fastText's n-gram hashing: FNV-1a 32 over the n-gram's bytes, where every byte is sign-extended
 * to 32 bits before the XOR (fastText reads bytes as signed `char`, so bytes >= 0x80 XOR in
 * 0xFFFFFFxx). Bucket of an n-gram = hash modulo the bucket count.
 *
 * `fasttextBuckets` reproduces how a fastText `.bin` model finds a word's n-grams: over the BYTES of
 * `<word>`, an n-gram starts at every byte that is not a UTF-8 continuation byte (10xxxxxx) and grows
 * by whole code points (a lead byte plus its continuation bytes), lengths minn..maxn counted in code
 * points; the 1-grams that are the boundary markers themselves ('<' at the start, '>' at the end) are
 * skipped. Invalid UTF-8 is handled exactly as fastText does: a byte that is not a continuation byte
 * counts as one code point, stray continuation bytes stick to the code point before them.
 *
 * Cost: O(bytes x maxn) per word, no allocation per n-gram.
 */

const FNV32_OFFSET = 2166136261;
const FNV32_PRIME = 16777619;

/** fastText's FNV-1a 32 of `bytes[start, end)` (bytes sign-extended); an unsigned 32-bit integer. */
export function fasttextHash(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = FNV32_OFFSET;
  for (let i = start; i < end; i++) h = step(h, bytes[i]!);
  return h >>> 0;
}

/** One FNV-1a step with fastText's sign extension. */
function step(h: number, byte: number): number {
  const x = byte < 0x80 ? byte : byte | 0xffffff00;
  return Math.imul(h ^ x, FNV32_PRIME);
}

function toBytes(word: Uint8Array | string): Uint8Array {
  return typeof word === 'string' ? Buffer.from(word, 'latin1') : word;
}

/** `<` + word + `>` as bytes. */
function bracketed(word: Uint8Array | string): Uint8Array {
  const w = toBytes(word);
  const b = new Uint8Array(w.length + 2);
  b[0] = 0x3c;
  b.set(w, 1);
  b[w.length + 1] = 0x3e;
  return b;
}

/**
 * Calls `fn(start, end, hash)` for every n-gram fastText takes from `<word>` (byte offsets into the
 * bracketed word), in fastText's order: by start byte, then by growing length.
 */
export function forEachFasttextNgram(
  word: Uint8Array | string,
  minn: number,
  maxn: number,
  fn: (start: number, end: number, hash: number, bracketedWord: Uint8Array) => void,
): void {
  const b = bracketed(word);
  const len = b.length;
  for (let i = 0; i < len; i++) {
    if ((b[i]! & 0xc0) === 0x80) continue;
    let h = FNV32_OFFSET;
    let j = i;
    for (let n = 1; j < len && n <= maxn; n++) {
      h = step(h, b[j++]!);
      while (j < len && (b[j]! & 0xc0) === 0x80) h = step(h, b[j++]!);
      if (n >= minn && !(n === 1 && (i === 0 || j === len))) fn(i, j, h >>> 0, b);
    }
  }
}

/**
 * A word's n-gram buckets as fastText computes them (hash modulo `bucket`), in fastText's order.
 * `word` is the raw word (bytes, or a byte string as in pipeline/words.ts) without the '<' '>'
 * markers. These are bucket numbers, not matrix rows: fastText adds the vocabulary size (and a
 * pruned model maps them through its pruneidx table). fastText computes no n-grams for the
 * end-of-sentence token `</s>`; that exception is the caller's.
 */
export function fasttextBuckets(word: Uint8Array | string, minn: number, maxn: number, bucket: number): number[] {
  const out: number[] = [];
  if (bucket <= 0) return out;
  forEachFasttextNgram(word, minn, maxn, (_s, _e, h) => out.push(h % bucket));
  return out;
}

/** The n-grams (byte strings) and their buckets, for inspection and tests. */
export function fasttextNgrams(
  word: Uint8Array | string,
  minn: number,
  maxn: number,
  bucket: number,
): { ngram: string; bucket: number }[] {
  const out: { ngram: string; bucket: number }[] = [];
  forEachFasttextNgram(word, minn, maxn, (s, e, h, b) => {
    out.push({ ngram: Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1'), bucket: bucket > 0 ? h % bucket : h });
  });
  return out;
}
