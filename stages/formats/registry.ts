/**
 * Format codecs known to the readers: detection from content and opening a reader.
 * Each codec module owns both directions of its format (its reader and its writer).
 */
import type { ModelReader } from '../../pipeline/model.js';
import type { Source } from '../../pipeline/source.js';

export interface OpenOptions {
  /** Rows per batch (readers may ignore it). */
  batchRows?: number;
  /** Bytes a reader may hold for rows it reads on demand (fastText: the n-gram rows and a pass's sums). */
  memoryBytes?: number;
  /** Threads a reader may use for its own heavy work (fastText: adding n-gram rows in sweeps). */
  threads?: number;
}

export interface FormatCodec {
  /** Name used by --from/--to. */
  readonly name: string;
  /** Short description for --help. */
  readonly description: string;
  /**
   * How sure we are that a file starting with `head` (its first 64 KiB or less) is this format:
   * 0 = no, 1 = plausible (text heuristics), 2 = certain (magic number).
   */
  detect(head: Buffer, size: number): number;
  open(source: Source, opts?: OpenOptions): Promise<ModelReader>;
  /** The reader reads rows at offsets, so it cannot read a gzip-compressed file in place. */
  readonly randomAccess?: boolean;
}

const codecs = new Map<string, FormatCodec>();

export function registerFormat(c: FormatCodec): void {
  codecs.set(c.name, c);
}

export function formatNames(): string[] {
  return [...codecs.keys()];
}

export function getFormat(name: string): FormatCodec | undefined {
  return codecs.get(name);
}

export function allFormats(): FormatCodec[] {
  return [...codecs.values()];
}
