/**
 * The connection `discover` and `check` use: the pipeline's, or one built from
 * `--server URL` with credentials read from the SCIM_* variables (a value on
 * the command line would show in the process list). The built connection goes
 * through the ordinary loader, so it is validated like any pipeline.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline } from '../config/load.js';
import type { Pipeline } from '../config/types.js';
import { ScimEtlError } from '../errors.js';
import { STARTER_VARIABLES, type StarterConnection } from './starter.js';

export interface ServerArgs {
  server: string;
  scimSyntax?: string;
  oauth2Url?: string;
}

/** The credentials the SCIM_* variables provide: a token wins, then client credentials, then login+password. */
export function starterFromEnv(args: ServerArgs, env: NodeJS.ProcessEnv): StarterConnection {
  const has = (k: keyof typeof STARTER_VARIABLES) => Boolean(env[STARTER_VARIABLES[k]]);
  const auth: StarterConnection['auth'] = {};
  if (has('token')) auth.token = true;
  else if (has('applicationId') && has('applicationKey')) {
    auth.applicationId = auth.applicationKey = true;
    if (has('login') && has('password')) auth.login = auth.password = true;
    if (args.oauth2Url) auth.oAuth2Url = args.oauth2Url;
  } else if (has('login') && has('password')) auth.login = auth.password = true;
  return { identifier: 'Discovered', server: args.server, scimSyntax: args.scimSyntax ?? 'RFC', auth };
}

/** The credentials a loaded pipeline uses, for the starter file (names only, never values). */
export function starterFromPipeline(p: Pipeline): StarterConnection {
  const c = p.connection;
  return {
    identifier: c.identifier,
    server: c.server,
    scimSyntax: c.scimSyntax,
    auth: {
      token: c.oAuthToken !== undefined || undefined,
      login: c.login !== undefined || undefined,
      password: c.password !== undefined || undefined,
      applicationId: c.applicationId !== undefined || undefined,
      applicationKey: c.applicationKey !== undefined || undefined,
      ...(c.oAuth2Url ? { oAuth2Url: c.oAuth2Url } : {}),
    },
  };
}

export function connectionYaml(s: StarterConnection): string {
  const key = { token: 'oAuthToken', login: 'login', password: 'password', applicationId: 'applicationId', applicationKey: 'applicationKey' } as const;
  const lines = ['version: 1', 'connection:', `  identifier: ${JSON.stringify(s.identifier)}`, `  server: ${JSON.stringify(s.server)}`, `  scimSyntax: ${JSON.stringify(s.scimSyntax)}`];
  for (const k of Object.keys(key) as Array<keyof typeof key>) if (s.auth[k]) lines.push(`  ${key[k]}: \${${STARTER_VARIABLES[k]}}`);
  if (s.auth.oAuth2Url) lines.push(`  oAuth2Url: ${JSON.stringify(s.auth.oAuth2Url)}`);
  return lines.join('\n') + '\n';
}

/** Loads the connection of `--server URL` as if it were a pipeline file. */
export async function pipelineForServer(args: ServerArgs, env: NodeJS.ProcessEnv): Promise<{ pipeline: Pipeline; starter: StarterConnection }> {
  if (!/^https?:\/\//i.test(args.server)) {
    throw new ScimEtlError('ERR_DISCOVER_SERVER', `--server must be an http(s) URL, got ${JSON.stringify(args.server)}`, {}, { category: 'config' });
  }
  const starter = starterFromEnv(args, env);
  const dir = mkdtempSync(join(tmpdir(), 'scim-etl-discover-'));
  try {
    const file = join(dir, 'server.yaml');
    writeFileSync(file, connectionYaml(starter));
    return { pipeline: await loadPipeline(file, { env }), starter };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
