/**
 * --log-format json: every stderr line of an export and of a fulfill run is
 * one JSON object with level and event, and the fields are typed (numbers as
 * numbers), so a log pipeline can filter on them without parsing `msg`.
 */
import { expect } from 'chai';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { run } from '../../lib/cli/main.js';
import { Logger } from '../../lib/log.js';
import { sink } from '../helpers/io.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'sandbox-token-for-log-events';

type Rec = Record<string, unknown>;

function parseLines(stderr: string): Rec[] {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines.length).to.be.above(0);
  return lines.map((l) => {
    let rec: Rec;
    try {
      rec = JSON.parse(l) as Rec;
    } catch {
      throw new Error(`not a JSON line: ${l}`);
    }
    expect(rec.level, l).to.be.oneOf(['error', 'warn', 'info', 'debug']);
    expect(rec.event, l).to.be.a('string').and.not.equal('');
    expect(rec.time, l).to.be.a('string');
    return rec;
  });
}

describe('structured log events (--log-format json)', function () {
  let sb: Sandbox;
  let env: Record<string, string>;
  beforeEach(async () => {
    sb = await startSandbox({ port: 0, data: join(ROOT, 'samples/directory.json'), token: TOKEN });
    env = { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
  });
  afterEach(async () => {
    await sb?.stop();
  });

  it('an export: request lines and table lines as typed fields, the URL without the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-etl-log-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, ['version: 1', 'connection:', '  identifier: L', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'export:', '  output: out', '  entities:', '    Users:', '      columns: [id, userName, active]', ''].join('\n'));
    const r = await cli(['export', file, '--log-format', 'json', '--verbose', '--no-progress'], { env, cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    const recs = parseLines(r.stderr);
    const requests = recs.filter((x) => x.event === 'http.request');
    expect(requests.length).to.be.above(0);
    for (const q of requests) {
      expect(q).to.include({ level: 'debug', method: 'GET' });
      expect(q.status).to.be.a('number');
      expect(q.ms).to.be.a('number');
      expect(q.url).to.be.a('string').and.match(/^http:\/\/127\.0\.0\.1:\d+\//);
    }
    const table = recs.find((x) => x.event === 'export.table');
    expect(table, r.stderr).to.include({ level: 'info', table: 'L_Users.csv', msg: 'exported' });
    expect(table!.rows).to.be.a('number').and.above(0);
    expect(table!.pages).to.be.a('number');
    expect(table!.seconds).to.be.a('number');
    expect(r.stderr).not.to.include(TOKEN);
  });

  it('SCIM_ETL_LOG_FORMAT=json and SCIM_ETL_LOG_LEVEL=debug / error set the format and level of every line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-etl-log-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, ['version: 1', 'connection:', '  identifier: L', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'export:', '  output: out', '  entities:', '    Users:', '      columns: [id]', ''].join('\n'));
    const debug = await cli(['export', file, '--no-progress'], { env: { ...env, SCIM_ETL_LOG_FORMAT: 'json', SCIM_ETL_LOG_LEVEL: 'debug' }, cwd: dir });
    expect(debug.code, debug.stderr).to.equal(0);
    const events = parseLines(debug.stderr).map((x) => x.event);
    expect(events).to.include('http.request').and.include('export.table');
    const quiet = await cli(['export', file, '--no-progress'], { env: { ...env, SCIM_ETL_LOG_LEVEL: 'error' }, cwd: dir });
    expect(quiet.code, quiet.stderr).to.equal(0);
    expect(quiet.stderr).to.equal('');
  });

  it('a fulfill: start and summary lines carry the counts as numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-etl-log-'));
    cpSync(join(ROOT, 'samples/orders'), join(dir, 'orders'), { recursive: true });
    const file = join(dir, 'p.yaml');
    writeFileSync(file, ['version: 1', 'connection:', '  identifier: SCIMExport', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'fulfill:', '  orders: orders', '  results: results', '  serviceSupportBulk: true', ''].join('\n'));
    const r = await cli(['fulfill', file, '--log-format', 'json', '--no-progress'], { env, cwd: dir });
    expect(r.code, r.stderr).to.be.oneOf([0, 2]);
    const recs = parseLines(r.stderr);
    const start = recs.find((x) => x.event === 'fulfill.start');
    expect(start, r.stderr).to.include({ level: 'info', mode: 'bulk', dryRun: false, files: 2 });
    const summary = recs.find((x) => x.event === 'fulfill.summary');
    expect(summary, r.stderr).to.exist;
    for (const k of ['ok', 'failed', 'skipped', 'requests', 'retries']) expect(summary![k], k).to.be.a('number');
    expect((summary!.ok as number) + (summary!.failed as number) + (summary!.skipped as number)).to.be.above(0);
    expect(summary!.level).to.equal((summary!.failed as number) > 0 ? 'warn' : 'info');
  });

  it('the sandbox command with --log-format json: its banner is one sandbox.ready event, then the stop', async () => {
    const controller = new AbortController();
    const err = sink();
    err.on('data', (d: Buffer) => {
      if (String(d).includes('sandbox.ready')) controller.abort();
    });
    const code = await run({ argv: ['sandbox', '--port', '0', '--log-format', 'json'], stdout: sink(), stderr: err, env: {}, cwd: ROOT, signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    expect(code).to.equal(0);
    const recs = parseLines(err.text());
    expect(recs.map((x) => x.event)).to.deep.equal(['sandbox.ready', 'message']);
    expect(recs[0]!.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(recs[0]!.users).to.be.a('number').and.above(0);
  });

  it('text output: an event prints its human line; a plain message keeps its key=value fields', () => {
    const out = sink();
    const log = new Logger({ stream: out });
    log.emit('info', 'export.table', { table: 'T.csv', rows: 3 }, (f) => ({ msg: 'exported', append: f }));
    log.emit('warn', 'x.y', { n: 1 }, 'something odd');
    log.emit('info', 'bare', { a: 'b', skipped: undefined });
    log.info('plain', { k: 2 });
    expect(out.text()).to.equal('exported table=T.csv rows=3\nwarn: something odd\nbare a=b\nplain k=2\n');
  });

  it('JSON: a plain message gets a default event by level; fields never overwrite time, level or event', () => {
    const out = sink();
    const log = new Logger({ stream: out, format: 'json', verbose: true });
    log.info('hello', { level: 'sneaky', n: 5 });
    log.warn('careful');
    log.error('broken');
    log.emit('debug', 'http.request', () => ({ method: 'GET', status: 200, ms: 4, event: 'other' }));
    const recs = out.text().trim().split('\n').map((l) => JSON.parse(l) as Rec);
    expect(recs.map((x) => [x.level, x.event])).to.deep.equal([
      ['info', 'message'],
      ['warn', 'warning'],
      ['error', 'error'],
      ['debug', 'http.request'],
    ]);
    expect(recs[0]).to.include({ msg: 'hello', n: 5 });
    expect(recs[3]).to.include({ status: 200, ms: 4 });
    expect(recs[3]).not.to.have.property('msg');
  });
});

describe('README log events table', () => {
  it('documents every event the code emits, and no other', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
    const emitted = new Set<string>(['progress', 'signal', 'config.problem', 'error', 'warning', 'message']);
    for (const f of files(join(ROOT, 'lib'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\.emit(?:<[^>]*>)?\(\s*(?:'(?:error|warn|info|debug)'|[^,]+?),\s*'([a-z_.]+)'/g)) emitted.add(m[1]!);
    }
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Log events'), readme.indexOf('Errors are one line each'));
    const documented = new Set([...section.matchAll(/^\| `([a-z_.]+)`(?:, `([a-z_.]+)`)? \|/gm)].flatMap((m) => [m[1]!, m[2]].filter((x): x is string => Boolean(x))));
    expect([...emitted].sort()).to.deep.equal([...documented].sort());
  });
});
