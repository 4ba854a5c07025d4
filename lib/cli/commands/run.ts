import type { CommandModule } from 'yargs';
import { notAvailableYet } from './unavailable.js';

export const runCommand: CommandModule<object, any> = {
  command: 'run <pipeline>',
  describe: 'Run what the pipeline defines: export, then fulfill',
  builder: (y) => y.positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' }),
  handler: async () => notAvailableYet('run'),
};
