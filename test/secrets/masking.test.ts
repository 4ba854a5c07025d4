/**
 * Masking is exact and its cost does not grow with the data: the secrets of
 * order lines stay with their line, the run-wide matcher is compiled once per
 * change of the credential set, and nothing but a secret is masked.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearSecrets, maskValues, redact, redactionStats, registerSecret } from '../../lib/redact.js';
import { readOrders, classifyOrderFile } from '../../lib/streams/sources/csv-order-source.js';
import { OrderPlanner } from '../../lib/streams/transforms/plan-orders.js';
import { outcomeOf, refusedOutcome } from '../../lib/fulfill/types.js';
import { BUILTIN_SCHEMAS } from '../../lib/scim/schemas.js';
import { cli } from '../helpers/io.js';
import { startHttp, sendJson } from '../helpers/http-server.js';
import { tempDir, readResults } from '../fulfill/helpers.js';
import { expectNoCanary } from './helpers.js';

/** Passwords as hostile as a CSV cell can make them: quotes, commas, spaces, braces, backslashes. */
const HOSTILE = ['Pa"ss, word}1\\x', "it's a {secret}: yes", 'CANARY pw with spaces'];

function workspace(dir: string, users: string, fulfill: string[] = []): string {
  mkdirSync(join(dir, 'orders'), { recursive: true });
  writeFileSync(join(dir, 'orders', 'M_Users.csv'), users);
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, ['version: 1', 'connection:', '  identifier: M', '  server: ${SCIM_SERVER}', '  oAuthToken: masking-test-token', '  retry: { limit: 0 }', 'fulfill:', '  orders: orders', '  results: results', ...fulfill.map((l) => `  ${l}`), ''].join('\n'));
  return file;
}

const csvCell = (v: string) => `"${v.replace(/"/g, '""')}"`;

describe('masking', () => {
  beforeEach(() => clearSecrets());
  afterEach(() => clearSecrets());

  describe('never eats what is not a secret', () => {
    it('keeps ${NAME:-default} in the missing-variable message (a variable name is no value)', async () => {
      const dir = tempDir();
      const file = join(dir, 'p.yaml');
      writeFileSync(file, 'version: 1\nconnection:\n  identifier: M\n  server: https://scim.example.test\n  password: ${SF_PASSWORD}\n  login: svc\n');
      const r = await cli(['validate', file]);
      expect(r.code).to.equal(78);
      expect(r.stdout + r.stderr).to.include('use ${SF_PASSWORD:-default} for a default');
    });

    it('keeps file:line:col in front of a code when the file is named passwd', async () => {
      const dir = tempDir({ 'etc/passwd': 'root:x:0:0:root:/root:/bin/bash\n' });
      const r = await cli(['sandbox', '--data', join(dir, 'etc/passwd')]);
      expect(r.code).to.equal(78);
      expect(r.stderr).to.include(`${join(dir, 'etc/passwd')}:1:1 ERR_SANDBOX_DATA`);
    });

    it('still masks the values next to those names, quoted values whole', () => {
      expect(redact('SF_PASSWORD=hunter22 next')).to.equal('SF_PASSWORD=*** next');
      expect(redact('password: "a b, c" next')).to.equal('password: "***" next');
      expect(redact("secret='x y' next")).to.equal("secret='***' next");
      expect(redact('password:1234')).to.equal('password:***');
      expect(redact(JSON.stringify({ password: HOSTILE[0] }))).to.equal('{"password":"***"}');
      expect(redact(JSON.stringify({ op: 'replace', path: 'password', value: HOSTILE[1] }))).to.equal('{"op":"replace","path":"password","value":"***"}');
    });
  });

  describe('costs the same however many orders', () => {
    it('reads 20,000 password cells without growing the secret set or compiling the matcher again', async () => {
      registerSecret('the-connection-token');
      redact('warm up');
      const before = redactionStats();
      const rows = Array.from({ length: 20_000 }, (_, i) => `insert,,user${i}@example.com,pw-${i}-${'x'.repeat(i % 40)}`);
      const dir = tempDir({ 'M_Users.csv': `command,id,userName,password\n${rows.join('\n')}\n` });
      const planner = new OrderPlanner({});
      let masked = 0;
      for await (const rec of readOrders({ files: [classifyOrderFile(join(dir, 'M_Users.csv'))], schemas: BUILTIN_SCHEMAS, nullMarker: '#null' })) {
        // What the sinks do with each line: an outcome whose detail is redacted.
        const o = outcomeOf(rec.line, { outcome: 'failed', detail: `server said: ${rec.line.secrets?.[0]} is too weak` });
        if (redact(o.detail!) === 'server said: *** is too weak') masked++;
        planner.push(rec);
      }
      expect(masked).to.equal(20_000);
      const after = redactionStats();
      expect(after.secrets, 'registered secret values').to.equal(before.secrets);
      // One more compilation at most: the password field name registered once.
      expect(after.compilations - before.compilations).to.be.at.most(1);
      expect(after.calls - before.calls).to.equal(20_000);
    });

    // Quadratic masking took 58 s on a 300 KB cell: these would not return.
    it('masks a 10 MB value, and MBs of text shaped to make a pattern backtrack', () => {
      registerSecret('needle-secret');
      const big = 'a'.repeat(10 * 1024 * 1024);
      expect(redact(`${big} needle-secret`)).to.equal(`${big} ***`);
      const mb = 1024 * 1024;
      const url = 'ab://' + 'h'.repeat(300) + ':' + 'p'.repeat(mb);
      expect(redact(url)).to.equal(url);
      const unclosed = '{"password":"' + 'x\\'.repeat(mb);
      expect(redact(unclosed)).to.equal(unclosed);
      const spaces = 'Authorization:' + ' '.repeat(mb) + 'x';
      expect(redact(spaces)).to.equal(spaces);
    });
  });

  describe("a line's own secrets", () => {
    it('are masked from its outcome in every form they travel in, and from its refusal', () => {
      const line = { seq: 0, fileIndex: 0, file: 'M_Users.csv', line: 2, orderId: 'o1', command: 'insert', secrets: [HOSTILE[0]!] };
      const s = HOSTILE[0]!;
      const o = outcomeOf(line, { outcome: 'failed', detail: `raw ${s} url ${encodeURIComponent(s)} json ${JSON.stringify(s)} b64 ${Buffer.from(s).toString('base64')}` });
      expectNoCanary(s, [o.detail!]);
      expect(o.detail).not.to.include(JSON.stringify(s).slice(1, -1));
      expect(refusedOutcome(line, { code: 'ERR_ORDER_BAD_VALUE', message: `got ${JSON.stringify(s)}` }).detail).to.equal('ERR_ORDER_BAD_VALUE: got "***"');
      expect(maskValues('no secret here', line.secrets)).to.equal('no secret here');
    });

    for (const bulk of [false, true]) {
      it(`never reach a --dry-run plan or its log, however hostile (${bulk ? 'Bulk' : 'single'})`, async () => {
        const dir = tempDir();
        const users = ['command,id,orderId,userName,password', ...HOSTILE.map((p, i) => `insert,,o${i},u${i}@example.com,${csvCell(p)}`), ...HOSTILE.map((p, i) => `update,id-${i},,,${csvCell(p)}`)].join('\r\n');
        const file = workspace(dir, users + '\r\n', [`serviceSupportBulk: ${bulk}`]);
        for (const format of ['text', 'json']) {
          const r = await cli(['fulfill', file, '--dry-run', '--verbose', '--log-format', format], { env: { SCIM_SERVER: 'https://scim.example.test' } });
          expect(r.code, r.stderr).to.equal(0);
          const plan = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
          expect(plan).to.have.length(6);
          for (const p of HOSTILE) expectNoCanary(p, [r.stdout, r.stderr], `${format} dry run`);
        }
      });
    }

    it('never reach a results file when the server echoes them in its error', async () => {
      const server = await startHttp((req, res) => {
        if (req.method === 'GET') return sendJson(res, 404, { status: '404' });
        const sent = JSON.parse(req.body || '{}') as { password?: string };
        sendJson(res, 400, { status: '400', scimType: 'invalidValue', detail: `password ${sent.password} does not meet the policy` });
      });
      try {
        const dir = tempDir();
        const file = workspace(dir, `command,orderId,userName,password\r\n${HOSTILE.map((p, i) => `insert,o${i},u${i}@example.com,${csvCell(p)}`).join('\r\n')}\r\n`);
        const r = await cli(['fulfill', file, '--verbose'], { env: { SCIM_SERVER: server.url } });
        expect(r.code, r.stderr).to.equal(2);
        expect(server.requests.filter((q) => q.method === 'POST').map((q) => JSON.parse(q.body).password)).to.deep.equal(HOSTILE);
        const results = readFileSync(join(dir, 'results', 'M_Users.csv'), 'utf8');
        const rows = await readResults(join(dir, 'results', 'M_Users.csv'));
        expect(rows.map((row) => row.detail)).to.deep.equal(HOSTILE.map(() => 'password *** does not meet the policy'));
        for (const p of HOSTILE) expectNoCanary(p, [results, r.stdout, r.stderr], 'results and logs');
      } finally {
        await server.close();
      }
    });
  });
});
