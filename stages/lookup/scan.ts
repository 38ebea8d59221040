/**
 * Row indexes of the formats whose rows have no fixed position (word2vec text, GloVe, word2vec
 * binary): one sequential scan records, for every row, the byte offset where its values start
 * (and for text, where its line ends), and a word -> row map. Rows are then read at their
 * offsets. The first occurrence of a repeated word wins, as on every pass of the pipeline.
 * Memory: one Map entry per word (~60-100 bytes) plus 8 bytes (binary) or 12 bytes (text) per row.
 * Cost: one read of the file; no number is parsed during the scan.
 */
import { InputError } from '../../pipeline/errors.js';
import type { Source } from '../../pipeline/source.js';
import { wordFromBytes } from '../../pipeline/words.js';
import { parseNumber } from '../formats/numbers.js';
import type { TextLayout } from '../formats/text.js';

const NL = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const MAX_LINE = 1 << 24;
const MAX_WORD = 1 << 16;

/** A growable Float64Array (offsets) and its length. */
class OffsetList {
  data: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Float64Array(Math.max(16, capacity));
  }
  push(x: number): void {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = x;
  }
  trimmed(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export interface RowIndex {
  /** Word -> row (file order, repeated words not counted again). */
  rows: Map<string, number>;
  /** Byte offset of each row's values (binary) or of the first byte after its word (text). */
  starts: Float64Array;
  /** Text only: byte offset just past each row's last value (before CR/LF). */
  ends?: Float64Array;
  /** Rows that repeat an earlier word (not indexed). */
  duplicates: number;
}

/**
 * Scans a word2vec text or GloVe file laid out as `layout` says. A row is a non-blank line; its
 * word is the first token (spaces and tabs separate tokens). Row values are checked when read.
 */
export async function scanText(source: Source, layout: TextLayout): Promise<RowIndex> {
  const rows = new Map<string, number>();
  const starts = new OffsetList(layout.rows ?? 1 << 16);
  const ends = new OffsetList(layout.rows ?? 1 << 16);
  let duplicates = 0;
  let carry: Buffer = Buffer.alloc(0);
  let base = layout.dataOffset; // file offset of carry[0]
  let line = layout.header ? 2 : 1;
  const onLine = (buf: Buffer, s: number, e: number) => {
    if (e > s && buf[e - 1] === CR) e--;
    let i = s;
    while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i >= e) return; // blank lines: the reader's pass decides whether they are allowed
    const w0 = i;
    while (i < e && buf[i] !== SP && buf[i] !== TAB) i++;
    const word = wordFromBytes(buf, w0, i);
    if (rows.has(word)) {
      duplicates++;
      return;
    }
    rows.set(word, starts.length);
    starts.push(base + i);
    ends.push(base + e);
  };
  for await (const chunk of source.open({ start: layout.dataOffset })) {
    const buf = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let s = 0;
    let nl: number;
    while ((nl = buf.indexOf(NL, s)) >= 0) {
      onLine(buf, s, nl);
      line++;
      s = nl + 1;
    }
    carry = buf.subarray(s);
    base += s;
    if (carry.length > MAX_LINE) throw new InputError('line longer than 16 MiB; not a text model', { file: source.name, line, offset: base });
  }
  if (carry.length) onLine(carry, 0, carry.length);
  return { rows, starts: starts.trimmed(), ends: ends.trimmed(), duplicates };
}

/** Parses the `dim` values of text row `row` held in buf[s, e) (the bytes after its word, at file offset `offset`). */
export function parseTextValues(
  buf: Uint8Array,
  s: number,
  e: number,
  dim: number,
  out: Float32Array,
  o: number,
  file: string,
  offset: number,
  row: number,
): void {
  let k = 0;
  let i = s;
  let more = false;
  while (i < e) {
    while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i >= e) break;
    if (k >= dim) {
      more = true;
      break;
    }
    const a = i;
    while (i < e && buf[i] !== SP && buf[i] !== TAB) i++;
    const v = parseNumber(buf, a, i);
    if (!Number.isFinite(v)) {
      throw new InputError(`row ${row + 1}: value ${k + 1} is not a finite number: ${JSON.stringify(Buffer.from(buf.subarray(a, i)).toString('latin1').slice(0, 40))}`, {
        file,
        offset: offset + (a - s),
      });
    }
    out[o + k++] = v;
  }
  if (k !== dim || more) {
    throw new InputError(`row ${row + 1}: expected ${dim} values after the word, found ${more ? 'more' : k}`, { file, offset });
  }
}

/** The `rows dims` header of a word2vec binary file: offset of the first row. */
export async function binaryDataOffset(source: Source): Promise<number> {
  const head = await source.read(0, Math.min(source.size, 256));
  const nl = head.indexOf(NL);
  if (nl < 0) throw new InputError('expected a `rows dims` header line', { file: source.name, offset: 0, line: 1 });
  return nl + 1;
}

/**
 * Scans a word2vec binary file: per row, newlines are skipped, the word runs to a space, and
 * `dim` float32 follow. Records where each row's floats start.
 */
export async function scanBinary(source: Source, rowCount: number, dim: number): Promise<RowIndex> {
  const dataOffset = await binaryDataOffset(source);
  const rowBytes = dim * 4;
  const rows = new Map<string, number>();
  const starts = new OffsetList(rowCount);
  let duplicates = 0;
  let carry: Buffer = Buffer.alloc(0);
  let base = dataOffset;
  let row = 0;
  let skip = 0; // vector bytes of the current row still to pass over in the next chunks
  for await (const chunk of source.open({ start: dataOffset })) {
    let buf = chunk as Buffer;
    if (skip) {
      const n = Math.min(skip, buf.length);
      skip -= n;
      base += n;
      buf = buf.subarray(n);
      if (skip) continue;
    }
    if (carry.length) buf = Buffer.concat([carry, buf]);
    let p = 0;
    while (row < rowCount) {
      let w = p;
      while (w < buf.length && (buf[w] === NL || buf[w] === CR)) w++;
      const sp = buf.indexOf(SP, w);
      if (sp < 0) {
        if (buf.length - w > MAX_WORD) throw new InputError(`row ${row + 1}: no space after the word within ${MAX_WORD} bytes`, { file: source.name, offset: base + w });
        p = w;
        break;
      }
      if (sp === w) throw new InputError(`row ${row + 1}: empty word`, { file: source.name, offset: base + w });
      const word = wordFromBytes(buf, w, sp);
      if (rows.has(word)) duplicates++;
      else {
        rows.set(word, starts.length);
        starts.push(base + sp + 1);
      }
      row++;
      const end = sp + 1 + rowBytes;
      if (end > buf.length) {
        skip = end - buf.length;
        p = buf.length;
        break;
      }
      p = end;
    }
    carry = buf.subarray(p);
    base += p;
    if (row >= rowCount && !skip) break;
  }
  if (row < rowCount || skip) {
    throw new InputError(`file ends inside row ${row + (skip ? 0 : 1)}; the header promised ${rowCount} rows (truncated?)`, { file: source.name, offset: source.size });
  }
  return { rows, starts: starts.trimmed(), duplicates };
}
