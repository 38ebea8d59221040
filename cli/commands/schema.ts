import type { CommandModule } from 'yargs';
import { stageNames } from '../registry.js';
import { graphSchema } from '../stage-options.js';

export const schemaCommand: CommandModule = {
  command: 'schema',
  describe: 'print the JSON Schema of graph files',
  handler: () => {
    process.stdout.write(JSON.stringify(graphSchema(stageNames()), null, 2) + '\n');
  },
};
