/**
 * Little-endian byte plumbing shared by the finalfusion chunk modules: a buffered sequential reader
 * over a Source that knows which chunk it is in (every error names the chunk and the byte offset),
 * and a growable writer for chunk bodies.
 */
import os from 'node:os';
import { InputError } from '../../../pipeline/errors.js';
import type { Source } from '../../../pipeline/source.js';
import { wordFromBytes } from '../../../pipeline/words.js';

if (os.endianness() !== 'LE') throw new Error('the finalfusion codec reads float32 data as little-endian and needs a little-endian machine');

const BLOCK = 1 << 20;

/** Sequential reader of bytes [pos, end) of a source, for one named part of the file. */
export class ChunkReader {
  private buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private base: number;
  private p = 0;

  constructor(
    readonly source: Source,
    start: number,
    /** Offset where this part ends (reads past it are errors). */
    readonly end: number,
    /** Name of the part for messages, e.g. 'SimpleVocab chunk'. */
    public part: string,
  ) {
    this.base = start;
  }

  /** File offset of the next byte. */
  get pos(): number {
    return this.base + this.p;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string, offset = this.pos): never {
    throw new InputError(message, { file: this.source.name, offset, part: this.part });
  }

  /** Makes `n` bytes available; `what` names them for the error when the part ends first. */
  async need(n: number, what: string): Promise<void> {
    if (this.buf.length - this.p >= n) return;
    if (this.pos + n > this.end) {
      this.fail(`expected ${what} (${n} bytes) but the ${this.part} ends at byte ${this.end}${this.end >= this.source.size ? ' (end of file)' : ''}`);
    }
    const keep = this.buf.subarray(this.p);
    const want = Math.min(Math.max(n, BLOCK), this.end - this.pos);
    const more = await this.source.read(this.pos + keep.length, want - keep.length);
    if (more.length < want - keep.length) this.fail(`expected ${what} but the file ends at byte ${this.pos + keep.length + more.length}`);
    this.base = this.pos;
    this.buf = keep.length ? Buffer.concat([keep, more]) : more;
    this.p = 0;
  }

  /** Synchronous reads: call `need` first. */
  u32(): number {
    const v = this.buf.readUInt32LE(this.p);
    this.p += 4;
    return v;
  }

  /** A u64 as a number; values above 2^53 are reported as an error naming `what`. */
  u64(what: string): number {
    const lo = this.buf.readUInt32LE(this.p);
    const hi = this.buf.readUInt32LE(this.p + 4);
    if (hi >= 0x200000) this.fail(`${what} is ${(BigInt(hi) << 32n) | BigInt(lo)}, far larger than the file (${this.source.size} bytes)`);
    this.p += 8;
    return hi * 4294967296 + lo;
  }

  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.p, this.p + n);
    this.p += n;
    return b;
  }

  skip(n: number): void {
    this.p += n;
  }

  async readU32(what: string): Promise<number> {
    await this.need(4, what);
    return this.u32();
  }

  async readU64(what: string): Promise<number> {
    await this.need(8, what);
    return this.u64(what);
  }

  /** A u32-length-prefixed string as a byte string; `what` names it ('word 17'). */
  async readString(what: string): Promise<string> {
    if (this.buf.length - this.p < 4) await this.need(4, `the length of ${what}`);
    const at = this.pos;
    const len = this.u32();
    if (len > this.end - this.pos) {
      this.fail(`${what} claims ${len} bytes at byte ${at}, but only ${this.end - this.pos} remain in the ${this.part} (truncated string)`, at);
    }
    if (this.buf.length - this.p < len) await this.need(len, what);
    const s = wordFromBytes(this.buf, this.p, this.p + len);
    this.p += len;
    return s;
  }

  /** Skips a u32-length-prefixed string (validating its length). */
  async skipString(what: string): Promise<void> {
    if (this.buf.length - this.p < 4) await this.need(4, `the length of ${what}`);
    const at = this.pos;
    const len = this.u32();
    if (len > this.end - this.pos) {
      this.fail(`${what} claims ${len} bytes at byte ${at}, but only ${this.end - this.pos} remain in the ${this.part} (truncated string)`, at);
    }
    if (this.buf.length - this.p >= len) this.p += len;
    else {
      const skipTo = this.pos + len;
      this.buf = Buffer.alloc(0);
      this.p = 0;
      this.base = skipTo;
    }
  }
}

/** Growable little-endian byte builder for chunk bodies. */
export class ByteWriter {
  private buf: Buffer;
  length = 0;
  constructor(capacity = 256) {
    this.buf = Buffer.alloc(capacity);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = Buffer.alloc(cap);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }

  u64(v: number): this {
    this.ensure(8);
    this.buf.writeUInt32LE(v % 4294967296, this.length);
    this.buf.writeUInt32LE(Math.floor(v / 4294967296), this.length + 4);
    this.length += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }

  /** A u32 length and the bytes of a byte string. */
  string(s: string): this {
    const b = Buffer.from(s, 'latin1');
    this.u32(b.length);
    return this.bytes(b);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * Padding finalfusion puts before f32 data: 4 - (pos mod 4) bytes, where `pos` is the file offset
 * right after the chunk's type identifier(s); so 1 to 4 bytes, 4 when already aligned.
 */
export function f32Padding(pos: number): number {
  return 4 - (pos % 4);
}

/** Little-endian float32 bytes to a fresh Float32Array (copied, so alignment never matters). */
export function f32FromBytes(b: Uint8Array): Float32Array {
  const out = new Float32Array(b.length >>> 2);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  return out;
}

/** The bytes of a Float32Array view (no copy). */
export function f32Bytes(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.length * 4);
}
