import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkPipelineFile, loadPipeline } from '../../lib/config/load.js';
import type { Problem } from '../../lib/errors.js';
import { clearSecrets, redact } from '../../lib/redact.js';

describe('loadPipeline', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return name;
  };
  const check = (name: string, env: NodeJS.ProcessEnv = {}) => checkPipelineFile(name, env, dir);
  const codes = (problems: Problem[]) => problems.map((p) => `${p.code} ${p.line}:${p.col}`);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'scim-etl-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    clearSecrets();
  });

  it('reads the SPEC example into the model, with defaults and paths resolved against the file', async () => {
    write(
      'p.yaml',
      `version: 1
connection:
  identifier: SCIMExport
  server: \${SCIM_SERVER}/
  scimSyntax: RFC
  pageSize: 200
  oAuthToken: \${SCIM_TOKEN}
export:
  output: ExportOutput
  entities:
    Users:
      filter: active eq "true"
      columns: [id, userName, "name:givenName", "emails:value",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"]
      incremental: true
    Groups:
      columns: [id, displayName]
      members: true
fulfill:
  orders: orders
  results: results
  serviceSupportBulk: true
  bulkMaxOperation: 10
`,
    );
    const p = await loadPipeline('p.yaml', { env: { SCIM_SERVER: 'https://scim.example.com/scim', SCIM_TOKEN: 'tok-123456' }, cwd: dir });
    expect(p.version).to.equal(1);
    expect(p.file).to.equal(path.join(dir, 'p.yaml'));
    expect(p.connection).to.deep.equal({
      identifier: 'SCIMExport',
      server: 'https://scim.example.com/scim',
      scimSyntax: 'RFC',
      pageSize: 200,
      setInPipeline: ['pageSize'],
      concurrency: 4,
      oAuthToken: 'tok-123456',
      insecure: false,
      timeoutMs: 30000,
      retry: { limit: 4, maxRetryAfterMs: 120000, backoffMs: 500 },
      secrets: {},
    });
    const exp = p.export!;
    expect(exp.output).to.equal(path.join(dir, 'ExportOutput'));
    expect(exp.format).to.equal('csv');
    expect(exp.escapeFormulas).to.equal(false);
    expect(exp.entities.map((e) => e.name)).to.deep.equal(['Users', 'Groups']);
    const users = exp.entities[0]!;
    expect(users.filter).to.equal('active eq "true"');
    expect(users.filterAst).to.deep.equal({ type: 'compare', path: { attr: 'active' }, op: 'eq', value: 'true' });
    expect(users.columns.map((c) => c.text)).to.deep.equal([
      'id',
      'userName',
      'name:givenName',
      'emails:value',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
    ]);
    expect(users.columns[4]).to.include({ schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'employeeNumber' });
    expect(users).to.include({ incremental: true, members: false, privilegedData: false });
    expect(exp.entities[1]).to.include({ members: true, incremental: false });
    expect(p.fulfill).to.deep.equal({
      orders: [path.join(dir, 'orders')],
      results: path.join(dir, 'results'),
      serviceSupportBulk: true,
      bulkMaxOperation: 10,
      setInPipeline: ['serviceSupportBulk', 'bulkMaxOperation'],
      concurrency: 4,
      maxMembersPerPatch: 1000,
      onConflict: 'fail',
      nullMarker: '#null',
    });
  });

  it("matches keys case-insensitively, so the seed's names work", async () => {
    write(
      'seed.yaml',
      `Version: 1
Connection:
  Identifier: SCIMExport
  Server: https://x.example.com/services/scim
  ScimSyntax: salesforce
  PageSize: 100
  ApplicationId: app
  ApplicationKey: app-secret-key
  Login: admin@example.com
  Password: pass-and-token
  OAuth2Url: https://login.salesforce.com/services/oauth2/token
  OAuthToken: static-token
  Filter: 'Users|?filter=active eq "true";id userName*Groups;id displayName'
  FilterGroup: Groups
  ServiceSupportBulk: true
  BulkMaxOperation: 5
Fulfill:
  Orders: [a.csv, /abs/b.csv]
`,
    );
    const { pipeline, problems } = await check('seed.yaml');
    expect(problems).to.deep.equal([]);
    const c = pipeline!.connection;
    expect(c).to.include({
      scimSyntax: 'Salesforce',
      pageSize: 100,
      applicationId: 'app',
      applicationKey: 'app-secret-key',
      login: 'admin@example.com',
      password: 'pass-and-token',
      oAuth2Url: 'https://login.salesforce.com/services/oauth2/token',
      oAuthToken: 'static-token',
    });
    const entities = pipeline!.export!.entities;
    expect(entities.map((e) => [e.name, e.filter, e.columns.map((x) => x.text), e.members])).to.deep.equal([
      ['Users', 'active eq "true"', ['id', 'userName'], false],
      ['Groups', undefined, ['id', 'displayName'], true],
    ]);
    // Seed connection settings are the fulfill defaults.
    expect(pipeline!.fulfill).to.include({ serviceSupportBulk: true, bulkMaxOperation: 5 });
    expect(pipeline!.fulfill!.orders).to.deep.equal([path.join(dir, 'a.csv'), '/abs/b.csv']);
    expect(pipeline!.export!.output).to.equal(path.join(dir, 'ExportOutput'));
  });

  it('registers secrets so that they are masked wherever they appear', async () => {
    write('s.yaml', 'connection:\n  identifier: X\n  server: http://127.0.0.1:1\n  password: ${PW}\n  oAuthToken: tok-abcdef\n');
    await loadPipeline('s.yaml', { env: { PW: 'pa55w0rd!' }, cwd: dir });
    expect(redact('pw pa55w0rd! token tok-abcdef')).to.equal('pw *** token ***');
  });

  it('coerces an interpolated ${VAR} in a numeric or boolean field', async () => {
    write(
      'n.yaml',
      'connection:\n  identifier: X\n  server: http://127.0.0.1:1\n  pageSize: ${PAGE}\n  insecure: ${INSECURE}\n  timeout: "5000"\n  retry: {limit: "${RETRIES:-0}"}\n',
    );
    const p = await loadPipeline('n.yaml', { env: { PAGE: '50', INSECURE: 'true' }, cwd: dir });
    expect(p.connection).to.include({ pageSize: 50, insecure: true, timeoutMs: 5000 });
    expect(p.connection.retry.limit).to.equal(0);
    const { problems } = await check('n.yaml', { PAGE: 'fifty', INSECURE: 'yes' });
    expect(problems.map((x) => x.message)).to.deep.equal([
      'expected integer ≥ 1, got "fifty" (connection.pageSize)',
      'expected true or false, got "yes" (connection.insecure)',
    ]);
    expect(codes(problems)).to.deep.equal(['ERR_CONFIG_TYPE 4:13', 'ERR_CONFIG_TYPE 5:13']);
  });

  it('explains an unquoted ${VAR} inside a flow mapping, a YAML syntax error', async () => {
    write('y.yaml', 'connection:\n  identifier: X\n  retry: {limit: ${RETRIES}}\n');
    const { problems } = await check('y.yaml');
    expect(problems[0]).to.include({ code: 'ERR_YAML_SYNTAX', line: 3 });
    expect(problems[0]!.message).to.include('quote values holding ${…}');
  });

  it('keeps a literal ${ written as $${', async () => {
    write('e.yaml', 'connection:\n  identifier: X\n  server: http://127.0.0.1:1\n  password: "a$${b}"\n');
    const p = await loadPipeline('e.yaml', { env: {}, cwd: dir });
    expect(p.connection.password).to.equal('a${b}');
  });

  it('reports all missing variables together, never their would-be values', async () => {
    write('m.yaml', 'connection:\n  identifier: ${ID}\n  server: ${URL}\n  password: ${PW}\n');
    const { problems } = await check('m.yaml');
    expect(codes(problems)).to.deep.equal(['ERR_CONFIG_MISSING_VARIABLE 2:15', 'ERR_CONFIG_MISSING_VARIABLE 3:11', 'ERR_CONFIG_MISSING_VARIABLE 4:13']);
    expect(problems.map((p) => p.message.split(' ')[2])).to.deep.equal(['ID', 'URL', 'PW']);
  });

  it('points at the offending column inside flow sequences and interpolated filters', async () => {
    write(
      'c.yaml',
      [
        'connection: {identifier: X, server: "http://127.0.0.1:1"}',
        'export:',
        '  entities:',
        '    Users:',
        '      filter: userName eq "${USER}" and',
        '      columns: [id, "emails[type eq work]:value", name:x:y]',
      ].join('\n') + '\n',
    );
    const { problems } = await check('c.yaml', { USER: 'averyveryverylongname' });
    const line6 = '      columns: [id, "emails[type eq work]:value", name:x:y]';
    expect(codes(problems)).to.deep.equal([
      // after "and": the end of the written filter, even though ${USER} expanded to a longer text
      `ERR_FILTER_SYNTAX 5:${'      filter: userName eq "${USER}" and'.length + 1}`,
      `ERR_FILTER_SYNTAX 6:${line6.indexOf('work') + 1}`,
      `ERR_PATH_SYNTAX 6:${line6.indexOf('x:y') + 1}`,
    ]);
  });

  it('merges the seed Filter string with export.entities and refuses a filter given twice', async () => {
    write(
      'mix.yaml',
      `connection:
  identifier: X
  server: http://127.0.0.1:1
  filter: Users|?filter=active eq true*Groups|?filter=displayName pr
export:
  entities:
    Users: {columns: [id]}
    Groups:
      columns: [id]
      filter: displayName pr
`,
    );
    const { pipeline, problems } = await check('mix.yaml');
    expect(pipeline).to.equal(undefined);
    expect(codes(problems)).to.deep.equal(['ERR_CONFIG_DUPLICATE_ENTITY 10:7']);
    expect(problems[0]!.message).to.match(/filter of entity "Groups" is already given in connection.filter/);

    write('mix2.yaml', 'connection: {identifier: X, server: "http://127.0.0.1:1", filter: "Users|?filter=active eq true"}\nexport:\n  entities:\n    users: {columns: [id]}\n');
    const ok = await check('mix2.yaml');
    expect(ok.problems).to.deep.equal([]);
    expect(ok.pipeline!.export!.entities).to.have.length(1);
    expect(ok.pipeline!.export!.entities[0]).to.include({ name: 'Users', filter: 'active eq true' });
  });

  it('reads export options: format, escapeFormulas, syncCookiesFile, privilegedData', async () => {
    write(
      'x.yaml',
      'connection: {identifier: X, server: "http://127.0.0.1:1"}\nexport:\n  format: NDJSON\n  escapeFormulas: true\n  syncCookiesFile: state/c.json\n  entities:\n    Containers:\n      columns: id\n      privilegedData: true\n',
    );
    const p = await loadPipeline('x.yaml', { env: {}, cwd: dir });
    expect(p.export).to.include({ format: 'ndjson', escapeFormulas: true, syncCookiesFile: path.join(dir, 'state/c.json') });
    expect(p.export!.entities[0]).to.include({ name: 'Containers', privilegedData: true });
    expect(p.export!.entities[0]!.columns.map((c) => c.text)).to.deep.equal(['id']);
  });

  it('reads fulfill thresholds as counts or percentages', async () => {
    write(
      'f.yaml',
      'connection: {identifier: X, server: "http://127.0.0.1:1"}\nfulfill:\n  maxDeletes: 10%\n  maxChanges: 250\n  onConflict: Update\n  nullMarker: <clear>\n',
    );
    const p = await loadPipeline('f.yaml', { env: {}, cwd: dir });
    expect(p.fulfill).to.deep.include({ maxDeletes: { percent: 10 }, maxChanges: { count: 250 }, onConflict: 'update', nullMarker: '<clear>' });
    expect(p.fulfill!.orders).to.deep.equal([path.join(dir, 'orders')]);
  });

  it('trims a trailing slash from the server and keeps a pipeline without export or fulfill', async () => {
    write('t.yaml', 'connection:\n  identifier: X\n  server: https://example.com/scim///\n');
    const p = await loadPipeline('t.yaml', { env: {}, cwd: dir });
    expect(p.connection.server).to.equal('https://example.com/scim');
    expect(p.export).to.equal(undefined);
    expect(p.fulfill).to.equal(undefined);
  });

  it('expands YAML merge keys (explicit keys win) and ignores top-level x- keys', async () => {
    write(
      'mk.yaml',
      [
        'x-defaults: &conn',
        '  identifier: Base',
        '  server: http://127.0.0.1:1',
        '  pageSize: 10',
        'connection:',
        '  <<: *conn',
        '  Identifier: Mine',
        '  PageSize: nope',
      ].join('\n') + '\n',
    );
    const { problems } = await check('mk.yaml');
    // The explicit PageSize wins over the merged one, so its problem is on line 8.
    expect(codes(problems)).to.deep.equal(['ERR_CONFIG_TYPE 8:13']);
    write('mk2.yaml', 'x-a: &a {identifier: A}\nx-b: &b {server: "http://127.0.0.1:1"}\nconnection:\n  <<: [*a, *b]\n');
    const p = await loadPipeline('mk2.yaml', { env: {}, cwd: dir });
    expect(p.connection).to.include({ identifier: 'A', server: 'http://127.0.0.1:1' });
  });

  it('explains columns written as one string with spaces', async () => {
    write('sp.yaml', 'connection: {identifier: X, server: "http://127.0.0.1:1"}\nexport:\n  entities:\n    Users:\n      columns: id userName\n');
    const { problems } = await check('sp.yaml');
    expect(codes(problems)).to.deep.equal(['ERR_CONFIG_TYPE 5:16']);
    expect(problems[0]!.message).to.include('write a list, [id, userName]');
  });

  it('follows YAML anchors and aliases', async () => {
    write(
      'a.yaml',
      'connection: {identifier: X, server: "http://127.0.0.1:1"}\nexport:\n  entities:\n    Users: {columns: &cols [id, displayName]}\n    Groups: {columns: *cols}\n',
    );
    const p = await loadPipeline('a.yaml', { env: {}, cwd: dir });
    expect(p.export!.entities[1]!.columns.map((c) => c.text)).to.deep.equal(['id', 'displayName']);
  });

  it('takes an empty section (`fulfill:` with nothing under it) as the section with every default', async () => {
    write('e.yaml', 'version: 1\nconnection:\n  identifier: E\n  server: https://scim.example.com\nfulfill:\n');
    const { pipeline, problems } = await check('e.yaml');
    expect(problems).to.deep.equal([]);
    expect(pipeline!.fulfill).to.include({ results: path.join(dir, 'results'), serviceSupportBulk: false, bulkMaxOperation: 100, onConflict: 'fail' });
    write('x.yaml', 'version: 1\nconnection:\n  identifier: E\n  server: https://scim.example.com\nexport:\n');
    expect(codes((await check('x.yaml')).problems)).to.deep.equal(['ERR_CONFIG_MISSING_KEY 5:1']);
  });

  describe('secret sources', () => {
    it('lets a Key Vault provide the server and normalises CyberArk object names', async () => {
      mkdirSync(path.join(dir, 'keys'));
      write('keys/agent.pem', '-----BEGIN PRIVATE KEY-----\n');
      write(
        'v.yaml',
        `connection:
  identifier: X
  secrets:
    privateKey: keys/agent.pem
    azureKeyVault: {url: "https://v.vault.azure.net", tenantId: t, clientId: c, clientSecret: very-secret-1}
    cyberArk:
      url: https://ccp.example.com
      appId: app
      safe: S
      objects: {Login: obj1, PASSWORD: obj2}
`,
      );
      const p = await loadPipeline('v.yaml', { env: {}, cwd: dir });
      expect(p.connection.server).to.equal('');
      expect(p.connection.secrets.privateKey).to.equal(path.join(dir, 'keys/agent.pem'));
      expect(p.connection.secrets.azureKeyVault).to.deep.equal({ url: 'https://v.vault.azure.net', tenantId: 't', clientId: 'c', clientSecret: 'very-secret-1' });
      expect(p.connection.secrets.cyberArk!.objects).to.deep.equal({ login: 'obj1', password: 'obj2' });
      expect(redact('very-secret-1')).to.equal('***');
    });

    it('reports missing vault keys and unknown CyberArk objects', async () => {
      write(
        'v2.yaml',
        'connection:\n  identifier: X\n  server: http://127.0.0.1:1\n  secrets:\n    azureKeyVault: {url: "https://v.vault.azure.net"}\n    cyberArk: {url: "https://c", appId: a, safe: s, objects: {Sever: o}}\n',
      );
      const { problems } = await check('v2.yaml');
      expect(problems.map((p) => p.code)).to.deep.equal(['ERR_CONFIG_MISSING_KEY', 'ERR_CONFIG_MISSING_KEY', 'ERR_CONFIG_MISSING_KEY', 'ERR_CONFIG_UNKNOWN_KEY']);
      expect(problems[3]!.message).to.match(/did you mean "server"/);
      expect(codes(problems).at(-1)).to.equal('ERR_CONFIG_UNKNOWN_KEY 6:63');
    });
  });

  describe('settingsFile (appsettings.agent.json)', () => {
    const settings = {
      Connections: {
        SCIMExport: {
          Server: 'https://settings.example.com/scim',
          Login: 'svc',
          Password: 'from-settings-pw',
          PageSize: 50,
          Filter: 'Users;id userName',
        },
        Other: { Server: 'https://other.example.com' },
      },
    };

    it("merges the Connections.<identifier> entry under the pipeline's own keys", async () => {
      writeFileSync(path.join(dir, 'appsettings.agent.json'), JSON.stringify(settings, null, 2));
      write('s.yaml', 'connection:\n  identifier: scimexport\n  settingsFile: appsettings.agent.json\n  pageSize: 10\n');
      const p = await loadPipeline('s.yaml', { env: {}, cwd: dir });
      expect(p.connection).to.include({ identifier: 'scimexport', server: 'https://settings.example.com/scim', login: 'svc', password: 'from-settings-pw', pageSize: 10 });
      expect(p.export!.entities[0]!.columns.map((c) => c.text)).to.deep.equal(['id', 'userName']);
      expect(redact('from-settings-pw')).to.equal('***');
    });

    it('carries the values of an encrypted settings file as enc:…', async () => {
      const enc = { Connections: { SCIMExport: { Server: 'QUJD', Password: 'REVG', PageSize: 20 } } };
      writeFileSync(path.join(dir, 'appsettings.encrypted.agent.json'), JSON.stringify(enc));
      write('s.yaml', 'connection:\n  settingsFile: appsettings.encrypted.agent.json\n');
      const p = await loadPipeline('s.yaml', { env: {}, cwd: dir });
      // Only one connection in the file: its name is the identifier.
      expect(p.connection).to.include({ identifier: 'SCIMExport', server: 'enc:QUJD', password: 'enc:REVG', pageSize: 20 });
    });

    it('refuses encrypted values that are needed to validate the pipeline', async () => {
      writeFileSync(path.join(dir, 'appsettings.encrypted.agent.json'), '{"Connections": {"A": {\n  "Server": "QUJD",\n  "Filter": "R0hJ",\n  "ScimSyntax": "SktM"}}}\n');
      write('s.yaml', 'connection:\n  settingsFile: appsettings.encrypted.agent.json\n');
      const { problems } = await check('s.yaml');
      expect(problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.code}`)).to.deep.equal([
        'appsettings.encrypted.agent.json:3:13 ERR_CONFIG_ENCRYPTED_VALUE',
        'appsettings.encrypted.agent.json:4:17 ERR_CONFIG_ENCRYPTED_VALUE',
      ]);
    });

    it('reports problems inside the settings file at their position there', async () => {
      writeFileSync(path.join(dir, 'appsettings.agent.json'), '{\n  "Connections": {\n    "A": {\n      "Server": "https://a/v2?x=1",\n      "PageSise": 5\n    }\n  }\n}\n');
      write('s.yaml', 'connection:\n  settingsFile: appsettings.agent.json\n');
      const { problems } = await check('s.yaml');
      expect(problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.code}`)).to.deep.equal([
        'appsettings.agent.json:4:17 ERR_CONFIG_SERVER',
        'appsettings.agent.json:5:7 ERR_CONFIG_UNKNOWN_KEY',
      ]);
    });

    it('needs an identifier when the file holds several connections, and a known one', async () => {
      writeFileSync(path.join(dir, 'appsettings.agent.json'), JSON.stringify(settings));
      write('s.yaml', 'connection:\n  settingsFile: appsettings.agent.json\n');
      const a = await check('s.yaml');
      expect(a.problems.map((p) => p.code)).to.deep.equal(['ERR_CONFIG_SETTINGS']);
      expect(a.problems[0]!.message).to.match(/2 connections \(SCIMExport, Other\)/);
      write('t.yaml', 'connection:\n  identifier: Nope\n  settingsFile: appsettings.agent.json\n');
      const b = await check('t.yaml');
      expect(b.problems.map((p) => p.code)).to.deep.equal(['ERR_CONFIG_SETTINGS']);
    });
  });
});
