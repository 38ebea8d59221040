/**
 * A run as data: input file plus the list of stages with their options. `prune` builds one from
 * its flags (`--print-graph` shows it), graph files hold one, and both run through `runGraph`.
 */
import { createContext, type ContextOptions, type RunContext } from '../pipeline/context.js';
import { pipeline, run } from '../pipeline/stage.js';
import { openSource, spillSource } from '../pipeline/source.js';
import { makeStage, type StageSpec } from './registry.js';

export interface GraphSpec {
  input: string;
  stages: StageSpec[];
  threads?: number;
  batch?: number;
  seed?: number;
}

export interface GraphRunOptions extends ContextOptions {
  /** Decompress a gzip-compressed input into a temporary file first (for formats read at offsets). */
  spill?: boolean;
}

export async function runGraph(g: GraphSpec, opts: GraphRunOptions = {}): Promise<RunContext> {
  const stages = g.stages.map(makeStage);
  let source = await openSource(g.input);
  if (opts.spill) source = await spillSource(source);
  try {
    const ctx = createContext(source, {
      ...opts,
      threads: g.threads ?? opts.threads,
      batchRows: g.batch ?? opts.batchRows,
      seed: g.seed ?? opts.seed,
    });
    const p = await pipeline(stages, ctx);
    return await run(p);
  } finally {
    await source.close();
  }
}
