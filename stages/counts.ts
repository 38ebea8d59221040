/**
 * Counts from a `word<TAB>count` file (any order). Attaches a counts column to every pass, so the
 * rank stage can select by frequency. Words missing from the file count 0; a word listed twice
 * adds up. Memory: one Map entry per word of the file.
 */
import fs from 'node:fs';
import type { Batch } from '../pipeline/batch.js';
import { InputError } from '../pipeline/errors.js';
import type { Stage } from '../pipeline/stage.js';
import type { RunContext } from '../pipeline/context.js';
import { wordFromBytes } from '../pipeline/words.js';
import { forEachLine } from './text-lines.js';

export interface CountsOptions {
  /** Path of the counts file. */
  file: string;
}

/** Reads a counts file into a map from byte-string word to count. */
export async function readCountsFile(file: string): Promise<Map<string, number>> {
  let data: Buffer;
  try {
    data = await fs.promises.readFile(file);
  } catch (e) {
    throw new InputError(`cannot read counts file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file });
  }
  const counts = new Map<string, number>();
  forEachLine(data, (s, end, line) => {
    const tab = data.indexOf(0x09, s);
    if (tab < 0 || tab >= end) throw new InputError('expected `word<TAB>count`', { file, line, offset: s });
    if (tab === s) throw new InputError('empty word before the tab', { file, line, offset: s });
    const text = data.toString('latin1', tab + 1, end).trim();
    const n = /^\d+(\.\d+)?([eE][+]?\d+)?$/.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(n)) {
      throw new InputError(`count is not a non-negative number: ${JSON.stringify(text.slice(0, 40))}`, { file, line, offset: tab + 1 });
    }
    const w = wordFromBytes(data, s, tab);
    counts.set(w, (counts.get(w) ?? 0) + n);
  });
  if (counts.size === 0) throw new InputError('counts file has no entries', { file });
  return counts;
}

/** Attaches `counts` to every batch of every pass (missing words count 0). */
export function attachCounts(ctx: RunContext, counts: Map<string, number>, file: string): void {
  let matched = 0;
  ctx.decorators.push((b: Batch) => {
    const c = new Float64Array(b.words.length);
    for (let i = 0; i < b.words.length; i++) {
      const v = counts.get(b.words[i]!);
      if (v !== undefined) {
        c[i] = v;
        matched++;
      }
    }
    b.counts = c;
    return b;
  });
  ctx.report.counts = { file, words: counts.size, matched: () => matched };
}

/** Stage: attach counts from a file to every batch of every pass. */
export function countsStage(opts: CountsOptions): Stage {
  return {
    name: 'counts',
    needs: ['model'],
    provides: ['counts'],
    async open(ctx) {
      attachCounts(ctx, await readCountsFile(opts.file), opts.file);
    },
  };
}
