/**
 * `scim-etl sandbox`: a local SCIM 2.0 server with sample or generated data.
 * Resolves when the server stops (SIGINT/SIGTERM through ctx.signal).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import type { CommandContext } from '../context.js';
import { ScimEtlError } from '../../errors.js';
import { startSandbox, parseFaultArg, type SandboxOptions, type FaultSpec } from '../../sandbox/index.js';
import { DIALECT_NAMES, dialectName } from '../../sandbox/dialects.js';
import { QUIRKS, QUIRK_BUNDLE_NAMES, describeQuirks, normalizeQuirks, parseQuirkArgs, type QuirkSpec } from '../../sandbox/quirks.js';

interface SandboxArgs {
  ctx: CommandContext;
  port: number;
  host: string;
  data?: string;
  users?: number;
  groups?: number;
  members?: number;
  seed?: number;
  token: string;
  basic?: string;
  oauth?: string;
  oauthUser?: string;
  tokenLifetime?: number;
  dialect: string;
  maxResults?: number;
  defaultCount?: number;
  bulk: boolean;
  bulkMaxOperations?: number;
  bulkMaxPayloadSize?: number;
  patch: boolean;
  etag: boolean;
  omitEmptyResources?: boolean;
  cursor?: boolean;
  tooMany?: number;
  rateLimit?: string;
  fault?: string[];
  quirk?: string[];
}

/**
 * The packaged sample directory, from the source tree or from dist/: the
 * dialect's own (samples/directory.salesforce.json…) when there is one.
 */
export function defaultDataFile(dialect = 'RFC'): string | undefined {
  const names = [`directory.${dialect.toLowerCase()}.json`, 'directory.json'];
  for (const name of names) {
    for (const up of ['../../../', '../../../../']) {
      const p = fileURLToPath(new URL(`${up}samples/${name}`, import.meta.url));
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

function optionError(message: string, option: string): ScimEtlError {
  return new ScimEtlError('ERR_SANDBOX_OPTION', message, { option }, { category: 'config' });
}

/** CLI arguments → SandboxOptions (checked again by startSandbox). */
export function sandboxOptionsFromArgs(a: Omit<SandboxArgs, 'ctx'>): SandboxOptions {
  const dialect = dialectName(a.dialect);
  if (!dialect) throw optionError(`--dialect must be one of ${DIALECT_NAMES.join(', ')} (any case), got ${JSON.stringify(a.dialect)}`, 'dialect');
  const o: SandboxOptions = { port: a.port, host: a.host, token: a.token, dialect };
  if (a.users !== undefined || a.groups !== undefined) {
    o.generate = { users: a.users ?? 0, groups: a.groups ?? 0 };
    if (a.members !== undefined) o.generate.members = a.members;
    if (a.seed !== undefined) o.generate.seed = a.seed;
    if (a.data !== undefined) o.data = a.data;
  } else {
    if (a.members !== undefined || a.seed !== undefined) throw optionError('--members and --seed need --users (generated mode)', 'members');
    const file = a.data ?? defaultDataFile(dialect);
    if (file) o.data = file;
  }
  if (a.basic !== undefined) {
    const colon = a.basic.indexOf(':');
    if (colon <= 0) throw optionError("--basic must be 'login:password'", 'basic');
    o.basic = { login: a.basic.slice(0, colon), password: a.basic.slice(colon + 1) };
  }
  if (a.oauth !== undefined) {
    const colon = a.oauth.indexOf(':');
    if (colon <= 0) throw optionError("--oauth must be 'clientId:clientSecret'", 'oauth');
    o.oauth = { clientId: a.oauth.slice(0, colon), clientSecret: a.oauth.slice(colon + 1) };
    if (a.oauthUser !== undefined) {
      const c = a.oauthUser.indexOf(':');
      if (c <= 0) throw optionError("--oauth-user must be 'login:password'", 'oauth-user');
      o.oauth.login = a.oauthUser.slice(0, c);
      o.oauth.password = a.oauthUser.slice(c + 1);
    }
    if (a.tokenLifetime !== undefined) o.oauth.expiresIn = a.tokenLifetime;
  } else if (a.oauthUser !== undefined || a.tokenLifetime !== undefined) {
    throw optionError('--oauth-user and --token-lifetime need --oauth', 'oauth');
  }
  if (a.maxResults !== undefined) o.maxResults = a.maxResults;
  if (a.defaultCount !== undefined) o.defaultCount = a.defaultCount;
  o.bulk = { supported: a.bulk };
  if (a.bulkMaxOperations !== undefined) o.bulk.maxOperations = a.bulkMaxOperations;
  if (a.bulkMaxPayloadSize !== undefined) o.bulk.maxPayloadSize = a.bulkMaxPayloadSize;
  o.patch = a.patch;
  o.etag = a.etag;
  if (a.omitEmptyResources) o.omitEmptyResources = true;
  if (a.cursor) o.cursor = true;
  if (a.tooMany !== undefined) o.tooManyLimit = a.tooMany;
  if (a.rateLimit !== undefined) {
    const m = /^(\d+)\/(\d+)(?:\/(\d+))?$/.exec(a.rateLimit);
    if (!m) throw optionError("--rate-limit must be 'reads/writes' per minute, or 'reads/writes/windowMs'", 'rate-limit');
    o.rateLimit = { reads: Number(m[1]), writes: Number(m[2]), ...(m[3] ? { windowMs: Number(m[3]) } : {}) };
  }
  const faults: FaultSpec[] = (a.fault ?? []).flatMap((f) => parseFaultArg(String(f)));
  if (faults.length) o.faults = faults;
  const quirks = parseQuirkArgs(a.quirk ?? []);
  if (quirks.length) {
    // Checked here too, so that a typo names the --quirk value it came from.
    normalizeQuirks(quirks, (i) => `--quirk ${JSON.stringify(quirks[i])}`);
    o.quirks = quirks as QuirkSpec[];
  }
  return o;
}

export const sandboxCommand: CommandModule<object, any> = {
  command: 'sandbox',
  describe: 'Start a local SCIM 2.0 server on 127.0.0.1 with sample or generated data',
  builder: (y) =>
    y
      .example('$0 sandbox --port 8080', 'The sample directory on http://127.0.0.1:8080/v2 (token sandbox-token)')
      .example('$0 sandbox --users 100000 --groups 50 --seed 1', 'A generated directory for load tests')
      .option('port', { type: 'number', default: 8080, describe: 'Port to listen on (0: any free port)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on (keep 127.0.0.1 unless you mean it)' })
      .option('data', { type: 'string', describe: 'Directory JSON file {"Users":[…],"Groups":[…]} (default: the packaged samples/directory.json)' })
      .option('users', { type: 'number', describe: 'Generate N users instead of loading a file' })
      .option('groups', { type: 'number', describe: 'Generate M groups' })
      .option('members', { type: 'number', describe: 'Members of the one large generated group (default min(N, 1000))' })
      .option('seed', { type: 'number', describe: 'Seed of the generator (same seed, same data)' })
      .option('token', { type: 'string', default: 'sandbox-token', describe: 'Bearer token the server accepts' })
      .option('basic', { type: 'string', describe: "Also accept HTTP Basic 'login:password'" })
      .option('oauth', { type: 'string', describe: "Serve an OAuth2 token endpoint (POST /oauth2/token) for client 'clientId:clientSecret'" })
      .option('oauth-user', { type: 'string', describe: "Also accept the password grant for 'login:password'" })
      .option('token-lifetime', { type: 'number', describe: 'expires_in of issued tokens, seconds (default 3600)' })
      .option('dialect', { type: 'string', default: 'RFC', describe: `Server dialect: ${DIALECT_NAMES.join(', ')} (any case)` })
      .option('max-results', { type: 'number', describe: 'filter.maxResults: largest page served (default 1000)' })
      .option('default-count', { type: 'number', describe: 'Page size when the client names no count (default 100)' })
      .option('bulk', { type: 'boolean', default: true, describe: 'Serve /Bulk (--no-bulk: advertise and answer 501)' })
      .option('bulk-max-operations', { type: 'number', describe: 'Bulk maxOperations (default 1000)' })
      .option('bulk-max-payload-size', { type: 'number', describe: 'Bulk maxPayloadSize in bytes (default 1048576)' })
      .option('patch', { type: 'boolean', default: true, describe: 'Serve PATCH (--no-patch: advertise and answer 501)' })
      .option('etag', { type: 'boolean', default: true, describe: 'ETags and If-Match (--no-etag to turn off)' })
      .option('omit-empty-resources', { type: 'boolean', describe: 'Leave "Resources" out of empty list replies' })
      .option('cursor', { type: 'boolean', describe: 'Also serve RFC 9865 cursor paging (advertised in the ServiceProviderConfig)' })
      .option('too-many', { type: 'number', describe: "400 tooMany when a filter matches more than this many resources" })
      .option('rate-limit', { type: 'string', describe: "429 over 'reads/writes' requests per minute (Slack: 1000/600), or 'reads/writes/windowMs'" })
      .option('quirk', {
        type: 'string',
        array: true,
        describe: `Reproduce a real server's quirk (repeatable, comma-separated; name or name=value): ${Object.keys(QUIRKS).join(', ')}; or all of a server's: ${QUIRK_BUNDLE_NAMES.join(', ')}`,
      })
      .option('fault', { type: 'string', array: true, describe: "Inject a fault (repeatable): JSON, or kind[@route][,key=value…], e.g. '429@GET /v2/Users,times=2,retryAfter=date'" }),
  handler: async (raw) => {
    const argv = raw as unknown as SandboxArgs;
    const { ctx } = argv;
    const opts = sandboxOptionsFromArgs(argv);
    opts.logger = ctx.logger;
    if (opts.host !== '127.0.0.1' && opts.host !== 'localhost' && opts.host !== '::1') {
      ctx.logger.warn(`the sandbox listens on ${opts.host}: anyone who can reach it can read and change its data with the token`);
    }
    const started = Date.now();
    const sb = await startSandbox(opts);
    const what = opts.generate ? `${sb.store.userCount} generated users, ${sb.store.groupCount} groups` : `${sb.store.userCount} users, ${sb.store.groupCount} groups from ${opts.data ?? 'nothing'}`;
    const quirks = describeQuirks(normalizeQuirks(opts.quirks));
    if (ctx.logger.format === 'json') {
      // One event for scripts waiting for the server; the token is the one they passed (or the default).
      ctx.logger.emit('info', 'sandbox.ready', { url: sb.url, root: sb.root, users: sb.store.userCount, groups: sb.store.groupCount, quirks }, `scim-etl sandbox: ${what}`);
    } else {
      // The token is printed on purpose (it is the sandbox's own); the logger would mask it.
      ctx.stderr.write(`scim-etl sandbox: ${what}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      ctx.stderr.write(`  server: ${sb.url}   (SCIM endpoints under ${sb.root})\n`);
      ctx.stderr.write(`  token:  ${opts.token}\n`);
      if (quirks.length) ctx.stderr.write(`  quirks: ${quirks.join(', ')}\n`);
      if (opts.basic) ctx.stderr.write(`  basic:  ${opts.basic.login}:<password>\n`);
      if (opts.oauth) ctx.stderr.write(`  oauth2: ${sb.url}/oauth2/token for client ${opts.oauth.clientId}${opts.oauth.login ? ` and user ${opts.oauth.login}` : ''}\n`);
      ctx.stderr.write('Stop with Ctrl-C.\n');
    }
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await sb.stop();
    ctx.logger.info('scim-etl sandbox: stopped');
  },
};
