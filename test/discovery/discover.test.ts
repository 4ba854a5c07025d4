/**
 * `scim-etl discover` against the sandbox in each dialect: the report (text
 * and JSON) matches its golden file, and the starter pipeline it writes
 * validates and exports every resource the sandbox holds, as written.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { startHttp, sendJson } from '../helpers/http-server.js';
import { cli } from '../helpers/io.js';
import { expectGolden, portless } from './golden.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'disco-token';

const DIALECTS: Array<{ dialect: string; data?: string }> = [
  { dialect: 'RFC', data: 'samples/directory.json' },
  { dialect: 'Salesforce', data: 'samples/directory.salesforce.json' },
  { dialect: 'Slack', data: 'samples/directory.json' },
  { dialect: 'CyberArk', data: 'samples/directory.cyberark.json' },
];

describe('scim-etl discover', () => {
  let sb: Sandbox | undefined;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-discover-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(opts: SandboxOptions) {
    sb = await startSandbox({ token: TOKEN, ...opts });
    return sb;
  }

  for (const { dialect, data } of DIALECTS) {
    it(`${dialect}: report, JSON report and a starter pipeline that validates and exports`, async () => {
      const s = await start({ dialect, data: data && join(ROOT, data) });
      const env = { SCIM_TOKEN: TOKEN };
      const starter = join(dir, 'starter.yaml');
      const r = await cli(['discover', '--server', s.url, '--scim-syntax', dialect, '--write', starter], { env });
      expect(r.code, r.stderr).to.equal(0);
      expectGolden(`discover.${dialect}.txt`, portless(r.stdout, s.url));
      const j = await cli(['discover', '--server', s.url, '--scim-syntax', dialect, '--format', 'json'], { env });
      expect(j.code, j.stderr).to.equal(0);
      expectGolden(`discover.${dialect}.json`, portless(j.stdout, s.url));

      const text = readFileSync(starter, 'utf8');
      expect(text).to.include('oAuthToken: ${SCIM_TOKEN}');
      expect(text).not.to.include(TOKEN);
      expectGolden(`starter.${dialect}.yaml`, portless(text, s.url));

      const v = await cli(['validate', starter], { env });
      expect(v.stdout + v.stderr).to.include('ok');
      expect(v.code).to.equal(0);
      const out = join(dir, 'out');
      const e = await cli(['export', starter, '--output', out, '--no-progress'], { env });
      expect(e.code, e.stderr).to.equal(0);
      const users = parse(readFileSync(join(out, 'Discovered_Users.csv'), 'utf8')) as string[][];
      expect(users.length - 1).to.equal(s.store.userCount).and.to.be.greaterThan(0);
      expect(readdirSync(out)).to.include('Discovered_members_Groups.csv');
    });
  }

  it('uses the connection of a pipeline file and keeps its credentials as references', async () => {
    const s = await start({ dialect: 'Slack', data: join(ROOT, 'samples/directory.json'), token: 'xoxp-slack-test' });
    const starter = join(dir, 'starter.yaml');
    const r = await cli(['discover', join(ROOT, 'pipelines/slack.yaml'), '--write', starter], { env: { SLACK_SCIM_SERVER: s.url, SLACK_TOKEN: 'xoxp-slack-test' } });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User:type');
    const text = readFileSync(starter, 'utf8');
    expect(text).to.include('identifier: "SlackExport"').and.include('oAuthToken: ${SCIM_TOKEN}').and.include('scimSyntax: "Slack"');
    expect(text).not.to.include('xoxp-slack-test');
  });

  it('says which documents are missing and goes on with the built-in schemas', async () => {
    const spc = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'], patch: { supported: false }, bulk: { supported: false }, filter: { supported: true, maxResults: 50 } };
    const server = await startHttp((req, res) => {
      if (req.url?.startsWith('/v2/ServiceProviderConfig')) return sendJson(res, 200, spc);
      return sendJson(res, 404, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'not found' });
    });
    try {
      const starter = join(dir, 'starter.yaml');
      const r = await cli(['discover', '--server', server.url, '--write', starter], { env: {} });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include('ResourceTypes: missing (/ResourceTypes answered 404); assuming Users and Groups');
      expect(r.stdout).to.include('Schemas: missing (/Schemas answered 404); using the RFC 7643 schemas');
      expect(r.stdout).to.match(/patch +not supported/).and.match(/filter +supported, maxResults 50/);
      const text = readFileSync(starter, 'utf8');
      expect(text).to.include('pageSize: 50');
      expect((await cli(['validate', starter], { env: {} })).code).to.equal(0);
    } finally {
      await server.close();
    }
  });

  it('reports a missing ServiceProviderConfig as unknown capabilities', async () => {
    const server = await startHttp((_req, res) => sendJson(res, 404, { status: '404' }));
    try {
      const r = await cli(['discover', '--server', server.url, '--format', 'json'], { env: {} });
      expect(r.code, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout);
      expect(report.capabilities).to.equal(undefined);
      expect(report.documents.serviceProviderConfig).to.match(/^missing/);
      expect(report.resources.map((x: { endpoint: string }) => x.endpoint)).to.deep.equal(['Users', 'Groups']);
    } finally {
      await server.close();
    }
  });

  it('refuses neither or both of a pipeline and --server with a coded error', async () => {
    const r = await cli(['discover'], { env: {} });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.include('ERR_DISCOVER_SERVER');
    const bad = await cli(['discover', '--server', 'ftp://x'], { env: {} });
    expect(bad.code).to.equal(78);
    expect(bad.stderr).to.include('ERR_DISCOVER_SERVER');
  });
});
