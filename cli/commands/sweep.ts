/**
 * `prune-pipe sweep INPUT --keep 5000,10000 --method topn,kmeans,cover`: prunes the model once per
 * setting (the same stage graph `prune` builds), evaluates each output against the input, and
 * writes a table and an SVG chart of quality against size (docs/eval.md).
 *
 * Reuse: a text input is parsed once, into a word2vec binary copy that every run and every
 * evaluation then reads (float parsing dominates text passes). Samples are not shared: k-means
 * and cover draw samples whose size depends on N, so one sample cannot serve every setting
 * without changing what each method does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../../pipeline/errors.js';
import { openSource } from '../../pipeline/source.js';
import { displayWord } from '../../pipeline/words.js';
import { readCountsFile } from '../../stages/counts.js';
import { compare } from '../../stages/eval/eval.js';
import { readPairsFile, type WordPair } from '../../stages/eval/pairs.js';
import { detectFormat, formatNames } from '../../stages/formats/index.js';
import { openLookup, openLookupReader } from '../../stages/lookup/index.js';
import { runGraph } from '../graph.js';
import { sweepChartSvg, type ChartPoint } from '../sweep-chart.js';
import { formatBytes } from '../summary.js';
import { stdio, THREADS_OPTION } from './common.js';
import { resolvePairs } from './eval.js';
import { pruneGraph, type PruneArgs } from './prune.js';

export const SWEEP_METHODS = ['topn', 'kmeans', 'cover'] as const;
const TEXT_FORMATS = new Set(['w2v-text', 'glove']);

interface SweepArgs {
  input: string;
  keep: string;
  method: string;
  out: string;
  to: string;
  from?: string;
  counts?: string;
  pairs?: string;
  lowercase?: boolean;
  overlap?: boolean;
  keepModels?: boolean;
  json?: boolean;
  threads?: number;
  seed: number;
  quiet?: boolean;
}

export interface SweepRow {
  method: string;
  keep: number;
  /** Rows the pruned model stores (kept words or centroids). */
  rows: number;
  /** Output bytes (model, plus the mapping file for word2vec outputs). */
  bytes: number;
  mean_cosine: number;
  weighted_mean_cosine: number;
  p5_cosine: number;
  /** Spearman of the pruned model on the pairs both vocabularies hold (NaN without pairs). */
  spearman: number;
  /** Neighbour overlap @10 (with --overlap). */
  overlap?: number;
  /** Seconds the prune run took. */
  seconds: number;
  eval_seconds: number;
}

export interface SweepResult {
  input: string;
  format: string;
  words: number;
  dim: number;
  to: string;
  pairs?: { file: string; pairs: number; original_spearman: number };
  /** Seconds spent parsing a text input into the shared binary copy (0 for binary inputs). */
  parse_seconds: number;
  rows: SweepRow[];
  table: string;
  chart: string;
}

function parseList(s: string, what: string): string[] {
  const items = String(s)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!items.length) throw new UsageError(`${what} needs at least one value`);
  return items;
}

export function parseKeeps(s: string): number[] {
  const keeps = parseList(s, '--keep').map((x) => {
    const n = Number(x.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--keep values must be positive integers, got "${x}"`);
    return n;
  });
  return [...new Set(keeps)].sort((a, b) => a - b);
}

export function parseMethods(s: string): string[] {
  const ms = [...new Set(parseList(s, '--method'))];
  for (const m of ms) {
    if (!(SWEEP_METHODS as readonly string[]).includes(m)) throw new UsageError(`unknown --method "${m}"; choose from ${SWEEP_METHODS.join(', ')}`);
  }
  return ms;
}

export interface SweepOptions {
  input: string;
  keeps: number[];
  methods: string[];
  /** Folder for sweep.tsv, sweep.json, sweep.svg (created). */
  out: string;
  /** Output format of the pruned models: fifu (default), w2v-bin or w2v-text. */
  to?: string;
  from?: string;
  counts?: string;
  pairs?: WordPair[];
  pairsFile?: string;
  overlap?: boolean;
  keepModels?: boolean;
  threads?: number;
  seed?: number;
  log?: (line: string) => void;
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const log = o.log ?? (() => undefined);
  if (o.input === '-') throw new UsageError('sweep reads its input many times: give a file, not standard input');
  const to = o.to ?? 'fifu';
  if (!['fifu', 'w2v-bin', 'w2v-text'].includes(to)) throw new UsageError(`--to must be fifu, w2v-bin or w2v-text, got "${to}"`);
  await fs.promises.mkdir(o.out, { recursive: true });
  const models = path.join(o.out, 'models');
  await fs.promises.mkdir(models, { recursive: true });

  // The input's format and size; a text input becomes a binary copy every run reads.
  let src0 = await openSource(o.input);
  let format: string;
  let words: number;
  let dim: number;
  let original = o.input;
  try {
    const c = await detectFormat(src0, o.from);
    format = c.name;
    if (src0.compressed && !TEXT_FORMATS.has(format)) {
      // Formats read at offsets need the decompressed bytes: one copy every run reads.
      original = path.join(models, 'input.' + format);
      await streamPipeline(src0.open(), fs.createWriteStream(original));
      await src0.close();
      src0 = await openSource(original);
    }
    const m = await openLookupReader(src0, format);
    words = await m.countRows();
    dim = m.info.dim;
    await m.close();
  } finally {
    await src0.close();
  }
  let originalFrom = format;
  let parseSeconds = 0;
  if (TEXT_FORMATS.has(format)) {
    original = path.join(models, 'input.bin');
    const t = performance.now();
    await runGraph({ input: o.input, stages: [{ stage: 'parse', from: format }, { stage: 'serialize', output: original, to: 'w2v-bin' }] }, { quiet: true, threads: o.threads });
    parseSeconds = (performance.now() - t) / 1000;
    originalFrom = 'w2v-bin';
    log(`sweep: parsed ${o.input} once into ${original} (${parseSeconds.toFixed(2)} s)`);
  }
  const countsMap = o.counts ? await readCountsFile(o.counts) : undefined;

  const rows: SweepRow[] = [];
  let originalSpearman = NaN;
  let pairsUsed = 0;
  for (const method of o.methods) {
    for (const keep of o.keeps) {
      if (keep >= words) {
        log(`sweep: skipping keep ${keep}: the model has only ${words} words`);
        continue;
      }
      const base = path.join(models, `${method}-${keep}`);
      const output = to === 'fifu' ? `${base}.fifu` : `${base}.${to === 'w2v-bin' ? 'bin' : 'vec'}`;
      const mapping = to === 'fifu' ? undefined : `${base}.map.tsv`;
      const args = {
        input: original,
        output,
        keep,
        method,
        from: originalFrom,
        to,
        layout: to === 'fifu' ? 'expanded' : 'kept',
        ...(mapping ? { mapping } : {}),
        ...(o.counts ? { counts: o.counts } : {}),
        seed: o.seed ?? 1,
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
      } as PruneArgs;
      const t = performance.now();
      const ctx = await runGraph(pruneGraph(args), { quiet: true, threads: o.threads, seed: o.seed ?? 1 });
      const seconds = (performance.now() - t) / 1000;
      let bytes = (await fs.promises.stat(output)).size;
      if (mapping) bytes += (await fs.promises.stat(mapping)).size;

      const t1 = performance.now();
      const lk = await openLookup(output, { mapping });
      const src = await openSource(original);
      let r;
      try {
        const reader = await openLookupReader(src, originalFrom);
        try {
          r = await compare(src, reader, lk, { pairs: o.pairs, pairsFile: o.pairsFile, sample: o.overlap ? 500 : 0, countsMap });
        } finally {
          await reader.close();
        }
      } finally {
        await src.close();
        await lk.close();
      }
      if (r.pairs) {
        originalSpearman = r.pairs.vocabulary.original;
        pairsUsed = r.pairs.vocabulary.pairs;
      }
      const row: SweepRow = {
        method,
        keep,
        rows: ctx.report.kept ?? keep,
        bytes,
        mean_cosine: r.cosine.mean,
        weighted_mean_cosine: r.cosine.weighted_mean,
        p5_cosine: r.cosine.p5,
        spearman: r.pairs ? r.pairs.vocabulary.pruned : NaN,
        ...(r.neighbours ? { overlap: r.neighbours.overlap } : {}),
        seconds: Math.round(seconds * 1000) / 1000,
        eval_seconds: Math.round(((performance.now() - t1) / 1000) * 1000) / 1000,
      };
      rows.push(row);
      log(`sweep: ${method} keep ${keep}: ${formatBytes(bytes)}, mean cosine ${row.mean_cosine.toFixed(4)}, p5 ${row.p5_cosine.toFixed(4)}${Number.isFinite(row.spearman) ? `, Spearman ${row.spearman.toFixed(4)}` : ''} (${seconds.toFixed(2)} s)`);
      if (!o.keepModels) {
        await fs.promises.rm(output, { force: true });
        if (mapping) await fs.promises.rm(mapping, { force: true });
      }
    }
  }
  if (!o.keepModels) await fs.promises.rm(models, { recursive: true, force: true });
  if (!rows.length) throw new UsageError(`every --keep value is at least the model's ${words} words; nothing to prune`);

  const table = path.join(o.out, 'sweep.tsv');
  const chart = path.join(o.out, 'sweep.svg');
  const cols = ['method', 'keep', 'rows', 'bytes', 'mean_cosine', 'weighted_mean_cosine', 'p5_cosine', 'spearman', ...(o.overlap ? ['overlap'] : []), 'seconds'] as const;
  const tsv = [cols.join('\t'), ...rows.map((r) => cols.map((c) => String((r as unknown as Record<string, unknown>)[c])).join('\t'))].join('\n') + '\n';
  await fs.promises.writeFile(table, tsv);
  const points: ChartPoint[] = rows.map((r) => ({ method: r.method, keep: r.keep, bytes: r.bytes, meanCosine: r.mean_cosine, p5Cosine: r.p5_cosine, spearman: Number.isFinite(r.spearman) ? r.spearman : undefined }));
  const inputName = displayWord(path.basename(o.input));
  const svg = sweepChartSvg({
    title: `Pruning ${inputName}: quality against size`,
    subtitle: `${words.toLocaleString('en')} words x ${dim} dims, ${format}; pruned models written as ${to}${to === 'fifu' ? '' : ' (kept rows + mapping file)'}`,
    points,
    originalSpearman: o.pairs ? originalSpearman : undefined,
    pairsName: o.pairsFile ? path.basename(o.pairsFile) : undefined,
  });
  await fs.promises.writeFile(chart, svg);
  const result: SweepResult = {
    input: o.input,
    format,
    words,
    dim,
    to,
    ...(o.pairs ? { pairs: { file: o.pairsFile ?? '', pairs: pairsUsed, original_spearman: originalSpearman } } : {}),
    parse_seconds: Math.round(parseSeconds * 1000) / 1000,
    rows,
    table,
    chart,
  };
  await fs.promises.writeFile(path.join(o.out, 'sweep.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** The table as aligned text. */
export function sweepTableLines(r: SweepResult): string[] {
  const head = ['method', 'keep', 'rows', 'size', 'mean cos', 'p5 cos', 'Spearman', ...(r.rows.some((x) => x.overlap !== undefined) ? ['overlap@10'] : []), 'time'];
  const body = r.rows.map((x) => [
    x.method,
    String(x.keep),
    String(x.rows),
    formatBytes(x.bytes),
    x.mean_cosine.toFixed(4),
    x.p5_cosine.toFixed(4),
    Number.isFinite(x.spearman) ? x.spearman.toFixed(4) : 'n/a',
    ...(x.overlap !== undefined ? [x.overlap.toFixed(4)] : []),
    `${x.seconds.toFixed(2)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(head), ...body.map(line)];
  if (r.pairs) lines.push(`original model: Spearman ${r.pairs.original_spearman.toFixed(4)} on ${r.pairs.pairs} pairs of ${path.basename(r.pairs.file)}`);
  lines.push(`table ${r.table}, chart ${r.chart}`);
  return lines;
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: 'sweep <input>',
  describe: 'prune with several methods and sizes, evaluate each result, write a table and an SVG chart of quality against size',
  builder: (y: Argv) =>
    y
      .positional('input', { type: 'string', describe: 'model file (any format)', demandOption: true })
      .option('keep', { alias: 'n', type: 'string', default: '5000,10000,20000,50000', describe: 'comma-separated numbers of rows to keep' })
      .option('method', { type: 'string', default: 'topn,kmeans,cover', describe: `comma-separated methods (${SWEEP_METHODS.join(', ')})` })
      .option('out', { alias: 'o', type: 'string', default: 'sweep', describe: 'folder for sweep.tsv, sweep.json and sweep.svg' })
      .option('to', { type: 'string', choices: ['fifu', 'w2v-bin', 'w2v-text'], default: 'fifu', describe: 'format of the pruned models (w2v formats: kept rows + mapping file); sizes are of these files' })
      .option('from', { type: 'string', choices: formatNames(), describe: 'input format (default: detected)' })
      .option('counts', { type: 'string', describe: 'word<TAB>count file: rank by it and weight the weighted mean by it' })
      .option('pairs', { type: 'string', describe: 'word-pair file for the Spearman column; "none" to skip (default: ../shared/fixtures/gensim/wordsim353.tsv beside the package)' })
      .option('lowercase', { type: 'boolean', describe: 'lower-case the pair words before looking them up' })
      .option('overlap', { type: 'boolean', describe: 'also measure neighbour overlap@10 (500 frequent words, neighbours among the 100000 most frequent; slower)' })
      .option('keep-models', { type: 'boolean', describe: 'keep the pruned models in OUT/models' })
      .option('json', { type: 'boolean', describe: 'print the result as JSON' })
      .option('threads', THREADS_OPTION)
      .option('seed', { type: 'number', default: 1, describe: 'seed for k-means and cover' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress lines on stderr' }) as unknown as Argv<SweepArgs>,
  handler: async (a: ArgumentsCamelCase<SweepArgs>) => {
    const keeps = parseKeeps(a.keep);
    const methods = parseMethods(a.method);
    const pairsFile = resolvePairs(a.pairs);
    const pairs = pairsFile ? await readPairsFile(pairsFile, { lowercase: a.lowercase }) : undefined;
    const r = await runSweep({
      input: stdio(a.input),
      keeps,
      methods,
      out: a.out,
      to: a.to,
      from: a.from,
      counts: a.counts,
      pairs,
      pairsFile,
      overlap: a.overlap,
      keepModels: a.keepModels,
      threads: a.threads,
      seed: a.seed,
      log: a.quiet || a.json ? undefined : (l) => process.stderr.write(l + '\n'),
    });
    process.stdout.write(a.json ? JSON.stringify(r, null, 2) + '\n' : sweepTableLines(r).join('\n') + '\n');
  },
};
