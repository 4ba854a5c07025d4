/**
 * Values reach the terminal inside log lines and error messages: their
 * control characters are shown escaped (text and JSON formats), never sent
 * raw, while TAB and LF of a message's own layout stay. Data files keep the
 * values as they are.
 */
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../../lib/log.js';
import { ScimEtlError } from '../../lib/errors.js';
import { reportError } from '../../lib/cli/main.js';
import { escapeControls } from '../../lib/terminal-safe.js';
import { cli, sink } from '../helpers/io.js';
import { tempDir } from '../fulfill/helpers.js';

/** A title that retitles the terminal, turns it red, rings, and hides itself behind a CR. */
const HOSTILE = 'ok\x1b]0;pwned\x07\x1b[31mred\r\x00\x7f\u009b2J\u202eevil';
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;

function capture(format: 'text' | 'json') {
  const lines: string[] = [];
  const logger = new Logger({ format, verbose: true, stream: { write: (s: string) => (lines.push(String(s)), true) } as unknown as NodeJS.WritableStream });
  return { logger, lines };
}

describe('terminal safety', () => {
  it('escapes C0 (but TAB and LF), DEL, C1 and bidi overrides', () => {
    expect(escapeControls(HOSTILE)).to.equal('ok\\x1b]0;pwned\\x07\\x1b[31mred\\x0d\\x00\\x7f\\x9b2J\\u202eevil');
    expect(escapeControls('a\tb\nc')).to.equal('a\tb\nc');
    expect(escapeControls('\u009b', 'json')).to.equal('\\u009b');
  });

  it('escapes control characters in text log lines, message and fields', () => {
    const { logger, lines } = capture('text');
    logger.warn(`order 7 refused: ${HOSTILE}`, { detail: HOSTILE });
    expect(lines).to.have.length(1);
    expect(lines[0]).not.to.match(RAW);
    expect(lines[0]).to.include('\\x1b]0;pwned\\x07');
    expect(lines[0]!.endsWith('\n')).to.equal(true);
  });

  it('keeps JSON log lines valid JSON with the same text, but no raw control character', () => {
    const { logger, lines } = capture('json');
    logger.error(HOSTILE, { detail: HOSTILE });
    expect(lines[0]).not.to.match(RAW);
    const rec = JSON.parse(lines[0]!);
    expect(rec.msg).to.equal(HOSTILE);
    expect(rec.detail).to.equal(HOSTILE);
  });

  for (const json of [false, true]) {
    it(`escapes them in a printed error (${json ? 'JSON' : 'text'})`, async () => {
      const out = sink();
      reportError(new ScimEtlError('ERR_SCIM_HTTP', `server said ${HOSTILE}`, { file: 'x\x1b.csv', line: 2 }), out, json);
      await new Promise((r) => setImmediate(r));
      expect(out.text()).not.to.match(RAW);
      if (json) expect(JSON.parse(out.text()).msg).to.include(HOSTILE);
      else expect(out.text()).to.include('x\\x1b.csv:2 ERR_SCIM_HTTP server said ok\\x1b]0;pwned');
    });
  }

  it('builds a lazy debug message only when debug is on', () => {
    let built = 0;
    const message = () => (built++, 'expensive');
    capture('text').logger.info(message);
    const quiet = new Logger({ stream: { write: () => true } as unknown as NodeJS.WritableStream });
    quiet.debug(message, () => ({ built: ++built }));
    expect(built).to.equal(1);
    const { logger, lines } = capture('text');
    logger.debug(message, () => ({ n: 1 }));
    expect(lines).to.deep.equal(['debug: expensive n=1\n']);
  });

  it('a fulfill dry run logs a refused hostile cell escaped, text and JSON', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'orders'));
    // active is a boolean: the hostile cell is refused, and its text is quoted in the refusal.
    writeFileSync(join(dir, 'orders', 'T_Users.csv'), `command,userName,active\r\ninsert,u1,"${HOSTILE}"\r\n`);
    const file = join(dir, 'p.yaml');
    writeFileSync(file, ['version: 1', 'connection:', '  identifier: T', '  server: https://scim.example.test', '  oAuthToken: terminal-test-token', 'fulfill:', '  orders: orders', '  results: results', ''].join('\n'));
    for (const format of ['text', 'json']) {
      const r = await cli(['fulfill', file, '--dry-run', '--log-format', format]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/ERR_ORDER_BAD_VALUE/);
      expect(r.stderr).not.to.match(RAW);
    }
  });
});
