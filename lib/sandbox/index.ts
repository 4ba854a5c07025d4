/**
 * The sandbox SCIM 2.0 service provider (`scim-etl sandbox`), in process:
 *
 *   const sb = await startSandbox({ data: 'samples/directory.json', token: 't' });
 *   fetch(`${sb.url}/v2/Users`, { headers: { Authorization: 'Bearer t' } });
 *   await sb.stop();
 */
import type { AddressInfo } from 'node:net';
import { registerSecret } from '../redact.js';
import { ScimEtlError } from '../errors.js';
import { normalizeOptions } from './options.js';
import { SandboxStore } from './store.js';
import { FaultInjector } from './faults.js';
import { createSandboxServer, type ServerState } from './server.js';
import { loadData, loadGenerated, readDataFile } from './load.js';
import { TokenIssuer } from './oauth.js';
import { RateLimiter } from './rate-limit.js';
import type { Sandbox, SandboxOptions, RequestLogEntry, FaultSpec } from './types.js';

export type { Sandbox, SandboxOptions, SandboxData, FaultSpec, FaultKind, RequestLogEntry, BulkOptions, DialectName } from './types.js';
export { SandboxStore, type ResourceType, type Entry } from './store.js';
export { parseFaultArg, validateFault, FAULT_KINDS } from './faults.js';
export { generateUsers, generateGroups, prng } from './generate.js';
export { normalizeQuirks, parseQuirkArgs, QUIRKS, QUIRK_NAMES, QUIRK_BUNDLES, QUIRK_BUNDLE_NAMES, type QuirkSpec, type QuirkName, type QuirkBundle, type QuirkSet } from './quirks.js';

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const o = normalizeOptions(opts);
  if (o.token) registerSecret(o.token);
  if (o.basic) registerSecret(o.basic.password);
  // Read the data file before listening, so that a bad file fails without a port taken.
  const data = typeof o.data === 'string' ? { file: o.data, value: await readDataFile(o.data) } : o.data ? { value: o.data } : undefined;

  const store = new SandboxStore({
    baseUrl: 'http://placeholder',
    etag: o.etag,
    lastModified: o.profile.lastModified,
    rootPath: o.rootPath,
    ...(opts.sequentialIds ? { sequentialIds: true } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(o.profile.linkedMembers ? { linkedMembers: o.profile.linkedMembers } : {}),
  });
  let markReady!: () => void;
  const state: ServerState = {
    store,
    o,
    faults: new FaultInjector(o.faults),
    requests: [] as RequestLogEntry[],
    counts: new Map(),
    ready: new Promise<void>((r) => (markReady = r)),
  };
  if (o.rateLimit) state.limiter = new RateLimiter(o.rateLimit);
  if (o.oauth) state.issuer = new TokenIssuer(o.oauth, o.profile.tokenPathWithClientId);
  for (const t of Object.keys(o.profile.writableTypes)) store.writableTypes.add(t);
  for (const [endpoint, name] of Object.entries(o.profile.extraTypes)) store.addType(endpoint, name);
  const server = createSandboxServer(state);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? `port ${o.port} is in use: choose another with --port (0 picks a free one)` : err.code === 'EACCES' ? `no permission to listen on port ${o.port}` : err.message;
      reject(new ScimEtlError('ERR_SANDBOX_LISTEN', `cannot listen on ${o.host}:${o.port}: ${why}`, { host: o.host, port: o.port, errno: err.code }, { cause: err }));
    });
    server.listen(o.port, o.host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => o.logger.error(`sandbox: server error: ${err.message}`));
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${host}:${port}`;
  // meta.location needs the real base URL, known only once we listen.
  store.baseUrl = url;
  try {
    if (data) loadData(store, data.value, 'file' in data ? data.file : undefined);
    if (o.generate) loadGenerated(store, o.generate);
  } catch (err) {
    await new Promise((r) => server.close(r));
    throw err;
  }
  markReady();

  let stopped: Promise<void> | undefined;
  return {
    url,
    root: store.root,
    quirks: o.quirks,
    port,
    store,
    requests: state.requests,
    counts: state.counts,
    get tokensIssued() {
      return state.issuer?.count ?? 0;
    },
    setFaults(f: FaultSpec[]) {
      state.faults.set(f);
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
