/**
 * Null-vector collapse (stage 'subword-collapse'): decides, from the usage counts of the
 * subword-scan stage, which n-gram buckets the output keeps, and builds the subword plan:
 *   - unused buckets: dropped ('drop') or all sharing one zero row ('null');
 *   - used buckets: all kept, or (keep M) the M with the highest score, 'usage' (the scan's
 *     count) or 'usage-norm' (count x L2 norm of the bucket row, as compress-fasttext scores
 *     n-grams); the others dropped ('drop') or remapped to the kept bucket whose row is nearest by
 *     cosine ('nearest');
 *   - pruned words: keep the row the assign stage gave them ('nearest'), or ('subwords') are left
 *     out of the word list and rebuilt from their n-grams on lookup. In 'subwords' mode this stage
 *     replaces assign: each pruned word's vector in the stream becomes its rebuilt vector, its
 *     target -1 and its score the cosine between its original and rebuilt vectors.
 *
 * A word rebuilt from its n-grams gets what the model's own reader computes for an unknown word
 * after pruning: fastText the mean of its n-gram rows (dropped buckets count for nothing, the
 * null row counts as a zero row), finalfusion the L2-normalised sum.
 *
 * The plan (`subwordPlanOf(ctx).plan`) holds `rowMap` (bucket -> plan row or -1) and the plan rows
 * (kept bucket rows, then the null row). It is built as soon as the usage counts are complete:
 * before the streaming pass, or during it when the scan counts kept words as they go by.
 * Memory: 4 bytes per bucket plus the kept bucket rows (M x dim x 4), except for a fastText input
 * whose n-gram rows do not fit the reader's memory budget: then the plan rows stay in the file
 * (`rowsResident` false; `readRows` reads them in ascending order) and the rebuilt vectors come
 * from the reader's pass as companion means (the same sweep that computes the original vectors),
 * so nothing of the size of the n-gram table is held. 'nearest' adds a unit-length copy of the
 * kept rows. Costs: one read of the used bucket rows for 'usage-norm', one of the kept rows (when
 * resident); 'nearest' searches (U - M) x M x dim x 2 flops on the worker threads.
 *
 * When the writer needs only the kept rows (finalfusion, .ftz, word2vec `kept`: it says so under
 * KEPT_ONLY_STATE) the pass computes the kept words and a sample of the pruned words (about
 * REBUILD_SAMPLE, in runs of 100 consecutive words spread evenly) only: the cosine of rebuilt to original vectors is then measured on that sample
 * (report.subwords.rebuilt.sampled), and the other pruned words pass with zero vectors.
 */
import type { Batch } from '../pipeline/batch.js';
import { withAssignment } from '../pipeline/batch.js';
import type { RunContext } from '../pipeline/context.js';
import { UsageError } from '../pipeline/errors.js';
import type { SubwordIndexer, SubwordRows } from '../pipeline/model.js';
import { CosineStats } from '../pipeline/report.js';
import type { Capability, Stage } from '../pipeline/stage.js';
import { fromPromise } from '../pipeline/stream.js';
import { rowWeight } from './assign.js';
import { COMPANION_DROP, COMPANION_ZERO, FastTextModel, type CompanionRows } from './formats/fasttext/index.js';
import { cosineRows, scaleRow } from './kernels/ngram-sum.js';
import { NearestPool, sharedUnitTable } from './kernels/nearest-pool.js';
import { normalizeRows, rowNorm } from './kernels/normalize.js';
import { IntList, ngramRowLister, usageOf, type SubwordUsage } from './subword-usage.js';

export type UnusedSubwords = 'drop' | 'null';
export type SubwordScore = 'usage' | 'usage-norm';
export type PrunedSubwords = 'drop' | 'nearest';
export type PrunedWords = 'nearest' | 'subwords';

export const UNUSED_SUBWORDS: readonly UnusedSubwords[] = ['drop', 'null'];
export const SUBWORD_SCORES: readonly SubwordScore[] = ['usage', 'usage-norm'];
export const PRUNED_SUBWORDS: readonly PrunedSubwords[] = ['drop', 'nearest'];
export const PRUNED_WORDS: readonly PrunedWords[] = ['nearest', 'subwords'];

/** Default score of --keep-subwords (see docs/subwords.md for the measurement behind it). */
export const DEFAULT_SUBWORD_SCORE: SubwordScore = 'usage-norm';

export interface SubwordCollapseOptions {
  /** Unused buckets: 'drop' (default) or 'null' (one shared zero row). */
  unused?: UnusedSubwords;
  /** Keep at most this many used buckets (default: all used ones). */
  keep?: number;
  /** Score ranking used buckets for `keep` (default 'usage-norm'). */
  score?: SubwordScore;
  /** Used buckets beyond `keep`: 'drop' (default) or 'nearest' (remapped to the nearest kept bucket). */
  pruned?: PrunedSubwords;
  /** Pruned words: 'nearest' (the assign stage's row) or 'subwords' (rebuilt from n-grams). Default: 'nearest' after an assign stage, else 'subwords'. */
  prunedWords?: PrunedWords;
  /** Worker threads for 'nearest' (default: the run's --threads). */
  threads?: number;
}

/** The result of the collapse: which bucket goes to which output n-gram row. */
export interface SubwordPlan {
  readonly indexer: SubwordIndexer;
  readonly dim: number;
  /** Buckets of the input's n-gram table. */
  readonly buckets: number;
  /** Bucket -> plan row, or -1 (dropped). */
  readonly rowMap: Int32Array;
  /**
   * Plan rows: the kept buckets' rows (ascending bucket order), then the null row if any; empty
   * when `rowsResident` is false (read them with `readRows`).
   */
  readonly rows: Float32Array;
  /** Whether `rows` holds the plan rows (else they are read from the input when needed). */
  readonly rowsResident: boolean;
  /**
   * Calls fn(k, data, offset) for plan rows `planRows[k]` (ascending, distinct, each < planRows),
   * their floats at data[offset .. offset + dim): from memory, or read from the input in coalesced
   * ascending reads. The null row reads as zeros.
   */
  readRows(planRows: Int32Array, fn: (k: number, data: Float32Array, offset: number) => void): Promise<void>;
  readonly planRows: number;
  /** Input bucket of each kept plan row (the null row is not listed). */
  readonly keptBuckets: Int32Array;
  /** The null row's index, or -1. */
  readonly nullRow: number;
  /** How rebuilt words are combined: fastText's mean or finalfusion's normalised sum. */
  readonly rule: 'mean' | 'normalized-sum';
  readonly prunedWords: PrunedWords;
  /** fastText: table row -> the row added in its place (COMPANION_DROP, COMPANION_ZERO), for the reader's companion means. */
  companionMap(): Int32Array;
  /**
   * Writes the vector of `word` rebuilt from its n-grams after pruning to out[o .. o + dim);
   * returns the number of n-gram rows it used (0: no n-gram left, the vector is zero). The rows
   * are added in ascending plan-row order (as the fastText reader's sweeps add them). Needs
   * `rowsResident`.
   */
  rebuild(word: string, out: Float32Array, o: number): number;
}

/** Options and (once built) the plan, shared under PLAN_STATE. */
export interface SubwordPlanHolder {
  readonly prunedWords: PrunedWords;
  plan?: SubwordPlan;
}

export const PLAN_STATE = 'subword-plan';

/**
 * Set (to true) by a writer that needs the vectors of kept rows only (pruned words' vectors do not
 * reach its output). The collapse stage then has the pass compute kept words and a sample only.
 */
export const KEPT_ONLY_STATE = 'writer-needs-kept-rows-only';
/** Pruned words rebuilt (and compared) when the writer needs kept rows only. */
export const REBUILD_SAMPLE = 10000;

/**
 * Rows a pass over a fastText model too large for the reader's budget needs to check a pruned
 * model: every kept word (or, with `keptSample`, runs of about that many by kept rank) and runs of
 * about `sample` other words; undefined when the n-gram rows fit in memory (a full pass is cheap)
 * or the dictionary repeats words.
 */
export function keptAndSampleRows(ctx: RunContext, sample = REBUILD_SAMPLE, keptSample = Infinity): Uint8Array | undefined {
  const model = ctx.model;
  const kept = ctx.kept;
  if (!(model instanceof FastTextModel) || model.tableResident || model.duplicateWords > 0 || !kept) return undefined;
  const need = new Uint8Array(model.nwords);
  // kept words: 2 when taken (all, or runs of a sample by kept rank), 3 when left out
  const inKept = sampleRuns(kept.size, keptSample);
  for (let k = 0; k < kept.size; k++) if (kept.sourceRow[k]! >= 0) need[kept.sourceRow[k]!] = inKept(k) ? 2 : 3;
  const inSample = sampleRuns(model.nwords - kept.size, sample);
  for (let r = 0, p = 0; r < need.length; r++) {
    if (need[r] === 2) need[r] = 1;
    else if (need[r] === 3) need[r] = 0;
    else if (inSample(p++)) need[r] = 1;
  }
  return need;
}

/** Words per run of a sample (runs keep the sampled words in few batches). */
const SAMPLE_RUN = 100;

/**
 * A sample of about `sample` of `total` items in order: runs of SAMPLE_RUN consecutive items,
 * evenly spaced; returns whether item p (0-based) is in it.
 */
export function sampleRuns(total: number, sample: number): (p: number) => boolean {
  if (sample >= total) return () => true;
  const runs = Math.max(1, Math.round(sample / SAMPLE_RUN));
  const period = total / runs;
  return (p) => p - Math.floor(Math.floor(p / period) * period) < SAMPLE_RUN;
}

export function subwordPlanOf(ctx: RunContext): SubwordPlanHolder | undefined {
  return ctx.state.get(PLAN_STATE) as SubwordPlanHolder | undefined;
}

/** Largest single read of bucket rows, and the gap between needed rows still read through. */
const READ_BYTES = 8 << 20;
const GAP_BYTES = 64 << 10;

/**
 * Calls fn(k, data, offset) for each row `sorted[k]` (ascending, distinct) of the n-gram table,
 * its floats at data[offset .. offset + dim); reads coalesced ranges through `rows.read`.
 */
export async function readRowsSorted(rows: SubwordRows, sorted: Int32Array, fn: (k: number, data: Float32Array, offset: number) => void): Promise<void> {
  const dim = rows.dim;
  const gap = Math.max(1, Math.floor(GAP_BYTES / (dim * 4)));
  const maxRows = Math.max(1, Math.floor(READ_BYTES / (dim * 4)));
  let u = 0;
  while (u < sorted.length) {
    const a = sorted[u]!;
    let v = u + 1;
    while (v < sorted.length && sorted[v]! - sorted[v - 1]! <= gap && sorted[v]! - a < maxRows) v++;
    const data = await rows.read(a, sorted[v - 1]! - a + 1);
    for (let k = u; k < v; k++) fn(k, data, (sorted[k]! - a) * dim);
    u = v;
  }
}

const runBuffers = new WeakMap<FastTextModel, Float32Array>();

/** readRowsSorted for a fastText model, reading into one buffer kept per model (8 MiB). */
async function readTableSorted(model: FastTextModel, sorted: Int32Array, fn: (k: number, data: Float32Array, offset: number) => void): Promise<void> {
  const dim = model.dim;
  const gap = Math.max(1, Math.floor(GAP_BYTES / (dim * 4)));
  const maxRows = Math.max(1, Math.floor(READ_BYTES / (dim * 4)));
  let buf = runBuffers.get(model);
  if (!buf) runBuffers.set(model, (buf = new Float32Array(maxRows * dim)));
  let u = 0;
  while (u < sorted.length) {
    const a = sorted[u]!;
    let v = u + 1;
    while (v < sorted.length && sorted[v]! - sorted[v - 1]! <= gap && sorted[v]! - a < maxRows) v++;
    await model.readTableRowsInto(a, sorted[v - 1]! - a + 1, buf);
    for (let k = u; k < v; k++) fn(k, buf, (sorted[k]! - a) * dim);
    u = v;
  }
}

function check<T extends string>(value: T | undefined, allowed: readonly T[], name: string): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw new UsageError(`stage "subword-collapse": ${name} must be ${allowed.join(' or ')}, got "${String(value)}"`);
  }
}

export function subwordCollapseStage(opts: SubwordCollapseOptions = {}): Stage {
  check(opts.unused, UNUSED_SUBWORDS, 'unused');
  check(opts.score, SUBWORD_SCORES, 'score');
  check(opts.pruned, PRUNED_SUBWORDS, 'pruned');
  check(opts.prunedWords, PRUNED_WORDS, 'prunedWords');
  if (opts.keep !== undefined && !(Number.isInteger(opts.keep) && opts.keep >= 0)) {
    throw new UsageError(`stage "subword-collapse": keep (--keep-subwords) must be an integer >= 0, got ${opts.keep}`);
  }
  if (opts.keep === undefined && opts.score !== undefined) {
    throw new UsageError('stage "subword-collapse": score (--subword-score) ranks buckets for keep (--keep-subwords M); give keep too');
  }
  if (opts.keep === undefined && opts.pruned !== undefined) {
    throw new UsageError('stage "subword-collapse": pruned (--pruned-subwords) says what happens to used buckets beyond keep (--keep-subwords M); give keep too');
  }
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new UsageError(`stage "subword-collapse": threads must be a positive integer, got ${opts.threads}`);
  }
  const unused = opts.unused ?? 'drop';
  const score = opts.score ?? DEFAULT_SUBWORD_SCORE;
  const pruned = opts.pruned ?? 'drop';
  let holder: { prunedWords: PrunedWords; plan?: SubwordPlan } | undefined;
  let building: Promise<SubwordPlan> | undefined;
  let pool: NearestPool | undefined;
  let noNgrams = 0;
  /** fastText input: the pass gives rebuilt vectors as companion means through this map. */
  let companionMap: Int32Array | undefined;
  /** Kept rows only for the writer: pruned words marked here are computed (the sample), others pass as zeros. */
  let sampled: Uint8Array | undefined;
  let prunedTotal = 0;

  const build = (ctx: RunContext): Promise<SubwordPlan> => {
    building ??= (async () => {
      const usage = usageOf(ctx)!;
      if (!usage.complete) throw new Error('subword-collapse: the usage counts are not complete yet');
      const plan = await buildPlan(ctx, usage, { unused, keep: opts.keep, score, pruned, prunedWords: holder!.prunedWords, threads: opts.threads ?? ctx.options.threads }, (p) => {
        pool = p;
      });
      pool = undefined;
      holder!.plan = plan;
      return plan;
    })();
    return building;
  };

  return {
    name: 'subword-collapse',
    needs: ['model', 'usage'],
    open(ctx, have) {
      const assigned = have.has('assigned');
      const prunedWords = opts.prunedWords ?? (assigned ? 'nearest' : 'subwords');
      if (prunedWords === 'nearest' && !assigned) {
        throw new UsageError('stage "subword-collapse": prunedWords "nearest" (--pruned-words nearest) maps pruned words with an assign stage; put one before this stage');
      }
      if (prunedWords === 'subwords' && assigned) {
        throw new UsageError('stage "subword-collapse": prunedWords "subwords" (--pruned-words subwords) rebuilds pruned words from their n-grams instead of mapping them; remove the assign stage');
      }
      if (prunedWords === 'subwords' && !have.has('kept')) {
        throw new UsageError('stage "subword-collapse": prunedWords "subwords" needs a kept table (a rank or cover stage before it)');
      }
      if (prunedWords === 'subwords' && ctx.report.method === 'kmeans') {
        throw new UsageError('stage "subword-collapse": k-means centroids are not words, so words cannot be rebuilt around them; use --pruned-words nearest with --method kmeans');
      }
      holder = { prunedWords };
      ctx.state.set(PLAN_STATE, holder);
      const caps: Capability[] = [];
      if (prunedWords === 'subwords') {
        ctx.report.cosine = new CosineStats();
        ctx.report.cosineAll = new CosineStats();
        caps.push('assigned');
      }
      return caps;
    },
    memory(ctx) {
      const sw = ctx.model?.subwords;
      if (!sw) return [];
      const rows = Math.min(sw.indexer.size, opts.keep ?? sw.indexer.size);
      const items = [
        { what: 'bucket map', bytes: sw.indexer.size * 4 },
        { what: 'kept subword rows', bytes: rows * sw.dim * 4, option: '--keep-subwords' },
      ];
      if (pruned === 'nearest') items.push({ what: 'unit copy of the kept subword rows', bytes: rows * sw.dim * 4, option: '--keep-subwords' });
      return items;
    },
    async prepare(ctx) {
      if (usageOf(ctx)!.complete) await build(ctx);
      const plan = holder!.plan;
      const model = ctx.model;
      const kept = ctx.kept;
      if (!plan || holder!.prunedWords !== 'subwords' || !(model instanceof FastTextModel) || !kept?.complete) return;
      // Rebuilt vectors from the reader's own sweeps: table row -> the row added in its place.
      const map = new Int32Array(plan.buckets);
      for (let b = 0; b < map.length; b++) {
        const k = plan.rowMap[b]!;
        map[b] = k < 0 ? COMPANION_DROP : k === plan.nullRow ? COMPANION_ZERO : plan.keptBuckets[k]!;
      }
      companionMap = map;
      const prunedRows = new Uint8Array(model.nwords).fill(1);
      for (let k = 0; k < kept.size; k++) if (kept.sourceRow[k]! >= 0) prunedRows[kept.sourceRow[k]!] = 0;
      for (let r = 0; r < prunedRows.length; r++) prunedTotal += prunedRows[r]!;
      let need: Uint8Array | undefined;
      if (ctx.state.get(KEPT_ONLY_STATE) === true && model.duplicateWords === 0) {
        // runs of pruned words spread evenly over the rows are rebuilt and compared; the others are not computed
        need = new Uint8Array(model.nwords);
        sampled = new Uint8Array(model.nwords);
        const inSample = sampleRuns(prunedTotal, REBUILD_SAMPLE);
        for (let r = 0, p = 0; r < need.length; r++) {
          if (!prunedRows[r]) need[r] = 1;
          else if (inSample(p++)) need[r] = sampled[r] = 1;
        }
      }
      // every word computed (no `need`): the pass is the run's main work, worth a sweep worker
      model.passPlan = {
        need,
        sweepWorker: !need,
        companion: { map, words: sampled ?? prunedRows, identity: mapsUsedToThemselves(usageOf(ctx)!, map) },
      };
    },
    transform(input, ctx) {
      const h = holder!;
      const usage = usageOf(ctx)!;
      if (h.prunedWords === 'nearest') {
        return input.flatMap((b: Batch) => fromPromise((async () => {
          if (!h.plan && usage.complete) await build(ctx);
          return b;
        })()));
      }
      const mapped = ctx.report.cosine!;
      const all = ctx.report.cosineAll!;
      const kept = ctx.kept!;
      return input.flatMap((b: Batch) =>
        fromPromise(
          (async () => {
            if (!h.plan && usage.complete) await build(ctx);
            const a = withAssignment(b);
            const dim = b.dim;
            let tmp: Float32Array | undefined;
            const ft = ctx.model instanceof FastTextModel ? ctx.model : undefined;
            let comp: CompanionRows | undefined = companionMap ? ft!.companionOf(b) : undefined;
            for (let i = 0; i < b.words.length; i++) {
              const w = rowWeight(b, i);
              const t = a.target[i]!;
              if (t >= 0 && kept.sourceRow[t] === b.start + i) {
                all.add(1, w);
                continue;
              }
              const plan = h.plan;
              if (!plan) throw new Error('subword-collapse: a pruned word arrived before the subword usage was complete');
              if (sampled && !sampled[b.start + i]) {
                // not computed: the writer needs kept rows only
                a.target[i] = -1;
                a.score[i] = NaN;
                continue;
              }
              tmp ??= new Float32Array(dim);
              let used: number;
              if (comp && comp.used[i]! >= 0) {
                tmp.set(comp.vectors.subarray(i * dim, (i + 1) * dim));
                used = comp.used[i]!;
              } else if (plan.rowsResident) {
                used = plan.rebuild(b.words[i]!, tmp, 0);
              } else {
                // rows not in memory and no companion from the pass (e.g. the plan was built during it)
                comp = await ft!.companionsFor(b.words, companionMap ?? plan.companionMap());
                tmp.set(comp.vectors.subarray(i * dim, (i + 1) * dim));
                used = comp.used[i]!;
              }
              if (used === 0) noNgrams++;
              const c = cosineRows(b.vectors, i * dim, tmp, 0, dim);
              b.vectors.set(tmp, i * dim);
              a.target[i] = -1;
              a.score[i] = c;
              mapped.add(c, w);
              all.add(c, w);
            }
            return b;
          })(),
        ),
      );
    },
    async finish(ctx) {
      // later passes (a writer's check) compute every word again
      if (ctx.model instanceof FastTextModel) ctx.model.passPlan = undefined;
      if (!holder!.plan) await build(ctx);
      if (holder!.prunedWords === 'subwords') {
        ctx.report.mapped = sampled ? prunedTotal : ctx.report.cosine!.n;
        const sw = (ctx.report.subwords ??= {}) as Record<string, unknown>;
        sw.rebuilt = sampled
          ? { words: prunedTotal, sampled: ctx.report.cosine!.n, withoutNgramsInSample: noNgrams }
          : { words: ctx.report.cosine!.n, withoutNgrams: noNgrams };
        if (noNgrams > 0) ctx.warn(`${noNgrams} pruned word${noNgrams === 1 ? ' has' : 's have'} no n-gram left after pruning: their vector is zero`);
      }
    },
    async abort(ctx) {
      await pool?.close();
      if (ctx.model instanceof FastTextModel) ctx.model.passPlan = undefined;
    },
  };
}

/**
 * Whether `map` sends every bucket a word of the vocabulary uses to itself: true when the scan
 * counted every word with weight 1 (so a used bucket has a non-zero count) and no counted bucket
 * was dropped, nulled or remapped. A pruned word's rebuilt vector is then its own n-gram mean.
 */
function mapsUsedToThemselves(usage: SubwordUsage, map: Int32Array): boolean {
  if (!usage.complete || usage.scope !== 'all' || usage.weights !== 'none') return false;
  const counts = usage.counts;
  for (let b = 0; b < map.length; b++) if (counts[b]! > 0 && map[b] !== b) return false;
  return true;
}

interface PlanOptions {
  unused: UnusedSubwords;
  keep?: number;
  score: SubwordScore;
  pruned: PrunedSubwords;
  prunedWords: PrunedWords;
  threads: number;
}

/** Queries per nearest-bucket search call. */
const QUERY_BLOCK = 4096;

async function buildPlan(ctx: RunContext, usage: SubwordUsage, o: PlanOptions, onPool: (p: NearestPool) => void): Promise<SubwordPlan> {
  const sw = ctx.model!.subwords!;
  const dim = sw.dim;
  const T = usage.buckets;
  const counts = usage.counts;
  const used = usage.usedRows();
  let keptBuckets = used;
  let prunedBuckets = new Int32Array(0);
  if (o.keep !== undefined && o.keep < used.length) {
    const s = new Float64Array(used.length);
    for (let i = 0; i < used.length; i++) s[i] = counts[used[i]!]!;
    if (o.score === 'usage-norm') await readRowsSorted(sw, used, (k, data, off) => (s[k] = s[k]! * rowNorm(data, off, dim)));
    const order = Int32Array.from({ length: used.length }, (_, i) => i).sort((a, b) => (s[b]! !== s[a]! ? (s[b]! > s[a]! ? 1 : -1) : a - b));
    const keep = new Uint8Array(used.length);
    for (let k = 0; k < o.keep; k++) keep[order[k]!] = 1;
    keptBuckets = new Int32Array(o.keep);
    prunedBuckets = new Int32Array(used.length - o.keep);
    let a = 0;
    let b = 0;
    for (let i = 0; i < used.length; i++) {
      if (keep[i]) keptBuckets[a++] = used[i]!;
      else prunedBuckets[b++] = used[i]!;
    }
  }
  const M = keptBuckets.length;
  const rowMap = new Int32Array(T).fill(-1);
  for (let k = 0; k < M; k++) rowMap[keptBuckets[k]!] = k;
  let nullRow = -1;
  if (o.unused === 'null' && usage.used < T) {
    nullRow = M;
    for (let i = 0; i < T; i++) if (counts[i] === 0) rowMap[i] = nullRow;
  }
  const planRows = M + (nullRow >= 0 ? 1 : 0);
  // A fastText table that does not fit the reader's budget stays in the file (unless the remap needs the rows).
  const model = ctx.model!;
  const resident = !(model instanceof FastTextModel && !model.tableResident) || (prunedBuckets.length > 0 && o.pruned === 'nearest' && M > 0);
  const rows = resident ? new Float32Array(Math.max(1, planRows) * dim).subarray(0, planRows * dim) : new Float32Array(0);
  if (resident) await readRowsSorted(sw, keptBuckets, (k, data, off) => rows.set(data.subarray(off, off + dim), k * dim));

  const remap = new CosineStats();
  if (prunedBuckets.length && o.pruned === 'nearest' && M > 0) {
    const unit = sharedUnitTable(rows, M, dim);
    const pool = new NearestPool(unit, M, dim, Math.max(0, o.threads));
    onPool(pool);
    try {
      for (let s = 0; s < prunedBuckets.length; s += QUERY_BLOCK) {
        const part = prunedBuckets.subarray(s, Math.min(prunedBuckets.length, s + QUERY_BLOCK));
        const q = new Float32Array(part.length * dim);
        await readRowsSorted(sw, part, (k, data, off) => q.set(data.subarray(off, off + dim), k * dim));
        normalizeRows(q, part.length, dim);
        const r = await pool.search(q, part.length);
        for (let k = 0; k < part.length; k++) {
          rowMap[part[k]!] = r.index[k]!;
          remap.add(r.score[k]!);
        }
      }
    } finally {
      await pool.close();
    }
  }

  const rule = ctx.model!.info.format === 'fasttext' ? 'mean' : 'normalized-sum';
  const rowsOf = ngramRowLister(sw.indexer);
  const list = new IntList(256);
  const zero = new Float32Array(dim);
  const plan: SubwordPlan = {
    indexer: sw.indexer,
    dim,
    buckets: T,
    rowMap,
    rows,
    rowsResident: resident,
    planRows,
    keptBuckets,
    nullRow,
    rule,
    prunedWords: o.prunedWords,
    async readRows(wanted, fn) {
      if (resident) {
        for (let k = 0; k < wanted.length; k++) fn(k, rows, wanted[k]! * dim);
        return;
      }
      let kk = 0;
      while (kk < wanted.length && wanted[kk]! < M) kk++;
      const buckets = Int32Array.from(wanted.subarray(0, kk), (p) => keptBuckets[p]!);
      if (model instanceof FastTextModel) await readTableSorted(model, buckets, fn);
      else await readRowsSorted(sw, buckets, fn);
      for (let k = kk; k < wanted.length; k++) fn(k, zero, 0); // the null row
    },
    companionMap() {
      const map = new Int32Array(T);
      for (let b = 0; b < T; b++) {
        const k = rowMap[b]!;
        map[b] = k < 0 ? COMPANION_DROP : k === nullRow ? COMPANION_ZERO : keptBuckets[k]!;
      }
      return map;
    },
    rebuild(word, out, off) {
      if (!resident) throw new Error('subword plan: rebuild needs the plan rows in memory');
      list.clear();
      const n = rowsOf(word, list);
      // plan rows in ascending order, as the reader's sweeps add them
      let m = 0;
      for (let k = 0; k < n; k++) {
        const r = rowMap[list.data[k]!]!;
        if (r >= 0) list.data[m++] = r;
      }
      const mapped = list.data.subarray(0, m).sort();
      out.fill(0, off, off + dim);
      for (let k = 0; k < m; k++) {
        const r = mapped[k]! * dim;
        for (let d = 0; d < dim; d++) out[off + d]! += rows[r + d]!;
      }
      const c = m;
      if (c > 0) {
        if (rule === 'mean') scaleRow(out, off, dim, 1 / c);
        else normalizeRows(out.subarray(off, off + dim), 1, dim);
      }
      return c;
    },
  };
  const rowBytes = dim * 4;
  const sub = (ctx.report.subwords ??= {}) as Record<string, unknown>;
  sub.collapse = {
    unused: o.unused,
    keep: o.keep ?? null,
    score: o.keep !== undefined ? o.score : null,
    pruned: o.keep !== undefined ? o.pruned : null,
    prunedWords: o.prunedWords,
    bucketsIn: T,
    used: used.length,
    kept: M,
    nullRow: nullRow >= 0,
    droppedUnused: o.unused === 'drop' ? T - used.length : 0,
    nulled: o.unused === 'null' ? T - used.length : 0,
    droppedPruned: o.pruned === 'drop' || M === 0 ? prunedBuckets.length : 0,
    remapped: o.pruned === 'nearest' && M > 0 ? prunedBuckets.length : 0,
    remapCosine: remap.n ? remap.toJSON() : null,
    rowsOut: planRows,
    rowBytesOut: planRows * rowBytes,
  };
  return plan;
}
