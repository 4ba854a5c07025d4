/**
 * Order files are read strictly: one test per kind of bad input. Each either
 * becomes a coded refusal of its own line(s) or a clear header error; none
 * crashes, none is sent in a corrupted form, and every line keeps its number.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOrders, classifyOrderFile, checkOrderHeaders, MAX_LINE_CHARS } from '../../lib/streams/sources/csv-order-source.js';
import { BUILTIN_SCHEMAS } from '../../lib/scim/schemas.js';
import { Logger } from '../../lib/log.js';
import type { OrderRecord } from '../../lib/fulfill/types.js';
import { collect, tempDir } from './helpers.js';

type Invalid = Extract<OrderRecord, { kind: 'invalid' }>;
type User = Extract<OrderRecord, { kind: 'user' }>;

function capture() {
  const lines: string[] = [];
  const logger = new Logger({ verbose: true, stream: { write: (s: string) => (lines.push(String(s)), true) } as unknown as NodeJS.WritableStream });
  return { logger, lines };
}

/** Reads one order file written byte for byte. */
async function readBytes(content: string | Buffer, opts: { name?: string; logger?: Logger } = {}): Promise<OrderRecord[]> {
  const dir = tempDir();
  const path = join(dir, opts.name ?? 'X_Users.csv');
  writeFileSync(path, content);
  return collect(readOrders({ files: [classifyOrderFile(path)], schemas: BUILTIN_SCHEMAS, nullMarker: '#null', ...(opts.logger ? { logger: opts.logger } : {}) }));
}

const summary = (recs: OrderRecord[]) => recs.map((r) => [r.line.line, r.kind === 'invalid' ? r.error.code : r.kind]);
const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('order files are strict', () => {
  describe('line ends', () => {
    it('reads every line of a file mixing CRLF, LF and CR, with the right line numbers', async () => {
      const recs = await readBytes('command,userName\r\ninsert,a1\ninsert,a2\r\n\r\ninsert,"multi\r\nline"\ninsert,a4\rinsert,a5\n\ninsert,a6');
      expect(summary(recs)).to.deep.equal([
        [2, 'user'],
        [3, 'user'],
        [5, 'user'],
        [7, 'user'],
        [8, 'user'],
        [10, 'user'],
      ]);
      expect((recs as User[]).map((r) => r.cells[0]!.value)).to.deep.equal(['a1', 'a2', 'multi\r\nline', 'a4', 'a5', 'a6']);
    });
  });

  describe('encoding', () => {
    it('refuses a line with invalid UTF-8 (BAD_ENCODING, the byte offset named) and reads the others', async () => {
      const head = 'command,userName\n';
      const recs = await readBytes(bytes(head, 'insert,ok1\n', 'insert,bad', [0xff], 'x\n', 'insert,ok2\n'));
      expect(summary(recs)).to.deep.equal([
        [2, 'user'],
        [3, 'ERR_ORDER_BAD_ENCODING'],
        [4, 'user'],
      ]);
      const bad = recs[1] as Invalid;
      const offset = Buffer.byteLength(head + 'insert,ok1\ninsert,bad');
      expect(bad.error.message).to.include(`byte offset ${offset} (byte 0xFF)`);
      expect(bad.error.context).to.include({ line: 3, offset });
      expect(bad.line.command).to.equal('insert');
    });

    it('refuses overlong forms, surrogates, cut sequences (also at the end of the file), and accepts real multi-byte text', async () => {
      const recs = await readBytes(
        bytes(
          'command,userName,displayName\n',
          'insert,u1,', [0xc0, 0x80], '\n', // overlong NUL
          'insert,u2,', [0xed, 0xa0, 0x80], '\n', // a UTF-16 surrogate
          'insert,u3,', [0xe2, 0x82], '\n', // cut short by the line end
          'insert,u4,Zoë 名前 😀\n',
          'insert,u5,', [0xf0, 0x9f, 0x98], // cut short by the end of the file
        ),
      );
      expect(summary(recs)).to.deep.equal([
        [2, 'ERR_ORDER_BAD_ENCODING'],
        [3, 'ERR_ORDER_BAD_ENCODING'],
        [4, 'ERR_ORDER_BAD_ENCODING'],
        [5, 'user'],
        [6, 'ERR_ORDER_BAD_ENCODING'],
      ]);
      expect((recs[3] as User).cells[1]!.value).to.equal('Zoë 名前 😀');
    });

    it('finds no fault in a multi-byte character cut by a read chunk boundary', async () => {
      // 64 KiB read chunks: put a 4-byte character across the first boundary.
      const filler = 'x'.repeat(64 * 1024 - 'command,userName\ninsert,'.length - 2);
      const recs = await readBytes(`command,userName\ninsert,${filler}😀😀\ninsert,b\n`);
      expect(summary(recs)).to.deep.equal([
        [2, 'user'],
        [3, 'user'],
      ]);
      expect(String((recs[0] as User).cells[0]!.value).endsWith('😀😀')).to.equal(true);
    });

    it('refuses every line of a UTF-16 file, saying so', async () => {
      const recs = await readBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('command,userName\ninsert,a\n', 'utf16le')]));
      // Line 2, and line 3 holding the NUL byte after the last LF.
      expect(recs.map((r) => (r as Invalid).error?.code)).to.deep.equal(['ERR_ORDER_BAD_ENCODING', 'ERR_ORDER_BAD_ENCODING']);
      expect((recs[0] as Invalid).error.message).to.match(/UTF-16 byte order mark: save it as UTF-8/);
    });

    it('reads a file with a UTF-8 byte order mark like one without', async () => {
      const recs = await readBytes('\ufeffcommand,userName\r\ninsert,a\r\n');
      expect(summary(recs)).to.deep.equal([[2, 'user']]);
    });
  });

  describe('header', () => {
    it('sends a column named in another case in the schema\'s case, with a note under --verbose', async () => {
      const { logger, lines } = capture();
      const recs = await readBytes('Command,UserName,NAME:GIVENNAME,urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:EmployeeNumber\ninsert,ada,Ada,42\n', { logger });
      expect(summary(recs)).to.deep.equal([[2, 'user']]);
      const cells = (recs[0] as User).cells.map((c) => c.path);
      expect(cells.map((p) => [p.schema, p.attr, p.sub])).to.deep.equal([
        [undefined, 'userName', undefined],
        [undefined, 'name', 'givenName'],
        ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', 'employeeNumber', undefined],
      ]);
      expect(lines.join('')).to.include("column 'UserName' is sent as 'userName', the schema's case");
    });

    for (const [what, head, col] of [
      ['the same attribute twice', 'command,userName,title,userName', 24],
      ['the same attribute in two cases', 'command,userName,UserName', 18],
      ['a core attribute also named with its schema URN', 'command,userName,urn:ietf:params:scim:schemas:core:2.0:User:userName', 18],
      ['a sub-attribute in two cases', 'command,userName,name:givenName,Name:GivenName', 33],
      ['the command column twice', 'command,userName,Command', 18],
    ] as const) {
      it(`refuses a header with ${what} (BAD_HEADER at its column, every line refused)`, async () => {
        const recs = await readBytes(`${head}\ninsert,a,b,c\ninsert,d,e,f\n`);
        expect(summary(recs)).to.deep.equal([
          [2, 'ERR_ORDER_BAD_HEADER'],
          [3, 'ERR_ORDER_BAD_HEADER'],
        ]);
        const err = (recs[0] as Invalid).error;
        expect(err.message).to.match(/repeats column \d+ .*give each column once/);
        expect(err.context).to.include({ line: 1, col });
      });
    }

    it('lists the header problems of every file before any line is read (for a run to refuse them whole)', async () => {
      const dir = tempDir({
        'A_Users.csv': 'command,userName\ninsert,a\n',
        'B_Users.csv': 'command,userName,USERNAME\ninsert,a,b\n',
        'D_Users.csv': '',
      });
      writeFileSync(join(dir, 'C_Users.csv'), bytes('command,userName\ninsert,', [0xff], '\n')); // a bad line, not a bad header
      writeFileSync(join(dir, 'E_Users.csv'), bytes('command,user', [0xff], '\ninsert,a\n'));
      const files = ['A', 'B', 'C', 'D', 'E'].map((n) => classifyOrderFile(join(dir, `${n}_Users.csv`)));
      const problems = await checkOrderHeaders({ files, schemas: BUILTIN_SCHEMAS, nullMarker: '#null' });
      expect(problems.map((p) => [p.code, p.context.file, p.context.line])).to.deep.equal([
        ['ERR_ORDER_BAD_HEADER', join(dir, 'B_Users.csv'), 1],
        ['ERR_ORDER_BAD_ENCODING', join(dir, 'E_Users.csv'), 1],
      ]);
    });

    it('refuses a membership file naming MemberId twice', async () => {
      const recs = await readBytes('command,value,MemberId,memberid\nadd,g,u,v\n', { name: 'X_members_Groups.csv' });
      expect(summary(recs)).to.deep.equal([[2, 'ERR_ORDER_BAD_HEADER']]);
    });
  });

  describe('empty and malformed files', () => {
    it('reads no order from an empty file and says so; a header-only file is simply no orders', async () => {
      const empty = capture();
      expect(await readBytes('', { logger: empty.logger })).to.deep.equal([]);
      expect(empty.lines.join('')).to.match(/warn: .*X_Users\.csv is empty \(not even a header line\)/);
      const blank = capture();
      expect(await readBytes('\r\n\n', { logger: blank.logger })).to.deep.equal([]);
      expect(blank.lines.join('')).to.match(/is empty/);
      const headerOnly = capture();
      expect(await readBytes('command,userName\r\n', { logger: headerOnly.logger })).to.deep.equal([]);
      expect(headerOnly.lines.join('')).not.to.match(/warn/);
    });

    it('refuses each line swallowed by a quote never closed, one record per line', async () => {
      const recs = await readBytes('command,userName,title\ninsert,a,ok\ninsert,"b,x\ndelete,c,\n\nupdate,d,y\n');
      expect(summary(recs)).to.deep.equal([
        [2, 'user'],
        [3, 'ERR_ORDER_CSV_SYNTAX'],
        [4, 'ERR_ORDER_CSV_SYNTAX'],
        [6, 'ERR_ORDER_CSV_SYNTAX'],
      ]);
      expect((recs[1] as Invalid).error.message).to.equal('a quote opened on line 3 is never closed: lines 3-6 were read as one cell; none of them is sent');
      expect(recs.slice(1).map((r) => r.line.command)).to.deep.equal(['insert', 'delete', 'update']);
    });

    it('refuses a 10 MB cell as its own line (LINE_TOO_LONG), fast, and reads the next line', async () => {
      const big = 'x'.repeat(10 * 1024 * 1024);
      // Quotes and commas after the cut still count: the next lines are read as written.
      const recs = await readBytes(`command,userName,title\ninsert,a,"${big},""quoted"",\nstill in the cell"\ninsert,b,${big}\ninsert,c,ok\n`);
      expect(summary(recs)).to.deep.equal([
        [2, 'ERR_ORDER_LINE_TOO_LONG'],
        [4, 'ERR_ORDER_LINE_TOO_LONG'],
        [5, 'user'],
      ]);
      expect((recs[0] as Invalid).error.message).to.equal(`the line is longer than ${MAX_LINE_CHARS} bytes: not sent`);
      expect((recs[0] as Invalid).error.message.length).to.be.below(200);
    });
  });
});
