/** Salesforce quirks through the real CLI against the sandbox in Salesforce dialect. */
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { readResults, tempDir } from '../fulfill/helpers.js';
import { RIGS, startRig } from './helpers.js';

const ADA = '0055g00000A1b2cAAB';
const JOSE = '0055g00000A1b2dAAB';
const BOT = '0055g00000A1b2fAAB';

describe('Salesforce dialect end to end', () => {
  let sb: Sandbox | undefined;
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function fulfill(files: Record<string, string>) {
    sb ??= await startRig('salesforce');
    mkdirSync(join(dir, 'orders'), { recursive: true });
    for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, 'orders', n), t);
    const before = sb.requests.length;
    const r = await cli(['fulfill', RIGS.salesforce.pipeline, '--orders', join(dir, 'orders'), '--results', join(dir, 'results')], { env: RIGS.salesforce.env(sb) });
    return { ...r, sent: sb.requests.slice(before).map((q) => `${q.method} ${q.path}`) };
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
    const rows = await readResults(join(dir, 'results', 'SalesforceExport_Users.csv'));
    expect(rows.map((x) => x.outcome)).to.deep.equal(['ok', 'failed', 'failed', 'failed']);
    for (const [i, attr] of [[1, 'userPermissionsMarketingUser'], [2, 'CallCenterId'], [3, 'senderEmail']] as const) {
      expect(rows[i]!.detail).to.match(new RegExp(`^ERR_ORDER_NOT_WRITABLE: column '[^']*${attr}': Salesforce's SCIM API cannot write ${attr}`));
      expect(rows[i]!.attempts).to.equal('0');
    }
    const writes = r.sent.filter((s) => !s.startsWith('GET') && !s.startsWith('POST /oauth2'));
    expect(writes).to.deep.equal([`PATCH /v2/Users/${ADA}`]);
    expect(sb!.store.get('Users', JOSE)!.title).to.not.equal('Rep');
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
    const rows = await readResults(join(dir, 'results', 'SalesforceExport_members_Entitlements.csv'));
    expect(rows.map((x) => x.outcome)).to.deep.equal(['ok', 'ok', 'ok', 'failed', 'failed']);
    expect(rows[3]!.detail).to.match(/^ERR_ORDER_INVALID_LINK: a Salesforce user always has exactly one profile/);
    expect(rows[4]!.detail).to.match(/^ERR_ORDER_INVALID_LINK: "0PG5g0000000001AAA" is neither a profile/);
    const writes = r.sent.filter((s) => !s.startsWith('GET') && !s.startsWith('POST /oauth2'));
    expect(writes).to.deep.equal([`PATCH /v2/Users/${ADA}`, `PATCH /v2/Users/${ADA}`, `PATCH /v2/Users/${ADA}`]);
    const ents = (sb!.store.get('Users', ADA)!.entitlements as Array<{ value: string; type: string }>).map((e) => `${e.type}:${e.value}`);
    expect(ents).to.have.members(['PermissionSet:0PS5g000000XyZaGAK', 'Profile:00e5g000001AbCdAAK']);
    expect(sb!.store.get('Users', JOSE)!.entitlements).to.have.length(2);
  });
});
