/**
 * The incremental cookie: `<output>/<identifier>.cookie.json` (or
 * `export.syncCookiesFile`), one entry per entity — the watermark (the largest
 * `meta.lastModified` a committed run saw) and the probe's verdict on whether
 * the server filters on `meta.lastModified` at all.
 *
 * It is read once at the start of a run and replaced (temp file + rename) only
 * right after that run's tables are committed, never before: a failed run
 * leaves it as it was.
 */
import { readFile } from 'node:fs/promises';
import { ScimEtlError } from '../errors.js';

/** Whether the server really filters on meta.lastModified (see probe.ts). */
export interface ProbeVerdict {
  filters: boolean;
  /** Why not, in words (shown in the warning of every later run). */
  reason?: string;
  /** When the probe ran (local clock, ISO). */
  at: string;
}

export interface EntityCookie {
  /** The largest meta.lastModified seen by the last committed run, as the server wrote it. */
  watermark?: string;
  probe?: ProbeVerdict;
}

export interface Cookie {
  version: 1;
  entities: Record<string, EntityCookie>;
}

export const emptyCookie = (): Cookie => ({ version: 1, entities: {} });

/** The cookie at `file`; an absent file is an empty cookie (the first run). */
export async function readCookie(file: string): Promise<Cookie> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyCookie();
    throw cookieError(file, `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  return parseCookie(text, file);
}

export function parseCookie(text: string, file: string): Cookie {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw cookieError(file, `not JSON (${(err as Error).message})`, err);
  }
  const v = value as { version?: unknown; entities?: unknown };
  if (!v || typeof v !== 'object' || v.version !== 1 || !v.entities || typeof v.entities !== 'object' || Array.isArray(v.entities)) {
    throw cookieError(file, 'expected {"version": 1, "entities": {…}}');
  }
  const entities: Record<string, EntityCookie> = {};
  for (const [name, raw] of Object.entries(v.entities as Record<string, unknown>)) {
    const e = raw as { watermark?: unknown; probe?: { filters?: unknown; reason?: unknown; at?: unknown } } | null;
    if (!e || typeof e !== 'object') throw cookieError(file, `entities.${name} is not an object`);
    const out: EntityCookie = {};
    if (e.watermark !== undefined) {
      if (typeof e.watermark !== 'string' || Number.isNaN(Date.parse(e.watermark))) throw cookieError(file, `entities.${name}.watermark is not a date: ${JSON.stringify(e.watermark)}`);
      out.watermark = e.watermark;
    }
    if (e.probe !== undefined) {
      const p = e.probe;
      if (!p || typeof p !== 'object' || typeof p.filters !== 'boolean' || typeof p.at !== 'string') throw cookieError(file, `entities.${name}.probe must be {filters: boolean, at: date}`);
      out.probe = { filters: p.filters, at: p.at, ...(typeof p.reason === 'string' ? { reason: p.reason } : {}) };
    }
    entities[name] = out;
  }
  return { version: 1, entities };
}

export function formatCookie(c: Cookie): string {
  return JSON.stringify(c, null, 2) + '\n';
}

function cookieError(file: string, why: string, cause?: unknown): ScimEtlError {
  return new ScimEtlError(
    'ERR_INCREMENTAL_COOKIE',
    `${file}: the incremental cookie is unusable: ${why}. Run once with --full to start over (it rewrites the cookie)`,
    { file },
    { category: 'config', ...(cause ? { cause } : {}) },
  );
}
