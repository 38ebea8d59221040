/**
 * Frequency rank: decides which N rows are kept and builds the kept table.
 * - by 'order': the first N rows (word2vec, GloVe and .vec files are sorted by frequency); the
 *   table fills as the stream passes, in one pass.
 * - by 'counts': the N highest counts (ties: earlier row first) via a streaming top-N heap over a
 *   first pass, which also gathers their vectors; the table is ordered by rank.
 * Kept rows get target = their table row and score 1. Memory: N x dim floats plus the heap.
 */
import type { Batch } from '../pipeline/batch.js';
import { withAssignment } from '../pipeline/batch.js';
import { openPass, type RunContext } from '../pipeline/context.js';
import { UsageError } from '../pipeline/errors.js';
import type { Stage } from '../pipeline/stage.js';
import { drain } from '../pipeline/stream.js';
import { KeptTable } from '../pipeline/tables.js';
import { selectByDictionaryCounts } from './dictionary-rank.js';
import { markKeptRows } from './kept-rows.js';
import { TopByCount } from './top-counts.js';

export interface RankOptions {
  /** Rows to keep (N >= 1). */
  keep: number;
  /** 'order' (file order) or 'counts' (needs counts). Default: counts when the model has them. */
  by?: 'order' | 'counts';
}

export function checkKeep(keep: number): void {
  if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep must be a positive integer, got ${keep}`);
}

export function rankStage(opts: RankOptions): Stage {
  checkKeep(opts.keep);
  let by = opts.by;
  let rowToKept: Map<number, number> | undefined;

  return {
    name: 'rank',
    needs: ['model'],
    provides: ['kept'],
    async open(ctx, have) {
      by ??= have.has('counts') ? 'counts' : 'order';
      if (by === 'counts' && !have.has('counts')) {
        throw new UsageError('stage "rank": ranking by counts needs word counts (a counts file or a model with counts)');
      }
      const rows = await ctx.model!.countRows();
      const cap = Math.min(opts.keep, rows);
      if (opts.keep >= rows) ctx.info(`--keep ${opts.keep} >= ${rows} rows: every row is kept, nothing is mapped`);
      ctx.kept = new KeptTable(ctx.model!.info.dim, cap);
      ctx.report.keep = opts.keep;
      ctx.report.method ??= 'topn';
      ctx.report.rankedBy = by;
    },
    async prepare(ctx) {
      if (by !== 'counts') return;
      rowToKept = await selectByCounts(ctx, ctx.kept!);
    },
    transform(input, ctx) {
      const kept = ctx.kept!;
      if (by === 'counts') return markKeptRows(input, rowToKept!);
      return input.map((b: Batch) => {
        const a = withAssignment(b);
        const n = Math.min(b.words.length, kept.capacity - kept.size);
        for (let i = 0; i < n && b.start + i === kept.size; i++) {
          const k = kept.add(b.words[i]!, b.vectors.subarray(i * b.dim, (i + 1) * b.dim), b.start + i, b.counts?.[i] ?? 0);
          a.target[i] = k;
          a.score[i] = 1;
        }
        if (kept.size === kept.capacity && !kept.complete) kept.finish();
        return b;
      });
    },
    memory(ctx) {
      const k = ctx.kept!;
      const items = [{ what: 'kept table', bytes: k.bytes, option: '--keep' }];
      if (by === 'counts') items.push({ what: 'top-N heap and its rows', bytes: k.capacity * (k.dim * 4 + 64), option: '--keep' });
      return items;
    },
    async finish(ctx) {
      if (!ctx.kept!.complete) ctx.kept!.finish();
      ctx.report.kept = ctx.kept!.size;
    },
  };
}

/** First pass: top-N by count with their vectors; fills `kept` in rank order. */
async function selectByCounts(ctx: RunContext, kept: KeptTable): Promise<Map<number, number>> {
  // a fastText dictionary gives every count without computing a vector (dictionary-rank.ts)
  const fromDictionary = await selectByDictionaryCounts(ctx, kept);
  if (fromDictionary) return fromDictionary;
  const n = kept.capacity;
  const dim = kept.dim;
  const slots = new Float32Array(n * dim);
  const words: string[] = new Array(n);
  const top = new TopByCount(n);
  await drain(
    openPass(ctx, 'rank').map((b: Batch) => {
      const c = b.counts!;
      for (let i = 0; i < b.words.length; i++) {
        const slot = top.offer(c[i]!, b.start + i);
        if (slot < 0) continue;
        slots.set(b.vectors.subarray(i * dim, (i + 1) * dim), slot * dim);
        words[slot] = b.words[i]!;
      }
      return b;
    }),
  );
  const entries = top.ranked();
  const map = new Map<number, number>();
  for (const e of entries) {
    const k = kept.add(words[e.slot]!, slots.subarray(e.slot * dim, (e.slot + 1) * dim), e.row, e.count);
    map.set(e.row, k);
  }
  kept.finish();
  return map;
}
