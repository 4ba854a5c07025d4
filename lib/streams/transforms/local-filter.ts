/**
 * Keeps the resources that match a SCIM filter, for servers that refuse the
 * filter (400 invalidFilter): the table is listed whole and filtered here.
 * `stats.dropped` counts the rest, so that a count check does not take them
 * for missing rows.
 */
import { Transform } from 'node:stream';
import { matchesFilter, type FilterNode } from '../../scim/filter.js';
import type { ScimResource } from '../../types.js';

export interface LocalFilterStats {
  /** Resources that did not match. */
  dropped: number;
}

export function localFilter(filter: FilterNode, stats: LocalFilterStats = { dropped: 0 }): Transform {
  return new Transform({
    objectMode: true,
    transform(resource: ScimResource, _enc, done) {
      if (matchesFilter(resource, filter)) return done(null, resource);
      stats.dropped++;
      done();
    },
  });
}
