import { expect } from 'chai';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mkdtemp, readFile, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { batchFormatter, csvTableSink, tableFormatter } from '../../lib/streams/sinks/csv-table-sink.js';
import { atomicFile } from '../../lib/streams/sinks/atomic-file.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('csvTableSink', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-sink-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an RFC 4180 table (CRLF, quoted when needed) that csv-parse reads back exactly', async () => {
    const columns = ['id', 'displayName', `${ENT}:manager:value`];
    const rows = [
      { id: '1', displayName: 'Zoë, "the" Ünïcødé 日本', [`${ENT}:manager:value`]: 'm1' },
      { id: '2', displayName: 'two\nlines\r\nand CRLF', [`${ENT}:manager:value`]: '' },
      { id: '3', displayName: ' leading and trailing ', [`${ENT}:manager:value`]: '=1+1' },
    ];
    const path = join(dir, 'X_Users.csv');
    await pipeline([Readable.from(rows), ...csvTableSink(path, { columns })]);
    const text = await readFile(path, 'utf8');
    expect(text.startsWith(`id,displayName,${ENT}:manager:value\r\n`)).to.equal(true);
    expect(text).to.include('"Zoë, ""the"" Ünïcødé 日本"');
    expect(text.endsWith('\r\n')).to.equal(true);
    const back = parse(text, { columns: true });
    expect(back).to.deep.equal(rows);
    expect(await readdir(dir)).to.deep.equal(['X_Users.csv']);
  });

  it('escapes formulas when asked', async () => {
    const path = join(dir, 'f.csv');
    await pipeline([Readable.from([{ a: '=HYPERLINK("x")' }, { a: '+1' }, { a: 'ok' }]), ...csvTableSink(path, { columns: ['a'], escapeFormulas: true })]);
    const back = parse(await readFile(path, 'utf8'), { columns: true });
    expect(back.map((r: { a: string }) => r.a)).to.deep.equal(["'=HYPERLINK(\"x\")", "'+1", 'ok']);
  });

  it('writes a header even for an empty table', async () => {
    const path = join(dir, 'empty.csv');
    await pipeline([Readable.from([]), ...csvTableSink(path, { columns: ['value', 'MemberId'] })]);
    expect(await readFile(path, 'utf8')).to.equal('value,MemberId\r\n');
  });

  it('writes NDJSON rows with keys in column order', async () => {
    const path = join(dir, 'x.ndjson');
    await pipeline([Readable.from([{ b: '2', a: 'é"' }]), ...csvTableSink(path, { columns: ['a', 'b'], format: 'ndjson' })]);
    const text = await readFile(path, 'utf8');
    expect(text).to.equal('{"a":"é\\"","b":"2"}\n');
  });

  it('leaves the previous file untouched and removes the temp file when the source fails mid-table', async () => {
    const path = join(dir, 'X_Users.csv');
    await writeFile(path, 'id\r\nold\r\n');
    async function* failing() {
      for (let i = 0; i < 5000; i++) yield { id: String(i) };
      throw new Error('server went away');
    }
    let err: Error | undefined;
    try {
      await pipeline([Readable.from(failing()), ...csvTableSink(path, { columns: ['id'] })]);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.equal('server went away');
    expect(await readFile(path, 'utf8')).to.equal('id\r\nold\r\n');
    expect(await readdir(dir)).to.deep.equal(['X_Users.csv']);
  });

  it('removes the temp file on abort', async () => {
    const path = join(dir, 'a.csv');
    const ac = new AbortController();
    const slow = new Transform({
      objectMode: true,
      transform(row, _e, done) {
        if (row.id === '10') ac.abort(new Error('interrupted'));
        done(null, row);
      },
    });
    const rows = Array.from({ length: 100 }, (_, i) => ({ id: String(i) }));
    let err: Error | undefined;
    const stages = csvTableSink(path, { columns: ['id'] });
    const file = stages.at(-1)!;
    try {
      await pipeline([Readable.from(rows), slow, ...stages], { signal: ac.signal });
    } catch (e) {
      err = e as Error;
    }
    expect(err).to.exist;
    // pipeline() settles before the file's async clean-up: wait for it, not for a guessed time.
    if (!file.closed) await new Promise((r) => file.once('close', r));
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('reports an unwritable directory with ERR_EXPORT_OUTPUT', async () => {
    let err: any;
    try {
      await pipeline(Readable.from(['x']), atomicFile(join(dir, 'missing', 'x.csv')));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_EXPORT_OUTPUT');
    expect(err.message).to.match(/ENOENT/);
  });

  it('writes the same bytes a batch of rows at a time (batchFormatter) as row by row, empty batches and tables included', async () => {
    const text = async (stages: Transform[], input: unknown[]) => {
      const parts: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          parts.push(chunk.toString('utf8'));
          done();
        },
      });
      await pipeline([Readable.from(input, { objectMode: true }), ...stages, sink]);
      return parts.join('');
    };
    const rows = [{ value: 'g1', MemberId: 'u,1' }, { value: '=g"2', MemberId: '' }, { value: 'g3\n', MemberId: 'é' }, { value: 'g4' }] as Array<Record<string, string>>;
    const columns = ['value', 'MemberId'];
    for (const opts of [{ columns }, { columns, escapeFormulas: true }, { columns, format: 'ndjson' as const }]) {
      const byRow = await text(tableFormatter(opts), rows);
      expect(await text([batchFormatter(opts)], [rows.slice(0, 1), [], rows.slice(1)])).to.equal(byRow);
      expect(await text([batchFormatter(opts)], [])).to.equal(await text(tableFormatter(opts), []));
    }
  });

  it('rejects bad options with ERR_OPTION_TABLE_FORMAT', () => {
    expect(() => tableFormatter({ columns: [] })).to.throw().with.property('code', 'ERR_OPTION_TABLE_FORMAT');
    expect(() => tableFormatter({ columns: ['a', 'a'] })).to.throw().with.property('code', 'ERR_OPTION_TABLE_FORMAT');
    expect(() => tableFormatter({ columns: ['a'], format: 'xml' as never })).to.throw(/got "xml"/);
  });
});
