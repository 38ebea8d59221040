/**
 * word2vec binary, both directions: a `rows dims` text line, then per row the word, one space,
 * dims little-endian float32 and (usually) a newline. Newlines before a word are skipped on read,
 * so files without them (some writers omit them) read too.
 */
import os from 'node:os';
import type { Batch } from '../../pipeline/batch.js';
import { InputError } from '../../pipeline/errors.js';
import type { ModelReader, PassOptions } from '../../pipeline/model.js';
import type { OutputFile } from '../../pipeline/output.js';
import type { Source } from '../../pipeline/source.js';
import { fromAsync } from '../../pipeline/stream.js';
import { wordFromBytes } from '../../pipeline/words.js';
import { registerFormat, type FormatCodec } from './registry.js';
import { w2vTextCodec } from './text.js';

const NL = 0x0a;
const SP = 0x20;
const MAX_WORD = 1 << 16;

if (os.endianness() !== 'LE') throw new Error('prune-pipe reads float32 data as little-endian and needs a little-endian machine');

function header(head: Uint8Array): { rows: number; dim: number; offset: number } | undefined {
  const nl = head.indexOf(NL);
  if (nl < 0 || nl > 100) return undefined;
  const m = /^\s*(-?\d+)\s+(-?\d+)\s*$/.exec(Buffer.from(head.subarray(0, nl)).toString('latin1'));
  if (!m) return undefined;
  return { rows: Number(m[1]), dim: Number(m[2]), offset: nl + 1 };
}

export async function openWord2vecBin(source: Source): Promise<ModelReader> {
  const head = await source.read(0, Math.min(source.size, 256));
  if (head.length === 0) throw new InputError('empty file', { file: source.name, offset: 0 });
  const h = header(head);
  if (!h) throw new InputError('expected a `rows dims` header line', { file: source.name, offset: 0, line: 1 });
  if (h.dim <= 0) throw new InputError(`header gives ${h.dim} dimensions; expected a positive number`, { file: source.name, offset: 0 });
  if (h.rows < 0) throw new InputError(`header gives ${h.rows} rows; expected zero or more`, { file: source.name, offset: 0 });
  const need = h.rows * (h.dim * 4 + 2);
  if (need > source.size - h.offset) {
    throw new InputError(
      `header claims ${h.rows} rows of ${h.dim} float32, at least ${need} bytes; the file has ${source.compressed ? 'at most ' : ''}${source.size - h.offset} after the header`,
      { file: source.name, offset: 0 },
    );
  }
  return {
    info: { format: 'w2v-bin', rows: h.rows, dim: h.dim, hasCounts: false },
    pass: (opts?: PassOptions) => fromAsync(readRows(source, h, opts)),
    countRows: async () => h.rows,
    async close() {},
  };
}

async function* readRows(source: Source, h: { rows: number; dim: number; offset: number }, opts: PassOptions = {}): AsyncGenerator<Batch> {
  const { rows, dim } = h;
  const rowBytes = dim * 4;
  const batchRows = opts.batchRows ?? 2048;
  const name = source.name;
  let words: string[] = [];
  let vectors = new Float32Array(Math.min(batchRows, rows) * dim);
  let bytes = new Uint8Array(vectors.buffer);
  let start = 0;
  let row = 0;
  let carry: Buffer = Buffer.alloc(0);
  let base = h.offset; // file offset of carry[0]
  let read = h.offset;

  const stream = source.open({ start: h.offset });
  for await (const chunk of stream) {
    read += (chunk as Buffer).length;
    opts.onBytes?.(read);
    const buf = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let p = 0;
    while (row < rows) {
      let w = p;
      while (w < buf.length && (buf[w] === NL || buf[w] === 0x0d)) w++;
      const sp = buf.indexOf(SP, w);
      if (sp < 0 || sp + 1 + rowBytes > buf.length) {
        if (buf.length - w > MAX_WORD + rowBytes && sp < 0) {
          throw new InputError(`row ${row + 1}: no space after the word within ${MAX_WORD} bytes`, { file: name, offset: base + w });
        }
        break;
      }
      if (sp === w) throw new InputError(`row ${row + 1}: empty word`, { file: name, offset: base + w });
      const r = words.length;
      words.push(wordFromBytes(buf, w, sp));
      bytes.set(buf.subarray(sp + 1, sp + 1 + rowBytes), r * rowBytes);
      for (let k = r * dim, e = k + dim; k < e; k++) {
        const v = vectors[k]!;
        if (v - v !== 0) {
          throw new InputError(`row ${row + 1} (${JSON.stringify(words[r])}): value ${k - r * dim + 1} is ${v}`, {
            file: name,
            offset: base + sp + 1 + (k - r * dim) * 4,
          });
        }
      }
      p = sp + 1 + rowBytes;
      row++;
      if (words.length === batchRows) {
        yield { start, words, dim, vectors };
        start = row;
        words = [];
        vectors = new Float32Array(Math.min(batchRows, Math.max(1, rows - row)) * dim);
        bytes = new Uint8Array(vectors.buffer);
      }
    }
    carry = buf.subarray(p);
    base += p;
    if (row >= rows) {
      let q = 0;
      while (q < carry.length && (carry[q] === NL || carry[q] === 0x0d || carry[q] === SP)) q++;
      if (q < carry.length) {
        stream.destroy();
        throw new InputError(`data after the ${rows} rows the header promised`, { file: name, offset: base + q });
      }
      carry = Buffer.alloc(0);
    }
  }
  if (row < rows) {
    throw new InputError(`file ends inside row ${row + 1}; the header promised ${rows} rows (truncated?)`, { file: name, offset: source.compressed ? source.fileBytesRead() : source.size });
  }
  if (words.length) yield { start, words, dim, vectors: vectors.subarray(0, words.length * dim) };
}

/** Writes word2vec binary rows; `begin` announces the final row count. */
export class Word2vecBinWriter {
  private rows = 0;
  private announced = 0;
  private headerBytes = 0;
  /** The rows buffer of the last call, reused when the output wrote it out before returning. */
  private scratch?: Buffer;
  constructor(readonly out: OutputFile) {}

  async begin(rows: number, dim: number): Promise<void> {
    this.announced = rows;
    const h = Buffer.from(`${rows} ${dim}\n`, 'latin1');
    this.headerBytes = h.length;
    await this.out.write(h);
  }

  async writeRows(words: readonly string[], vectors: Float32Array, dim: number, rowIndex?: Int32Array): Promise<void> {
    let size = 0;
    for (const w of words) size += w.length + 2 + dim * 4;
    // never from the shared pool: the whole allocation is this writer's to reuse
    const whole = this.scratch && this.scratch.length >= size ? this.scratch : Buffer.allocUnsafeSlow(size);
    this.scratch = undefined;
    const buf = whole.subarray(0, size);
    let p = 0;
    const src = new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.length * 4);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      p += buf.write(w, p, 'latin1');
      buf[p++] = SP;
      const r = rowIndex ? rowIndex[i]! : i;
      buf.set(src.subarray(r * dim * 4, (r + 1) * dim * 4), p);
      p += dim * 4;
      buf[p++] = NL;
    }
    this.rows += words.length;
    const flushed = this.out.write(buf);
    if (flushed) {
      // written out: the buffer is free again (a write that only queued it still holds it)
      await flushed;
      this.scratch = whole;
    }
  }

  async end(dim: number): Promise<void> {
    if (this.rows !== this.announced) await this.out.replacePrefix(this.headerBytes, Buffer.from(`${this.rows} ${dim}\n`, 'latin1'));
  }

  get written(): number {
    return this.rows;
  }
}

export const w2vBinCodec: FormatCodec = {
  name: 'w2v-bin',
  description: 'word2vec binary: a `rows dims` line, then `word` SPACE dims float32 per row',
  detect(head) {
    const h = header(head);
    if (!h) return 0;
    return w2vTextCodec.detect(head, 0) ? 0 : 1;
  },
  open: (source) => openWord2vecBin(source),
};

registerFormat(w2vBinCodec);
