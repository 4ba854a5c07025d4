import type { CommandModule } from 'yargs';
import { notAvailableYet } from './unavailable.js';

export const discoverCommand: CommandModule<object, any> = {
  command: 'discover [pipeline]',
  describe: 'Read ServiceProviderConfig, ResourceTypes and Schemas; print capabilities and column paths',
  builder: (y) =>
    y
      .positional('pipeline', { type: 'string', describe: 'Pipeline YAML file' })
      .option('server', { type: 'string', describe: 'SCIM base URL (excluding /v2) instead of a pipeline' })
      .option('write', { type: 'string', describe: 'Write a starter pipeline to this file' }),
  handler: async () => notAvailableYet('discover'),
};
