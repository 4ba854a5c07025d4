/**
 * Filter quirks: a parsed filter rewritten (or refused) the way a real server
 * evaluates it, before the ordinary matcher runs. Rewriting keeps the list
 * code and the index fast paths unaware of any server.
 */
import type { FilterNode } from '../scim/filter.js';
import { BUILTIN_SCHEMAS, type SchemaAttribute } from '../scim/schemas.js';
import { badRequest } from './scim-error.js';
import type { QuirkSet } from './quirks.js';

/** Matches no resource: presence of an attribute no resource can have. */
const NEVER: FilterNode = { type: 'present', path: { attr: '\u0000never' } };
const ALWAYS: FilterNode = { type: 'not', filter: NEVER };

/** Names of boolean attributes and sub-attributes (active, primary), lower-case. */
const BOOLEANS = new Set<string>();
const collect = (attrs: readonly SchemaAttribute[]) => {
  for (const a of attrs) {
    if (a.type === 'boolean') BOOLEANS.add(a.name.toLowerCase());
    if (a.subAttributes) collect(a.subAttributes);
  }
};
for (const s of BUILTIN_SCHEMAS) collect(s.attributes);

export function applyFilterQuirks(f: FilterNode | undefined, q: QuirkSet): FilterNode | undefined {
  if (!f) return f;
  if (q.activeNotFilterable && mentionsTop(f, 'active')) throw badRequest('Filtering on "active" is not supported', 'invalidFilter');
  if (!q.quotedBooleanNeverMatches && !q.lastModifiedNeverMatches) return f;
  return rewrite(f, q);
}

function mentionsTop(f: FilterNode, attr: string): boolean {
  switch (f.type) {
    case 'and':
    case 'or':
      return mentionsTop(f.left, attr) || mentionsTop(f.right, attr);
    case 'not':
      return mentionsTop(f.filter, attr);
    default:
      return !f.path.schema && f.path.attr.toLowerCase() === attr;
  }
}

function rewrite(f: FilterNode, q: QuirkSet): FilterNode {
  switch (f.type) {
    case 'and':
    case 'or':
      return { ...f, left: rewrite(f.left, q), right: rewrite(f.right, q) };
    case 'not':
      return { ...f, filter: rewrite(f.filter, q) };
    case 'valuePath':
      return { ...f, filter: rewrite(f.filter, q) };
    case 'present':
      return f;
    case 'compare': {
      const { path } = f;
      // SCIMServer compares strictly: the string "true" never equals the boolean true.
      if (q.quotedBooleanNeverMatches && typeof f.value === 'string' && BOOLEANS.has((path.sub ?? path.attr).toLowerCase())) return f.op === 'ne' ? ALWAYS : NEVER;
      if (q.lastModifiedNeverMatches && !path.schema && path.attr.toLowerCase() === 'meta' && path.sub?.toLowerCase() === 'lastmodified') return NEVER;
      return f;
    }
  }
}
