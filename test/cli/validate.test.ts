import { expect } from 'chai';
import { mkdtemp, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/io.js';

const shipped = async () => (await readdir('pipelines')).filter((f) => f.endsWith('.yaml')).sort().map((f) => `pipelines/${f}`);

describe('scim-etl validate', () => {
  it('README example: --no-env passes every shipped pipeline on a fresh clone (no credentials), naming unset variables', async () => {
    const files = await shipped();
    const r = await cli(['validate', '--no-env', ...files], { env: {} });
    expect(r.code).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).to.deep.equal(files);
    expect(lines.every((l) => /: ok( \(not set: [\w, ]+\))?$/.test(l))).to.equal(true);
    expect(r.stdout).to.include('pipelines/slack.yaml: ok (not set: SLACK_TOKEN)');
  });

  it('--allow-missing-env is the same as --no-env', async () => {
    const r = await cli(['validate', '--allow-missing-env', 'pipelines/slack.yaml'], { env: {} });
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal('pipelines/slack.yaml: ok (not set: SLACK_TOKEN)\n');
  });

  it('without --no-env an unset variable is a problem (exit 78), and clean files still get their ok line in order', async () => {
    const r = await cli(['validate', 'pipelines/export-users-groups.yaml', 'pipelines/slack.yaml', 'pipelines/fulfill-users.yaml'], { env: {} });
    expect(r.code).to.equal(78);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).to.equal('pipelines/export-users-groups.yaml: ok');
    expect(lines[1]).to.match(/^pipelines\/slack\.yaml:\d+:\d+ ERR_CONFIG_MISSING_VARIABLE environment variable SLACK_TOKEN is not set/);
    expect(lines.at(-1)).to.equal('pipelines/fulfill-users.yaml: ok');
  });

  it('--no-env still reports structural problems with file:line:col and exit 78', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'validate-'));
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'connection:\n  sever: http://x\n  token: ${NOPE}\n');
    const r = await cli(['validate', '--no-env', file], { env: {} });
    expect(r.code).to.equal(78);
    expect(r.stdout).to.match(/broken\.yaml:2:3 ERR_CONFIG_UNKNOWN_KEY/);
    expect(r.stdout).not.to.include('ERR_CONFIG_MISSING_VARIABLE');
  });

  it('escapes control characters in what it prints (a file name holding an ESC sequence reaches the terminal as \\x1b)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'validate-'));
    const good = join(dir, 'ok\u001b[2J.yaml');
    const bad = join(dir, 'bad\u001b[31m.yaml');
    await writeFile(good, 'version: 1\nconnection:\n  identifier: A\n  server: http://x\n');
    await writeFile(bad, 'version: 1\nconnection:\n  identifier: A\n');
    const r = await cli(['validate', good, bad], { env: {} });
    expect(r.code).to.equal(78);
    expect(r.stdout).to.not.include('\u001b');
    expect(r.stdout).to.include('ok\\x1b[2J.yaml: ok').and.include('bad\\x1b[31m.yaml:');
  });
});
