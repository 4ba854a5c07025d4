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
  { command: 'export <pipeline>', describe: 'Export entities to one CSV per table', load: () => loadModule('./export.js', 'exportCommand') },
  { command: 'fulfill <pipeline>', describe: 'Apply order CSVs (create/update/delete users, memberships) and write results', load: () => loadModule('./fulfill.js', 'fulfillCommand') },
  { command: 'run <pipeline>', describe: 'Run what the pipeline defines: export, then fulfill', load: () => loadModule('./run.js', 'runCommand') },
  { command: 'validate <files..>', describe: 'Validate pipeline files: every problem as file:line:col CODE message', load: () => loadModule('./validate.js', 'validateCommand') },
  { command: 'discover [pipeline]', describe: 'Read ServiceProviderConfig, ResourceTypes and Schemas; print capabilities and column paths', load: () => loadModule('./discover.js', 'discoverCommand') },
  { command: 'check <pipeline>', describe: 'Compatibility check of the server: what works, what does not, which workaround the tool uses', load: () => loadModule('./check.js', 'checkCommand') },
  { command: 'sandbox', describe: 'Start a local SCIM 2.0 server on 127.0.0.1 with sample or generated data', load: () => loadModule('./sandbox.js', 'sandboxCommand') },
  { command: 'encrypt', describe: 'Encrypt a secret read from stdin for the encrypted settings file', load: () => loadModule('./encrypt.js', 'encryptCommand') },
];

/**
 * The module's command. Where this file itself runs as CommonJS (the test
 * runner loads the sources through tsx's require hook) the module is
 * required: an import() would load a second, ESM copy of every module, with
 * its own error classes and its own registry of secrets to mask.
 */
async function loadModule(spec: string, name: string): Promise<CommandModule<any, any>> {
  const mod = (typeof require === 'function' ? require(spec) : await import(spec)) as Record<string, CommandModule<any, any>>;
  return mod[name]!;
}

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
