/**
 * Word-pair similarity files (WordSim-353 and the like): `word1<TAB>word2<TAB>score` per line,
 * lines starting with '#' and blank lines ignored. Words are byte strings (the file's bytes).
 */
import fs from 'node:fs';
import { InputError } from '../../pipeline/errors.js';
import { wordFromText } from '../../pipeline/words.js';
import { isValidUtf8 } from '../../pipeline/words.js';

export interface WordPair {
  a: string;
  b: string;
  /** Human similarity judgement. */
  score: number;
  line: number;
}

export interface PairsOptions {
  /** Lower-case the words (decoded as UTF-8; words that are not valid UTF-8 stay as they are). */
  lowercase?: boolean;
}

export async function readPairsFile(file: string, opts: PairsOptions = {}): Promise<WordPair[]> {
  let data: Buffer;
  try {
    data = await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such pairs file' : `cannot read the pairs file: ${code ?? String(e)}`, { file });
  }
  const lower = (w: string): string => {
    if (!opts.lowercase) return w;
    const bytes = Buffer.from(w, 'latin1');
    return isValidUtf8(bytes) ? wordFromText(bytes.toString('utf8').toLowerCase()) : w;
  };
  const pairs: WordPair[] = [];
  const lines = data.toString('latin1').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.replace(/\r$/, '');
    if (text.trim() === '' || text.startsWith('#')) continue;
    const f = text.split('\t');
    if (f.length !== 3) {
      throw new InputError(`expected \`word1<TAB>word2<TAB>score\`, found ${f.length} tab-separated field${f.length === 1 ? '' : 's'}`, { file, line: i + 1 });
    }
    const score = Number(f[2]);
    if (f[2]!.trim() === '' || !Number.isFinite(score)) {
      throw new InputError(`expected a number as the score, found ${JSON.stringify(f[2]!.slice(0, 40))}`, { file, line: i + 1 });
    }
    if (!f[0] || !f[1]) throw new InputError('empty word', { file, line: i + 1 });
    pairs.push({ a: lower(f[0]), b: lower(f[1]), score, line: i + 1 });
  }
  if (pairs.length === 0) throw new InputError('no word pairs in the file', { file });
  return pairs;
}
