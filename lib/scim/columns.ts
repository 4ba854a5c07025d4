/**
 * Order columns checked against schema definitions: is the attribute known,
 * may we write it, and what type does its cell text become.
 */
import { ScimEtlError } from '../errors.js';
import type { ColumnPath } from './path.js';
import { COMMON_ATTRIBUTES, findAttribute, findSchema, USER_SCHEMA, type AttributeType, type SchemaAttribute, type SchemaDefinition } from './schemas.js';
import { templateFromFilter } from './unflatten.js';

export interface ColumnInfo {
  path: ColumnPath;
  /** The attribute or sub-attribute the cell writes; undefined when the schema is not known to us. */
  attribute?: SchemaAttribute;
  /** The top-level attribute is a list (decides primary-element handling). */
  multiValued: boolean;
  /** Why no cell of this column may be written; each non-empty cell then fails with it. */
  problem?: ScimEtlError;
}

/**
 * Checks one column of a users order file. Unknown schemas (a dialect's
 * extension the server does not describe) are accepted untyped; a known
 * schema with an unknown attribute, or a read-only attribute, is a problem.
 */
export function describeColumn(path: ColumnPath, schemas: readonly SchemaDefinition[], baseSchema = USER_SCHEMA): ColumnInfo {
  const schemaId = path.schema ?? baseSchema;
  const def = findSchema(schemas, schemaId);
  if (!def) {
    return { path, multiValued: false };
  }
  const attrs = path.schema ? def.attributes : [...COMMON_ATTRIBUTES, ...def.attributes];
  const top = findAttribute(attrs, path.attr);
  if (!top) {
    return { path, multiValued: false, problem: new ScimEtlError('ERR_ORDER_UNKNOWN_ATTRIBUTE', `column '${path.text}': ${def.name} has no attribute '${path.attr}'`) };
  }
  let target = top;
  if (path.sub) {
    const sub = findAttribute(top.subAttributes, path.sub);
    if (!sub) {
      return { path, multiValued: top.multiValued, problem: new ScimEtlError('ERR_ORDER_UNKNOWN_ATTRIBUTE', `column '${path.text}': '${top.name}' has no sub-attribute '${path.sub}'`) };
    }
    target = sub;
  }
  if (path.filter && !top.multiValued) {
    return { path, multiValued: false, problem: new ScimEtlError('ERR_ORDER_UNKNOWN_ATTRIBUTE', `column '${path.text}': a value filter needs a multi-valued attribute and '${top.name}' is single-valued`) };
  }
  if (path.filter) {
    try {
      templateFromFilter(path.filter);
    } catch (err) {
      return { path, multiValued: true, problem: new ScimEtlError('ERR_ORDER_UNWRITABLE_COLUMN', `column '${path.text}': ${(err as Error).message}`) };
    }
  }
  for (const a of [top, target]) {
    if (a.mutability === 'readOnly') {
      return { path, attribute: target, multiValued: top.multiValued, problem: new ScimEtlError('ERR_ORDER_READONLY_ATTRIBUTE', `column '${path.text}': '${a.name}' is read-only`) };
    }
  }
  return { path: inSchemaCase(path, def.id, top, path.sub ? target : undefined), attribute: target, multiValued: top.multiValued };
}

/**
 * The path with the names spelled as the schema spells them: attribute names
 * are case-insensitive in SCIM, but servers look for `userName` in a body,
 * not `UserName`. The same object when nothing changes.
 */
function inSchemaCase(path: ColumnPath, schemaId: string, top: SchemaAttribute, sub: SchemaAttribute | undefined): ColumnPath {
  const schema = path.schema === undefined ? undefined : schemaId;
  if (path.attr === top.name && path.sub === sub?.name && path.schema === schema) return path;
  const out: ColumnPath = { ...path, attr: top.name };
  if (schema !== undefined) out.schema = schema;
  if (sub) out.sub = sub.name;
  return out;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The JSON value of a cell for the attribute's type. Throws
 * ERR_ORDER_BAD_VALUE with what was expected. A column that names a whole
 * complex or multi-valued attribute takes JSON, as the export writes it.
 */
export function typeCell(info: ColumnInfo, text: string): unknown {
  const attr = info.attribute;
  const wholeComplex = !info.path.sub && (attr?.type === 'complex' || (info.multiValued && !info.path.filter));
  if (wholeComplex) return parseJson(info, text);
  const type: AttributeType = attr?.type ?? 'string';
  switch (type) {
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw badValue(info, text, 'true or false');
    }
    case 'integer': {
      if (!/^\s*-?\d+\s*$/.test(text)) throw badValue(info, text, 'an integer');
      return Number(text);
    }
    case 'decimal': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw badValue(info, text, 'a decimal number');
      return n;
    }
    case 'dateTime': {
      if (!ISO_DATETIME.test(text.trim()) || Number.isNaN(Date.parse(text.trim()))) throw badValue(info, text, 'an xsd:dateTime such as 2024-05-01T12:00:00Z');
      return text.trim();
    }
    default:
      return text;
  }
}

function parseJson(info: ColumnInfo, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badValue(info, text, 'JSON (a complex or multi-valued attribute without a sub-attribute)');
  }
}

function badValue(info: ColumnInfo, text: string, expected: string): ScimEtlError {
  const shown = text.length > 40 ? text.slice(0, 40) + '…' : text;
  return new ScimEtlError('ERR_ORDER_BAD_VALUE', `column '${info.path.text}' expects ${expected}, got ${JSON.stringify(shown)}`);
}
