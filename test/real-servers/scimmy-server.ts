/**
 * SCIMMY (scimmy + scimmy-routers, an express router) as a real SCIM server
 * for the tests: Users (with the enterprise extension) and Groups kept in
 * memory by the ingress/egress/degress handlers SCIMMY asks its host to write.
 * Filtering, attribute projection, paging, PATCH and Bulk are SCIMMY's own.
 *
 * SCIMMY is a process-wide singleton (its resource declarations and handlers
 * are static), so the handlers are declared once; each server hands its own
 * store to them as the router's per-request context.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import type { RealServer } from './real-server.js';

type Stored = Record<string, unknown> & { id: string; meta: { created: string; lastModified: string } };

/** One server's directory: plain JSON objects by id, in creation order. */
class Store {
  readonly Users = new Map<string, Stored>();
  readonly Groups = new Map<string, Stored>();
  private seq = 0;
  nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}-${String(this.seq).padStart(5, '0')}`;
  }
}

/** The error SCIMMY turns into a SCIM error reply (it takes a null scimType, its types say string). */
function scimError(status: number, detail: string, scimType?: string): Error {
  return new SCIMMY.Types.Error(status, (scimType ?? null) as string, detail);
}

type Target = { id?: string; filter?: { match(values: object[]): object[] } };

let declared = false;

function store(ctx: unknown): Store {
  if (!(ctx instanceof Store)) throw scimError(500, 'request without a store in its context');
  return ctx;
}

/** SCIMMY hands ingress a schema instance: keep only its JSON, as a database would. */
function plain(instance: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
}

function write(ctx: unknown, kind: 'Users' | 'Groups', id: string | undefined, instance: unknown): Stored {
  const s = store(ctx);
  const table = s[kind];
  const data = plain(instance);
  delete data.id;
  delete data.meta;
  delete data.schemas;
  const now = new Date().toISOString();
  if (kind === 'Users') {
    const clash = [...table.values()].find((u) => u.id !== id && String(u.userName).toLowerCase() === String(data.userName).toLowerCase());
    if (clash) throw scimError(409, `userName ${String(data.userName)} is already taken`, 'uniqueness');
  }
  if (id !== undefined) {
    const old = table.get(id);
    if (!old) throw scimError(404, `Resource ${id} not found`);
    const next: Stored = { ...data, id, meta: { created: old.meta.created, lastModified: now } };
    table.set(id, next);
    return next;
  }
  const created: Stored = { ...data, id: s.nextId(kind === 'Users' ? 'u' : 'g'), meta: { created: now, lastModified: now } };
  table.set(created.id, created);
  return created;
}

function read(ctx: unknown, kind: 'Users' | 'Groups', resource: Target): Stored | Stored[] {
  const table = store(ctx)[kind];
  if (resource.id !== undefined) {
    const found = table.get(resource.id);
    if (!found) throw scimError(404, `Resource ${resource.id} not found`);
    return found;
  }
  const all = [...table.values()];
  return resource.filter ? (resource.filter.match(all) as Stored[]) : all;
}

function dispose(ctx: unknown, kind: 'Users' | 'Groups', id: string | undefined): void {
  const s = store(ctx);
  if (id === undefined || !s[kind].delete(id)) throw scimError(404, `Resource ${String(id)} not found`);
  // A deleted user leaves every group, as a real directory's foreign keys would make it.
  if (kind === 'Users') {
    for (const g of s.Groups.values()) {
      const members = g.members as { value: string }[] | undefined;
      if (members) g.members = members.filter((m) => m.value !== id);
    }
  }
}

function declareOnce(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.declare(SCIMMY.Resources.User, {
    extensions: [{ schema: SCIMMY.Schemas.EnterpriseUser, required: false }],
    ingress: (resource: Target, instance: unknown, ctx: unknown) => write(ctx, 'Users', resource.id, instance),
    egress: (resource: Target, ctx: unknown) => read(ctx, 'Users', resource),
    degress: (resource: Target, ctx: unknown) => dispose(ctx, 'Users', resource.id),
  });
  SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
    ingress: (resource: Target, instance: unknown, ctx: unknown) => write(ctx, 'Groups', resource.id, instance),
    egress: (resource: Target, ctx: unknown) => read(ctx, 'Groups', resource),
    degress: (resource: Target, ctx: unknown) => dispose(ctx, 'Groups', resource.id),
  });
}

/**
 * scimmy-routers hands SCIMMY express's query object, whose values are
 * strings; SCIMMY takes `startIndex` and `count` only as integers and
 * silently drops anything else, so the stock router serves the first 20
 * resources whatever page is asked. A host app has to turn them into numbers.
 */
function numericPaging(query: string): Record<string, unknown> {
  const q: Record<string, unknown> = Object.fromEntries(new URLSearchParams(query));
  for (const k of ['startIndex', 'count']) if (typeof q[k] === 'string' && /^-?\d+$/.test(q[k])) q[k] = Number(q[k]);
  return q;
}

export interface ScimmyOptions {
  /** Coerce startIndex/count to numbers (default true); false serves SCIMMY exactly as its README wires it. */
  numericPaging?: boolean;
}

/** Starts SCIMMY on 127.0.0.1 (port 0), SCIM root `<url>/scim/v2`, bearer token auth. */
export async function startScimmy(opts: ScimmyOptions = {}): Promise<RealServer> {
  declareOnce();
  const mine = new Store();
  const token = randomBytes(16).toString('hex');
  const app = express();
  if (opts.numericPaging !== false) app.set('query parser', numericPaging);
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      handler: (req) => {
        if (req.header('authorization') !== `Bearer ${token}`) throw new Error('Authorization not detected!');
        return 'scim-etl-tests';
      },
      context: () => mine,
    }),
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    name: 'SCIMMY',
    server: `${url}/scim`,
    root: `${url}/scim/v2`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
