/** TLS against a real local HTTPS server (127.0.0.1) with a self-signed certificate. */
import { expect } from 'chai';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { createScimClient } from '../../lib/scim/client.js';
import { connection, captureLogger, rejection } from '../secrets/helpers.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../secrets/fixtures');
const CERT = path.join(fixtures, 'localhost.cert.pem');

describe('scim client TLS', () => {
  let server: https.Server;
  let base: string;
  const seen: Array<string | undefined> = [];

  before(async () => {
    nock.enableNetConnect('127.0.0.1');
    server = https.createServer({ cert: readFileSync(CERT), key: readFileSync(path.join(fixtures, 'localhost.key.pem')) }, (req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/scim+json' });
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/scim`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('refuses an untrusted certificate with ERR_TRANSPORT_TLS and a hint about connection.ca', async () => {
    const client = createScimClient(connection({ server: base }));
    const err = await rejection(client.request({ path: 'ServiceProviderConfig' }));
    client.close();
    expect(err.code).to.equal('ERR_TRANSPORT_TLS');
    expect(err.message).to.include('connection.ca');
    expect(err.context.attempts).to.equal(1);
  });

  it('trusts the certificate given as connection.ca', async () => {
    const client = createScimClient(connection({ server: base, ca: CERT, oAuthToken: 'tls-token-1' }));
    const res = await client.request<{ path: string }>({ path: 'ServiceProviderConfig' });
    client.close();
    expect(res.body.path).to.equal('/scim/v2/ServiceProviderConfig');
    expect(seen.at(-1)).to.equal('Bearer tls-token-1');
  });

  it('insecure: true connects anyway and warns loudly', async () => {
    const { logger, lines } = captureLogger();
    const client = createScimClient(connection({ server: base, insecure: true }), { logger });
    const res = await client.request({ path: 'Users' });
    client.close();
    expect(res.status).to.equal(200);
    expect(lines.join('')).to.match(/^warn: connection Sec: TLS certificate verification is OFF/m);
  });

  it('a missing CA file is ERR_CONFIG_TLS_FILE (exit 78) at client creation', () => {
    expect(() => createScimClient(connection({ server: base, ca: path.join(fixtures, 'nope.pem') })))
      .to.throw()
      .that.satisfies((e: { code: string; exitCode: number }) => e.code === 'ERR_CONFIG_TLS_FILE' && e.exitCode === 78);
  });
});
