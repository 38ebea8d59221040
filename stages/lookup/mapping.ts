/**
 * Mapping files as the serialize stage writes them: one line per mapped word,
 * `word<TAB>kept label<TAB>cosine`. Words are byte strings (the file's bytes decoded as latin1).
 * Memory: one Map entry per mapped word, the label strings shared with the kept words.
 */
import fs from 'node:fs';
import { InputError } from '../../pipeline/errors.js';
import { forEachLine } from '../text-lines.js';

export interface MappedWord {
  /** Label of the kept row the word maps to (a kept word, or a centroid's label). */
  kept: string;
  /** Cosine between the word's original vector and that row. */
  cosine: number;
}

export async function readMappingFile(file: string): Promise<Map<string, MappedWord>> {
  let data: Buffer;
  try {
    data = await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such mapping file' : `cannot read the mapping file: ${code ?? String(e)}`, { file });
  }
  const map = new Map<string, MappedWord>();
  const labels = new Map<string, string>();
  forEachLine(data, (s, end, line) => {
    const t1 = data.indexOf(0x09, s);
    const t2 = t1 >= 0 && t1 < end ? data.indexOf(0x09, t1 + 1) : -1;
    const t3 = t2 >= 0 && t2 < end ? data.indexOf(0x09, t2 + 1) : -1;
    if (t1 < 0 || t1 >= end || t2 < 0 || t2 >= end || (t3 >= 0 && t3 < end)) {
      throw new InputError('expected `word<TAB>kept word<TAB>cosine` (three tab-separated fields)', { file, line, offset: s });
    }
    const word = data.toString('latin1', s, t1);
    let kept = data.toString('latin1', t1 + 1, t2);
    kept = labels.get(kept) ?? (labels.set(kept, kept), kept);
    const cosText = data.toString('latin1', t2 + 1, end);
    const cosine = Number(cosText);
    if (cosText.trim() === '' || !Number.isFinite(cosine)) {
      throw new InputError(`expected a cosine in the third field, found ${JSON.stringify(cosText.slice(0, 40))}`, { file, line, offset: t2 + 1 });
    }
    if (!map.has(word)) map.set(word, { kept, cosine });
  });
  return map;
}
