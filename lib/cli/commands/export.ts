import type { CommandModule } from 'yargs';
import { notAvailableYet } from './unavailable.js';

export const exportCommand: CommandModule<object, any> = {
  command: 'export <pipeline>',
  describe: 'Export entities to one CSV per table',
  builder: (y) =>
    y
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' })
      .option('entity', { type: 'string', array: true, describe: 'Only these entities (repeatable)' })
      .option('output', { type: 'string', describe: 'Output directory (overrides the pipeline)' })
      .option('full', { type: 'boolean', describe: 'Ignore the incremental cookie and reset it' })
      .option('stdout', { type: 'boolean', describe: 'Stream one table (--entity X) to stdout' })
      .option('format', { choices: ['csv', 'ndjson'] as const, describe: 'Output format' }),
  handler: async () => notAvailableYet('export'),
};
