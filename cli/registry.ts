/**
 * The registry of stage names: the only place that knows every stage. Graph files and the
 * `prune` command both build pipelines from { stage: name, ...options } entries through it.
 */
import { UsageError } from '../pipeline/errors.js';
import type { Stage } from '../pipeline/stage.js';
import { assignStage } from '../stages/assign.js';
import { countsStage } from '../stages/counts.js';
import { countWordsStage } from '../stages/count-words.js';
import { coverStage } from '../stages/cover/index.js';
import { kmeansStage } from '../stages/kmeans/stage.js';
import { parseStage } from '../stages/parse.js';
import { rankStage } from '../stages/rank.js';
import { serializeStage } from '../stages/serialize.js';
import { subwordCollapseStage } from '../stages/subword-collapse.js';
import { subwordScanStage } from '../stages/subword-scan.js';

export interface StageSpec {
  stage: string;
  [option: string]: unknown;
}

type Factory = (opts: Record<string, unknown>) => Stage;

const factories: Record<string, Factory> = {
  parse: (o) => parseStage(o as never),
  counts: (o) => countsStage(o as never),
  'count-words': (o) => countWordsStage(o as never),
  rank: (o) => rankStage(o as never),
  cover: (o) => coverStage(o as never),
  kmeans: (o) => kmeansStage(o as never),
  assign: (o) => assignStage(o as never),
  'subword-scan': (o) => subwordScanStage(o as never),
  'subword-collapse': (o) => subwordCollapseStage(o as never),
  serialize: (o) => serializeStage(o as never),
};

export function stageNames(): string[] {
  return Object.keys(factories);
}

export function makeStage(spec: StageSpec): Stage {
  const f = factories[spec.stage];
  if (!f) throw new UsageError(`unknown stage "${spec.stage}"; known: ${stageNames().join(', ')}`);
  const { stage: _name, ...opts } = spec;
  return f(opts);
}
