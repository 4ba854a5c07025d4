import type { CommandModule } from 'yargs';
import { EXIT } from '../../errors.js';
import { loadPipeline } from '../../config/load.js';
import { runCheck } from '../../discovery/check.js';
import { formatCheck } from '../../discovery/format-check.js';
import { toCache, verdictCacheFor, writeVerdictCache } from '../../discovery/verdict-cache.js';
import type { CommandContext } from '../context.js';
import { withConnection } from '../connect.js';
import { connectionOptions, type ConnectionArgs } from '../connection-options.js';

interface CheckArgs extends ConnectionArgs {
  ctx: CommandContext;
  pipeline: string;
  write?: boolean;
  cache?: boolean;
  format: 'text' | 'json';
}

/**
 * `scim-etl check <pipeline>`: probes what the server gets right and wrong.
 * A failing probe is a finding, not a failure of the command: exit 0 once the
 * table is printed; only a server the check cannot talk to exits non-zero.
 */
export const checkCommand: CommandModule<object, any> = {
  command: 'check <pipeline>',
  describe: 'Compatibility check of the server: what works, what does not, which workaround the tool uses',
  builder: (y) =>
    connectionOptions(y)
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file (its connection is used)' })
      .option('write', { type: 'boolean', describe: 'Also create, patch and delete one throw-away user and group' })
      .option('cache', { type: 'boolean', default: true, describe: 'Write the verdicts to <output>/<identifier>.server.json (--no-cache: do not)' })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Table or JSON' })
      .example('$0 check pipelines/export-users-groups.yaml', 'Read-only probes; verdicts cached for export and fulfill')
      .example('$0 check p.yaml --write --format json', 'Also probe writes with a throw-away user and group'),
  handler: async (args) => {
    const argv = args as unknown as CheckArgs;
    const { ctx } = argv;
    const loaded = await loadPipeline(argv.pipeline, { env: ctx.env, cwd: ctx.cwd, settingsFile: argv.settings });
    const { report, spc } = await withConnection(loaded, ctx, argv, async (client, p) => {
      const report = await runCheck(client, { pageSize: p.connection.pageSize, write: Boolean(argv.write), signal: ctx.signal });
      return { report, spc: await client.serviceProviderConfig?.(ctx.signal).catch(() => undefined) };
    });
    ctx.stdout.write(argv.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatCheck(report));
    // Beside the export's files, as the cookie is (else beside the fulfill results): the verdicts belong to this connection's output.
    const file = verdictCacheFor(loaded);
    if (file && argv.cache !== false) {
      await writeVerdictCache(file, toCache(report, spc));
      ctx.logger.info(`check: verdicts cached in ${file}`);
    }
    ctx.setExitCode(EXIT.ok);
  },
};
