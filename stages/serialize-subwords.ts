/**
 * Writing a pruned subword model (runs with a subword-collapse stage). The serialize stage opens
 * the output and hands over to this module.
 *
 *   fifu            kept words (the vectors the model gives them: for a fastText model the word row
 *                   combined with its n-gram rows, as finalfusion stores imported fastText models)
 *                   normalised with their norms in NdNorms, plus an ExplicitSubwordVocab holding
 *                   exactly the n-grams of the vocabulary whose bucket the plan keeps (remapped
 *                   buckets share their target's row; the null row is stored when some n-gram maps
 *                   to it). Pruned words are not stored: a finalfusion reader rebuilds them, like
 *                   any unknown word, from their n-grams. Both layouts write the same file.
 *   w2v/glove expanded  every word with the vector the pruned model gives it: kept words their own,
 *                   words mapped by assign their kept row, words rebuilt from subwords the rebuilt
 *                   vector the collapse stage put in the stream.
 *   w2v/glove kept  only the kept rows.
 * The mapping file lists every pruned word: `word<TAB>kept word<TAB>cosine`, with an empty kept
 * word for words rebuilt from their n-grams.
 *
 * The finalfusion writer streams (formats/fifu/explicit-stream.ts): the distinct n-grams are
 * collected off the JavaScript heap (subword-ngram-table.ts) and listed row by row, the n-gram
 * rows are copied through in ascending order from memory or from the input file. Without a
 * mapping file, the finalfusion and `kept` writers tell the collapse stage they need kept rows only
 * (KEPT_ONLY_STATE), so a fastText pass computes no pruned word beyond a sample.
 */
import type { Batch } from '../pipeline/batch.js';
import type { RunContext } from '../pipeline/context.js';
import { UsageError } from '../pipeline/errors.js';
import type { OutputFile } from '../pipeline/output.js';
import type { Capability } from '../pipeline/stage.js';
import { fromPromise, type Stream } from '../pipeline/stream.js';
import { toToml } from './formats/fifu/index.js';
import { writeExplicitSubwordFifuStreamed } from './formats/fifu/explicit-stream.js';
import { KEPT_ONLY_STATE, subwordPlanOf, type SubwordPlan } from './subword-collapse.js';
import { collectPlanNgrams } from './subword-ngram-table.js';
import { forEachVocabularyBatch } from './subword-usage.js';

/** The serialize stage's row writer (w2v-text, w2v-bin, glove). */
export interface SubwordRowWriter {
  begin(rows: number, dim: number): Promise<void>;
  writeRows(words: readonly string[], vectors: Float32Array, dim: number, rowIndex?: Int32Array): Promise<void>;
  end(dim: number): Promise<void>;
  readonly written: number;
}

export interface SubwordSerializeInput {
  output: string;
  to: string;
  layout: 'expanded' | 'kept';
  mapping?: string;
  out: OutputFile;
  map?: OutputFile;
  /** The row writer for `to` (not used for fifu). */
  writer: SubwordRowWriter;
  /** TOML provenance of the run (the serialize stage's). */
  provenance: () => string;
}

export interface SubwordSerializer {
  transform(input: Stream<Batch>, ctx: RunContext): Stream<Batch>;
  finish(ctx: RunContext): Promise<void>;
}

/**
 * The writer of a run with a subword-collapse stage, or undefined for other runs. Throws a
 * UsageError (naming the serialize stage) for outputs that cannot express the plan.
 */
export function subwordSerializer(ctx: RunContext, have: ReadonlySet<Capability>, input: SubwordSerializeInput): SubwordSerializer | undefined {
  const holder = subwordPlanOf(ctx);
  if (!holder) return undefined;
  if (!have.has('kept')) throw new UsageError('stage "serialize": a pruned subword model needs a kept table');
  if (input.to === 'fifu' && holder.prunedWords === 'nearest') {
    throw new UsageError(
      'stage "serialize": a finalfusion file cannot map a pruned word to another word\'s row while it has subwords (a finalfusion reader rebuilds every word it does not know from its n-grams); use --pruned-words subwords, or write word2vec/GloVe',
    );
  }
  const fifu = input.to === 'fifu';
  let begun = false;
  if ((fifu || input.layout === 'kept') && !input.map) ctx.state.set(KEPT_ONLY_STATE, true);

  const writeBatch = async (ctx: RunContext, b: Batch): Promise<Batch> => {
    const kept = ctx.kept!;
    const dim = b.dim;
    if (!b.target) throw new Error('serialize: rows reached the writer without a target row');
    if (!fifu && input.layout === 'expanded') {
      if (!begun) {
        begun = true;
        await input.writer.begin(await ctx.model!.countRows(), dim);
      }
      // Own vector (kept words, and words the collapse stage rebuilt), or the kept row (assign).
      let v = b.vectors;
      for (let i = 0; i < b.words.length; i++) {
        const t = b.target[i]!;
        if (t < 0 || kept.sourceRow[t] === b.start + i) continue;
        if (v === b.vectors) v = b.vectors.slice(0, b.words.length * dim);
        v.set(kept.vectors.subarray(t * dim, (t + 1) * dim), i * dim);
      }
      await input.writer.writeRows(b.words, v, dim);
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
      const plan = holder.plan;
      if (!plan) throw new Error('serialize: the subword plan was not built');
      const kept = ctx.kept!;
      const dim = ctx.model!.info.dim;
      if (fifu) {
        await writeFifu(ctx, plan, input);
      } else {
        if (input.layout === 'kept') {
          await input.writer.begin(kept.size, dim);
          await input.writer.writeRows(kept.labels.slice(0, kept.size), kept.vectors, dim);
        } else if (!begun) {
          await input.writer.begin(0, dim);
        }
        await input.writer.end(dim);
        await input.out.commit();
        ctx.report.output = { file: input.output, format: input.to, layout: input.layout, bytes: input.out.bytes, rows: input.writer.written };
      }
      await input.map?.commit();
      if (input.map) ctx.report.mappingFile = input.mapping;
    },
  };
}

/** The n-grams of the vocabulary that hit a plan row, each once, in first-appearance order. */
export async function planNgrams(ctx: RunContext, plan: SubwordPlan): Promise<{ ngrams: string[]; rows: Int32Array }> {
  const ngrams: string[] = [];
  let rows = new Int32Array(1 << 16);
  const seen = new Set<string>();
  const ix = plan.indexer;
  await forEachVocabularyBatch(
    ctx,
    (b) => {
      for (const w of b.words) {
        for (const { ngram, index } of ix.ngrams(w)) {
          if (index < 0) continue;
          const r = plan.rowMap[index]!;
          if (r < 0 || seen.has(ngram)) continue;
          seen.add(ngram);
          if (ngrams.length === rows.length) {
            const grown = new Int32Array(rows.length * 2);
            grown.set(rows);
            rows = grown;
          }
          rows[ngrams.length] = r;
          ngrams.push(ngram);
        }
      }
    },
    false,
  );
  return { ngrams, rows: rows.subarray(0, ngrams.length) };
}

/** Rows per block when copying n-gram rows to the file. */
const ROW_BLOCK = 4096;

async function writeFifu(ctx: RunContext, plan: SubwordPlan, input: SubwordSerializeInput): Promise<void> {
  const kept = ctx.kept!;
  const dim = plan.dim;
  const labels: string[] = [];
  let allWords = true;
  for (let k = 0; k < kept.size; k++) if (kept.sourceRow[k]! < 0) allWords = false;
  let vectors: Float32Array;
  if (allWords) {
    // every kept row is a word (top-N, cover): the table itself, no copy
    vectors = kept.vectors.subarray(0, kept.size * dim);
    for (let k = 0; k < kept.size; k++) labels.push(kept.labels[k]!);
  } else {
    vectors = new Float32Array(kept.size * dim);
    for (let k = 0; k < kept.size; k++) {
      if (kept.sourceRow[k]! < 0) continue;
      vectors.set(kept.row(k), labels.length * dim);
      labels.push(kept.labels[k]!);
    }
  }
  const table = await collectPlanNgrams(ctx, plan);
  const { order, rowsUsed } = table.byRow(plan.planRows);
  // storage row of each plan row with n-grams: its rank among them
  const storage = new Int32Array(plan.planRows).fill(-1);
  for (let u = 0; u < rowsUsed.length; u++) storage[rowsUsed[u]!] = u;
  const sub = (ctx.report.subwords ??= {}) as Record<string, unknown>;
  const facts = {
    buckets_in: plan.buckets,
    rows_out: plan.planRows,
    null_row: plan.nullRow >= 0,
    ngrams: table.count,
    pruned_words: plan.prunedWords,
    min_n: plan.indexer.minN,
    max_n: plan.indexer.maxN,
  };
  const metadata = input.provenance() + toToml({ subwords: facts }, ['prune_pipe']);
  const bytes = await writeExplicitSubwordFifuStreamed(input.out, {
    dim,
    labels,
    vectors: vectors.subarray(0, labels.length * dim),
    minN: plan.indexer.minN,
    maxN: plan.indexer.maxN,
    metadata,
    ngramCount: table.count,
    ngramBytes: table.bytes,
    ngramRows: rowsUsed.length,
    async ngrams(entry) {
      for (let k = 0; k < order.length; k++) {
        const e = table.entry(order[k]!);
        await entry(e.bytes, storage[e.row]!);
      }
    },
    async rows(emit) {
      for (let s = 0; s < rowsUsed.length; s += ROW_BLOCK) {
        const part = rowsUsed.subarray(s, Math.min(rowsUsed.length, s + ROW_BLOCK));
        const block = new Float32Array(part.length * dim);
        await plan.readRows(part, (k, data, off) => block.set(data.subarray(off, off + dim), k * dim));
        await emit(block);
      }
    },
  });
  await input.out.commit();
  sub.output = { ngrams: table.count, ngramRows: rowsUsed.length, skippedNgrams: table.skipped, ngramTableBytes: table.memoryBytes };
  if (table.skipped) {
    ctx.warn(`${table.skipped} n-grams that are not valid UTF-8 became the same as another n-gram in the finalfusion file and were left out`);
  }
  ctx.report.output = { file: input.output, format: 'fifu', layout: input.layout, bytes, rows: labels.length };
}
