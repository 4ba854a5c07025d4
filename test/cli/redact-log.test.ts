/** The redaction helper every log line and error passes through, and the logger's two formats. */
import { expect } from 'chai';
import { redact, registerSecret, safeUrl, clearSecrets } from '../../lib/redact.js';
import { Logger } from '../../lib/log.js';

function capture(format: 'text' | 'json', opts: { verbose?: boolean; quiet?: boolean } = {}) {
  const lines: string[] = [];
  const logger = new Logger({ format, ...opts, stream: { write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream });
  return { logger, lines };
}

describe('redact', () => {
  afterEach(() => clearSecrets());

  it('masks registered secrets and their URL and base64 encodings', () => {
    registerSecret('p@ss word/1');
    const b64 = Buffer.from('p@ss word/1').toString('base64');
    const out = redact(`a p@ss word/1 b ${encodeURIComponent('p@ss word/1')} c ${b64}`);
    expect(out).to.equal('a *** b *** c ***');
  });

  it('masks a secret with quotes or backslashes also in its JSON-escaped form', () => {
    const secret = 'Sup3r"Secret\\Pass';
    registerSecret(secret);
    expect(redact(JSON.stringify({ password: secret, other: 'x' }))).to.equal('{"password":"***","other":"x"}');
    expect(redact(`raw ${secret}`)).to.equal('raw ***');
  });

  it('ignores values too short to be secrets', () => {
    registerSecret('ab');
    expect(redact('abc tab')).to.equal('abc tab');
  });

  it('masks credentials it never saw: Authorization headers, bearer tokens, URL passwords, token fields', () => {
    expect(redact('Authorization: Bearer abc.def.ghi')).not.to.include('abc.def.ghi');
    expect(redact('{"authorization":"Basic dXNlcjpwYXNz"}')).not.to.include('dXNlcjpwYXNz');
    expect(redact('GET https://svc:hunter22@scim.example.com/v2/Users')).to.equal('GET https://svc:***@scim.example.com/v2/Users');
    expect(redact('access_token=eyJhbGciOi&x=1')).to.equal('access_token=***&x=1');
    expect(redact('{"client_secret":"s3cr3t","password":"pw123456"}')).to.equal('{"client_secret":"***","password":"***"}');
  });

  it('strips passwords and secret query parameters from URLs', () => {
    expect(safeUrl('https://u:pw@h.example/v2/Users?filter=x&access_token=zzz')).to.equal('https://u:***@h.example/v2/Users?filter=x&access_token=***');
  });
});

describe('Logger', () => {
  afterEach(() => clearSecrets());

  it('writes text lines with fields and a level prefix, redacted', () => {
    registerSecret('tok-123456');
    const { logger, lines } = capture('text');
    logger.info('exported', { rows: 3, file: 'a.csv' });
    logger.warn('token tok-123456 refused');
    expect(lines).to.deep.equal(['exported rows=3 file=a.csv\n', 'warn: token *** refused\n']);
  });

  it('writes one JSON object per line with --log-format json', () => {
    const { logger, lines } = capture('json');
    logger.error('boom', { code: 'ERR_X' });
    const rec = JSON.parse(lines[0]!);
    expect(rec).to.include({ level: 'error', msg: 'boom', code: 'ERR_X' });
    expect(rec.time).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it('honours --quiet and --verbose', () => {
    const quiet = capture('text', { quiet: true });
    quiet.logger.info('hidden');
    quiet.logger.error('shown');
    expect(quiet.lines).to.deep.equal(['error: shown\n']);
    const normal = capture('text');
    normal.logger.debug('hidden');
    expect(normal.lines).to.deep.equal([]);
    const verbose = capture('text', { verbose: true });
    verbose.logger.debug('shown');
    expect(verbose.lines).to.deep.equal(['debug: shown\n']);
  });
});
