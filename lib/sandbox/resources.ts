/**
 * Single-resource operations (GET, POST, PUT, PATCH, DELETE) shared by the
 * HTTP routes and /Bulk. Each returns the entry it touched; the caller shapes
 * the reply. Preconditions (If-Match) are checked here, once.
 */
import type { ScimResource } from '../types.js';
import { applyPatch } from './patch.js';
import { ScimHttpError } from './scim-error.js';
import type { Entry, ResourceType, SandboxStore } from './store.js';
import type { NormalizedOptions } from './options.js';
import { resourceChunks } from './list.js';
import type { Projection } from './project.js';
import type { Reply } from './reply.js';

export class ResourceOps {
  constructor(
    private readonly store: SandboxStore,
    private readonly o: NormalizedOptions,
  ) {}

  get knownSchemas(): readonly string[] {
    return this.o.profile.userExtensions;
  }

  typeOf(segment: string): ResourceType | undefined {
    return this.store.typeOf(segment);
  }

  /** The URL of a resource (for Bulk replies), whether or not it exists. */
  locationOf(type: ResourceType, id: string): string {
    return `${this.store.root}/${type}/${encodeURIComponent(id)}`;
  }

  /** If-Match: `*` or one of the listed tags must equal the current weak ETag (412 otherwise). */
  checkIfMatch(e: Entry, ifMatch: string | undefined): void {
    if (!this.o.etag || ifMatch === undefined || ifMatch.trim() === '*') return;
    const current = weakless(this.store.etagOf(e));
    const tags = ifMatch.split(',').map((t) => weakless(t.trim()));
    if (!tags.includes(current)) throw new ScimHttpError(412, `version mismatch: the resource is at ${this.store.etagOf(e)}, the request expected ${ifMatch}`);
  }

  create(type: ResourceType, body: unknown): Entry {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ScimHttpError(400, 'the body must be a JSON object', 'invalidSyntax');
    const idFrom = this.o.profile.writableTypes[type]?.idFrom;
    if (idFrom) {
      // The id is a natural key (a CyberArk safe's name).
      const id = (body as Record<string, unknown>)[idFrom];
      if (typeof id !== 'string' || !id) throw new ScimHttpError(400, `${idFrom} is required`, 'invalidValue');
      if (this.store.entry(type, id)) throw new ScimHttpError(409, `${this.store.typeName(type)} '${id}' already exists`, 'uniqueness');
      return this.store.insert(type, { ...(body as ScimResource), id });
    }
    return this.store.create(type, body as ScimResource);
  }

  replace(type: ResourceType, id: string, body: unknown, ifMatch?: string): Entry {
    const e = this.store.mustGet(type, id);
    this.checkIfMatch(e, ifMatch);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ScimHttpError(400, 'the body must be a JSON object', 'invalidSyntax');
    return this.store.replace(type, id, body as ScimResource);
  }

  patch(type: ResourceType, id: string, body: unknown, ifMatch?: string): Entry {
    if (!this.o.patch) throw new ScimHttpError(501, 'PATCH is not supported by this server');
    const e = this.store.mustGet(type, id);
    if (!this.store.writable(type)) throw new ScimHttpError(405, `${type} are read-only in the sandbox`);
    if (this.o.profile.writableTypes[type]?.patch === false) throw new ScimHttpError(405, `${this.o.profile.name}: ${type} take no PATCH (use PUT)`);
    this.checkIfMatch(e, ifMatch);
    applyPatch(this.store, e, body, {
      knownSchemas: this.knownSchemas,
      wrappedMembers: this.o.profile.wrappedMemberValue,
      ...(this.o.quirks.ignoreDottedReplace ? { ignoreDottedReplace: true } : {}),
      ...(this.o.quirks.memberPatchLimit !== undefined ? { memberLimit: this.o.quirks.memberPatchLimit } : {}),
    });
    return e;
  }

  delete(type: ResourceType, id: string, ifMatch?: string): void {
    if (this.o.quirks.deleteMissing500 && type === 'Users' && !this.store.entry(type, id)) {
      // scimgateway: the backend's "not found" escapes as a server error.
      throw new ScimHttpError(500, `Delete user ${id} failed: user not found`);
    }
    const e = this.store.mustGet(type, id);
    this.checkIfMatch(e, ifMatch);
    if (type === 'Users' && this.o.profile.deleteDeactivatesUsers) {
      this.store.commit(e, { ...e.res, active: false });
      return;
    }
    this.store.delete(type, id);
  }

  /** The reply for one resource: body (projected), ETag and, for 201, Location. */
  reply(e: Entry, status: number, proj: Projection = {}): Reply {
    const headers: Record<string, string> = {};
    if (this.o.etag) headers.ETag = this.store.etagOf(e);
    if (status === 201) headers.Location = String(e.res.meta?.location);
    return { status, headers, chunks: resourceChunks(this.store, e, proj) };
  }
}

const weakless = (tag: string) => tag.replace(/^W\//, '');
