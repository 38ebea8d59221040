/**
 * Little-endian reading of the fastText binary layout from a Source, with every read bounded by
 * the file size and every failure an InputError naming the byte offset and the part being read.
 * The cursor keeps a window of the file in memory (refilled in chunks), so a dictionary of
 * millions of words is read without holding the file.
 */
import { InputError } from '../../../pipeline/errors.js';
import type { Source } from '../../../pipeline/source.js';

const CHUNK = 1 << 20;

export class Cursor {
  private buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private base = 0;
  /** Current file offset. */
  pos: number;
  /** What is being read (for messages), e.g. 'header', 'dictionary'. */
  part: string;

  constructor(
    readonly source: Source,
    start = 0,
    part = 'header',
  ) {
    this.pos = start;
    this.part = part;
  }

  get size(): number {
    return this.source.size;
  }

  /** Bytes left from the current offset to the end of the file. */
  get remaining(): number {
    return this.source.size - this.pos;
  }

  /** An InputError at `offset` (default: the current offset) in the current part. */
  error(message: string, offset = this.pos): InputError {
    return new InputError(message, { file: this.source.name, offset, part: this.part });
  }

  /** Makes bytes [pos, pos + n) available in the window; throws when the file is shorter. */
  async need(n: number, what: string): Promise<void> {
    if (this.pos + n > this.source.size) {
      throw this.error(`file ends inside ${what}: ${n} bytes needed, ${Math.max(0, this.source.size - this.pos)} left (truncated?)`);
    }
    if (this.pos >= this.base && this.pos + n <= this.base + this.buf.length) return;
    const len = Math.min(Math.max(n, CHUNK), this.source.size - this.pos);
    this.buf = await this.source.read(this.pos, len);
    this.base = this.pos;
    if (this.buf.length < n) throw this.error(`file ends inside ${what} (read ${this.buf.length} of ${n} bytes)`);
  }

  /** The bytes of the window from the current offset (possibly empty); for synchronous fast paths. */
  window(): Buffer {
    const a = this.pos - this.base;
    return a >= 0 && a <= this.buf.length ? this.buf.subarray(a) : Buffer.alloc(0);
  }

  private at(): number {
    return this.pos - this.base;
  }

  async i32(what: string): Promise<number> {
    await this.need(4, what);
    const v = this.buf.readInt32LE(this.at());
    this.pos += 4;
    return v;
  }

  async u8(what: string): Promise<number> {
    await this.need(1, what);
    const v = this.buf[this.at()]!;
    this.pos += 1;
    return v;
  }

  /** A 0/1 byte (C++ bool); other values mean the layout is not what we think it is. */
  async bool(what: string): Promise<boolean> {
    const at = this.pos;
    const v = await this.u8(what);
    if (v > 1) throw this.error(`expected ${what} as a boolean byte 0 or 1, found ${v}`, at);
    return v === 1;
  }

  async f64(what: string): Promise<number> {
    await this.need(8, what);
    const v = this.buf.readDoubleLE(this.at());
    this.pos += 8;
    return v;
  }

  /** A signed 64-bit integer; values beyond 2^53 are reported as corrupt. */
  async i64(what: string): Promise<number> {
    await this.need(8, what);
    const at = this.pos;
    const v = this.buf.readBigInt64LE(this.at());
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.error(`${what} is ${v}, beyond any plausible size`, at);
    }
    return Number(v);
  }

  /** `count` little-endian float32 values, copied into an aligned array. */
  async f32s(count: number, what: string): Promise<Float32Array> {
    await this.need(count * 4, what);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(this.buf.subarray(this.at(), this.at() + count * 4));
    this.pos += count * 4;
    return out;
  }

  /**
   * Bytes up to the next NUL (not included); the cursor moves past the NUL. Throws when no NUL
   * comes before the end of the file or within `maxLength` bytes.
   */
  async cString(what: string, maxLength: number): Promise<Buffer> {
    const start = this.pos;
    let parts: Buffer[] | undefined;
    let length = 0;
    for (;;) {
      if (this.pos >= this.source.size) {
        throw this.error(`${what} has no NUL terminator before the end of the file (truncated?)`, start);
      }
      await this.need(1, what);
      const a = this.at();
      const nul = this.buf.indexOf(0, a);
      const end = nul < 0 ? this.buf.length : nul;
      length += end - a;
      if (length > maxLength) throw this.error(`${what} is longer than ${maxLength} bytes without a NUL terminator (corrupt dictionary?)`, start);
      if (nul >= 0 && !parts) {
        this.pos += end - a + 1;
        return this.buf.subarray(a, end);
      }
      (parts ??= []).push(Buffer.from(this.buf.subarray(a, end)));
      this.pos += end - a;
      if (nul >= 0) {
        this.pos += 1;
        return Buffer.concat(parts, length);
      }
    }
  }

  skip(n: number): void {
    this.pos += n;
  }
}

/**
 * Reads straight into the caller's memory (a row buffer, a batch), with no intermediate buffer:
 * matrix rows are the bulk of a model and are read many times. Reads go through the source
 * (files and in-memory sources alike).
 */
export class RowFile {
  constructor(readonly source: Source) {}

  get name(): string {
    return this.source.name;
  }

  /** Fills `dst` from `position`; returns the bytes read (fewer only at the end of the file). */
  readInto(position: number, dst: Uint8Array): Promise<number> {
    return this.source.readInto(position, dst);
  }

  async close(): Promise<void> {}
}
