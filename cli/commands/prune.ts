import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../../pipeline/errors.js';
import { formatNames } from '../../stages/formats/index.js';
import { ROW_FORMATS } from '../../stages/serialize.js';
import type { GraphSpec } from '../graph.js';
import type { StageSpec } from '../registry.js';
import { guessOutputFormat } from '../output-format.js';
import { runOptions, stdio, type RunFlags } from './common.js';
import { runWithFallback, searchOptions, searchSpec, type SearchFlags } from './search-options.js';
import { probeSubwords, subwordOptions, subwordStages, type SubwordArgs } from './prune-subwords.js';
import { quantizeOptions, quantizeSpec, type QuantizeArgs } from './prune-quantize.js';
import { QUANTIZED_FORMATS } from '../../stages/serialize-quantized.js';

export interface PruneArgs extends RunFlags, SubwordArgs, QuantizeArgs, SearchFlags {
  input: string;
  output: string;
  keep: number;
  method: string;
  from?: string;
  to?: string;
  layout: string;
  mapping?: string;
  counts?: string;
  printGraph?: boolean;
  compress?: string;
  candidates?: number;
  sample?: number;
  forceKeep?: number;
  epsilon?: number;
  weights?: string;
  batchSize?: number;
  iterations?: number;
  refine?: boolean;
}

/** The stage graph for a prune run; `hasSubwords`: the input has subword rows (see prune-subwords.ts). */
export function pruneGraph(a: PruneArgs, hasSubwords = false): GraphSpec {
  const stages: StageSpec[] = [{ stage: 'parse', ...(a.from ? { from: a.from } : {}) }];
  if (a.counts) stages.push({ stage: 'counts', file: a.counts });
  if (a.method === 'cover') {
    const cover: StageSpec = { stage: 'cover', keep: a.keep, ...(a.counts ? { by: 'counts' } : {}) };
    if (a.candidates !== undefined) cover.candidates = a.candidates;
    if (a.sample !== undefined) cover.sample = a.sample;
    if (a.forceKeep !== undefined) cover.forceKeep = a.forceKeep;
    if (a.epsilon !== undefined) cover.epsilon = a.epsilon;
    if (a.seed !== undefined) cover.seed = a.seed;
    stages.push(cover);
  } else if (a.method === 'kmeans') {
    const km: StageSpec = { stage: 'kmeans', keep: a.keep };
    if (a.forceKeep !== undefined) km.forceKeep = a.forceKeep;
    if (a.weights !== undefined) km.weights = a.weights;
    if (a.sample !== undefined) km.sample = a.sample;
    if (a.batchSize !== undefined) km.batchSize = a.batchSize;
    if (a.iterations !== undefined) km.iterations = a.iterations;
    if (a.refine) km.refine = true;
    if (a.seed !== undefined) km.seed = a.seed;
    stages.push(km);
  } else {
    if (a.method !== 'topn') throw new UsageError(`unknown --method "${a.method}"`);
    stages.push({ stage: 'rank', keep: a.keep, ...(a.counts ? { by: 'counts' } : {}) });
  }
  const to = guessOutputFormat(a.output, a.to, a.from);
  const sub = subwordStages(a, to, hasSubwords);
  if (sub.assign) stages.push({ stage: 'assign', ...searchSpec(a) });
  stages.push(...sub.stages);
  const quantize = quantizeSpec(a, to);
  stages.push({ stage: 'serialize', output: a.output, to, layout: a.layout, ...(a.mapping ? { mapping: a.mapping } : {}), ...(a.compress ? { compress: a.compress } : {}), ...(quantize ? { quantize } : {}) });
  const g: GraphSpec = { input: stdio(a.input), stages };
  if (a.threads !== undefined) g.threads = a.threads;
  return g;
}

export const pruneCommand: CommandModule<object, PruneArgs> = {
  command: 'prune <input>',
  describe: 'keep N vectors and map every other word to its nearest kept vector',
  builder: (y: Argv) =>
    quantizeOptions(subwordOptions(searchOptions(runOptions(y))
      .positional('input', { type: 'string', describe: "model file, or '-' for standard input", demandOption: true })
      .option('output', { alias: 'o', type: 'string', describe: "output file, or '-' for standard output", demandOption: true })
      .option('keep', { alias: 'n', type: 'number', describe: 'number of rows to keep (N)', demandOption: true })
      .option('method', { type: 'string', choices: ['topn', 'cover', 'kmeans'], default: 'topn', describe: 'topn: keep the N most frequent words, map the rest to the nearest by cosine; cover: keep the N words (among the most frequent) that best cover all the others (docs/cover.md); kmeans: keep the K most frequent words and N - K k-means centroids of the others (docs/kmeans.md)' })
      .option('from', { type: 'string', choices: formatNames(), describe: 'input format (default: detected from content)' })
      .option('to', {
        type: 'string',
        choices: [...ROW_FORMATS, ...QUANTIZED_FORMATS],
        describe: 'output format (default: from the output name: .bin w2v-bin, .txt/.vec w2v-text, .fifu fifu, .ftz ftz; else the input format); ftz: a fastText model with a product-quantized input matrix',
      })
      .option('layout', {
        type: 'string',
        choices: ['expanded', 'kept'],
        default: 'expanded',
        describe: 'expanded: every input word with the vector it now maps to; kept: only the kept rows',
      })
      .option('compress', { type: 'string', choices: ['gzip', 'none'], describe: 'compress the output (default: gzip when the output name ends in .gz)' })
      .option('mapping', { type: 'string', describe: 'also write word<TAB>kept word<TAB>cosine for every mapped word' })
      .option('counts', { type: 'string', describe: 'rank by a word<TAB>count file (any order; missing words count 0) instead of file order' })
      .option('candidates', { type: 'number', describe: 'cover: choose among the C most frequent words (C >= N; default 3 N)' })
      .option('sample', { type: 'number', describe: 'cover: words sampled beyond the candidates to evaluate coverage on (0 = all; default 10000); kmeans: reservoir sample the centroids are trained on (>= N - K; default max(100000, 10 (N - K)))' })
      .option('force-keep', { type: 'number', describe: 'cover: the K most frequent words are always kept (default 0.4 N); kmeans: the K most frequent words keep their own rows, K < N (default N / 4)' })
      .option('epsilon', { type: 'number', describe: 'cover: stochastic greedy parameter (0 = lazy greedy over all candidates, the default; e.g. 0.01 for stochastic greedy)' })
      .option('weights', { type: 'string', choices: ['counts', 'rank', 'none'], describe: 'kmeans: word weight in sampling and training: count + 1, Zipf 1/(row + 1), or equal (default: counts when the model or --counts gives them, else rank)' })
      .option('batch-size', { type: 'number', describe: 'kmeans: points per mini-batch (default 1024; not --batch, the rows per stream batch)' })
      .option('iterations', { type: 'number', describe: 'kmeans: at most this many passes over the sample; training stops earlier when the smoothed batch objective stops improving (default 20)' })
      .option('refine', { type: 'boolean', describe: 'kmeans: one more pass: each centroid becomes the exact weighted mean of all words nearest to it' })
      .option('print-graph', { type: 'boolean', describe: 'print the stage graph as JSON and exit (save it for `prune-pipe run`)' }))) as unknown as Argv<PruneArgs>,
  handler: async (a: ArgumentsCamelCase<PruneArgs>) => {
    const g = pruneGraph(a, await probeSubwords(stdio(a.input), a.from));
    if (a.printGraph) {
      process.stdout.write(JSON.stringify(g, null, 2) + '\n');
      return;
    }
    await runWithFallback(g, a);
  },
};
