import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { EXIT, ScimEtlError } from '../../errors.js';
import { loadPipeline } from '../../config/load.js';
import { pipelineForServer, starterFromPipeline } from '../../discovery/connection.js';
import { readDiscovery } from '../../discovery/read.js';
import { buildReport } from '../../discovery/model.js';
import { formatReport } from '../../discovery/format-report.js';
import { starterPipeline } from '../../discovery/starter.js';
import type { CommandContext } from '../context.js';
import { withConnection } from '../connect.js';
import { connectionOptions, type ConnectionArgs } from '../connection-options.js';

interface DiscoverArgs extends ConnectionArgs {
  ctx: CommandContext;
  pipeline?: string;
  server?: string;
  scimSyntax?: string;
  oauth2Url?: string;
  write?: string;
  format: 'text' | 'json';
}

/**
 * `scim-etl discover <pipeline | --server URL>`: reads the discovery documents
 * (each may be missing), prints capabilities and column paths, and with
 * --write a starter pipeline. Only GETs are sent.
 */
export const discoverCommand: CommandModule<object, any> = {
  command: 'discover [pipeline]',
  describe: 'Read ServiceProviderConfig, ResourceTypes and Schemas; print capabilities and column paths',
  builder: (y) =>
    connectionOptions(y)
      .positional('pipeline', { type: 'string', describe: 'Pipeline YAML file (its connection is used)' })
      .option('server', { type: 'string', describe: 'SCIM base URL instead of a pipeline; credentials from $SCIM_TOKEN, or $SCIM_APPLICATION_ID/$SCIM_APPLICATION_KEY, or $SCIM_LOGIN/$SCIM_PASSWORD' })
      .option('scim-syntax', { type: 'string', describe: 'With --server: RFC (default), Salesforce, CyberArk or Slack' })
      .option('oauth2-url', { type: 'string', describe: 'With --server: the OAuth2 token endpoint for client credentials' })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Report format' })
      .option('write', { type: 'string', describe: 'Write a starter pipeline to this file' })
      .example('$0 discover pipelines/export-users-groups.yaml', "Capabilities and column paths of the pipeline's server")
      .example('SCIM_TOKEN=… $0 discover --server https://example.com/scim --write starter.yaml', 'Report, and a starter pipeline with every readable column')
      .example('$0 discover p.yaml --format json | jq .capabilities', 'The same report as JSON'),
  handler: async (args) => {
    const argv = args as unknown as DiscoverArgs;
    const { ctx } = argv;
    if ((argv.pipeline === undefined) === (argv.server === undefined)) {
      throw new ScimEtlError('ERR_DISCOVER_SERVER', 'discover needs a pipeline file or --server URL (one of them)', {}, { category: 'config' });
    }
    const { pipeline: loaded, starter } =
      argv.pipeline !== undefined
        ? await loadPipeline(argv.pipeline, { env: ctx.env, cwd: ctx.cwd, settingsFile: argv.settings }).then((p) => ({ pipeline: p, starter: starterFromPipeline(p) }))
        : await pipelineForServer({ server: argv.server!, scimSyntax: argv.scimSyntax, oauth2Url: argv.oauth2Url }, ctx.env);
    const report = await withConnection(loaded, ctx, argv, async (client) => buildReport(await readDiscovery(client, ctx.signal)));
    ctx.stdout.write(argv.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    if (argv.write !== undefined) {
      const file = resolve(ctx.cwd, argv.write);
      writeFileSync(file, starterPipeline(report, starter));
      ctx.logger.info(`starter pipeline written to ${argv.write}`);
    }
    ctx.setExitCode(EXIT.ok);
  },
};
