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
}

export function runOptions<T>(y: Argv<T>) {
  return y
    .option('threads', { type: 'number', describe: 'worker threads for the similarity kernels (default: number of cores)' })
    .option('batch', { type: 'number', describe: 'rows per batch flowing between stages', default: 2048 })
    .option('seed', { type: 'number', describe: 'seed for anything random (same seed, same input: same output)', default: 1 })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'no progress, notes or summary on stderr (errors still print)', default: false })
    .option('report', { type: 'string', describe: 'also write the run summary as JSON to this file' });
}

export async function runWithSummary(g: GraphSpec, flags: RunFlags): Promise<RunContext> {
  if (flags.report && flags.report === g.input) throw new UsageError('--report would overwrite the input');
  const ctx = await runGraph(g, { quiet: flags.quiet, threads: flags.threads, batchRows: flags.batch, seed: flags.seed });
  if (!flags.quiet) for (const l of summaryLines(ctx.report)) process.stderr.write(l + '\n');
  if (flags.report) await writeReport(flags.report, ctx.report);
  return ctx;
}

/** yargs turns a positional '-' into ''; this restores it (standard input/output). */
export function stdio(name: string): string {
  return name === '' ? '-' : name;
}
