/**
 * `enc:<base64>` values: RSA-OAEP with SHA-256, the scheme of the seed's
 * encrypted settings file. `scim-etl encrypt --key public.pem` produces them;
 * the private key turns them back into the value when a pipeline is run.
 */
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { ScimEtlError } from '../../errors.js';
import { readPem } from '../../scim/auth/tls.js';

export const ENC_PREFIX = 'enc:';

export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENC_PREFIX);
}

/** OAEP with SHA-256 takes at most modulus − 2·32 − 2 bytes. */
export function maxPlaintextBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
  return bits / 8 - 2 * 32 - 2;
}

function loadKey(path: string, kind: 'public' | 'private', setting: string): KeyObject {
  const pem = readPem(path, setting, 'ERR_SECRETS_KEY');
  try {
    // A private key also yields its public half, so `encrypt --key private.pem` works too.
    const key = kind === 'public' ? createPublicKey(pem) : createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`a ${key.asymmetricKeyType} key, not RSA`);
    return key;
  } catch (err) {
    throw new ScimEtlError('ERR_SECRETS_KEY', `${setting}: ${path} is not a usable RSA ${kind} key (${(err as Error).message})`, { setting, path }, { cause: err, category: 'config' });
  }
}

export function loadPublicKey(path: string, setting = '--key'): KeyObject {
  return loadKey(path, 'public', setting);
}

export function loadPrivateKey(path: string, setting = 'privateKey'): KeyObject {
  return loadKey(path, 'private', setting);
}

export function encryptValue(publicKey: KeyObject, plaintext: string): string {
  const data = Buffer.from(plaintext, 'utf8');
  const max = maxPlaintextBytes(publicKey);
  if (data.length > max) {
    throw new ScimEtlError(
      'ERR_SECRETS_TOO_LONG',
      `the value is ${data.length} bytes; an RSA key of ${publicKey.asymmetricKeyDetails?.modulusLength} bits encrypts at most ${max} (use a 4096-bit key, or a vault)`,
      { bytes: data.length, max },
      { category: 'config' },
    );
  }
  const out = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
  return ENC_PREFIX + out.toString('base64');
}

/** Decrypt one `enc:` value; `setting` names it in the error (never the value). */
export function decryptValue(privateKey: KeyObject, value: string, setting: string): string {
  const b64 = value.slice(ENC_PREFIX.length).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new ScimEtlError('ERR_SECRETS_DECRYPT', `${setting}: the text after "enc:" is not base64`, { setting }, { category: 'config' });
  }
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(b64, 'base64')).toString('utf8');
  } catch (err) {
    throw new ScimEtlError(
      'ERR_SECRETS_DECRYPT',
      `${setting}: cannot decrypt the enc: value with the configured private key (a different key, or the value was damaged when copied)`,
      { setting },
      { cause: err, category: 'config' },
    );
  }
}
