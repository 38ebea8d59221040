/**
 * Nearest kept row for many query rows: exact (SIMD kernel over worker threads) or approximate,
 * chosen by `--search exact|approx|auto`. Approximate search uses an inverted-file index by default
 * (kernels/ivf.ts: k-means cells, each query compared exactly with the rows of its best cells,
 * built inside the pool's own table memory), an HNSW graph (`index: 'hnsw'`, usearch: candidates,
 * then the exact dot product among them) or, for subword models, the kept words sharing the most
 * n-gram rows with the query's word (`index: 'ngram'`, kernels/ngram-candidates.ts: `search` then
 * needs the queries' words; docs/ngram-search.md). Either way every score is an exact cosine.
 * Used by the assign stage, and meant for every stage that assigns rows (k-means, cover).
 *
 * An approximate search first calibrates its breadth: the first CALIBRATION_ROWS queries (over as
 * many batches as it takes, or all the queries expected when fewer) are answered exactly and kept;
 * on them the search breadth (IVF: cells probed, from the fewest that reach the exact answers' cells
 * often enough, by half; HNSW: ef, doubling from 16; ngram: the shortlist, doubling from 16 while
 * that gains two points of agreement) grows until the index agrees with exact
 * search on at least 1 - (1 - minAgreement) / 2 of them and loses at most CALIBRATION_MAX_LOST of
 * mean cosine (unless `probes` / `ef` is given). Under `auto`, it
 * also times both ways on those rows and goes exact when the index is not CALIBRATION_GAIN
 * (IVF: CALIBRATION_GAIN_IVF) times faster per query. Then it checks itself: a uniform random sample of the queries (reservoir,
 * `verifySample` rows, seeded) is also answered exactly at the end, giving the agreement rate and
 * the mean cosine lost; below `minAgreement` `enforceVerification` throws a VerifyError (exit 5).
 * Memory: the pool's padded table, the index (a copy of the table plus its graph), the sample
 * (verifySample x dim floats).
 */
import { PruneError } from '../pipeline/errors.js';
import { UsageError } from '../pipeline/errors.js';
import { buildHnswIndex, HNSW_DEFAULTS, type CandidateIndex, type HnswParams, type RowSource } from './kernels/ann-index.js';
import { buildIvf, defaultCells, ivfAvailable, ivfBuildFlops, ivfBytes, IVF_MAX_PROBES, unpermute, type IvfSetup } from './kernels/ivf.js';
import { NearestPool, type NearestResult } from './kernels/nearest-pool.js';
import { NGRAM_MAX_SHORTLIST, ngramIndexBytes, type NgramSetup, type QueryLists } from './kernels/ngram-candidates.js';
import { mulberry32 } from './kernels/random.js';
import { openNgramIndex, wordLists, type NgramSource } from './ngram-index.js';

export type SearchMode = 'exact' | 'approx' | 'auto';
export const SEARCH_MODES: readonly SearchMode[] = ['exact', 'approx', 'auto'];
export type IndexKind = 'ivf' | 'hnsw' | 'ngram';
export const INDEX_KINDS: readonly IndexKind[] = ['ivf', 'hnsw', 'ngram'];
export type Fallback = 'fail' | 'exact';
export const FALLBACKS: readonly Fallback[] = ['fail', 'exact'];

export interface SearchOptions {
  /** exact, approx or auto (default auto: see chooseSearch). */
  search?: SearchMode;
  /** Rows also searched exactly to verify an approximate search (default 2000; 0 = no check). */
  verifySample?: number;
  /** Lowest acceptable agreement of approximate with exact (default 0.98). */
  minAgreement?: number;
  /**
   * Approximate index: ivf, hnsw or ngram (default ivf, or hnsw when ef, candidates, connectivity or
   * efConstruction is given, ngram when shortlist is; ivf becomes hnsw where the WebAssembly SIMD
   * kernel is missing). ngram needs `ngram` (a subword model) and the query words.
   */
  index?: IndexKind;
  /** IVF: number of cells (default about 2 x sqrt(kept rows)). */
  cells?: number;
  /** IVF: cells searched per query (default: calibrated, see above). */
  probes?: number;
  /** HNSW search breadth (default: calibrated, see above). */
  ef?: number;
  /** Candidates per query taken from the index and compared exactly (default 4). */
  candidates?: number;
  /** HNSW graph degree (default 16). */
  connectivity?: number;
  /** HNSW build breadth (default 128). */
  efConstruction?: number;
  /** ngram: kept rows per query compared exactly, the best by shared n-grams (default: calibrated). */
  shortlist?: number;
  /** ngram: the subword model and kept words the index is built from (set by the assign stage). */
  ngram?: NgramSource;
  /** Builds a candidate index (instead of IVF or usearch HNSW). Tests inject broken ones here. */
  indexFactory?: (table: RowSource, rows: number, dim: number, p: HnswParams) => Promise<CandidateIndex> | CandidateIndex;
}

export const SEARCH_DEFAULTS = { verifySample: 2000, minAgreement: 0.98, candidates: 4 } as const;
/** Calibration: queries answered both ways, the breadths tried, the speed-up auto requires. */
export const CALIBRATION_ROWS = 1024;
export const CALIBRATION_EF = [16, 32, 64, 128, 256, 512] as const;
/**
 * IVF: the first probes tried are the fewest that reach the cell of the exact answer for the target
 * share of the calibration rows (so the agreement is met at once); while the mean cosine lost is
 * still too high, the probes grow by this factor.
 */
export const CALIBRATION_WIDEN = 1.5;
export const CALIBRATION_GAIN = 2;
/**
 * ... for the IVF index: its build is a small k-means and it needs no copy of the table, so less
 * suffices. Measured on gcide-100 (20,000 x 100): at a calibrated 1.8-1.9x the IVF run took
 * 3.8-4.1 s end to end against 5.5-5.9 s for exact search.
 */
export const CALIBRATION_GAIN_IVF = 1.5;
/** ... and the mean cosine lost on them must not exceed this (rare far misses weigh here). */
export const CALIBRATION_MAX_LOST = 0.0005;
/**
 * ngram: the shortlists tried; the next (twice as long: the exact comparisons, most of the cost past
 * 64, double) is tried only while the last doubling gained at least CALIBRATION_NGRAM_MIN_GAIN of
 * agreement: on a model where the
 * exact answer often shares no n-gram with the query, the agreement levels off below the target
 * (docs/ngram-search.md) and longer shortlists would only cost time.
 */
export const CALIBRATION_SHORTLISTS = [16, 32, 64, 128, 256] as const;
/** ... (when it gained less, the shorter list is kept). */
export const CALIBRATION_NGRAM_MIN_GAIN = 0.02;

/** auto: approximate when the table has at least this many rows (HNSW: AUTO_MIN_ROWS_HNSW) ... */
export const AUTO_MIN_ROWS = 4096;
export const AUTO_MIN_ROWS_HNSW = 32768;
/** ... and exact search would cost at least this many flops (about 2.5 s on 2 cores) ... */
export const AUTO_MIN_FLOPS = 1e11;
/** ... and (IVF) building the index would cost at most this share of exact search's flops. */
export const AUTO_MAX_BUILD_SHARE = 0.05;

export interface SearchChoice {
  mode: 'exact' | 'approx';
  requested: SearchMode;
  /** One line for the log and the report. */
  reason: string;
}

/**
 * Resolves `auto` by the size of the work: queries x rows x dim, and for the IVF index the cost of
 * building it (calibration then decides by measurement; its exact answers are used, so trying the
 * index costs only its build).
 */
export function chooseSearch(requested: SearchMode, queries: number, rows: number, dim: number, index: IndexKind = 'ivf'): SearchChoice {
  const flops = 2 * queries * rows * dim;
  const size = `${queries.toLocaleString('en')} queries x ${rows.toLocaleString('en')} rows x ${dim} dims = ${formatFlops(flops)} for exact search`;
  if (requested === 'exact' || requested === 'approx') return { mode: requested, requested, reason: `--search ${requested} (${size})` };
  if (requested !== 'auto') throw new UsageError(`--search must be one of ${SEARCH_MODES.join(', ')}, got "${String(requested)}"`);
  const minRows = index === 'hnsw' ? AUTO_MIN_ROWS_HNSW : AUTO_MIN_ROWS;
  // (the ngram index's build is hashing the kept words and reading the n-gram rows once: no flops check)
  if (rows < minRows) return { mode: 'exact', requested, reason: `auto chose exact: ${rows} kept rows < ${minRows} (${size})` };
  if (flops < AUTO_MIN_FLOPS) return { mode: 'exact', requested, reason: `auto chose exact: ${size} < ${formatFlops(AUTO_MIN_FLOPS)}` };
  if (index === 'ivf') {
    const build = ivfBuildFlops(rows, dim, defaultCells(rows));
    if (build > AUTO_MAX_BUILD_SHARE * flops) {
      return { mode: 'exact', requested, reason: `auto chose exact: building the index (${formatFlops(build)}) would cost more than ${AUTO_MAX_BUILD_SHARE * 100}% of exact search (${size})` };
    }
  }
  return { mode: 'approx', requested, reason: `auto chose approx: ${size} >= ${formatFlops(AUTO_MIN_FLOPS)}` };
}

function formatFlops(f: number): string {
  if (f >= 1e12) return `${(f / 1e12).toFixed(1)} TFLOP`;
  if (f >= 1e9) return `${(f / 1e9).toFixed(1)} GFLOP`;
  return `${(f / 1e6).toFixed(1)} MFLOP`;
}

/** The index asked for: `index`, else ngram when shortlist is given, hnsw when an HNSW-only option is, else ivf. */
export function indexKind(o: SearchOptions): IndexKind {
  if (o.index) return o.index;
  if (o.shortlist !== undefined) return 'ngram';
  return o.ef !== undefined || o.candidates !== undefined || o.connectivity !== undefined || o.efConstruction !== undefined ? 'hnsw' : 'ivf';
}

/** Options that belong to one index only. */
const INDEX_OPTIONS: Record<IndexKind, readonly (keyof SearchOptions)[]> = {
  ivf: ['cells', 'probes'],
  hnsw: ['ef', 'candidates', 'connectivity', 'efConstruction'],
  ngram: ['shortlist'],
};

/** Checks option values (UsageError on nonsense). */
export function checkSearchOptions(o: SearchOptions): void {
  if (o.search !== undefined && !SEARCH_MODES.includes(o.search)) {
    throw new UsageError(`--search must be one of ${SEARCH_MODES.join(', ')}, got "${String(o.search)}"`);
  }
  if (o.index !== undefined && !INDEX_KINDS.includes(o.index)) {
    throw new UsageError(`search option index must be one of ${INDEX_KINDS.join(', ')}, got "${String(o.index)}"`);
  }
  const kind = indexKind(o);
  for (const [other, keys] of Object.entries(INDEX_OPTIONS)) {
    if (other === kind) continue;
    for (const k of keys) if (o[k] !== undefined) throw new UsageError(`search option ${k} does not apply to the ${kind} index`);
  }
  if (o.verifySample !== undefined && !(Number.isInteger(o.verifySample) && o.verifySample >= 0)) {
    throw new UsageError(`--verify-sample must be an integer >= 0, got ${o.verifySample}`);
  }
  if (o.minAgreement !== undefined && !(o.minAgreement >= 0 && o.minAgreement <= 1)) {
    throw new UsageError(`--min-agreement must be between 0 and 1, got ${o.minAgreement}`);
  }
  for (const [k, v, lo, hi] of [
    ['ef', o.ef, 1, 1 << 20],
    ['cells', o.cells, 1, 1 << 20],
    ['probes', o.probes, 1, IVF_MAX_PROBES],
    ['candidates', o.candidates, 1, 64],
    ['connectivity', o.connectivity, 2, 1024],
    ['efConstruction', o.efConstruction, 1, 1 << 20],
    ['shortlist', o.shortlist, 1, NGRAM_MAX_SHORTLIST],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= lo && v <= hi)) throw new UsageError(`search option ${k} must be an integer in [${lo}, ${hi}], got ${v}`);
  }
}

/** The approximate search agreed too little with exact search on the verification sample (exit 5). */
export class VerifyError extends PruneError {
  override readonly exitCode = 5;
  constructor(
    message: string,
    readonly verification: Verification,
  ) {
    super(message);
  }
}

export interface Verification {
  /** Rows checked. */
  sample: number;
  /** Share of them whose approximate row is the exact row (or has exactly the same cosine). */
  agreement: number;
  /** Mean of exact cosine - approximate cosine over the sample. */
  meanCosineLost: number;
  /** Largest cosine lost on one row. */
  maxCosineLost: number;
  /** Mean exact cosine over the sample. */
  meanExactCosine: number;
  minAgreement: number;
  passed: boolean;
}

/** Throws VerifyError when an approximate search's verification failed. */
export function enforceVerification(v: Verification | undefined): void {
  if (!v || v.passed) return;
  throw new VerifyError(
    `approximate search agreed with exact search on ${(v.agreement * 100).toFixed(2)}% of ${v.sample} sampled rows, ` +
      `below --min-agreement ${v.minAgreement} (mean cosine lost ${v.meanCosineLost.toFixed(5)}); ` +
      'use --search exact, or --fallback exact to redo the run exactly',
    v,
  );
}

/** Small seeded generator (mulberry32) for the verification sample. */
function rng(seed: number): () => number {
  return mulberry32((seed ^ 0x5eed5eed) >>> 0);
}

export interface OpenSearch {
  /** Worker threads for the exact kernel and the index. */
  threads: number;
  /** Seed for the verification sample. */
  seed: number;
  /** Expected number of queries (for auto). */
  queries: number;
  /** Where to say what was chosen (e.g. ctx.info). */
  log?: (line: string) => void;
  /** The table is not unit-length yet: search a normalised copy (cosines). */
  normalize?: boolean;
}

/**
 * Searches one table (unit rows for cosines). `search` answers batches of unit-length queries;
 * `verify` (approximate mode) answers the sample exactly and returns the agreement.
 */
export class NearestSearch {
  private index: CandidateIndex | undefined;
  /** The inverted-file index (the pool's table is then in its cell order). */
  private ivf: IvfSetup | undefined;
  /** IVF: cells searched per query. */
  private probes: number;
  /** The n-gram candidate index (kernels/ngram-candidates.ts), attached to the pool. */
  private ngram: NgramSetup | undefined;
  /** ngram: kept rows per query compared exactly. */
  private shortlist: number;
  /** ngram: queries that had no candidate (searched exactly instead). */
  private noCandidates = 0;
  /** ngram: the calibration rows' words. */
  private calibWords: string[] = [];
  private buildSeconds = 0;
  private seen = 0;
  private sampleN = 0;
  private sampleQ: Float32Array;
  private sampleIdx: Int32Array;
  private sampleScore: Float32Array;
  private readonly random: () => number;
  private verification: Verification | undefined;
  /** Candidates compared exactly per query. */
  private readonly k: number;
  /** Search breadth: usearch keeps max(ef, requested results), so asking for ef results widens it. */
  private ef: number;
  private calibrating: Promise<void> | undefined;
  private calibrated = false;
  /** Queries kept for calibration (answered exactly meanwhile), and how many were seen. */
  private calibQ: Float32Array;
  private calibN = 0;
  private calibSeen = 0;
  private readonly expected: number;
  /** Exact searches of calibration rows still running, and the calibration's exact answers. */
  private readonly collecting = new Set<Promise<unknown>>();
  private calibExact: NearestResult | undefined;
  private calibration: Record<string, unknown> | undefined;
  private readonly log: (line: string) => void;

  private constructor(
    readonly pool: NearestPool,
    public choice: SearchChoice,
    private readonly opts: SearchOptions,
    o: OpenSearch,
  ) {
    const s = choice.mode === 'approx' ? (opts.verifySample ?? SEARCH_DEFAULTS.verifySample) : 0;
    this.sampleQ = new Float32Array(s * pool.dim);
    this.sampleIdx = new Int32Array(s);
    this.sampleScore = new Float32Array(s);
    this.random = rng(o.seed);
    this.k = opts.candidates ?? SEARCH_DEFAULTS.candidates;
    this.ef = Math.max(opts.ef ?? CALIBRATION_EF[0], this.k);
    this.probes = opts.probes ?? 1;
    this.shortlist = opts.shortlist ?? CALIBRATION_SHORTLISTS[0];
    this.expected = Math.max(1, o.queries);
    this.calibQ = new Float32Array(choice.mode === 'approx' ? Math.min(CALIBRATION_ROWS, this.expected) * pool.dim : 0);
    this.log = o.log ?? (() => undefined);
  }

  /** Starts the search workers of a later `open` ahead of need (NearestPool.prestart). */
  static prestart(threads: number): void {
    NearestPool.prestart(threads);
  }

  /** `table`: rows x dim, unit rows unless `o.normalize`. */
  static async open(table: Float32Array, rows: number, dim: number, o: OpenSearch, opts: SearchOptions = {}): Promise<NearestSearch> {
    checkSearchOptions(opts);
    const asked = indexKind(opts);
    if (asked === 'ngram' && !opts.ngram) {
      throw new UsageError('the ngram index needs a model with subword n-grams (fastText .bin/.ftz, finalfusion with a subword vocabulary)');
    }
    const kind = asked === 'ngram' ? 'ngram' : !opts.indexFactory && asked === 'ivf' && ivfAvailable() ? 'ivf' : 'hnsw';
    const choice = chooseSearch(opts.search ?? 'auto', o.queries, rows, dim, kind);
    const ivf = choice.mode === 'approx' && kind === 'ivf' && rows > 0;
    const cells = Math.min(rows, opts.cells ?? defaultCells(rows));
    const pool = new NearestPool(table, rows, dim, o.threads, o.normalize, ivf ? ivfBytes(dim, cells, o.threads + 1) : 0);
    const s = new NearestSearch(pool, choice, opts, o);
    try {
      if (ivf && pool.simdTable) {
        const t = performance.now();
        const simd = pool.simdTable;
        s.ivf = await buildIvf(simd.memory, simd.layout, o.threads + 1, { cells, seed: o.seed, runner: pool.ivfBuildRunner() });
        await pool.attachIvf(s.ivf);
        s.buildSeconds = (performance.now() - t) / 1000;
      } else if (choice.mode === 'approx' && kind === 'ngram') {
        const t = performance.now();
        s.ngram = await openNgramIndex(opts.ngram!, rows);
        await pool.attachNgram(s.ngram);
        s.buildSeconds = (performance.now() - t) / 1000;
      } else if (choice.mode === 'approx') {
        const t = performance.now();
        const params: HnswParams = {
          connectivity: opts.connectivity ?? HNSW_DEFAULTS.connectivity,
          expansionAdd: opts.efConstruction ?? HNSW_DEFAULTS.expansionAdd,
          expansionSearch: CALIBRATION_EF[0],
          threads: o.threads,
        };
        s.index = await (opts.indexFactory ?? buildHnswIndex)((a, b) => pool.tableRows(a, b), rows, dim, params);
        s.buildSeconds = (performance.now() - t) / 1000;
      }
    } catch (e) {
      await pool.close();
      throw e;
    }
    const built = s.ivf ? `IVF (${s.ivf.layout.cells} cells)` : s.ngram ? `n-gram (${s.ngram.postings.length.toLocaleString('en')} postings)` : s.index?.name;
    s.log(`search: ${choice.reason}` + (built ? `; ${built} index built in ${s.buildSeconds.toFixed(2)} s` : ''));
    return s;
  }

  /** Whether an approximate index is in use. */
  private get approximate(): boolean {
    return this.index !== undefined || this.ivf !== undefined || this.ngram !== undefined;
  }

  /** Exact search (answers in original row numbers, also while the table is in IVF cell order). */
  private async exact(queries: Float32Array, n: number): Promise<NearestResult> {
    return this.toRows(await this.pool.search(queries, n));
  }

  /** Exact answers as original row numbers: while the table is in IVF cell order they are positions. */
  private toRows(r: NearestResult): NearestResult {
    const perm = this.ivf?.perm;
    if (perm) for (let i = 0; i < r.index.length; i++) if (r.index[i]! >= 0) r.index[i] = perm[r.index[i]!]!;
    return r;
  }

  get mode(): 'exact' | 'approx' {
    return this.choice.mode;
  }

  /** The search breadth in use: IVF probes, ngram shortlist or HNSW ef. */
  private get breadth(): number {
    return this.ivf ? this.probes : this.ngram ? this.shortlist : this.ef;
  }

  /**
   * Nearest rows of `n` unit-length queries. `words`: the queries' words, needed by the ngram
   * index (ignored otherwise).
   */
  async search(queries: Float32Array, n: number, words?: readonly string[]): Promise<NearestResult> {
    if (this.ngram && !(words && words.length >= n)) throw new Error('search: the ngram index needs the words of the queries');
    const fixed = this.ivf ? this.opts.probes !== undefined : this.ngram ? this.opts.shortlist !== undefined : this.opts.ef !== undefined;
    if (this.approximate && !fixed && !this.calibrated) {
      if (this.calibrating) await this.calibrating;
      else {
        // until CALIBRATION_ROWS queries (or all expected) are seen: exact answers, queries kept
        const dim = this.pool.dim;
        // (the buffer is filled before any await: concurrent batches each take their own rows)
        const at = this.calibN;
        const take = Math.min(n, this.calibQ.length / dim - at);
        this.calibQ.set(queries.subarray(0, take * dim), at * dim);
        if (this.ngram) for (let j = 0; j < take; j++) this.calibWords[at + j] = words![j]!;
        this.calibN += take;
        this.calibSeen += take;
        let head: NearestResult;
        if (this.calibN * dim === this.calibQ.length || this.calibSeen >= this.expected) {
          // this batch completes the rows: calibrate (its exact answers include this batch's)
          this.calibrating = this.calibrate(this.calibQ, this.calibN).finally(() => {
            this.calibrated = true;
            this.calibQ = new Float32Array(0);
            this.calibWords = [];
          });
          await this.calibrating;
          const e = this.calibExact!;
          this.calibExact = undefined;
          head = { index: e.index.slice(at, at + take), score: e.score.slice(at, at + take) };
        } else {
          // (calibration waits for these, so that its CPU times are its own)
          const job = this.exact(queries.subarray(0, take * dim), take);
          this.collecting.add(job);
          try {
            head = await job;
          } finally {
            this.collecting.delete(job);
          }
        }
        if (take === n) return head;
        // the rest of the batch as calibrated
        const rest = await this.search(queries.subarray(take * dim, n * dim), n - take, words?.slice(take, n));
        const index = new Int32Array(n);
        const score = new Float32Array(n);
        index.set(head.index);
        score.set(head.score);
        index.set(rest.index, take);
        score.set(rest.score, take);
        return { index, score };
      }
    }
    if (!this.approximate) return this.exact(queries, n);
    const r = await this.approx(queries, n, this.breadth, words);
    // a query the index found nothing for (should not happen on a connected graph; ngram: a word
    // sharing no n-gram row with any kept word) is searched exactly
    const missing: number[] = [];
    for (let q = 0; q < n; q++) if (r.index[q]! < 0) missing.push(q);
    if (missing.length) {
      const dim = this.pool.dim;
      const mq = new Float32Array(missing.length * dim);
      missing.forEach((q, j) => mq.set(queries.subarray(q * dim, (q + 1) * dim), j * dim));
      const e = await this.exact(mq, missing.length);
      missing.forEach((q, j) => {
        r.index[q] = e.index[j]!;
        r.score[q] = e.score[j]!;
      });
    }
    this.sample(queries, n, r);
    return r;
  }

  /**
   * IVF: the best row of the `breadth` best cells; ngram: the best of the `breadth` kept rows
   * sharing most n-grams; HNSW: the best `k` of `breadth` (ef) candidates, compared exactly.
   */
  private async approx(queries: Float32Array, n: number, breadth: number, words?: readonly string[]): Promise<NearestResult> {
    if (this.ivf) return this.pool.searchIvf(queries, n, breadth);
    if (this.ngram) {
      const r = await this.pool.searchNgram(queries, n, wordLists(this.opts.ngram!.subwords, words!, n), breadth);
      this.noCandidates += r.none;
      return r;
    }
    return this.approxHere(queries, n, breadth);
  }

  /**
   * `approx` on the calling thread (IVF, ngram: `lists` are the queries' n-gram rows) or with
   * usearch's own threads (HNSW): for calibration timings.
   */
  private approxHere(queries: Float32Array, n: number, breadth: number, lists?: QueryLists): NearestResult {
    if (this.ivf) return this.pool.searchIvfHere(queries, n, breadth);
    if (this.ngram) return this.pool.searchNgramHere(queries, n, lists!, breadth);
    const ef = breadth;
    const wide = Math.max(ef, this.k);
    const all = this.index!.search(queries, n, wide);
    let cand = all;
    if (wide !== this.k) {
      cand = new Int32Array(n * this.k);
      for (let q = 0; q < n; q++) cand.set(all.subarray(q * wide, q * wide + this.k), q * this.k);
    }
    return this.pool.rerank(queries, n, cand, this.k);
  }

  /**
   * On the first queries: the smallest breadth whose agreement with exact search reaches
   * 1 - (1 - minAgreement) / 2; under auto, exact search instead when the index is not
   * CALIBRATION_GAIN (IVF: CALIBRATION_GAIN_IVF) times cheaper per query (CPU time of all threads)
   * or never agrees enough.
   */
  private async calibrate(queries: Float32Array, n: number): Promise<void> {
    const c = Math.min(n, CALIBRATION_ROWS);
    const q = queries.subarray(0, c * this.pool.dim);
    const minAgreement = this.opts.minAgreement ?? SEARCH_DEFAULTS.minAgreement;
    const target = 1 - (1 - minAgreement) / 2;
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    await Promise.all([...this.collecting].map((p) => p.catch(() => undefined)));
    // both ways on this thread, synchronously: the CPU times are not mixed with the pipeline's
    // other work (parsing ahead on this thread) or with workers still busy
    let t = cpu();
    const exact = this.pool.searchHere(q, c);
    const exactCpu = cpu() - t;
    const limit = this.ivf ? Math.min(this.ivf.layout.cells, IVF_MAX_PROBES) : this.ngram ? CALIBRATION_SHORTLISTS[CALIBRATION_SHORTLISTS.length - 1] : this.pool.rows;
    let breadths: readonly number[] = this.ngram ? CALIBRATION_SHORTLISTS : CALIBRATION_EF;
    // ngram: the calibration rows' n-gram rows (a query without candidates counts as answered
    // exactly, as `search` does: its -1 is replaced by the exact answer)
    const lists = this.ngram ? wordLists(this.opts.ngram!.subwords, this.calibWords, c) : undefined;
    if (this.ivf) {
      // IVF: the fewest probes that reach the exact row's cell for the target share of the rows
      // (cheap: the centroid dots), then wider by half while the cosine lost is too high
      const need = this.pool.ivfProbesToReach(q, c, exact.index).sort();
      let p = Math.min(limit, Math.max(1, need[Math.max(0, Math.ceil(target * c) - 1)] ?? 1));
      const list = [p];
      while (p < limit) list.push((p = Math.min(limit, Math.ceil(p * CALIBRATION_WIDEN))));
      breadths = list;
    }
    this.calibExact = this.toRows(exact);
    let ef = 0;
    let agreement = 0;
    let lost = 0;
    let approxCpu = 0;
    const tried: { ef?: number; probes?: number; shortlist?: number; agreement: number; mean_cosine_lost: number; cpu_seconds: number }[] = [];
    const name = this.ivf ? 'probes' : this.ngram ? 'shortlist' : 'ef';
    for (const e of breadths) {
      t = cpu();
      const r = this.approxHere(q, c, e, lists);
      const dt = cpu() - t;
      let agree = 0;
      let sum = 0;
      for (let i = 0; i < c; i++) {
        if (r.index[i]! < 0) {
          r.index[i] = exact.index[i]!;
          r.score[i] = exact.score[i]!;
        }
        if (r.index[i] === exact.index[i] || r.score[i] === exact.score[i]) agree++;
        sum += exact.score[i]! - r.score[i]!;
      }
      const before = { ef, agreement, lost, approxCpu };
      ef = e;
      agreement = c ? agree / c : 1;
      lost = c ? sum / c : 0;
      approxCpu = dt;
      tried.push({ [name]: e, agreement: Math.round(agreement * 1e4) / 1e4, mean_cosine_lost: Math.round(lost * 1e6) / 1e6, cpu_seconds: Math.round(dt * 1e4) / 1e4 });
      if (agreement >= target && lost <= CALIBRATION_MAX_LOST) break;
      if (this.ngram && tried.length > 1 && agreement - before.agreement < CALIBRATION_NGRAM_MIN_GAIN) {
        // levelled off: the shorter list, measured just before, does about as well for half the work
        ({ ef, agreement, lost, approxCpu } = before);
        break;
      }
      if (e >= limit) break;
    }
    const reached = agreement >= target && lost <= CALIBRATION_MAX_LOST;
    if (this.choice.requested === 'auto' && reached) {
      // the chosen breadth timed once more, the lower time kept: a single timing of a few tens of
      // milliseconds can include compiling a code path first used at that breadth
      t = cpu();
      this.approxHere(q, c, ef, lists);
      approxCpu = Math.min(approxCpu, cpu() - t);
    }
    if (this.ivf) this.probes = ef;
    else if (this.ngram) this.shortlist = ef;
    else this.ef = Math.max(ef, this.k);
    const gain = approxCpu > 0 ? exactCpu / approxCpu : Infinity;
    this.calibration = { rows: c, target, max_lost: CALIBRATION_MAX_LOST, [name]: ef, agreement, mean_cosine_lost: lost, exact_cpu_seconds: Math.round(exactCpu * 1e4) / 1e4, tried };
    const line = `calibrated on ${c} rows: ${name} ${ef} agrees on ${(agreement * 100).toFixed(1)}% (mean cosine lost ${lost.toFixed(5)}) at ${gain.toFixed(1)}x the speed of exact search`;
    const needGain = this.ivf || this.ngram ? CALIBRATION_GAIN_IVF : CALIBRATION_GAIN;
    if (this.choice.requested === 'auto' && (!reached || gain < needGain)) {
      await this.dropIndex();
      this.sampleQ = new Float32Array(0);
      this.sampleIdx = new Int32Array(0);
      this.sampleScore = new Float32Array(0);
      this.choice = { ...this.choice, mode: 'exact', reason: `${this.choice.reason}; then exact: ${line} (needs ${(target * 100).toFixed(1)}%, lost <= ${CALIBRATION_MAX_LOST} and ${needGain}x)` };
      this.log(`search: auto switched to exact: ${line}`);
      return;
    }
    this.log(`search: ${line}`);
  }

  /** Back to plain exact search: the index closed, the table in its original order. */
  private async dropIndex(): Promise<void> {
    this.index?.close();
    this.index = undefined;
    if (this.ngram) {
      await this.pool.attachNgram(undefined);
      this.ngram = undefined;
    }
    if (this.ivf) {
      await this.pool.attachIvf(undefined);
      unpermute(this.pool.simdTable!.memory, this.ivf);
      this.ivf = undefined;
    }
  }

  /** Reservoir sampling (algorithm R) of the queries with their approximate answers. */
  private sample(queries: Float32Array, n: number, r: NearestResult): void {
    const cap = this.sampleIdx.length;
    if (cap === 0) return;
    const dim = this.pool.dim;
    for (let q = 0; q < n; q++) {
      const i = this.seen++;
      const slot = i < cap ? i : Math.floor(this.random() * (i + 1));
      if (slot >= cap) continue;
      this.sampleQ.set(queries.subarray(q * dim, (q + 1) * dim), slot * dim);
      this.sampleIdx[slot] = r.index[q]!;
      this.sampleScore[slot] = r.score[q]!;
      if (i < cap) this.sampleN++;
    }
  }

  /** Approximate mode: answers the sample exactly and measures the agreement (once). */
  async verify(): Promise<Verification | undefined> {
    if (!this.approximate || this.sampleIdx.length === 0) return undefined;
    if (this.verification) return this.verification;
    const n = this.sampleN;
    const minAgreement = this.opts.minAgreement ?? SEARCH_DEFAULTS.minAgreement;
    const e = await this.exact(this.sampleQ.subarray(0, n * this.pool.dim), n);
    let agree = 0;
    let lost = 0;
    let maxLost = 0;
    let exact = 0;
    for (let i = 0; i < n; i++) {
      const same = e.index[i] === this.sampleIdx[i] || e.score[i] === this.sampleScore[i];
      if (same) agree++;
      const l = Math.max(0, e.score[i]! - this.sampleScore[i]!);
      lost += l;
      exact += e.score[i]!;
      if (l > maxLost) maxLost = l;
    }
    const agreement = n ? agree / n : 1;
    this.verification = {
      sample: n,
      agreement,
      meanCosineLost: n ? lost / n : 0,
      maxCosineLost: maxLost,
      meanExactCosine: n ? exact / n : NaN,
      minAgreement,
      passed: agreement >= minAgreement,
    };
    return this.verification;
  }

  /** What to put in the run report under `search`. */
  reportEntry(): Record<string, unknown> {
    const r: Record<string, unknown> = { mode: this.choice.mode, requested: this.choice.requested, reason: this.choice.reason, kernel: this.pool.kernel };
    if (this.index) {
      r.index = { name: this.index.name, ...this.index.params, ef: this.ef, candidates: this.k, build_seconds: Math.round(this.buildSeconds * 1000) / 1000 };
    }
    if (this.ivf) {
      const { cells } = this.ivf.layout;
      const cs = this.ivf.cellStart;
      let largest = 0;
      let empty = 0;
      for (let c = 0; c < cells; c++) {
        largest = Math.max(largest, cs[c + 1]! - cs[c]!);
        if (cs[c + 1] === cs[c]) empty++;
      }
      r.index = { name: 'ivf', cells, probes: this.probes, largest_cell: largest, empty_cells: empty, build_seconds: Math.round(this.buildSeconds * 1000) / 1000 };
    }
    if (this.ngram) {
      const g = this.ngram;
      let used = 0;
      for (let b = 0; b < g.buckets; b++) if (g.offsets[b + 1] !== g.offsets[b]) used++;
      r.index = {
        name: 'ngram',
        shortlist: this.shortlist,
        weights: g.weighted ? 'row norms' : 'none',
        postings: g.postings.length,
        buckets_used: used,
        bytes: ngramIndexBytes(g).shared,
        no_candidates: this.noCandidates,
        build_seconds: Math.round(this.buildSeconds * 1000) / 1000,
      };
    }
    if (this.calibration) r.calibration = this.calibration;
    if (this.verification) {
      const v = this.verification;
      r.verify = {
        sample: v.sample,
        agreement: Math.round(v.agreement * 1e6) / 1e6,
        mean_cosine_lost: Math.round(v.meanCosineLost * 1e7) / 1e7,
        max_cosine_lost: Math.round(v.maxCosineLost * 1e6) / 1e6,
        min_agreement: v.minAgreement,
        passed: v.passed,
      };
    }
    return r;
  }

  async close(): Promise<void> {
    this.index?.close();
    this.index = undefined;
    this.ivf = undefined;
    this.ngram = undefined;
    await this.pool.close();
  }
}
