/** Salesforce quirks through the real CLI against the sandbox in Salesforce dialect. */
import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { readResults } from '../fulfill/helpers.js';
import { perTestRig, RIGS, ROOT, startRig } from './helpers.js';

const ADA = '0055g00000A1b2cAAB';
const JOSE = '0055g00000A1b2dAAB';
const BOT = '0055g00000A1b2fAAB';

describe('Salesforce dialect end to end', () => {
  const rig = perTestRig();

  async function fulfill(files: Record<string, string>) {
    rig.sb ??= await startRig('salesforce');
    mkdirSync(join(rig.dir, 'orders'), { recursive: true });
    for (const [n, t] of Object.entries(files)) writeFileSync(join(rig.dir, 'orders', n), t);
    const before = rig.sb.requests.length;
    const r = await cli(['fulfill', RIGS.salesforce.pipeline, '--orders', join(rig.dir, 'orders'), '--results', join(rig.dir, 'results')], { env: RIGS.salesforce.env(rig.sb) });
    return { ...r, sent: rig.sb.requests.slice(before).map((q) => `${q.method} ${q.path}`) };
  }

  it('refuses, per row and before sending, the user fields its SCIM API cannot write', async () => {
    const r = await fulfill({
      'SalesforceExport_Users.csv':
        'command,id,title,userPermissionsMarketingUser,urn:salesforce:schemas:extension:external:1.0:User:CallCenterId,senderEmail\r\n' +
        `update,${ADA},Chief,,,\r\n` +
        `update,${JOSE},Rep,true,,\r\n` +
        `update,${BOT},Bot,,04v5g000000Abc,\r\n` +
        `insert,,,,,noreply@acme.example.com\r\n`,
    });
    expect(r.code, r.stderr).to.equal(2);
    const rows = await readResults(join(rig.dir, 'results', 'SalesforceExport_Users.csv'));
    expect(rows.map((x) => x.outcome)).to.deep.equal(['ok', 'failed', 'failed', 'failed']);
    for (const [i, attr] of [[1, 'userPermissionsMarketingUser'], [2, 'CallCenterId'], [3, 'senderEmail']] as const) {
      expect(rows[i]!.detail).to.match(new RegExp(`^ERR_ORDER_NOT_WRITABLE: column '[^']*${attr}': Salesforce's SCIM API cannot write ${attr}`));
      expect(rows[i]!.attempts).to.equal('0');
    }
    const writes = r.sent.filter((s) => !s.startsWith('GET') && !s.startsWith('POST /oauth2'));
    expect(writes).to.deep.equal([`PATCH /v2/Users/${ADA}`]);
    expect(rig.sb!.store.get('Users', JOSE)!.title).to.not.equal('Rep');
  });

  it('assigns entitlements by PATCHing the user: any number of permission sets, one profile (adding one replaces it), checked per row', async () => {
    const r = await fulfill({
      'SalesforceExport_members_Entitlements.csv':
        'command,value,MemberId\r\n' +
        `add,0PS5g000000XyZaGAK,${ADA}\r\n` +
        `remove,0PS5g000000XyZbGAK,${ADA}\r\n` +
        `add,00e5g000001AbCdAAK,${ADA}\r\n` +
        `remove,00e5g000001AbCdAAK,${JOSE}\r\n` +
        `add,0PG5g0000000001AAA,${JOSE}\r\n`,
    });
    expect(r.code, r.stderr).to.equal(2);
    const rows = await readResults(join(rig.dir, 'results', 'SalesforceExport_members_Entitlements.csv'));
    expect(rows.map((x) => x.outcome)).to.deep.equal(['ok', 'ok', 'ok', 'failed', 'failed']);
    expect(rows[3]!.detail).to.match(/^ERR_ORDER_INVALID_LINK: a Salesforce user always has exactly one profile/);
    expect(rows[4]!.detail).to.match(/^ERR_ORDER_INVALID_LINK: "0PG5g0000000001AAA" is neither a profile/);
    const writes = r.sent.filter((s) => !s.startsWith('GET') && !s.startsWith('POST /oauth2'));
    expect(writes).to.deep.equal([`PATCH /v2/Users/${ADA}`, `PATCH /v2/Users/${ADA}`, `PATCH /v2/Users/${ADA}`]);
    const ents = (rig.sb!.store.get('Users', ADA)!.entitlements as Array<{ value: string; type: string }>).map((e) => `${e.type}:${e.value}`);
    expect(ents).to.have.members(['PermissionSet:0PS5g000000XyZaGAK', 'Profile:00e5g000001AbCdAAK']);
    expect(rig.sb!.store.get('Users', JOSE)!.entitlements).to.have.length(2);
  });

  it('verify: true reads the user back and proves each entitlement line', async () => {
    rig.sb = await startRig('salesforce');
    mkdirSync(join(rig.dir, 'orders'), { recursive: true });
    writeFileSync(join(rig.dir, 'orders', 'SalesforceExport_members_Entitlements.csv'), `command,value,MemberId\r\nadd,0PS5g000000XyZaGAK,${ADA}\r\nremove,0PS5g000000XyZbGAK,${ADA}\r\n`);
    const pipeline = join(rig.dir, 'p.yaml');
    writeFileSync(pipeline, readFileSync(RIGS.salesforce.pipeline, 'utf8').replace('  serviceSupportBulk: false', '  serviceSupportBulk: false\n  verify: true'));
    const before = rig.sb.requests.length;
    const r = await cli(['fulfill', pipeline, '--orders', join(rig.dir, 'orders'), '--results', join(rig.dir, 'results')], { env: RIGS.salesforce.env(rig.sb) });
    expect(r.code, r.stderr).to.equal(0);
    const rows = await readResults(join(rig.dir, 'results', 'SalesforceExport_members_Entitlements.csv'));
    expect(rows.map((x) => x.outcome)).to.deep.equal(['ok', 'ok']);
    // Read back: the users, with their entitlements.
    expect(rig.sb.requests.slice(before).some((q) => q.method === 'GET' && q.path.startsWith('/v2/Users') && q.query.includes('entitlements'))).to.equal(true);
  });

  it('lists all 250 Entitlements although a listing of them stops at 200 (the rest paged by id gt)', async () => {
    const data = JSON.parse(readFileSync(join(ROOT, 'samples/directory.salesforce.json'), 'utf8')) as { Entitlements: Array<Record<string, unknown>> };
    // Not in id order, so that the first 200 are not simply the lowest ids.
    for (let i = 246; i >= 1; i--) {
      data.Entitlements.push({ schemas: ['urn:salesforce:schemas:extension:2.0:Entitlement'], id: `0PS5g00000P${String(i).padStart(7, '0')}`, displayName: `Set ${i}`, type: 'PermissionSet' });
    }
    rig.sb = await startRig('salesforce', { data: data as never });
    const env = RIGS.salesforce.env(rig.sb);
    const r = await cli(['export', RIGS.salesforce.pipeline, '--entity', 'Entitlements', '--output', join(rig.dir, 'out'), '--no-progress'], { env });
    expect(r.code, r.stderr).to.equal(0);
    const ids = readFileSync(join(rig.dir, 'out', 'SalesforceExport_Entitlements.csv'), 'utf8').trim().split('\r\n').slice(1).map((l) => l.split(',')[0]);
    expect(ids).to.have.length(250);
    expect(new Set(ids).size).to.equal(250);
    expect(ids).to.include.members(data.Entitlements.map((e) => e.id as string));
    // The server side of it: an unfiltered page past 200 is refused, as Salesforce does.
    expect(rig.sb.requests.some((q) => q.path === '/v2/Entitlements' && q.status === 400)).to.equal(true);
    expect(rig.sb.requests.some((q) => q.path === '/v2/Entitlements' && decodeURIComponent(q.query.replace(/\+/g, ' ')).includes('id gt'))).to.equal(true);
  });
});
