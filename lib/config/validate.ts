/**
 * From the read values (canonical keys, right types) to the validated
 * Pipeline model: defaults, paths resolved against the pipeline's directory,
 * and the checks that need meaning: identifier rules, the server URL, secret
 * sources, and every filter and column path parsed locally so that a typo is
 * reported at its line and column before any request is sent.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isScimEtlError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { parseFilter, type FilterNode } from '../scim/filter.js';
import { parseColumnPath, type ColumnPath } from '../scim/path.js';
import type { KeyPath, Loc, Locations, ProblemList } from './locations.js';
import type { RawObject } from './read-node.js';
import { parseSeedFilter, type SeedPiece } from './seed-filter.js';
import { closest } from './suggest.js';
import { SECRET_ATTRIBUTES, connectionSpec, exportSpec, fulfillSpec, type FieldSpec } from './spec.js';
import type {
  ConnectionConfig,
  DialectName,
  EntityExport,
  ExportConfig,
  FulfillConfig,
  Pipeline,
  SecretSources,
  Threshold,
} from './types.js';

export interface BuildContext {
  /** Absolute path of the pipeline file. */
  file: string;
  locs: Locations;
  problems: ProblemList;
}

/** Characters the seed forbids in a connection identifier (they end up in file names). */
const IDENTIFIER_FORBIDDEN = /[<>:/\\|?*_]/;
/** Entity names go into URLs and file names. */
const ENTITY_NAME_FORBIDDEN = /[\s?&=/\\#[\]"*|;:<>]/;

export function buildPipeline(raw: RawObject, ctx: BuildContext): Pipeline | undefined {
  const before = ctx.problems.length;
  const version = raw.version as number | undefined;
  if (version !== undefined && version !== 1) {
    ctx.problems.at(ctx.locs.get(['version']), 'ERR_CONFIG_VERSION', `version ${version} is not supported: this scim-etl reads version 1`);
  }
  const rawConn = raw.connection as RawObject | undefined;
  if (rawConn === undefined && !ctx.locs.isBad(['connection'])) {
    ctx.problems.add('ERR_CONFIG_MISSING_KEY', 'missing key "connection" (identifier, server, credentials)', { line: 1, col: 1 });
  }
  const connection = rawConn ? buildConnection(rawConn, ctx) : undefined;
  const exp = buildExport(raw.export as RawObject | undefined, rawConn ?? {}, ctx);
  const ful = raw.fulfill === undefined ? undefined : buildFulfill(raw.fulfill as RawObject, rawConn ?? {}, ctx);
  if (ctx.problems.length > before || !connection) return undefined;
  const pipeline: Pipeline = { version: 1, file: ctx.file, connection };
  if (exp) pipeline.export = exp;
  if (ful) pipeline.fulfill = ful;
  return pipeline;
}

// ---------------------------------------------------------------------------
// connection

function buildConnection(c: RawObject, ctx: BuildContext): ConnectionConfig {
  const P = ['connection'];
  const loc = (k: string | KeyPath) => ctx.locs.get(typeof k === 'string' ? [...P, k] : [...P, ...k]);
  const d = defaults(connectionSpec.fields);
  const secrets = buildSecrets((c.secrets as RawObject | undefined) ?? {}, ctx);

  const identifier = c.identifier as string | undefined;
  if (identifier === undefined) {
    if (!ctx.locs.isBad([...P, 'identifier'])) missing(ctx, P, 'identifier', 'the connection identifier (prefix of every output file)');
  } else {
    checkIdentifier(identifier, loc('identifier'), ctx);
  }

  let server = c.server as string | undefined;
  if (server === undefined) {
    const provided = secrets.azureKeyVault !== undefined || Object.keys(secrets.cyberArk?.objects ?? {}).includes('server');
    if (!provided && !ctx.locs.isBad([...P, 'server'])) missing(ctx, P, 'server', 'the SCIM base URL, excluding /v2');
  } else if (!isEncrypted(server)) {
    server = checkServer(server, loc('server'), ctx);
  }

  for (const k of ['oAuth2Url'] as const) {
    const v = c[k] as string | undefined;
    if (v !== undefined && !isEncrypted(v)) checkHttpUrl(v, loc(k), `connection.${k}`, ctx);
  }
  for (const [k, spec] of Object.entries(connectionSpec.fields)) {
    if (spec.type === 'string' && spec.secret) registerSecret(c[k]);
  }

  const retry = (c.retry as RawObject | undefined) ?? {};
  const conn: ConnectionConfig = {
    identifier: identifier ?? '',
    // Empty when a secret source (Key Vault, CyberArk) provides it at run time.
    server: server ?? '',
    scimSyntax: ((c.scimSyntax as string | undefined) ?? d.scimSyntax) as DialectName,
    pageSize: (c.pageSize as number | undefined) ?? (d.pageSize as number),
    concurrency: (c.concurrency as number | undefined) ?? (d.concurrency as number),
    insecure: (c.insecure as boolean | undefined) ?? false,
    timeoutMs: (c.timeout as number | undefined) ?? (d.timeout as number),
    retry: {
      limit: (retry.limit as number | undefined) ?? 4,
      maxRetryAfterMs: (retry.maxRetryAfter as number | undefined) ?? 120000,
      backoffMs: (retry.backoff as number | undefined) ?? 500,
    },
    secrets,
  };
  // Left out when not set: the client holds their defaults (the spec table repeats them, a test keeps both equal).
  if (c.pageSize !== undefined) conn.setInPipeline = ['pageSize'];
  if (c.requestDeadline !== undefined) conn.requestDeadlineMs = c.requestDeadline as number;
  if (c.maxReplyBytes !== undefined) conn.maxReplyBytes = c.maxReplyBytes as number;
  if (retry.maxElapsed !== undefined) conn.retry.maxElapsedMs = retry.maxElapsed as number;
  for (const k of ['oAuthToken', 'login', 'password', 'applicationId', 'applicationKey', 'oAuth2Url'] as const) {
    const v = c[k] as string | undefined;
    if (v !== undefined && v !== '') conn[k] = v;
  }
  if (c.ca !== undefined) conn.ca = existingFile(c.ca as string, ['connection', 'ca'], ctx);
  return conn;
}

function checkIdentifier(id: string, loc: Loc | undefined, ctx: BuildContext): void {
  if (isEncrypted(id)) {
    ctx.problems.at(loc, 'ERR_CONFIG_IDENTIFIER', 'the connection identifier cannot be encrypted: it names the output files');
    return;
  }
  const rule = 'an identifier must not start with a digit nor contain < > : / \\ | ? * _';
  if (id.trim() === '') {
    ctx.problems.at(loc, 'ERR_CONFIG_IDENTIFIER', 'the connection identifier is empty');
  } else if (/^\d/.test(id)) {
    ctx.problems.at(loc, 'ERR_CONFIG_IDENTIFIER', `identifier ${JSON.stringify(id)} starts with a digit: ${rule}`, 0);
  } else {
    const bad = id.search(IDENTIFIER_FORBIDDEN);
    if (bad >= 0) ctx.problems.at(loc, 'ERR_CONFIG_IDENTIFIER', `identifier ${JSON.stringify(id)} contains ${JSON.stringify(id[bad])}: ${rule}`, bad);
    else if (/\s/.test(id)) ctx.problems.at(loc, 'ERR_CONFIG_IDENTIFIER', `identifier ${JSON.stringify(id)} contains a space: it names output files`, id.search(/\s/));
  }
}

/** Returns the server URL normalised (no trailing slash), or reports why it is not usable. */
function checkServer(server: string, loc: Loc | undefined, ctx: BuildContext): string {
  const url = checkHttpUrl(server, loc, 'connection.server', ctx);
  if (!url) return server;
  if (url.search || url.hash) {
    ctx.problems.at(loc, 'ERR_CONFIG_SERVER', 'connection.server is a base URL: remove the query string or fragment');
    return server;
  }
  // Any SCIM root will do: with or without /v2, or any other path; the client finds where ServiceProviderConfig lives.
  const trimmed = server.trim().replace(/\/+$/, '');
  return trimmed;
}

function checkHttpUrl(value: string, loc: Loc | undefined, what: string, ctx: BuildContext): URL | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    ctx.problems.at(loc, 'ERR_CONFIG_SERVER', `${what}: ${JSON.stringify(value)} is not a URL (expected http(s)://host/path)`);
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.problems.at(loc, 'ERR_CONFIG_SERVER', `${what}: expected an http or https URL, got ${JSON.stringify(url.protocol.slice(0, -1))}`, 0);
    return undefined;
  }
  if (url.username || url.password) {
    // Never echo the URL: it holds a credential.
    ctx.problems.at(loc, 'ERR_CONFIG_SERVER', `${what}: credentials in the URL are not allowed: use login/password or oAuthToken`);
    if (url.password) registerSecret(decodeURIComponent(url.password));
    return undefined;
  }
  return url;
}

function buildSecrets(s: RawObject, ctx: BuildContext): SecretSources {
  const P = ['connection', 'secrets'];
  const out: SecretSources = {};
  if (s.privateKey !== undefined) out.privateKey = existingFile(s.privateKey as string, [...P, 'privateKey'], ctx);
  const akv = s.azureKeyVault as RawObject | undefined;
  if (akv) {
    const req = requireKeys(akv, [...P, 'azureKeyVault'], ['url', 'tenantId', 'clientId', 'clientSecret'], ctx);
    registerSecret(akv.clientSecret);
    if (typeof akv.url === 'string' && !isEncrypted(akv.url)) checkHttpUrl(akv.url, ctx.locs.get([...P, 'azureKeyVault', 'url']), 'connection.secrets.azureKeyVault.url', ctx);
    if (req) {
      out.azureKeyVault = {
        url: akv.url as string,
        tenantId: akv.tenantId as string,
        clientId: akv.clientId as string,
        clientSecret: akv.clientSecret as string,
      };
      if (akv.authorityHost !== undefined) out.azureKeyVault.authorityHost = akv.authorityHost as string;
    }
  }
  const ca = s.cyberArk as RawObject | undefined;
  if (ca) {
    const cp = [...P, 'cyberArk'];
    const req = requireKeys(ca, cp, ['url', 'appId', 'safe', 'objects'], ctx);
    if (typeof ca.url === 'string' && !isEncrypted(ca.url)) checkHttpUrl(ca.url, ctx.locs.get([...cp, 'url']), 'connection.secrets.cyberArk.url', ctx);
    // Object keys name connection attributes; normalise them to the canonical names.
    const objects: Record<string, string> = {};
    for (const [name, obj] of Object.entries((ca.objects as Record<string, string> | undefined) ?? {})) {
      const attr = SECRET_ATTRIBUTES.find((a) => a.toLowerCase() === name.toLowerCase());
      if (!attr) {
        const hint = closest(name, SECRET_ATTRIBUTES);
        ctx.problems.atKey(
          ctx.locs.get([...cp, 'objects', name]),
          'ERR_CONFIG_UNKNOWN_KEY',
          `connection.secrets.cyberArk.objects: ${JSON.stringify(name)} is not a connection attribute${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''} (one of ${SECRET_ATTRIBUTES.join(', ')})`,
        );
        continue;
      }
      objects[attr] = obj;
    }
    if (ca.objects !== undefined && Object.keys(ca.objects as object).length === 0) {
      ctx.problems.at(ctx.locs.get([...cp, 'objects']), 'ERR_CONFIG_MISSING_KEY', 'connection.secrets.cyberArk.objects is empty: map attributes to CyberArk objects, e.g. Password: MyApp_Key');
    }
    if (req) {
      out.cyberArk = { url: ca.url as string, appId: ca.appId as string, safe: ca.safe as string, objects };
      for (const k of ['ca', 'cert', 'key'] as const) if (ca[k] !== undefined) out.cyberArk[k] = existingFile(ca[k] as string, [...cp, k], ctx);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// export

/** One entity while it is being assembled from the seed strings and the entities mapping. */
interface EntityDraft {
  name: string;
  /** The setting that first named the entity, and where (for "no columns"). */
  from: string;
  nameLoc?: Loc;
  filter?: { text: string; loc: Loc | undefined; offset: (o: number) => number; from: string };
  columns?: { items: Array<{ text: string; loc: Loc | undefined; offset: (o: number) => number }>; from: string };
  incremental: boolean;
  detectDeletes?: boolean;
  detectDeletesLoc?: Loc;
  members: boolean;
  privilegedData: boolean;
  countMismatch?: 'fail' | 'warn';
}

function buildExport(e: RawObject | undefined, conn: RawObject, ctx: BuildContext): ExportConfig | undefined {
  const hasSeedFilter = conn.filter !== undefined || conn.filterGroup !== undefined;
  if (e === undefined && !hasSeedFilter) return undefined;
  const x = e ?? {};
  const drafts = new Map<string, EntityDraft>();

  for (const [section, raw] of [['connection', conn], ['export', x]] as const) {
    for (const key of ['filter', 'filterGroup'] as const) {
      const text = raw[key] as string | undefined;
      if (text !== undefined) addSeedEntities(text, [section, key], key === 'filterGroup', drafts, ctx);
    }
  }
  const entities = (x.entities as Record<string, RawObject> | undefined) ?? {};
  for (const [name, ent] of Object.entries(entities)) addMappedEntity(name, ent, drafts, ctx);

  // An entity that was written but rejected is not also "no entity".
  if (drafts.size === 0 && !ctx.locs.hasUnder(['export', 'entities'])) {
    ctx.problems.atKey(ctx.locs.get(['export']), 'ERR_CONFIG_MISSING_KEY', 'export: no entity to export: add export.entities (e.g. Users: {columns: [id, userName]})');
  }

  const out: EntityExport[] = [];
  for (const draft of drafts.values()) {
    const entity = finishEntity(draft, ctx);
    if (entity) out.push(entity);
  }
  const d = defaults(exportSpec.fields);
  const config: ExportConfig = {
    output: resolvePath(ctx.file, (x.output as string | undefined) ?? (d.output as string)),
    entities: out,
    escapeFormulas: (x.escapeFormulas as boolean | undefined) ?? false,
    format: ((x.format as string | undefined) ?? d.format) as 'csv' | 'ndjson',
    countMismatch: ((x.countMismatch as string | undefined) ?? d.countMismatch) as 'fail' | 'warn',
    maxPages: (x.maxPages as number | undefined) ?? (d.maxPages as number),
    filterFallback: ((x.filterFallback as string | undefined) ?? d.filterFallback) as 'local' | 'fail',
  };
  if (x.nulls === true) config.nulls = true;
  if (x.deadline !== undefined) config.deadline = x.deadline as number;
  if (x.incrementalOverlap !== undefined) config.incrementalOverlap = x.incrementalOverlap as number;
  if (x.syncCookiesFile !== undefined) config.syncCookiesFile = resolvePath(ctx.file, x.syncCookiesFile as string);
  return config;
}

function addSeedEntities(text: string, path: KeyPath, membership: boolean, drafts: Map<string, EntityDraft>, ctx: BuildContext): void {
  const loc = ctx.locs.get(path);
  const setting = path.join('.');
  const parsed = parseSeedFilter(text);
  for (const p of parsed.problems) ctx.problems.at(loc, p.code, `${setting}: ${p.message}`, p.offset);
  const seenHere = new Set<string>();
  for (const spec of parsed.entities) {
    const name = spec.name.text;
    if (seenHere.has(name.toLowerCase())) {
      ctx.problems.at(loc, 'ERR_CONFIG_DUPLICATE_ENTITY', `${setting}: entity ${JSON.stringify(name)} is named twice`, spec.name.offsets[0]);
      continue;
    }
    seenHere.add(name.toLowerCase());
    const namePos = loc?.at(spec.name.offsets[0] ?? 0);
    const nameLoc: Loc | undefined = loc && namePos ? { file: loc.file, ...namePos, at: () => namePos } : undefined;
    const draft = draftFor(name, setting, nameLoc, drafts);
    if (membership) draft.members = true;
    const dup = (what: string, other: string, piece: SeedPiece) =>
      ctx.problems.at(loc, 'ERR_CONFIG_DUPLICATE_ENTITY', `${setting}: the ${what} of entity ${JSON.stringify(name)} is already given in ${other}`, piece.offsets[0]);
    if (spec.filter) {
      const f = spec.filter;
      if (draft.filter) dup('filter', draft.filter.from, spec.name);
      else draft.filter = { text: f.text, loc, offset: (o) => pieceOffset(f, o), from: setting };
    }
    if (spec.columns) {
      if (draft.columns) dup('columns', draft.columns.from, spec.name);
      else
        draft.columns = {
          from: setting,
          items: spec.columns.map((c) => ({ text: c.text, loc, offset: (o: number) => pieceOffset(c, o) })),
        };
    }
  }
}

function addMappedEntity(name: string, ent: RawObject, drafts: Map<string, EntityDraft>, ctx: BuildContext): void {
  const P = ['export', 'entities', name];
  const where = `export.entities.${name}`;
  const nameLoc = ctx.locs.get(P);
  const bad = name.search(ENTITY_NAME_FORBIDDEN);
  if (name === '' || bad >= 0) {
    ctx.problems.atKey(nameLoc, 'ERR_CONFIG_ENTITY_NAME', `entity name ${JSON.stringify(name)} ${name === '' ? 'is empty' : `contains ${JSON.stringify(name[bad])}`}: use the resource endpoint name (Users, Groups, Entitlements…)`);
    return;
  }
  const draft = draftFor(name, where, nameLoc, drafts);
  const dup = (what: string, other: string) =>
    ctx.problems.atKey(ctx.locs.get([...P, what]), 'ERR_CONFIG_DUPLICATE_ENTITY', `${where}: the ${what} of entity ${JSON.stringify(name)} is already given in ${other}`);
  if (typeof ent.filter === 'string') {
    if (draft.filter) dup('filter', draft.filter.from);
    else {
      draft.filter = { text: ent.filter, loc: ctx.locs.get([...P, 'filter']), offset: (o) => o, from: where };
    }
  }
  const single = Array.isArray(ent.columns) && ent.columns.length === 1 && !ctx.locs.get([...P, 'columns', 0]) ? (ent.columns[0] as string) : undefined;
  if (single !== undefined && /^\S+(\s+\S+)+$/.test(single.trim()) && !single.includes('[')) {
    // `columns: id userName` is one (invalid) path; say what was meant.
    const loc = ctx.locs.get([...P, 'columns']);
    ctx.problems.at(loc, 'ERR_CONFIG_TYPE', `${where}.columns is one string with spaces: write a list, [${single.trim().split(/\s+/).join(', ')}]`);
    if (loc) loc.bad = true;
    draft.columns = { from: where, items: [] };
  } else if (Array.isArray(ent.columns)) {
    if (draft.columns) dup('columns', draft.columns.from);
    else {
      const listLoc = ctx.locs.get([...P, 'columns']);
      draft.columns = {
        from: where,
        items: (ent.columns as string[]).map((text, i) => ({ text, loc: ctx.locs.get([...P, 'columns', i]) ?? listLoc, offset: (o: number) => o })),
      };
    }
  } else if (ctx.locs.isBad([...P, 'columns'])) {
    // Reported already; do not also say "no columns".
    draft.columns = { from: where, items: [] };
  }
  draft.incremental ||= ent.incremental === true;
  if (ent.detectDeletes === true) {
    draft.detectDeletes = true;
    // Deletions are found by diffing a complete id list with the last run's: only a watermarked entity has one.
    if (ent.incremental !== true) ctx.problems.atKey(ctx.locs.get([...P, 'detectDeletes']), 'ERR_CONFIG_DETECT_DELETES', `${where}: detectDeletes needs incremental: true (a complete export has no delete rows: a deleted resource is simply absent)`);
    else draft.detectDeletesLoc = ctx.locs.get([...P, 'detectDeletes']);
  }
  draft.members ||= ent.members === true;
  draft.privilegedData ||= ent.privilegedData === true;
  if (ent.countMismatch === 'fail' || ent.countMismatch === 'warn') draft.countMismatch = ent.countMismatch;
}

function draftFor(name: string, from: string, nameLoc: Loc | undefined, drafts: Map<string, EntityDraft>): EntityDraft {
  const key = name.toLowerCase();
  let d = drafts.get(key);
  if (!d) {
    d = { name, from, nameLoc, incremental: false, members: false, privilegedData: false };
    drafts.set(key, d);
  }
  return d;
}

function finishEntity(draft: EntityDraft, ctx: BuildContext): EntityExport | undefined {
  const before = ctx.problems.length;
  let filterAst: FilterNode | undefined;
  if (draft.filter) {
    const f = draft.filter;
    try {
      filterAst = parseFilter(f.text);
    } catch (err) {
      reportParseError(err, f.loc, f.offset, `${f.from}: filter of ${draft.name}`, ctx);
    }
  }
  const columns: ColumnPath[] = [];
  const seen = new Map<string, string>();
  // `columns: auto`: every readable attribute the server's /Schemas lists, resolved when the export starts.
  const auto = draft.columns?.items.length === 1 && draft.columns.items[0]!.text.trim().toLowerCase() === 'auto';
  if (auto) {
    // Nothing to parse here.
  } else if (!draft.columns) {
    ctx.problems.atKey(
      draft.nameLoc ?? ctx.locs.get(draft.from.split('.')),
      'ERR_CONFIG_MISSING_KEY',
      `entity ${JSON.stringify(draft.name)} has no columns: add columns: [id, …] under export.entities.${draft.name}, or ";id …" after its name in the filter string`,
    );
  } else {
    if (draft.columns.items.length === 0 && !ctx.locs.isBad(['export', 'entities', draft.name, 'columns'])) {
      ctx.problems.at(draft.nameLoc ?? ctx.locs.get(draft.columns.from.split('.')), 'ERR_CONFIG_MISSING_KEY', `entity ${JSON.stringify(draft.name)}: columns is empty: name at least one column`);
    }
    for (const c of draft.columns.items) {
      try {
        const col = parseColumnPath(c.text);
        const key = c.text.toLowerCase();
        if (seen.has(key)) {
          ctx.problems.at(c.loc, 'ERR_CONFIG_DUPLICATE_COLUMN', `${draft.columns.from}: column ${JSON.stringify(c.text)} of ${draft.name} is listed twice`, c.offset(0));
          continue;
        }
        seen.set(key, c.text);
        columns.push(col);
      } catch (err) {
        reportParseError(err, c.loc, c.offset, `${draft.columns.from}: column ${JSON.stringify(c.text)}`, ctx);
      }
    }
  }
  if (draft.detectDeletes && draft.columns && !auto && !columns.some((c) => c.text.toLowerCase() === 'id')) {
    ctx.problems.atKey(draft.detectDeletesLoc ?? draft.nameLoc, 'ERR_CONFIG_DETECT_DELETES', `export.entities.${draft.name}: detectDeletes writes the deleted resource's id: add id to the columns`);
  }
  if (ctx.problems.length > before) return undefined;
  const entity: EntityExport = {
    name: draft.name,
    columns,
    incremental: draft.incremental,
    ...(draft.detectDeletes ? { detectDeletes: true } : {}),
    members: draft.members,
    privilegedData: draft.privilegedData,
  };
  if (auto) entity.columnsAuto = true;
  if (draft.countMismatch) entity.countMismatch = draft.countMismatch;
  if (draft.filter && filterAst) {
    entity.filter = draft.filter.text;
    entity.filterAst = filterAst;
  }
  return entity;
}

/** ERR_FILTER_SYNTAX / ERR_PATH_SYNTAX carry an offset in the parsed text: show it in the file. */
function reportParseError(err: unknown, loc: Loc | undefined, toValueOffset: (o: number) => number, what: string, ctx: BuildContext): void {
  if (!isScimEtlError(err)) throw err;
  const offset = typeof err.context.offset === 'number' ? err.context.offset : 0;
  ctx.problems.at(loc, err.code, `${what}: ${err.message}`, toValueOffset(offset));
}

function pieceOffset(p: SeedPiece, o: number): number {
  if (p.offsets.length === 0) return 0;
  return o < p.offsets.length ? p.offsets[o]! : p.offsets[p.offsets.length - 1]! + (o - p.offsets.length + 1);
}

// ---------------------------------------------------------------------------
// fulfill

function buildFulfill(f: RawObject, conn: RawObject, ctx: BuildContext): FulfillConfig {
  const d = defaults(fulfillSpec.fields);
  const orders = (f.orders as string[] | undefined) ?? ['orders'];
  if (orders.length === 0 && !ctx.locs.isBad(['fulfill', 'orders'])) {
    ctx.problems.at(ctx.locs.get(['fulfill', 'orders']), 'ERR_CONFIG_MISSING_KEY', 'fulfill.orders is empty: name a directory of order CSVs or the files');
  }
  const nullMarker = (f.nullMarker as string | undefined) ?? (d.nullMarker as string);
  if (nullMarker === '') ctx.problems.at(ctx.locs.get(['fulfill', 'nullMarker']), 'ERR_CONFIG_TYPE', 'fulfill.nullMarker must not be empty: an empty cell already means "unchanged"');
  const config: FulfillConfig = {
    orders: orders.map((o) => resolvePath(ctx.file, o)),
    results: resolvePath(ctx.file, (f.results as string | undefined) ?? (d.results as string)),
    // The seed put these on the connection; the fulfill section wins.
    serviceSupportBulk: (f.serviceSupportBulk as boolean | undefined) ?? (conn.serviceSupportBulk as boolean | undefined) ?? false,
    bulkMaxOperation: (f.bulkMaxOperation as number | undefined) ?? (conn.bulkMaxOperation as number | undefined) ?? (d.bulkMaxOperation as number),
    concurrency: (f.concurrency as number | undefined) ?? (d.concurrency as number),
    maxMembersPerPatch: (f.maxMembersPerPatch as number | undefined) ?? (d.maxMembersPerPatch as number),
    onConflict: ((f.onConflict as string | undefined) ?? d.onConflict) as FulfillConfig['onConflict'],
    nullMarker,
  };
  // Absent = the default (false), so the model of a pipeline without it stays as it was.
  if ((f.verify as boolean | undefined) ?? d.verify) config.verify = true;
  if (f.deprovision !== undefined) config.deprovision = f.deprovision as FulfillConfig['deprovision'];
  if (f.ifMatch === true) config.ifMatch = true;
  const set = (['serviceSupportBulk', 'bulkMaxOperation'] as const).filter((k) => f[k] !== undefined || conn[k] !== undefined);
  if (set.length > 0) config.setInPipeline = set;
  if (f.maxDeletes !== undefined) config.maxDeletes = f.maxDeletes as Threshold;
  if (f.maxChanges !== undefined) config.maxChanges = f.maxChanges as Threshold;
  return config;
}

// ---------------------------------------------------------------------------
// helpers

function defaults(fields: Record<string, FieldSpec>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, 'default' in f ? f.default : undefined]));
}

function missing(ctx: BuildContext, parent: KeyPath, key: string, what: string): void {
  ctx.problems.atKey(ctx.locs.near(parent), 'ERR_CONFIG_MISSING_KEY', `missing key "${parent.join('.')}.${key}" (${what})`);
}

function requireKeys(obj: RawObject, path: KeyPath, keys: string[], ctx: BuildContext): boolean {
  let ok = true;
  for (const k of keys) {
    if (obj[k] === undefined) {
      ok = false;
      if (!ctx.locs.isBad([...path, k])) missing(ctx, path, k, 'required');
    }
  }
  return ok;
}

function isEncrypted(v: string): boolean {
  return v.startsWith('enc:');
}

/** A certificate or key the run will read: a missing one is a configuration problem, found now. */
function existingFile(p: string, path: KeyPath, ctx: BuildContext): string {
  const abs = resolvePath(ctx.file, p);
  let ok = false;
  try {
    ok = statSync(abs).isFile();
  } catch {
    ok = false;
  }
  if (!ok) ctx.problems.at(ctx.locs.get(path), 'ERR_CONFIG_FILE_NOT_FOUND', `${path.join('.')}: no such file ${JSON.stringify(p)} (relative paths start at the pipeline's directory)`);
  return abs;
}

/** Relative paths in a pipeline are relative to the pipeline file, not to the current directory. */
export function resolvePath(pipelineFile: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(pipelineFile), p);
}
