/** Fills the store from a data file, a data object or the generator. */
import { readFile } from 'node:fs/promises';
import { ScimEtlError } from '../errors.js';
import { jsonErrorOffset, lineCol } from './json-position.js';
import type { ScimResource } from '../types.js';
import { ScimHttpError } from './scim-error.js';
import { generateGroups } from './generate.js';
import type { Entry, SandboxStore } from './store.js';
import type { SandboxData } from './types.js';
import type { NormalizedOptions } from './options.js';

function dataError(message: string, context: Record<string, unknown>): ScimEtlError {
  return new ScimEtlError('ERR_SANDBOX_DATA', message, context, { category: 'config' });
}

/** Reads a data file; a JSON syntax error is reported with file:line:col. */
export async function readDataFile(file: string): Promise<SandboxData> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw dataError(`cannot read data file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file });
  }
  try {
    return JSON.parse(text) as SandboxData;
  } catch (err) {
    const msg = (err as Error).message;
    const at = jsonErrorOffset(text);
    const { line, col } = lineCol(text, at < 0 ? text.length : at);
    throw dataError(`invalid JSON: ${shortMessage(msg)}`, { file, line, col });
  }
}

/**
 * Loads `{Users, Groups, …}`: users first, then groups (members may name users
 * and any group), then any other array as a read-only resource type served
 * at /v2/<key> (e.g. Salesforce `Entitlements` and `Roles`, CyberArk `Containers`),
 * whose `members` may name users and groups.
 */
export function loadData(store: SandboxStore, data: SandboxData, file?: string): void {
  const where = file ? { file } : {};
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw dataError('data must be an object {"Users": [...], "Groups": [...]}', where);
  const keys = Object.keys(data);
  for (const k of keys) {
    if (!Array.isArray((data as Record<string, unknown>)[k])) throw dataError(`data.${k} must be an array of resources`, where);
  }
  const core = (name: string) => keys.find((k) => k.toLowerCase() === name.toLowerCase());
  const usersKey = core('Users');
  const groupsKey = core('Groups');
  const extraKeys = keys.filter((k) => k !== usersKey && k !== groupsKey);
  // key in the file → endpoint served (a dialect may already serve it, spelled its way)
  const extra: Array<[string, string]> = [];
  for (const k of extraKeys) {
    try {
      const first = (data as Record<string, ScimResource[]>)[k]![0];
      const name = typeof first?.meta?.resourceType === 'string' ? first.meta.resourceType : k.replace(/s$/, '');
      store.addType(k, name);
      extra.push([k, store.typeOf(k)!]);
    } catch (err) {
      throw dataError(`data.${k}: ${err instanceof ScimHttpError ? err.detail : (err as Error).message}`, where);
    }
  }
  const list = (k: string | undefined) => (k ? (data as Record<string, unknown[]>)[k]! : []);
  list(usersKey).forEach((u, i) => insertOne(store, 'Users', u, `${usersKey}[${i}]`, where));
  // Containers may hold groups defined later in the file: create all, then add members.
  const pending: Array<[string, ScimResource, unknown, string]> = [];
  for (const [type, key] of [['Groups', groupsKey] as const, ...extra.map(([k, endpoint]) => [endpoint, k] as const)]) {
    list(key).forEach((g, i) => {
      const { members, ...rest } = (g ?? {}) as ScimResource & { members?: unknown };
      const at = `${key}[${i}]`;
      const entry = insertOne(store, type, rest as ScimResource, at, where);
      pending.push([type, entry.res, members, at]);
    });
  }
  for (const [type, g, members, at] of pending) {
    try {
      const entry = store.entry(type, g.id as string)!;
      const refs = store.memberRefs(members);
      for (const r of refs) {
        store.requireMember(r);
        store.addMember(entry, r);
      }
    } catch (err) {
      throw dataError(`${at}: ${err instanceof ScimHttpError ? err.detail : (err as Error).message}`, { ...where, at });
    }
  }
  try {
    store.linkAll();
  } catch (err) {
    throw dataError(err instanceof ScimHttpError ? err.detail : (err as Error).message, where);
  }
}

function insertOne(store: SandboxStore, type: string, raw: unknown, at: string, where: Record<string, unknown>): Entry {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw dataError(`${at} must be an object`, { ...where, at });
  try {
    return store.insert(type, raw as ScimResource, [], { keepMeta: true });
  } catch (err) {
    throw dataError(`${at}: ${err instanceof ScimHttpError ? err.detail : (err as Error).message}`, { ...where, at });
  }
}

/** Generated mode: users then groups, straight into the store. */
export function loadGenerated(store: SandboxStore, gen: NonNullable<NormalizedOptions['generate']>): void {
  store.insertGenerated(gen.users, gen.seed);
  const userIds = store.ids('Users');
  for (const { group, members } of generateGroups(gen, userIds)) store.insert('Groups', group, members, { keepMeta: true });
}

/** Node's message without the echo of the input (which may be long). */
function shortMessage(msg: string): string {
  return msg.replace(/, ".*$/s, '').replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)/, '');
}
