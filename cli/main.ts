#!/usr/bin/env node
/**
 * prune-pipe command line. Exit codes: 0 done, 1 internal error, 2 bad options, 3 bad input,
 * 4 cannot write output, 130/143 interrupted by SIGINT/SIGTERM.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { installSignalHandlers } from '../pipeline/cleanup.js';
import { OutputClosedError, PruneError, UsageError } from '../pipeline/errors.js';
import { pruneCommand } from './commands/prune.js';
import { inspectCommand } from './commands/inspect.js';
import { convertCommand } from './commands/convert.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { evalCommand } from './commands/eval.js';
import { similarCommand } from './commands/similar.js';
import { sweepCommand } from './commands/sweep.js';
import { skipHelpCache } from './help-cache.js';

export async function main(argv: string[]): Promise<number> {
  installSignalHandlers();
  // A closed standard output is reported through the failed write; do not crash on the event.
  process.stdout.on('error', () => undefined);
  const cli = yargs(argv)
    .scriptName('prune-pipe')
    .usage('$0 <command> [options]\n\nPrune word-embedding models by streaming: keep N vectors, map every other word to one of them.')
    .command(pruneCommand)
    .command(inspectCommand)
    .command(convertCommand)
    .command(runCommand)
    .command(schemaCommand)
    .command(evalCommand)
    .command(similarCommand)
    .command(sweepCommand)
    .demandCommand(1, 'name a command: prune, inspect, convert, run or schema')
    .strict()
    .recommendCommands()
    .epilog(
      'Exit codes: 0 done, 1 internal error, 2 bad options, 3 bad input file, 4 cannot write output, 130/143 interrupted.\nDocumentation: README.md',
    )
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      // thrown, not only printed: yargs would otherwise go on to run the command's handler
      throw new UsageError(`${msg}\nRun 'prune-pipe --help' for usage.`);
    })
    .help()
    .version();
  skipHelpCache(cli);
  try {
    await cli.parseAsync();
  } catch (e) {
    return reportError(e);
  }
  return (process.exitCode as number | undefined) || 0;
}

export function reportError(e: unknown): number {
  if (e instanceof OutputClosedError) return 0;
  if (e instanceof PruneError) {
    process.stderr.write(`prune-pipe: ${e.describe()}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  process.stderr.write(`prune-pipe: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.PRUNE_PIPE_DEBUG) process.stderr.write(`${err?.stack}\n`);
  return 1;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e);
  },
);
