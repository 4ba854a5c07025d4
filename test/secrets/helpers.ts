/**
 * Helpers for the secrets and canary tests, reusable by later canary tests
 * (export, fulfill, dry-run): build a Pipeline, make RSA keys, capture the
 * Logger, and assert that a canary value shows up nowhere.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Logger } from '../../lib/log.js';
import type { ConnectionConfig, Pipeline } from '../../lib/config/types.js';
import { testConnection, testFulfill } from '../helpers/model.js';

export function connection(over: Partial<ConnectionConfig> = {}): ConnectionConfig {
  return testConnection({ identifier: 'Sec', server: 'https://scim.example.test/api', timeoutMs: 2000, retry: { limit: 1, maxRetryAfterMs: 1000, backoffMs: 1 }, ...over });
}

export function pipeline(conn: Partial<ConnectionConfig> = {}, file = '/tmp/scim-etl-test/pipeline.yaml'): Pipeline {
  return { version: 1, file, connection: connection(conn), fulfill: testFulfill({ maxMembersPerPatch: 100, nullMarker: '<null>' }) };
}

/** A fresh RSA key pair written as PEM files in a temp directory. */
export function rsaKeys(bits = 2048): { dir: string; publicKey: string; privateKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'scim-etl-keys-'));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(join(dir, 'public.pem'), publicKey);
  writeFileSync(join(dir, 'private.pem'), privateKey);
  return { dir, publicKey: join(dir, 'public.pem'), privateKey: join(dir, 'private.pem') };
}

/** A verbose Logger (text or json) whose lines are kept for inspection. */
export function captureLogger(format: 'text' | 'json' = 'text'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = new Logger({ format, verbose: true, stream: { write: (s: string) => (lines.push(String(s)), true) } as unknown as NodeJS.WritableStream });
  return { logger, lines };
}

export async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Every way an error or a log could leak: message, format(), JSON, String(), stack, context. */
export function leakSurfaces(err: unknown): string[] {
  const e = err as Error & { format?: () => string; context?: unknown };
  return [
    e.message,
    typeof e.format === 'function' ? e.format() : '',
    JSON.stringify(e),
    String(e),
    e.stack ?? '',
    JSON.stringify(e.context ?? {}),
  ];
}

/** Assert the canary (and its usual encodings) appears in none of the texts. */
export function expectNoCanary(canary: string, texts: string[], what = 'output'): void {
  const forms = [canary, encodeURIComponent(canary), Buffer.from(canary).toString('base64')];
  for (const t of texts) for (const f of forms) expect(t, `${what} leaks the canary`).not.to.include(f);
}
