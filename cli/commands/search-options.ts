/**
 * `--search exact|approx|auto`, `--search-index`, `--shortlist`, `--verify-sample`,
 * `--min-agreement`, `--fallback` for the commands that assign rows (docs/scale.md,
 * docs/ngram-search.md), and running a graph with the exact fallback: when an
 * approximate run fails its verification (VerifyError, exit 5) and `--fallback exact` is given, the
 * whole run is done again with exact search (the failed run left no output behind).
 */
import type { Argv } from 'yargs';
import { UsageError } from '../../pipeline/errors.js';
import type { RunContext } from '../../pipeline/context.js';
import { FALLBACKS, INDEX_KINDS, SEARCH_DEFAULTS, SEARCH_MODES, VerifyError, type Fallback, type IndexKind, type SearchMode } from '../../stages/search.js';
import type { GraphSpec } from '../graph.js';
import { runWithSummary, type RunFlags } from './common.js';

export interface SearchFlags {
  search?: string;
  searchIndex?: string;
  shortlist?: number;
  verifySample?: number;
  minAgreement?: number;
  fallback?: string;
}

export function searchOptions<T>(y: Argv<T>) {
  return y
    .option('search', {
      type: 'string',
      choices: [...SEARCH_MODES],
      default: 'auto',
      describe: 'nearest-row search: exact, approx (an index proposes, exact cosines decide; verified on a sample), or auto (approx when exact search would be large and calibration finds it 2x cheaper; the choice is printed)',
    })
    .option('search-index', { type: 'string', choices: [...INDEX_KINDS], describe: 'approx: inverted file over k-means cells with the exact SIMD kernel (ivf, default), an HNSW graph (hnsw, usearch), or the kept words sharing n-grams with the word (ngram: subword models, docs/ngram-search.md)' })
    .option('shortlist', { type: 'number', describe: 'approx, ngram index: kept words compared exactly per word, those sharing the most n-grams (1-4096; default: calibrated); implies --search-index ngram' })
    .option('verify-sample', { type: 'number', describe: `approx: rows also searched exactly to measure agreement (default ${SEARCH_DEFAULTS.verifySample}; 0 = no check)` })
    .option('min-agreement', { type: 'number', describe: `approx: the run fails (exit 5) when agreement with exact search is below this (default ${SEARCH_DEFAULTS.minAgreement})` })
    .option('fallback', { type: 'string', choices: [...FALLBACKS], default: 'fail', describe: 'approx: when verification fails, fail (exit 5) or redo the run with exact search' });
}

/** The search options of the assign stage's spec (only those given). */
export function searchSpec(a: SearchFlags): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (a.search !== undefined) o.search = a.search as SearchMode;
  if (a.searchIndex !== undefined) o.index = a.searchIndex as IndexKind;
  if (a.shortlist !== undefined) o.shortlist = a.shortlist;
  if (a.verifySample !== undefined) o.verifySample = a.verifySample;
  if (a.minAgreement !== undefined) o.minAgreement = a.minAgreement;
  return o;
}

/** Runs `g` with summary and report; with `--fallback exact`, a failed verification reruns it exactly. */
export async function runWithFallback(g: GraphSpec, a: RunFlags & SearchFlags): Promise<RunContext> {
  const fallback = (a.fallback ?? 'fail') as Fallback;
  if (!FALLBACKS.includes(fallback)) throw new UsageError(`--fallback must be one of ${FALLBACKS.join(', ')}, got "${fallback}"`);
  const searching = g.stages.some((s) => s.search !== undefined && s.search !== 'exact') || !g.stages.some((s) => s.stage === 'assign' && s.search === 'exact');
  if (fallback === 'exact' && searching && g.input === '-') {
    throw new UsageError('--fallback exact needs a file input: standard input cannot be read a second time');
  }
  try {
    return await runWithSummary(g, a);
  } catch (e) {
    if (!(e instanceof VerifyError) || fallback !== 'exact') throw e;
    if (!a.quiet) process.stderr.write(`prune-pipe: ${e.message.split(';')[0]}; --fallback exact: running again with exact search\n`);
    const failed = e.verification;
    const exact: GraphSpec = {
      ...g,
      stages: g.stages.map((s) => (s.stage === 'assign' ? { ...s, search: 'exact', fallbackFrom: failed } : s.search !== undefined ? { ...s, search: 'exact' } : s)),
    };
    return await runWithSummary(exact, a);
  }
}
