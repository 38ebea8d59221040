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
import { WordFingerprintSet } from './word-set.js';

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
  /**
   * Per-batch functions applied to every pass in order (e.g. attaching counts from a file), so
   * extra passes opened by stages see the same rows as the streaming pass.
   */
  decorators: ((b: Batch) => Batch)[];
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
    decorators: [],
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
    ctx.progress.start(label, ctx.source.fileSize);
    const src = ctx.source;
    return model
      .pass({ batchRows: ctx.options.batchRows, onBytes: (b) => ctx.progress.bytesRead(src.compressed ? src.fileBytesRead() : b) })
      .map(dropDuplicates(ctx))
      .filter((b: Batch) => b.words.length > 0)
      .map((b: Batch) => {
        ctx.progress.addRows(b.words.length);
        for (const d of ctx.decorators) b = d(b);
        return b;
      });
  });
}

/**
 * Drops rows whose word appeared before (the first occurrence wins) and renumbers rows so that
 * `start` counts unique words. The count of dropped rows goes to the report (warned once by run).
 * Memory: 16 bytes per distinct word (fingerprints, see word-set.ts) for the length of the pass.
 */
function dropDuplicates(ctx: RunContext): (b: Batch) => Batch {
  const seen = new WordFingerprintSet(Math.min(ctx.model?.info.rows ?? 1 << 16, 1 << 22));
  let next = 0;
  let dropped = 0;
  return (b) => {
    const n = b.words.length;
    let w = 0;
    for (let i = 0; i < n; i++) {
      const word = b.words[i]!;
      if (!seen.add(word)) continue;
      if (w !== i) {
        b.words[w] = word;
        b.vectors.copyWithin(w * b.dim, i * b.dim, (i + 1) * b.dim);
        if (b.counts) b.counts[w] = b.counts[i]!;
      }
      w++;
    }
    if (w !== n) {
      dropped += n - w;
      b.words.length = w;
      b.vectors = b.vectors.subarray(0, w * b.dim);
      if (b.counts) b.counts = b.counts.subarray(0, w);
      ctx.report.input.duplicates = Math.max(ctx.report.input.duplicates, dropped);
    }
    b.start = next;
    next += w;
    return b;
  };
}
