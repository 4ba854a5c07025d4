/**
 * ScimResource → Row for a table whose entity keeps a watermark: the flatten
 * step, plus the largest meta.lastModified seen (the next watermark: the
 * server's clock, never ours) and, in an incremental run, the leading
 * `command` cell: `insert` when meta.created is after the previous watermark,
 * else `update`.
 */
import { Transform } from 'node:stream';
import { flattenResource } from '../streams/transforms/flatten.js';
import type { ColumnPath } from '../scim/path.js';
import type { ScimResource } from '../types.js';
import type { IdSorter } from './id-set.js';

export interface ChangeTracker {
  /** Largest meta.lastModified seen, as written by the server, and its time. */
  latest?: { text: string; ms: number };
  /** Resources without a readable meta.lastModified. */
  undated: number;
}

export const COMMAND_COLUMN = 'command';

/** `ids`: every resource's id goes there too (a complete run's id set). */
export function trackChanges(columns: readonly ColumnPath[], tracker: ChangeTracker, since?: number, ids?: IdSorter): Transform {
  return new Transform({
    objectMode: true,
    transform(resource: ScimResource, _enc, done) {
      const meta = resource.meta as { created?: unknown; lastModified?: unknown } | undefined;
      const modified = dateOf(meta?.lastModified);
      if (modified === undefined) tracker.undated++;
      else if (!tracker.latest || modified > tracker.latest.ms) tracker.latest = { text: meta!.lastModified as string, ms: modified };
      const row = flattenResource(resource, columns);
      if (since !== undefined) {
        const created = dateOf(meta?.created);
        row[COMMAND_COLUMN] = created !== undefined && created > since ? 'insert' : 'update';
      }
      if (ids && typeof resource.id === 'string') ids.add(resource.id).then(() => done(null, row), done);
      else done(null, row);
    },
  });
}

function dateOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}
