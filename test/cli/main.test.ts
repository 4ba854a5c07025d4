import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { cli } from '../helpers/io.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('CLI', () => {
  it('lists every command of the contract in --help', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).to.equal(0);
    for (const c of ['export', 'fulfill', 'run', 'validate', 'discover', 'sandbox', 'encrypt']) {
      expect(stdout).to.match(new RegExp(`scim-etl ${c}\\b`));
    }
    for (const o of ['--verbose', '--quiet', '--log-format', '--progress']) expect(stdout).to.include(o);
  });

  it('answers an unknown command with a usage error, exit 78, no stack trace', async () => {
    const { code, stderr } = await cli(['exprot', 'x.yaml']);
    expect(code).to.equal(78);
    expect(stderr).to.match(/Did you mean export|Unknown argument/);
    expect(stderr).not.to.match(/\bat .*\.ts:\d+/);
  });

  it('requires a command', async () => {
    const { code, stderr } = await cli([]);
    expect(code).to.equal(78);
    expect(stderr).to.match(/Name a command/);
  });

  it('rejects an invalid --log-format value', async () => {
    const { code, stderr } = await cli(['validate', 'x.yaml', '--log-format', 'xml']);
    expect(code).to.equal(78);
    expect(stderr).to.match(/log-format/);
  });

  it('runs as a real process through bin/scim-etl and sets the exit code', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bin/scim-etl.ts'), '--version'], { encoding: 'utf8', cwd: root });
    expect(r.status).to.equal(0);
    expect(r.stdout.trim()).to.match(/^\d+\.\d+\.\d+$/);
  });
});
