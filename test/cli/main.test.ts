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

  it('answers an unknown command with a coded usage error, exit 64 (EX_USAGE), no stack trace', async () => {
    const { code, stderr } = await cli(['exprot', 'x.yaml']);
    expect(code).to.equal(64);
    expect(stderr).to.match(/^error: ERR_USAGE /);
    expect(stderr).to.match(/Did you mean export|Unknown argument/);
    expect(stderr).not.to.match(/\bat .*\.ts:\d+/);
  });

  it('requires a command (usage error, exit 64)', async () => {
    const { code, stderr } = await cli([]);
    expect(code).to.equal(64);
    expect(stderr).to.match(/ERR_USAGE Name a command/);
  });

  it('rejects an invalid --log-format value (usage error, exit 64)', async () => {
    const { code, stderr } = await cli(['validate', 'x.yaml', '--log-format', 'xml']);
    expect(code).to.equal(64);
    expect(stderr).to.match(/ERR_USAGE [\s\S]*log-format/);
  });

  it('runs as a real process through bin/scim-etl and sets the exit code', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bin/scim-etl.ts'), '--version'], { encoding: 'utf8', cwd: root });
    expect(r.status).to.equal(0);
    expect(r.stdout.trim()).to.match(/^\d+\.\d+\.\d+$/);
  });

  it('refuses --quiet with --verbose as a usage error (exit 64)', async () => {
    const { code, stderr } = await cli(['validate', 'pipelines/fulfill-users.yaml', '--quiet', '--verbose']);
    expect(code).to.equal(64);
    expect(stderr).to.match(/ERR_USAGE --quiet and --verbose contradict/);
  });

  it('prints the version with -V', async () => {
    const { code, stdout } = await cli(['-V']);
    expect(code).to.equal(0);
    expect(stdout.trim()).to.match(/^\d+\.\d+\.\d+$/);
  });

  it('takes global options from SCIM_ETL_LOG_FORMAT / SCIM_ETL_LOG_LEVEL, a bad value a usage error', async () => {
    const json = await cli(['exprot'], { env: { SCIM_ETL_LOG_FORMAT: 'json' } });
    expect(json.code).to.equal(64);
    expect(JSON.parse(json.stderr.trim().split('\n')[0]!)).to.include({ level: 'error', code: 'ERR_USAGE' });
    const bad = await cli(['validate', 'pipelines/fulfill-users.yaml'], { env: { SCIM_ETL_LOG_LEVEL: 'loud' } });
    expect(bad.code).to.equal(64);
    expect(bad.stderr).to.match(/ERR_USAGE SCIM_ETL_LOG_LEVEL must be error, info or debug/);
    const quietAndFlag = await cli(['validate', 'pipelines/fulfill-users.yaml', '--verbose'], { env: { SCIM_ETL_LOG_LEVEL: 'error' } });
    expect(quietAndFlag.code).to.equal(0);
  });
});
