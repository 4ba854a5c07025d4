import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { EXIT, ScimEtlError } from '../../errors.js';
import { loadPipeline } from '../../config/load.js';
import { planTables, runExport, selectTables } from '../../export.js';
import type { CommandContext } from '../context.js';
import { withConnection } from '../connect.js';
import { connectionOptions, type ConnectionArgs } from '../connection-options.js';

interface ExportArgs extends ConnectionArgs {
  ctx: CommandContext;
  pipeline: string;
  entity?: string[];
  output?: string;
  full?: boolean;
  stdout?: boolean;
  format?: 'csv' | 'ndjson';
}

export const exportCommand: CommandModule<object, any> = {
  command: 'export <pipeline>',
  describe: 'Export entities to one CSV per table',
  builder: (y) =>
    connectionOptions(y)
      .example('$0 export pipelines/export-users-groups.yaml', 'Every table of the pipeline as CSV in its output directory')
      .example('$0 export p.yaml --entity Users --stdout --format ndjson | jq .', 'One table as typed NDJSON on stdout')
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' })
      .option('entity', { type: 'string', array: true, describe: 'Only these entities or tables, e.g. Users, members_Groups (repeatable)' })
      .option('output', { type: 'string', describe: 'Output directory (overrides the pipeline)' })
      .option('full', { type: 'boolean', describe: 'Ignore the incremental cookie and reset it' })
      .option('stdout', { type: 'boolean', describe: 'Stream one table (--entity X) to stdout' })
      .option('format', { choices: ['csv', 'ndjson'] as const, describe: 'Output format' }),
  handler: async (args) => {
    const argv = args as unknown as ExportArgs;
    const { ctx } = argv;
    const loaded = await loadPipeline(argv.pipeline, { env: ctx.env, cwd: ctx.cwd, settingsFile: argv.settings });
    if (!loaded.export) {
      throw new ScimEtlError('ERR_CONFIG_NO_EXPORT', `${argv.pipeline}: the pipeline has no export section`, { file: argv.pipeline }, { category: 'config' });
    }
    // Option problems are configuration problems: found before anything is sent.
    selectTables(planTables(loaded), argv.entity, Boolean(argv.stdout));
    await withConnection(loaded, ctx, argv, async (client, pipeline) => {
      const result = await runExport(pipeline, {
        client,
        entities: argv.entity,
        output: argv.output === undefined ? undefined : resolve(ctx.cwd, argv.output),
        stdout: argv.stdout ? ctx.stdout : undefined,
        format: argv.format,
        full: argv.full,
        signal: ctx.signal,
        logger: ctx.logger,
        progress: { stream: ctx.stderr, enabled: ctx.progress, format: ctx.logger.format },
      });
      ctx.setExitCode(result.failed > 0 ? EXIT.failure : EXIT.ok);
    });
  },
};
