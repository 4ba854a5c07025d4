/**
 * TLS settings of a connection, shared by the SCIM client, the token
 * endpoint and the secret stores: certificates are verified against the
 * system CAs plus `ca` (a PEM bundle path); `insecure` turns verification off.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ScimEtlError } from '../../errors.js';

export interface TlsOptions {
  /** Trusted CAs: the system's plus the configured bundle; undefined = Node's defaults. */
  ca?: string[];
  rejectUnauthorized: boolean;
}

/** Read a PEM file; a missing or non-PEM file is a configuration error (exit 78). */
export function readPem(path: string, setting: string, code = 'ERR_CONFIG_TLS_FILE'): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScimEtlError(code, `${setting}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { setting, path }, { cause: err, category: 'config' });
  }
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
    throw new ScimEtlError(code, `${setting}: ${path} is not a PEM file (no -----BEGIN line)`, { setting, path }, { category: 'config' });
  }
  return text;
}

export function tlsOptions(conn: { ca?: string; insecure?: boolean }): TlsOptions {
  const opts: TlsOptions = { rejectUnauthorized: !conn.insecure };
  // An explicit `ca` replaces Node's list, so the system roots are added back.
  if (conn.ca) opts.ca = [...rootCertificates, readPem(conn.ca, 'connection.ca')];
  return opts;
}
