/**
 * k-means pruning: the kept table is the K most frequent words' own rows followed by N - K
 * centroids learned with spherical mini-batch k-means on a reservoir sample of the other words.
 *
 * prepare():
 *   pass 1 ('k-means sample'): picks the K force-kept words (highest counts when the batches carry
 *     counts, else the first K rows: word2vec, GloVe and .vec files are sorted by frequency) and
 *     draws a weighted reservoir sample of every other row (sample.ts);
 *   training (train.ts) on the sample's unit rows;
 *   kept table: force-kept rows in rank order, then the centroids, each scaled to the weighted
 *     mean norm of its sampled members and labelled with its member (a sampled word) of highest
 *     cosine; when the other rows are no more than N - K, each of them is kept as its own row;
 *   pass 2 ('k-means refine', only with `refine`): every other row is assigned exactly to its
 *     nearest row among all N, and each centroid becomes the weighted mean direction of all its
 *     members (scaled to their weighted mean norm) and is labelled with its member of highest
 *     cosine among all words.
 * transform(): force-kept (and own-row) words get target = their row and score 1; the assign
 *   stage maps every other word to its nearest row among all N.
 * Memory: the sample (S x (dim + 1) floats and words), the kept table, the training's k x dim
 * centre copies, and with `refine` N x dim float64 sums.
 */
import type { Batch } from '../../pipeline/batch.js';
import { openPass, type RunContext } from '../../pipeline/context.js';
import { UsageError } from '../../pipeline/errors.js';
import type { Stage } from '../../pipeline/stage.js';
import { drain, fromPromise } from '../../pipeline/stream.js';
import { KeptTable } from '../../pipeline/tables.js';
import { NearestPool, sharedUnitTable } from '../kernels/nearest-pool.js';
import { normalizeRows } from '../kernels/normalize.js';
import { Rng } from '../kernels/random.js';
import { PrioritySample, type SampleRows } from './sample.js';
import { TRAIN_DEFAULTS, trainKMeans, type TrainResult } from './train.js';
import { markKeptRows } from '../kept-rows.js';
import { TopByCount } from '../top-counts.js';

export type WeightMode = 'counts' | 'rank' | 'none';
export const WEIGHT_MODES: readonly WeightMode[] = ['counts', 'rank', 'none'];

export interface KMeansOptions {
  /** Rows in the pruned model (N >= 1). */
  keep: number;
  /** The K most frequent words keep their own rows (0 <= K < N; default: see defaultForceKeep). */
  forceKeep?: number;
  /** Weight of a word in sampling and training (default: counts when known, else rank). */
  weights?: WeightMode;
  /** Reservoir sample size (>= N - K; default: see defaultSample). */
  sample?: number;
  /** Points per mini-batch (default 1024). */
  batchSize?: number;
  /** At most this many epochs over the sample (default 20). */
  iterations?: number;
  /** Seed (default: the run's --seed). */
  seed?: number;
  /** Third pass: exact weighted mean of all members for each centroid. */
  refine?: boolean;
  /** Target centroids per training cell (default 256; see train.ts). */
  cellCentres?: number;
  /** Worker threads for the refine pass (default: the run's --threads). */
  threads?: number;
}

/** Share of N kept as the most frequent words' own rows when --force-keep is not given. */
export const FORCE_KEEP_SHARE = 0.25;
/** Sample size when --sample is not given: max(SAMPLE_MIN, SAMPLE_PER_CENTROID x (N - K)). */
export const SAMPLE_MIN = 100_000;
export const SAMPLE_PER_CENTROID = 10;

export function defaultForceKeep(keep: number): number {
  return Math.min(keep - 1, Math.round(keep * FORCE_KEEP_SHARE));
}

export function defaultSample(k: number): number {
  return Math.max(SAMPLE_MIN, SAMPLE_PER_CENTROID * k);
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Checks options; returns them with K and the sample size decided. */
export function checkKMeansOptions(o: KMeansOptions): Required<Pick<KMeansOptions, 'keep' | 'forceKeep' | 'batchSize' | 'iterations'>> & {
  k: number;
  sample: number;
} {
  const keep = positiveInt('--keep', o.keep);
  let forceKeep = o.forceKeep ?? defaultForceKeep(keep);
  if (typeof forceKeep !== 'number' || !Number.isInteger(forceKeep) || forceKeep < 0) {
    throw new UsageError(`--force-keep must be a non-negative integer, got ${String(forceKeep)}`);
  }
  if (forceKeep >= keep) {
    throw new UsageError(`--force-keep ${forceKeep} must be less than --keep ${keep}: the other N - K rows are the centroids`);
  }
  const k = keep - forceKeep;
  let sample: number;
  if (o.sample !== undefined) {
    sample = positiveInt('--sample', o.sample);
    if (sample < k) throw new UsageError(`--sample ${sample} is smaller than the ${k} centroids to learn (--keep ${keep} minus --force-keep ${forceKeep})`);
  } else sample = defaultSample(k);
  const batchSize = positiveInt('--batch-size', o.batchSize ?? TRAIN_DEFAULTS.batchSize);
  const iterations = positiveInt('--iterations', o.iterations ?? TRAIN_DEFAULTS.iterations);
  if (o.weights !== undefined && !WEIGHT_MODES.includes(o.weights)) {
    throw new UsageError(`--weights must be one of ${WEIGHT_MODES.join(', ')}, got "${String(o.weights)}"`);
  }
  if (o.cellCentres !== undefined && !(o.cellCentres >= 1)) throw new UsageError(`cellCentres must be >= 1, got ${o.cellCentres}`);
  return { keep, forceKeep, k, sample, batchSize, iterations };
}

/** What the k-means stage adds to the run report. */
export interface KMeansReport {
  forceKeep: number;
  centroids: number;
  weights: WeightMode;
  sample: number;
  sampled: number;
  offered: number;
  cells: number;
  epochs: number;
  batches: number;
  stoppedEarly: boolean;
  reassigned: number;
  refine: boolean;
  seconds: { sample: number; train: number; refine: number };
}

export function kmeansStage(opts: KMeansOptions): Stage {
  const checked = checkKMeansOptions(opts);
  let weights: WeightMode;
  let byCounts = false;
  let sampleSize = checked.sample;
  let capacity = 0;
  let sampleRows = 0;
  const rowToKept = new Map<number, number>();

  return {
    name: 'kmeans',
    needs: ['model'],
    provides: ['kept'],
    async open(ctx, have) {
      byCounts = have.has('counts');
      weights = opts.weights ?? (byCounts ? 'counts' : 'rank');
      if (weights === 'counts' && !have.has('counts')) {
        throw new UsageError('--weights counts needs word counts (a counts file or a model with counts, such as a fastText .bin); use rank or none');
      }
      const model = ctx.model!;
      const rows = await model.countRows();
      const dim = model.info.dim;
      if (opts.sample === undefined && ctx.options.memoryBytes !== undefined) {
        // The default sample takes at most half of the memory budget, but never fewer rows than
        // centroids (then the --memory check reports what does not fit).
        const fit = Math.floor(ctx.options.memoryBytes / 2 / (dim * 4 + 136));
        sampleSize = Math.max(checked.k, Math.min(sampleSize, fit));
      }
      capacity = Math.min(checked.keep, rows);
      sampleRows = Math.min(sampleSize, Math.max(1, rows - Math.min(checked.forceKeep, capacity)));
      if (checked.keep >= rows) ctx.info(`--keep ${checked.keep} >= ${rows} rows: every row is kept, nothing is mapped`);
      ctx.kept = new KeptTable(dim, capacity);
      ctx.report.method = 'kmeans';
      ctx.report.keep = checked.keep;
    },
    async prepare(ctx) {
      const t0 = performance.now();
      const seed = opts.seed ?? ctx.options.seed;
      const rng = new Rng(seed);
      const gathered = await gather(ctx, Math.min(checked.forceKeep, capacity), sampleSize, weights, byCounts, rng);
      const kept = ctx.kept!;
      const dim = kept.dim;
      for (const f of gathered.forced) rowToKept.set(f.row, kept.add(f.word, f.vector, f.row, f.count));
      const s = gathered.sample;
      const k = kept.capacity - kept.size;
      const t1 = performance.now();
      let train: TrainResult | undefined;
      if (s.n <= k) {
        // No more rows than centroids: each row is kept as itself.
        for (let i = 0; i < s.n; i++) {
          rowToKept.set(s.rows[i]!, kept.add(s.words[i]!, s.vectors.subarray(i * dim, (i + 1) * dim), s.rows[i]!, 0));
        }
      } else {
        normalizeRows(s.vectors, s.n, dim);
        train = trainKMeans(s.vectors, s.n, dim, weights === 'none' ? undefined : s.estimates, {
          k,
          batchSize: checked.batchSize,
          iterations: checked.iterations,
          seed: rng.nextU32(),
          cellCentres: opts.cellCentres,
        });
        addCentroids(kept, train, s);
      }
      kept.finish();
      const t2 = performance.now();
      if (opts.refine && train) await refine(ctx, kept, new Set(rowToKept.keys()), weights, opts.threads ?? ctx.options.threads);
      const t3 = performance.now();
      const rep: KMeansReport = {
        forceKeep: gathered.forced.length,
        centroids: train ? train.k : 0,
        weights,
        sample: sampleSize,
        sampled: s.n,
        offered: s.offered,
        cells: train?.cells ?? 0,
        epochs: train?.epochs ?? 0,
        batches: train?.steps ?? 0,
        stoppedEarly: train?.stoppedEarly ?? false,
        reassigned: train?.reassigned ?? 0,
        refine: !!opts.refine && !!train,
        seconds: { sample: r3((t1 - t0) / 1000), train: r3((t2 - t1) / 1000), refine: r3((t3 - t2) / 1000) },
      };
      ctx.report.kmeans = rep;
      if (train) {
        ctx.info(
          `k-means: ${train.k} centroids from a sample of ${s.n} of ${s.offered} rows (${weights} weights, ${train.cells} cell${train.cells === 1 ? '' : 's'}), ` +
            `${train.epochs} epoch${train.epochs === 1 ? '' : 's'}, ${train.steps} batches${train.stoppedEarly ? ' (converged)' : ''}, ${rep.seconds.train} s`,
        );
      }
    },
    memory(ctx) {
      const kept = ctx.kept!;
      const dim = kept.dim;
      const forced = Math.min(checked.forceKeep, capacity);
      const k = Math.min(checked.k, sampleRows);
      const items = [
        { what: 'kept table', bytes: kept.bytes, option: '--keep' },
        // Rows, norm, word, heap entry and weights per sampled row.
        { what: 'k-means sample', bytes: sampleRows * (dim * 4 + 136), option: '--sample' },
        // Centre copies (running, unit, float64 sums) and per-point training arrays.
        { what: 'k-means training', bytes: k * dim * 16 + k * 64 + sampleRows * 56, option: '--keep' },
        { what: 'force-kept rows', bytes: forced * (dim * 4 + 96), option: '--force-keep' },
      ];
      if (opts.refine) items.push({ what: 'refine sums and unit table', bytes: k * dim * 8 + kept.capacity * dim * 4, option: '--refine' });
      return items;
    },
    transform(input) {
      return markKeptRows(input, rowToKept);
    },
    async finish(ctx) {
      ctx.report.kept = ctx.kept!.size;
    },
  };
}

function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Weight of row i of a batch under a mode: count + 1, Zipf 1 / (row + 1), or 1. */
export function weightOf(mode: WeightMode, b: Batch, i: number): number {
  if (mode === 'counts') return (b.counts?.[i] ?? 0) + 1;
  if (mode === 'rank') return 1 / (b.start + i + 1);
  return 1;
}

interface Forced {
  row: number;
  word: string;
  vector: Float32Array;
  count: number;
}

/**
 * Pass 1: the force-kept words (top K by count, or the first K rows) and the reservoir sample of
 * every other row. One uniform number is drawn per row in row order, so the sample depends only on
 * the seed and the input.
 */
async function gather(
  ctx: RunContext,
  forceKeep: number,
  sampleSize: number,
  mode: WeightMode,
  byCounts: boolean,
  rng: Rng,
): Promise<{ forced: Forced[]; sample: SampleRows }> {
  const dim = ctx.model!.info.dim;
  const sample = new PrioritySample(sampleSize, dim);
  // By counts: the force-kept rows so far, by slot, with the numbers drawn for them (a row pushed
  // out of the top K goes to the sample as if it had been offered there in the first place).
  const top = new TopByCount(byCounts ? forceKeep : 0);
  const words: string[] = [];
  const vectors = new Float32Array(byCounts ? forceKeep * dim : 0);
  const us = new Float64Array(byCounts ? forceKeep : 0);
  const weights = new Float64Array(byCounts ? forceKeep : 0);
  const firstRows: Forced[] = [];
  await drain(
    openPass(ctx, 'k-means sample').map((b: Batch) => {
      for (let i = 0; i < b.words.length; i++) {
        const row = b.start + i;
        const u = rng.nextOpen();
        const w = weightOf(mode, b, i);
        if (!byCounts) {
          if (row < forceKeep) firstRows.push({ row, word: b.words[i]!, vector: b.vectors.slice(i * dim, (i + 1) * dim), count: b.counts?.[i] ?? 0 });
          else sample.offer(row, b.words[i]!, b.vectors, i * dim, w, u);
          continue;
        }
        const slot = top.offer(b.counts![i]!, row);
        if (slot < 0) {
          sample.offer(row, b.words[i]!, b.vectors, i * dim, w, u);
          continue;
        }
        const out = top.evicted;
        if (out) sample.offer(out.row, words[slot]!, vectors, slot * dim, weights[slot]!, us[slot]!);
        words[slot] = b.words[i]!;
        vectors.set(b.vectors.subarray(i * dim, (i + 1) * dim), slot * dim);
        us[slot] = u;
        weights[slot] = w;
      }
      return b;
    }),
  );
  const forced = byCounts
    ? top.ranked().map((e) => ({ row: e.row, word: words[e.slot]!, vector: vectors.subarray(e.slot * dim, (e.slot + 1) * dim), count: e.count }))
    : firstRows;
  return { forced, sample: sample.finish() };
}

/** Adds the trained centroids: scaled to their members' weighted mean norm, labelled by their best member. */
function addCentroids(kept: KeptTable, t: TrainResult, s: SampleRows): void {
  const dim = kept.dim;
  const k = t.k;
  const normSum = new Float64Array(k);
  const mass = new Float64Array(k);
  const best = new Int32Array(k).fill(-1);
  const bestScore = new Float32Array(k).fill(-Infinity);
  for (let i = 0; i < s.n; i++) {
    const j = t.assign[i]!;
    if (j < 0) continue;
    const w = s.estimates[i]! > 0 ? s.estimates[i]! : 1;
    normSum[j]! += w * s.norms[i]!;
    mass[j]! += w;
    if (t.score[i]! > bestScore[j]!) {
      bestScore[j] = t.score[i]!;
      best[j] = i;
    }
  }
  const used = new Set<string>();
  const v = new Float32Array(dim);
  for (let j = 0; j < k; j++) {
    const scale = mass[j]! > 0 ? normSum[j]! / mass[j]! : 1;
    for (let c = 0; c < dim; c++) v[c] = t.centroids[j * dim + c]! * scale;
    let label = best[j]! >= 0 ? s.words[best[j]!]! : `cluster:${j}`;
    if (used.has(label)) label = `cluster:${j}`;
    used.add(label);
    kept.add(label, v, -1, 0);
  }
}

/**
 * Pass 2 (--refine): every row that is not kept as itself goes to its nearest row among all N
 * (exact); each centroid row becomes its members' weighted mean direction scaled to their weighted
 * mean norm, labelled with its member of highest cosine. Centroids without members stay as they are.
 */
async function refine(ctx: RunContext, kept: KeptTable, own: Set<number>, mode: WeightMode, threads: number): Promise<void> {
  const dim = kept.dim;
  const n = kept.size;
  const first = kept.size - countCentroids(kept);
  const k = n - first;
  const unit = sharedUnitTable(kept.vectors, n, dim);
  const pool = new NearestPool(unit, n, dim, threads);
  const sums = new Float64Array(k * dim);
  const mass = new Float64Array(k);
  const normSum = new Float64Array(k);
  const bestScore = new Float32Array(k).fill(-Infinity);
  const bestWord: string[] = new Array<string>(k);
  try {
    await drain(
      openPass(ctx, 'k-means refine')
        .map((b: Batch) =>
          fromPromise(
            (async () => {
              const todo: number[] = [];
              for (let i = 0; i < b.words.length; i++) if (!own.has(b.start + i)) todo.push(i);
              if (todo.length === 0) return b;
              const q = new Float32Array(todo.length * dim);
              const norms = new Float32Array(todo.length);
              for (let j = 0; j < todo.length; j++) q.set(b.vectors.subarray(todo[j]! * dim, (todo[j]! + 1) * dim), j * dim);
              normalizeRows(q, todo.length, dim, q, norms);
              const r = await pool.search(q, todo.length);
              for (let j = 0; j < todo.length; j++) {
                const c = r.index[j]! - first;
                if (c < 0) continue;
                const i = todo[j]!;
                const w = weightOf(mode, b, i);
                mass[c]! += w;
                normSum[c]! += w * norms[j]!;
                const o = c * dim;
                const p = j * dim;
                for (let t = 0; t < dim; t++) sums[o + t]! += w * q[p + t]!;
                if (r.score[j]! > bestScore[c]!) {
                  bestScore[c] = r.score[j]!;
                  bestWord[c] = b.words[i]!;
                }
              }
              return b;
            })(),
          ),
        )
        .sequence(),
    );
  } finally {
    await pool.close();
  }
  const v = new Float32Array(dim);
  for (let c = 0; c < k; c++) {
    if (!(mass[c]! > 0)) continue;
    let s = 0;
    for (let t = 0; t < dim; t++) s += sums[c * dim + t]! * sums[c * dim + t]!;
    if (!(s > 0)) continue;
    const scale = normSum[c]! / mass[c]! / Math.sqrt(s);
    for (let t = 0; t < dim; t++) v[t] = sums[c * dim + t]! * scale;
    kept.set(first + c, bestWord[c]!, v, -1, 0);
  }
  // A centroid without members keeps its sample label, unless a member word of another centroid
  // took that name.
  const taken = new Set<string>();
  for (let c = 0; c < k; c++) if (mass[c]! > 0 && bestWord[c] !== undefined) taken.add(bestWord[c]!);
  for (let c = 0; c < k; c++) {
    if (mass[c]! > 0 && bestWord[c] !== undefined) continue;
    if (taken.has(kept.labels[first + c]!)) kept.labels[first + c] = `cluster:${c}`;
  }
  kept.finish();
}

/** Centroid rows are the trailing rows whose sourceRow is -1. */
function countCentroids(kept: KeptTable): number {
  let c = 0;
  for (let i = kept.size - 1; i >= 0 && kept.sourceRow[i] === -1; i--) c++;
  return c;
}
