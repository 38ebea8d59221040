/**
 * Assign nearest: every row without a target gets the kept row with the highest cosine.
 * `search` (search.ts): exact (SIMD kernel over worker threads; ties to the lower kept row),
 * approx (HNSW candidates, exact cosine among them, verified on a random sample at the end: the
 * run fails with exit 5 below `minAgreement`), or auto (by size; the choice is logged and
 * reported under `search`). With `index: 'ngram'` (a subword model) the candidates are the kept
 * words sharing n-gram rows with the word (docs/ngram-search.md). Adds the cosine of every word to
 * the report (plain and frequency-weighted: counts where known, else a Zipf weight 1/(rank+1) by row).
 * Memory: one padded unit-length copy of the kept table, plus the index in approx mode.
 */
import type { Batch } from '../pipeline/batch.js';
import { withAssignment } from '../pipeline/batch.js';
import type { RunContext } from '../pipeline/context.js';
import { CosineStats } from '../pipeline/report.js';
import type { Stage } from '../pipeline/stage.js';
import { fromPromise } from '../pipeline/stream.js';
import { normalizeRows } from './kernels/normalize.js';
import { checkSearchOptions, enforceVerification, indexKind, NearestSearch, type SearchOptions, type Verification } from './search.js';

export interface AssignOptions extends SearchOptions {
  /** Worker threads (default: the run's --threads). */
  threads?: number;
  /** Set on an exact rerun after an approximate run failed its check (reported as search.fallback_from). */
  fallbackFrom?: Verification;
}

/** Frequency weight of a row for weighted means: its count, else Zipf by rank. */
export function rowWeight(b: Batch, i: number): number {
  return b.counts ? b.counts[i]! : 1 / (b.start + i + 1);
}

export function assignStage(opts: AssignOptions = {}): Stage {
  checkSearchOptions(opts);
  let search: Promise<NearestSearch> | undefined;
  const close = async () => {
    const s = search;
    search = undefined;
    await s?.then((x) => x.close()).catch(() => undefined);
  };
  const open = async (ctx: RunContext): Promise<NearestSearch> => {
    const kept = ctx.kept!;
    const dim = kept.dim;
    const rows = ctx.model!.info.rows ?? (await ctx.model!.countRows());
    const threads = opts.threads ?? ctx.options.threads;
    const queries = Math.max(0, rows - kept.size);
    let o: SearchOptions = opts;
    const subwords = ctx.model!.subwords;
    if (indexKind(opts) === 'ngram' && subwords) o = { ...opts, ngram: { subwords, labels: kept.labels, norms: kept.norms } };
    return NearestSearch.open(kept.vectors, kept.size, dim, { threads, seed: ctx.options.seed, queries, log: (l) => ctx.info(l), normalize: true }, o);
  };

  const assignBatch = async (ctx: RunContext, b: Batch): Promise<Batch> => {
    const a = withAssignment(b);
    const dim = b.dim;
    const todo: number[] = [];
    for (let i = 0; i < b.words.length; i++) if (a.target[i]! < 0) todo.push(i);
    if (todo.length === 0) return b;
    const kept = ctx.kept!;
    if (!kept.complete) throw new Error('assign: a row needs a kept row before the kept table is complete');
    search ??= open(ctx);
    const s = await search;
    const q = new Float32Array(todo.length * dim);
    for (let j = 0; j < todo.length; j++) q.set(b.vectors.subarray(todo[j]! * dim, (todo[j]! + 1) * dim), j * dim);
    normalizeRows(q, todo.length, dim);
    const r = await s.search(q, todo.length, todo.map((i) => b.words[i]!));
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
      // the workers load while the model is read up to the kept table
      NearestSearch.prestart(opts.threads ?? ctx.options.threads);
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
      ctx.report.mapped = ctx.report.cosine!.n;
      const s = await search;
      if (!s) return;
      const v = await s.verify();
      const entry = s.reportEntry();
      if (opts.fallbackFrom) entry.fallback_from = opts.fallbackFrom;
      ctx.report.search = entry;
      await close();
      if (v) {
        ctx.info(
          `search: approximate answers agree with exact search on ${(v.agreement * 100).toFixed(2)}% of ${v.sample} sampled rows ` +
            `(mean cosine lost ${v.meanCosineLost.toFixed(5)}, max ${v.maxCosineLost.toFixed(4)})`,
        );
      }
      enforceVerification(v);
    },
    async abort() {
      await close();
    },
  };
}

