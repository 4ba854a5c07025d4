import type { CommandModule } from 'yargs';
import { EXIT, ScimEtlError } from '../../errors.js';
import { loadPipeline } from '../../config/load.js';
import { runExport } from '../../export.js';
import { runFulfill } from '../../fulfill.js';
import type { CommandContext } from '../context.js';
import { withConnection } from '../connect.js';
import { connectionOptions, type ConnectionArgs } from '../connection-options.js';

interface RunArgs extends ConnectionArgs {
  ctx: CommandContext;
  pipeline: string;
  full?: boolean;
  force?: boolean;
}

/**
 * Export, then fulfill, with one connection (one token, one keep-alive pool).
 * A failed export stops the run before fulfill: a scheduler sees exit 1 and
 * nothing is written to the server on top of a half-read picture.
 */
export const runCommand: CommandModule<object, any> = {
  command: 'run <pipeline>',
  describe: 'Run what the pipeline defines: export, then fulfill',
  builder: (y) =>
    connectionOptions(y)
      .example('$0 run pipelines/export-users-groups.yaml', 'Export, then fulfill, as the pipeline defines')
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' })
      .option('full', { type: 'boolean', describe: 'Export: ignore the incremental cookie and reset it' })
      .option('force', { type: 'boolean', describe: 'Fulfill: run even when maxDeletes/maxChanges would stop it' }),
  handler: async (args) => {
    const argv = args as unknown as RunArgs;
    const { ctx } = argv;
    const loaded = await loadPipeline(argv.pipeline, { env: ctx.env, cwd: ctx.cwd, settingsFile: argv.settings });
    if (!loaded.export && !loaded.fulfill) {
      throw new ScimEtlError('ERR_CONFIG_NOTHING_TO_RUN', `${argv.pipeline}: the pipeline has neither an export nor a fulfill section`, { file: argv.pipeline }, { category: 'config' });
    }
    await withConnection(loaded, ctx, argv, async (client, pipeline) => {
      if (pipeline.export) {
        const result = await runExport(pipeline, {
          client,
          full: argv.full,
          signal: ctx.signal,
          logger: ctx.logger,
          progress: { stream: ctx.stderr, enabled: ctx.progress, format: ctx.logger.format },
        });
        if (result.failed > 0) {
          ctx.logger.emit('error', 'run.export_failed', { failed: result.failed }, `export failed for ${result.failed} table(s); fulfill not started`);
          ctx.setExitCode(EXIT.failure);
          return;
        }
      }
      if (pipeline.fulfill) {
        const report = await runFulfill(pipeline, {
          client,
          force: Boolean(argv.force),
          logger: ctx.logger,
          stdout: ctx.stdout,
          signal: ctx.signal,
          cwd: ctx.cwd,
          progress: { stream: ctx.stderr, enabled: ctx.progress, format: ctx.logger.format },
        });
        if (report.fatal) ctx.logger.error(report.fatal.format());
        ctx.setExitCode(report.exitCode);
        return;
      }
      ctx.setExitCode(EXIT.ok);
    });
  },
};
