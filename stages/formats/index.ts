/**
 * All format codecs, registered on import, and detection from content.
 */
import { InputError, UsageError } from '../../pipeline/errors.js';
import type { ModelReader } from '../../pipeline/model.js';
import type { Source } from '../../pipeline/source.js';
import { allFormats, formatNames, getFormat, type FormatCodec, type OpenOptions } from './registry.js';
import './text.js';
import './word2vec-bin.js';
import './fifu/index.js';
import './fasttext/index.js';

export { formatNames, getFormat, allFormats };
export type { FormatCodec };

/** Picks the codec for a source: `from` if given, else the most certain detector. */
export async function detectFormat(source: Source, from?: string): Promise<FormatCodec> {
  if (from) {
    const c = getFormat(from);
    if (!c) throw new UsageError(`unknown input format "${from}"; known: ${formatNames().join(', ')}`);
    return c;
  }
  const head = await source.read(0, Math.min(source.size, 1 << 16));
  if (head.length === 0) throw new InputError('empty file', { file: source.name, offset: 0 });
  let best: FormatCodec | undefined;
  let score = 0;
  for (const c of allFormats()) {
    const s = c.detect(head, source.size);
    if (s > score) {
      score = s;
      best = c;
    }
  }
  if (!best) {
    throw new InputError(`unrecognised format (known: ${formatNames().join(', ')}); use --from to say which`, {
      file: source.name,
      offset: 0,
    });
  }
  return best;
}

/** Detects (or takes) the format and opens a reader. */
export async function openModel(source: Source, from?: string, opts?: OpenOptions): Promise<ModelReader> {
  const c = await detectFormat(source, from);
  if (source.compressed && c.randomAccess) {
    throw new InputError(
      `${c.name} files are read at row offsets, which a gzip-compressed file cannot give; decompress it first, or pass --spill to decompress into a temporary file`,
      { file: source.name, offset: 0 },
    );
  }
  return c.open(source, opts);
}
