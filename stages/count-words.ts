/**
 * Count words: makes counts from a text corpus (tokens separated by whitespace, as bytes;
 * optionally lower-cased for ASCII letters), attaches them to every pass like a counts file, and
 * can write them as `word<TAB>count` (most frequent first). Memory: one Map entry per distinct
 * token of the text.
 */
import fs from 'node:fs';
import { InputError } from '../pipeline/errors.js';
import { OutputFile } from '../pipeline/output.js';
import type { Stage } from '../pipeline/stage.js';
import { wordFromBytes } from '../pipeline/words.js';
import { attachCounts } from './counts.js';

export interface CountWordsOptions {
  /** Path of the text file. */
  text: string;
  /** Also write the counts here. */
  output?: string;
  /** Lower-case ASCII letters before counting (default false: words as they are). */
  lowercase?: boolean;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x0b;
}

/** Counts whitespace-separated tokens of a file, streaming. */
export async function countWords(file: string, lowercase = false): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let carry: Buffer = Buffer.alloc(0);
  const add = (b: Buffer, s: number, e: number) => {
    let w = wordFromBytes(b, s, e);
    if (lowercase) w = w.replace(/[A-Z]+/g, (m) => m.toLowerCase());
    counts.set(w, (counts.get(w) ?? 0) + 1);
  };
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
      const b = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      let i = 0;
      let start = -1;
      let lastEnd = 0;
      for (; i < b.length; i++) {
        if (isSpace(b[i]!)) {
          if (start >= 0) add(b, start, i);
          start = -1;
          lastEnd = i + 1;
        } else if (start < 0) start = i;
      }
      carry = b.subarray(start >= 0 ? start : lastEnd);
    }
  } catch (e) {
    throw new InputError(`cannot read text: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file });
  }
  if (carry.length) add(carry, 0, carry.length);
  if (counts.size === 0) throw new InputError('no words in the text', { file, offset: 0 });
  return counts;
}

export function countWordsStage(opts: CountWordsOptions): Stage {
  return {
    name: 'count-words',
    needs: ['model'],
    provides: ['counts'],
    async open(ctx) {
      const counts = await countWords(opts.text, opts.lowercase);
      attachCounts(ctx, counts, opts.text);
      if (opts.output) {
        const out = await OutputFile.open(opts.output);
        try {
          const rows = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
          for (let i = 0; i < rows.length; i += 10000) {
            await out.write(Buffer.from(rows.slice(i, i + 10000).map(([w, c]) => `${w}\t${c}\n`).join(''), 'latin1'));
          }
          await out.commit();
        } catch (e) {
          await out.abort();
          throw e;
        }
      }
      ctx.info(`counted ${counts.size} distinct words in ${opts.text}`);
    },
  };
}
