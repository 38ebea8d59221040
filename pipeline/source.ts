/**
 * A model source that can be read more than once: a file is simply re-read; standard input is
 * spilled to a temporary file on open (removed at the end, whatever happens).
 * Also gives random access (`read`) for formats that keep rows at offsets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
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
    if (!this.fh) this.fh = await fs.promises.open(this.path, 'r');
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
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

/** A source over an in-memory buffer, written to a temporary file (tests, examples). */
export async function sourceFromBuffer(data: Uint8Array, name = 'buffer'): Promise<Source> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'prune-pipe-buf-'));
  track(dir);
  const file = path.join(dir, 'input');
  await fs.promises.writeFile(file, data);
  const st = await fs.promises.stat(file);
  return new FileSource(name, file, st.size, st.mtimeMs, true);
}
