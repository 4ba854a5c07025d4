import type { CommandModule } from 'yargs';
import type { CommandContext } from '../context.js';
import { withConnection } from '../connect.js';
import { connectionOptions, type ConnectionArgs } from '../connection-options.js';
import { loadPipeline } from '../../config/load.js';
import { registerSecret } from '../../redact.js';
import { runFulfill } from '../../fulfill.js';

interface FulfillArgs extends ConnectionArgs {
  ctx: CommandContext;
  pipeline: string;
  orders?: string[];
  results?: string;
  dryRun?: boolean;
  force?: boolean;
  restart?: boolean;
}

export const fulfillCommand: CommandModule<object, any> = {
  command: 'fulfill <pipeline>',
  describe: 'Apply order CSVs (create/update/delete users, memberships) and write results',
  builder: (y) =>
    connectionOptions(y)
      .example('$0 fulfill pipelines/fulfill-users.yaml --dry-run', 'Print the planned requests, send nothing')
      .example('$0 fulfill pipelines/fulfill-users.yaml --log-format json', 'Apply the orders; JSON log lines on stderr')
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' })
      .option('orders', { type: 'string', array: true, describe: 'Order directory or files (overrides the pipeline)' })
      .option('results', { type: 'string', describe: 'Results directory (overrides the pipeline)' })
      .option('dry-run', { type: 'boolean', describe: 'Print the planned requests as NDJSON and send nothing' })
      .option('force', { type: 'boolean', describe: 'Run even when maxDeletes/maxChanges would stop it' })
      .option('restart', { type: 'boolean', describe: 'Ignore and reset the journal of earlier runs: send every order line again' }),
  handler: async (args) => {
    const argv = args as unknown as FulfillArgs;
    const { ctx } = argv;
    const loaded = await loadPipeline(argv.pipeline, { env: ctx.env, cwd: ctx.cwd, settingsFile: argv.settings });
    const common = {
      ...(argv.orders?.length ? { orders: argv.orders } : {}),
      ...(argv.results ? { results: argv.results } : {}),
      force: Boolean(argv.force),
      restart: Boolean(argv.restart),
      logger: ctx.logger,
      stdout: ctx.stdout,
      signal: ctx.signal,
      cwd: ctx.cwd,
    };
    if (argv.dryRun) {
      // A dry run sends nothing at all (no discovery, no vault lookups); the
      // secrets written in the pipeline are still masked wherever they show.
      const c = loaded.connection;
      for (const s of [c.oAuthToken, c.password, c.applicationKey]) registerSecret(s);
      const report = await runFulfill(loaded, { ...common, dryRun: true });
      ctx.setExitCode(report.exitCode);
      return;
    }
    await withConnection(loaded, ctx, argv, async (client, pipeline) => {
      const report = await runFulfill(pipeline, { ...common, client, progress: { stream: ctx.stderr, enabled: ctx.progress, format: ctx.logger.format } });
      if (report.fatal) ctx.logger.error(report.fatal.format());
      ctx.setExitCode(report.exitCode);
    });
  },
};
