import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { formatNames } from '../../stages/formats/index.js';
import { ROW_FORMATS } from '../../stages/serialize.js';
import { guessOutputFormat } from '../output-format.js';
import { runOptions, runWithSummary, stdio, type RunFlags } from './common.js';

interface ConvertArgs extends RunFlags {
  input: string;
  output: string;
  from?: string;
  to?: string;
  compress?: string;
}

export const convertCommand: CommandModule<object, ConvertArgs> = {
  command: 'convert <input> <output>',
  describe: 'stream any supported model into another format (no pruning)',
  builder: (y: Argv) =>
    runOptions(y)
      .positional('input', { type: 'string', describe: "model file, or '-' for standard input", demandOption: true })
      .positional('output', { type: 'string', describe: "output file, or '-' for standard output", demandOption: true })
      .option('from', { type: 'string', choices: formatNames(), describe: 'input format (default: detected from content)' })
      .option('compress', { type: 'string', choices: ['gzip', 'none'], describe: 'compress the output (default: gzip when the output name ends in .gz)' })
      .option('to', { type: 'string', choices: [...ROW_FORMATS], describe: 'output format (default: from the output name, else the input format)' }) as unknown as Argv<ConvertArgs>,
  handler: async (a: ArgumentsCamelCase<ConvertArgs>) => {
    const to = guessOutputFormat(a.output, a.to, a.from);
    await runWithSummary(
      {
        input: stdio(a.input),
        stages: [{ stage: 'parse', ...(a.from ? { from: a.from } : {}) }, { stage: 'serialize', output: stdio(a.output), to, ...(a.compress ? { compress: a.compress } : {}) }],
      },
      a,
    );
  },
};
