/**
 * `validate --online`: the pipeline checked against what the server's
 * /ResourceTypes and /Schemas say (the RFC 7643 built-ins where it serves
 * none), before anything runs:
 *
 * - an export column naming an attribute (or sub-attribute) the resource
 *   type does not have → ERR_CONFIG_UNKNOWN_COLUMN, at the column in the file;
 * - an export column the server never returns (returned: never) →
 *   ERR_CONFIG_COLUMN_NOT_RETURNED (it would always be empty);
 * - an entity the server has no resource type for → ERR_CONFIG_UNKNOWN_ENTITY;
 * - a Users order file column that is unknown, or that writes a readOnly
 *   attribute → ERR_CONFIG_UNKNOWN_COLUMN / ERR_CONFIG_READ_ONLY_COLUMN, at
 *   the header cell (file:1:col).
 *
 * Pure over the documents, except for reading each order file's first line.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Problem } from '../errors.js';
import type { Locations, Loc } from '../config/locations.js';
import type { Pipeline } from '../config/types.js';
import { parseColumnPath, type ColumnPath } from '../scim/path.js';
import { BUILTIN_SCHEMAS, COMMON_ATTRIBUTES, findAttribute, findSchema, type SchemaAttribute, type SchemaDefinition } from '../scim/schemas.js';
import { classifyOrderFile } from '../streams/sources/csv-order-source.js';
import { buildReport, type ResourceReport } from './model.js';
import type { DiscoveryDocuments } from './read.js';

type Lookup = { attribute: SchemaAttribute; parent?: SchemaAttribute } | { unknown: string };

/** The schema attribute a column path names in a resource type, or why there is none. */
export function lookupColumn(type: ResourceReport, schemas: readonly SchemaDefinition[], col: ColumnPath): Lookup {
  const core = findSchema(schemas, type.schema);
  let top: SchemaAttribute | undefined;
  if (col.schema !== undefined) {
    const allowed = [type.schema, ...type.extensions].some((s) => s.toLowerCase() === col.schema!.toLowerCase());
    if (!allowed) return { unknown: `${type.endpoint} has no schema ${col.schema} (it has ${[type.schema, ...type.extensions].join(', ')})` };
    const def = findSchema(schemas, col.schema);
    if (!def) return { unknown: `the server describes no schema ${col.schema}` };
    top = findAttribute(def.attributes, col.attr);
    if (!top) return { unknown: `${col.schema} has no attribute ${JSON.stringify(col.attr)}` };
  } else {
    top = findAttribute(COMMON_ATTRIBUTES, col.attr) ?? findAttribute(core?.attributes, col.attr);
    if (!top) {
      const ext = type.extensions.find((e) => findAttribute(findSchema(schemas, e)?.attributes, col.attr));
      return { unknown: ext ? `${JSON.stringify(col.attr)} is an attribute of the extension ${ext}: write it as ${ext}:${col.attr}` : `${type.endpoint} has no attribute ${JSON.stringify(col.attr)}` };
    }
  }
  if (col.sub === undefined) return { attribute: top };
  const sub = findAttribute(top.subAttributes, col.sub);
  if (!sub) return { unknown: top.subAttributes?.length ? `${top.name} has no sub-attribute ${JSON.stringify(col.sub)} (it has ${top.subAttributes.map((s) => s.name).join(', ')})` : `${top.name} has no sub-attributes` };
  return { attribute: sub, parent: top };
}

export async function schemaProblems(pipe: Pipeline, locs: Locations, docs: DiscoveryDocuments, shownFile: string): Promise<Problem[]> {
  const report = buildReport(docs);
  const schemas = docs.schemas.found ? docs.schemas.value : BUILTIN_SCHEMAS;
  const problems: Problem[] = [];
  const at = (loc: Loc | undefined, code: string, message: string, key = false) => {
    const pos = loc && key ? (loc.key ?? loc) : loc;
    problems.push({ file: loc?.file ?? shownFile, code, message, ...(pos ? { line: pos.line, col: pos.col } : {}) });
  };
  const typeOf = (name: string) => report.resources.find((r) => r.endpoint.toLowerCase() === name.toLowerCase());

  for (const entity of pipe.export?.entities ?? []) {
    const P = ['export', 'entities', entity.name];
    const type = typeOf(entity.name);
    if (!type) {
      at(locs.get(P) ?? locs.get(['export']), 'ERR_CONFIG_UNKNOWN_ENTITY', `export entity ${JSON.stringify(entity.name)}: the server lists no resource type with endpoint /${entity.name} (it lists: ${report.resources.map((r) => r.endpoint).join(', ') || 'none'})`, true);
      continue;
    }
    entity.columns.forEach((col, i) => {
      const loc = locs.get([...P, 'columns', i]) ?? locs.get([...P, 'columns']) ?? locs.get(['export', 'filter']) ?? locs.get(['connection', 'filter']);
      const found = lookupColumn(type, schemas, col);
      if ('unknown' in found) return at(loc, 'ERR_CONFIG_UNKNOWN_COLUMN', `column ${JSON.stringify(col.text)} of ${entity.name}: ${found.unknown}`);
      const never = found.attribute.returned === 'never' || found.parent?.returned === 'never';
      if (never) at(loc, 'ERR_CONFIG_COLUMN_NOT_RETURNED', `column ${JSON.stringify(col.text)} of ${entity.name}: the server never returns it (returned: never): the column would always be empty`);
    });
  }

  const users = typeOf('Users');
  for (const file of await orderFiles(pipe)) {
    if (file.kind !== 'users' || !users) continue;
    const cells = await headerCells(file.path);
    if (!cells) continue;
    let col = 1;
    for (const cell of cells) {
      const here = col;
      col += cell.length + 1;
      const text = cell.trim().replace(/^"(.*)"$/, '$1');
      if (['command', 'id', 'orderid', ''].includes(text.toLowerCase())) continue;
      let path: ColumnPath;
      try {
        path = parseColumnPath(text);
      } catch {
        continue; // the fulfill run reports bad paths itself (ERR_ORDER_BAD_HEADER)
      }
      const found = lookupColumn(users, schemas, path);
      const where = { file: file.path, line: 1, col: here };
      if ('unknown' in found) problems.push({ ...where, code: 'ERR_CONFIG_UNKNOWN_COLUMN', message: `order column ${JSON.stringify(text)}: ${found.unknown}` });
      else if (found.attribute.mutability === 'readOnly' || found.parent?.mutability === 'readOnly') {
        problems.push({ ...where, code: 'ERR_CONFIG_READ_ONLY_COLUMN', message: `order column ${JSON.stringify(text)} writes ${found.parent ? `${found.parent.name}.${found.attribute.name}` : found.attribute.name}, which the server's schema marks readOnly: the server would ignore or refuse it` });
      }
    }
  }
  return problems;
}

/** The order files the fulfill section names (missing ones are the run's to report). */
async function orderFiles(pipe: Pipeline): Promise<Array<ReturnType<typeof classifyOrderFile>>> {
  const out: Array<ReturnType<typeof classifyOrderFile>> = [];
  for (const p of pipe.fulfill?.orders ?? []) {
    const st = await stat(p).catch(() => undefined);
    if (st?.isDirectory()) {
      for (const n of (await readdir(p)).filter((n) => /\.csv$/i.test(n) && !n.startsWith('.')).sort()) out.push(classifyOrderFile(join(p, n)));
    } else if (st?.isFile()) out.push(classifyOrderFile(p));
  }
  return out;
}

/** The first line of a CSV split into its raw cells (headers are plain names: no commas inside quotes). */
async function headerCells(path: string): Promise<string[] | undefined> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) return line.replace(/^\uFEFF/, '').split(',');
  } catch {
    return undefined;
  } finally {
    lines.close();
  }
  return undefined;
}
