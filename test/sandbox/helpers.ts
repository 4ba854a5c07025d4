/** Shared helpers for the sandbox tests: an in-process server on port 0 and a small fetch wrapper. */
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';

export const TOKEN = 'test-sandbox-token';
export const SAMPLE = fileURLToPath(new URL('../../samples/directory.json', import.meta.url));
export const BJENSEN = '2819c223-7f76-453a-919d-413861904646';
export const JOSE = '9a1b7c3e-0f52-4d8e-8a4b-6c2d1e0f9a01';
export const TOUR_GUIDES = 'e9e30dba-f08f-4109-8486-d5c6a331660a';
export const SALES = 'fc348aa8-3835-40eb-a20b-c726e15c55b5';
export const EVERYONE = '0b5e2c1a-7d3f-4e8a-9b6c-5d4e3f2a1b0c';
export const EMPTY_GROUP = '7c0f2e9d-6b5a-4c3d-8e1f-2a3b4c5d6e7f';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface Res {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export class Client {
  constructor(
    readonly sb: Sandbox,
    /** null: no Authorization header */
    readonly auth: string | null = `Bearer ${TOKEN}`,
  ) {}

  async req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const h: Record<string, string> = { ...headers };
    if (this.auth) h.Authorization = this.auth;
    if (body !== undefined) h['Content-Type'] = 'application/scim+json';
    const r = await fetch(`${this.sb.root}${path}`, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await r.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: r.status, headers: r.headers, body: parsed, text };
  }
  get(path: string, headers?: Record<string, string>) {
    return this.req('GET', path, undefined, headers);
  }
  post(path: string, body: unknown, headers?: Record<string, string>) {
    return this.req('POST', path, body, headers);
  }
  put(path: string, body: unknown, headers?: Record<string, string>) {
    return this.req('PUT', path, body, headers);
  }
  patch(path: string, ops: unknown[], headers?: Record<string, string>) {
    return this.req('PATCH', path, { schemas: [PATCH_OP], Operations: ops }, headers);
  }
  del(path: string, headers?: Record<string, string>) {
    return this.req('DELETE', path, undefined, headers);
  }
}

/** Starts a sandbox for one describe block; `opts` default to the sample directory with a token. */
export function useSandbox(opts: SandboxOptions | (() => SandboxOptions) = {}): { sb: () => Sandbox; c: () => Client } {
  let sb: Sandbox | undefined;
  let client: Client | undefined;
  beforeEach(async () => {
    const o = typeof opts === 'function' ? opts() : opts;
    sb = await startSandbox({ data: SAMPLE, token: TOKEN, ...o });
    client = new Client(sb);
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });
  return { sb: () => sb!, c: () => client! };
}

export const q = (s: string) => encodeURIComponent(s);
