/**
 * Serialize: writes the result atomically (temporary file renamed at the end) in the chosen
 * format and layout, and optionally the mapping file `word<TAB>kept word<TAB>cosine` for every
 * word that was mapped to another row.
 *   expanded: every input word in input order with the vector of its row (loads anywhere).
 *   kept:     only the kept rows, labelled.
 * Without a kept table (convert) every word is written with its own vector.
 */
import type { Batch } from '../pipeline/batch.js';
import type { RunContext } from '../pipeline/context.js';
import { UsageError } from '../pipeline/errors.js';
import { OutputFile } from '../pipeline/output.js';
import type { Stage } from '../pipeline/stage.js';
import { fromPromise } from '../pipeline/stream.js';
import { TextWriter } from './formats/text.js';
import { Word2vecBinWriter } from './formats/word2vec-bin.js';
import { FifuRowWriter, writePrunedFifu, toToml } from './formats/fifu/index.js';
import path from 'node:path';
import { packageVersion } from '../pipeline/version.js';
import { subwordSerializer, type SubwordSerializer } from './serialize-subwords.js';
import { QUANTIZED_FORMATS, quantizedSerializer, type QuantizeOptions, type QuantizedSerializer } from './serialize-quantized.js';

export type Layout = 'expanded' | 'kept';

export interface SerializeOptions {
  /** Output path, or '-' for standard output. */
  output: string;
  /** 'w2v-text' | 'w2v-bin' | 'glove'. */
  to: string;
  layout?: Layout;
  /** Path of the mapping file to write, if any. */
  mapping?: string;
  /** 'gzip' compresses the output (default: when the output name ends in .gz). */
  compress?: 'gzip' | 'none';
  /** Product-quantized output (fifu; 'ftz' is always quantized): see serialize-quantized.ts. */
  quantize?: QuantizeOptions;
}

interface RowWriter {
  begin(rows: number, dim: number): Promise<void>;
  writeRows(words: readonly string[], vectors: Float32Array, dim: number, rowIndex?: Int32Array): Promise<void>;
  end(dim: number): Promise<void>;
  readonly written: number;
}

export const ROW_FORMATS = ['w2v-text', 'w2v-bin', 'glove', 'fifu'] as const;

function rowWriter(to: string, out: OutputFile): RowWriter {
  switch (to) {
    case 'w2v-text':
      return new TextWriter(out, true);
    case 'glove':
      return new TextWriter(out, false);
    case 'w2v-bin':
      return new Word2vecBinWriter(out);
    case 'fifu':
      return new FifuRowWriter(out);
    default:
      throw new UsageError(`cannot write format "${to}"; choose one of ${ROW_FORMATS.join(', ')}`);
  }
}

export function serializeStage(opts: SerializeOptions): Stage {
  const layout = opts.layout ?? 'expanded';
  if (layout !== 'expanded' && layout !== 'kept') throw new UsageError(`--layout must be expanded or kept, got "${layout}"`);
  const quantized = opts.quantize !== undefined || (QUANTIZED_FORMATS as readonly string[]).includes(opts.to);
  if (!(ROW_FORMATS as readonly string[]).includes(opts.to) && !quantized) {
    throw new UsageError(`cannot write format "${opts.to}" here; choose one of ${[...ROW_FORMATS, ...QUANTIZED_FORMATS].join(', ')}`);
  }
  let out: OutputFile | undefined;
  let map: OutputFile | undefined;
  let writer: RowWriter | undefined;
  let rows = 0;
  let hasKept = false;
  /** finalfusion with a kept table: pruned words are collected and written at the end. */
  let fifuPruned = false;
  const prunedWords: string[] = [];
  let prunedRows = new Int32Array(1024);
  /** Runs with a subword-collapse stage are written by serialize-subwords.ts. */
  let sub: SubwordSerializer | undefined;
  /** Quantized outputs are written by serialize-quantized.ts. */
  let quant: QuantizedSerializer | undefined;

  const writeBatch = async (ctx: RunContext, b: Batch): Promise<Batch> => {
    const kept = ctx.kept;
    if (fifuPruned) {
      for (let i = 0; i < b.words.length; i++) {
        const t = b.target![i]!;
        if (kept!.sourceRow[t] === b.start + i) continue;
        if (prunedWords.length === prunedRows.length) {
          const bigger = new Int32Array(prunedRows.length * 2);
          bigger.set(prunedRows);
          prunedRows = bigger;
        }
        prunedRows[prunedWords.length] = t;
        prunedWords.push(b.words[i]!);
      }
    } else if (layout === 'expanded') {
      if (hasKept) {
        if (!b.target) throw new Error('serialize: rows reached the writer without a target row');
        await writer!.writeRows(b.words, kept!.vectors, b.dim, b.target);
      } else await writer!.writeRows(b.words, b.vectors, b.dim);
    }
    if (map && kept && b.target) {
      const lines: string[] = [];
      for (let i = 0; i < b.words.length; i++) {
        const t = b.target[i]!;
        if (kept.sourceRow[t] === b.start + i) continue;
        lines.push(`${b.words[i]}\t${kept.labels[t]}\t${b.score![i]!.toFixed(6)}`);
      }
      if (lines.length) await map.write(Buffer.from(lines.join('\n') + '\n', 'latin1'));
    }
    return b;
  };

  return {
    name: 'serialize',
    needs: ['model'],
    provides: ['output'],
    async open(ctx, have) {
      hasKept = have.has('kept');
      if (layout === 'kept' && !hasKept) throw new UsageError('stage "serialize": layout "kept" needs a kept table (a rank, cover or k-means stage)');
      if (hasKept && !have.has('assigned')) throw new UsageError('stage "serialize": rows must be assigned before writing (add an assign stage)');
      if (opts.mapping && !hasKept) throw new UsageError('stage "serialize": a mapping file needs a kept table');
      if (opts.mapping && opts.mapping === opts.output) throw new UsageError('the mapping file and the output are the same path');
      rows = layout === 'expanded' ? await ctx.model!.countRows() : 0;
      fifuPruned = opts.to === 'fifu' && hasKept && layout === 'expanded';
      if ((opts.to === 'fifu' || quantized) && (opts.compress === 'gzip' || (opts.compress === undefined && /\.gz$/i.test(opts.output)))) {
        throw new UsageError(`${opts.to === 'fifu' ? 'finalfusion' : 'fastText'} output cannot be gzip-compressed: its readers read it at offsets`);
      }
      const compress = opts.compress === 'gzip' || (opts.compress === undefined && /\.gz$/i.test(opts.output)) ? 'gzip' : undefined;
      out = await OutputFile.open(opts.output, { compress });
      if (opts.mapping) map = await OutputFile.open(opts.mapping);
      if (quantized) {
        quant = quantizedSerializer(ctx, have, { ...opts, layout, out, map, quantize: opts.quantize ?? {}, provenance: () => provenance(ctx) });
        return;
      }
      writer = rowWriter(opts.to, out);
      sub = subwordSerializer(ctx, have, { ...opts, layout, out, map, writer, provenance: () => provenance(ctx) });
    },
    transform(input, ctx) {
      if (quant) return quant.transform(input, ctx);
      if (sub) return sub.transform(input, ctx);
      let begun = false;
      return input.flatMap((b: Batch) =>
        fromPromise(
          (async () => {
            if (!begun && layout === 'expanded' && !fifuPruned) {
              begun = true;
              await writer!.begin(rows, b.dim);
            }
            return writeBatch(ctx, b);
          })(),
        ),
      );
    },
    async finish(ctx) {
      if (quant) return quant.finish(ctx);
      if (sub) return sub.finish(ctx);
      const dim = ctx.model!.info.dim;
      if (fifuPruned) {
        const k = ctx.kept!;
        const res = await writePrunedFifu(out!, {
          dim,
          labels: k.labels.slice(0, k.size).map((l, i) => (k.sourceRow[i]! >= 0 ? l : null)),
          vectors: k.vectors.subarray(0, k.size * dim),
          pruned: prunedWords,
          prunedRows: prunedRows.subarray(0, prunedWords.length),
          metadata: provenance(ctx),
        });
        await out!.commit();
        await map?.commit();
        if (res.conflicts.length) ctx.warn(`${res.conflicts.length} pruned words contain another stored <word> and get a mixed vector from stock finalfusion readers (see docs/finalfusion.md)`);
        ctx.report.output = { file: opts.output, format: opts.to, layout, bytes: out!.fileBytes, rows: k.size + prunedWords.length - res.skipped.length };
        ctx.report.fifu = { ngrams: res.ngrams, ngramRows: res.ngramRows, minN: res.minN, maxN: res.maxN, skipped: res.skipped.length, conflicts: res.conflicts.length };
        if (map) ctx.report.mappingFile = opts.mapping;
        return;
      }
      if (layout === 'kept') {
        const k = ctx.kept!;
        await writer!.begin(k.size, dim);
        // In blocks, so text writers never build the whole table as one string.
        for (let r = 0; r < k.size; r += 1024) {
          const end = Math.min(k.size, r + 1024);
          await writer!.writeRows(k.labels.slice(r, end), k.vectors.subarray(r * dim, end * dim), dim);
        }
      } else if (writer!.written === 0) {
        await writer!.begin(0, dim);
      }
      await writer!.end(dim);
      await out!.commit();
      await map?.commit();
      ctx.report.output = { file: opts.output, format: opts.to, layout, bytes: out!.fileBytes, rows: writer!.written };
      if (map) ctx.report.mappingFile = opts.mapping;
    },
    async abort() {
      await out?.abort();
      await map?.abort();
    },
  };
}


/** TOML provenance for formats with a metadata section. */
export function provenance(ctx: RunContext): string {
  const r = ctx.report;
  const table: Record<string, Record<string, string | number>> = {
    prune_pipe: {
      tool: 'prune-pipe',
      version: packageVersion(),
      method: String(r.method ?? 'topn'),
      keep: r.keep ?? 0,
      kept: ctx.kept?.size ?? 0,
      source: path.basename(ctx.source.name),
      source_format: r.input.format,
      date: new Date().toISOString().slice(0, 10),
    },
  };
  if (r.cosine && r.cosine.n) table.prune_pipe!.mean_cosine = Math.round(r.cosine.mean * 1e6) / 1e6;
  return toToml(table);
}
