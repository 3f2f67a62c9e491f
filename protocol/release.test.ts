import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manifestBytes, parseManifest, signRelease, updateArgsSchema, verifyRelease, type ReleaseManifest } from './release.ts';

const manifest: ReleaseManifest = { name: 'ioc-edge-agent', version: '1.1.0', archive: 'ioc-edge-agent-1.1.0.tar.gz', sha256: 'a'.repeat(64), size: 9_000_000, createdAt: '2026-12-01T00:00:00.000Z' };
function gen(): { pub: string; key: string } {
  const k = generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  return { pub: k.publicKey, key: k.privateKey };
}

describe('release manifests and signatures', () => {
  it('verifies its own signature and refuses another key, a changed byte, a broken key', () => {
    const ours = gen();
    const theirs = gen();
    const data = manifestBytes(manifest);
    const sig = signRelease(data, ours.key);
    expect(updateArgsSchema.safeParse({ version: '1.1.0', manifestUrl: 'http://hub:8080/releases/1.1.0/manifest.json', signature: sig }).success).toBe(true);
    expect(verifyRelease(data, sig, ours.pub)).toBe(true);
    expect(verifyRelease(data, signRelease(data, theirs.key), ours.pub)).toBe(false);
    const changed = Buffer.from(data);
    changed[10] = (changed[10] ?? 0) ^ 1;
    expect(verifyRelease(changed, sig, ours.pub)).toBe(false);
    expect(verifyRelease(data, sig, 'not a key')).toBe(false);
    expect(verifyRelease(data, 'AAAA', ours.pub)).toBe(false);
  });

  it('parses the signed form and refuses what is not a manifest', () => {
    expect(parseManifest(manifestBytes(manifest))).toEqual({ ok: true, manifest });
    expect(parseManifest(Buffer.from('{'))).toMatchObject({ ok: false });
    expect(parseManifest(Buffer.from(JSON.stringify({ ...manifest, archive: '../../etc/passwd' })))).toMatchObject({ ok: false });
  });
});
