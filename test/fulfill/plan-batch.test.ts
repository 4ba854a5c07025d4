import { expect } from 'chai';
import { Readable } from 'node:stream';
import { parseColumnPath } from '../../lib/scim/path.js';
import { OrderPlanner, createOrderPlanner } from '../../lib/streams/transforms/plan-orders.js';
import { Batcher } from '../../lib/streams/transforms/batch.js';
import { ScimEtlError } from '../../lib/errors.js';
import { memberOperations, plannedRequest } from '../../lib/fulfill/requests.js';
import { dialectOf } from '../../lib/scim/dialects/index.js';
import type { OrderLine, OrderRecord, PlanItem, PlannedOp } from '../../lib/fulfill/types.js';
import { collect } from './helpers.js';

let seq = 0;
const line = (orderId: string, command: string, id?: string): OrderLine => ({ seq: seq++, fileIndex: 0, file: 'f.csv', line: seq + 1, orderId, command, ...(id ? { id } : {}) });
const insert = (orderId: string, userName: string): OrderRecord => ({
  kind: 'user',
  line: line(orderId, 'insert'),
  command: 'insert',
  entity: 'Users',
  cells: [{ path: parseColumnPath('userName'), value: userName, multiValued: false }],
});
const member = (command: 'add' | 'remove', group: string, m: string): OrderRecord => ({ kind: 'member', line: line(String(seq + 2), command, group), command, entity: 'Groups', group, member: m });
const ops = (items: PlanItem[]) => items.filter((i): i is Extract<PlanItem, { kind: 'op' }> => i.kind === 'op').map((i) => i.op);

describe('plan orders', () => {
  beforeEach(() => (seq = 0));

  it('plans insert, update (PATCH of the given columns) and delete', async () => {
    const recs: OrderRecord[] = [
      insert('a', 'ada'),
      { kind: 'user', line: line('u', 'update', 'id1'), command: 'update', entity: 'Users', id: 'id1', cells: [{ path: parseColumnPath('name:givenName'), value: 'B', multiValued: false }, { path: parseColumnPath('title'), value: null, multiValued: false }] },
      { kind: 'user', line: line('d', 'delete', 'id2'), command: 'delete', entity: 'Users', id: 'id2', cells: [] },
    ];
    const items = await collect<PlanItem>(Readable.from(recs).pipe(createOrderPlanner()));
    const reqs = ops(items).map((op) => plannedRequest(op, (r) => `@${r}`));
    expect(reqs).to.deep.equal([
      { method: 'POST', path: '/Users', bulkId: 'a', body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada' }, orderRefs: ['a'] },
      {
        method: 'PATCH',
        path: '/Users/id1',
        body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'name.givenName', value: 'B' }, { op: 'remove', path: 'title' }] },
        orderRefs: ['u'],
      },
      { method: 'DELETE', path: '/Users/id2', orderRefs: ['d'] },
    ]);
  });

  it('gathers consecutive rows of a group into one PATCH, split at maxMembersPerPatch', () => {
    const p = new OrderPlanner({ maxMembersPerPatch: 2 });
    const items = [member('add', 'g1', 'u1'), member('remove', 'g1', 'u2'), member('add', 'g1', 'u3'), member('add', 'g2', 'u4')].flatMap((r) => p.push(r));
    items.push(...p.flush());
    const planned = ops(items) as Array<Extract<PlannedOp, { kind: 'members' }>>;
    expect(planned.map((o) => [o.group, o.members.map((m) => `${m.op}:${m.member}`)])).to.deep.equal([
      ['g1', ['add:u1', 'remove:u2']],
      ['g1', ['add:u3']],
      ['g2', ['add:u4']],
    ]);
  });

  it('refuses duplicate insert orderIds, unknown @references and invalid rows as outcomes, without breaking a group', () => {
    const p = new OrderPlanner();
    const items = [
      insert('a', 'ada'),
      insert('a', 'again'),
      member('add', 'g1', '@a'),
      { kind: 'invalid', line: line('x', 'add'), error: new ScimEtlError('ERR_ORDER_MISSING_VALUE', 'empty') } as OrderRecord,
      member('add', 'g1', '@nobody'),
      member('add', 'g1', 'u9'),
    ].flatMap((r) => p.push(r));
    items.push(...p.flush());
    const outcomes = items.flatMap((i) => (i.kind === 'outcome' ? [[i.outcome.orderId, i.outcome.detail?.split(':')[0]]] : []));
    expect(outcomes).to.deep.equal([
      ['a', 'ERR_ORDER_DUPLICATE_ORDER_ID'],
      ['x', 'ERR_ORDER_MISSING_VALUE'],
      ['6', 'ERR_ORDER_UNKNOWN_REFERENCE'],
    ]);
    const group = ops(items).find((o) => o.kind === 'members') as Extract<PlannedOp, { kind: 'members' }>;
    expect(group.members.map((m) => m.ref ?? m.member)).to.deep.equal(['a', 'u9']);
  });

  it('keys inserts without an orderId by file and line: the same line in two users files is no duplicate', () => {
    const numbered = (fileIndex: number, lineNo: number): OrderRecord => ({
      kind: 'user',
      line: { seq: seq++, fileIndex, file: `${fileIndex}_Users.csv`, line: lineNo, orderId: String(lineNo), command: 'insert', key: `f${fileIndex}-l${lineNo}` },
      command: 'insert',
      entity: 'Users',
      cells: [{ path: parseColumnPath('userName'), value: `u${fileIndex}`, multiValued: false }],
    });
    const twoFiles = new OrderPlanner();
    const items = [numbered(0, 2), numbered(1, 2), insert('2', 'named'), member('add', 'g1', '@2'), member('add', 'g1', '@3')].flatMap((r) => twoFiles.push(r)).concat(twoFiles.flush());
    expect(ops(items).map((op) => (op.kind === 'insert' ? [op.bulkId, op.lines[0].orderId] : [op.kind]))).to.deep.equal([
      ['f0-l2', '2'],
      ['f1-l2', '2'],
      ['2', '2'],
      ['members'],
    ]);
    // An explicit orderId wins over a line number.
    const patch = ops(items)[3] as Extract<PlannedOp, { kind: 'members' }>;
    expect(patch.members.map((m) => m.ref)).to.deep.equal(['2']);
    expect(items.filter((i) => i.kind === 'outcome').map((i) => (i.kind === 'outcome' ? i.outcome.detail?.split(':')[0] : ''))).to.deep.equal(['ERR_ORDER_UNKNOWN_REFERENCE']);

    // @<line> names the line-numbered insert of a single users file; of several, it is ambiguous.
    const one = new OrderPlanner();
    const single = [numbered(0, 2), member('add', 'g1', '@2')].flatMap((r) => one.push(r)).concat(one.flush());
    expect((ops(single)[1] as Extract<PlannedOp, { kind: 'members' }>).members[0]!.ref).to.equal('f0-l2');
    const several = new OrderPlanner();
    const refused = [numbered(0, 2), numbered(1, 2), member('add', 'g1', '@2')].flatMap((r) => several.push(r));
    expect(refused.map((i) => (i.kind === 'outcome' ? i.outcome.detail : i.op.kind))).to.deep.equal([
      'insert',
      'insert',
      'ERR_ORDER_AMBIGUOUS_REFERENCE: MemberId @2 could name line 2 of 2 users files: give those inserts an orderId',
    ]);
  });

  it('skips an update whose cells are all empty', () => {
    const p = new OrderPlanner();
    const [item] = p.push({ kind: 'user', line: line('u', 'update', 'id'), command: 'update', entity: 'Users', id: 'id', cells: [] });
    expect(item).to.deep.include({ kind: 'outcome' });
    expect((item as Extract<PlanItem, { kind: 'outcome' }>).outcome.outcome).to.equal('skipped');
  });

  it('rejects a bad maxMembersPerPatch with a coded error', () => {
    expect(() => new OrderPlanner({ maxMembersPerPatch: 0 })).to.throw().with.property('code', 'ERR_OPTION_MAX_MEMBERS');
  });

  it('merges consecutive member adds and keeps removes in order', () => {
    expect(memberOperations([{ op: 'add', value: '1' }, { op: 'add', value: '2' }, { op: 'remove', value: '3' }, { op: 'add', value: '4' }])).to.deep.equal([
      { op: 'add', path: 'members', value: [{ value: '1' }, { value: '2' }] },
      { op: 'remove', path: 'members[value eq "3"]' },
      { op: 'add', path: 'members', value: [{ value: '4' }] },
    ]);
    expect(memberOperations([{ op: 'add', value: '1' }], { dialect: dialectOf('Salesforce') })[0]!.value).to.deep.equal({ members: [{ value: '1' }] });
  });
});

describe('batch', () => {
  const op = (n: number): PlanItem => ({ kind: 'op', op: { kind: 'delete', lines: [line(String(n), 'delete', `id${n}`)], entity: 'Users', id: `id${n}` } });
  const sizes = (items: ReturnType<Batcher['push']>) => items.map((b) => (b.kind === 'batch' ? b.ops.length : 'outcome'));

  it('cuts batches at maxOperations and lets outcomes through at once', () => {
    const b = new Batcher({ maxOperations: 2, maxPayloadSize: 1_000_000 });
    const outcome: PlanItem = { kind: 'outcome', outcome: { seq: 99, fileIndex: 0, orderId: 'x', command: 'insert', outcome: 'failed', attempts: 0 } };
    const out = [op(1), op(2), outcome, op(3), op(4), op(5)].flatMap((i) => b.push(i));
    out.push(...b.flush());
    expect(sizes(out)).to.deep.equal(['outcome', 2, 2, 1]);
  });

  it('cuts batches at maxPayloadSize, and sends an oversized operation alone', () => {
    const b = new Batcher({ maxOperations: 100, maxPayloadSize: 1000, sizeOf: (o) => (o.kind === 'delete' && o.id === 'id3' ? 5000 : 300) });
    const out = [op(1), op(2), op(3), op(4)].flatMap((i) => b.push(i));
    out.push(...b.flush());
    expect(sizes(out)).to.deep.equal([2, 1, 1]);
  });

  it('rejects bad options with coded errors', () => {
    expect(() => new Batcher({ maxOperations: 0, maxPayloadSize: 1000 })).to.throw().with.property('code', 'ERR_OPTION_BULK_MAX_OPERATIONS');
    expect(() => new Batcher({ maxOperations: 1, maxPayloadSize: 10 })).to.throw().with.property('code', 'ERR_OPTION_BULK_MAX_PAYLOAD');
  });
});
