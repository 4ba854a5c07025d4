/**
 * The shipped dialect pipelines, run through the real CLI against the sandbox
 * serving that dialect (its quirks, sample data and token endpoint), with only
 * the server and token URLs pointed at the sandbox through their variables.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const ROOT = resolve(import.meta.dirname, '../..');

function table(dir: string, name: string): string[][] {
  return parse(readFileSync(join(dir, name), 'utf8')) as string[][];
}

describe('shipped dialect pipelines against the sandbox', () => {
  let sb: Sandbox | undefined;
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'scim-etl-dialect-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    rmSync(out, { recursive: true, force: true });
  });

  async function exportWith(pipeline: string, opts: SandboxOptions, env: (url: string) => Record<string, string>) {
    sb = await startSandbox(opts);
    const r = await cli(['export', join(ROOT, 'pipelines', pipeline), '--output', out, '--no-progress'], { env: env(sb.url) });
    expect(r.code, r.stderr).to.equal(0);
    return { files: readdirSync(out).sort(), stderr: r.stderr };
  }

  it('Slack: bearer token, Slack paging, guest extension columns', async () => {
    const { files } = await exportWith('slack.yaml', { dialect: 'Slack', data: join(ROOT, 'samples/directory.json'), token: 'xoxp-slack-test' }, (url) => ({
      SLACK_SCIM_SERVER: url,
      SLACK_TOKEN: 'xoxp-slack-test',
    }));
    expect(files).to.deep.equal(['SlackExport_Groups.csv', 'SlackExport_Users.csv', 'SlackExport_members_Groups.csv']);
    const users = table(out, 'SlackExport_Users.csv');
    expect(users[0]).to.include('urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User:type');
    expect(users.length - 1).to.equal(sb!.store.userCount);
    const links = table(out, 'SlackExport_members_Groups.csv');
    expect(links[0]).to.deep.equal(['value', 'MemberId']);
    expect(links.length).to.be.greaterThan(1);
  });

  it('Salesforce: password grant at oAuth2Url, plural discovery, Entitlements with members', async () => {
    const oauth = { clientId: 'sf-consumer-key', clientSecret: 'sf-consumer-secret', login: 'admin@example.com', password: 'pw+securitytoken' };
    const { files } = await exportWith('salesforce.yaml', { dialect: 'Salesforce', oauth, data: join(ROOT, 'samples/directory.salesforce.json') }, (url) => ({
      SF_SERVER: url,
      SF_TOKEN_URL: `${url}/oauth2/token`,
      SF_CLIENT_ID: oauth.clientId,
      SF_CLIENT_SECRET: oauth.clientSecret,
      SF_LOGIN: oauth.login,
      SF_PASSWORD: oauth.password,
    }));
    expect(files).to.include.members(['SalesforceExport_Users.csv', 'SalesforceExport_Entitlements.csv', 'SalesforceExport_members_Entitlements.csv', 'SalesforceExport_members_Groups.csv']);
    const ents = table(out, 'SalesforceExport_Entitlements.csv');
    expect(ents[0]).to.deep.equal(['id', 'displayName', 'type']);
    expect(ents.slice(1).map((r) => r[0]!.slice(0, 3)).sort()).to.include.members(['00e', '0PS']);
    expect(table(out, 'SalesforceExport_members_Entitlements.csv').length).to.be.greaterThan(1);
    expect(sb!.tokensIssued).to.be.greaterThan(0);
  });

  it('Salesforce fulfill: wrapped member PATCH, deactivating DELETE, no Bulk', async () => {
    const oauth = { clientId: 'sf-consumer-key', clientSecret: 'sf-consumer-secret', login: 'admin@example.com', password: 'pw+securitytoken' };
    sb = await startSandbox({ dialect: 'Salesforce', oauth, data: join(ROOT, 'samples/directory.salesforce.json') });
    const orders = join(out, 'orders');
    mkdirSync(orders);
    writeFileSync(join(orders, 'SalesforceExport_Users.csv'), 'command,id,title\r\nupdate,0055g00000A1b2fAAB,Integration bot\r\ndelete,0055g00000A1b2eAAB,\r\n');
    writeFileSync(join(orders, 'SalesforceExport_members_Groups.csv'), 'command,value,MemberId\r\nadd,00G5g000004QwErEAK,0055g00000A1b2fAAB\r\nremove,00G5g000004QwErEAK,0055g00000A1b2dAAB\r\n');
    const env = { SF_SERVER: sb.url, SF_TOKEN_URL: `${sb.url}/oauth2/token`, SF_CLIENT_ID: oauth.clientId, SF_CLIENT_SECRET: oauth.clientSecret, SF_LOGIN: oauth.login, SF_PASSWORD: oauth.password };
    const r = await cli(['fulfill', join(ROOT, 'pipelines/salesforce.yaml'), '--orders', orders, '--results', join(out, 'results')], { env });
    expect(r.code, r.stderr + readFileSync(join(out, 'results', 'SalesforceExport_members_Groups.csv'), 'utf8')).to.equal(0);
    expect(sb.store.memberIds('00G5g000004QwErEAK')).to.have.members(['0055g00000A1b2eAAB', '0055g00000A1b2fAAB']);
    expect(sb.store.get('Users', '0055g00000A1b2eAAB')).to.deep.include({ active: false }); // Salesforce deactivates
    expect(sb.store.get('Users', '0055g00000A1b2fAAB')).to.deep.include({ title: 'Integration bot' });
    expect(sb.requests.some((q) => q.path.endsWith('/Bulk'))).to.equal(false);
  });

  it('CyberArk: token at /oauth2/token/<applicationId>, Containers with their privileged data', async () => {
    const oauth = { clientId: 'scim', clientSecret: 'unused-secret', login: 'svc-scim@tenant', password: 'svc-password' };
    const { files } = await exportWith('cyberark.yaml', { dialect: 'CyberArk', oauth, data: join(ROOT, 'samples/directory.cyberark.json') }, (url) => ({
      CYBERARK_SERVER: `${url}/scim`,
      CYBERARK_APP_ID: 'scim',
      CYBERARK_LOGIN: oauth.login,
      CYBERARK_PASSWORD: oauth.password,
    }));
    expect(files).to.include.members(['CyberArkExport_Containers.csv', 'CyberArkExport_privilegedData_Containers.csv', 'CyberArkExport_PrivilegedData.csv', 'CyberArkExport_Users.csv']);
    const links = table(out, 'CyberArkExport_privilegedData_Containers.csv');
    expect(links[0]).to.deep.equal(['value', 'MemberId']);
    expect(links.length).to.be.greaterThan(1);
    const users = table(out, 'CyberArkExport_Users.csv');
    expect(users[0]).to.include('urn:ietf:params:scim:schemas:cyberark:1.0:User:ldapFullDN');
    expect(users.slice(1).some((r) => r[3] !== '')).to.equal(true);
  });
});
