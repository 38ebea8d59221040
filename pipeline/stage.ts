/**
 * The stage contract and how stages compose.
 *
 * A stage does one job. Building a pipeline calls each stage's `open` in order (headers are read
 * here, so bad options fail before any long work) and checks that every capability a stage needs
 * was provided by an earlier one. Running it calls `prepare` (extra passes over the source, e.g.
 * selecting kept rows by counts), then streams one pass through every `transform`, then `finish`
 * (e.g. commit the output file). On failure every stage's `abort` runs (remove partial output).
 */
import { releaseBatch, type Batch } from './batch.js';
import type { RunContext } from './context.js';
import { UsageError } from './errors.js';
import { peakRss } from './report.js';
import { drain, hl, type Stream } from './stream.js';

/**
 * What earlier stages make available:
 * model (a reader is open), counts (batches carry frequencies), subwords (n-gram rows exist),
 * kept (the kept table is decided before rows that need it arrive), assigned (every row has a
 * target row and score), usage (subword usage counted), output (a writer consumed the rows).
 */
export type Capability = 'model' | 'counts' | 'subwords' | 'kept' | 'assigned' | 'usage' | 'output';

export interface Stage {
  readonly name: string;
  /** Capabilities an earlier stage must provide. */
  readonly needs?: readonly Capability[];
  /** Capabilities this stage provides unconditionally. */
  readonly provides?: readonly Capability[];
  /** Build time: validate options, read headers; may return extra capabilities it provides. */
  open?(ctx: RunContext, have: ReadonlySet<Capability>): Promise<Capability[] | void> | Capability[] | void;
  /** Before the streaming pass: extra passes over the source. */
  prepare?(ctx: RunContext): Promise<void>;
  /** The streaming pass: batches in, batches out. */
  transform?(input: Stream<Batch>, ctx: RunContext): Stream<Batch>;
  /** After the streaming pass ended without error. */
  finish?(ctx: RunContext): Promise<void>;
  /** After any failure: undo side effects (partial files). */
  abort?(ctx: RunContext, error: unknown): Promise<void>;
  /** Build time, after open: the memory this stage will hold, by item (for the --memory check). */
  memory?(ctx: RunContext): MemoryItem[];
}

export interface MemoryItem {
  what: string;
  bytes: number;
  /** The option that changes it (named in the --memory message). */
  option?: string;
}

/** Node itself, the code and the I/O buffers: 83 MB measured on Node 20 for a convert of a small model. */
const BASE_BYTES = 85 * 1024 * 1024;
/** Each worker thread's own V8 isolate: ~12 MB measured (1 vs 2 threads on a small model). */
const WORKER_BYTES = 12 * 1024 * 1024;

/** Memory a built pipeline will need: the base, batches in flight and every stage's tables. */
export function memoryEstimate(stages: readonly Stage[], ctx: RunContext): { total: number; items: MemoryItem[] } {
  const dim = ctx.model?.info.dim ?? 0;
  const items: MemoryItem[] = [
    { what: 'runtime', bytes: BASE_BYTES },
    { what: 'batches in flight', bytes: ctx.options.batchRows * dim * 4 * (6 + 2 * ctx.options.threads), option: '--batch' },
  ];
  if (stages.some((s) => s.name === 'assign')) items.push({ what: 'worker threads', bytes: ctx.options.threads * WORKER_BYTES, option: '--threads' });
  for (const s of stages) items.push(...(s.memory?.(ctx) ?? []));
  return { total: items.reduce((a, b) => a + b.bytes, 0), items };
}

function mb(n: number): string {
  return `${Math.round(n / (1024 * 1024))} MB`;
}

export interface Pipeline {
  readonly stages: readonly Stage[];
  readonly ctx: RunContext;
  readonly capabilities: ReadonlySet<Capability>;
}

/** Opens every stage in order and checks the order can work. Throws UsageError naming the stage. */
export async function pipeline(stages: readonly Stage[], ctx: RunContext): Promise<Pipeline> {
  const have = new Set<Capability>();
  try {
    for (const s of stages) {
      for (const need of s.needs ?? []) {
        if (!have.has(need)) throw new UsageError(`stage "${s.name}" needs ${describeNeed(need)}, which no earlier stage provides`);
      }
      const extra = await s.open?.(ctx, have);
      for (const c of s.provides ?? []) have.add(c);
      for (const c of extra ?? []) have.add(c);
    }
    const budget = ctx.options.memoryBytes;
    if (budget !== undefined) {
      const est = memoryEstimate(stages, ctx);
      ctx.report.memoryEstimateBytes = est.total;
      if (est.total > budget) {
        const big = est.items.filter((i) => i.bytes > 0).sort((a, b) => b.bytes - a.bytes);
        const parts = big.map((i) => `${i.what} ${mb(i.bytes)}${i.option ? ` (${i.option})` : ''}`).join(', ');
        const change = [...new Set(big.filter((i) => i.option).map((i) => i.option!))].join(', ');
        throw new UsageError(`estimated memory ${mb(est.total)} exceeds --memory ${mb(budget)}: ${parts}; lower ${change || 'the options above'}`);
      }
    }
  } catch (e) {
    await abortAll(stages, ctx, e);
    throw e;
  }
  return { stages, ctx, capabilities: have };
}

/** Runs a built pipeline to the end. */
export async function run(p: Pipeline): Promise<RunContext> {
  const { stages, ctx } = p;
  const t0 = performance.now();
  try {
    for (const s of stages) {
      if (!s.prepare) continue;
      const t = performance.now();
      await s.prepare(ctx);
      addTime(ctx, s.name, performance.now() - t);
    }
    let stream: Stream<Batch> = hl<Batch>([]);
    for (const s of stages) if (s.transform) stream = s.transform(stream, ctx);
    const t = performance.now();
    // batches that left the last stage: no stage holds them, their lent arrays go back
    await drain(stream.map((b) => (releaseBatch(b), b)));
    ctx.progress.end();
    const dups = ctx.report.input.duplicates;
    if (dups > 0) ctx.warn(`${dups} duplicate word${dups === 1 ? '' : 's'} dropped (the first occurrence of each was kept)`);
    addTime(ctx, 'stream', performance.now() - t);
    for (const s of stages) {
      if (!s.finish) continue;
      const t1 = performance.now();
      await s.finish(ctx);
      addTime(ctx, s.name, performance.now() - t1);
    }
  } catch (e) {
    ctx.progress.end();
    await abortAll(stages, ctx, e);
    throw e;
  } finally {
    await ctx.model?.close().catch(() => undefined);
  }
  ctx.report.seconds = (performance.now() - t0) / 1000;
  ctx.report.peakRssBytes = peakRss();
  return ctx;
}

async function abortAll(stages: readonly Stage[], ctx: RunContext, e: unknown): Promise<void> {
  for (const s of stages) await s.abort?.(ctx, e).catch(() => undefined);
}

function addTime(ctx: RunContext, name: string, ms: number): void {
  const cur = ctx.report.stages[name] ?? { seconds: 0 };
  cur.seconds = Math.round((cur.seconds + ms / 1000) * 1000) / 1000;
  ctx.report.stages[name] = cur;
}

function describeNeed(c: Capability): string {
  switch (c) {
    case 'model':
      return 'an open model (put "parse" first)';
    case 'counts':
      return 'word counts (a counts file or a model with counts, such as a fastText .bin)';
    case 'subwords':
      return 'a model with subword n-gram rows (fastText .bin or a finalfusion subword vocabulary)';
    case 'kept':
      return 'a kept table (a rank, cover or k-means stage before it)';
    case 'assigned':
      return 'every row assigned to a kept row (an assign stage before it)';
    case 'usage':
      return 'subword usage counts (a subword-usage scan before it)';
    case 'output':
      return 'a writer';
  }
}
