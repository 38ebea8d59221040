/**
 * Words are kept as byte strings: one UTF-16 code unit per byte (latin1 decoding of the raw bytes).
 * This keeps words that are not valid UTF-8 byte-exact and distinct, uses V8's compact one-byte
 * strings, and still serves as a Map key. Decode to text only for display or for subword schemes
 * defined over Unicode characters.
 */

/** Byte string of `buf[start, end)`. */
export function wordFromBytes(buf: Uint8Array, start = 0, end = buf.length): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** The raw bytes of a byte-string word. */
export function wordBytes(word: string): Buffer {
  return Buffer.from(word, 'latin1');
}

/** Byte string of a JavaScript text string (encoded as UTF-8). */
export function wordFromText(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Human-readable form (UTF-8 decoded; invalid bytes shown as \xNN). */
export function displayWord(word: string): string {
  const bytes = wordBytes(word);
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  if (isValidUtf8(bytes)) return text;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8SequenceLength(bytes, i);
    if (n > 0) {
      out += bytes.subarray(i, i + n).toString('utf8');
      i += n;
    } else {
      out += '\\x' + bytes[i]!.toString(16).padStart(2, '0');
      i += 1;
    }
  }
  return out;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 if the bytes there are not one. */
export function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
  } else return 0;
  if (i + n > b.length) return 0;
  let cp = c & (0x7f >> n);
  for (let k = 1; k < n; k++) {
    const d = b[i + k]!;
    if ((d & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

export function isValidUtf8(b: Uint8Array): boolean {
  let i = 0;
  while (i < b.length) {
    const n = utf8SequenceLength(b, i);
    if (n === 0) return false;
    i += n;
  }
  return true;
}
