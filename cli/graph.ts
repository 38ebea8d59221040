/**
 * A run as data: input file plus the list of stages with their options. `prune` builds one from
 * its flags (`--print-graph` shows it), graph files hold one, and both run through `runGraph`.
 */
import { createContext, type ContextOptions, type RunContext } from '../pipeline/context.js';
import { pipeline, run } from '../pipeline/stage.js';
import { openSource } from '../pipeline/source.js';
import { makeStage, type StageSpec } from './registry.js';

export interface GraphSpec {
  input: string;
  stages: StageSpec[];
  threads?: number;
  batch?: number;
  seed?: number;
}

export async function runGraph(g: GraphSpec, opts: ContextOptions = {}): Promise<RunContext> {
  const stages = g.stages.map(makeStage);
  const source = await openSource(g.input);
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
