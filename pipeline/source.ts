/**
 * A model source that can be read more than once: a file is simply re-read; standard input is
 * spilled to a temporary file on open (removed at the end, whatever happens).
 * Also gives random access (`read`) for formats that keep rows at offsets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { InputError } from './errors.js';
import { release, track } from './cleanup.js';

export interface Source {
  /** Name for messages: the path as given, or 'standard input'. */
  readonly name: string;
  /** A readable path on disk (the spill file for standard input). */
  readonly path: string;
  /** Bytes. */
  readonly size: number;
  /** A new sequential read of bytes [start, end). */
  open(opts?: { start?: number; end?: number; highWaterMark?: number }): Readable;
  /** Reads exactly `length` bytes at `position` (fewer only at end of file). */
  read(position: number, length: number): Promise<Buffer>;
  /** Fills `dst` from `position` without an intermediate buffer; returns bytes read (fewer only at end). */
  readInto(position: number, dst: Uint8Array): Promise<number>;
  /** Throws if the file changed since it was opened (size or modification time). */
  checkUnchanged(): Promise<void>;
  /** Releases handles and removes any spill file. */
  close(): Promise<void>;
}

class FileSource implements Source {
  private fh: fs.promises.FileHandle | undefined;
  constructor(
    readonly name: string,
    readonly path: string,
    readonly size: number,
    private readonly mtimeMs: number,
    private readonly spill: boolean,
  ) {}

  open(opts: { start?: number; end?: number; highWaterMark?: number } = {}): Readable {
    const end = opts.end === undefined ? undefined : opts.end - 1;
    if (end !== undefined && end < (opts.start ?? 0)) {
      return fs.createReadStream(this.path, { start: 0, end: -1 } as never);
    }
    return fs.createReadStream(this.path, {
      start: opts.start ?? 0,
      end,
      highWaterMark: opts.highWaterMark ?? 1 << 20,
    });
  }

  async read(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    const got = await this.readInto(position, buf);
    return got === length ? buf : buf.subarray(0, got);
  }

  async readInto(position: number, dst: Uint8Array): Promise<number> {
    if (!this.fh) this.fh = await fs.promises.open(this.path, 'r');
    let got = 0;
    while (got < dst.length) {
      const { bytesRead } = await this.fh.read(dst, got, dst.length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  }

  async checkUnchanged(): Promise<void> {
    if (this.spill) return;
    const st = await fs.promises.stat(this.path);
    if (st.size !== this.size || st.mtimeMs !== this.mtimeMs) {
      throw new InputError(
        `the file changed while it was being read (size ${this.size} -> ${st.size}); rerun on a stable copy`,
        { file: this.name },
      );
    }
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    if (this.spill) {
      await fs.promises.rm(path.dirname(this.path), { recursive: true, force: true }).catch(() => undefined);
      release(path.dirname(this.path));
    }
  }
}

/** Opens a file, or '-' for standard input (spilled to a temporary file first). */
export async function openSource(name: string, stdin: Readable = process.stdin): Promise<Source> {
  if (name === '-') {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'prune-pipe-stdin-'));
    track(dir);
    const file = path.join(dir, 'input');
    try {
      await streamPipeline(stdin, fs.createWriteStream(file));
    } catch (e) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      release(dir);
      throw new InputError(`cannot read standard input: ${String(e)}`, { file: 'standard input' });
    }
    const st = await fs.promises.stat(file);
    return new FileSource('standard input', file, st.size, st.mtimeMs, true);
  }
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot open: ${code}`, { file: name });
  }
  if (st.isDirectory()) throw new InputError('is a folder, not a model file', { file: name });
  try {
    await fs.promises.access(name, fs.constants.R_OK);
  } catch {
    throw new InputError('not readable', { file: name });
  }
  return new FileSource(name, name, st.size, st.mtimeMs, false);
}

/** A source over bytes in memory (tests, fuzzing, library users with a model in a Buffer). */
class MemorySource implements Source {
  readonly path = '';
  constructor(
    readonly name: string,
    private readonly data: Buffer,
  ) {}

  get size(): number {
    return this.data.length;
  }

  open(opts: { start?: number; end?: number; highWaterMark?: number } = {}): Readable {
    const start = Math.min(opts.start ?? 0, this.data.length);
    const end = Math.max(start, Math.min(opts.end ?? this.data.length, this.data.length));
    const step = opts.highWaterMark ?? 1 << 16;
    const data = this.data;
    return Readable.from(
      (function* () {
        for (let p = start; p < end; p += step) yield data.subarray(p, Math.min(end, p + step));
      })(),
      { objectMode: false },
    );
  }

  async read(position: number, length: number): Promise<Buffer> {
    if (position >= this.data.length) return Buffer.alloc(0);
    return Buffer.from(this.data.subarray(position, Math.min(this.data.length, position + length)));
  }

  async readInto(position: number, dst: Uint8Array): Promise<number> {
    if (position >= this.data.length) return 0;
    const part = this.data.subarray(position, Math.min(this.data.length, position + dst.length));
    dst.set(part);
    return part.length;
  }

  async checkUnchanged(): Promise<void> {}
  async close(): Promise<void> {}
}

export async function sourceFromBuffer(data: Uint8Array, name = 'buffer'): Promise<Source> {
  return new MemorySource(name, Buffer.from(data.buffer, data.byteOffset, data.length));
}
