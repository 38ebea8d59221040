/**
 * The run context every stage sees: the source and its reader, the kept table, options, the
 * report and progress. Stages keep extra shared tables in `state` under documented keys.
 */
import os from 'node:os';
import type { Batch } from './batch.js';
import { DEFAULT_BATCH_ROWS } from './batch.js';
import type { ModelReader } from './model.js';
import { Progress } from './progress.js';
import { newReport, type Report } from './report.js';
import type { Source } from './source.js';
import { hl, type Stream } from './stream.js';
import type { KeptTable } from './tables.js';
import { UsageError } from './errors.js';

export interface RunOptions {
  /** Worker threads for heavy kernels. */
  threads: number;
  /** Rows per batch. */
  batchRows: number;
  /** Seed for anything random. */
  seed: number;
  /** Memory budget in bytes (checked before work starts), or undefined for none. */
  memoryBytes?: number;
}

export interface RunContext {
  source: Source;
  model?: ModelReader;
  kept?: KeptTable;
  report: Report;
  progress: Progress;
  options: RunOptions;
  /** Tables shared between stages, by key. */
  state: Map<string, unknown>;
  /** Number of passes opened so far. */
  passes: number;
  warn(message: string): void;
  info(message: string): void;
}

export interface ContextOptions extends Partial<RunOptions> {
  quiet?: boolean;
  /** Where warnings and notes go (default: stderr unless quiet). */
  log?: (line: string) => void;
}

export function createContext(source: Source, opts: ContextOptions = {}): RunContext {
  const log = opts.log ?? (opts.quiet ? () => undefined : (l: string) => process.stderr.write(l + '\n'));
  const report = newReport(source.name);
  const threads = opts.threads ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads must be a positive integer, got ${threads}`);
  const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new UsageError(`--batch must be a positive integer, got ${batchRows}`);
  return {
    source,
    report,
    progress: Progress.forStderr(!!opts.quiet),
    options: { threads, batchRows, seed: opts.seed ?? 1, memoryBytes: opts.memoryBytes },
    state: new Map(),
    passes: 0,
    warn(message) {
      report.warnings.push(message);
      log(`prune-pipe: warning: ${message}`);
    },
    info(message) {
      log(`prune-pipe: ${message}`);
    },
  };
}

/**
 * Opens a new pass over the model's rows with progress under `label`. Every pass after the first
 * first checks that the file did not change in between (a changed file is the pass's error).
 */
export function openPass(ctx: RunContext, label: string): Stream<Batch> {
  const model = ctx.model;
  if (!model) throw new Error('openPass before the parse stage opened the model');
  const n = ++ctx.passes;
  const check = n > 1 ? ctx.source.checkUnchanged() : Promise.resolve();
  return hl(check.then(() => true)).flatMap(() => {
    ctx.progress.start(label, ctx.source.size);
    return model
      .pass({ batchRows: ctx.options.batchRows, onBytes: (b) => ctx.progress.bytesRead(b) })
      .map((b: Batch) => {
        ctx.progress.addRows(b.words.length);
        return b;
      });
  });
}
