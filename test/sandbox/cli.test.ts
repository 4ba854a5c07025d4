import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { run } from '../../lib/cli/main.js';
import { sandboxOptionsFromArgs, defaultDataFile } from '../../lib/cli/commands/sandbox.js';

/** Runs `scim-etl sandbox …` in process; resolves once the base URL is printed. */
async function startCli(args: string[]) {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (c) => (text += c));
  const controller = new AbortController();
  const done = run({ argv: ['sandbox', '--port', '0', ...args], stderr, stdout: new PassThrough(), signal: controller.signal });
  let finished = false;
  void done.then(() => (finished = true));
  const url = await new Promise<string | undefined>((resolve) => {
    const check = () => {
      const m = /server: (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) return resolve(m[1]);
      if (finished) return resolve(undefined);
      setTimeout(check, 5);
    };
    check();
  });
  return { url, done, stop: () => controller.abort(), stderr: () => text };
}

describe('scim-etl sandbox (CLI)', () => {
  it('serves the packaged sample directory, prints URL and token, stops on abort with exit 0', async () => {
    const cli = await startCli(['--verbose']);
    expect(cli.url).to.be.a('string');
    const r = await fetch(`${cli.url}/v2/Users?count=1`, { headers: { Authorization: 'Bearer sandbox-token' } });
    expect(r.status).to.equal(200);
    expect((await r.json()).totalResults).to.equal(10);
    expect((await fetch(`${cli.url}/v2/Users`)).status).to.equal(401);
    cli.stop();
    expect(await cli.done).to.equal(0);
    expect(cli.stderr()).to.contain('token:  sandbox-token');
    expect(cli.stderr()).to.contain('10 users, 4 groups');
    // --verbose: a line per request
    expect(cli.stderr()).to.match(/GET \/v2\/Users\?count=1 200/);
    expect(cli.stderr()).to.contain('stopped');
  });

  it('generates users with --users/--groups/--members/--seed, honours --token, --basic, --max-results, --no-bulk and --fault', async () => {
    const cli = await startCli(['--users', '50', '--groups', '3', '--members', '20', '--seed', '9', '--token', 'cli-tok', '--basic', 'admin:pw:x', '--max-results', '15', '--no-bulk', '--fault', '503@GET /v2/Groups,times=1']);
    try {
      const bearer = { Authorization: 'Bearer cli-tok' };
      const page = await (await fetch(`${cli.url}/v2/Users?count=100`, { headers: bearer })).json();
      expect(page.totalResults).to.equal(50);
      expect(page.Resources).to.have.length(15);
      const basic = { Authorization: `Basic ${Buffer.from('admin:pw:x').toString('base64')}` };
      expect((await fetch(`${cli.url}/v2/Users`, { headers: basic })).status).to.equal(200);
      const spc = await (await fetch(`${cli.url}/v2/ServiceProviderConfig`, { headers: bearer })).json();
      expect(spc.bulk.supported).to.equal(false);
      expect((await fetch(`${cli.url}/v2/Groups`, { headers: bearer })).status).to.equal(503);
      const groups = await (await fetch(`${cli.url}/v2/Groups`, { headers: bearer })).json();
      expect(groups.Resources[0].members).to.have.length(20);
      // no --oauth: no token endpoint
      expect((await fetch(`${cli.url}/.well-known/oauth-authorization-server`, { headers: bearer })).status).to.equal(404);
    } finally {
      cli.stop();
      expect(await cli.done).to.equal(0);
    }
    expect(cli.stderr()).to.contain('50 generated users, 3 groups');
  });

  it('exits 78 with a coded message on bad options', async () => {
    for (const args of [['--basic', 'nocolon'], ['--oauth', 'nocolon'], ['--oauth-user', 'a:b'], ['--fault', 'explode'], ['--members', '5'], ['--data', '/nonexistent/dir.json'], ['--port', '70000']]) {
      const cli = await startCli(args);
      expect(cli.url, args.join(' ')).to.equal(undefined);
      expect(await cli.done, args.join(' ')).to.equal(78);
      expect(cli.stderr()).to.match(/ERR_SANDBOX_(OPTION|FAULT|DATA)/);
      expect(cli.stderr()).to.not.match(/\n\s+at /); // no stack trace
    }
  });

  it('maps arguments to options (data default, generated mode)', () => {
    const base = { port: 1, host: '127.0.0.1', token: 't', dialect: 'RFC', bulk: true, patch: true, etag: true };
    expect(sandboxOptionsFromArgs(base).data).to.equal(defaultDataFile());
    expect(sandboxOptionsFromArgs({ ...base, dialect: 'Salesforce' }).data).to.match(/directory\.salesforce\.json$/);
    expect(sandboxOptionsFromArgs({ ...base, dialect: 'CyberArk' }).data).to.match(/directory\.cyberark\.json$/);
    expect(sandboxOptionsFromArgs({ ...base, dialect: 'Slack' }).data).to.match(/directory\.slack\.json$/);
    // --dialect in any case, like scimSyntax.
    for (const [given, name] of [['salesforce', 'Salesforce'], ['SLACK', 'Slack'], ['cyberArk', 'CyberArk'], ['rfc', 'RFC']]) {
      const o = sandboxOptionsFromArgs({ ...base, dialect: given! });
      expect(o.dialect, given).to.equal(name);
      expect(o.data, given).to.equal(defaultDataFile(name));
    }
    const gen = sandboxOptionsFromArgs({ ...base, users: 10, groups: 2 });
    expect(gen.generate).to.deep.equal({ users: 10, groups: 2 });
    expect(gen).to.not.have.property('data');
    expect(sandboxOptionsFromArgs({ ...base, bulk: false, bulkMaxOperations: 3 }).bulk).to.deep.equal({ supported: false, maxOperations: 3 });
  });
});

describe('scim-etl sandbox --quirk (CLI)', () => {
  it('takes quirks repeated and comma-separated, with values and bundles, and prints them', async () => {
    const cli = await startCli(['--quirk', 'totalIsPageLength,pageCap=3', '--quirk', 'rootPath=/scim/v2/endpoints/abc', '--quirk', 'scimmy', '--dialect', 'rfc']);
    try {
      const bearer = { Authorization: 'Bearer sandbox-token' };
      expect((await fetch(`${cli.url}/v2/Users`, { headers: bearer })).status).to.equal(404);
      const page = await (await fetch(`${cli.url}/scim/v2/endpoints/abc/Users?count=10`, { headers: bearer })).json();
      expect(page.Resources).to.have.length(3);
      expect(page.totalResults).to.equal(3);
      const ext = await fetch(`${cli.url}/scim/v2/endpoints/abc/Users?attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`, { headers: bearer });
      expect(ext.status).to.equal(400);
    } finally {
      cli.stop();
      expect(await cli.done).to.equal(0);
    }
    expect(cli.stderr()).to.contain('quirks: totalIsPageLength, pageCap=3, rootPath=/scim/v2/endpoints/abc, attributesUrn400');
    expect(cli.stderr()).to.match(/SCIM endpoints under http:\/\/127\.0\.0\.1:\d+\/scim\/v2\/endpoints\/abc\)/);
  });

  it('exits 78 on an unknown quirk, naming the value and every known quirk and bundle', async () => {
    const cli = await startCli(['--quirk', 'totalIsPageLength,scimgatway']);
    expect(await cli.done).to.equal(78);
    expect(cli.stderr()).to.contain('ERR_SANDBOX_QUIRK --quirk "scimgatway": unknown quirk "scimgatway" (quirks: dropExtensionAttributes,');
    expect(cli.stderr()).to.contain('bundles: scimgateway, scim2-server, SCIMServer, better-auth, scimmy)');
    expect(cli.stderr()).to.not.match(/\n\s+at /);
  });

  it('--dialect in any case; an unknown one is ERR_SANDBOX_OPTION listing the dialects', async () => {
    const base = { port: 1, host: '127.0.0.1', token: 't', bulk: true, patch: true, etag: true };
    expect(sandboxOptionsFromArgs({ ...base, dialect: 'SALESFORCE' }).dialect).to.equal('Salesforce');
    expect(sandboxOptionsFromArgs({ ...base, dialect: 'salesforce' }).data).to.match(/directory\.salesforce\.json$/);
    const cli = await startCli(['--dialect', 'okta']);
    expect(await cli.done).to.equal(78);
    expect(cli.stderr()).to.contain('ERR_SANDBOX_OPTION --dialect must be one of RFC, Slack, Salesforce, CyberArk (any case), got "okta"');
    const slack = await startCli(['--dialect', 'slack']);
    try {
      expect((await fetch(`${slack.url}/v2/ServiceProviderConfig`, { headers: { Authorization: 'Bearer sandbox-token' } })).status).to.equal(404);
    } finally {
      slack.stop();
      expect(await slack.done).to.equal(0);
    }
  });
});

describe('scim-etl sandbox --oauth (CLI)', () => {
  it('serves a token endpoint for the client and user given', async () => {
    const cli = await startCli(['--oauth', 'app:sec', '--oauth-user', 'svc:pw', '--token-lifetime', '60']);
    try {
      const r = await fetch(`${cli.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password&username=svc&password=pw&client_id=app&client_secret=sec',
      });
      const t = await r.json();
      expect(t.expires_in).to.equal(60);
      expect((await fetch(`${cli.url}/v2/Users`, { headers: { Authorization: `Bearer ${t.access_token}` } })).status).to.equal(200);
    } finally {
      cli.stop();
      expect(await cli.done).to.equal(0);
    }
    expect(cli.stderr()).to.contain('oauth2: ');
  });
});
