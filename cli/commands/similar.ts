/** `prune-pipe similar MODEL WORD... [-k 10]`: nearest neighbours by cosine, one pass over the model. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../../pipeline/errors.js';
import { displayWord, wordFromText } from '../../pipeline/words.js';
import { formatNames } from '../../stages/formats/index.js';
import { openLookup, type Lookup, type LookupVector } from '../../stages/lookup/index.js';
import { stdio } from './common.js';

interface SimilarArgs {
  model: string;
  words: string[];
  k: number;
  from?: string;
  mapping?: string;
  json?: boolean;
}

export interface SimilarEntry {
  word: string;
  /** 'vocab', 'mapped', 'subwords', or null when the model has no vector for the word. */
  source: string | null;
  /** For mapped words: the kept row's label (null: a row without a word, e.g. a centroid). */
  mapped_to?: string | null;
  /** For words of a mapping file: the cosine to the kept row it gives. */
  mapped_cosine?: number;
  neighbours: { word: string; cosine: number; mapped_to?: string }[];
}

/** Neighbours of several words with one pass over the model's rows. */
export async function similarWords(lk: Lookup, words: string[], k: number): Promise<SimilarEntry[]> {
  const qs: (LookupVector | undefined)[] = [];
  for (const w of words) qs.push(await lk.vector(w));
  const found = words.map((w, i) => ({ w, q: qs[i] })).filter((x) => x.q);
  const res = found.length ? await lk.similarTo(found.map((x) => x.q!.vector), k, found.map((x) => x.w)) : [];
  const byWord = new Map(found.map((x, i) => [x.w, res[i]!]));
  return words.map((w, i) => {
    const q = qs[i];
    const e: SimilarEntry = { word: w, source: q?.source ?? null, neighbours: [] };
    if (!q) return e;
    const r = byWord.get(w)!;
    if (q.source === 'mapped') {
      if (q.mappedTo !== undefined) {
        e.mapped_to = q.mappedTo;
        if (q.cosine !== undefined) e.mapped_cosine = q.cosine;
      } else if (lk.pruned?.kind === 'fifu') e.mapped_to = r.identical ?? null;
    }
    e.neighbours = r.neighbours.map((n) => {
      const m = lk.mappedLabel(n.word);
      return { word: n.word, cosine: n.cosine, ...(m && m.kept !== n.word ? { mapped_to: m.kept } : {}) };
    });
    return e;
  });
}

export const similarCommand: CommandModule<object, SimilarArgs> = {
  command: 'similar <model> <words..>',
  describe: 'nearest neighbours of words by cosine (streams the model; unknown words through subwords where it has them)',
  builder: (y: Argv) =>
    y
      .positional('model', { type: 'string', describe: "model file (any format), or '-' for standard input", demandOption: true })
      .positional('words', { type: 'string', array: true, describe: 'query words', demandOption: true })
      .option('k', { alias: 'n', type: 'number', default: 10, describe: 'neighbours per word' })
      .option('from', { type: 'string', choices: formatNames(), describe: 'model format (default: detected)' })
      .option('mapping', { type: 'string', describe: 'mapping file of a pruned model (word<TAB>kept<TAB>cosine): says which kept row a word maps to' })
      .option('json', { type: 'boolean', describe: 'print JSON' }) as unknown as Argv<SimilarArgs>,
  handler: async (a: ArgumentsCamelCase<SimilarArgs>) => {
    if (!Number.isInteger(a.k) || a.k < 1) throw new UsageError(`-k must be a positive integer, got ${a.k}`);
    const lk = await openLookup(stdio(a.model), { from: a.from, mapping: a.mapping });
    try {
      const words = a.words.map((w) => wordFromText(String(w)));
      const entries = await similarWords(lk, words, a.k);
      const shown = entries.map((e) => ({
        ...e,
        word: displayWord(e.word),
        ...(e.mapped_to ? { mapped_to: displayWord(e.mapped_to) } : {}),
        neighbours: e.neighbours.map((n) => ({ ...n, word: displayWord(n.word), cosine: Math.round(n.cosine * 1e6) / 1e6, ...(n.mapped_to ? { mapped_to: displayWord(n.mapped_to) } : {}) })),
      }));
      if (a.json) {
        process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
        return;
      }
      const out: string[] = [];
      for (const e of shown) {
        let head = e.word;
        if (e.source === null) head += `: not in the model${lk.subwords ? ' and no n-gram of it has a row' : ' (the model has no subwords to build it from)'}`;
        else if (e.source === 'subwords') head += ': not in the vocabulary; vector built from its subwords';
        else if (e.source === 'mapped') {
          head += e.mapped_to === null ? ': mapped to a kept row that has no word (e.g. a k-means centroid)' : `: mapped to ${e.mapped_to ?? '(unknown)'}`;
          if (e.mapped_cosine !== undefined) head += ` (cosine ${e.mapped_cosine.toFixed(4)})`;
        }
        out.push(head);
        const width = Math.max(4, ...e.neighbours.map((n) => n.word.length));
        e.neighbours.forEach((n, i) => {
          out.push(`  ${String(i + 1).padStart(2)}  ${n.word.padEnd(width)}  ${n.cosine.toFixed(4)}${n.mapped_to ? `  (mapped to ${n.mapped_to})` : ''}`);
        });
      }
      process.stdout.write(out.join('\n') + '\n');
    } finally {
      await lk.close();
    }
  },
};
