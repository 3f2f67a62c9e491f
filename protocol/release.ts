// Release bundles of the agent: the manifest the hub serves beside the archive, its ed25519 signature, and the
// `update` command's arguments. The agent trusts only a manifest whose signature its configured public key
// verifies, and only an archive whose size and sha256 are the manifest's. No I/O here (node:crypto only).
import { createPublicKey, sign, verify } from 'node:crypto';
import { z } from 'zod';

export const RELEASE_NAME = 'ioc-edge-agent';

/** A version as it may appear in a path and a file name (semver, with a pre-release or build part). */
export const releaseVersionSchema = z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.-]{1,40})?$/, 'a version like 1.2.3 or 1.2.3-rc.1');

export const releaseManifestSchema = z.strictObject({
  name: z.literal(RELEASE_NAME),
  version: releaseVersionSchema,
  /** File name of the archive, served beside the manifest. */
  archive: z.string().regex(/^[A-Za-z0-9._+-]{1,120}\.tar\.gz$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.int().min(1).max(1024 * 1024 * 1024),
  createdAt: z.string().min(1).max(40),
});
export type ReleaseManifest = z.infer<typeof releaseManifestSchema>;

/** Arguments of the hub's `update` command to an agent. */
export const updateArgsSchema = z.strictObject({
  version: releaseVersionSchema,
  /** Where the agent fetches the manifest (HTTP(S), the agent's own token as credential). */
  manifestUrl: z.string().regex(/^https?:\/\/\S{1,2000}$/),
  /** base64 ed25519 signature of the manifest's exact bytes. */
  signature: z.string().regex(/^[A-Za-z0-9+/=]{80,100}$/),
});
export type UpdateArgs = z.infer<typeof updateArgsSchema>;

/** The manifest's bytes as signed and served: one JSON line. */
export function manifestBytes(m: ReleaseManifest): Buffer {
  return Buffer.from(`${JSON.stringify(m)}\n`, 'utf8');
}

/** base64 ed25519 signature of `data` with a PEM private key. */
export function signRelease(data: Buffer, privateKeyPem: string): string {
  return sign(null, data, privateKeyPem).toString('base64');
}

/** Does the PEM ed25519 public key verify the base64 signature of `data`? Never throws (a broken key or signature: false). */
export function verifyRelease(data: Buffer, signatureB64: string, publicKeyPem: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, data, key, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

/** A manifest's bytes decoded and checked against the schema, or the reason not. */
export function parseManifest(data: Buffer): { ok: true; manifest: ReleaseManifest } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch {
    return { ok: false, error: 'the manifest is not JSON' };
  }
  const r = releaseManifestSchema.safeParse(raw);
  return r.success ? { ok: true, manifest: r.data } : { ok: false, error: `the manifest does not match its schema: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
}
