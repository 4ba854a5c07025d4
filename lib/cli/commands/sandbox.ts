import type { CommandModule } from 'yargs';
import { notAvailableYet } from './unavailable.js';

export const sandboxCommand: CommandModule<object, any> = {
  command: 'sandbox',
  describe: 'Start a local SCIM 2.0 server on 127.0.0.1 with sample or generated data',
  builder: (y) => y,
  handler: async () => notAvailableYet('sandbox'),
};
