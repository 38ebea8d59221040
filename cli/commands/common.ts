/** Options shared by the commands that run a pipeline, and running with summary and report. */
import type { Argv } from 'yargs';
import { UsageError } from '../../pipeline/errors.js';
import type { RunContext } from '../../pipeline/context.js';
import { runGraph, type GraphSpec } from '../graph.js';
import { summaryLines, writeReport } from '../summary.js';

export interface RunFlags {
  threads?: number;
  batch?: number;
  quiet?: boolean;
  report?: string;
  seed?: number;
  memory?: string;
  spill?: boolean;
}

/** '512M', '2G', '300000000' -> bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw new UsageError(`--memory expects a size such as 512M or 2G, got "${s}"`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

/** --threads, as every command that runs kernels declares it. */
export const THREADS_OPTION = { type: 'number', describe: 'worker threads for nearest-row search, k-means, product quantization and the n-gram sums of fastText models (default: number of cores)' } as const;

export function runOptions<T>(y: Argv<T>) {
  return y
    .option('threads', THREADS_OPTION)
    .option('batch', { type: 'number', describe: 'rows per batch flowing between stages', default: 2048 })
    .option('seed', { type: 'number', describe: 'seed for anything random (same seed, same input: same output)', default: 1 })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'no progress, notes or summary on stderr (errors still print)', default: false })
    .option('report', { type: 'string', describe: 'also write the run summary as JSON to this file' })
    .option('spill', {
      type: 'boolean',
      describe: 'decompress a gzip-compressed input into a temporary file first (needed for fifu and fastText .bin, which are read at offsets)',
    })
    .option('memory', {
      type: 'string',
      describe: 'memory budget (e.g. 512M, 2G): checked before work starts against an estimate of what the run will hold',
    });
}

export async function runWithSummary(g: GraphSpec, flags: RunFlags): Promise<RunContext> {
  if (flags.report && flags.report === g.input) throw new UsageError('--report would overwrite the input');
  const memoryBytes = flags.memory !== undefined ? parseSize(flags.memory) : undefined;
  const ctx = await runGraph(g, { quiet: flags.quiet, threads: flags.threads, batchRows: flags.batch, seed: flags.seed, memoryBytes, spill: flags.spill });
  if (!flags.quiet) for (const l of summaryLines(ctx.report)) process.stderr.write(l + '\n');
  if (flags.report) await writeReport(flags.report, ctx.report);
  return ctx;
}

/** yargs turns a positional '-' into ''; this restores it (standard input/output). */
export function stdio(name: string): string {
  return name === '' ? '-' : name;
}
