/**
 * A throw-away HTTP server on 127.0.0.1 (port 0) for tests that need a server
 * to misbehave in ways the sandbox does not: hostile replies, odd real-world
 * quirks. The handler gets every request with its body read; the log keeps
 * what was asked, so tests can assert what the client sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path with query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type TestHandler = (req: SeenRequest, res: http.ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export async function startHttp(handler: TestHandler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(seen);
      Promise.resolve(handler(seen, res)).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(599);
        res.end(String(err.message));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON reply with the SCIM media type. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/scim+json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A ListResponse of the given resources. */
export function listResponse(resources: unknown[], totalResults: number, startIndex = 1): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
