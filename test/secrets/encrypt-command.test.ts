import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Readable } from 'node:stream';
import { cli } from '../helpers/io.js';
import { encryptFromInput, readSecretInput } from '../../lib/cli/commands/encrypt.js';
import { decryptValue, loadPrivateKey } from '../../lib/config/secrets/index.js';
import { rsaKeys, rejection } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('scim-etl encrypt', () => {
  const keys = rsaKeys();

  it('encrypts stdin without its trailing newline; the private key decrypts it', async () => {
    const value = await encryptFromInput(Readable.from([Buffer.from('s3cret-'), Buffer.from('value\n')]), keys.publicKey);
    expect(value).to.match(/^enc:/);
    expect(decryptValue(loadPrivateKey(keys.privateKey), value, 'x')).to.equal('s3cret-value');
  });

  it('keeps inner newlines and spaces', async () => {
    expect(await readSecretInput(Readable.from(['  a b\nc \r\n']))).to.equal('  a b\nc ');
  });

  it('refuses empty input with ERR_OPTION_EMPTY_INPUT', async () => {
    const err = await rejection(readSecretInput(Readable.from(['\n'])));
    expect(err.code).to.equal('ERR_OPTION_EMPTY_INPUT');
    expect(err.exitCode).to.equal(78);
  });

  it('without --key exits 78 with a clear message', async () => {
    const { code, stderr } = await cli(['encrypt']);
    expect(code).to.equal(78);
    expect(stderr).to.include('ERR_OPTION_MISSING').and.include('--key');
  });

  it('a missing key file exits 78', async () => {
    const { code, stderr } = await cli(['encrypt', '--key', path.join(keys.dir, 'missing.pem')]);
    expect(code).to.equal(78);
    expect(stderr).to.include('ERR_SECRETS_KEY').and.include('missing.pem');
  });

  it('works end to end as a process: stdin in, enc: on stdout, nothing on stderr', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bin/scim-etl.ts'), 'encrypt', '--key', keys.publicKey], {
      input: 'from-the-pipe\n',
      encoding: 'utf8',
      cwd: root,
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    const out = r.stdout.trim();
    expect(out).to.match(/^enc:[A-Za-z0-9+/]+=*$/);
    expect(decryptValue(loadPrivateKey(keys.privateKey), out, 'x')).to.equal('from-the-pipe');
  });
});
