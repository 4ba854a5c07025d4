/**
 * The pipeline file's keys, types and defaults as data: one table drives the
 * reader (unknown keys, wrong types, case-insensitive matching) and the JSON
 * Schema shipped for editors, so the two cannot disagree.
 *
 * Key names are canonical camelCase; files may spell them in any case
 * (`Server`, `PageSize`, `OAuth2Url` as in the seed's appsettings).
 */

interface Common {
  description: string;
}

export type FieldSpec =
  | (Common & { type: 'string'; default?: string; enum?: readonly string[]; secret?: boolean })
  | (Common & { type: 'integer'; min: number; max?: number; default?: number })
  | (Common & { type: 'boolean'; default?: boolean })
  /** An integer count or a percentage string such as "10%". */
  | (Common & { type: 'threshold' })
  /** One string or a list of strings. */
  | (Common & { type: 'stringList' })
  | (Common & { type: 'object'; fields: Record<string, FieldSpec> })
  /** User-named keys (entity names, attribute names), each value of one spec. */
  | (Common & { type: 'map'; values: FieldSpec; duplicateCode: string; nullable?: boolean });

export type ObjectSpec = Extract<FieldSpec, { type: 'object' }>;

export const DIALECTS = ['RFC', 'Salesforce', 'CyberArk', 'Slack'] as const;

/** Connection attributes a secret source may provide (CyberArk objects, Key Vault names). */
export const SECRET_ATTRIBUTES = ['server', 'login', 'password', 'oAuthToken', 'applicationId', 'applicationKey', 'oAuth2Url'] as const;

const str = (description: string, extra: { default?: string; enum?: readonly string[]; secret?: boolean } = {}): FieldSpec => ({
  type: 'string',
  description,
  ...extra,
});
const int = (description: string, min: number, dflt?: number, max?: number): FieldSpec => ({
  type: 'integer',
  description,
  min,
  ...(max !== undefined ? { max } : {}),
  ...(dflt !== undefined ? { default: dflt } : {}),
});
const bool = (description: string, dflt: boolean): FieldSpec => ({ type: 'boolean', description, default: dflt });

const COUNT_MISMATCH = ['fail', 'warn'] as const;

const filterString = str(
  "The seed's combined entity filter: 'Users|?filter=active eq \"true\"*Groups' or the column-list form 'Users;id userName name:givenName|familyName*Groups;id displayName'.",
);
const filterGroupString = str("Entities whose membership tables (<identifier>_members_<Entity>.csv) are written, in the same syntax as filter: 'Groups'.");

export const connectionSpec: ObjectSpec = {
  type: 'object',
  description: 'Where the SCIM server is and how to authenticate.',
  fields: {
    identifier: str('Connection identifier, prefix of every output file. Unique; not starting with a digit; none of < > : / \\ | ? * _'),
    server: str('SCIM base URL without /v2 (https://example.com/scim), with it, or any SCIM root: the root is where ServiceProviderConfig answers, <server>/v2 first, then <server>'),
    scimSyntax: str('SCIM dialect of the server.', { enum: DIALECTS, default: 'RFC' }),
    pageSize: int("Resources requested per page (count); default 200 within the server's filter.maxResults / pagination.maxPageSize, which also cap a larger value.", 1, 200),
    concurrency: int('Pages in flight at most once totalResults is known: from 1, widened while rows per second grow.', 1, 4),
    oAuthToken: str('Static OAuth bearer token.', { secret: true }),
    login: str('Account login (password grant, Basic auth, or CyberArk token request).'),
    password: str('Account password (Salesforce: password followed by the security token).', { secret: true }),
    applicationId: str('OAuth client id (Salesforce consumer key).'),
    applicationKey: str('OAuth client secret (Salesforce consumer secret).', { secret: true }),
    oAuth2Url: str('Token endpoint, when the tool cannot discover it (Salesforce: https://login.salesforce.com/services/oauth2/token).'),
    ca: str('Path of a PEM bundle trusted in addition to the system CAs.'),
    insecure: bool('Labs only: skip TLS certificate verification.', false),
    timeout: int('Idle timeout of each request phase (connect, first byte, between bytes), in milliseconds.', 1, 30000),
    requestDeadline: int('Whole-reply deadline of one attempt, body included, in milliseconds.', 1, 600000),
    maxReplyBytes: int('Largest reply body accepted, in decoded bytes (checked while decompressing).', 1, 268435456),
    retry: {
      type: 'object',
      description: 'Retries of failed requests (429, 5xx, network errors).',
      fields: {
        limit: int('Error retries after the first attempt (5xx, network errors); throttled waits do not count.', 0, 4),
        maxRetryAfter: int('Longest Retry-After accepted, in milliseconds; longer waits fail fast.', 0, 120000),
        backoff: int('Base of the exponential backoff, in milliseconds.', 0, 500),
        maxElapsed: int('Time budget of one request, retries and waits included, in milliseconds; waits the server asks for (429, Retry-After) count here, not in limit.', 0, 600000),
      },
    },
    secrets: {
      type: 'object',
      description: 'Where secret connection values come from besides ${VAR}.',
      fields: {
        privateKey: str('Path of the RSA private key (PEM) that decrypts enc: values of an encrypted settings file.'),
        azureKeyVault: {
          type: 'object',
          description: 'Azure Key Vault holding secrets named Connections--<identifier>--<Attribute>.',
          fields: {
            url: str('Vault URL, https://<vault>.vault.azure.net'),
            tenantId: str('Entra tenant id.'),
            clientId: str('Client id of the identity reading the vault.'),
            clientSecret: str('Client secret of that identity.', { secret: true }),
            authorityHost: str('Token authority, default https://login.microsoftonline.com'),
          },
        },
        cyberArk: {
          type: 'object',
          description: 'CyberArk Central Credential Provider holding connection attributes.',
          fields: {
            url: str('Central Credential Provider base URL.'),
            appId: str('Application id registered in CyberArk.'),
            safe: str('Safe holding the accounts.'),
            objects: {
              type: 'map',
              description: 'Connection attribute → CyberArk object (account) name, e.g. Login: SCIMExport_CyberArkKey.',
              values: str('CyberArk object name.'),
              duplicateCode: 'ERR_CONFIG_DUPLICATE_KEY',
            },
            ca: str('PEM bundle to trust for the provider.'),
            cert: str('Client certificate (PEM) for the provider.'),
            key: str('Client certificate key (PEM).'),
          },
        },
      },
    },
    settingsFile: str('Identity Manager appsettings.agent.json whose Connections.<identifier> entry is merged in (pipeline keys win); *.encrypted.* files carry enc: values.'),
    filter: filterString,
    filterGroup: filterGroupString,
    serviceSupportBulk: bool('Seed name: send fulfill operations in SCIM Bulk requests (fulfill.serviceSupportBulk wins).', false),
    bulkMaxOperation: int("Seed name: operations per Bulk request (fulfill.bulkMaxOperation wins).", 1, 100),
  },
};

const entitySpec: ObjectSpec = {
  type: 'object',
  description: 'One exported table: <output>/<identifier>_<Entity>.csv',
  fields: {
    filter: str('SCIM filter (RFC 7644 §3.4.2.2), e.g. active eq "true"'),
    columns: {
      type: 'stringList',
      description: 'Column paths in output order: attr, attr:sub, urn:…:User:attr:sub, emails[type eq "work"]:value; or auto: every readable attribute in the server\'s /Schemas, in schema order',
    },
    incremental: bool('Incremental export with a meta.lastModified watermark kept in the cookie (any resource type whose server filters on meta.lastModified).', false),
    detectDeletes: bool('Incremental runs also list ids only and write a delete row for each resource gone since the last run (needs incremental: true and an id column).', false),
    members: bool('Also write <identifier>_members_<Entity>.csv (value,MemberId).', false),
    privilegedData: bool('CyberArk containers: also write <identifier>_privilegedData_<Entity>.csv.', false),
    countMismatch: str("This table's rows do not match the server's totalResults: fail the table, or warn and write it. Default: export.countMismatch.", { enum: COUNT_MISMATCH }),
  },
};

export const exportSpec: ObjectSpec = {
  type: 'object',
  description: 'What to export.',
  fields: {
    output: str('Output directory, relative to the pipeline file.', { default: 'ExportOutput' }),
    entities: {
      type: 'map',
      description: 'Entity name as the server spells its endpoint (Users, Groups, Entitlements, Containers…) → table settings.',
      values: entitySpec,
      duplicateCode: 'ERR_CONFIG_DUPLICATE_ENTITY',
      nullable: true,
    },
    filter: filterString,
    filterGroup: filterGroupString,
    escapeFormulas: bool('Escape cells a spreadsheet would run as a formula (=, +, -, @).', false),
    syncCookiesFile: str('Incremental watermark file, default <output>/<identifier>.cookie.json.'),
    incrementalOverlap: int('Seconds subtracted from the watermark of an incremental run, so that same-second changes and a server clock behind ours are not missed.', 0, 60, 86400),
    format: str('Output format.', { enum: ['csv', 'ndjson'], default: 'csv' }),
    nulls: bool('NDJSON: write a missing value as null (default: leave the key out).', false),
    countMismatch: str("A table whose rows do not match the server's totalResults (after one re-read): fail it and keep the previous file, or warn and write it.", { enum: COUNT_MISMATCH, default: 'fail' }),
    maxPages: int('List requests one table may take before it fails (a server serving one item per page, or paging without end).', 1, 100_000),
    // Node timers hold at most 2^31-1 ms (24.8 days); a longer one would fire at once.
    deadline: int('Longest run in milliseconds: a run still going then stops with ERR_EXPORT_DEADLINE and commits nothing. Default: none.', 1, undefined, 2147483647),
    filterFallback: str('What a table does when the server refuses its filter (400 invalidFilter): list everything and filter locally, or fail.', {
      enum: ['local', 'fail'],
      default: 'local',
    }),
  },
};

export const fulfillSpec: ObjectSpec = {
  type: 'object',
  description: 'Provisioning orders to apply.',
  fields: {
    orders: { type: 'stringList', description: 'Directory of order CSVs, or a list of files; relative to the pipeline file. Default: orders' },
    results: str('Directory of result CSVs, relative to the pipeline file.', { default: 'results' }),
    serviceSupportBulk: bool('Send operations in SCIM Bulk requests.', false),
    bulkMaxOperation: int("Operations per Bulk request, capped by the server's bulk.maxOperations.", 1, 100),
    // The request sink keeps at most 256 requests in flight.
    concurrency: int('Single-request mode: requests in flight (at most 256).', 1, 4, 256),
    maxMembersPerPatch: int('Member adds/removes per PATCH of a group.', 1, 1000),
    maxDeletes: { type: 'threshold', description: 'Stop before deleting more than this many users (count, or "10%" of the order lines) unless --force.' },
    maxChanges: { type: 'threshold', description: 'Stop before changing more than this (count or "10%") unless --force.' },
    onConflict: str('What an insert that meets an existing user (409 uniqueness) does.', { enum: ['fail', 'skip', 'update'], default: 'fail' }),
    nullMarker: str('A cell with exactly this text clears the attribute.', { default: '#null' }),
    deprovision: str('What a users `delete` line does: DELETE the user, or deactivate it (PATCH active=false). Default: the dialect\'s (Salesforce, Slack: deactivate; RFC, CyberArk: delete).', { enum: ['delete', 'deactivate'] }),
    ifMatch: bool("Send If-Match with the resource's version (meta.version / ETag) on updates and deletes, where the server advertises etag.supported; a 412 re-reads the resource and retries once, else the line fails (preconditionFailed).", false),
    verify: bool('Read every changed user and group back and report an order whose effect is not on the server as failed (notApplied).', false),
  },
};

export const pipelineSpec: ObjectSpec = {
  type: 'object',
  description: 'A scim-etl pipeline.',
  fields: {
    version: int('Pipeline file format version: 1.', 1, 1),
    connection: connectionSpec,
    export: exportSpec,
    fulfill: fulfillSpec,
  },
};

/** Every known key path, e.g. "connection.retry.limit", "export.entities.*.columns" (for the schema test and docs). */
export function knownKeyPaths(spec: FieldSpec = pipelineSpec, prefix = ''): string[] {
  if (spec.type === 'object') {
    return Object.entries(spec.fields).flatMap(([k, f]) => {
      const p = prefix ? `${prefix}.${k}` : k;
      return [p, ...knownKeyPaths(f, p)];
    });
  }
  if (spec.type === 'map') return knownKeyPaths(spec.values, `${prefix}.*`);
  return [];
}
