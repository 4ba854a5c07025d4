/**
 * `scim-etl encrypt --key public.pem`: reads one secret from stdin (so that it
 * stays out of shell history and `ps`), prints `enc:<base64>` on stdout.
 * Paste the result as a connection value; the run decrypts it with the
 * private key (connection.secrets.privateKey or $SCIM_ETL_PRIVATE_KEY).
 */
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ScimEtlError } from '../../errors.js';
import { encryptValue, loadPublicKey } from '../../config/secrets/rsa.js';
import type { CommandContext } from '../context.js';

export const PUBLIC_KEY_ENV = 'SCIM_ETL_PUBLIC_KEY';

/** Read the whole input; one trailing newline (from `echo` or a terminal) is not part of the secret. */
export async function readSecretInput(input: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text === '') {
    throw new ScimEtlError('ERR_OPTION_EMPTY_INPUT', 'encrypt: nothing to encrypt on stdin (e.g. printf %s "$SECRET" | scim-etl encrypt --key public.pem)');
  }
  return text;
}

export async function encryptFromInput(input: AsyncIterable<Buffer | string>, keyPath: string): Promise<string> {
  const key = loadPublicKey(keyPath, '--key');
  return encryptValue(key, await readSecretInput(input));
}

export const encryptCommand: CommandModule<object, any> = {
  command: 'encrypt',
  describe: 'Encrypt a secret read from stdin for the encrypted settings file',
  builder: (y) =>
    y
      .option('key', { type: 'string', describe: `RSA public key (PEM); default $${PUBLIC_KEY_ENV}` })
      .example('printf %s "$SCIM_TOKEN" | $0 encrypt --key public.pem', 'prints enc:<base64> for oAuthToken'),
  handler: async (argv) => {
    const ctx = argv.ctx as CommandContext & { stdin?: AsyncIterable<Buffer | string> };
    const keyPath = (argv.key as string | undefined) ?? ctx.env[PUBLIC_KEY_ENV];
    if (!keyPath) {
      throw new ScimEtlError('ERR_OPTION_MISSING', `encrypt: name the RSA public key with --key public.pem (or $${PUBLIC_KEY_ENV})`);
    }
    const input = ctx.stdin ?? (process.stdin as AsyncIterable<Buffer>);
    const value = await encryptFromInput(input, resolve(ctx.cwd, keyPath));
    ctx.stdout.write(value + '\n');
    ctx.setExitCode(0);
  },
};
