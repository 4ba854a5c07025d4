import type { CommandModule } from 'yargs';
import { notAvailableYet } from './unavailable.js';

export const validateCommand: CommandModule<object, any> = {
  command: 'validate <files..>',
  describe: 'Validate pipeline files: every problem as file:line:col CODE message',
  builder: (y) => y.positional('files', { type: 'string', array: true, demandOption: true }),
  handler: async () => notAvailableYet('validate'),
};
