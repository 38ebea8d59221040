/**
 * Decimal numbers in text models: parsing straight from bytes (no string per value) and the
 * shortest text that reads back as the same float32.
 */

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Parses the decimal number in buf[start, end). Returns NaN when the bytes are not a number
 * (including 'nan'/'inf' spellings, which callers report as non-finite). Fast path: up to 15
 * significant digits and a power of ten within 10^±22 (exact in double); otherwise Number().
 * Cost: one pass over the bytes.
 */
export function parseNumber(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let neg = false;
  let c = buf[i];
  if (c === 0x2d) {
    neg = true;
    i++;
  } else if (c === 0x2b) i++;
  let mant = 0;
  let digits = 0;
  let sig = 0;
  let scale = 0;
  let any = false;
  while (i < end && (c = buf[i]!) >= 0x30 && c <= 0x39) {
    any = true;
    if (sig < 15) {
      mant = mant * 10 + (c - 0x30);
      if (mant !== 0) sig++;
    } else {
      scale++;
      digits++;
    }
    i++;
  }
  if (i < end && buf[i] === 0x2e) {
    i++;
    while (i < end && (c = buf[i]!) >= 0x30 && c <= 0x39) {
      any = true;
      if (sig < 15) {
        mant = mant * 10 + (c - 0x30);
        if (mant !== 0) sig++;
        scale--;
      } else digits++;
      i++;
    }
  }
  if (!any) return slow(buf, start, end);
  if (i < end) {
    c = buf[i]!;
    if (c !== 0x65 && c !== 0x45) return NaN;
    i++;
    let eneg = false;
    if (buf[i] === 0x2d) {
      eneg = true;
      i++;
    } else if (buf[i] === 0x2b) i++;
    let e = 0;
    let edig = false;
    while (i < end && (c = buf[i]!) >= 0x30 && c <= 0x39) {
      e = e * 10 + (c - 0x30);
      edig = true;
      i++;
      if (e > 100000) return slow(buf, start, end);
    }
    if (!edig || i !== end) return NaN;
    scale += eneg ? -e : e;
  }
  if (digits > 0 && sig >= 15) return slow(buf, start, end);
  let v: number;
  if (scale === 0) v = mant;
  else if (scale > 0 && scale <= 22) v = mant * POW10[scale]!;
  else if (scale < 0 && scale >= -22) v = mant / POW10[-scale]!;
  else return slow(buf, start, end);
  return neg ? -v : v;
}

function slow(buf: Uint8Array, start: number, end: number): number {
  const s = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return NaN;
  return Number(s);
}

const f32 = new Float32Array(1);

/** Shortest decimal text that parses back to the same float32 (6 to 9 significant digits). */
export function formatFloat32(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  f32[0] = x;
  const v = f32[0];
  for (let p = 6; p < 9; p++) {
    const s = v.toPrecision(p);
    f32[0] = Number(s);
    if (f32[0] === v) return trimNumber(s);
  }
  return trimNumber(v.toPrecision(9));
}

function trimNumber(s: string): string {
  if (s.includes('e')) {
    const [m, e] = s.split('e') as [string, string];
    return trimNumber(m) + 'e' + e;
  }
  if (!s.includes('.')) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 0x30) end--;
  if (s.charCodeAt(end - 1) === 0x2e) end--;
  return s.slice(0, end);
}
