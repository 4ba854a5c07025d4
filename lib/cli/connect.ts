/**
 * The one way a command connects: secrets resolved (vaults, encrypted values),
 * one auth provider (one token cache) and one client (one keep-alive pool, one
 * adaptive concurrency limit, one SCIM root found on its first request) for
 * the whole run, closed however the run ends.
 */
import { resolveConnectionSecrets } from '../config/secrets/index.js';
import type { Pipeline } from '../config/types.js';
import { createAuth } from '../scim/auth/index.js';
import { createScimClient, type ScimClient } from '../scim/client.js';
import type { CommandContext } from './context.js';
import type { ConnectionArgs } from './connection-options.js';
import { resolve } from 'node:path';

export async function withConnection<T>(
  loaded: Pipeline,
  ctx: CommandContext,
  args: ConnectionArgs,
  run: (client: ScimClient, pipeline: Pipeline) => Promise<T>,
): Promise<T> {
  const privateKeyPath = args.privateKey === undefined ? undefined : resolve(ctx.cwd, args.privateKey);
  const pipeline = await resolveConnectionSecrets(loaded, { env: ctx.env, logger: ctx.logger, cwd: ctx.cwd, signal: ctx.signal, privateKeyPath });
  const auth = createAuth(pipeline.connection, { logger: ctx.logger });
  // The limit's ceiling is the most any stage of this run asks for: export pages or fulfill requests.
  const maxConcurrency = Math.max(pipeline.connection.concurrency, pipeline.fulfill?.concurrency ?? 1);
  const client = createScimClient(pipeline.connection, { logger: ctx.logger, auth, maxConcurrency, discoverRoot: true });
  try {
    return await run(client, pipeline);
  } finally {
    client.close();
  }
}
