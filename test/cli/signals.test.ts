/**
 * Stop means stop: SIGINT / SIGTERM abort the run's signal, a second one (or
 * a run that will not stop) exits at once, and the exit code is 130 / 143.
 * The handler is driven with a fake process; real processes of bin/scim-etl,
 * stuck on a server that never answers, check the wiring.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exitCodeAfter, handleSignals, SIGNAL_EXIT, type SignalHost } from '../../lib/cli/signals.js';
import { startHttp } from '../helpers/http-server.js';
import { tempDir } from '../fulfill/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

function fakeProcess() {
  const events = new EventEmitter();
  const exits: number[] = [];
  const said: string[] = [];
  const host: SignalHost = {
    on: (e, l) => events.on(e, l),
    off: (e, l) => events.off(e, l),
    exit: (code) => void exits.push(code),
    stderr: { write: (t: string) => said.push(t) },
  };
  return { host, events, exits, said };
}

/** Starts `scim-etl <argv>` (from the repository, where tsx resolves); `ready` resolves once stderr matches. */
function start(argv: string[], cwd: string, ready: RegExp): { child: ChildProcess; ready: Promise<void>; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/scim-etl.ts'), ...argv], { cwd, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let resolveReady: () => void;
  const readyP = new Promise<void>((r) => (resolveReady = r));
  child.stderr!.on('data', (d) => {
    stderr += d;
    if (ready.test(stderr)) resolveReady();
  });
  const done = new Promise<{ code: number | null; stderr: string }>((r) => child.on('exit', (code) => r({ code, stderr })));
  return { child, ready: readyP, done };
}

describe('signals', () => {
  it('aborts the run on the first signal and exits at once on the second, with the first one\'s code', () => {
    const { host, events, exits, said } = fakeProcess();
    const controller = new AbortController();
    const h = handleSignals(controller, host, 60_000);
    events.emit('SIGINT');
    expect(controller.signal.aborted).to.equal(true);
    expect(controller.signal.reason).to.deep.include({ code: 'ERR_INTERRUPTED', message: 'interrupted by SIGINT' });
    expect(h.received).to.equal('SIGINT');
    expect(exits).to.deep.equal([]);
    events.emit('SIGTERM');
    expect(exits).to.deep.equal([130]);
    expect(said.join('')).to.match(/SIGINT: stopping.*\n.*SIGTERM again: exiting now/s);
    h.dispose();
    expect(events.listenerCount('SIGINT') + events.listenerCount('SIGTERM')).to.equal(0);
  });

  it('with JSON logs says so in JSON event lines (signal, action), not text', () => {
    const { host, events, said } = fakeProcess();
    const h = handleSignals(new AbortController(), host, 60_000, 'json');
    events.emit('SIGTERM');
    events.emit('SIGINT');
    const lines = said.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.level, l.event, l.signal, l.action])).to.deep.equal([
      ['warn', 'signal', 'SIGTERM', 'stopping'],
      ['warn', 'signal', 'SIGINT', 'exiting'],
    ]);
    h.dispose();
  });

  it('exits when the run has not stopped within the grace period', async () => {
    const { host, events, exits } = fakeProcess();
    const h = handleSignals(new AbortController(), host, 5);
    events.emit('SIGTERM');
    await new Promise((r) => setTimeout(r, 30));
    expect(exits).to.deep.equal([143]);
    h.dispose();
  });

  it('does not end a run that stopped in time', async () => {
    const { host, events, exits } = fakeProcess();
    const h = handleSignals(new AbortController(), host, 5);
    events.emit('SIGINT');
    h.dispose();
    await new Promise((r) => setTimeout(r, 30));
    expect(exits).to.deep.equal([]);
  });

  it('exits 130 / 143 for a run a signal stopped, and keeps 0 for one that still ended well (the sandbox)', () => {
    expect(SIGNAL_EXIT).to.deep.equal({ SIGINT: 130, SIGTERM: 143 });
    expect(exitCodeAfter(1, 'SIGINT')).to.equal(130);
    expect(exitCodeAfter(2, 'SIGTERM')).to.equal(143);
    expect(exitCodeAfter(0, 'SIGINT')).to.equal(0);
    expect(exitCodeAfter(1, undefined)).to.equal(1);
  });

  describe('a real process', function () {
    this.timeout(60_000);

    for (const [sig, exit] of Object.entries(SIGNAL_EXIT)) {
      it(`stops an export stuck on a server that never answers on ${sig}: exit ${exit}, no table written, no temp file left`, async () => {
        const server = await startHttp(() => undefined); // never replies
        try {
          const dir = tempDir();
          mkdirSync(join(dir, 'out'));
          writeFileSync(
            join(dir, 'p.yaml'),
            ['version: 1', 'connection:', '  identifier: S', `  server: ${server.url}`, '  oAuthToken: signal-test-token', '  retry: { limit: 0 }', 'export:', `  output: ${join(dir, 'out')}`, '  entities:', '    Users: { columns: [id, userName] }', ''].join('\n'),
          );
          const p = start(['export', join(dir, 'p.yaml')], ROOT, /^$/);
          let exited = false;
          void p.done.then(() => (exited = true));
          // Wait for the first request to be stuck.
          while (server.requests.length === 0 && !exited) await new Promise((r) => setTimeout(r, 20));
          expect(exited, 'the export exited before its first request').to.equal(false);
          p.child.kill(sig as NodeJS.Signals);
          const { code, stderr } = await p.done;
          expect(code, stderr).to.equal(exit);
          expect(stderr).to.include(`${sig}: stopping`);
          expect(stderr).to.include(`error: ERR_INTERRUPTED interrupted by ${sig}`);
          expect(stderr).not.to.match(/still running .* exiting now/);
          expect(readdirSync(join(dir, 'out'))).to.deep.equal([]);
          expect(existsSync(join(dir, 'out', 'S_Users.csv'))).to.equal(false);
        } finally {
          await server.close();
        }
      });
    }
  });
});
