/**
 * better-auth with its SCIM plugin (@better-auth/scim) as a real SCIM server
 * for the tests: SQLite in memory (better-sqlite3), the plugin's tables made
 * by better-auth's own migrations, one code-defined SCIM connection with a
 * static bearer token created here. Served by better-auth's Node handler at
 * its default base path, so the SCIM root is `<url>/api/auth/scim/v2`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { betterAuth, type BetterAuthOptions } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { scim } from '@better-auth/scim';
import type { RealServer } from './real-server.js';

export async function startBetterAuth(): Promise<RealServer> {
  // Listen first: better-auth needs its public base URL (for meta.location) when it is built.
  let handle: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const token = randomBytes(24).toString('base64url');
  const db = new Database(':memory:');
  const options: BetterAuthOptions = {
    database: db,
    baseURL: url,
    secret: randomBytes(32).toString('hex'),
    telemetry: { enabled: false },
    logger: { disabled: true },
    plugins: [scim({ connections: [{ id: 'scim-etl-tests', credentials: [{ type: 'bearer', id: 'tests', token }] }] })],
  };
  await (await getMigrations(options)).runMigrations();
  handle = toNodeHandler(betterAuth(options));

  return {
    name: 'better-auth',
    server: `${url}/api/auth/scim`,
    root: `${url}/api/auth/scim/v2`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          db.close();
          resolve();
        });
      }),
  };
}
