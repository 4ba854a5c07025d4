/** Slack quirks through the real CLI against the sandbox in Slack dialect. */
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { readResults } from '../fulfill/helpers.js';
import { perTestRig, RIGS, startRig } from './helpers.js';

const GUEST = 'urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User';
const TOUR_GUIDES = 'e9e30dba-f08f-4109-8486-d5c6a331660a';
const EMPTY_GROUP = '7c0f2e9d-6b5a-4c3d-8e1f-2a3b4c5d6e7f';

describe('Slack dialect end to end', () => {
  const rig = perTestRig();

  it('500 users through a rate limit: slowed down by 429s, every line ok', async function () {
    this.timeout(20_000);
    // Short periods so that each wait costs little: 40 writes per 250 ms, and a burst allowance of
    // 100 writes in a row then a 100 ms pause — a count, so it fires however slow the machine is.
    rig.sb = await startRig('slack', { rateLimit: { reads: 1000, writes: 40, windowMs: 250, burst: { writes: 100, pauseMs: 100 } } });
    mkdirSync(join(rig.dir, 'orders'));
    const lines = ['command,orderId,userName,displayName,emails:value,active,' + `${GUEST}:type`];
    for (let i = 1; i <= 500; i++) lines.push(`insert,u${i},user${i}@slack.example.com,User ${i},user${i}@slack.example.com,true,${i % 5 === 0 ? 'multi' : ''}`);
    writeFileSync(join(rig.dir, 'orders', 'SlackExport_Users.csv'), lines.join('\r\n') + '\r\n');
    const before = rig.sb.store.userCount;
    const r = await cli(['fulfill', RIGS.slack.pipeline, '--orders', join(rig.dir, 'orders'), '--results', join(rig.dir, 'results')], { env: RIGS.slack.env(rig.sb) });
    expect(r.code, r.stderr).to.equal(0);
    const rows = await readResults(join(rig.dir, 'results', 'SlackExport_Users.csv'));
    expect(rows).to.have.length(500);
    expect(rows.filter((x) => x.outcome !== 'ok')).to.deep.equal([]);
    expect(rig.sb.store.userCount).to.equal(before + 500);
    // It met the limit and waited (a retried line has attempts > 1), rather than failing.
    expect(rig.sb.requests.filter((q) => q.status === 429).length, r.stderr.slice(-400)).to.be.greaterThan(0);
    expect(rows.some((x) => Number(x.attempts) > 1)).to.equal(true);
    // Slowed down: the adaptive limit went below the pipeline's concurrency of 4.
    expect(r.stderr).to.match(/throttled=[1-9]/);
    expect(r.stderr).to.match(/lowestLimit=[123]\b/);
    const guest = rig.sb.store.users.find((u) => u.userName === 'user5@slack.example.com')!;
    expect(guest[GUEST]).to.deep.equal({ type: 'multi' });
  });

  it('users deactivated, groups deleted for good: the dialect decides what DELETE means', async () => {
    rig.sb = await startRig('slack');
    const sbRef = rig.sb;
    const del = async (path: string) => fetch(`${sbRef.url}/v2/${path}`, { method: 'DELETE', headers: { authorization: 'Bearer xoxp-slack-test' } });
    // The sandbox's side: DELETE /Users deactivates, DELETE /Groups removes.
    expect((await del('Groups/' + EMPTY_GROUP)).status).to.equal(204);
    expect(rig.sb.store.get('Groups', EMPTY_GROUP)).to.equal(undefined);
    // The client's side: a users delete line deactivates (PATCH), never a DELETE.
    mkdirSync(join(rig.dir, 'orders'));
    writeFileSync(join(rig.dir, 'orders', 'SlackExport_Users.csv'), 'command,id\r\ndelete,2819c223-7f76-453a-919d-413861904646\r\n');
    const before = rig.sb.requests.length;
    const r = await cli(['fulfill', RIGS.slack.pipeline, '--orders', join(rig.dir, 'orders'), '--results', join(rig.dir, 'results')], { env: RIGS.slack.env(rig.sb) });
    expect(r.code, r.stderr).to.equal(0);
    const sent = rig.sb.requests.slice(before).map((q) => q.method);
    expect(sent).to.include('PATCH');
    expect(sent).to.not.include('DELETE');
    expect(rig.sb.store.get('Users', '2819c223-7f76-453a-919d-413861904646')).to.deep.include({ active: false });
    expect(rig.sb.store.memberIds(TOUR_GUIDES)).to.include('2819c223-7f76-453a-919d-413861904646');
  });
});
