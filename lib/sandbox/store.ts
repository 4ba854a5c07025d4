/**
 * The sandbox's in-memory directory. Built for a million users: ids kept in
 * insertion order in an array (index paging is a slice), userName indexed,
 * serialized JSON cached per resource and dropped on any write that changes
 * what the resource looks like. Group members are a Map id → type and are
 * only turned into objects when a group is serialized; a user's read-only
 * `groups` is computed from a reverse index.
 */
import { randomUUID } from 'node:crypto';
import type { ScimResource } from '../types.js';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../scim/schemas.js';
import { badRequest, ScimHttpError } from './scim-error.js';
import { generateUser, userHeader, type UserHeader } from './generate.js';

/** An endpoint name: Users and Groups (read-write), or a read-only type from the data file (Entitlements, Roles, Containers…). */
export type ResourceType = 'Users' | 'Groups' | (string & {});
export type MemberType = 'User' | 'Group';

/**
 * One resource. Generated users are not kept as objects: `res` rebuilds them
 * from (seed, index) until the first write stores a real object. That is
 * what lets a million users fit in memory and load in seconds.
 */
export class Entry {
  /** Groups only: member id → member type, in insertion order. */
  members?: Map<string, MemberType>;
  /** Serialized full resource; undefined when stale, never built, or not worth caching. */
  json?: string;
  version = 1;
  private stored?: ScimResource;

  constructor(
    readonly type: ResourceType,
    readonly id: string,
    res: ScimResource | undefined,
    /** Generated users: the store that rebuilds them and their index (fields, not an object: a million of them). */
    private readonly owner?: SandboxStore,
    private readonly index = -1,
  ) {
    this.stored = res;
  }

  /** The stored resource without computed attributes (a user's `groups`, a group's `members`). Do not mutate. */
  get res(): ScimResource {
    return this.stored ?? this.owner!.buildGenerated(this, this.index);
  }
  set res(v: ScimResource) {
    this.stored = v;
  }

  /** Still rebuilt on demand (never written). */
  get lazy(): boolean {
    return this.stored === undefined;
  }

  /** What member lists show for it, without building a lazy user. */
  display(): string | undefined {
    if (this.stored === undefined) return this.owner!.generatedHeader(this.index).displayName;
    return (this.stored.displayName as string | undefined) ?? (this.stored.userName as string | undefined);
  }
}

export interface MemberRef {
  value: string;
  type?: string;
}

/** Groups with more members than this are streamed, never cached as one string. */
export const LARGE_GROUP = 10_000;

const CORE_TYPES = ['Users', 'Groups'] as const;
const READ_ONLY_TOP = new Set(['id', 'meta', 'groups']);

class Table {
  readonly ids: string[] = [];
  readonly byId = new Map<string, Entry>();
  /** ids.indexOf is O(n); deletes are rare, so we accept it. */
  remove(id: string): void {
    this.byId.delete(id);
    const i = this.ids.indexOf(id);
    if (i >= 0) this.ids.splice(i, 1);
  }
}

const EMPTY_TABLE = new Table();

export interface StoreOptions {
  baseUrl: string;
  etag: boolean;
  /** Keep meta.lastModified (default true; Slack has none). */
  lastModified?: boolean;
  /**
   * A resource type whose `members` follow a user attribute (Salesforce:
   * Entitlements from each user's `entitlements`): writing the attribute moves the user.
   */
  linkedMembers?: { type: string; attr: string };
  /** Clock for meta timestamps (tests inject one). */
  now?: () => number;
  /** Path of the SCIM root under baseUrl (default /v2), for meta.location and $ref. */
  rootPath?: string;
  /** New resources get ids 00000000-0000-4000-8000-000000000001, …002 (expected-output tests); default random UUIDs. */
  sequentialIds?: boolean;
}

export class SandboxStore {
  baseUrl: string;
  readonly rootPath: string;
  readonly etag: boolean;
  readonly lastModified: boolean;
  private readonly linked?: { type: string; attr: string };
  private readonly tables = new Map<string, Table>(CORE_TYPES.map((t) => [t, new Table()]));
  /** endpoint → resource type name (meta.resourceType): Users → User. */
  private readonly typeNames = new Map<string, string>([
    ['Users', 'User'],
    ['Groups', 'Group'],
  ]);
  /** lower-cased userName → id (generated users are found from their userName instead, see generatedByName) */
  private readonly userNames = new Map<string, string>();
  /** How many generated users were added (indexes 0..genCount-1). */
  private genCount = 0;
  /** member id → id(s) of the groups it is a direct member of (a lone string saves an array per user) */
  private readonly memberOf = new Map<string, string | string[]>();
  /** Seed of generated users (see Entry). */
  private genSeed = 1;
  private readonly now: () => number;
  private lastStamp = 0;
  private readonly sequentialIds: boolean;
  private idSeq = 0;

  constructor(opts: StoreOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/$/, '');
    this.etag = opts.etag;
    this.lastModified = opts.lastModified ?? true;
    if (opts.linkedMembers) this.linked = opts.linkedMembers;
    this.now = opts.now ?? Date.now;
    this.rootPath = opts.rootPath ?? '/v2';
    this.sequentialIds = opts.sequentialIds ?? false;
  }

  /** The id of a resource created without one. */
  private newId(): string {
    return this.sequentialIds ? `00000000-0000-4000-8000-${String(++this.idSeq).padStart(12, '0')}` : randomUUID();
  }

  /** The SCIM root URL: baseUrl + /v2 (or the rootPath quirk's path). */
  get root(): string {
    return this.baseUrl + this.rootPath;
  }

  // ---------------------------------------------------------------- reading

  private table(type: ResourceType): Table {
    return this.tables.get(type) ?? EMPTY_TABLE;
  }
  private get usersTable(): Table {
    return this.tables.get('Users')!;
  }
  private get groupsTable(): Table {
    return this.tables.get('Groups')!;
  }

  /** Endpoint names served: Users, Groups, then read-only types from the data. */
  types(): string[] {
    return [...this.tables.keys()];
  }

  /** The endpoint name for a path segment, case-insensitively (`users` → Users). */
  typeOf(segment: string): ResourceType | undefined {
    const lower = segment.toLowerCase();
    return this.types().find((t) => t.toLowerCase() === lower);
  }

  /** meta.resourceType of an endpoint (Users → User). */
  typeName(type: ResourceType): string {
    return this.typeNames.get(type) ?? type;
  }

  /** Only Users and Groups take writes; other types come from the data file, read-only. */
  writable(type: ResourceType): boolean {
    return type === 'Users' || type === 'Groups' || this.writableTypes.has(type);
  }

  /** Data-file types that take writes (a dialect's, e.g. CyberArk Containers). */
  readonly writableTypes = new Set<string>();

  /** Declares a read-only resource type (done by the data loader). */
  addType(endpoint: string, name: string): void {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(endpoint)) throw badRequest(`'${endpoint}' is not a valid resource endpoint name`);
    if (this.typeOf(endpoint)) return;
    this.tables.set(endpoint, new Table());
    this.typeNames.set(endpoint, name);
  }

  /** Number of resources of a type. */
  count(type: ResourceType): number {
    return this.table(type).ids.length;
  }
  get userCount(): number {
    return this.count('Users');
  }
  get groupCount(): number {
    return this.count('Groups');
  }

  /** Snapshot of all users as served (computed `groups` included). O(n): for tests and small data. */
  get users(): ScimResource[] {
    return this.list('Users').map((e) => this.materialize(e));
  }
  get groups(): ScimResource[] {
    return this.list('Groups').map((e) => this.materialize(e));
  }

  /** All entries of a type in insertion order (`e.id`, `e.res`). O(n). */
  list(type: ResourceType): Entry[] {
    const t = this.table(type);
    return t.ids.map((id) => t.byId.get(id)!);
  }

  /** One resource as served, or undefined. */
  get(type: ResourceType, id: string): ScimResource | undefined {
    const e = this.table(type).byId.get(id);
    return e ? this.materialize(e) : undefined;
  }

  entry(type: ResourceType, id: string): Entry | undefined {
    return this.table(type).byId.get(id);
  }

  /** Ids in insertion order. The live array: do not modify. */
  ids(type: ResourceType): readonly string[] {
    return this.table(type).ids;
  }

  findUserByName(userName: string): ScimResource | undefined {
    const id = this.userIdByName(userName);
    return id ? this.get('Users', id) : undefined;
  }
  userIdByName(userName: string): string | undefined {
    const lower = userName.toLowerCase();
    return this.userNames.get(lower) ?? this.generatedByName(lower);
  }

  /**
   * A generated userName ends in ".<index>@example.com": rebuild that user's
   * header and check it is still the same, unrenamed user. This spares a
   * million-entry index.
   */
  private generatedByName(lower: string): string | undefined {
    if (this.genCount === 0) return undefined;
    const m = /\.(\d{1,9})@example\.com$/.exec(lower);
    if (!m) return undefined;
    const i = Number(m[1]);
    if (i >= this.genCount) return undefined;
    const h = userHeader(this.genSeed, i);
    if (h.userName.toLowerCase() !== lower) return undefined;
    const e = this.usersTable.byId.get(h.id);
    if (!e) return undefined;
    return e.lazy || String(e.res.userName).toLowerCase() === lower ? h.id : undefined;
  }

  /** Member ids of a group, in insertion order. */
  memberIds(groupId: string): string[] {
    const e = this.groupsTable.byId.get(groupId);
    return e?.members ? [...e.members.keys()] : [];
  }

  /** Ids of the groups a user (or group) is a direct member of. */
  groupIdsOf(memberId: string): readonly string[] {
    const v = this.memberOf.get(memberId);
    return v === undefined ? [] : typeof v === 'string' ? [v] : v;
  }

  /** The full resource as served (computed attributes included). Large groups: all members materialized. */
  materialize(e: Entry, withMembers = true): ScimResource {
    if (e.type === 'Users') {
      const groups = this.groupsAttr(e.id);
      if (!groups) return e.res;
      const { meta, ...rest } = e.res;
      return { ...rest, groups, meta } as ScimResource;
    }
    if (!withMembers || !e.members || e.members.size === 0) return e.res;
    const { meta, ...rest } = e.res;
    const members: Record<string, string>[] = [];
    for (const [id, type] of e.members) members.push(this.memberObject(id, type));
    return { ...rest, members, meta } as ScimResource;
  }

  /** The serialized full resource, cached unless it is a large group. */
  json(e: Entry): string {
    if (e.json !== undefined) return e.json;
    const text = JSON.stringify(this.materialize(e));
    // Lazy users are cheap to rebuild; caching a million of them would cost gigabytes.
    if (!e.lazy && !(e.members && e.members.size > LARGE_GROUP)) e.json = text;
    return text;
  }

  /** A member as served; `only` (lower-case names) limits the fields built, e.g. to skip `display` lookups. */
  memberObject(id: string, type: MemberType, only?: ReadonlySet<string>): Record<string, string> {
    const m: Record<string, string> = {};
    if (!only || only.has('value')) m.value = id;
    if (!only || only.has('$ref')) m.$ref = `${this.root}/${type === 'Group' ? 'Groups' : 'Users'}/${id}`;
    if (!only || only.has('display')) {
      const display = (type === 'Group' ? this.groupsTable : this.usersTable).byId.get(id)?.display();
      if (display !== undefined) m.display = display;
    }
    if (!only || only.has('type')) m.type = type;
    return m;
  }

  private groupsAttr(userId: string): Record<string, string>[] | undefined {
    const gids = this.groupIdsOf(userId);
    if (gids.length === 0) return undefined;
    return gids.map((gid) => {
      const g = this.groupsTable.byId.get(gid)!.res;
      const o: Record<string, string> = { value: gid, $ref: `${this.root}/Groups/${gid}` };
      if (typeof g.displayName === 'string') o.display = g.displayName;
      o.type = 'direct';
      return o;
    });
  }

  /** Weak ETag of an entry (`W/"3"`). */
  etagOf(e: Entry): string {
    return `W/"${e.version}"`;
  }

  // ---------------------------------------------------------------- writing

  /** Adds a resource as given (loading and generation): keeps its id and meta when present. */
  insert(type: ResourceType, input: ScimResource, members: MemberRef[] = [], opts: { keepMeta?: boolean } = {}): Entry {
    const res = this.clean(type, input, true);
    const id = typeof input.id === 'string' && input.id ? input.id : this.newId();
    if (this.usersTable.byId.has(id) || this.groupsTable.byId.has(id) || this.table(type).byId.has(id)) throw new ScimHttpError(409, `id '${id}' already exists`, 'uniqueness');
    res.id = id;
    const stamp = this.stamp();
    const meta = (opts.keepMeta && input.meta) || {};
    const entry = new Entry(type, id, res);
    res.meta = {
      resourceType: this.typeName(type),
      created: meta.created ?? stamp,
      ...(this.lastModified ? { lastModified: meta.lastModified ?? meta.created ?? stamp } : {}),
      location: `${this.root}/${type}/${id}`,
    };
    entry.res = this.order(res);
    if (type === 'Users') this.claimUserName(res.userName as string, id);
    else entry.members = new Map();
    this.setVersion(entry);
    const t = this.tables.get(type);
    if (!t) throw new ScimHttpError(404, `no resource type ${type}`);
    t.ids.push(id);
    t.byId.set(id, entry);
    for (const m of members) this.addMember(entry, m);
    return entry;
  }

  /** Adds generated users 0..count-1 of `seed` as lazy entries (see Entry). */
  insertGenerated(count: number, seed: number): void {
    this.genSeed = seed;
    const t = this.usersTable;
    if (this.genCount > 0) throw new Error('generated users can be added once per store');
    // Generated userNames are unique by construction (".<index>@") and not
    // indexed (see generatedByName): check only against users loaded before.
    const check = t.ids.length > 0;
    for (let i = 0; i < count; i++) {
      const h = userHeader(seed, i);
      if (check) this.checkUserName(h.userName);
      t.ids.push(h.id);
      t.byId.set(h.id, new Entry('Users', h.id, undefined, this, i));
    }
    this.genCount = count;
  }

  /** Rebuilds generated user `index` with the fields the store owns (location, version). */
  buildGenerated(e: Entry, index: number): ScimResource {
    const u = generateUser(this.genSeed, index);
    const meta = u.meta!;
    meta.location = `${this.root}/Users/${e.id}`;
    if (!this.lastModified) delete meta.lastModified;
    if (this.etag) meta.version = this.etagOf(e);
    return u;
  }

  generatedHeader(index: number): UserHeader {
    return userHeader(this.genSeed, index);
  }

  /** POST: server assigns the id. */
  create(type: ResourceType, input: ScimResource): Entry {
    const { members, ...rest } = input as ScimResource & { members?: unknown };
    if (!this.writable(type)) throw new ScimHttpError(405, `${type} are read-only in the sandbox`);
    const refs = type === 'Groups' ? this.memberRefs(members) : [];
    for (const r of refs) this.requireMember(r);
    const { id: _id, meta: _meta, ...body } = rest;
    if (type === 'Users') this.linkTargets(body as ScimResource);
    const e = this.insert(type, body as ScimResource, refs);
    if (type === 'Users') this.relink(e.id, new Set(), this.linkValues(e.res));
    return e;
  }

  /** Values of the linked user attribute (e.g. entitlement ids). */
  private linkValues(res: ScimResource | undefined): Set<string> {
    const out = new Set<string>();
    if (!this.linked || !res) return out;
    const key = Object.keys(res).find((k) => k.toLowerCase() === this.linked!.attr.toLowerCase());
    const list = key ? res[key] : undefined;
    if (Array.isArray(list)) for (const el of list) if (el && typeof el === 'object' && typeof (el as { value?: unknown }).value === 'string') out.add((el as { value: string }).value);
    return out;
  }

  /** 400 when a linked value names nothing (an unknown entitlement). */
  private linkTargets(res: ScimResource): void {
    for (const v of this.linkValues(res)) {
      if (!this.table(this.linked!.type).byId.has(v)) throw badRequest(`${this.typeName(this.linked!.type)} '${v}' does not exist`);
    }
  }

  private relink(userId: string, before: Set<string>, after: Set<string>): void {
    if (!this.linked) return;
    const t = this.table(this.linked.type);
    for (const v of before) if (!after.has(v) && t.byId.get(v)?.members) this.removeMember(t.byId.get(v)!, userId);
    for (const v of after) if (!before.has(v) && t.byId.get(v)?.members) this.addMember(t.byId.get(v)!, { value: userId, type: 'User' });
  }

  /** After loading: every user joins the linked resources its attribute names. */
  linkAll(): void {
    if (!this.linked) return;
    for (const e of this.list('Users')) {
      if (e.lazy) continue;
      this.linkTargets(e.res);
      this.relink(e.id, new Set(), this.linkValues(e.res));
    }
  }

  /** PUT: everything but id and meta.created is replaced; absent members mean none. */
  replace(type: ResourceType, id: string, input: ScimResource): Entry {
    const e = this.mustGet(type, id);
    if (!this.writable(type)) throw new ScimHttpError(405, `${type} are read-only in the sandbox`);
    const { members, ...rest } = input as ScimResource & { members?: unknown };
    if (typeof rest.id === 'string' && rest.id !== id) throw new ScimHttpError(400, `id is immutable (got '${rest.id}', expected '${id}')`, 'mutability');
    const res = this.clean(type, rest, true);
    const refs = type === 'Groups' ? this.memberRefs(members) : [];
    for (const r of refs) this.requireMember(r);
    this.commit(e, res, type === 'Groups' ? refs : undefined);
    return e;
  }

  /**
   * Replaces the stored attributes of an entry after a PATCH or PUT has been
   * validated, and optionally its whole member list.
   */
  commit(e: Entry, next: ScimResource, members?: MemberRef[]): void {
    const id = e.id;
    next.id = id;
    const current = e.res;
    const oldName = current.userName as string | undefined;
    const newName = next.userName as string | undefined;
    if (e.type === 'Users') {
      if (typeof newName !== 'string' || !newName.trim()) throw badRequest('userName is required');
      if (oldName?.toLowerCase() !== newName.toLowerCase()) {
        this.checkUserName(newName, id);
        this.userNames.delete(oldName!.toLowerCase());
        this.userNames.set(newName.toLowerCase(), id);
      }
    } else if (e.type === 'Groups' && (typeof next.displayName !== 'string' || !next.displayName)) {
      throw badRequest('displayName is required');
    }
    const displayChanged = current.displayName !== next.displayName || oldName !== newName;
    const linkedBefore = e.type === 'Users' ? this.linkValues(current) : undefined;
    if (linkedBefore) this.linkTargets(next);
    next.meta = { ...current.meta };
    e.res = this.order(next);
    if (linkedBefore) this.relink(id, linkedBefore, this.linkValues(e.res));
    if (members) {
      for (const mid of [...e.members!.keys()]) this.removeMember(e, mid);
      for (const m of members) this.addMember(e, m);
    }
    this.touch(e);
    // What others show of this resource (member display, groups display) changed too.
    if (displayChanged) this.invalidateRelated(e);
  }

  delete(type: ResourceType, id: string): void {
    const e = this.mustGet(type, id);
    if (!this.writable(type)) throw new ScimHttpError(405, `${type} are read-only in the sandbox`);
    if (e.members) for (const mid of [...e.members.keys()]) this.removeMember(e, mid, false);
    for (const gid of [...this.groupIdsOf(id)]) {
      const g = this.groupsTable.byId.get(gid);
      if (g) {
        this.removeMember(g, id);
        this.touch(g);
      }
    }
    // Read-only types (few, small) keep no reverse index: look through them.
    for (const [name, t] of this.tables) {
      if (name === 'Users' || name === 'Groups') continue;
      for (const c of t.byId.values()) if (c.members?.has(id)) this.removeMember(c, id, false);
    }
    this.memberOf.delete(id);
    if (type === 'Users') this.userNames.delete(String(e.res.userName).toLowerCase());
    this.table(type).remove(id);
  }

  /** Adds one member; false when it already was one. Does not touch meta (callers do once). */
  addMember(g: Entry, ref: MemberRef): boolean {
    if (g.members!.has(ref.value)) return false;
    const type = this.memberType(ref);
    g.members!.set(ref.value, type);
    // The reverse index serves users' `groups`: Groups only.
    if (g.type === 'Groups') {
      const list = this.memberOf.get(ref.value);
      if (list === undefined) this.memberOf.set(ref.value, g.id);
      else if (typeof list === 'string') this.memberOf.set(ref.value, [list, g.id]);
      else list.push(g.id);
    }
    g.json = undefined;
    this.dropJson(ref.value);
    return true;
  }

  removeMember(g: Entry, memberId: string, dropJson = true): boolean {
    if (!g.members!.delete(memberId)) return false;
    const list = g.type === 'Groups' ? this.memberOf.get(memberId) : undefined;
    if (typeof list === 'string') {
      if (list === g.id) this.memberOf.delete(memberId);
    } else if (list) {
      const i = list.indexOf(g.id);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.memberOf.delete(memberId);
    }
    g.json = undefined;
    if (dropJson) this.dropJson(memberId);
    return true;
  }

  /** A write happened: new lastModified and version, cached JSON dropped. */
  touch(e: Entry): void {
    const res = e.res;
    // A lazy user becomes a stored one at its first write.
    e.res = res;
    if (this.lastModified) res.meta = { ...res.meta, lastModified: this.stamp() };
    else res.meta = { ...res.meta };
    e.version++;
    this.setVersion(e);
    e.json = undefined;
  }

  requireMember(ref: MemberRef): void {
    if (!this.usersTable.byId.has(ref.value) && !this.groupsTable.byId.has(ref.value)) {
      throw badRequest(`member '${ref.value}' does not exist`);
    }
  }

  /** Reads a `members` value (array of {value,type?}) into refs, 400 on anything else. */
  memberRefs(raw: unknown): MemberRef[] {
    if (raw === undefined || raw === null) return [];
    const list = Array.isArray(raw) ? raw : [raw];
    return list.map((m) => {
      const value = m && typeof m === 'object' ? (m as Record<string, unknown>).value : undefined;
      if (typeof value !== 'string' || !value) throw badRequest(`a member needs a string "value", got ${JSON.stringify(m)}`);
      const type = (m as Record<string, unknown>).type;
      return typeof type === 'string' ? { value, type } : { value };
    });
  }

  mustGet(type: ResourceType, id: string): Entry {
    const e = this.table(type).byId.get(id);
    if (!e) throw new ScimHttpError(404, `${this.typeName(type)} ${id} not found`);
    return e;
  }

  checkUserName(userName: string, selfId?: string): void {
    const owner = this.userIdByName(userName);
    if (owner !== undefined && owner !== selfId) throw new ScimHttpError(409, `userName '${userName}' is already taken`, 'uniqueness');
  }

  // ---------------------------------------------------------------- internals

  private memberType(ref: MemberRef): MemberType {
    if (this.groupsTable.byId.has(ref.value)) return 'Group';
    if (this.usersTable.byId.has(ref.value)) return 'User';
    return ref.type?.toLowerCase() === 'group' ? 'Group' : 'User';
  }

  private claimUserName(userName: string, id: string): void {
    this.checkUserName(userName, id);
    this.userNames.set(userName.toLowerCase(), id);
  }

  private dropJson(id: string): void {
    const u = this.usersTable.byId.get(id) ?? this.groupsTable.byId.get(id);
    if (u) u.json = undefined;
  }

  private invalidateRelated(e: Entry): void {
    for (const gid of this.groupIdsOf(e.id)) this.dropJson(gid);
    if (e.members) for (const mid of e.members.keys()) this.dropJson(mid);
    for (const [name, t] of this.tables) {
      if (name === 'Users' || name === 'Groups') continue;
      for (const c of t.byId.values()) if (c.members?.has(e.id)) c.json = undefined;
    }
  }

  private setVersion(e: Entry): void {
    if (this.etag && !e.lazy) e.res.meta = { ...e.res.meta, version: this.etagOf(e) };
  }

  /** Strips what clients may not set, checks what they must, fills `schemas`. */
  private clean(type: ResourceType, input: ScimResource, requireCore: boolean): ScimResource {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw badRequest('the body must be a JSON object', 'invalidSyntax');
    const res: ScimResource = {};
    for (const [k, v] of Object.entries(input)) {
      const lower = k.toLowerCase();
      if (READ_ONLY_TOP.has(lower) || lower === 'members' || lower === 'password') continue;
      res[k] = v;
    }
    if (type === 'Users') {
      if (requireCore && (typeof res.userName !== 'string' || !res.userName.trim())) throw badRequest('userName is required');
      if (typeof res.active === 'string') res.active = res.active.toLowerCase() === 'true';
    } else if (type === 'Groups' && requireCore && (typeof res.displayName !== 'string' || !res.displayName)) {
      throw badRequest('displayName is required');
    }
    const schemas = new Set<string>(Array.isArray(res.schemas) ? res.schemas.filter((s): s is string => typeof s === 'string') : []);
    if (type === 'Users') schemas.add(USER_SCHEMA);
    else if (type === 'Groups') schemas.add(GROUP_SCHEMA);
    else if (schemas.size === 0) schemas.add(`urn:ietf:params:scim:schemas:sandbox:2.0:${this.typeName(type)}`);
    for (const k of Object.keys(res)) if (/^urn:/i.test(k) && res[k] && typeof res[k] === 'object') schemas.add(k === ENTERPRISE_USER_SCHEMA.toLowerCase() ? ENTERPRISE_USER_SCHEMA : k);
    res.schemas = [...schemas];
    return res;
  }

  /** Key order as servers print it: schemas, id first, meta last (a new object: `delete` would slow V8 down). */
  private order(res: ScimResource): ScimResource {
    const { schemas, id, meta, ...rest } = res;
    const out: ScimResource = { schemas, id, ...rest };
    if (meta) out.meta = meta;
    return out;
  }

  private stamp(): string {
    // Strictly increasing, so that `meta.lastModified gt` separates consecutive writes.
    const t = Math.max(this.now(), this.lastStamp + 1);
    this.lastStamp = t;
    return new Date(t).toISOString();
  }
}
