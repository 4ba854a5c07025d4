import type { CommandModule } from 'yargs';
import { EXIT, formatProblem, type Problem } from '../../errors.js';
import { redact } from '../../redact.js';
import { escapeControls } from '../../terminal-safe.js';
import { checkPipelineFile } from '../../config/load.js';
import type { CommandContext } from '../context.js';

type OnlineModules = typeof import('../connect.js') & typeof import('../../discovery/read.js') & typeof import('../../discovery/schema-check.js');

/**
 * What only `--online` needs (the SCIM client, hence got), loaded when it is
 * asked for so that `validate` starts fast; required where this file runs as
 * CommonJS (tests through tsx), for the reason given in commands/index.ts.
 */
async function onlineModules(): Promise<OnlineModules> {
  if (typeof require === 'function') return { ...require('../connect.js'), ...require('../../discovery/read.js'), ...require('../../discovery/schema-check.js') } as OnlineModules;
  const [connect, read, check] = await Promise.all([import('../connect.js'), import('../../discovery/read.js'), import('../../discovery/schema-check.js')]);
  return { ...connect, ...read, ...check };
}

/** The only problem `--no-env` turns into a note: everything else is structure. */
const MISSING_VARIABLE = 'ERR_CONFIG_MISSING_VARIABLE';

/**
 * `scim-etl validate <files..>`: one answer per file, in the order named:
 * `<file>: ok` or each of its problems as `file:line:col CODE message` (the
 * lint format editors and CI parse); exit 78 if any file has a problem.
 * Variables are checked against the real environment unless `--no-env`, which
 * checks structure alone and reports unset variables as notes (a fresh clone
 * has no credentials). Nothing is sent anywhere — except with `--online`:
 * then a file that is valid is also checked against the server's
 * /ResourceTypes and /Schemas (GETs only): unknown column paths, columns never
 * returned, order columns that write readOnly attributes.
 */
export const validateCommand: CommandModule<object, any> = {
  command: 'validate <files..>',
  describe: 'Validate pipeline files: every problem as file:line:col CODE message',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true })
      .option('env', { type: 'boolean', default: true, describe: 'Check ${VAR} references against the environment; --no-env checks structure only, unset variables as notes' })
      .option('allow-missing-env', { type: 'boolean', describe: 'Same as --no-env' })
      .option('settings', { type: 'string', describe: 'An Identity Manager appsettings.agent.json taken as the connection of every file' })
      .option('online', { type: 'boolean', describe: "Also check columns against the server's /ResourceTypes and /Schemas (sends GETs): unknown paths, readOnly attributes in order files" })
      .option('private-key', { type: 'string', describe: 'With --online: RSA private key (PEM) that decrypts enc: values' })
      .example('$0 validate pipelines/*.yaml', 'Check every pipeline against the current environment')
      .example('$0 validate --no-env pipelines/*.yaml', 'Check structure only, e.g. in CI or on a fresh clone')
      .example('$0 validate --online pipelines/export-users-groups.yaml', "Also check every column against the server's schemas"),
  handler: async (argv) => {
    const ctx = argv.ctx as CommandContext;
    const files = argv.files as string[];
    const allowMissing = argv.env === false || argv.allowMissingEnv === true;
    let failed = false;
    for (const file of files) {
      const checked = await checkPipelineFile(file, ctx.env, ctx.cwd, { settingsFile: argv.settings as string | undefined });
      const { pipeline, locs } = checked;
      let problems = checked.problems;
      if (argv.online === true && pipeline && locs && problems.length === 0) {
        const connArgs = { settings: argv.settings as string | undefined, privateKey: argv.privateKey as string | undefined };
        const { withConnection, readDiscovery, schemaProblems } = await onlineModules();
        problems = await withConnection(pipeline, ctx, connArgs, async (client) => schemaProblems(pipeline, locs, await readDiscovery(client, ctx.signal), file));
      }
      const notes: Problem[] = allowMissing ? problems.filter((p) => p.code === MISSING_VARIABLE) : [];
      const errors = allowMissing ? problems.filter((p) => p.code !== MISSING_VARIABLE) : problems;
      if (errors.length === 0) {
        const unset = [...new Set(notes.map((p) => /variable (\w+)/.exec(p.message)?.[1]).filter(Boolean))];
        ctx.stdout.write(escapeControls(`${file}: ok${unset.length ? ` (not set: ${unset.join(', ')})` : ''}`) + '\n');
        continue;
      }
      failed = true;
      // A problem quotes the file's own text: its control characters must not reach the terminal raw.
      for (const p of errors) ctx.stdout.write(escapeControls(redact(formatProblem(p))) + '\n');
    }
    ctx.setExitCode(failed ? EXIT.config : EXIT.ok);
  },
};
