/**
 * Cover: keeps the N real words that best cover all the others (facility location), instead of
 * the N most frequent. Before the streaming pass, one extra pass gathers the C most frequent
 * words (the candidates) and a sample of the others (gather.ts); their similarity block gives a
 * coverage table (coverage.ts) on which greedy selection picks N candidates (greedy.ts). The kept
 * table then holds the chosen words in frequency order; in the streaming pass kept rows get
 * target = their table row and score 1, and the assign stage maps every other word exactly as
 * for top-N. Memory: (C + S) x dim floats plus (C + S) x neighbors coverage entries.
 */
import { UsageError } from '../../pipeline/errors.js';
import type { Stage } from '../../pipeline/stage.js';
import { KeptTable } from '../../pipeline/tables.js';
import { buildCoverage } from './coverage.js';
import { gather } from './gather.js';
import { greedyCover } from './greedy.js';
import { markKeptRows } from '../kept-rows.js';

export { buildCoverage, type Coverage } from './coverage.js';
export { gainOf, greedyCover, objectiveOf, type GreedyResult } from './greedy.js';

/** Defaults, chosen by the measurements in docs/cover.md. */
export const COVER_DEFAULTS = {
  /** Candidates as a multiple of N (capped by the row count). */
  candidatesFactor: 3,
  /** Sampled non-candidate words. */
  sample: 10000,
  /** Fraction of N always kept (the most frequent words). */
  forceKeepFraction: 0.4,
  /** 0: lazy greedy (measured better than stochastic greedy at negligible cost). */
  epsilon: 0,
  neighbors: 32,
} as const;

export interface CoverOptions {
  /** Rows to keep (N >= 1). */
  keep: number;
  /** Candidates: the C most frequent words (C >= N). Default: candidatesFactor x N. */
  candidates?: number;
  /** Non-candidate words sampled for the objective; 0 = all of them (the full objective). */
  sample?: number;
  /** The K most frequent words are always kept (0 <= K <= N). */
  forceKeep?: number;
  /** Stochastic greedy parameter in (0, 1); 0 = lazy greedy over every candidate. */
  epsilon?: number;
  /** Candidates listed per evaluation word in the coverage table. */
  neighbors?: number;
  /** 'order' (file order) or 'counts'. Default: counts when the model has them. */
  by?: 'order' | 'counts';
  /** Seed (default: the run's --seed). */
  seed?: number;
  /** Worker threads for the similarity block (default: the run's --threads). */
  threads?: number;
}

function checkInt(name: string, v: number | undefined, min: number): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${name} must be an integer >= ${min}, got ${v}`);
}

export function coverStage(opts: CoverOptions): Stage {
  checkInt('--keep', opts.keep, 1);
  checkInt('--candidates', opts.candidates, 1);
  checkInt('--sample', opts.sample, 0);
  checkInt('--force-keep', opts.forceKeep, 0);
  checkInt('neighbors', opts.neighbors, 1);
  if (opts.candidates !== undefined && opts.candidates < opts.keep) {
    throw new UsageError(`--candidates (${opts.candidates}) must be at least --keep (${opts.keep})`);
  }
  if (opts.forceKeep !== undefined && opts.forceKeep > opts.keep) {
    throw new UsageError(`--force-keep (${opts.forceKeep}) must be at most --keep (${opts.keep})`);
  }
  const eps = opts.epsilon ?? COVER_DEFAULTS.epsilon;
  if (!(eps >= 0 && eps < 1)) throw new UsageError(`--epsilon must be in [0, 1), got ${opts.epsilon}`);
  let by = opts.by;
  let rowToKept: Map<number, number> | undefined;
  let rows = 0;

  return {
    name: 'cover',
    needs: ['model'],
    provides: ['kept'],
    async open(ctx, have) {
      by ??= have.has('counts') ? 'counts' : 'order';
      if (by === 'counts' && !have.has('counts')) {
        throw new UsageError('stage "cover": ranking by counts needs word counts (a counts file or a model with counts)');
      }
      rows = await ctx.model!.countRows();
      const cap = Math.min(opts.keep, rows);
      if (opts.keep >= rows) ctx.info(`--keep ${opts.keep} >= ${rows} rows: every row is kept, nothing is mapped`);
      ctx.kept = new KeptTable(ctx.model!.info.dim, cap);
      ctx.report.method = 'cover';
      ctx.report.keep = opts.keep;
      ctx.report.rankedBy = by;
    },
    memory(ctx) {
      const kept = ctx.kept!;
      const dim = kept.dim;
      const N = kept.capacity;
      const C = Math.min(rows, Math.max(N, opts.candidates ?? Math.round(COVER_DEFAULTS.candidatesFactor * N)));
      const S = opts.sample === 0 ? rows - C : Math.min(rows - C, opts.sample ?? COVER_DEFAULTS.sample);
      const k = Math.min(C, opts.neighbors ?? COVER_DEFAULTS.neighbors);
      const threads = Math.max(1, opts.threads ?? ctx.options.threads);
      return [
        { what: 'kept table', bytes: kept.bytes, option: '--keep' },
        // Gathered rows, word and count per candidate; the padded unit table the search holds.
        { what: 'cover candidates', bytes: C * (dim * 4 + 64) + C * (Math.ceil(dim / 8) * 8) * 4, option: '--candidates' },
        { what: 'cover sample', bytes: S * (dim * 4 + 8), option: '--sample' },
        // Neighbour lists, their copy by candidate, and one candidate x k list per worker.
        { what: 'cover coverage table', bytes: (C + S) * k * 16 + threads * C * k * 8, option: '--candidates' },
      ];
    },
    async prepare(ctx) {
      const kept = ctx.kept!;
      const N = kept.capacity;
      const C = Math.min(rows, Math.max(N, opts.candidates ?? Math.round(COVER_DEFAULTS.candidatesFactor * N)));
      const S = opts.sample === 0 ? Infinity : (opts.sample ?? COVER_DEFAULTS.sample);
      const K = Math.min(N, opts.forceKeep ?? Math.round(COVER_DEFAULTS.forceKeepFraction * N));
      const seed = opts.seed ?? ctx.options.seed;
      const t0 = performance.now();
      const g = await gather(ctx, { candidates: C, sample: S, by: by!, seed });
      const t1 = performance.now();
      const cand = g.candidates;
      let chosen: Int32Array;
      const info: Record<string, unknown> = {
        candidates: cand.size,
        sample: g.sample.size,
        sampleStandsFor: g.sample.population,
        forceKeep: K,
        epsilon: eps,
        neighbors: Math.min(opts.neighbors ?? COVER_DEFAULTS.neighbors, cand.size),
      };
      if (N >= cand.size) {
        chosen = Int32Array.from({ length: cand.size }, (_, i) => i);
      } else {
        // Evaluation words: every candidate (weight 1), then the sample of the others (each
        // standing for population / size words).
        const C = cand.size;
        const S = g.sample.size;
        const weights = new Float64Array(C + S).fill(1, 0, C).fill(S > 0 ? g.sample.population / S : 0, C);
        const cov = await buildCoverage({
          dim: g.dim,
          candidates: cand.vectors,
          nCandidates: C,
          evals: [cand.vectors.subarray(0, C * g.dim), g.sample.vectors.subarray(0, S * g.dim)],
          nEvals: C + S,
          weights,
          evalCandidate: Int32Array.from({ length: C + S }, (_, e) => (e < C ? e : -1)),
          candidatesFirst: true,
          neighbors: opts.neighbors ?? COVER_DEFAULTS.neighbors,
          threads: opts.threads ?? ctx.options.threads,
        });
        const t2 = performance.now();
        const r = greedyCover(cov, { keep: N, forceKeep: K, epsilon: eps, seed });
        const t3 = performance.now();
        chosen = r.chosen;
        const total = cand.size + g.sample.population;
        info.estimatedMeanCosine = Math.round((r.objective[N - 1]! / total - 1) * 1e4) / 1e4;
        info.evaluations = r.evaluations;
        info.seconds = { gather: sec(t1 - t0), similarity: sec(t2 - t1), greedy: sec(t3 - t2) };
      }
      const order = Array.from(chosen).sort((a, b) => a - b);
      rowToKept = new Map();
      for (const c of order) {
        const k = kept.add(cand.words[c]!, cand.vectors.subarray(c * g.dim, (c + 1) * g.dim), cand.rows[c]!, cand.counts[c]!);
        rowToKept.set(cand.rows[c]!, k);
      }
      kept.finish();
      let beyond = 0;
      for (const c of order) if (c >= N) beyond++;
      info.keptBeyondTopN = beyond;
      ctx.report.cover = info;
    },
    transform(input) {
      return markKeptRows(input, rowToKept!);
    },
    async finish(ctx) {
      ctx.report.kept = ctx.kept!.size;
    },
  };
}

function sec(ms: number): number {
  return Math.round(ms) / 1000;
}
