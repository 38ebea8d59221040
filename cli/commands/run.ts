import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { applySets, readGraphFile } from '../graph-file.js';
import { runOptions, runWithSummary, type RunFlags } from './common.js';

interface RunArgs extends RunFlags {
  graph: string;
  set: string[];
  printGraph?: boolean;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <graph>',
  describe: 'run a stage graph from a JSON file (schema: schema/graph.schema.json)',
  builder: (y: Argv) =>
    runOptions(y)
      .positional('graph', { type: 'string', describe: 'graph file (JSON: input, stages with their options)', demandOption: true })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe: 'override an option: stage.option=value (stage by name or index; value parsed as JSON when it can be)',
      })
      .option('print-graph', { type: 'boolean', describe: 'print the graph after --set and exit' }) as unknown as Argv<RunArgs>,
  handler: async (a: ArgumentsCamelCase<RunArgs>) => {
    const g = applySets(readGraphFile(a.graph), a.set);
    if (a.printGraph) {
      process.stdout.write(JSON.stringify(g, null, 2) + '\n');
      return;
    }
    await runWithSummary(g, a);
  },
};
