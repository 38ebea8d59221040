/**
 * The subword options of `prune` and the stages they add (subword-scan, subword-collapse) for
 * models with subword n-gram rows (fastText .bin/.ftz, finalfusion subword vocabularies).
 */
import type { Argv } from 'yargs';
import { openSource } from '../../pipeline/source.js';
import { openModel } from '../../stages/formats/index.js';
import { PRUNED_SUBWORDS, PRUNED_WORDS, SUBWORD_SCORES, UNUSED_SUBWORDS, DEFAULT_SUBWORD_SCORE } from '../../stages/subword-collapse.js';
import { SCAN_WORDS, USAGE_WEIGHTS } from '../../stages/subword-scan.js';
import type { StageSpec } from '../registry.js';

export interface SubwordArgs {
  method: string;
  prunedWords?: string;
  scanWords?: string;
  usageWeights?: string;
  unusedSubwords?: string;
  keepSubwords?: number;
  subwordScore?: string;
  prunedSubwords?: string;
}

export function subwordOptions<T>(y: Argv<T>) {
  return y
    .option('pruned-words', {
      type: 'string',
      choices: [...PRUNED_WORDS],
      describe:
        'subword models: nearest maps each pruned word to its nearest kept word; subwords leaves pruned words out and rebuilds them from their n-grams on lookup (default: subwords for a subword model with --method topn or cover, else nearest; finalfusion output needs subwords)',
    })
    .option('scan-words', {
      type: 'string',
      choices: [...SCAN_WORDS],
      describe: 'subword models: count n-gram bucket usage over every vocabulary word (all, default) or only the kept words (kept: buckets only pruned words use are then unused)',
    })
    .option('usage-weights', {
      type: 'string',
      choices: [...USAGE_WEIGHTS],
      describe: 'subword models: each n-gram occurrence counts 1 (none, default) or the word count (counts)',
    })
    .option('unused-subwords', {
      type: 'string',
      choices: [...UNUSED_SUBWORDS],
      describe: 'subword models: buckets no scanned word uses are removed (drop, default) or all share one zero row (null: same directions, fastText-style divisors)',
    })
    .option('keep-subwords', {
      type: 'number',
      describe: 'subword models: keep only the M most useful used n-gram buckets (default: every used bucket)',
    })
    .option('subword-score', {
      type: 'string',
      choices: [...SUBWORD_SCORES],
      describe: `with --keep-subwords: rank buckets by usage, or usage x row norm (usage-norm, as compress-fasttext; default ${DEFAULT_SUBWORD_SCORE})`,
    })
    .option('pruned-subwords', {
      type: 'string',
      choices: [...PRUNED_SUBWORDS],
      describe: 'with --keep-subwords: used buckets beyond M are removed (drop, default) or remapped to the kept bucket nearest by cosine (nearest)',
    });
}

/** Whether any subword option was given explicitly. */
function anySubwordOption(a: SubwordArgs): boolean {
  return [a.scanWords, a.usageWeights, a.unusedSubwords, a.keepSubwords, a.subwordScore, a.prunedSubwords].some((v) => v !== undefined);
}

/**
 * The subword stages of a prune run and whether pruned words go through the assign stage.
 * Subword stages are added when the input has subword rows (`hasSubwords`, probed from the file)
 * or a subword option is given (a model without subwords then fails at build time, naming the
 * stage). Without any subword option, a run that maps pruned words to their nearest kept word and
 * writes word2vec/GloVe needs no subword stage and gets none.
 */
export function subwordStages(a: SubwordArgs, to: string, hasSubwords: boolean): { assign: boolean; stages: StageSpec[] } {
  const explicit = anySubwordOption(a) || a.prunedWords === 'subwords';
  if (!hasSubwords && !explicit) return { assign: true, stages: [] };
  const prunedWords = a.prunedWords ?? (a.method === 'kmeans' ? 'nearest' : 'subwords');
  if (prunedWords === 'nearest' && to !== 'fifu' && !anySubwordOption(a)) return { assign: true, stages: [] };
  const scan: StageSpec = { stage: 'subword-scan' };
  if (a.scanWords !== undefined) scan.words = a.scanWords;
  if (a.usageWeights !== undefined) scan.weights = a.usageWeights;
  const collapse: StageSpec = { stage: 'subword-collapse', prunedWords };
  if (a.unusedSubwords !== undefined) collapse.unused = a.unusedSubwords;
  if (a.keepSubwords !== undefined) collapse.keep = a.keepSubwords;
  if (a.subwordScore !== undefined) collapse.score = a.subwordScore;
  if (a.prunedSubwords !== undefined) collapse.pruned = a.prunedSubwords;
  return { assign: prunedWords === 'nearest', stages: [scan, collapse] };
}

/** Whether the input file is a model with subword rows ('-' is not probed: false). */
export async function probeSubwords(input: string, from?: string): Promise<boolean> {
  if (input === '-' || input === '') return false;
  let src;
  try {
    src = await openSource(input);
  } catch {
    return false; // the run itself reports the problem
  }
  try {
    const m = await openModel(src, from);
    const has = !!m.subwords;
    await m.close();
    return has;
  } catch {
    return false;
  } finally {
    await src.close();
  }
}
