import { expect } from 'chai';
import { join } from 'node:path';
import { readOrders, classifyOrderFile, orderFiles } from '../../lib/streams/sources/csv-order-source.js';
import { BUILTIN_SCHEMAS } from '../../lib/scim/schemas.js';
import { parseColumnPath } from '../../lib/scim/path.js';
import { typeCell } from '../../lib/fulfill/columns.js';
import type { OrderRecord } from '../../lib/fulfill/types.js';
import { collect, tempDir } from './helpers.js';

const read = async (files: Record<string, string>) => {
  const dir = tempDir(files);
  const list = orderFiles(Object.keys(files).map((n) => classifyOrderFile(join(dir, n))));
  return collect(readOrders({ files: list, schemas: BUILTIN_SCHEMAS, nullMarker: '#null' }));
};
const codeOf = (r: OrderRecord) => (r.kind === 'invalid' ? r.error.code : r.kind);

describe('csv order source', () => {
  it('classifies files by name and puts users before memberships', () => {
    const files = orderFiles(['X_members_Groups.csv', 'X_Groups.csv', 'X_Users.csv'].map((n) => classifyOrderFile(`/o/${n}`)));
    expect(files.map((f) => [f.kind, f.entity])).to.deep.equal([
      ['users', 'Users'],
      ['members', 'Groups'],
      ['unsupported', 'Groups'],
    ]);
  });

  it('reads valid user orders with typed cells, orderId or line number as key, and the null marker', async () => {
    const recs = await read({
      'X_Users.csv': 'command,id,orderId,userName,active,title\ninsert,,o1,ada,true,Boss\nupdate,u2,,,false,#null\ndelete,u3,,,,\n',
    });
    expect(recs.map((r) => [r.kind, r.line.orderId, r.line.line, r.line.seq])).to.deep.equal([
      ['user', 'o1', 2, 0],
      ['user', '3', 3, 1],
      ['user', '4', 4, 2],
    ]);
    const [ins, upd] = recs as Array<Extract<OrderRecord, { kind: 'user' }>>;
    expect(ins!.cells.map((c) => [c.path.text, c.value])).to.deep.equal([
      ['userName', 'ada'],
      ['active', true],
      ['title', 'Boss'],
    ]);
    expect(upd!.cells.map((c) => [c.path.text, c.value])).to.deep.equal([
      ['active', false],
      ['title', null],
    ]);
  });

  it('turns every kind of bad row into an invalid record with its code and line, and goes on', async () => {
    const recs = await read({
      'X_Users.csv': [
        'command,id,userName,active,nope,meta:created,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager:displayName',
        'insert,,ok1,true,,,', // 2 ok
        'upsert,,a,,,,', // 3 unknown command
        'update,,a,,,,', // 4 missing id
        'delete,,,,,,', // 5 missing id
        'insert,,b,yes,,,', // 6 bad boolean
        'insert,,c,,x,,', // 7 unknown attribute
        'insert,,d,,,2024-01-01T00:00:00Z,', // 8 read-only
        'insert,,e,,,,Boss', // 9 read-only sub-attribute
        'insert,,f,true', // 10 column count
        'insert,,ok2,false,,,', // 11 ok
        'insert,,"g,,,,', // 12 CSV syntax: a quote never closed
      ].join('\n') + '\n',
    });
    expect(recs.map((r) => [r.line.line, codeOf(r)])).to.deep.equal([
      [2, 'user'],
      [3, 'ERR_ORDER_UNKNOWN_COMMAND'],
      [4, 'ERR_ORDER_MISSING_ID'],
      [5, 'ERR_ORDER_MISSING_ID'],
      [6, 'ERR_ORDER_BAD_VALUE'],
      [7, 'ERR_ORDER_UNKNOWN_ATTRIBUTE'],
      [8, 'ERR_ORDER_READONLY_ATTRIBUTE'],
      [9, 'ERR_ORDER_READONLY_ATTRIBUTE'],
      [10, 'ERR_ORDER_COLUMN_COUNT'],
      [11, 'user'],
      [12, 'ERR_ORDER_CSV_SYNTAX'],
    ]);
    const bad = recs[4] as Extract<OrderRecord, { kind: 'invalid' }>;
    expect(bad.error.message).to.match(/active.*true or false.*"yes"/);
    expect(bad.error.context).to.include({ line: 6, col: 4 });
  });

  it('takes JSON for a whole complex or multi-valued attribute', async () => {
    const recs = await read({
      'X_Users.csv': 'command,id,name,emails\nupdate,u1,"{""givenName"":""A""}","[{""value"":""a@x""}]"\nupdate,u1,{bad,\n',
    });
    expect(recs.map(codeOf)).to.deep.equal(['user', 'ERR_ORDER_BAD_VALUE']);
    expect((recs[0] as Extract<OrderRecord, { kind: 'user' }>).cells.map((c) => c.value)).to.deep.equal([{ givenName: 'A' }, [{ value: 'a@x' }]]);
  });

  it('types integer, decimal and dateTime cells and refuses what does not parse', () => {
    const info = (type: 'integer' | 'decimal' | 'dateTime') => ({ path: parseColumnPath('x'), multiValued: false, attribute: { name: 'x', type, multiValued: false, required: false, caseExact: false, mutability: 'readWrite' as const, returned: 'default' as const, uniqueness: 'none' as const } });
    expect(typeCell(info('integer'), '42')).to.equal(42);
    expect(typeCell(info('decimal'), '4.5')).to.equal(4.5);
    expect(typeCell(info('dateTime'), '2024-05-01T12:00:00Z')).to.equal('2024-05-01T12:00:00Z');
    for (const [type, text] of [['integer', '4.5'], ['decimal', 'abc'], ['dateTime', '2024-05-01'], ['dateTime', '2024-13-45T99:00:00Z']] as const) {
      expect(() => typeCell(info(type), text), `${type} ${text}`).to.throw().with.property('code', 'ERR_ORDER_BAD_VALUE');
    }
  });

  it('refuses an insert without the attributes the User schema requires', async () => {
    const recs = await read({ 'X_Users.csv': 'command,id,userName,title\ninsert,,,Boss\ninsert,,u,\nupdate,u1,,Boss\n' });
    expect(recs.map(codeOf)).to.deep.equal(['ERR_ORDER_MISSING_REQUIRED', 'user', 'user']);
  });

  it('fails every line of a file whose header is bad, one record per line', async () => {
    const recs = await read({
      'X_Users.csv': 'id,userName\nu1,a\nu2,b\n',
      'Y_Users.csv': 'command,id,name.givenName\ninsert,,A\n',
    });
    expect(recs.map((r) => [r.line.file, r.line.line, codeOf(r)])).to.deep.equal([
      ['X_Users.csv', 2, 'ERR_ORDER_BAD_HEADER'],
      ['X_Users.csv', 3, 'ERR_ORDER_BAD_HEADER'],
      ['Y_Users.csv', 2, 'ERR_ORDER_BAD_HEADER'],
    ]);
    const y = recs[2] as Extract<OrderRecord, { kind: 'invalid' }>;
    expect(y.error.message).to.match(/name\.givenName.*':'/);
    expect(y.error.context).to.include({ line: 1 });
  });

  it('reads membership orders and refuses bad ones and other entities', async () => {
    const recs = await read({
      'X_members_Groups.csv': 'command,value,MemberId\nadd,g1,u1\nremove,g1,@o1\njoin,g1,u2\nadd,,u3\nadd,g2,\n',
      'X_Roles.csv': 'command,id,displayName\ninsert,,Admins\n',
    });
    expect(recs.map((r) => [r.line.file, codeOf(r)])).to.deep.equal([
      ['X_members_Groups.csv', 'member'],
      ['X_members_Groups.csv', 'member'],
      ['X_members_Groups.csv', 'ERR_ORDER_UNKNOWN_COMMAND'],
      ['X_members_Groups.csv', 'ERR_ORDER_MISSING_VALUE'],
      ['X_members_Groups.csv', 'ERR_ORDER_MISSING_VALUE'],
      ['X_Roles.csv', 'ERR_ORDER_UNSUPPORTED_ENTITY'],
    ]);
    expect(recs[1]).to.deep.include({ kind: 'member', command: 'remove', group: 'g1', member: '@o1', entity: 'Groups' });
  });

  it('refuses a value filter that does not say what a new element holds, and one on a single-valued attribute', async () => {
    const recs = await read({ 'X_Users.csv': 'command,id,"emails[type ne ""work""]:value","name[givenName eq ""A""]:familyName"\ninsert,,a@x,\ninsert,,,B\ninsert,,,\n' });
    expect(recs.map(codeOf)).to.deep.equal(['ERR_ORDER_UNWRITABLE_COLUMN', 'ERR_ORDER_UNKNOWN_ATTRIBUTE', 'ERR_ORDER_MISSING_REQUIRED']);
  });

  it('numbers lines right after a multi-line quoted cell, with LF, CRLF, a BOM and blank lines', async () => {
    const cases: Record<string, string> = {
      lf: 'command,userName,title\ninsert,a@x,"t\nt"\ninsert,b@x,x\n',
      crlf: 'command,userName,title\r\ninsert,a@x,"t\r\nt"\r\ninsert,b@x,x\r\n',
      crlfBlank: '\uFEFFcommand,userName,title\r\n\r\ninsert,a@x,"t\r\n\r\nt"\r\n\r\n\r\ninsert,b@x,x\r\n',
      cr: 'command,userName,title\rinsert,a@x,"t\rt"\rinsert,b@x,x\r',
    };
    const got: Record<string, Array<[string, number]>> = {};
    for (const [name, csv] of Object.entries(cases)) got[name] = (await read({ 'X_Users.csv': csv })).map((r) => [r.line.orderId, r.line.line]);
    expect(got).to.deep.equal({
      lf: [['2', 2], ['4', 4]],
      crlf: [['2', 2], ['4', 4]],
      crlfBlank: [['3', 3], ['8', 8]],
      cr: [['2', 2], ['4', 4]],
    });
  });

  it('accepts columns of a schema it does not know, untyped', async () => {
    const recs = await read({ 'X_Users.csv': 'command,id,userName,urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User:type\ninsert,,u,multi\n' });
    expect(recs.map(codeOf)).to.deep.equal(['user']);
  });
});
