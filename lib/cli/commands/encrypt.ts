import type { CommandModule } from 'yargs';
import { notAvailableYet } from './unavailable.js';

export const encryptCommand: CommandModule<object, any> = {
  command: 'encrypt',
  describe: 'Encrypt a secret read from stdin for the encrypted settings file',
  builder: (y) => y.option('key', { type: 'string', describe: 'RSA public key (PEM)' }),
  handler: async () => notAvailableYet('encrypt'),
};
