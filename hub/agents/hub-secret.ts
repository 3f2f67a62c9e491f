// The hub secret: 32 random bytes, the key of the agents' token HMACs (token.ts). Made once, beside the registry by
// default, mode 0600; the hub and the CLI read the same file. Losing it makes every HMAC record unverifiable (each
// agent must be enrolled again), so it is backed up with the registry. Never logged.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorCode, errorMessage } from '../../common/errors.ts';
import { HubError } from '../errors.ts';

export const HUB_SECRET_BYTES = 32;

/** `hub-secret` in the registry's folder. */
export function defaultHubSecretPath(registryPath: string): string {
  return join(dirname(registryPath), 'hub-secret');
}

/**
 * Reads the secret, or creates it when the file does not exist. Creation writes a temp file (0600, fsynced) and
 * links it to the path, which fails if another process made it first: then that process's secret is read, so a hub
 * and a CLI starting together agree on one secret.
 */
export async function loadOrCreateHubSecret(path: string): Promise<Buffer> {
  const existing = await readSecret(path);
  if (existing !== undefined) return existing;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${randomBytes(HUB_SECRET_BYTES).toString('hex')}\n`, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, path);
    } catch (err: unknown) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
  } catch (err: unknown) {
    throw new HubError('E_HUB_SECRET', `cannot create the hub secret ${path}: ${errorMessage(err)}`, { cause: err });
  } finally {
    await rm(tmp, { force: true });
  }
  const made = await readSecret(path);
  if (made === undefined) throw new HubError('E_HUB_SECRET', `the hub secret ${path} vanished after its creation`);
  return made;
}

async function readSecret(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new HubError('E_HUB_SECRET', `cannot read the hub secret ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const hex = text.trim();
  // The message never quotes the file: it is the secret.
  if (!/^[0-9a-f]+$/.test(hex) || hex.length !== HUB_SECRET_BYTES * 2) {
    throw new HubError('E_HUB_SECRET', `the hub secret ${path} is not ${HUB_SECRET_BYTES} bytes in hex (restore it from the backup made with the registry)`);
  }
  return Buffer.from(hex, 'hex');
}
