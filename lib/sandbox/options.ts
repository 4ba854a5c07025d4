/** Sandbox options normalised and validated in one place (stable code ERR_SANDBOX_OPTION). */
import { ScimEtlError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { DIALECTS, DIALECT_NAMES, dialectName, type DialectProfile } from './dialects.js';
import { validateFault } from './faults.js';
import { normalizeQuirks, type QuirkSet } from './quirks.js';
import type { FaultSpec, SandboxData, SandboxOptions } from './types.js';

export interface NormalizedOptions {
  port: number;
  host: string;
  data?: string | SandboxData;
  generate?: { users: number; groups: number; members: number; seed: number };
  token?: string;
  basic?: { login: string; password: string };
  oauth?: NonNullable<SandboxOptions['oauth']>;
  profile: DialectProfile;
  maxResults: number;
  defaultCount: number;
  omitEmptyResources: boolean;
  cursor?: { timeoutSeconds: number };
  tooManyLimit?: number;
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  patch: boolean;
  etag: boolean;
  faults: FaultSpec[];
  /** Real servers' misbehaviours to reproduce (see quirks.ts). */
  quirks: QuirkSet;
  /** Where the SCIM endpoints live: /v2, or the rootPath quirk's path. */
  rootPath: string;
  rateLimit?: { reads: number; writes: number; windowMs: number; burst?: { writes: number; pauseMs: number } };
  logger: Logger;
  maxBodySize: number;
}

function optionError(name: string, expected: string, got: unknown): ScimEtlError {
  return new ScimEtlError('ERR_SANDBOX_OPTION', `option ${name} must be ${expected}, got ${JSON.stringify(got)}`, { option: name }, { category: 'config' });
}

function int(name: string, v: unknown, min: number, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw optionError(name, `an integer from ${min} to ${max}`, v);
  return v;
}

export function normalizeOptions(o: SandboxOptions = {}): NormalizedOptions {
  if (o === null || typeof o !== 'object') throw optionError('options', 'an object', o);
  // Any case, as scimSyntax in a pipeline (rfc, SALESFORCE…).
  const dialect = o.dialect === undefined ? 'RFC' : dialectName(o.dialect);
  if (!dialect) throw optionError('dialect', `one of ${DIALECT_NAMES.join(', ')} (any case)`, o.dialect);
  const dialectProfile = DIALECTS[dialect];
  const profile = o.maxStartIndex === undefined ? dialectProfile : { ...dialectProfile, maxStartIndex: int('maxStartIndex', o.maxStartIndex, 1, 0) };
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || !host) throw optionError('host', 'a host name or address', host);
  if (o.token !== undefined && (typeof o.token !== 'string' || !o.token)) throw optionError('token', 'a non-empty string', o.token);
  if (o.basic !== undefined && profile.bearerOnly) throw optionError('basic', `unset: the ${dialect} dialect takes Bearer tokens only`, { login: o.basic?.login, password: '***' });
  if (o.basic !== undefined && (typeof o.basic?.login !== 'string' || typeof o.basic?.password !== 'string' || !o.basic.login)) {
    throw optionError('basic', '{login, password} strings', o.basic === undefined ? o.basic : { login: o.basic.login, password: '***' });
  }
  if (o.data !== undefined && typeof o.data !== 'string' && (typeof o.data !== 'object' || o.data === null || Array.isArray(o.data))) {
    throw optionError('data', 'a file path or {Users, Groups}', typeof o.data);
  }
  let generate: NormalizedOptions['generate'];
  if (o.generate) {
    const users = int('generate.users', o.generate.users, 0, 0, 10_000_000);
    generate = {
      users,
      groups: int('generate.groups', o.generate.groups ?? 0, 0, 0, 1_000_000),
      members: int('generate.members', o.generate.members, 0, Math.min(users, 1000), users),
      seed: int('generate.seed', o.generate.seed, 0, 1),
    };
  }
  const maxResults = int('maxResults', o.maxResults, 1, profile.maxResults);
  const bulk = o.bulk ?? {};
  if (o.faults !== undefined && !Array.isArray(o.faults)) throw optionError('faults', 'an array', o.faults);
  const faults = (o.faults ?? []).map((f, i) => validateFault(f, `faults[${i}]`));
  const quirks = normalizeQuirks(o.quirks);
  const norm: NormalizedOptions = {
    port: int('port', o.port, 0, 0, 65535),
    host,
    profile,
    maxResults,
    defaultCount: Math.min(int('defaultCount', o.defaultCount, 1, profile.defaultCount), maxResults),
    omitEmptyResources: o.omitEmptyResources ?? false,
    bulk: {
      supported: bulk.supported ?? profile.defaults.bulk,
      maxOperations: int('bulk.maxOperations', bulk.maxOperations, 1, 1000),
      maxPayloadSize: int('bulk.maxPayloadSize', bulk.maxPayloadSize, 1, 1_048_576),
    },
    patch: o.patch ?? profile.defaults.patch,
    etag: o.etag ?? profile.defaults.etag,
    faults,
    quirks,
    rootPath: quirks.rootPath ?? '/v2',
    logger: o.logger ?? silentLogger,
    maxBodySize: int('maxBodySize', o.maxBodySize, 1, 10 * 1_048_576),
  };
  if (o.data !== undefined) norm.data = o.data;
  if (generate) norm.generate = generate;
  if (o.token !== undefined) norm.token = o.token;
  if (o.basic) norm.basic = { login: o.basic.login, password: o.basic.password };
  if (o.oauth !== undefined) {
    const a = o.oauth;
    if (!a || typeof a.clientId !== 'string' || !a.clientId || typeof a.clientSecret !== 'string' || !a.clientSecret) {
      throw optionError('oauth', '{clientId, clientSecret} non-empty strings', a && { clientId: a.clientId, clientSecret: '***' });
    }
    if ((a.login === undefined) !== (a.password === undefined)) throw optionError('oauth', 'login and password together', { login: a.login, password: a.password === undefined ? undefined : '***' });
    norm.oauth = { ...a, expiresIn: int('oauth.expiresIn', a.expiresIn, 1, 3600) };
  }
  if (o.rateLimit !== undefined) {
    if (!o.rateLimit || typeof o.rateLimit !== 'object') throw optionError('rateLimit', '{reads, writes, windowMs?}', o.rateLimit);
    norm.rateLimit = {
      reads: int('rateLimit.reads', o.rateLimit.reads, 1, 0),
      writes: int('rateLimit.writes', o.rateLimit.writes, 1, 0),
      windowMs: int('rateLimit.windowMs', o.rateLimit.windowMs, 1, 60_000),
      ...(o.rateLimit.burst !== undefined
        ? { burst: { writes: int('rateLimit.burst.writes', o.rateLimit.burst?.writes, 1, 0), pauseMs: int('rateLimit.burst.pauseMs', o.rateLimit.burst?.pauseMs, 1, 1000) } }
        : {}),
    };
  }
  if (o.cursor !== undefined && o.cursor !== false) {
    if (o.cursor !== true && (typeof o.cursor !== 'object' || o.cursor === null)) throw optionError('cursor', 'true or {timeoutSeconds}', o.cursor);
    norm.cursor = { timeoutSeconds: int('cursor.timeoutSeconds', o.cursor === true ? undefined : o.cursor.timeoutSeconds, 1, 600) };
  }
  if (o.tooManyLimit !== undefined) norm.tooManyLimit = int('tooManyLimit', o.tooManyLimit, 1, 0);
  return norm;
}
