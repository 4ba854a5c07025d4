/**
 * Column paths: the names of export columns and order-file columns, in the
 * seed's syntax. A colon separates a sub-attribute (`name:givenName`), an
 * extension attribute carries its schema URN in front, and a multi-valued
 * attribute may carry a SCIM value filter (`emails[type eq "work"]:value`).
 *
 * The URN itself is full of colons, so where the schema ends is decided by the
 * longest known schema URN, else by the last segment that looks like a
 * resource name (starts upper-case, as every SCIM schema URN we know does).
 */
import { ScimEtlError } from '../errors.js';
import { findClosingBracket, parseFilter, shiftOffset, type FilterNode } from './filter.js';

export interface ColumnPath {
  /** The column name as written: the CSV header. */
  text: string;
  /** Extension schema URN; absent for core attributes. */
  schema?: string;
  attr: string;
  filter?: FilterNode;
  sub?: string;
}

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export const KNOWN_SCHEMAS: readonly string[] = [
  CORE_USER,
  CORE_GROUP,
  ENTERPRISE_USER,
  'urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User',
  'urn:ietf:params:scim:schemas:extension:slack:profile:2.0:User',
  'urn:ietf:params:scim:schemas:cyberark:1.0:User',
  'urn:ietf:params:scim:schemas:cyberark:1.0:Safe',
  'urn:ietf:params:scim:schemas:cyberark:1.0:PrivilegedData',
  'urn:ietf:params:scim:schemas:cyberark:1.0:Container',
  'urn:salesforce:schemas:extension:external:1.0',
];

const NAME = /^[A-Za-z$][\w$-]*$/;
const CORE = /^urn:ietf:params:scim:schemas:core:2\.0:/i;

function pathError(message: string, offset: number): ScimEtlError {
  return new ScimEtlError('ERR_PATH_SYNTAX', message, { offset });
}

/** Splits `urn:…:Schema:attr…` into the schema URN and the rest; returns the rest's offset. */
function splitSchema(text: string, knownSchemas: readonly string[]): { schema: string; restOffset: number } {
  const lower = text.toLowerCase();
  let best = '';
  for (const s of knownSchemas) {
    if (s.length > best.length && lower.startsWith(s.toLowerCase() + ':')) best = s;
  }
  if (best) return { schema: text.slice(0, best.length), restOffset: best.length + 1 };
  // Unknown URN: the schema ends at the last upper-case segment that still has an attribute after it.
  const head = text.includes('[') ? text.slice(0, text.indexOf('[')) : text;
  const segments = head.split(':');
  let cut = -1;
  for (let i = segments.length - 2; i >= 2; i--) {
    if (/^[A-Z]/.test(segments[i]!)) {
      cut = i;
      break;
    }
  }
  if (cut < 0) cut = segments.length - 2;
  if (cut < 1) throw pathError(`cannot tell the schema URN from the attribute in '${text}'`, 0);
  const schema = segments.slice(0, cut + 1).join(':');
  return { schema, restOffset: schema.length + 1 };
}

/**
 * Parses a column path. Throws ERR_PATH_SYNTAX (or ERR_FILTER_SYNTAX inside a
 * value filter) with `context.offset`, the 0-based offset in `text`.
 */
export function parseColumnPath(text: string, knownSchemas: readonly string[] = KNOWN_SCHEMAS): ColumnPath {
  if (!text || !text.trim()) throw pathError('empty column path', 0);
  if (text !== text.trim()) throw pathError(`column path '${text}' has leading or trailing spaces`, 0);
  let schema: string | undefined;
  let offset = 0;
  if (/^urn:/i.test(text)) {
    const split = splitSchema(text, knownSchemas);
    schema = split.schema;
    offset = split.restOffset;
  }
  const rest = text.slice(offset);
  const m = /^[^[:.\s]*/.exec(rest)!;
  const attr = m[0];
  if (!attr) throw pathError(`attribute name missing in '${text}'`, offset);
  if (!NAME.test(attr)) throw pathError(`invalid attribute name '${attr}' (letters, digits, '-', '_' and '$' only)`, offset);
  let i = offset + attr.length;
  const result: ColumnPath = { text, attr };
  if (schema && !CORE.test(schema)) result.schema = schema;

  if (text[i] === '[') {
    const close = findClosingBracket(text, i);
    if (close < 0) throw pathError(`value filter opened at offset ${i} is not closed with ']'`, i);
    const inner = text.slice(i + 1, close);
    if (!inner.trim()) throw pathError('empty value filter []', i);
    try {
      result.filter = parseFilter(inner);
    } catch (err) {
      throw shiftOffset(err, i + 1);
    }
    i = close + 1;
  }
  if (i < text.length) {
    if (text[i] === '.') {
      throw pathError(`sub-attributes are written with ':' in column paths ('${attr}:${text.slice(i + 1)}'), not '.'`, i);
    }
    if (text[i] !== ':') throw pathError(`unexpected '${text[i]}' after '${text.slice(0, i)}'`, i);
    const sub = text.slice(i + 1);
    if (!sub) throw pathError(`sub-attribute name missing after ':'`, i + 1);
    if (!NAME.test(sub)) {
      const hint = sub.includes(':') ? ` (only one level of sub-attribute; an extension attribute needs its full schema URN in front)` : '';
      throw pathError(`invalid sub-attribute name '${sub}'${hint}`, i + 1);
    }
    result.sub = sub;
  }
  return result;
}

/**
 * The attribute to name in `attributes=` so that the server returns what the
 * column needs. Always the whole top-level attribute: a value filter or the
 * primary-else-first rule needs the element's other sub-attributes too.
 */
export function toScimAttribute(p: ColumnPath): string {
  return `${p.schema ? p.schema + ':' : ''}${p.attr}`;
}
