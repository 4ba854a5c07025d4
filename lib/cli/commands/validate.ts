import type { CommandModule } from 'yargs';
import { EXIT, formatProblem } from '../../errors.js';
import { redact } from '../../redact.js';
import { checkPipelineFile } from '../../config/load.js';
import type { CommandContext } from '../context.js';

/**
 * `scim-etl validate <files..>`: every problem of every file on stdout as
 * `file:line:col CODE message` (the lint format editors and CI parse), exit 78
 * if there is any; otherwise `<file>: ok` per file, exit 0. Variables are
 * checked against the real environment; nothing is sent anywhere.
 */
export const validateCommand: CommandModule<object, any> = {
  command: 'validate <files..>',
  describe: 'Validate pipeline files: every problem as file:line:col CODE message',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true })
      .option('settings', { type: 'string', describe: 'An Identity Manager appsettings.agent.json taken as the connection of every file' }),
  handler: async (argv) => {
    const ctx = argv.ctx as CommandContext;
    const files = argv.files as string[];
    let failed = false;
    const ok: string[] = [];
    for (const file of files) {
      const { problems } = await checkPipelineFile(file, ctx.env, ctx.cwd, { settingsFile: argv.settings as string | undefined });
      if (problems.length === 0) ok.push(file);
      for (const p of problems) {
        failed = true;
        ctx.stdout.write(redact(formatProblem(p)) + '\n');
      }
    }
    if (failed) {
      ctx.setExitCode(EXIT.config);
      return;
    }
    for (const file of ok) ctx.stdout.write(`${file}: ok\n`);
    ctx.setExitCode(EXIT.ok);
  },
};
