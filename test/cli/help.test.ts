import { expect } from 'chai';
import { run } from '../../lib/cli/main.js';
import { sink } from '../helpers/io.js';

/** Runs the CLI with a stdout that reports a terminal width, as a TTY does. */
async function at(columns: number, argv: string[]) {
  const stdout = Object.assign(sink(), { columns });
  const stderr = sink();
  const code = await run({ argv, stdout, stderr, env: {} });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('help and completion', () => {
  it('wraps help to the terminal width at word boundaries, never inside a word', async () => {
    const r = await at(60, ['fulfill', '--help']);
    expect(r.code).to.equal(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (const l of lines) expect(l.length, l).to.be.at.most(60);
    // Words the ESM build used to split ("a\nnd", "SCIM_ET\nL_LOG_LEVEL").
    expect(r.stdout).to.match(/memberships\)\s+and write results/);
    expect(r.stdout).to.include('SCIM_ETL_LOG_LEVEL=debug)');
    expect(r.stdout).to.include('appsettings.agent.json');
  });

  it('scim-etl completion prints yargs\' bash/zsh completion script', async () => {
    const r = await at(80, ['completion']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include('###-begin-scim-etl-completions-###');
    expect(r.stdout).to.include('complete -o bashdefault -o default -F _scim-etl_yargs_completions scim-etl');
  });

  for (const command of ['export', 'fulfill', 'run', 'validate', 'sandbox', 'encrypt', 'discover', 'check']) {
    it(`${command} --help shows an Examples block with a scim-etl ${command} line`, async () => {
      const r = await at(100, [command, '--help']);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.include('Examples:');
      expect(r.stdout.slice(r.stdout.indexOf("Examples:"))).to.include(`scim-etl ${command} `);
    });
  }
});
