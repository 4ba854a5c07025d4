/** runFulfill with an in-memory client: interrupts, discovery fallbacks, Bulk answers in odd shapes. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFulfill } from '../../lib/fulfill.js';
import { ScimHttpError } from '../../lib/scim/errors.js';
import type { Pipeline } from '../../lib/config/types.js';
import type { ScimRequester } from '../../lib/fulfill/types.js';
import { readResults, tempDir } from './helpers.js';
import { testFulfillPipeline } from '../helpers/model.js';

function pipeline(dir: string, fulfill: Partial<NonNullable<Pipeline['fulfill']>> = {}): Pipeline {
  return testFulfillPipeline(dir, { pageSize: 100 }, fulfill);
}

type Handler = (req: { method?: string; path: string; json?: unknown }) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>;
function fakeClient(handler: Handler, log: string[] = []): ScimRequester {
  return {
    request: (async (req: { method?: string; path: string; json?: unknown }) => {
      log.push(`${req.method ?? 'GET'} ${req.path}`);
      if (/ServiceProviderConfig|Schemas/.test(req.path)) throw new ScimHttpError({ method: 'GET', path: req.path }, 404, {}, 1);
      const r = await handler(req);
      return { status: r.status, body: r.body, headers: {}, attempts: 1 };
    }) as ScimRequester['request'],
  };
}

const USERS = 'command,id,orderId,userName\ninsert,,a,a@x\ninsert,,b,b@x\ninsert,,c,c@x\n';

describe('runFulfill', () => {
  it('on an interrupt stops sending, exit 1 with ERR_FULFILL_INTERRUPTED, results untouched; the rerun sends only the rest', async () => {
    const dir = tempDir({ 'orders/T_Users.csv': USERS, 'results/T_Users.csv': 'previous run\n' });
    const controller = new AbortController();
    const sent: string[] = [];
    let n = 0;
    const client = fakeClient((req) => {
      sent.push((req.json as { userName: string }).userName);
      if (++n === 2) {
        controller.abort(new Error('interrupted'));
        throw controller.signal.reason;
      }
      return { status: 201, body: { id: `id-${n}` } };
    });
    const report = await runFulfill(pipeline(dir), { client, signal: controller.signal });
    expect(report.exitCode).to.equal(1);
    expect(report.fatal?.code).to.equal('ERR_FULFILL_INTERRUPTED');
    expect(report.counts).to.deep.equal({ ok: 1, failed: 0, skipped: 2 });
    expect(readFileSync(join(dir, 'results/T_Users.csv'), 'utf8')).to.equal('previous run\n');
    expect(sent).to.deep.equal(['a@x', 'b@x']);

    // b was sent when the interrupt came, and c's intent was written ahead with a's and b's: each is
    // looked up by userName (absent here) before it is sent.
    const log: string[] = [];
    const again = await runFulfill(pipeline(dir), { client: fakeClient((req) => (req.method === 'GET' ? { status: 200, body: { Resources: [] } } : { status: 201, body: { id: `id-${++n}` } }), log) });
    expect(again.exitCode).to.equal(0);
    expect(log.filter((l) => !/ServiceProviderConfig|Schemas/.test(l))).to.deep.equal(['GET /Users', 'POST /Users', 'GET /Users', 'POST /Users']);
    const rows = await readResults(join(dir, 'results/T_Users.csv'));
    expect(rows.map((r) => [r.orderId, r.outcome, r.id])).to.deep.equal([
      ['a', 'ok', 'id-1'],
      ['b', 'ok', 'id-3'],
      ['c', 'ok', 'id-4'],
    ]);
  });

  it('falls back to the built-in schemas and PATCH when discovery is not served, and tries the plural SPC', async () => {
    const dir = tempDir({ 'orders/T_Users.csv': 'command,id,orderId,active\nupdate,u1,,yes\nupdate,u1,,false\n' });
    const log: string[] = [];
    const report = await runFulfill(pipeline(dir), { client: fakeClient(() => ({ status: 200, body: {} }), log) });
    expect(log).to.deep.equal(['GET ServiceProviderConfig', 'GET ServiceProviderConfigs', 'GET Schemas', 'PATCH /Users/u1']);
    expect(report.counts).to.deep.equal({ ok: 1, failed: 1, skipped: 0 });
    expect(report.exitCode).to.equal(2);
  });

  it('maps Bulk results given by bulkId, with numeric or SCIM 1.1 statuses and ids from location', async () => {
    const dir = tempDir({ 'orders/T_Users.csv': USERS });
    const client = fakeClient((req) => {
      const ops = (req.json as { Operations: Array<{ bulkId: string }> }).Operations;
      expect(ops.map((o) => o.bulkId)).to.deep.equal(['a', 'b', 'c']);
      // Answered out of order, each shape once.
      return {
        status: 200,
        body: {
          Operations: [
            { bulkId: 'c', method: 'POST', status: { code: '409' }, response: { status: '409', scimType: 'uniqueness', detail: 'taken' } },
            { bulkId: 'a', method: 'POST', status: '201', location: 'https://h/v2/Users/id%20a' },
            { bulkId: 'b', method: 'POST', status: 201, response: { id: 'id-b' } },
          ],
        },
      };
    });
    const report = await runFulfill(pipeline(dir, { serviceSupportBulk: true }), { client });
    expect(report.mode).to.equal('bulk');
    const rows = await readResults(join(dir, 'results/T_Users.csv'));
    expect(rows.map((r) => [r.orderId, r.status, r.outcome, r.id, r.scimType, r.detail])).to.deep.equal([
      ['a', '201', 'ok', 'id a', '', ''],
      ['b', '201', 'ok', 'id-b', '', ''],
      ['c', '409', 'failed', '', 'uniqueness', 'taken'],
    ]);
  });

  it('fails every line of a Bulk request the server refuses as a whole', async () => {
    const dir = tempDir({ 'orders/T_Users.csv': USERS });
    const client = fakeClient((req) => {
      throw new ScimHttpError({ method: 'POST', path: req.path }, 413, { scimType: 'tooLarge', detail: 'too big' }, 1);
    });
    const report = await runFulfill(pipeline(dir, { serviceSupportBulk: true }), { client });
    expect(report.exitCode).to.equal(2);
    const rows = await readResults(join(dir, 'results/T_Users.csv'));
    expect(rows.map((r) => [r.status, r.outcome, r.scimType])).to.deep.equal([
      ['413', 'failed', 'tooLarge'],
      ['413', 'failed', 'tooLarge'],
      ['413', 'failed', 'tooLarge'],
    ]);
  });
});
