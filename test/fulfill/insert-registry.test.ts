/**
 * The run's insert registry: what `@orderId` memberships wait for. Only the
 * inserts a membership line names are kept once settled (memory flat however
 * many users a run creates); the names come from a first pass over the
 * membership files, read with the order reader itself.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { RunInserts } from '../../lib/fulfill/executor.js';
import { isReferenced, referencedInserts } from '../../lib/fulfill/referenced-inserts.js';
import { classifyOrderFile, orderFiles } from '../../lib/streams/sources/csv-order-source.js';
import { BUILTIN_SCHEMAS } from '../../lib/scim/schemas.js';
import { tempDir } from './helpers.js';

describe('fulfill insert registry', () => {
  it('keeps the settled ids of the inserts a line may name, failures as failed', async () => {
    const r = new RunInserts(() => true);
    for (let i = 0; i < 1000; i++) r.settle(`o${i}`, i % 10 === 0 ? undefined : `id${i}`);
    expect(r.size).to.equal(1000);
    expect(await r.wait('o7')).to.equal('id7');
    expect(await r.wait('o10')).to.equal(undefined);
    expect(r.peek('o10')).to.deep.equal({});
  });

  it('forgets each other insert once settled, yet a waiter still learns its id', async () => {
    const r = new RunInserts((key) => key === 'o5');
    const waiting = r.wait('o1');
    expect(r.size).to.equal(1);
    for (let i = 0; i < 1000; i++) r.settle(`o${i}`, `id${i}`);
    expect(await waiting).to.equal('id1');
    expect(r.size).to.equal(1);
    expect(await r.wait('o5')).to.equal('id5');
  });

  it('a held insert whose answer was lost is not reported failed to its waiter until looked up, kept or not', async () => {
    for (const keep of [true, false]) {
      const r = new RunInserts(() => keep);
      r.hold('o1');
      const waiting = r.wait('o1');
      r.settle('o1', undefined);
      r.release('o1', 'found-by-lookup');
      expect(await waiting, `keep ${keep}`).to.equal('found-by-lookup');
      expect(r.size).to.equal(keep ? 1 : 0);
    }
  });
});

describe('fulfill: the inserts membership lines name', () => {
  it('reads the @ names of the membership files only (orderIds and line numbers), as the order reader parses them', async () => {
    const dir = tempDir({
      // A users file's cells are never references, whatever they hold.
      'orders/T_Users.csv': 'command,orderId,userName,title\ninsert,a,a@x,@b\ninsert,,n@x,\n',
      'orders/T_members_Groups.csv': '\uFEFFcommand,value,MemberId\nadd,g1,@a\nadd,g1,"@3"\nremove,g2,plain-id\nadd,g3,@\n',
      'orders/T_members_Entitlements.csv': 'command,value,MemberId\nadd,e1,@z\n',
    });
    const files = orderFiles(['T_Users.csv', 'T_members_Groups.csv', 'T_members_Entitlements.csv'].map((n) => classifyOrderFile(join(dir, 'orders', n))));
    const names = await referencedInserts({ files, schemas: BUILTIN_SCHEMAS, nullMarker: '#null' });
    expect([...names].sort()).to.deep.equal(['3', 'a', 'z']);
  });

  it('names an insert by its orderId, or one without an orderId by its line number', () => {
    const names = new Set(['a', '3']);
    expect(isReferenced(names, 'a')).to.equal(true);
    expect(isReferenced(names, 'b')).to.equal(false);
    expect(isReferenced(names, 'f0-l3')).to.equal(true);
    expect(isReferenced(names, 'f1-l3')).to.equal(true);
    expect(isReferenced(names, 'f0-l4')).to.equal(false);
  });
});
