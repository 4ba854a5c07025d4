/**
 * What the real-server tests need of a server they started, and a plain
 * fetch-based SCIM client to seed it and to read back what it holds. The
 * tests check scim-etl against this client's view, so it shares no code with
 * lib/scim: one GET per resource, nothing clever.
 */

export interface RealServer {
  /** Product name, for test titles. */
  name: string;
  /** The pipeline's `connection.server` (scim-etl appends `/v2`). */
  server: string;
  /** The SCIM root, `<server>/v2`. */
  root: string;
  /** Bearer token the server accepts. */
  token: string;
  close(): Promise<void>;
}

export type Resource = Record<string, unknown> & { id: string };

/** A non-2xx reply, with what the server said. */
export class ScimReplyError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path} → ${status} ${body.slice(0, 300)}`);
  }
}

export class ScimApi {
  constructor(
    private readonly root: string,
    private readonly token: string,
  ) {}

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(this.root + path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        accept: 'application/scim+json',
        ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status < 200 || res.status > 299) throw new ScimReplyError(method, path, res.status, text);
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  }

  async get(path: string): Promise<Resource> {
    return (await this.request('GET', path)).json as Resource;
  }

  /** GET of each path, a few at a time, answers in the order asked. */
  async getAll(paths: string[], inFlight = 8): Promise<Resource[]> {
    const out: Resource[] = new Array(paths.length);
    let next = 0;
    const worker = async () => {
      while (next < paths.length) {
        const i = next++;
        out[i] = await this.get(paths[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, paths.length) }, worker));
    return out;
  }

  async create(type: 'Users' | 'Groups', body: Record<string, unknown>): Promise<Resource> {
    const created = (await this.request('POST', `/${type}`, body)).json as Resource;
    if (typeof created?.id !== 'string') throw new Error(`POST /${type} answered without an id`);
    return created;
  }

  async patch(path: string, operations: unknown[]): Promise<void> {
    await this.request('PATCH', path, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
  }

  /** Is the resource gone? (404 on GET) */
  async gone(path: string): Promise<boolean> {
    try {
      await this.request('GET', path);
      return false;
    } catch (err) {
      if (err instanceof ScimReplyError && err.status === 404) return true;
      throw err;
    }
  }
}

export function api(s: RealServer): ScimApi {
  return new ScimApi(s.root, s.token);
}
