/**
 * A model source that can be read more than once: a file is simply re-read; standard input is
 * spilled to a temporary file on open (removed at the end, whatever happens).
 * Also gives random access (`read`) for formats that keep rows at offsets.
 */
import fs from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
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
  /**
   * Bytes of model data. For a gzip-compressed file the decompressed size is not known before
   * reading: this is then an upper bound (the compressed size x 1032, deflate's largest ratio).
   */
  readonly size: number;
  /** Bytes on disk (what progress counts against). */
  readonly fileSize: number;
  /** 'gzip' when the file is gzip-compressed (detected from its first bytes). */
  readonly compressed?: 'gzip';
  /** Bytes of the file consumed by the latest `open` stream (compressed bytes for gzip). */
  fileBytesRead(): number;
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
  /** The handle of reads at offsets, opened by the first read (once, however many reads start together). */
  private fh: Promise<fs.promises.FileHandle> | undefined;
  protected lastStream: fs.ReadStream | undefined;
  constructor(
    readonly name: string,
    readonly path: string,
    readonly size: number,
    protected readonly mtimeMs: number,
    protected readonly spill: boolean,
  ) {}

  get fileSize(): number {
    return this.size;
  }

  fileBytesRead(): number {
    return this.lastStream?.bytesRead ?? 0;
  }

  open(opts: { start?: number; end?: number; highWaterMark?: number } = {}): Readable {
    const end = opts.end === undefined ? undefined : opts.end - 1;
    if (end !== undefined && end < (opts.start ?? 0)) return Readable.from([]);
    this.lastStream = fs.createReadStream(this.path, {
      start: opts.start ?? 0,
      end,
      highWaterMark: opts.highWaterMark ?? 1 << 20,
    });
    return this.lastStream;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    const got = await this.readInto(position, buf);
    return got === length ? buf : buf.subarray(0, got);
  }

  async readInto(position: number, dst: Uint8Array): Promise<number> {
    const fh = await (this.fh ??= fs.promises.open(this.path, 'r'));
    let got = 0;
    while (got < dst.length) {
      const { bytesRead } = await fh.read(dst, got, dst.length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  }

  async checkUnchanged(): Promise<void> {
    if (this.spill) return;
    const st = await fs.promises.stat(this.path);
    if (st.size !== this.fileSize || st.mtimeMs !== this.mtimeMs) {
      throw new InputError(
        `the file changed while it was being read (size ${this.fileSize} -> ${st.size}); rerun on a stable copy`,
        { file: this.name },
      );
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.then((h) => h.close()).catch(() => undefined);
    if (this.spill) {
      await fs.promises.rm(path.dirname(this.path), { recursive: true, force: true }).catch(() => undefined);
      release(path.dirname(this.path));
    }
  }
}

/** Largest expansion of deflate data (RFC 1951 stored/fixed blocks): a bound for allocation checks. */
const MAX_GZIP_RATIO = 1032;
/** Decompressed bytes kept from the start of a gzip file for format detection and headers. */
const GZIP_HEAD = 1 << 20;

/**
 * A gzip-compressed file, read by streaming through zlib (concatenated members included). Passes
 * decompress again; random access works only within the first MiB (headers), so formats that read
 * rows at offsets refuse compressed input up front (see FormatCodec.randomAccess).
 */
class GzipSource extends FileSource {
  readonly compressed = 'gzip' as const;
  private head: Buffer = Buffer.alloc(0);

  constructor(name: string, path: string, private readonly onDisk: number, mtimeMs: number, spill: boolean) {
    super(name, path, onDisk * MAX_GZIP_RATIO, mtimeMs, spill);
  }

  override get fileSize(): number {
    return this.onDisk;
  }

  /** Decompresses the first MiB (or the whole file if smaller) for `read`. */
  async loadHead(): Promise<void> {
    const parts: Buffer[] = [];
    let got = 0;
    const s = this.open();
    try {
      for await (const c of s) {
        parts.push(c as Buffer);
        got += (c as Buffer).length;
        if (got >= GZIP_HEAD) break;
      }
    } finally {
      s.destroy();
    }
    this.head = Buffer.concat(parts);
  }

  override open(opts: { start?: number; end?: number; highWaterMark?: number } = {}): Readable {
    const raw = fs.createReadStream(this.path, { highWaterMark: 1 << 20 });
    this.lastStream = raw;
    const gunzip = zlib.createGunzip({ chunkSize: 1 << 16 });
    const name = this.name;
    raw.on('error', (e) => gunzip.destroy(e));
    gunzip.on('close', () => raw.destroy());
    raw.pipe(gunzip);
    const start = opts.start ?? 0;
    const end = opts.end ?? Infinity;
    const wrapped = Readable.from(
      (async function* () {
        let pos = 0;
        try {
          for await (const c of gunzip) {
            const b = c as Buffer;
            const a = Math.max(start - pos, 0);
            const z = Math.min(b.length, end - pos);
            pos += b.length;
            if (z > a) yield b.subarray(a, z);
            if (pos >= end) break;
          }
        } catch (e) {
          throw new InputError(`gzip data is corrupt or truncated (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
            file: name,
            offset: raw.bytesRead,
          });
        } finally {
          gunzip.destroy();
        }
      })(),
      { objectMode: false },
    );
    return wrapped;
  }

  override async readInto(position: number, dst: Uint8Array): Promise<number> {
    if (position + dst.length > this.head.length && this.head.length >= GZIP_HEAD) {
      throw new InputError(
        'reading at this offset needs random access, which a gzip-compressed file does not give; decompress it first (or use --spill)',
        { file: this.name, offset: position },
      );
    }
    if (position >= this.head.length) return 0;
    const part = this.head.subarray(position, Math.min(this.head.length, position + dst.length));
    dst.set(part);
    return part.length;
  }
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** A source for a file on disk: plain, or gzip-compressed (from its magic bytes, not its name). */
async function fileSource(name: string, file: string, spill: boolean): Promise<Source> {
  const st = await fs.promises.stat(file);
  if (await isGzip(file)) {
    const g = new GzipSource(name, file, st.size, st.mtimeMs, spill);
    await g.loadHead();
    return g;
  }
  return new FileSource(name, file, st.size, st.mtimeMs, spill);
}

/**
 * Decompresses a gzip source into a temporary file (removed at the end) and returns a plain
 * source over it, for formats that need random access (--spill).
 */
export async function spillSource(src: Source): Promise<Source> {
  if (!src.compressed) return src;
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'prune-pipe-spill-'));
  track(dir);
  const file = path.join(dir, 'input');
  try {
    await streamPipeline(src.open(), fs.createWriteStream(file));
  } catch (e) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    release(dir);
    throw e;
  } finally {
    await src.close();
  }
  const st = await fs.promises.stat(file);
  return new FileSource(src.name, file, st.size, st.mtimeMs, true);
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
    return fileSource('standard input', file, true);
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
  return fileSource(name, name, false);
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

  get fileSize(): number {
    return this.data.length;
  }

  fileBytesRead(): number {
    return 0;
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
