/**
 * The discovery report as data: the server's capabilities from its SPC and,
 * per resource type, every column path it offers in the export's path syntax
 * (`attr`, `attr:sub`, `urn:…:attr:sub`). Built from the documents that were
 * found; where one is missing the RFC 7643 built-ins stand in and the report
 * says so.
 */
import { getAttr } from '../scim/filter.js';
import { BUILTIN_SCHEMAS, COMMON_ATTRIBUTES, GROUP_SCHEMA, USER_SCHEMA, ENTERPRISE_USER_SCHEMA, findSchema, type Mutability, type Returned, type SchemaAttribute, type SchemaDefinition } from '../scim/schemas.js';
import type { DiscoveryDocuments, ResourceTypeInfo } from './read.js';

export interface Capabilities {
  patch?: boolean;
  bulk: { supported?: boolean; maxOperations?: number; maxPayloadSize?: number };
  filter: { supported?: boolean; maxResults?: number };
  sort?: boolean;
  etag?: boolean;
  changePassword?: boolean;
  pagination?: { cursor?: boolean; index?: boolean; defaultPaginationMethod?: string; defaultPageSize?: number; maxPageSize?: number; cursorTimeout?: number };
  authenticationSchemes: string[];
}

export interface ColumnInfo {
  /** In the export's column syntax. */
  path: string;
  type: string;
  /** The path goes through a multi-valued attribute: the export writes its primary (else first) element. */
  multiValued: boolean;
  mutability: Mutability;
  returned: Returned;
  /** Returned is not `never`: the export can read it. */
  readable: boolean;
}

export interface ResourceReport {
  name: string;
  endpoint: string;
  schema: string;
  extensions: string[];
  /** Has a `members` attribute: the export can write a membership table. */
  members: boolean;
  columns: ColumnInfo[];
}

export interface DiscoveryReport {
  root: string;
  documents: { serviceProviderConfig: string; resourceTypes: string; schemas: string };
  capabilities?: Capabilities;
  resources: ResourceReport[];
}

export function buildReport(docs: DiscoveryDocuments): DiscoveryReport {
  const schemas: readonly SchemaDefinition[] = docs.schemas.found ? docs.schemas.value : BUILTIN_SCHEMAS;
  const types: ResourceTypeInfo[] = docs.resourceTypes.found
    ? docs.resourceTypes.value
    : [
        { name: 'User', endpoint: 'Users', schema: USER_SCHEMA, extensions: [ENTERPRISE_USER_SCHEMA] },
        { name: 'Group', endpoint: 'Groups', schema: GROUP_SCHEMA, extensions: [] },
      ];
  const state = (f: { found: boolean; path?: string; reason?: string }, fallback: string) =>
    f.found ? `/${f.path}` : `missing (${f.reason}); ${fallback}`;
  return {
    root: docs.root,
    documents: {
      serviceProviderConfig: state(docs.spc, 'capabilities unknown'),
      resourceTypes: state(docs.resourceTypes, 'assuming Users and Groups'),
      schemas: state(docs.schemas, 'using the RFC 7643 schemas'),
    },
    ...(docs.spc.found ? { capabilities: capabilitiesOf(docs.spc.value) } : {}),
    resources: types.map((t) => resourceReport(t, schemas)),
  };
}

const bool = (v: unknown) => (typeof v === 'boolean' ? v : typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : undefined);
const num = (v: unknown) => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Only fields the server stated; undefined ones are left out so the report does not invent answers. */
export function capabilitiesOf(spc: Record<string, unknown>): Capabilities {
  const sup = (name: string) => bool(getAttr(getAttr(spc, name), 'supported'));
  const bulk = getAttr(spc, 'bulk');
  const filter = getAttr(spc, 'filter');
  const pag = getAttr(spc, 'pagination');
  const schemes = getAttr(spc, 'authenticationSchemes');
  return prune({
    patch: sup('patch'),
    bulk: prune({ supported: sup('bulk'), maxOperations: num(getAttr(bulk, 'maxOperations')), maxPayloadSize: num(getAttr(bulk, 'maxPayloadSize')) }),
    filter: prune({ supported: sup('filter'), maxResults: num(getAttr(filter, 'maxResults')) }),
    sort: sup('sort'),
    etag: sup('etag'),
    changePassword: sup('changePassword'),
    pagination:
      pag && typeof pag === 'object'
        ? prune({
            cursor: bool(getAttr(pag, 'cursor')),
            index: bool(getAttr(pag, 'index')),
            defaultPaginationMethod: str(getAttr(pag, 'defaultPaginationMethod')),
            defaultPageSize: num(getAttr(pag, 'defaultPageSize')),
            maxPageSize: num(getAttr(pag, 'maxPageSize')),
            cursorTimeout: num(getAttr(pag, 'cursorTimeout')),
          })
        : undefined,
    authenticationSchemes: Array.isArray(schemes) ? schemes.map((s) => str(getAttr(s, 'type')) ?? str(getAttr(s, 'name')) ?? '?') : [],
  }) as Capabilities;
}

function prune<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function resourceReport(t: ResourceTypeInfo, schemas: readonly SchemaDefinition[]): ResourceReport {
  const core = findSchema(schemas, t.schema);
  const columns: ColumnInfo[] = [];
  const seen = new Set<string>();
  const add = (c: ColumnInfo) => {
    if (seen.has(c.path.toLowerCase())) return;
    seen.add(c.path.toLowerCase());
    columns.push(c);
  };
  // id, externalId, meta first: every resource carries them (RFC 7643 §3.1).
  for (const a of COMMON_ATTRIBUTES) flatten(a, '', false, add);
  for (const a of core?.attributes ?? []) flatten(a, '', false, add);
  for (const ext of t.extensions) {
    const def = findSchema(schemas, ext);
    for (const a of def?.attributes ?? []) flatten(a, `${def!.id}:`, false, add);
  }
  const members = (core?.attributes ?? []).some((a) => a.name.toLowerCase() === 'members');
  return { name: t.name, endpoint: t.endpoint, schema: t.schema, extensions: t.extensions, members, columns };
}

function flatten(a: SchemaAttribute, prefix: string, parentMulti: boolean, add: (c: ColumnInfo) => void): void {
  const multi = parentMulti || a.multiValued;
  const path = `${prefix}${a.name}`;
  if (a.type === 'complex' && a.subAttributes?.length) {
    for (const s of a.subAttributes) {
      // A sub-attribute is no more readable or writable than its parent.
      const returned = a.returned === 'never' ? 'never' : s.returned;
      const mutability = a.mutability === 'readOnly' ? 'readOnly' : s.mutability;
      add(column(`${path}:${s.name}`, s.type, multi, mutability, returned));
    }
    return;
  }
  add(column(path, a.type, multi, a.mutability, a.returned));
}

function column(path: string, type: string, multiValued: boolean, mutability: Mutability, returned: Returned): ColumnInfo {
  return { path, type, multiValued, mutability, returned, readable: returned !== 'never' && mutability !== 'writeOnly' };
}
