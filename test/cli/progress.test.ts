/**
 * Progress for every long job: fulfill shows lines done / total, rate, ETA and
 * failures so far; on a TTY by default, forced with --progress or
 * SCIM_ETL_PROGRESS; with --log-format json only as JSON progress events.
 */
import { expect } from 'chai';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { run } from '../../lib/cli/main.js';
import { createProgress } from '../../lib/progress.js';
import { countOrderLines, countRecords } from '../../lib/fulfill/count-orders.js';
import { sink } from '../helpers/io.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'sandbox-token-for-progress';
/** Data lines of the shipped sample order files (without their headers). */
const SAMPLE_LINES = 10;

async function cli(argv: string[], env: Record<string, string>, cwd: string, tty = false) {
  const stdout = sink();
  const stderr = sink() as ReturnType<typeof sink> & { isTTY?: boolean };
  if (tty) stderr.isTTY = true;
  const code = await run({ argv, env, stdout, stderr, cwd });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('progress', function () {
  describe('createProgress', () => {
    it('text: failures so far after the rate, only when there are some', () => {
      const out = sink();
      let t = 0;
      let failed = 0;
      const p = createProgress({ stream: out, enabled: true, label: 'fulfill', now: () => t, intervalMs: 1000, detail: () => ({ failed }) });
      t = 1000;
      p.update(10, 40);
      failed = 2;
      t = 2000;
      p.update(20, 40);
      p.finish();
      expect(out.text()).to.equal('fulfill  10 / 40  25%  10/s  ETA 3s\nfulfill  20 / 40  50%  10/s  ETA 2s  2 failed\n');
    });

    it('json: one JSON progress event per report, typed, never text', () => {
      const out = sink() as ReturnType<typeof sink> & { isTTY?: boolean };
      out.isTTY = true;
      let t = 0;
      const p = createProgress({ stream: out, enabled: true, label: 'T_Users.csv', format: 'json', now: () => t, intervalMs: 1000, detail: () => ({ failed: 1 }) });
      t = 2000;
      p.update(50, 200);
      t = 4000;
      p.update(200, 200);
      p.finish();
      const lines = out.text().trim().split('\n');
      expect(out.text()).not.to.include('\r');
      const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events).to.have.length(3);
      expect(events[0]).to.include({ level: 'info', event: 'progress', label: 'T_Users.csv', done: 50, total: 200, percent: 25, rate: 25, etaSeconds: 6, elapsedSeconds: 2, failed: 1, final: false });
      expect(events[2]).to.include({ done: 200, percent: 100, final: true });
      expect(events[2]).not.to.have.property('etaSeconds');
    });
  });

  describe('countOrderLines (the fulfill total)', () => {
    it('counts CSV records: line breaks inside quotes, doubled quotes, CRLF, blank lines, no final newline', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'scim-etl-count-'));
      const a = join(dir, 'a.csv');
      writeFileSync(a, 'command,orderId,title\r\ninsert,1,"two\r\nlines"\r\n\r\ninsert,2,"say ""hi"", then\nbye"\ninsert,3,x');
      const b = join(dir, 'b.csv');
      writeFileSync(b, 'command,orderId\n\n');
      expect(await countRecords(a)).to.equal(4);
      expect(await countOrderLines([a, b])).to.equal(3);
    });
  });

  describe('fulfill', () => {
    let sb: Sandbox;
    let dir: string;
    let env: Record<string, string>;
    let file: string;
    beforeEach(async () => {
      sb = await startSandbox({ port: 0, data: join(ROOT, 'samples/directory.json'), token: TOKEN });
      env = { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
      dir = mkdtempSync(join(tmpdir(), 'scim-etl-progress-'));
      cpSync(join(ROOT, 'samples/orders'), join(dir, 'orders'), { recursive: true });
      file = join(dir, 'p.yaml');
      writeFileSync(file, ['version: 1', 'connection:', '  identifier: SCIMExport', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'fulfill:', '  orders: orders', '  results: results', '  serviceSupportBulk: true', '  bulkMaxOperation: 2', ''].join('\n'));
    });
    afterEach(async () => {
      await sb?.stop();
    });

    it('shows lines done / total on a TTY, the line ended before the summary', async () => {
      const r = await cli(['fulfill', file], env, dir, true);
      expect(r.code, r.stderr).to.be.oneOf([0, 2]);
      expect(r.stderr).to.include(`\r\x1b[Kfulfill  ${SAMPLE_LINES} / ${SAMPLE_LINES}  100%`);
      expect(r.stderr).to.match(/100%[^\n]*\nfulfill: \d+ ok/);
      expect(r.stdout).to.equal('');
    });

    it('shows none when stderr is not a TTY, or with SCIM_ETL_PROGRESS=0 on a TTY', async () => {
      const plain = await cli(['fulfill', file], env, dir);
      expect(plain.stderr).not.to.match(/fulfill {2}\d/);
      const off = await cli(['fulfill', file, '--restart'], { ...env, SCIM_ETL_PROGRESS: '0' }, dir, true);
      expect(off.stderr).not.to.match(/fulfill {2}\d/);
    });

    it('is forced by SCIM_ETL_PROGRESS=1 (plain lines, no redraw)', async () => {
      const r = await cli(['fulfill', file], { ...env, SCIM_ETL_PROGRESS: '1' }, dir);
      expect(r.stderr).to.match(new RegExp(`^fulfill {2}${SAMPLE_LINES} / ${SAMPLE_LINES} {2}100%`, 'm'));
      expect(r.stderr).not.to.include('\r');
    });

    it('--progress --log-format json: progress only as JSON events, every line JSON', async () => {
      const r = await cli(['fulfill', file, '--progress', '--log-format', 'json'], env, dir, true);
      const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const progress = events.filter((e) => e.event === 'progress');
      expect(progress.length).to.be.above(0);
      expect(progress.at(-1)).to.include({ label: 'fulfill', done: SAMPLE_LINES, total: SAMPLE_LINES, percent: 100, final: true });
      expect(progress.at(-1)!.failed).to.be.a('number');
    });
  });

  it('export with --progress --log-format json: JSON progress events, no text', async () => {
    const sb = await startSandbox({ port: 0, data: join(ROOT, 'samples/directory.json'), token: TOKEN });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'scim-etl-progress-'));
      const r = await cli(['export', join(ROOT, 'pipelines/export-users-groups.yaml'), '--entity', 'Users', '--output', join(dir, 'out'), '--progress', '--log-format', 'json'], { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN }, dir, true);
      expect(r.code, r.stderr).to.equal(0);
      const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.filter((e) => e.event === 'progress').at(-1)).to.include({ label: 'SCIMExport_Users.csv', done: 8, total: 8 });
    } finally {
      await sb.stop();
    }
  });
});
