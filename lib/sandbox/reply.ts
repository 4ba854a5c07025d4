/**
 * What a handler answers, and how it goes on the wire. Bodies are either one
 * string or a sequence of chunks (a list page, a large group); chunks are
 * written in ~64 KiB batches and we wait for 'drain' when the socket is full,
 * so a million-member group never becomes one huge string.
 */
import type { ServerResponse } from 'node:http';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A serialized JSON body. */
  body?: string;
  /** A JSON body in pieces, for large answers. */
  chunks?: Iterable<string>;
  /** Default application/scim+json. */
  contentType?: string;
}

export const jsonReply = (status: number, value: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body: JSON.stringify(value),
  ...(headers ? { headers } : {}),
});

export type Mangle = 'reset' | 'truncate' | undefined;

const BATCH = 64 * 1024;

/** Writes a reply. `mangle` cuts the body: 'truncate' sends half of it as if complete; 'reset' destroys the socket mid-body. */
export async function sendReply(res: ServerResponse, reply: Reply, mangle?: Mangle): Promise<void> {
  const headers: Record<string, string> = { ...reply.headers };
  const hasBody = reply.body !== undefined || reply.chunks !== undefined;
  if (hasBody) headers['Content-Type'] = reply.contentType ?? SCIM_CONTENT_TYPE;
  if (mangle) {
    // Faults need the whole body to cut it; faulted replies are small in practice.
    const full = reply.body ?? [...(reply.chunks ?? [])].join('');
    const buf = Buffer.from(full);
    const half = buf.subarray(0, Math.max(1, Math.floor(buf.length / 2)));
    if (mangle === 'truncate') {
      res.writeHead(reply.status, { ...headers, 'Content-Length': String(half.length) });
      res.end(half);
      return;
    }
    res.writeHead(reply.status, { ...headers, 'Content-Length': String(buf.length) });
    res.write(half);
    await new Promise((r) => setImmediate(r));
    res.socket?.destroy();
    return;
  }
  if (reply.body !== undefined || !hasBody) {
    const body = reply.body ?? '';
    res.writeHead(reply.status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(body);
    return;
  }
  res.writeHead(reply.status, headers);
  let pending = '';
  for (const chunk of reply.chunks!) {
    pending += chunk;
    if (pending.length >= BATCH) {
      const ok = res.write(pending);
      pending = '';
      if (!ok) {
        if (!(await drained(res))) return;
      }
    }
  }
  res.end(pending);
}

/** Resolves true on 'drain', false when the client went away. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
