/** `prune-pipe eval ORIGINAL PRUNED`: how close a pruned model stays to its original (docs/eval.md). */
import fs from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../../pipeline/errors.js';
import { Progress } from '../../pipeline/progress.js';
import { displayWord } from '../../pipeline/words.js';
import { evaluate, type CosineSummary, type EvalResult } from '../../stages/eval/eval.js';
import { formatNames } from '../../stages/formats/index.js';
import { defaultPairsFile } from '../package-root.js';
import { stdio } from './common.js';

export interface EvalArgs {
  original: string;
  pruned: string;
  from?: string;
  prunedFrom?: string;
  mapping?: string;
  counts?: string;
  pairs?: string;
  lowercase?: boolean;
  sample: number;
  sampleFrom: number;
  pool: number;
  k: number;
  seed: number;
  examples: number;
  json?: boolean;
  quiet?: boolean;
}

/** The pairs file to use: --pairs, 'none' for no correlation, else the shared WordSim-353 copy. */
export function resolvePairs(given: string | undefined): string | undefined {
  if (given === 'none' || given === '') return undefined;
  if (given !== undefined) return given;
  const def = defaultPairsFile();
  if (!fs.existsSync(def)) {
    throw new UsageError(
      `no word-pair file: the default ${def} is missing (it comes with the project's shared fixtures, ../shared/fixtures beside the package); give one with --pairs FILE (word1<TAB>word2<TAB>score), or --pairs none to skip the correlation`,
    );
  }
  return def;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval <original> <pruned>',
  describe: 'compare a pruned model with its original: cosine per word, neighbour overlap, WordSim-353 Spearman',
  builder: (y: Argv) =>
    y
      .positional('original', { type: 'string', describe: 'the model before pruning (any format)', demandOption: true })
      .positional('pruned', { type: 'string', describe: 'the pruned model (any format; pruned finalfusion files are recognised)', demandOption: true })
      .option('from', { type: 'string', choices: formatNames(), describe: 'format of the original (default: detected)' })
      .option('pruned-from', { type: 'string', choices: formatNames(), describe: 'format of the pruned model (default: detected)' })
      .option('mapping', { type: 'string', describe: 'mapping file of the pruned model (word<TAB>kept<TAB>cosine, from prune --mapping): mapped words get their kept row' })
      .option('counts', { type: 'string', describe: 'word<TAB>count file weighting the weighted mean (default: the original\'s counts, else Zipf 1/rank)' })
      .option('pairs', { type: 'string', describe: 'word-pair file word1<TAB>word2<TAB>score (# comments); "none" to skip (default: ../shared/fixtures/gensim/wordsim353.tsv beside the package)' })
      .option('lowercase', { type: 'boolean', describe: 'lower-case the pair words before looking them up' })
      .option('sample', { type: 'number', default: 500, describe: 'neighbour overlap: query words (0: skip the measure)' })
      .option('sample-from', { type: 'number', default: 10000, describe: 'neighbour overlap: queries are drawn from this many most frequent shared words' })
      .option('pool', { type: 'number', default: 100000, describe: 'neighbour overlap: neighbours are searched among this many most frequent shared words (0: all)' })
      .option('k', { type: 'number', default: 10, describe: 'neighbours compared per word' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the neighbour sample' })
      .option('examples', { type: 'number', default: 10, describe: 'missing words listed per side' })
      .option('json', { type: 'boolean', describe: 'print the result as JSON' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress on stderr' }) as unknown as Argv<EvalArgs>,
  handler: async (a: ArgumentsCamelCase<EvalArgs>) => {
    for (const [name, v] of [['--sample', a.sample], ['--sample-from', a.sampleFrom], ['--pool', a.pool], ['--k', a.k], ['--examples', a.examples]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new UsageError(`${name} must be a non-negative integer, got ${v}`);
    }
    if (a.k < 1) throw new UsageError(`--k must be at least 1, got ${a.k}`);
    const pairs = resolvePairs(a.pairs);
    const progress = Progress.forStderr(!!a.quiet || !!a.json);
    const original = stdio(a.original);
    if (original !== '-') progress.start('eval', fs.statSync(original, { throwIfNoEntry: false })?.size ?? 0);
    let rows = 0;
    const r = await evaluate(original, stdio(a.pruned), {
      from: a.from,
      prunedFrom: a.prunedFrom,
      mapping: a.mapping,
      counts: a.counts,
      pairs,
      lowercase: a.lowercase,
      sample: a.sample,
      sampleFrom: a.sampleFrom,
      pool: a.pool,
      k: a.k,
      seed: a.seed,
      examples: a.examples,
      onProgress: (bytes, n) => {
        progress.addRows(n - rows);
        rows = n;
        progress.bytesRead(bytes);
      },
    });
    progress.end();
    process.stdout.write(a.json ? JSON.stringify(displayable(r), null, 2) + '\n' : evalLines(r).join('\n') + '\n');
  },
};

/** The result with byte-string words shown as text. */
export function displayable(r: EvalResult): EvalResult {
  const d = (ws: string[]) => ws.map(displayWord);
  return {
    ...r,
    missing: { ...r.missing, from_pruned_examples: d(r.missing.from_pruned_examples), from_original_examples: d(r.missing.from_original_examples) },
    ...(r.pairs ? { pairs: { ...r.pairs, missing_words: d(r.pairs.missing_words) } } : {}),
  };
}

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

function cosineLines(c: CosineSummary, indent: string): string[] {
  const lines = [
    `mean ${f4(c.mean)}, weighted mean ${f4(c.weighted_mean)}, min ${f4(c.min)}, p1 ${f4(c.p1)}, p5 ${f4(c.p5)}, p50 ${f4(c.p50)}`,
    `${indent}${c.identical} of ${c.count} words have identical vectors (cosine 1)`,
  ];
  const max = Math.max(1, ...c.histogram.map((h) => h.count));
  for (let i = 0; i < c.histogram.length; i++) {
    const h = c.histogram[i]!;
    const range = `[${h.from.toFixed(1)}, ${h.to.toFixed(1)}${i === c.histogram.length - 1 ? ']' : ')'}`;
    const bar = '#'.repeat(Math.round((h.count / max) * 40)) || (h.count ? '.' : '');
    lines.push(`${indent}${range.padEnd(12)} ${String(h.count).padStart(9)}  ${bar}`);
  }
  return lines;
}

export function evalLines(r: EvalResult): string[] {
  const o = r.original;
  const p = r.pruned;
  const lines = [
    `original    ${o.file} (${o.format}, ${o.rows} words x ${o.dim}${o.counts ? ', with counts' : ''}${o.subwords ? ', subwords' : ''})`,
    `pruned      ${p.file} (${p.format}, ${p.rows} rows, ${p.words} words${p.subwords ? ', subwords' : ''}${p.pruned ? `; ${p.pruned}, ${p.mapped} mapped` : ''})`,
    `shared      ${r.shared} words${r.mapped ? ` (${r.mapped} mapped to a kept row)` : ''}`,
    `cosine      ${cosineLines(r.cosine, '            ').join('\n')}`,
    `            weighted by ${r.weights === 'zipf' ? 'Zipf 1/rank (file order)' : r.weights === 'counts' ? "the original's counts" : 'the counts file'}`,
  ];
  if (r.subwords) lines.push(`subwords    ${r.subwords.count} original words the pruned model builds from subwords: ${cosineLines(r.subwords, '            ').join('\n')}`);
  if (r.neighbours) {
    const n = r.neighbours;
    lines.push(
      `neighbours  overlap@${n.k} ${f4(n.overlap)} (min ${f4(n.min)}): ${n.sample} words drawn from the ${n.sample_from} most frequent shared words, neighbours among the ${n.pool} most frequent`,
      `            words sharing j of ${n.k} neighbours, j = 0..${n.k}: ${n.distribution.join(' ')}`,
    );
  }
  if (r.pairs) {
    const q = r.pairs;
    lines.push(
      `pairs       ${path.basename(q.file)}: ${q.total} pairs; Spearman on ${q.vocabulary.pairs} pairs in both vocabularies: original ${f4(q.vocabulary.original)}, pruned ${f4(q.vocabulary.pruned)}`,
    );
    if (q.with_subwords) {
      const s = q.with_subwords;
      lines.push(
        `            with subwords (${s.original_subword_words} original, ${s.pruned_subword_words} pruned words built from n-grams): ${s.pairs} pairs, original ${f4(s.original)}, pruned ${f4(s.pruned)}`,
      );
    }
    if (q.unused) lines.push(`            ${q.unused} pairs unused; words without a vector: ${q.missing_words.slice(0, 10).map(displayWord).join(' ')}${q.missing_words.length > 10 ? ' ...' : ''}`);
  }
  const m = r.missing;
  lines.push(
    `missing     ${m.from_pruned} original words have no vector in the pruned model${m.from_pruned ? `: ${m.from_pruned_examples.map(displayWord).join(' ')}${m.from_pruned > m.from_pruned_examples.length ? ' ...' : ''}` : ''}`,
    `            ${m.from_original} pruned-model words are not in the original${m.from_original ? `: ${m.from_original_examples.map(displayWord).join(' ')}${m.from_original > m.from_original_examples.length ? ' ...' : ''}` : ''}`,
    `time        ${r.seconds.toFixed(2)} s`,
  );
  return lines;
}
