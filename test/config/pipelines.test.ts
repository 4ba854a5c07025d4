/** Every shipped pipeline is valid and says what its documentation promises. */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '../../lib/config/load.js';
import type { Pipeline } from '../../lib/config/types.js';
import { cli } from '../helpers/io.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const files = readdirSync(path.join(root, 'pipelines'))
  .filter((n) => n.endsWith('.yaml'))
  .sort()
  .map((n) => `pipelines/${n}`);

/** The variables the examples need and have no default for. */
const env = {
  SF_CLIENT_ID: 'consumer-key',
  SF_CLIENT_SECRET: 'consumer-secret',
  SF_LOGIN: 'admin@example.com',
  SF_PASSWORD: 'password-and-token',
  SLACK_TOKEN: 'xoxp-test-token',
  CYBERARK_LOGIN: 'svc-scim',
  CYBERARK_PASSWORD: 'cyberark-password',
};

const load = (name: string) => loadPipeline(`pipelines/${name}`, { env, cwd: root });
const columns = (p: Pipeline, entity: string) => p.export!.entities.find((e) => e.name === entity)!.columns.map((c) => c.text);

describe('shipped pipelines', () => {
  it('are all there', () => {
    expect(files).to.include.members(
      ['export-users-groups', 'fulfill-users', 'seed-filter-syntax', 'salesforce', 'slack', 'cyberark'].map((n) => `pipelines/${n}.yaml`),
    );
  });

  it('all validate (scim-etl validate pipelines/*.yaml exits 0)', async () => {
    const { code, stdout, stderr } = await cli(['validate', ...files], { env, cwd: root });
    expect(stderr).to.equal('');
    expect(stdout).to.equal(files.map((f) => `${f}: ok\n`).join(''));
    expect(code).to.equal(0);
  });

  for (const f of files) {
    it(`${f} declares its JSON Schema for editors`, () => {
      expect(readFileSync(path.join(root, f), 'utf8').split('\n')[0]).to.equal('# yaml-language-server: $schema=../schema/pipeline.schema.json');
    });
  }

  it('export-users-groups targets the sandbox by default, with every column form', async () => {
    const p = await loadPipeline('pipelines/export-users-groups.yaml', { env: {}, cwd: root });
    expect(p.connection).to.include({ server: 'http://127.0.0.1:8080', oAuthToken: 'sandbox-token', scimSyntax: 'RFC' });
    const users = columns(p, 'Users');
    expect(users).to.include.members(['name:givenName', 'emails[type eq "work"]:value', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber']);
    expect(p.export!.entities.find((e) => e.name === 'Groups')!.members).to.equal(true);
    const withServer = await loadPipeline('pipelines/export-users-groups.yaml', { env: { SCIM_SERVER: 'https://scim.example.com', SCIM_TOKEN: 'abcdefgh' }, cwd: root });
    expect(withServer.connection).to.include({ server: 'https://scim.example.com', oAuthToken: 'abcdefgh' });
  });

  it('fulfill-users reads ../samples/orders with Bulk on', async () => {
    const p = await load('fulfill-users.yaml');
    expect(p.fulfill!.orders).to.deep.equal([path.join(root, 'samples/orders')]);
    expect(p.fulfill!.results).to.equal(path.join(root, 'pipelines/results'));
    expect(p.fulfill).to.include({ serviceSupportBulk: true, bulkMaxOperation: 10 });
  });

  it("seed-filter-syntax uses the seed's names and Filter string", async () => {
    const text = readFileSync(path.join(root, 'pipelines/seed-filter-syntax.yaml'), 'utf8');
    for (const key of ['Server:', 'Filter:', 'FilterGroup:', 'PageSize:', 'ScimSyntax:', 'OAuthToken:', 'ServiceSupportBulk:', 'BulkMaxOperation:']) expect(text).to.include(key);
    const p = await load('seed-filter-syntax.yaml');
    expect(p.export!.entities.map((e) => [e.name, e.members])).to.deep.equal([
      ['Users', false],
      ['Groups', true],
    ]);
    expect(columns(p, 'Users')).to.deep.equal(['id', 'userName', 'name:givenName', 'name:familyName', 'emails:value']);
  });

  it('salesforce authenticates with applicationId/applicationKey/login/password at oAuth2Url', async () => {
    const p = await load('salesforce.yaml');
    expect(p.connection).to.include({
      scimSyntax: 'Salesforce',
      applicationId: 'consumer-key',
      applicationKey: 'consumer-secret',
      login: 'admin@example.com',
      password: 'password-and-token',
      oAuth2Url: 'https://login.salesforce.com/services/oauth2/token',
    });
  });

  it('slack and cyberark use their dialects; cyberark exports Containers with privilegedData', async () => {
    expect((await load('slack.yaml')).connection.scimSyntax).to.equal('Slack');
    const c = await load('cyberark.yaml');
    expect(c.connection.scimSyntax).to.equal('CyberArk');
    expect(c.export!.entities.find((e) => e.name === 'Containers')).to.include({ privilegedData: true });
  });
});
