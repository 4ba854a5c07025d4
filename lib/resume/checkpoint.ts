/**
 * The checkpoint of an export run, `<output>/.<identifier>.resume.json`: per
 * table the temp file, how many of its bytes (and records) are good, and for
 * a resource table still being read the listing's position after the last
 * page in those bytes. It is replaced atomically (temp, fsync, rename, fsync
 * of the directory) after the table's temp file is fsynced, so the bytes it
 * names are on disk whatever stops the run.
 *
 * Beside it, `.<identifier>.resume.<table>.ids`: the ids passed on so far (one
 * JSON string a line), so that a resumed table drops the duplicates the
 * uninterrupted run would have dropped.
 *
 * `hash` fingerprints what decides the files' bytes (server, tables,
 * columns, filters, format…); a resume with other settings is refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ScimEtlError } from '../errors.js';
import type { ListPosition } from '../streams/sources/list-position.js';
import { fsyncDir } from '../streams/sinks/atomic-file.js';
import { listDirOrNone } from '../list-dir.js';

export const CHECKPOINT_VERSION = 1;

export interface CheckpointTable {
  /** The table's temp file, a name in the output directory. */
  temp: string;
  /** Good bytes of the temp file, and the records (header included) and data rows in them. */
  bytes: number;
  records: number;
  rows: number;
  /** The table was read to its end (the temp file is complete). */
  done: boolean;
  /** Fingerprint of the table's requests (projection, filter, paging): a table asked differently starts over. */
  shape?: string;
  list?: ListPosition;
  ids?: { file: string; bytes: number };
  /** A finished table's summary, reported again by the resumed run. */
  result?: Record<string, unknown>;
}

export interface Checkpoint {
  version: number;
  hash: string;
  tables: Record<string, CheckpointTable>;
}

export const checkpointName = (identifier: string): string => `.${identifier}.resume.json`;
export const idsName = (identifier: string, table: string): string => `.${identifier}.resume.${table}.ids`;

/** A stable fingerprint of JSON-able settings (key order does not matter). */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 32);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function badCheckpoint(file: string, why: string, cause?: unknown): ScimEtlError {
  return new ScimEtlError('ERR_RESUME_CHECKPOINT', `${file}: ${why}; run the export without --resume to start over`, { file }, { cause, category: 'config' });
}

/** The checkpoint in `dir`, or undefined when there is none. */
export async function readCheckpoint(dir: string, identifier: string): Promise<Checkpoint | undefined> {
  const file = join(dir, checkpointName(identifier));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw badCheckpoint(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
  }
  let cp: Checkpoint;
  try {
    cp = JSON.parse(text) as Checkpoint;
  } catch (err) {
    throw badCheckpoint(file, 'not valid JSON', err);
  }
  if (!cp || cp.version !== CHECKPOINT_VERSION || typeof cp.hash !== 'string' || !cp.tables || typeof cp.tables !== 'object') {
    throw badCheckpoint(file, `not a version ${CHECKPOINT_VERSION} checkpoint`);
  }
  for (const [name, t] of Object.entries(cp.tables)) {
    const names = [t?.temp, t?.ids?.file].filter((n) => n !== undefined);
    if (!t || !Number.isSafeInteger(t.bytes) || t.bytes < 0 || !Number.isSafeInteger(t.records) || !Number.isSafeInteger(t.rows) || names.some((n) => typeof n !== 'string' || /[/\\]/.test(n) || !n.startsWith('.'))) {
      throw badCheckpoint(file, `its entry for ${JSON.stringify(name)} is malformed`);
    }
  }
  return cp;
}

/** Replaces the checkpoint atomically and durably. */
export async function writeCheckpoint(dir: string, identifier: string, cp: Checkpoint): Promise<void> {
  const file = join(dir, checkpointName(identifier));
  // Not `.tmp`: those are the tables' temp files (run-commit.ts sweeps them).
  const temp = `${file}.${randomBytes(4).toString('hex')}.part`;
  const h = await open(temp, 'wx');
  try {
    await h.writeFile(JSON.stringify(cp));
    await h.sync();
  } finally {
    await h.close();
  }
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
}

/** Removes the checkpoint, its temp files and every id file of `identifier` in `dir`; returns their names. */
export async function removeCheckpoint(dir: string, identifier: string): Promise<string[]> {
  const names = await listDirOrNone(dir);
  const base = checkpointName(identifier);
  const ids = `.${identifier}.resume.`;
  const mine = names.filter((n) => n === base || (n.startsWith(`${base}.`) && n.endsWith('.part')) || (n.startsWith(ids) && n.endsWith('.ids')));
  await Promise.all(mine.map((n) => unlink(join(dir, n)).catch(() => undefined)));
  return mine;
}

/** The ids of an id file, its first `bytes` bytes. */
export async function* readIds(file: string, bytes: number): AsyncGenerator<string> {
  if (bytes === 0) return;
  const input = createReadStream(file, { encoding: 'utf8', end: bytes - 1 });
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line !== '') yield JSON.parse(line) as string;
  } finally {
    input.destroy();
  }
}
