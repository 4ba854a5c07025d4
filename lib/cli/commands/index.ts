/**
 * Every command of SPEC §2, one module each, loaded only when it runs: the
 * parser knows each command by its name and description (all `--help` needs),
 * and imports the module (and with it got, the sandbox, the YAML reader…) in
 * the builder, which yargs calls only for the command given. `scim-etl --help`
 * thus starts without loading what no command of the call needs.
 * test/cli/lazy-commands.test.ts checks that the names and descriptions here
 * are those of the modules.
 */
import type { Argv, CommandModule } from 'yargs';

export interface LazyCommand {
  command: string;
  describe: string;
  load(): Promise<CommandModule<any, any>>;
}

export const lazyCommands: LazyCommand[] = [
  { command: 'export <pipeline>', describe: 'Export entities to one CSV per table', load: () => import('./export.js').then((m) => m.exportCommand) },
  { command: 'fulfill <pipeline>', describe: 'Apply order CSVs (create/update/delete users, memberships) and write results', load: () => import('./fulfill.js').then((m) => m.fulfillCommand) },
  { command: 'run <pipeline>', describe: 'Run what the pipeline defines: export, then fulfill', load: () => import('./run.js').then((m) => m.runCommand) },
  { command: 'validate <files..>', describe: 'Validate pipeline files: every problem as file:line:col CODE message', load: () => import('./validate.js').then((m) => m.validateCommand) },
  { command: 'discover [pipeline]', describe: 'Read ServiceProviderConfig, ResourceTypes and Schemas; print capabilities and column paths', load: () => import('./discover.js').then((m) => m.discoverCommand) },
  { command: 'check <pipeline>', describe: 'Compatibility check of the server: what works, what does not, which workaround the tool uses', load: () => import('./check.js').then((m) => m.checkCommand) },
  { command: 'sandbox', describe: 'Start a local SCIM 2.0 server on 127.0.0.1 with sample or generated data', load: () => import('./sandbox.js').then((m) => m.sandboxCommand) },
  { command: 'encrypt', describe: 'Encrypt a secret read from stdin for the encrypted settings file', load: () => import('./encrypt.js').then((m) => m.encryptCommand) },
];

/** A command whose module is imported when yargs builds it (async builders are yargs 17's own). */
function lazy(c: LazyCommand): CommandModule<any, any> {
  let loaded: Promise<CommandModule<any, any>> | undefined;
  const load = () => (loaded ??= c.load());
  return {
    command: c.command,
    describe: c.describe,
    builder: async (y: Argv) => {
      const builder = (await load()).builder;
      return (typeof builder === 'function' ? await builder(y) : builder ? y.options(builder) : y) as Argv;
    },
    handler: async (argv) => (await load()).handler(argv),
  };
}

export const commands: CommandModule<any, any>[] = lazyCommands.map(lazy);
