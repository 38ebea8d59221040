/**
 * Quantized outputs: the serialize stage hands over to this module for `--to ftz` and for
 * `--quantize pq` (finalfusion). Rows are product-quantized (stages/pq-quantize.ts) once the kept
 * table (and the subword plan of a subword run) is complete, at the end of the stream.
 *
 *   ftz   a fastText model with a quantized input matrix, loaded by fastText 0.9.2
 *         (formats/fasttext/writer.ts): the kept words with their counts; for a fastText input with
 *         a subword plan, the pruned index of the buckets the plan keeps and their rows; the kept
 *         words' output-matrix rows copied from the source. Input word rows: the source's own rows,
 *         or, with `compensate` (default), rows chosen so that fastText's vector of each kept word
 *         (word row plus its n-gram rows, averaged) is the original vector up to the quantization
 *         of that one row: the quantization errors of the n-gram rows, and n-gram rows the plan
 *         dropped or remapped, are absorbed by the word row. Pruned words are rebuilt from their
 *         n-grams by fastText itself (no word -> row map exists in the format). Inputs without
 *         subwords give a model of the kept words only (pruned index of size 0: no n-gram rows).
 *         Norms apart (qnorm, 256 levels as fastText's -qnorm) by default: on gcide-100 it cuts
 *         the error (1 - cosine) about 4 times for one byte per row.
 *   fifu  the finalfusion layouts of serialize.ts / serialize-subwords.ts with a QuantizedArray
 *         instead of the NdArray: pruned explicit n-gram layouts, the subword layout, the
 *         kept-rows SimpleVocab, or an unpruned SimpleVocab (no kept table). Rows are quantized
 *         unit-length with their norms stored exactly (qnorm, default on): finalfusion stores word
 *         rows unit-length but n-gram rows as they are (norms around 9 in a fastText model), and one
 *         codebook for both scales serves the word rows badly (docs/quantization.md).
 *
 * After writing, `verify` (default) re-opens the written file with this project's reader
 * (stages/lookup) and compares, in one more pass over the input, every word's original vector
 * with what the written model gives it: report.quantization.cosine (kept, pruned, all). When the
 * input's n-gram rows do not fit the reader's memory, the pass takes samples of about 10,000 kept
 * words and 10,000 others (subword-collapse.ts keptAndSampleRows).
 */
import type { Batch } from '../pipeline/batch.js';
import { openPass, type RunContext } from '../pipeline/context.js';
import { UsageError } from '../pipeline/errors.js';
import type { OutputFile } from '../pipeline/output.js';
import { CosineStats } from '../pipeline/report.js';
import type { Capability } from '../pipeline/stage.js';
import { drain, fromPromise, type Stream } from '../pipeline/stream.js';
import { rowWeight } from './assign.js';
import { FastTextModel, writeFtz, KSUB, type FastTextArgs } from './formats/fasttext/index.js';
import { IntList } from './formats/fasttext/indexer.js';
import { FifuRowWriter, FifuWriter, toToml, writePrunedFifu, writePrunedSubwordFifu, type QuantizedArrayData, type RowQuantizer } from './formats/fifu/index.js';
import { cosineRows } from './kernels/ngram-sum.js';
import { compensateRows, type CompensateJob } from './kernels/pq-compensate.js';
import { openLookup } from './lookup/index.js';
import { checkPqOptions, codebookIndex, cpuSeconds, normCodesFor, quantizeNorms, quantizeRows, type PqOptions, type PqResult } from './pq-quantize.js';
import { KEPT_ONLY_STATE, keptAndSampleRows, REBUILD_SAMPLE, subwordPlanOf, type SubwordPlan } from './subword-collapse.js';
import { planNgrams } from './serialize-subwords.js';
import { quantizeRowSources, type RowSource } from './pq-stream.js';
import { PqPool } from './kernels/pq-pool.js';

export const QUANTIZE_METHODS = ['pq'] as const;
/** Formats that are always quantized. */
export const QUANTIZED_FORMATS = ['ftz'] as const;

export interface QuantizeOptions extends PqOptions {
  /** 'pq' (product quantization), the only method. */
  method?: string;
  /** ftz: kept words' input rows absorb the n-gram rows' errors (default true). */
  compensate?: boolean;
  /** Compare every word with the written model after writing (default true). */
  verify?: boolean;
}

export interface QuantizedSerializeInput {
  output: string;
  to: string;
  layout: 'expanded' | 'kept';
  mapping?: string;
  out: OutputFile;
  map?: OutputFile;
  provenance: () => string;
  quantize: QuantizeOptions;
}

export interface QuantizedSerializer {
  transform(input: Stream<Batch>, ctx: RunContext): Stream<Batch>;
  finish(ctx: RunContext): Promise<void>;
}

/** What the report says about the quantization (report.quantization). */
export interface QuantizationReport {
  method: 'pq';
  format: string;
  subquantizers: number;
  dsub: number;
  lastdsub: number;
  centroids: number;
  qnorm: boolean;
  rows: number;
  sampled: number;
  mse: number;
  trainSeconds: number;
  encodeSeconds: number;
  trainCpuSeconds: number;
  encodeCpuSeconds: number;
  compensated?: number;
  bytes?: number;
  cosine?: { kept: CosineStats; pruned: CosineStats; all: CosineStats; missing: number; seconds: number; cpuSeconds: number };
}

/**
 * Checks the run can be written quantized (UsageError naming serialize otherwise) and returns the
 * writer. Called from the serialize stage's open, after its own checks.
 */
export function quantizedSerializer(ctx: RunContext, have: ReadonlySet<Capability>, input: QuantizedSerializeInput): QuantizedSerializer {
  const q = input.quantize;
  const to = input.to;
  if (q.method !== undefined && !(QUANTIZE_METHODS as readonly string[]).includes(q.method)) {
    throw new UsageError(`--quantize must be ${QUANTIZE_METHODS.join(' or ')}, got "${q.method}"`);
  }
  if (to !== 'ftz' && to !== 'fifu') throw new UsageError(`stage "serialize": --quantize writes fifu or ftz, not ${to}`);
  const model = ctx.model!;
  const dim = model.info.dim;
  checkPqOptions(q, dim, to === 'fifu');
  const holder = subwordPlanOf(ctx);
  const hasKept = have.has('kept');
  if (to === 'ftz') {
    if (!hasKept) throw new UsageError('stage "serialize": a .ftz holds the kept words; it needs a kept table (a rank or cover stage)');
    if (ctx.report.method === 'kmeans') throw new UsageError('stage "serialize": a .ftz dictionary holds words; k-means centroids are not words (use --method topn or cover)');
    if (holder?.prunedWords === 'nearest' || (!holder && model.subwords && have.has('assigned'))) {
      throw new UsageError(
        'stage "serialize": a .ftz cannot map a pruned word to another word\'s row (fastText rebuilds every word it does not know from its n-grams); use --pruned-words subwords',
      );
    }
    if (holder && !(model instanceof FastTextModel)) {
      throw new UsageError(`stage "serialize": a .ftz can hold the n-gram rows of a fastText model only (the input is ${model.info.format}, whose n-gram hashing fastText does not share)`);
    }
  } else if (holder?.prunedWords === 'nearest') {
    throw new UsageError(
      'stage "serialize": a finalfusion file cannot map a pruned word to another word\'s row while it has subwords (a finalfusion reader rebuilds every word it does not know from its n-grams); use --pruned-words subwords, or write word2vec/GloVe',
    );
  }
  // a .ftz holds kept rows only: a fastText pass computes pruned words for the report's sample only
  if (to === 'ftz' && holder && !input.map) ctx.state.set(KEPT_ONLY_STATE, true);
  const fifuPruned = to === 'fifu' && hasKept && !holder && input.layout === 'expanded';
  const prunedWords: string[] = [];
  let prunedRows = new Int32Array(1024);
  const rowWriter = to === 'fifu' && !hasKept ? new FifuRowWriter(input.out, { quantizer: fifuQuantizer(ctx, q, undefined) }) : undefined;
  let begun = false;

  const writeBatch = async (ctx: RunContext, b: Batch): Promise<Batch> => {
    const kept = ctx.kept;
    if (rowWriter) {
      if (!begun) {
        begun = true;
        await rowWriter.begin(0, b.dim);
      }
      await rowWriter.writeRows(b.words, b.vectors, b.dim);
      return b;
    }
    if (!kept || !b.target) throw new Error('serialize: rows reached the writer without a target row');
    if (fifuPruned) {
      for (let i = 0; i < b.words.length; i++) {
        const t = b.target[i]!;
        if (kept.sourceRow[t] === b.start + i) continue;
        if (prunedWords.length === prunedRows.length) {
          const bigger = new Int32Array(prunedRows.length * 2);
          bigger.set(prunedRows);
          prunedRows = bigger;
        }
        prunedRows[prunedWords.length] = t;
        prunedWords.push(b.words[i]!);
      }
    }
    if (input.map) {
      const lines: string[] = [];
      for (let i = 0; i < b.words.length; i++) {
        const t = b.target[i]!;
        if (t >= 0 && kept.sourceRow[t] === b.start + i) continue;
        lines.push(`${b.words[i]}\t${t >= 0 ? kept.labels[t] : ''}\t${b.score![i]!.toFixed(6)}`);
      }
      if (lines.length) await input.map.write(Buffer.from(lines.join('\n') + '\n', 'latin1'));
    }
    return b;
  };

  return {
    transform(stream, ctx) {
      return stream.flatMap((b: Batch) => fromPromise(writeBatch(ctx, b)));
    },
    async finish(ctx) {
      const report = { format: to } as QuantizationReport;
      ctx.report.quantization = report;
      let rows: number;
      if (to === 'ftz') rows = await writeFtzOutput(ctx, input, report);
      else if (rowWriter) {
        if (!begun) await rowWriter.begin(0, dim);
        await rowWriter.end(dim);
        rows = rowWriter.written;
      } else rows = await writeFifuOutput(ctx, input, report, fifuPruned ? { words: prunedWords, rows: prunedRows.subarray(0, prunedWords.length) } : undefined);
      await input.out.commit();
      await input.map?.commit();
      report.bytes = input.out.fileBytes;
      ctx.report.output = { file: input.output, format: to, layout: input.layout, bytes: input.out.fileBytes, rows };
      if (input.map) ctx.report.mappingFile = input.mapping;
      if (q.verify !== false && input.output !== '-') await verify(ctx, input.output, to, report);
      const c = report.cosine;
      ctx.info(
        `quantized: ${report.subquantizers} sub-quantizers of ${report.dsub} dims${report.qnorm ? ', norms apart' : ''}, ${report.rows} rows` +
          (c ? `; cosine to the original: kept words ${fmt(c.kept)}, pruned words ${fmt(c.pruned)}, all ${fmt(c.all)}${c.missing ? ` (${c.missing} words without a vector)` : ''}` : ''),
      );
    },
  };
}

function fmt(s: CosineStats): string {
  return s.n ? `mean ${s.mean.toFixed(4)} (${s.n})` : 'none';
}

function fill(report: QuantizationReport, r: PqResult, qnorm: boolean): void {
  Object.assign(report, {
    method: 'pq',
    subquantizers: r.codebook.nsubq,
    dsub: r.codebook.dsub,
    lastdsub: r.codebook.lastdsub,
    centroids: r.codebook.k,
    qnorm,
    rows: r.rows,
    sampled: r.sampled,
    mse: Math.round(r.mse * 1e9) / 1e9,
    trainSeconds: Math.round(r.trainSeconds * 1000) / 1000,
    encodeSeconds: Math.round(r.encodeSeconds * 1000) / 1000,
    trainCpuSeconds: Math.round(r.trainCpuSeconds * 1000) / 1000,
    encodeCpuSeconds: Math.round(r.encodeCpuSeconds * 1000) / 1000,
  });
}

/** The finalfusion writers' quantizer: PQ over every storage row (norms exact with qnorm). */
function fifuQuantizer(ctx: RunContext, q: QuantizeOptions, report: QuantizationReport | undefined): RowQuantizer {
  return (rows, count, dim): QuantizedArrayData => {
    const qnorm = q.qnorm ?? true;
    const r = quantizeRows([{ data: rows, rows: count }], dim, { ...q, qnorm, even: true, seed: ctx.options.seed });
    const rep = report ?? ((ctx.report.quantization ??= { format: 'fifu' }) as QuantizationReport);
    fill(rep, r, qnorm);
    return { rows: count, cols: dim, quantizedLen: r.codebook.nsubq, centroids: r.codebook.k, quantizers: r.codebook.centroids, norms: r.norms, codes: r.codes };
  };
}

async function writeFifuOutput(ctx: RunContext, input: QuantizedSerializeInput, report: QuantizationReport, pruned?: { words: string[]; rows: Int32Array }): Promise<number> {
  const kept = ctx.kept!;
  const dim = ctx.model!.info.dim;
  const quantizer = fifuQuantizer(ctx, input.quantize, report);
  const plan = subwordPlanOf(ctx)?.plan;
  if (plan) {
    const labels: string[] = [];
    const vectors = new Float32Array(kept.size * dim);
    for (let k = 0; k < kept.size; k++) {
      if (kept.sourceRow[k]! < 0) continue;
      vectors.set(kept.row(k), labels.length * dim);
      labels.push(kept.labels[k]!);
    }
    const { ngrams, rows } = await planNgrams(ctx, plan);
    // the writer quantizes every storage row at once: plan rows left in the input are read here
    let ngramVectors = plan.rows;
    if (!plan.rowsResident) {
      const all = (ngramVectors = new Float32Array(plan.planRows * dim));
      await plan.readRows(Int32Array.from({ length: plan.planRows }, (_, i) => i), (k, data, off) => all.set(data.subarray(off, off + dim), k * dim));
    }
    const facts = { buckets_in: plan.buckets, rows_out: plan.planRows, null_row: plan.nullRow >= 0, ngrams: ngrams.length, pruned_words: plan.prunedWords, min_n: plan.indexer.minN, max_n: plan.indexer.maxN };
    const res = await writePrunedSubwordFifu(input.out, {
      dim,
      labels,
      vectors: vectors.subarray(0, labels.length * dim),
      ngrams,
      ngramRows: rows,
      ngramVectors,
      minN: plan.indexer.minN,
      maxN: plan.indexer.maxN,
      metadata: metadata(input) + toToml({ subwords: facts }, ['prune_pipe', 'quantization']),
      quantizer,
    });
    const sub = (ctx.report.subwords ??= {}) as Record<string, unknown>;
    sub.output = { ngrams: res.ngrams, ngramRows: res.ngramRows, skippedNgrams: res.skipped.length };
    return res.rows;
  }
  if (pruned) {
    const res = await writePrunedFifu(input.out, {
      dim,
      labels: kept.labels.slice(0, kept.size).map((l, i) => (kept.sourceRow[i]! >= 0 ? l : null)),
      vectors: kept.vectors.subarray(0, kept.size * dim),
      pruned: pruned.words,
      prunedRows: pruned.rows,
      metadata: metadata(input),
      quantizer,
    });
    if (res.conflicts.length) ctx.warn(`${res.conflicts.length} pruned words contain another stored <word> and get a mixed vector from stock finalfusion readers (see docs/finalfusion.md)`);
    ctx.report.fifu = { ngrams: res.ngrams, ngramRows: res.ngramRows, minN: res.minN, maxN: res.maxN, skipped: res.skipped.length, conflicts: res.conflicts.length };
    return kept.size + pruned.words.length - res.skipped.length;
  }
  // kept layout: the kept rows as a SimpleVocab
  const w = await FifuWriter.begin(input.out, { dim, words: kept.labels.slice(0, kept.size), metadata: metadata(input), quantizer });
  await w.writeRows(kept.vectors.subarray(0, kept.size * dim));
  return (await w.end()).rows;
}

/** Provenance plus the quantizer settings, as TOML. */
function metadata(input: QuantizedSerializeInput): string {
  const q = input.quantize;
  const t: Record<string, string | number | boolean> = { method: 'pq', qnorm: q.qnorm ?? true };
  if (q.subquantizers !== undefined) t.subquantizers = q.subquantizers;
  else t.dsub = q.dsub ?? 2;
  return input.provenance() + toToml({ quantization: t }, ['prune_pipe']);
}

/** Gap (rows) between wanted rows still read through rather than skipped, and the longest read. */
const GAP_ROWS = 64;
const RUN_ROWS = 4096;

/** Rows `ids` (any order) of a matrix read with `read(start, count)`, in that order; coalesced reads. */
async function rowsById(read: (start: number, count: number) => Promise<Float32Array>, ids: Int32Array, dim: number): Promise<Float32Array> {
  const out = new Float32Array(ids.length * dim);
  const order = Int32Array.from(ids.keys()).sort((a, b) => ids[a]! - ids[b]!);
  let u = 0;
  while (u < order.length) {
    const a = ids[order[u]!]!;
    let v = u + 1;
    while (v < order.length && ids[order[v]!]! - ids[order[v - 1]!]! <= GAP_ROWS && ids[order[v]!]! - a < RUN_ROWS) v++;
    const data = await read(a, ids[order[v - 1]!]! - a + 1);
    for (let k = u; k < v; k++) out.set(data.subarray((ids[order[k]!]! - a) * dim, (ids[order[k]!]! - a + 1) * dim), order[k]! * dim);
    u = v;
  }
  return out;
}

/** Pruned-index pairs: each hash bucket whose n-gram row the plan keeps, and its row in the output. */
function prunePairs(ft: FastTextModel, plan: SubwordPlan): { buckets: Int32Array; rows: Int32Array } {
  const map = plan.rowMap;
  const bs: number[] = [];
  const rs: number[] = [];
  const inPrune = ft.indexer.prune;
  if (!inPrune) {
    for (let b = 0; b < map.length; b++) {
      if (map[b]! >= 0) {
        bs.push(b);
        rs.push(map[b]!);
      }
    }
  } else {
    for (const [k, r] of [...inPrune].sort((x, y) => x[0] - y[0])) {
      if (map[r]! >= 0) {
        bs.push(k);
        rs.push(map[r]!);
      }
    }
  }
  return { buckets: Int32Array.from(bs), rows: Int32Array.from(rs) };
}

/** Arguments of a model without subwords (word2vec, GloVe or finalfusion input). */
function plainArgs(dim: number): FastTextArgs {
  return { dim, ws: 5, epoch: 5, minCount: 1, neg: 5, wordNgrams: 1, loss: 2, model: 2, bucket: 0, minn: 0, maxn: 0, lrUpdateRate: 100, t: 1e-4 };
}

async function writeFtzOutput(ctx: RunContext, input: QuantizedSerializeInput, report: QuantizationReport): Promise<number> {
  const q = input.quantize;
  const kept = ctx.kept!;
  const model = ctx.model!;
  const dim = model.info.dim;
  const ft = model instanceof FastTextModel ? model : undefined;
  const plan = subwordPlanOf(ctx)?.plan;
  if (plan && plan.nullRow >= 0) {
    throw new UsageError('stage "serialize": a .ftz cannot give unused buckets one shared zero row (--unused-subwords null); use drop');
  }
  // Kept words, their counts and (fastText) their dictionary ids.
  const words: string[] = [];
  for (let k = 0; k < kept.size; k++) {
    if (kept.sourceRow[k]! < 0) throw new UsageError('stage "serialize": a .ftz dictionary holds words; the kept table has rows that are not words');
    words.push(kept.labels[k]!);
  }
  const N = words.length;
  const counts = new Float64Array(N);
  let ids: Int32Array | undefined;
  if (ft) {
    ids = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const id = ft.wordId(words[i]!);
      if (id < 0) throw new Error(`kept word ${JSON.stringify(words[i])} is not in the fastText dictionary`);
      ids[i] = id;
      counts[i] = ft.dictionary.counts[id]!;
    }
  } else {
    for (let i = 0; i < N; i++) counts[i] = kept.counts[i]! > 0 ? Math.round(kept.counts[i]!) : N - i;
  }
  if (!ft && model.subwords) throw new Error('a subword model that is not fastText reached the .ftz writer');
  if (!plan && N < (ctx.report.input.rows || (await model.countRows()))) {
    ctx.warn(`the .ftz holds the ${N} kept words only: the input has no subwords, so fastText gives pruned words no vector`);
  }

  // Rows: the kept words' input rows (fastText: the word row itself), then the plan's n-gram rows.
  const wordRows = ft ? await rowsById((s, c) => ft.readInputRows(s, c), ids!, dim) : kept.vectors.slice(0, N * dim);
  const M = plan ? plan.planRows : 0;
  const blocks = [{ data: wordRows, rows: N }];
  if (M && plan!.rowsResident) blocks.push({ data: plan!.rows, rows: M });
  // plan rows left in the input file (huge fastText models): the same quantization, read as it goes (pq-stream.ts)
  // norms apart by default: 4 times less error for 1 byte per row (docs/quantization.md)
  const qnorm = q.qnorm ?? true;
  // rows read from the file when the plan's rows are not in memory; the same result either way
  const sources: RowSource[] = M && !plan!.rowsResident ? [blocks[0]!, { rows: M, read: (rows, fn) => plan!.readRows(rows, fn) }] : blocks;
  const threads = pqThreads(ctx, sources, dim);
  // worker threads for quantization and compensation (kernels/pq-pool.ts): the same bits as without
  const pool = threads > 0 ? new PqPool(threads) : undefined;
  let pq: PqResult;
  let levels: Float32Array | undefined;
  let normCodes: Uint8Array | undefined;
  try {
    pq = await quantizeRowSources(sources, dim, { ...q, qnorm, seed: ctx.options.seed }, pool ?? 0);
    fill(report, pq, qnorm);
    if (pq.codebook.k !== KSUB) throw new Error(`fastText needs ${KSUB} centroids per sub-quantizer`);
    if (qnorm) ({ levels, codes: normCodes } = quantizeNorms(pq.norms!, ctx.options.seed));
    if (q.compensate !== false) {
      const t = performance.now();
      const c0 = cpuSeconds();
      const rowsOf = (i: number, list: IntList): void => {
        list.clear();
        if (!plan) return;
        ft!.indexer.pushIndices(words[i]!, list);
        let w = 0;
        for (let j = 0; j < list.length; j++) {
          const p = plan.rowMap[list.data[j]!]!;
          if (p >= 0) list.data[w++] = N + p;
        }
        list.length = w;
      };
      await compensate(pq, N, (i) => kept.row(i), rowsOf, levels, normCodes, pool);
      report.compensated = N;
      report.encodeSeconds = Math.round((report.encodeSeconds + (performance.now() - t) / 1000) * 1000) / 1000;
      report.encodeCpuSeconds = Math.round((report.encodeCpuSeconds + cpuSeconds() - c0) * 1000) / 1000;
    }
  } finally {
    await pool?.close();
  }
  const cb = pq.codebook;

  const args = ft ? { ...ft.args } : plainArgs(dim);
  const prune = plan ? prunePairs(ft!, plan) : { buckets: new Int32Array(0), rows: new Int32Array(0) };
  const outputRows = ft ? N : 0;
  const BLOCK = 4096;
  async function* outputBlocks(): AsyncGenerator<Float32Array> {
    for (let s = 0; s < outputRows; s += BLOCK) yield rowsById((a, c) => ft!.readOutputRows(a, c), ids!.subarray(s, Math.min(outputRows, s + BLOCK)), dim);
  }
  await writeFtz(input.out, {
    args,
    dictionary: { words, counts, ntokens: ft ? ft.dictionary.ntokens : counts.reduce((a, b) => a + b, 0), prune },
    input: { rows: N + M, codes: pq.codes, pq: cb, normCodes, norms: levels },
    output: { rows: outputRows, blocks: outputBlocks() },
  });
  const sub = (ctx.report.subwords ??= {}) as Record<string, unknown>;
  sub.output = { buckets: prune.buckets.length, ngramRows: M };
  return N;
}

/**
 * One more pass over the input: every word's original vector against what the written file gives
 * it (this project's reader of that format), by cosine. Words the written model has no vector for
 * are counted as missing and left out of the means.
 */
async function verify(ctx: RunContext, file: string, to: string, report: QuantizationReport): Promise<void> {
  const t = performance.now();
  const kept = ctx.kept;
  const keptWords = new Set<string>();
  if (kept) for (let k = 0; k < kept.size; k++) if (kept.sourceRow[k]! >= 0) keptWords.add(kept.labels[k]!);
  const c0 = cpuSeconds();
  const stats = { kept: new CosineStats(), pruned: new CosineStats(), all: new CosineStats(), missing: 0, seconds: 0, cpuSeconds: 0 };
  // The written model's reader gets a small budget: a group's sums (VERIFY_GROUP x 2 x dim x 4
  // bytes), not a quarter of the default 512 MiB next to the input reader's own.
  const lk = await openLookup(file, { from: to === 'ftz' ? 'fasttext' : 'fifu', memoryBytes: VERIFY_LOOKUP_BYTES });
  // a fastText input too large for memory: samples of the kept words and of the others
  // (subword-collapse.ts; every kept word when they are fewer than VERIFY_KEPT_SAMPLE)
  const need = keptAndSampleRows(ctx, REBUILD_SAMPLE, VERIFY_KEPT_SAMPLE);
  if (need) (ctx.model as FastTextModel).passPlan = { need };
  const dim = ctx.model!.info.dim;
  // Words are looked up in groups of VERIFY_GROUP (one lookup of the written model per group, not
  // per batch: with a sample, most batches hold a few words to check).
  const group = { words: [] as string[], weights: [] as number[], vectors: new Float32Array(VERIFY_GROUP * dim) };
  const flush = async (): Promise<void> => {
    const n = group.words.length;
    if (!n) return;
    const r = await lk.vectors(group.words);
    for (let i = 0; i < n; i++) {
      if (r.source[i] === 0) {
        stats.missing++;
        continue;
      }
      const c = cosineRows(group.vectors, i * dim, r.vectors, i * dim, dim);
      const w = group.weights[i]!;
      (keptWords.has(group.words[i]!) || !kept ? stats.kept : stats.pruned).add(c, w);
      stats.all.add(c, w);
    }
    group.words.length = 0;
    group.weights.length = 0;
  };
  try {
    await drain(
      openPass(ctx, 'verify').flatMap((b: Batch) =>
        fromPromise(
          (async () => {
            for (let i = 0; i < b.words.length; i++) {
              if (need && !need[b.start + i]) continue;
              group.vectors.set(b.vectors.subarray(i * dim, (i + 1) * dim), group.words.length * dim);
              group.words.push(b.words[i]!);
              group.weights.push(rowWeight(b, i));
              if (group.words.length === VERIFY_GROUP) await flush();
            }
            return b;
          })(),
        ),
      ),
    );
    await flush();
  } finally {
    await lk.close();
    if (need) (ctx.model as FastTextModel).passPlan = undefined;
  }
  stats.seconds = Math.round((performance.now() - t) / 10) / 100;
  stats.cpuSeconds = Math.round((cpuSeconds() - c0) * 100) / 100;
  report.cosine = stats;
}

/**
 * Compensation of the kept word rows: word row w' = (1 + n) v - (sum of the decoded rows of the
 * word's n-grams in the output), so that fastText's (w' + sum) / (1 + n) is v up to the
 * quantization of w' alone; w' is encoded in place of the word's codes (code rows [0, N); the
 * n-gram rows it reads come after). `rowsOf(i, list)` lists word i's n-gram code rows. On the
 * pool's workers, blocks of COMPENSATE_ROWS words (their lists made here while the workers run):
 * each word's sum is the same float64 sum in the same order, so the same bits.
 */
async function compensate(
  pq: PqResult,
  N: number,
  target: (i: number) => Float32Array,
  rowsOf: (i: number, list: IntList) => void,
  levels: Float32Array | undefined,
  normCodes: Uint8Array | undefined,
  pool: PqPool | undefined,
): Promise<void> {
  const cb = pq.codebook;
  const dim = cb.dim;
  const list = new IntList(64);
  /** Words [i0, i0 + rows): their n-gram code rows and target vectors. */
  const job = (i0: number, rows: number): CompensateJob => {
    const starts = new Int32Array(rows + 1);
    const all = new IntList(rows * 64);
    const v = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      rowsOf(i0 + r, list);
      for (let j = 0; j < list.length; j++) all.push(list.data[j]!);
      starts[r + 1] = all.length;
      v.set(target(i0 + r).subarray(0, dim), r * dim);
    }
    return { row0: i0, rows, starts, list: all.data.slice(0, all.length), v };
  };
  if (pool) {
    await pool.share(pq.codes, pq.norms, levels, normCodes);
    const flight: Promise<unknown>[] = [];
    let waited = 0;
    for (let i0 = 0; i0 < N; i0 += COMPENSATE_ROWS) {
      const j = job(i0, Math.min(COMPENSATE_ROWS, N - i0));
      while (flight.length - waited >= 2 * pool.size) await flight[waited++];
      flight.push(pool.compensate(j));
    }
    await Promise.all(flight);
  } else {
    const index = codebookIndex(cb);
    const t = { codes: pq.codes, norms: pq.norms, levels, normCodes };
    for (let i0 = 0; i0 < N; i0 += COMPENSATE_ROWS) compensateRows(cb, index, t, job(i0, Math.min(COMPENSATE_ROWS, N - i0)));
  }
  if (levels) {
    // the word rows' norms changed: their levels again (the levels themselves stay)
    normCodes!.set(normCodesFor(levels, pq.norms!.subarray(0, N)), 0);
  }
}

/**
 * Worker threads for product quantization: the run's thread count (--threads, default the cores),
 * none for small jobs (starting a worker costs more than it saves) or a single thread.
 */
function pqThreads(ctx: RunContext, sources: readonly RowSource[], dim: number): number {
  const rows = sources.reduce((s, b) => s + b.rows, 0);
  const threads = ctx.options.threads;
  return threads > 1 && rows * dim >= PQ_THREADS.minValues ? threads : 0;
}

/** Values (rows x dim) below which quantization stays on the calling thread (tests lower it). */
export const PQ_THREADS = { minValues: 5_000_000 };

/** Corrected word rows encoded at a time (compensation). */
const COMPENSATE_ROWS = 4096;

/** Words per lookup of the written model in `verify` (their original vectors: 8,192 x dim x 4 bytes). */
const VERIFY_GROUP = 8192;
/**
 * Kept words the check pass compares when the input is streamed: runs of 100 spread over the kept
 * ranks (on the 2M-word model all 100,000 took 10 s of a 53 s run; a 10,000 sample gives the same
 * mean to about 3 digits).
 */
const VERIFY_KEPT_SAMPLE = 10000;
/** Reader budget of the written model in `verify`. */
const VERIFY_LOOKUP_BYTES = 128 * 2 ** 20;
