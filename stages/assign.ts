/**
 * Assign nearest: every row without a target gets the kept row with the highest cosine
 * (exact, blocked kernels over worker threads; ties to the lower kept row). Adds the cosine of
 * every word to the report (plain and frequency-weighted: counts where known, else a Zipf weight
 * 1/(rank+1) by row). Memory: one unit-length copy of the kept table.
 */
import type { Batch } from '../pipeline/batch.js';
import { withAssignment } from '../pipeline/batch.js';
import type { RunContext } from '../pipeline/context.js';
import { CosineStats } from '../pipeline/report.js';
import type { Stage } from '../pipeline/stage.js';
import { fromPromise } from '../pipeline/stream.js';
import { NearestPool, sharedUnitTable } from './kernels/nearest-pool.js';
import { normalizeRows } from './kernels/normalize.js';

export interface AssignOptions {
  /** Worker threads (default: the run's --threads). */
  threads?: number;
}

/** Frequency weight of a row for weighted means: its count, else Zipf by rank. */
export function rowWeight(b: Batch, i: number): number {
  return b.counts ? b.counts[i]! : 1 / (b.start + i + 1);
}

export function assignStage(opts: AssignOptions = {}): Stage {
  let pool: NearestPool | undefined;
  const close = async () => {
    await pool?.close();
    pool = undefined;
  };

  const assignBatch = async (ctx: RunContext, b: Batch): Promise<Batch> => {
    const a = withAssignment(b);
    const dim = b.dim;
    const todo: number[] = [];
    for (let i = 0; i < b.words.length; i++) if (a.target[i]! < 0) todo.push(i);
    if (todo.length === 0) return b;
    const kept = ctx.kept!;
    if (!kept.complete) throw new Error('assign: a row needs a kept row before the kept table is complete');
    if (!pool) {
      const unit = sharedUnitTable(kept.vectors, kept.size, dim);
      pool = new NearestPool(unit, kept.size, dim, opts.threads ?? ctx.options.threads);
    }
    const q = new Float32Array(todo.length * dim);
    for (let j = 0; j < todo.length; j++) q.set(b.vectors.subarray(todo[j]! * dim, (todo[j]! + 1) * dim), j * dim);
    normalizeRows(q, todo.length, dim);
    const r = await pool.search(q, todo.length);
    for (let j = 0; j < todo.length; j++) {
      a.target[todo[j]!] = r.index[j]!;
      a.score[todo[j]!] = r.score[j]!;
    }
    return b;
  };

  return {
    name: 'assign',
    needs: ['model', 'kept'],
    provides: ['assigned'],
    open(ctx) {
      ctx.report.cosine = new CosineStats();
      ctx.report.cosineAll = new CosineStats();
    },
    transform(input, ctx) {
      const mapped = ctx.report.cosine!;
      const all = ctx.report.cosineAll!;
      const kept = ctx.kept!;
      return input
        .map((b: Batch) => fromPromise(assignBatch(ctx, b)))
        .parallel(Math.max(1, ctx.options.threads))
        .map((b: Batch) => {
          for (let i = 0; i < b.words.length; i++) {
            const s = b.score![i]!;
            const w = rowWeight(b, i);
            all.add(s, w);
            if (kept.sourceRow[b.target![i]!] !== b.start + i) mapped.add(s, w);
          }
          return b;
        });
    },
    memory(ctx) {
      const k = ctx.kept;
      return k ? [{ what: 'unit-length copy of the kept table', bytes: k.capacity * k.dim * 4, option: '--keep' }] : [];
    },
    async finish(ctx) {
      await close();
      ctx.report.mapped = ctx.report.cosine!.n;
    },
    async abort() {
      await close();
    },
  };
}

