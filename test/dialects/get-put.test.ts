/**
 * The GET + PUT update path (lib/fulfill/get-put.ts): for CyberArk containers,
 * which take no PATCH, and for any server whose ServiceProviderConfig says
 * `patch.supported: false` — through the real CLI against the sandbox.
 */
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { readResults } from '../fulfill/helpers.js';
import { perTestRig, RIGS, startRig, type DialectKey } from './helpers.js';

const TOUR_GUIDES = 'e9e30dba-f08f-4109-8486-d5c6a331660a';
const ZOE = 'b3c4d5e6-1111-4a2b-9c3d-000000000003';
const LUKASZ = 'b3c4d5e6-1111-4a2b-9c3d-000000000006';

describe('GET + PUT instead of PATCH', () => {
  const rig = perTestRig();

  async function fulfill(key: DialectKey, files: Record<string, string>, pipeline = RIGS[key].fulfillPipeline) {
    mkdirSync(join(rig.dir, 'orders'), { recursive: true });
    for (const [n, t] of Object.entries(files)) writeFileSync(join(rig.dir, 'orders', n), t);
    const before = rig.sb!.requests.length;
    const r = await cli(['fulfill', pipeline, '--orders', join(rig.dir, 'orders'), '--results', join(rig.dir, 'results')], { env: RIGS[key].env(rig.sb!) });
    const writes = rig.sb!.requests.slice(before).filter((q) => !/ServiceProviderConfig|Schemas|ResourceTypes|oauth2/.test(q.path)).map((q) => `${q.method} ${q.path}`);
    return { ...r, writes };
  }

  it('CyberArk: a container\'s privileged data changed by GET + PUT (containers take no PATCH)', async () => {
    rig.sb = await startRig('cyberark');
    const r = await fulfill('cyberark', { 'CyberArkExport_privilegedData_Containers.csv': 'command,value,MemberId\r\nadd,Empty-Safe,52_89\r\nremove,Finance,52_89\r\n' });
    expect(r.code, r.stderr).to.equal(0);
    const rows = await readResults(join(rig.dir, 'results', 'CyberArkExport_privilegedData_Containers.csv'));
    expect(rows.map((x) => [x.command, x.id, x.outcome])).to.deep.equal([
      ['add', 'Empty-Safe', 'ok'],
      ['remove', 'Finance', 'ok'],
    ]);
    expect(r.writes.map((w) => w.replace(/^(\w+) .*\/(Containers\/.*)$/, '$1 $2'))).to.have.members(['GET Containers/Empty-Safe', 'PUT Containers/Empty-Safe', 'GET Containers/Finance', 'PUT Containers/Finance']);
    const held = (id: string) => ((rig.sb!.store.get('Containers', id)!.privilegedData as Array<{ value: string }> | undefined) ?? []).map((p) => p.value);
    expect(held('Empty-Safe')).to.deep.equal(['52_89']);
    expect(held('Finance')).to.deep.equal(['52_88']);
  });

  for (const bulk of [false, true]) {
    it(`a server with patch.supported false: user updates and group members by GET + PUT${bulk ? ' (Bulk on: memberships go alone)' : ''}`, async () => {
      rig.sb = await startRig('rfc', { patch: false });
      const pipeline = join(rig.dir, 'p.yaml');
      writeFileSync(pipeline, `version: 1\nconnection:\n  identifier: SCIMExport\n  server: \${SCIM_SERVER}\n  oAuthToken: \${SCIM_TOKEN}\nfulfill:\n  serviceSupportBulk: ${bulk}\n`);
      const r = await fulfill(
        'rfc',
        {
          'SCIMExport_Users.csv': `command,id,title\r\nupdate,${LUKASZ},Engineer\r\n`,
          'SCIMExport_members_Groups.csv': `command,value,MemberId\r\nadd,${TOUR_GUIDES},${LUKASZ}\r\nremove,${TOUR_GUIDES},${ZOE}\r\n`,
        },
        pipeline,
      );
      expect(r.code, r.stderr).to.equal(0);
      expect(r.writes.some((w) => w.startsWith('PATCH'))).to.equal(false);
      expect(r.writes).to.include.members([`PUT /v2/Groups/${TOUR_GUIDES}`]);
      expect(r.writes.some((w) => w.endsWith('/Bulk'))).to.equal(bulk);
      expect(rig.sb.store.get('Users', LUKASZ)).to.deep.include({ title: 'Engineer' });
      expect(rig.sb.store.memberIds(TOUR_GUIDES)).to.have.members(['2819c223-7f76-453a-919d-413861904646', LUKASZ]);
      const rows = await readResults(join(rig.dir, 'results', 'SCIMExport_members_Groups.csv'));
      expect(rows.map((x) => x.outcome)).to.deep.equal(['ok', 'ok']);
    });
  }
});
