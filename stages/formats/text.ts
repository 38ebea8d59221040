/**
 * Text models, both directions: word2vec text (`rows dims` header line) and GloVe (no header,
 * dims from the first line). A row is `word v1 ... vn` separated by spaces (tabs accepted on read),
 * optionally ending with a space and/or CR. Words are byte strings and round-trip byte for byte.
 */
import type { Batch } from '../../pipeline/batch.js';
import { InputError } from '../../pipeline/errors.js';
import type { ModelReader, PassOptions } from '../../pipeline/model.js';
import type { OutputFile } from '../../pipeline/output.js';
import type { Source } from '../../pipeline/source.js';
import { fromAsync } from '../../pipeline/stream.js';
import { wordBytes, wordFromBytes } from '../../pipeline/words.js';
import { formatFloat32, parseNumber } from './numbers.js';
import { registerFormat, type FormatCodec } from './registry.js';

const NL = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const F32_MAX = 3.4028234663852886e38;

export interface TextLayout {
  /** True for word2vec text (first line `rows dims`). */
  header: boolean;
  rows?: number;
  dim: number;
  /** Byte offset of the first row. */
  dataOffset: number;
}

/** Splits a line into token [start, end) pairs (spaces/tabs; trailing CR ignored). */
function tokens(buf: Uint8Array, start: number, end: number, out: number[]): number {
  out.length = 0;
  if (end > start && buf[end - 1] === CR) end--;
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i >= end) break;
    const s = i;
    while (i < end && buf[i] !== SP && buf[i] !== TAB) i++;
    out.push(s, i);
  }
  return out.length / 2;
}

/** Parses `rows dims` if the line is exactly two non-negative integers. */
function headerOf(line: Uint8Array): { rows: number; dim: number } | undefined {
  const m = /^\s*(-?\d+)\s+(-?\d+)\s*$/.exec(Buffer.from(line).toString('latin1'));
  if (!m) return undefined;
  return { rows: Number(m[1]), dim: Number(m[2]) };
}

function firstLine(head: Uint8Array): Uint8Array | undefined {
  const nl = head.indexOf(NL);
  if (nl < 0) return undefined;
  return head.subarray(0, nl);
}

/** True when `line` is a word followed by `dim` numbers (dim undefined: at least one). */
function isTextRow(line: Uint8Array, dim?: number): boolean {
  const t: number[] = [];
  const n = tokens(line, 0, line.length, t);
  if (n < 2 || (dim !== undefined && n !== dim + 1)) return false;
  for (let k = 1; k < n; k++) if (Number.isNaN(parseNumber(line, t[2 * k]!, t[2 * k + 1]!))) return false;
  return true;
}

/** Reads the layout of a text model from its first bytes. */
export function textLayout(head: Buffer, name: string, glove: boolean): TextLayout {
  const line = firstLine(head);
  if (head.length === 0) throw new InputError('empty file', { file: name, offset: 0 });
  if (!line) throw new InputError('no complete line in the first 64 KiB; not a text model', { file: name, line: 1 });
  const h = headerOf(line);
  if (h && !glove) {
    if (h.dim <= 0) throw new InputError(`header gives ${h.dim} dimensions; expected a positive number`, { file: name, line: 1 });
    if (h.rows < 0) throw new InputError(`header gives ${h.rows} rows; expected zero or more`, { file: name, line: 1 });
    return { header: true, rows: h.rows, dim: h.dim, dataOffset: line.length + 1 };
  }
  const t: number[] = [];
  const n = tokens(line, 0, line.length, t);
  if (n < 2) throw new InputError('first line has no values; expected `word v1 v2 ...`', { file: name, line: 1 });
  return { header: false, dim: n - 1, dataOffset: 0 };
}

export interface TextReader extends ModelReader {
  readonly layout: TextLayout;
}

/** Opens a word2vec text (`glove` false) or GloVe (`glove` true) model. */
export async function openText(source: Source, glove: boolean): Promise<TextReader> {
  const head = await source.read(0, Math.min(source.size, 1 << 16));
  const layout = textLayout(head, source.name, glove);
  if (layout.header && layout.rows !== undefined) {
    // Each row takes at least a 1-byte word and dim values of 1 byte with separators.
    const min = layout.rows * (2 * layout.dim + 1) - 1;
    if (min > source.size - layout.dataOffset) {
      throw new InputError(
        `header claims ${layout.rows} rows of ${layout.dim} values, which need at least ${min} bytes; the file has ${source.compressed ? 'at most ' : ''}${source.size - layout.dataOffset} after the header`,
        { file: source.name, line: 1 },
      );
    }
  }
  let counted: number | undefined = layout.rows;
  const reader: TextReader = {
    layout,
    info: { format: glove ? 'glove' : 'w2v-text', rows: layout.rows, dim: layout.dim, hasCounts: false },
    pass: (opts?: PassOptions) => fromAsync(readRows(source, layout, opts)),
    async countRows() {
      if (counted !== undefined) return counted;
      let n = 0;
      let last = NL;
      for await (const chunk of source.open({ start: layout.dataOffset })) {
        const b = chunk as Buffer;
        let i = -1;
        while ((i = b.indexOf(NL, i + 1)) >= 0) n++;
        if (b.length) last = b[b.length - 1]!;
      }
      if (last !== NL) n++;
      counted = n;
      return n;
    },
    async close() {},
  };
  return reader;
}

async function* readRows(source: Source, layout: TextLayout, opts: PassOptions = {}): AsyncGenerator<Batch> {
  const dim = layout.dim;
  const batchRows = opts.batchRows ?? 2048;
  const name = source.name;
  let words: string[] = [];
  let vectors = new Float32Array(batchRows * dim);
  let start = 0;
  let row = 0;
  let lineNo = layout.header ? 2 : 1;
  let fileOffset = layout.dataOffset; // offset of carry[0]
  let carry: Buffer = Buffer.alloc(0);
  let read = layout.dataOffset;
  const t: number[] = [];

  // `n`: the line's token count, `t` its token bounds (tokens() already ran on the line)
  const parseLine = (buf: Buffer, s: number, n: number) => {
    if (n === 0) {
      throw new InputError('empty line; expected `word` and values', { file: name, line: lineNo, offset: fileOffset + s });
    }
    if (n - 1 !== dim) {
      throw new InputError(`expected ${dim} values after the word, found ${n - 1}`, { file: name, line: lineNo, offset: fileOffset + s });
    }
    const r = words.length;
    words.push(wordFromBytes(buf, t[0]!, t[1]!));
    const base = r * dim;
    for (let k = 1; k <= dim; k++) {
      const a = t[2 * k]!;
      const b = t[2 * k + 1]!;
      const v = parseNumber(buf, a, b);
      if (!Number.isFinite(v)) {
        const tok = buf.toString('latin1', a, b);
        const what = /^[+-]?(nan|inf(inity)?)$/i.test(tok) || Number.isNaN(v) === false ? 'a non-finite value' : 'not a number';
        throw new InputError(`value ${k} is ${what}: ${JSON.stringify(tok.slice(0, 40))}`, { file: name, line: lineNo, offset: fileOffset + a });
      }
      if (v > F32_MAX || v < -F32_MAX) {
        throw new InputError(`value ${k} overflows float32: ${buf.toString('latin1', a, b)}`, { file: name, line: lineNo, offset: fileOffset + a });
      }
      vectors[base + k - 1] = v;
    }
  };

  // Blank lines are tolerated at the end of the file only.
  let blank: { line: number; offset: number } | undefined;
  const row1 = (buf: Buffer, s: number, n: number) => {
    if (blank) throw new InputError('blank line inside the model', { file: name, line: blank.line, offset: blank.offset });
    parseLine(buf, s, n);
    row++;
  };
  /** One line buf[s, nl): a row, or a blank line (remembered); true when the batch is full. */
  const line = (buf: Buffer, s: number, nl: number): boolean => {
    const n = tokens(buf, s, nl, t);
    if (n === 0) blank ??= { line: lineNo, offset: fileOffset + s };
    else row1(buf, s, n);
    lineNo++;
    return words.length === batchRows;
  };

  for await (const chunk of source.open({ start: layout.dataOffset })) {
    read += (chunk as Buffer).length;
    opts.onBytes?.(read);
    let buf = chunk as Buffer;
    let s = 0;
    let nl: number;
    if (carry.length) {
      // only the line that straddles the chunks is copied
      nl = buf.indexOf(NL);
      if (nl < 0) {
        carry = Buffer.concat([carry, buf]);
        if (carry.length > 1 << 24) {
          throw new InputError('line longer than 16 MiB; not a text model', { file: name, line: lineNo, offset: fileOffset });
        }
        continue;
      }
      const joined = Buffer.concat([carry, buf.subarray(0, nl)]);
      const full = line(joined, 0, joined.length);
      fileOffset += carry.length;
      carry = Buffer.alloc(0);
      s = nl + 1;
      if (full) {
        yield { start, words, dim, vectors };
        start = row;
        words = [];
        vectors = new Float32Array(batchRows * dim);
      }
    }
    while ((nl = buf.indexOf(NL, s)) >= 0) {
      if (line(buf, s, nl)) {
        yield { start, words, dim, vectors };
        start = row;
        words = [];
        vectors = new Float32Array(batchRows * dim);
      }
      s = nl + 1;
    }
    carry = buf.subarray(s);
    fileOffset += s;
    if (carry.length > 1 << 24) {
      throw new InputError('line longer than 16 MiB; not a text model', { file: name, line: lineNo, offset: fileOffset });
    }
  }
  if (carry.length) {
    const n = tokens(carry, 0, carry.length, t);
    if (n > 0) row1(carry, 0, n);
  }
  if (layout.rows !== undefined && row !== layout.rows) {
    throw new InputError(
      row < layout.rows
        ? `file ends after ${row} rows; the header promised ${layout.rows} (truncated?)`
        : `file has more rows than the ${layout.rows} the header promised`,
      { file: name, line: lineNo, offset: source.compressed ? source.fileBytesRead() : source.size },
    );
  }
  if (row === 0 && !layout.header) throw new InputError('no rows', { file: name, offset: 0 });
  if (words.length) yield { start, words, dim, vectors: vectors.subarray(0, words.length * dim) };
}

/** Writes rows as text. Call `begin` with the final row count (word2vec text writes it first). */
export class TextWriter {
  private rows = 0;
  private announced = 0;
  private headerBytes = 0;
  constructor(
    readonly out: OutputFile,
    readonly header: boolean,
  ) {}

  async begin(rows: number, dim: number): Promise<void> {
    this.announced = rows;
    if (this.header) {
      const h = Buffer.from(`${rows} ${dim}\n`, 'latin1');
      this.headerBytes = h.length;
      await this.out.write(h);
    }
  }

  async writeRows(words: readonly string[], vectors: Float32Array, dim: number, rowIndex?: Int32Array): Promise<void> {
    const parts: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const r = rowIndex ? rowIndex[i]! : i;
      let line = words[i]!;
      for (let k = r * dim, e = k + dim; k < e; k++) line += ' ' + formatFloat32(vectors[k]!);
      parts.push(line);
    }
    this.rows += words.length;
    if (parts.length) await this.out.write(Buffer.from(parts.join('\n') + '\n', 'latin1'));
  }

  /** Fixes the header if fewer rows were written than announced (duplicates dropped). */
  async end(dim: number): Promise<void> {
    if (this.header && this.rows !== this.announced) {
      await this.out.replacePrefix(this.headerBytes, Buffer.from(`${this.rows} ${dim}\n`, 'latin1'));
    }
  }

  get written(): number {
    return this.rows;
  }
}

export const w2vTextCodec: FormatCodec = {
  name: 'w2v-text',
  description: 'word2vec text: a `rows dims` line, then `word v1 ... vn` per line',
  detect(head) {
    const line = firstLine(head);
    if (!line || !headerOf(line)) return 0;
    const rest = head.subarray(line.length + 1);
    const second = firstLine(rest);
    if (!second) return rest.length === 0 ? 1 : 0;
    // Text when the second line is a word and numbers (any count: a wrong count is reported later).
    return isTextRow(second) ? 1 : 0;
  },
  open: (source) => openText(source, false),
};

export const gloveCodec: FormatCodec = {
  name: 'glove',
  description: 'GloVe text: `word v1 ... vn` per line, no header',
  detect(head) {
    const line = firstLine(head) ?? head;
    if (headerOf(line)) return 0;
    return isTextRow(line) ? 1 : 0;
  },
  open: (source) => openText(source, true),
};

registerFormat(w2vTextCodec);
registerFormat(gloveCodec);

export { wordBytes };
