/**
 * --settings names an Identity Manager appsettings.agent.json as the
 * connection from the command line; --private-key decrypts enc: values.
 */
import { expect } from 'chai';
import { generateKeyPairSync, publicEncrypt, constants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('connection options on the command line', () => {
  let sb: Sandbox;
  let dir: string;
  beforeEach(async () => {
    sb = await startSandbox({ data: join(ROOT, 'samples/directory.json'), token: 'settings-token' });
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-settings-'));
    writeFileSync(join(dir, 'p.yaml'), 'version: 1\nconnection:\n  identifier: SCIMExport\nexport:\n  output: out\n  entities:\n    Users: { columns: [id, userName] }\n');
  });
  afterEach(async () => {
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--settings takes the connection from an appsettings.agent.json', async () => {
    writeFileSync(join(dir, 'appsettings.agent.json'), JSON.stringify({ Connections: { SCIMExport: { Server: sb.url, OAuthToken: 'settings-token' } } }));
    const r = await cli(['export', 'p.yaml', '--settings', 'appsettings.agent.json', '--no-progress'], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'out', 'SCIMExport_Users.csv'), 'utf8').split('\r\n')[0]).to.equal('id,userName');
    const v = await cli(['validate', 'p.yaml', '--settings', 'appsettings.agent.json'], { cwd: dir });
    expect(v.code).to.equal(0);
  });

  it('without --settings the same pipeline misses its server (exit 78, nothing sent)', async () => {
    const r = await cli(['export', 'p.yaml'], { cwd: dir });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.match(/ERR_CONFIG_MISSING_KEY .*server/);
    expect(sb.requests).to.have.length(0);
  });

  it('--settings naming a missing file is a configuration error', async () => {
    const r = await cli(['export', 'p.yaml', '--settings', 'nope.json'], { cwd: dir });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.match(/ERR_CONFIG_FILE_NOT_FOUND/);
  });

  it('--private-key decrypts the enc: values of an encrypted settings file', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    writeFileSync(join(dir, 'private.pem'), privateKey);
    const enc = (v: string) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(v)).toString('base64');
    writeFileSync(join(dir, 'appsettings.encrypted.agent.json'), JSON.stringify({ Connections: { SCIMExport: { Server: enc(sb.url), OAuthToken: enc('settings-token') } } }));
    const r = await cli(['export', 'p.yaml', '--settings', 'appsettings.encrypted.agent.json', '--private-key', 'private.pem', '--no-progress'], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    const without = await cli(['export', 'p.yaml', '--settings', 'appsettings.encrypted.agent.json'], { cwd: dir });
    expect(without.code).to.equal(78);
    expect(without.stderr).not.to.include('settings-token');
  });
});
