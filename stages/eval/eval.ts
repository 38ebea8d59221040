/**
 * Comparing a pruned model with its original (`prune-pipe eval`).
 *
 * The original is streamed once (any format; finalfusion rows as stored, like finalfusion's own
 * lookups: cosines do not depend on norms); the pruned model is opened for lookups (stages/lookup:
 * a word -> row map, rows read at their offsets in coalesced reads), so memory holds one map, one
 * batch, the neighbour pool (2 x pool x dim floats) and the pair words' vectors, never either model.
 *
 * Measures:
 *   - cosine between each shared word's original and pruned vector (mean, frequency-weighted
 *     mean, min, p1, p5, p50, histogram; identical vectors counted apart);
 *   - the same for original words the pruned model only gives through its subwords, apart;
 *   - nearest-neighbour overlap @k on a sample of frequent shared words (neighbours.ts);
 *   - Spearman correlation with human judgements of a word-pair file, on each side;
 *   - words of either side missing from the other.
 */
import type { Batch } from '../../pipeline/batch.js';
import { InputError, UsageError } from '../../pipeline/errors.js';
import type { ModelReader } from '../../pipeline/model.js';
import { CosineStats } from '../../pipeline/report.js';
import { openSource, spillSource, type Source } from '../../pipeline/source.js';
import { drain, fromPromise } from '../../pipeline/stream.js';
import { WordFingerprintSet } from '../../pipeline/word-set.js';
import { readCountsFile } from '../counts.js';
import { detectFormat } from '../formats/index.js';
import { lookupFromSource, openLookup, openLookupReader, SOURCE_MAPPED, SOURCE_NONE, SOURCE_SUBWORDS, type Lookup } from '../lookup/index.js';
import { readPairsFile, type WordPair } from './pairs.js';
import { NeighbourOverlap, type OverlapResult } from './neighbours.js';
import { spearman } from './spearman.js';

export interface EvalOptions {
  /** Format of the original (default: detected). */
  from?: string;
  /** Format of the pruned model (default: detected). */
  prunedFrom?: string;
  /** Mapping file of the pruned model (`word<TAB>kept<TAB>cosine`). */
  mapping?: string;
  /** Counts file `word<TAB>count` for the weighted mean (default: the original's counts, else Zipf). */
  counts?: string;
  /** Word-pair file, or the pairs themselves; undefined: no correlation. */
  pairs?: string | WordPair[];
  /** Lower-case the pair words (when read from a file). */
  lowercase?: boolean;
  /** Neighbour overlap: query words (default 500; 0 turns the measure off). */
  sample?: number;
  /** Neighbour overlap: the queries are drawn from this many most frequent shared words (default 10000). */
  sampleFrom?: number;
  /** Neighbour overlap: neighbours are searched among this many most frequent shared words (default 100000; 0: all). */
  pool?: number;
  /** Neighbours compared per word (default 10). */
  k?: number;
  seed?: number;
  batchRows?: number;
  /** Missing words listed per side (default 10). */
  examples?: number;
  /** Called as the original is read: bytes read so far, rows done. */
  onProgress?: (bytes: number, rows: number) => void;
}

export interface CosineSummary {
  count: number;
  mean: number;
  weighted_mean: number;
  min: number;
  p1: number;
  p5: number;
  p50: number;
  /** Vectors equal up to float rounding (cosine >= 0.999999). */
  identical: number;
  histogram: { from: number; to: number; count: number }[];
}

export interface CorrelationSummary {
  /** Pairs both sides give a vector for, in this set. */
  pairs: number;
  original: number;
  pruned: number;
}

export interface EvalResult {
  original: { file: string; format: string; rows: number; dim: number; counts: boolean; subwords: boolean };
  pruned: { file: string; format: string; rows: number; words: number; dim: number; subwords: boolean; pruned?: string; mapped?: number };
  /** Words of the original the pruned model knows (own row or mapped). */
  shared: number;
  /** Of those, words the pruned model maps to a kept row. */
  mapped: number;
  /** What the weighted mean is weighted by. */
  weights: 'counts' | 'counts file' | 'zipf';
  cosine: CosineSummary;
  /** Original words the pruned model does not know but builds from its subwords. */
  subwords?: CosineSummary;
  missing: {
    /** Original words the pruned model has no vector for. */
    from_pruned: number;
    from_pruned_examples: string[];
    /** Words the pruned model knows that the original lacks. */
    from_original: number;
    from_original_examples: string[];
  };
  neighbours?: OverlapResult;
  pairs?: {
    file: string;
    total: number;
    /** Both words in both vocabularies (own row or mapped). */
    vocabulary: CorrelationSummary;
    /** Also pairs with words built from subwords on either side (when any). */
    with_subwords?: CorrelationSummary & { original_subword_words: number; pruned_subword_words: number };
    /** Pairs left out: some word has no vector on some side. */
    unused: number;
    missing_words: string[];
  };
  seconds: number;
}

/** Compares two model files. */
export async function evaluate(originalFile: string, prunedFile: string, opts: EvalOptions = {}): Promise<EvalResult> {
  const t0 = performance.now();
  const pairs = typeof opts.pairs === 'string' ? await readPairsFile(opts.pairs, { lowercase: opts.lowercase }) : opts.pairs;
  const counts = opts.counts ? await readCountsFile(opts.counts) : undefined;
  const pruned = await openLookup(prunedFile, { from: opts.prunedFrom, mapping: opts.mapping });
  try {
    let source = await openSource(originalFile);
    // Streamed formats read gzip in place; formats read at offsets need a decompressed copy.
    if (source.compressed && (await detectFormat(source, opts.from)).randomAccess) source = await spillSource(source);
    try {
      const reader = await openLookupReader(source, opts.from);
      try {
        const pairsFile = typeof opts.pairs === 'string' ? opts.pairs : undefined;
        const r = await compare(source, reader, pruned, { ...opts, pairs, pairsFile, countsMap: counts });
        r.seconds = round((performance.now() - t0) / 1000, 3);
        return r;
      } finally {
        await reader.close().catch(() => undefined);
      }
    } finally {
      await source.close();
    }
  } finally {
    await pruned.close();
  }
}

export interface CompareOptions extends Omit<EvalOptions, 'pairs'> {
  pairs?: WordPair[];
  /** Name of the pairs file, for the result. */
  pairsFile?: string;
  countsMap?: Map<string, number>;
}

/** Compares a streamed original (an open reader) with a pruned model opened for lookups. */
export async function compare(source: Source, reader: ModelReader, pruned: Lookup, opts: CompareOptions = {}): Promise<EvalResult> {
  const dim = reader.info.dim;
  if (pruned.dim !== dim) {
    throw new UsageError(`cannot compare: ${source.name} has ${dim} dimensions, ${pruned.name} has ${pruned.dim}`);
  }
  const sample = opts.sample ?? 500;
  const pool = opts.pool === 0 ? Infinity : (opts.pool ?? 100000);
  const overlap =
    sample > 0 ? new NeighbourOverlap(dim, { sample, sampleFrom: Math.min(opts.sampleFrom ?? 10000, pool), pool, k: opts.k ?? 10, seed: opts.seed ?? 1 }) : undefined;
  const nExamples = opts.examples ?? 10;
  const countsMap = opts.countsMap;
  const weights: EvalResult['weights'] = countsMap ? 'counts file' : reader.info.hasCounts ? 'counts' : 'zipf';

  const stats = new CosineStats();
  const subStats = new CosineStats();
  let identical = 0;
  let subIdentical = 0;
  let shared = 0;
  let mapped = 0;
  let missing = 0;
  const missingExamples: string[] = [];
  const seen = new WordFingerprintSet(Math.min(reader.info.rows ?? 1 << 16, 1 << 22));
  let row = 0;

  const pairWords = new Set<string>();
  for (const p of opts.pairs ?? []) pairWords.add(p.a).add(p.b);
  const pairOrig = new Map<string, Float32Array>();

  const onBatch = async (b: Batch): Promise<void> => {
    const idx: number[] = [];
    for (let i = 0; i < b.words.length; i++) if (seen.add(b.words[i]!)) idx.push(i);
    const ws = idx.map((i) => b.words[i]!);
    const res = await pruned.vectors(ws);
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j]!;
      const word = ws[j]!;
      const rank = row++;
      const o = b.vectors.subarray(i * dim, (i + 1) * dim);
      if (pairWords.has(word)) pairOrig.set(word, o.slice());
      const src = res.source[j]!;
      if (src === SOURCE_NONE) {
        missing++;
        if (missingExamples.length < nExamples) missingExamples.push(word);
        continue;
      }
      const p = res.vectors.subarray(j * dim, (j + 1) * dim);
      const c = cosine(o, 0, p, 0, dim);
      const w = countsMap ? (countsMap.get(word) ?? 0) : b.counts ? b.counts[i]! : 1 / (rank + 1);
      if (src === SOURCE_SUBWORDS) {
        subStats.add(c, w);
        if (c >= 0.999999) subIdentical++;
        continue;
      }
      shared++;
      if (src === SOURCE_MAPPED) mapped++;
      stats.add(c, w);
      if (c >= 0.999999) identical++;
      overlap?.add(o, p);
    }
  };

  let bytes = 0;
  await drain(
    reader
      .pass({ batchRows: opts.batchRows ?? 2048, onBytes: (n) => (bytes = n) })
      .flatMap((b: Batch) => fromPromise(onBatch(b).then(() => opts.onProgress?.(bytes, row)))),
  );
  if (row === 0) throw new InputError('the original model has no rows', { file: source.name });

  // Words the pruned model knows that the original lacks.
  let fromOriginal = 0;
  const fromOriginalExamples: string[] = [];
  for (const w of pruned.words()) {
    if (seen.add(w)) {
      fromOriginal++;
      if (fromOriginalExamples.length < nExamples) fromOriginalExamples.push(w);
    }
  }

  const result: EvalResult = {
    original: {
      file: source.name,
      format: reader.info.format,
      rows: row,
      dim,
      counts: reader.info.hasCounts,
      subwords: !!reader.subwords,
    },
    pruned: {
      file: pruned.name,
      format: pruned.info.format,
      rows: pruned.vocabSize,
      words: pruned.size,
      dim,
      subwords: pruned.subwords,
      ...(pruned.pruned ? { pruned: pruned.pruned.kind === 'fifu' ? `finalfusion <word> entries (${pruned.pruned.layout})` : `mapping file ${pruned.pruned.mappingFile}`, mapped: pruned.pruned.mapped } : {}),
    },
    shared,
    mapped,
    weights,
    cosine: summarize(stats, identical),
    missing: { from_pruned: missing, from_pruned_examples: missingExamples, from_original: fromOriginal, from_original_examples: fromOriginalExamples },
    seconds: 0,
  };
  if (subStats.n > 0) result.subwords = summarize(subStats, subIdentical);
  const nb = overlap?.finish();
  if (nb) result.neighbours = nb;
  if (opts.pairs) result.pairs = await correlations(opts.pairs, pairOrig, source, reader, pruned, opts, opts.pairsFile ?? '');
  return result;
}

/** Pair correlations on the vocabulary set and, when subwords add pairs, the larger set. */
async function correlations(
  pairs: WordPair[],
  orig: Map<string, Float32Array>,
  source: Source,
  reader: ModelReader,
  pruned: Lookup,
  opts: CompareOptions,
  file: string,
): Promise<NonNullable<EvalResult['pairs']>> {
  const words = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  // Original: vocabulary vectors came from the pass; unknown words through subwords if it has them.
  const origSub = new Map<string, Float32Array>();
  const unknown = words.filter((w) => !orig.has(w));
  if (unknown.length && reader.subwords) {
    const lk = await lookupFromSource(source, { from: opts.from });
    try {
      const r = await lk.vectors(unknown);
      unknown.forEach((w, i) => {
        if (r.source[i] === SOURCE_SUBWORDS) origSub.set(w, r.vectors.slice(i * lk.dim, (i + 1) * lk.dim));
      });
    } finally {
      await lk.close();
    }
  }
  const pr = await pruned.vectors(words);
  const dim = pruned.dim;
  const prIndex = new Map<string, number>();
  words.forEach((w, i) => prIndex.set(w, i));
  const prVec = (w: string) => pr.vectors.subarray(prIndex.get(w)! * dim, (prIndex.get(w)! + 1) * dim);
  const prSrc = (w: string) => pr.source[prIndex.get(w)!]!;

  const voc = { human: [] as number[], o: [] as number[], p: [] as number[] };
  const all = { human: [] as number[], o: [] as number[], p: [] as number[] };
  const subO = new Set<string>();
  const subP = new Set<string>();
  const missingWords = new Set<string>();
  let unused = 0;
  for (const p of pairs) {
    const oa = orig.get(p.a) ?? origSub.get(p.a);
    const ob = orig.get(p.b) ?? origSub.get(p.b);
    const sa = prSrc(p.a);
    const sb = prSrc(p.b);
    if (!oa || !ob || sa === SOURCE_NONE || sb === SOURCE_NONE) {
      unused++;
      for (const w of [p.a, p.b]) if (!(orig.has(w) || origSub.has(w)) || prSrc(w) === SOURCE_NONE) missingWords.add(w);
      continue;
    }
    const co = cosine(oa, 0, ob, 0, dim);
    const cp = cosine(prVec(p.a), 0, prVec(p.b), 0, dim);
    all.human.push(p.score);
    all.o.push(co);
    all.p.push(cp);
    const inVocab = orig.has(p.a) && orig.has(p.b) && sa !== SOURCE_SUBWORDS && sb !== SOURCE_SUBWORDS;
    if (inVocab) {
      voc.human.push(p.score);
      voc.o.push(co);
      voc.p.push(cp);
    } else {
      for (const w of [p.a, p.b]) {
        if (!orig.has(w)) subO.add(w);
        if (prSrc(w) === SOURCE_SUBWORDS) subP.add(w);
      }
    }
  }
  const corr = (s: typeof voc): CorrelationSummary => ({ pairs: s.human.length, original: round(spearman(s.human, s.o)), pruned: round(spearman(s.human, s.p)) });
  const out: NonNullable<EvalResult['pairs']> = {
    file,
    total: pairs.length,
    vocabulary: corr(voc),
    unused,
    missing_words: [...missingWords],
  };
  if (all.human.length > voc.human.length) out.with_subwords = { ...corr(all), original_subword_words: subO.size, pruned_subword_words: subP.size };
  return out;
}

function summarize(s: CosineStats, identical: number): CosineSummary {
  const j = s.toJSON();
  const lo = Math.max(-1, Math.min(0.9, Math.floor((s.n ? s.min : 0) * 10) / 10));
  const bins = Math.round((1 - lo) * 10);
  return {
    count: s.n,
    mean: j.mean!,
    weighted_mean: j.weighted_mean!,
    min: j.min!,
    p1: j.p1!,
    p5: j.p5!,
    p50: j.p50!,
    identical,
    histogram: s.histogram(bins, lo).map((h) => ({ from: round(h.from, 2), to: round(h.to, 2), count: h.count })),
  };
}

/** Cosine of a[ao..] and b[bo..] (0 when either is a zero vector). Cost: 6 x dim flops. */
export function cosine(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < dim; k++) {
    const x = a[ao + k]!;
    const y = b[bo + k]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 || bb === 0) return 0;
  return Math.max(-1, Math.min(1, ab / Math.sqrt(aa * bb)));
}

function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
