/** Fills the store from a data file, a data object or the generator. */
import { readFile } from 'node:fs/promises';
import { ScimEtlError } from '../errors.js';
import { jsonErrorOffset, lineCol } from './json-position.js';
import type { ScimResource } from '../types.js';
import { ScimHttpError } from './scim-error.js';
import { generateGroups } from './generate.js';
import type { SandboxStore } from './store.js';
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

/** Loads `{Users, Groups}`: users first, then groups (members may name users and earlier groups). */
export function loadData(store: SandboxStore, data: SandboxData, file?: string): void {
  const where = file ? { file } : {};
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw dataError('data must be an object {"Users": [...], "Groups": [...]}', where);
  const known = new Set(['users', 'groups']);
  for (const k of Object.keys(data)) if (!known.has(k.toLowerCase())) throw dataError(`unknown key '${k}' in data (expected Users, Groups)`, where);
  const pick = (name: string): unknown => {
    const k = Object.keys(data).find((x) => x.toLowerCase() === name.toLowerCase());
    return k ? (data as Record<string, unknown>)[k] : undefined;
  };
  const users = pick('Users') ?? [];
  const groups = pick('Groups') ?? [];
  if (!Array.isArray(users)) throw dataError('data.Users must be an array', where);
  if (!Array.isArray(groups)) throw dataError('data.Groups must be an array', where);
  users.forEach((u, i) => insertOne(store, 'Users', u, `Users[${i}]`, where));
  // Groups may hold groups defined later in the file: create all, then add members.
  const pending: Array<[ScimResource, unknown, string]> = [];
  groups.forEach((g, i) => {
    const { members, ...rest } = (g ?? {}) as ScimResource & { members?: unknown };
    insertOne(store, 'Groups', rest as ScimResource, `Groups[${i}]`, where);
    pending.push([rest as ScimResource, members, `Groups[${i}]`]);
  });
  for (const [g, members, at] of pending) {
    try {
      const entry = store.entry('Groups', g.id as string)!;
      const refs = store.memberRefs(members);
      for (const r of refs) {
        store.requireMember(r);
        store.addMember(entry, r);
      }
    } catch (err) {
      throw dataError(`${at}: ${err instanceof ScimHttpError ? err.detail : (err as Error).message}`, { ...where, at });
    }
  }
}

function insertOne(store: SandboxStore, type: 'Users' | 'Groups', raw: unknown, at: string, where: Record<string, unknown>): void {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw dataError(`${at} must be an object`, { ...where, at });
  try {
    store.insert(type, raw as ScimResource, [], { keepMeta: true });
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
