/**
 * One run's incremental state: the cookie read at the start, what each
 * incremental table of this run should do (plan()), and the new cookie,
 * written in the run's commit (runCommit on the cookie's directory) right
 * after the tables: `stage()` before the tables are renamed, `commit()` after.
 *
 * Per entity with `incremental: true`:
 * - no verdict yet: probe (probe.ts); a server that does not filter gets a
 *   warning and a complete export, now and in every later run (until --full);
 * - no watermark (first run) or --full: a complete export that records the watermark;
 * - else an incremental run: `(<filter>) and meta.lastModified gt "<watermark − overlap>"`,
 *   rows with a leading `command` column.
 */
import { basename, dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { EntityExport } from '../config/types.js';
import type { ScimClient } from '../scim/client.js';
import { runCommit, type RunCommit } from '../streams/sinks/run-commit.js';
import { formatCookie, readCookie, type Cookie, type EntityCookie } from './cookie.js';
import { probeLastModified } from './probe.js';
import type { ChangeTracker } from './changes.js';
import { IdSorter } from './id-set.js';
import type { IdSetPlan } from './deletes.js';

export interface IncrementalSettings {
  file: string;
  /** --full: complete runs, cookie entries of this run's entities replaced. */
  full: boolean;
  overlapSeconds: number;
  now: () => number;
  logger: Logger;
  /** Where the id sorter spills its runs (default the system temp directory), and ids per run. */
  idSpillDir?: string;
  idRunSize?: number;
}

/** What one table does. */
export interface TableMode {
  /** The filter to send (the entity's, narrowed in an incremental run). */
  filter?: string;
  /** Previous watermark (ms): set only in an incremental run (rows get `command`). */
  since?: number;
  /** Set when the table records a watermark. */
  tracker?: ChangeTracker;
  /** detectDeletes: the id sets, old and new. */
  ids?: IdSetPlan;
}

export interface IncrementalRun {
  plan(entity: EntityExport, client: Pick<ScimClient, 'request'>, signal: AbortSignal): Promise<TableMode>;
  /** Writes the new cookie to its temp file (after every table succeeded). */
  stage(): Promise<void>;
  /** Puts it in place (after the tables). */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function openIncremental(s: IncrementalSettings): Promise<IncrementalRun> {
  const previous = await readCookie(s.file);
  const next: Cookie = { version: 1, entities: { ...previous.entities } };
  const trackers = new Map<string, { tracker: ChangeTracker; entry: EntityCookie }>();
  const dir = dirname(s.file);
  // Cookie and id sets share one commit: `I.cookie.json`, `I.cookie.Users.ids`.
  const stem = basename(s.file).replace(/\.json$/i, '') || basename(s.file);
  await mkdir(dir, { recursive: true });
  const files: RunCommit = runCommit(dir, { prefix: stem });
  await files.sweepStale().catch(() => []);
  const sorters: IdSorter[] = [];

  return {
    async plan(entity, client, signal) {
      const key = entity.name;
      const old: EntityCookie = s.full ? {} : previous.entities[key] ?? {};
      let probe = old.probe;
      if (!probe) {
        probe = await probeLastModified(client, entity.name, { now: s.now, signal });
      }
      const entry: EntityCookie = { ...(probe ? { probe } : {}) };
      next.entities[key] = entry;
      if (probe && !probe.filters) {
        s.logger.warn(`${entity.name}: incremental export is not possible: ${probe.reason}; running a complete export (the verdict is kept in ${basename(s.file)}; --full probes again)`, { table: entity.name });
        return entity.filter !== undefined ? { filter: entity.filter } : {};
      }
      const tracker: ChangeTracker = { undated: 0 };
      // A run that sees no change keeps the old watermark.
      if (old.watermark) entry.watermark = old.watermark;
      trackers.set(key, { tracker, entry });
      let ids: IdSetPlan | undefined;
      if (entity.detectDeletes) {
        const name = `${stem}.${entity.name}.ids`;
        const sorter = new IdSorter(s.idSpillDir ?? tmpdir(), s.idRunSize);
        sorters.push(sorter);
        ids = { previous: join(dir, name), writer: files.open(name), sorter };
      }
      if (!old.watermark || !probe) {
        s.logger.info(`${entity.name}: complete export${s.full ? ' (--full)' : ' (no watermark yet)'}; the cookie records the watermark`, { table: entity.name });
        return { ...(entity.filter !== undefined ? { filter: entity.filter } : {}), tracker, ...(ids ? { ids } : {}) };
      }
      const since = Date.parse(old.watermark);
      const from = new Date(since - s.overlapSeconds * 1000).toISOString();
      const changed = `meta.lastModified gt "${from}"`;
      s.logger.info(`${entity.name}: incremental export of changes since ${old.watermark} (overlap ${s.overlapSeconds} s)`, { table: entity.name });
      return { filter: entity.filter !== undefined ? `(${entity.filter}) and ${changed}` : changed, since, tracker, ...(ids ? { ids } : {}) };
    },
    async stage() {
      for (const [name, { tracker, entry }] of trackers) {
        if (tracker.latest && (!entry.watermark || tracker.latest.ms > Date.parse(entry.watermark))) entry.watermark = tracker.latest.text;
        if (tracker.undated > 0) s.logger.warn(`${name}: ${tracker.undated} resource(s) without a readable meta.lastModified: their changes may be missed by incremental runs`, { table: name });
      }
      const w = files.open(basename(s.file));
      await new Promise<void>((resolve, reject) => {
        w.once('error', reject);
        w.end(formatCookie(next), () => resolve());
      });
    },
    async commit() {
      await files.commit();
    },
    async abort() {
      await Promise.all(sorters.map((x) => x.dispose()));
      await files.abort();
    },
  };
}

