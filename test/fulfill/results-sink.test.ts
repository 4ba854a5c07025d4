import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultsWriter } from '../../lib/streams/sinks/results-sink.js';
import type { LineOutcome, OrderLine } from '../../lib/fulfill/types.js';
import { tempDir } from './helpers.js';

const outcome = (seq: number, fileIndex: number, extra: Partial<LineOutcome> = {}): LineOutcome => ({ seq, fileIndex, orderId: `o${seq}`, command: 'insert', outcome: 'ok', attempts: 1, ...extra });

describe('results writer', () => {
  it('writes rows in order-line order whatever order outcomes arrive in, one file per order file', async () => {
    const dir = tempDir();
    const w = new ResultsWriter(dir, ['A_Users.csv', 'A_members_Groups.csv']);
    await w.open();
    for (const o of [outcome(2, 0, { id: 'x', status: 201 }), outcome(0, 0), outcome(3, 1, { outcome: 'failed', detail: 'ERR_X: a, "quoted" detail', scimType: 'uniqueness', status: 409 }), outcome(1, 0)]) await w.write(o);
    await w.commit();
    expect(readFileSync(join(dir, 'A_Users.csv'), 'utf8')).to.equal('orderId,command,id,status,outcome,scimType,detail,attempts\no0,insert,,,ok,,,1\no1,insert,,,ok,,,1\no2,insert,x,201,ok,,,1\n');
    expect(readFileSync(join(dir, 'A_members_Groups.csv'), 'utf8')).to.equal('orderId,command,id,status,outcome,scimType,detail,attempts\no3,insert,,409,failed,uniqueness,"ERR_X: a, ""quoted"" detail",1\n');
    expect(readdirSync(dir).sort()).to.deep.equal(['A_Users.csv', 'A_members_Groups.csv']);
    expect(w.counts).to.deep.equal({ ok: 3, failed: 1, skipped: 0 });
  });

  it('fills lines without an outcome as skipped after a fatal error, keeping the outcomes it already has', async () => {
    const dir = tempDir();
    const w = new ResultsWriter(dir, ['R.csv']);
    await w.open();
    await w.write(outcome(0, 0));
    await w.write(outcome(2, 0, { id: 'created' }));
    async function* lines(): AsyncGenerator<OrderLine> {
      for (let seq = 0; seq < 4; seq++) yield { seq, fileIndex: 0, file: 'R.csv', line: seq + 2, orderId: `o${seq}`, command: 'insert' };
    }
    await w.fillSkipped(lines(), 'ERR_AUTH_REJECTED credentials refused');
    await w.commit();
    const rows = readFileSync(join(dir, 'R.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows).to.deep.equal(['o0,insert,,,ok,,,1', 'o1,insert,,,skipped,,not sent: ERR_AUTH_REJECTED credentials refused,0', 'o2,insert,created,,ok,,,1', 'o3,insert,,,skipped,,not sent: ERR_AUTH_REJECTED credentials refused,0']);
  });

  it('leaves the previous results untouched and no temp file when aborted', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'R.csv'), 'previous\n');
    const w = new ResultsWriter(dir, ['R.csv']);
    await w.open();
    await w.write(outcome(0, 0));
    await w.abort();
    expect(readdirSync(dir)).to.deep.equal(['R.csv']);
    expect(readFileSync(join(dir, 'R.csv'), 'utf8')).to.equal('previous\n');
  });

  it('refuses a second outcome for the same line (a bug, not data)', async () => {
    const w = new ResultsWriter(tempDir(), ['R.csv']);
    await w.open();
    await w.write(outcome(0, 0));
    let code: string | undefined;
    await w.write(outcome(0, 0)).catch((e) => (code = e.code));
    expect(code).to.equal('ERR_INTERNAL_RESULTS');
    await w.abort();
  });

  it('removes the temp files a hard-killed run left behind, and nothing else', async () => {
    const dir = tempDir({ '.R.csv.0a1b2c3d.tmp': 'half a run\n', '.T.journal.ndjson.deadbeef.tmp': 'x', '.T.journal.ndjson': '{}\n', 'keep.tmp': 'not ours\n', 'R.csv': 'previous\n' });
    const w = new ResultsWriter(dir, ['R.csv']);
    await w.open();
    expect(readdirSync(dir)).to.include.members(['.T.journal.ndjson', 'R.csv', 'keep.tmp']).and.not.include.members(['.R.csv.0a1b2c3d.tmp', '.T.journal.ndjson.deadbeef.tmp']);
    await w.write(outcome(0, 0));
    await w.commit();
    // The previous results are kept in runs/<time>/ (results-history.ts).
    expect(readdirSync(dir).sort()).to.deep.equal(['.T.journal.ndjson', 'R.csv', 'keep.tmp', 'runs']);
  });

  it('commits all its files together: until commit, every previous file is as it was', async () => {
    const dir = tempDir({ 'A.csv': 'previous A\n', 'B.csv': 'previous B\n' });
    const w = new ResultsWriter(dir, ['A.csv', 'B.csv']);
    await w.open();
    await w.write(outcome(0, 0));
    await w.write(outcome(1, 1));
    expect([readFileSync(join(dir, 'A.csv'), 'utf8'), readFileSync(join(dir, 'B.csv'), 'utf8')]).to.deep.equal(['previous A\n', 'previous B\n']);
    await w.commit();
    expect(readFileSync(join(dir, 'A.csv'), 'utf8')).to.match(/^orderId,.*\no0,/);
    expect(readFileSync(join(dir, 'B.csv'), 'utf8')).to.match(/^orderId,.*\no1,/);
    expect(readdirSync(dir).sort()).to.deep.equal(['A.csv', 'B.csv', 'runs']);
    // Both previous files moved together, into one folder of the earlier run, unchanged.
    const [run] = readdirSync(join(dir, 'runs'));
    expect(w.archived.map((p) => readFileSync(p, 'utf8'))).to.deep.equal(['previous A\n', 'previous B\n']);
    expect(w.archived).to.deep.equal([join(dir, 'runs', run!, 'A.csv'), join(dir, 'runs', run!, 'B.csv')]);
  });
});
