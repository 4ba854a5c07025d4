/**
 * RFC 7643 §8.7.1 core User/Group schemas and the §4.3 enterprise extension as
 * data. Fulfill validates order columns against these when the server does not
 * serve /Schemas; the sandbox serves them at /Schemas.
 */

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

export interface SchemaAttribute {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description?: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: Uniqueness;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: SchemaAttribute[];
}

export interface SchemaDefinition {
  id: string;
  name: string;
  description: string;
  attributes: SchemaAttribute[];
}

export const CORE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

type AttrOpts = Partial<Omit<SchemaAttribute, 'name' | 'type'>>;

/** Builds an attribute with the RFC 7643 §2.2 defaults, so the tables below list only what differs. */
function attr(name: string, type: AttributeType, opts: AttrOpts = {}): SchemaAttribute {
  return {
    name,
    type,
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...opts,
  };
}

const str = (name: string, opts?: AttrOpts) => attr(name, 'string', opts);

/** Sub-attributes shared by the multi-valued "type/primary/display/value" attributes. */
function multiValued(name: string, valueType: AttributeType, types: string[] | undefined, extra: SchemaAttribute[] = []): SchemaAttribute {
  return attr(name, 'complex', {
    multiValued: true,
    subAttributes: [
      attr('value', valueType),
      str('display'),
      str('type', types ? { canonicalValues: types } : {}),
      attr('primary', 'boolean'),
      ...extra,
    ],
  });
}

const ID_ATTR = str('id', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' });
const EXTERNAL_ID = str('externalId', { caseExact: true });
const META = attr('meta', 'complex', {
  mutability: 'readOnly',
  subAttributes: [
    str('resourceType', { caseExact: true, mutability: 'readOnly' }),
    attr('created', 'dateTime', { mutability: 'readOnly' }),
    attr('lastModified', 'dateTime', { mutability: 'readOnly' }),
    attr('location', 'reference', { caseExact: true, mutability: 'readOnly', referenceTypes: ['uri'] }),
    str('version', { caseExact: true, mutability: 'readOnly' }),
  ],
});

/** Common attributes (RFC 7643 §3.1) that every resource carries. */
export const COMMON_ATTRIBUTES: readonly SchemaAttribute[] = [ID_ATTR, EXTERNAL_ID, META];

export const USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', { required: true, uniqueness: 'server' }),
    attr('name', 'complex', {
      subAttributes: [
        str('formatted'),
        str('familyName'),
        str('givenName'),
        str('middleName'),
        str('honorificPrefix'),
        str('honorificSuffix'),
      ],
    }),
    str('displayName'),
    str('nickName'),
    attr('profileUrl', 'reference', { referenceTypes: ['external'] }),
    str('title'),
    str('userType'),
    str('preferredLanguage'),
    str('locale'),
    str('timezone'),
    attr('active', 'boolean'),
    str('password', { mutability: 'writeOnly', returned: 'never' }),
    multiValued('emails', 'string', ['work', 'home', 'other']),
    multiValued('phoneNumbers', 'string', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multiValued('ims', 'string', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multiValued('photos', 'reference', ['photo', 'thumbnail']),
    attr('addresses', 'complex', {
      multiValued: true,
      subAttributes: [
        str('formatted'),
        str('streetAddress'),
        str('locality'),
        str('region'),
        str('postalCode'),
        str('country'),
        str('type', { canonicalValues: ['work', 'home', 'other'] }),
        attr('primary', 'boolean'),
      ],
    }),
    attr('groups', 'complex', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        str('value', { mutability: 'readOnly' }),
        attr('$ref', 'reference', { mutability: 'readOnly', referenceTypes: ['User', 'Group'] }),
        str('display', { mutability: 'readOnly' }),
        str('type', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
      ],
    }),
    multiValued('entitlements', 'string', undefined),
    multiValued('roles', 'string', undefined),
    multiValued('x509Certificates', 'binary', undefined),
  ],
};

export const GROUP_SCHEMA_DEFINITION: SchemaDefinition = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', { required: true, uniqueness: 'none' }),
    attr('members', 'complex', {
      multiValued: true,
      subAttributes: [
        str('value', { mutability: 'immutable' }),
        attr('$ref', 'reference', { mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
        str('display', { mutability: 'immutable' }),
        str('type', { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
      ],
    }),
  ],
};

export const ENTERPRISE_USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber'),
    str('costCenter'),
    str('organization'),
    str('division'),
    str('department'),
    attr('manager', 'complex', {
      subAttributes: [
        str('value'),
        attr('$ref', 'reference', { referenceTypes: ['User'] }),
        str('displayName', { mutability: 'readOnly' }),
      ],
    }),
  ],
};

/** Everything we know without asking the server, in /Schemas order. */
export const BUILTIN_SCHEMAS: readonly SchemaDefinition[] = [
  USER_SCHEMA_DEFINITION,
  GROUP_SCHEMA_DEFINITION,
  ENTERPRISE_USER_SCHEMA_DEFINITION,
];

/** The /Schemas representation of one definition (RFC 7643 §7), with meta filled for `baseUrl`. */
export function toScimSchemaResource(def: SchemaDefinition, baseUrl?: string): Record<string, unknown> {
  return {
    schemas: [CORE_SCHEMA],
    id: def.id,
    name: def.name,
    description: def.description,
    attributes: def.attributes,
    meta: {
      resourceType: 'Schema',
      ...(baseUrl ? { location: `${baseUrl.replace(/\/$/, '')}/Schemas/${def.id}` } : {}),
    },
  };
}

/** Case-insensitive attribute lookup in a list of attributes (SCIM names are case-insensitive). */
export function findAttribute(attrs: readonly SchemaAttribute[] | undefined, name: string): SchemaAttribute | undefined {
  if (!attrs) return undefined;
  const lower = name.toLowerCase();
  return attrs.find((a) => a.name.toLowerCase() === lower);
}

/** Finds a schema definition by URN (case-insensitive). */
export function findSchema(defs: readonly SchemaDefinition[], id: string): SchemaDefinition | undefined {
  const lower = id.toLowerCase();
  return defs.find((d) => d.id.toLowerCase() === lower);
}

/**
 * Reads a /Schemas answer (ListResponse or plain array) into definitions,
 * keeping only the fields we use; anything malformed is dropped, not trusted.
 */
export function parseSchemasResponse(body: unknown): SchemaDefinition[] {
  const list = Array.isArray(body) ? body : Array.isArray((body as { Resources?: unknown })?.Resources) ? (body as { Resources: unknown[] }).Resources : [];
  const out: SchemaDefinition[] = [];
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const r = item as Record<string, unknown>;
    if (typeof r.id !== 'string' || !Array.isArray(r.attributes)) continue;
    out.push({
      id: r.id,
      name: typeof r.name === 'string' ? r.name : r.id,
      description: typeof r.description === 'string' ? r.description : '',
      attributes: r.attributes.map(normalizeAttribute).filter((a): a is SchemaAttribute => a !== undefined),
    });
  }
  return out;
}

const TYPES: readonly AttributeType[] = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'];
const MUTABILITIES: readonly Mutability[] = ['readOnly', 'readWrite', 'immutable', 'writeOnly'];

function normalizeAttribute(raw: unknown): SchemaAttribute | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.name !== 'string') return undefined;
  const type = TYPES.find((t) => t.toLowerCase() === String(r.type ?? 'string').toLowerCase()) ?? 'string';
  const mutability = MUTABILITIES.find((m) => m.toLowerCase() === String(r.mutability ?? 'readWrite').toLowerCase()) ?? 'readWrite';
  const subs = Array.isArray(r.subAttributes) ? r.subAttributes.map(normalizeAttribute).filter((a): a is SchemaAttribute => a !== undefined) : undefined;
  return attr(r.name, type, {
    multiValued: r.multiValued === true,
    required: r.required === true,
    caseExact: r.caseExact === true,
    mutability,
    ...(typeof r.returned === 'string' ? { returned: r.returned as Returned } : {}),
    ...(typeof r.uniqueness === 'string' ? { uniqueness: r.uniqueness as Uniqueness } : {}),
    ...(Array.isArray(r.canonicalValues) ? { canonicalValues: r.canonicalValues.map(String) } : {}),
    ...(subs && subs.length ? { subAttributes: subs } : {}),
  });
}

/** An attribute path as filters and columns name it: `active`, `name.givenName`, `urn:…:User:manager.value`. */
export interface SchemaPath {
  schema?: string;
  attr: string;
  sub?: string;
}

/** Core schema of the well-known endpoints, looked at first for attributes without a URN. */
const ENDPOINT_SCHEMA: Record<string, string> = { users: USER_SCHEMA, groups: GROUP_SCHEMA };

/**
 * The definition of the attribute at `path` on `endpoint`'s resources, or
 * undefined when the schemas do not say. `parent` is the multi-valued
 * attribute of a value filter (`emails[primary eq true]`: parent emails).
 */
export function attributeAt(defs: readonly SchemaDefinition[], endpoint: string, path: SchemaPath, parent?: SchemaPath): SchemaAttribute | undefined {
  if (parent) {
    const outer = attributeAt(defs, endpoint, parent);
    const inner = findAttribute(outer?.subAttributes, path.attr);
    return path.sub ? findAttribute(inner?.subAttributes, path.sub) : inner;
  }
  let top: SchemaAttribute | undefined;
  if (path.schema) {
    top = findAttribute(findSchema(defs, path.schema)?.attributes, path.attr);
  } else {
    const preferred = ENDPOINT_SCHEMA[endpoint.toLowerCase()];
    const first = preferred ? findSchema(defs, preferred) : undefined;
    top = findAttribute(first?.attributes, path.attr) ?? findAttribute(COMMON_ATTRIBUTES, path.attr);
    // Other resource types: any schema that is not an extension.
    if (!top && !first) {
      for (const d of defs) {
        if (/:extension:/i.test(d.id)) continue;
        top = findAttribute(d.attributes, path.attr);
        if (top) break;
      }
    }
  }
  return path.sub ? findAttribute(top?.subAttributes, path.sub) : top;
}

/** Reads /Schemas; the built-in definitions when the server has none, refuses, or answers garbage. */
export async function readServerSchemas(
  client: { request(req: { path: string; signal?: AbortSignal }): Promise<{ body: unknown }> },
  signal?: AbortSignal,
): Promise<{ schemas: readonly SchemaDefinition[]; source: 'server' | 'builtin' }> {
  try {
    const res = await client.request({ path: 'Schemas', signal });
    const parsed = parseSchemasResponse(res.body);
    if (parsed.length > 0) return { schemas: parsed, source: 'server' };
  } catch (err) {
    if (signal?.aborted) throw err;
    const category = (err as { category?: string }).category;
    if (category === 'auth') throw err;
  }
  return { schemas: BUILTIN_SCHEMAS, source: 'builtin' };
}
