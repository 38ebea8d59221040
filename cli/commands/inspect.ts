import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { openSource } from '../../pipeline/source.js';
import { collect } from '../../pipeline/stream.js';
import { displayWord } from '../../pipeline/words.js';
import { formatNames, openModel } from '../../stages/formats/index.js';
import { formatBytes } from '../summary.js';
import { stdio } from './common.js';

interface InspectArgs {
  model: string;
  from?: string;
  keep?: number;
  words: number;
  json?: boolean;
}

/** Memory a top-N prune needs for N kept rows: the kept table, its unit copy, batches in flight. */
export function memoryEstimate(keep: number, dim: number, batchRows = 2048, threads = 2): number {
  const table = keep * dim * 4 * 2;
  const batches = batchRows * dim * 4 * (4 + 2 * threads);
  return table + batches + 80 * 1024 * 1024;
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <model>',
  describe: 'show format, rows, dims, first words, size, and memory needed for a given --keep',
  builder: (y: Argv) =>
    y
      .positional('model', { type: 'string', describe: "model file, or '-' for standard input", demandOption: true })
      .option('from', { type: 'string', choices: formatNames(), describe: 'input format (default: detected from content)' })
      .option('keep', { alias: 'n', type: 'number', describe: 'also estimate the memory a prune to this many rows needs' })
      .option('words', { type: 'number', default: 10, describe: 'how many first words to show' })
      .option('json', { type: 'boolean', describe: 'print JSON' }) as unknown as Argv<InspectArgs>,
  handler: async (a: ArgumentsCamelCase<InspectArgs>) => {
    const source = await openSource(stdio(a.model));
    try {
      const m = await openModel(source, a.from);
      const rows = await m.countRows();
      const first: string[] = [];
      if (a.words > 0) {
        const bs = await collect(m.pass({ batchRows: a.words }).take(1));
        for (const w of bs[0]?.words ?? []) first.push(displayWord(w));
      }
      const info = {
        file: source.name,
        format: m.info.format,
        rows,
        dims: m.info.dim,
        bytes: source.size,
        counts: m.info.hasCounts,
        subwords: !!m.subwords,
        first_words: first,
        ...(m.info.details ?? {}),
        ...(a.keep ? { keep: a.keep, memory_estimate_bytes: memoryEstimate(Math.min(a.keep, rows), m.info.dim) } : {}),
      };
      if (a.json) {
        process.stdout.write(JSON.stringify(info, null, 2) + '\n');
      } else {
        const lines = [
          `file      ${info.file}`,
          `format    ${info.format}`,
          `rows      ${rows}`,
          `dims      ${info.dims}`,
          `size      ${formatBytes(info.bytes)}`,
          `counts    ${info.counts ? 'yes' : 'no (file order is the frequency rank)'}`,
          `subwords  ${info.subwords ? 'yes' : 'no'}`,
          `first     ${first.join(' ')}`,
        ];
        for (const [k, v] of Object.entries(m.info.details ?? {})) lines.push(`${k.padEnd(9)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
        if (a.keep) lines.push(`memory    ~${formatBytes(info.memory_estimate_bytes!)} to prune to ${a.keep} rows (kept table, batches, runtime)`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      await m.close();
    } finally {
      await source.close();
    }
  },
};
