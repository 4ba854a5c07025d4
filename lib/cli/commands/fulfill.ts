import type { CommandModule } from 'yargs';
import { notAvailableYet } from './unavailable.js';

export const fulfillCommand: CommandModule<object, any> = {
  command: 'fulfill <pipeline>',
  describe: 'Apply order CSVs (create/update/delete users, memberships) and write results',
  builder: (y) =>
    y
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' })
      .option('orders', { type: 'string', array: true, describe: 'Order directory or files (overrides the pipeline)' })
      .option('results', { type: 'string', describe: 'Results directory (overrides the pipeline)' })
      .option('dry-run', { type: 'boolean', describe: 'Print the planned requests as NDJSON and send nothing' })
      .option('force', { type: 'boolean', describe: 'Run even when maxDeletes/maxChanges would stop it' }),
  handler: async () => notAvailableYet('fulfill'),
};
