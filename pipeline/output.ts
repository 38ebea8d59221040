/**
 * Atomic output: bytes go to a temporary file beside the target, renamed over it only when the
 * whole model is written. After any failure (error, signal) no output file exists.
 * Standard output ('-') is written directly; a reader that closes early ends the run quietly.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { OutputClosedError, OutputError } from './errors.js';
import { release, track } from './cleanup.js';

const FLUSH_BYTES = 1 << 20;

export class OutputFile {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private written = 0;
  private closed = false;
  /** Set when standard output was closed by the reader (EPIPE). */
  stdoutClosed = false;

  /** Bytes in the file (compressed bytes for gzip output). */
  private diskBytes = 0;

  private constructor(
    /** Where the file ends up ('-' for standard output). */
    readonly target: string,
    private readonly tmp: string | undefined,
    private fh: fs.promises.FileHandle | undefined,
    /** 'gzip': every flush is written as one gzip member (concatenated members are one gzip file). */
    readonly compress?: 'gzip',
  ) {}

  /**
   * Opens a temporary file in the target's folder; checks the folder exists and is writable.
   * `compress: 'gzip'` writes gzip (also on standard output).
   */
  static async open(target: string, opts: { compress?: 'gzip' } = {}): Promise<OutputFile> {
    const f = await OutputFile.openRaw(target);
    if (opts.compress) return new OutputFile(f.target, f.tmp, f.fh, opts.compress);
    return f;
  }

  private static async openRaw(target: string): Promise<OutputFile> {
    if (target === '-') return new OutputFile('-', undefined, undefined);
    const dir = path.dirname(path.resolve(target));
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(dir);
    } catch {
      throw new OutputError(`output folder does not exist: ${dir}`, { file: target });
    }
    if (!st.isDirectory()) throw new OutputError(`not a folder: ${dir}`, { file: target });
    let existing: fs.Stats | undefined;
    try {
      existing = await fs.promises.stat(target);
    } catch {
      /* a new file */
    }
    if (existing?.isDirectory()) throw new OutputError('output path is a folder', { file: target });
    if (existing && !existing.isFile()) {
      // A device or pipe (/dev/null, /dev/full, a FIFO): written in place, never renamed over.
      try {
        return new OutputFile(target, undefined, await fs.promises.open(target, 'w'));
      } catch (e) {
        throw new OutputError(`cannot open for writing: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: target });
      }
    }
    const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
    track(tmp);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(tmp, 'wx', 0o644);
    } catch (e) {
      release(tmp);
      throw new OutputError(`cannot write in ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: target });
    }
    return new OutputFile(target, tmp, fh);
  }

  /** Bytes handed to write so far (before compression). */
  get bytes(): number {
    return this.written + this.buffered;
  }

  /** Bytes in the output file so far (after compression; equals `bytes` when not compressed). */
  get fileBytes(): number {
    return this.compress ? this.diskBytes : this.bytes;
  }

  /** Queues bytes; returns a promise only when the buffer was flushed (await it for backpressure). */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.closed) throw new OutputError('write after close', { file: this.target });
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= FLUSH_BYTES) return this.flush();
    return undefined;
  }

  /** write(), waiting for the flush when it made one (backpressure). */
  async put(chunk: Uint8Array): Promise<void> {
    const p = this.write(chunk);
    if (p) await p;
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const chunks = this.chunks;
    const n = this.buffered;
    this.chunks = [];
    this.written += n;
    this.buffered = 0;
    // Small chunks are joined into one write; a large chunk (a huge model's codes) is written from
    // the caller's array as it is, never copied into a concatenation.
    if (chunks.length > 1 && this.fh && !this.compress && chunks.some((c) => c.length >= FLUSH_BYTES)) {
      this.diskBytes += n;
      for (const c of chunks) await this.writeFile(c);
      return;
    }
    let data: Uint8Array = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
    if (this.compress) data = zlib.gzipSync(data, { level: 6 });
    this.diskBytes += data.length;
    if (this.stdoutClosed) return;
    if (this.fh) {
      await this.writeFile(data);
    } else {
      await writeStdout(data).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') {
          this.stdoutClosed = true;
          throw new OutputClosedError();
        }
        throw new OutputError(`write failed: ${e.code ?? String(e)}`, { file: 'standard output' });
      });
    }
  }

  /** Writes all of `data` to the temporary file (or device). */
  private async writeFile(data: Uint8Array): Promise<void> {
    try {
      let off = 0;
      while (off < data.length) {
        const { bytesWritten } = await this.fh!.write(data, off, data.length - off);
        off += bytesWritten;
      }
    } catch (e) {
      throw new OutputError(`write failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: this.target });
    }
  }

  /**
   * Replaces the first `oldLength` bytes written with `prefix` (a header whose row count changed).
   * Rewrites the temporary file once; not possible on standard output.
   */
  async replacePrefix(oldLength: number, prefix: Uint8Array): Promise<void> {
    await this.flush();
    if (!this.fh || !this.tmp) {
      throw new OutputError('cannot correct the header on standard output (duplicate words were dropped); write to a file instead', {
        file: 'standard output',
      });
    }
    await this.fh.close();
    const next = this.tmp + '.2';
    track(next);
    try {
      const w = await fs.promises.open(next, 'w', 0o644);
      const pack = (b: Uint8Array) => (this.compress ? zlib.gzipSync(b, { level: 6 }) : b);
      let disk = 0;
      const put = async (b: Uint8Array) => {
        const d = pack(b);
        disk += d.length;
        await w.write(d);
      };
      await put(prefix);
      if (this.compress) {
        let skip = oldLength;
        for await (const chunk of fs.createReadStream(this.tmp).pipe(zlib.createGunzip())) {
          let b = chunk as Buffer;
          if (skip > 0) {
            const k = Math.min(skip, b.length);
            b = b.subarray(k);
            skip -= k;
          }
          if (b.length) await put(b);
        }
      } else {
        for await (const chunk of fs.createReadStream(this.tmp, { start: oldLength })) await put(chunk as Buffer);
      }
      await w.close();
      this.diskBytes = disk;
      await fs.promises.rename(next, this.tmp);
      release(next);
      this.fh = await fs.promises.open(this.tmp, 'a');
      this.written += prefix.length - oldLength;
    } catch (e) {
      await fs.promises.rm(next, { force: true });
      release(next);
      throw new OutputError(`rewriting the header failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: this.target });
    }
  }

  /** Flushes, closes and renames the temporary file over the target. */
  async commit(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (!this.fh) return;
    try {
      await this.fh.sync().catch(() => undefined);
      await this.fh.close();
      if (!this.tmp) return;
      await fs.promises.rename(this.tmp, this.target);
      release(this.tmp);
    } catch (e) {
      await this.abort();
      throw new OutputError(`cannot finish output: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: this.target });
    }
  }

  /** Removes the temporary file (safe to call more than once). */
  async abort(): Promise<void> {
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    await this.fh?.close().catch(() => undefined);
    if (!this.tmp) return;
    await fs.promises.rm(this.tmp, { force: true }).catch(() => undefined);
    release(this.tmp);
  }
}

function writeStdout(data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
