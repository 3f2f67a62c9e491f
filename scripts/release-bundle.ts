// `npm run release:bundle -- --key release-signing.key [--version 0.2.0] [--out-dir dist]`: a signed release bundle
// of the agent for `ioc-hub release add`. The archive is the agent tarball of `npm run pack:agent` (compiled agent,
// its production dependencies, the launcher, the unit); beside it a manifest (name, version, archive, sha256, size)
// and the manifest's ed25519 signature (base64), made with the private key of `ioc-hub release keygen`. Agents
// trust the public half (`update.publicKey` in agent.yaml); the hub only serves what it is given.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestBytes, RELEASE_NAME, releaseManifestSchema, signRelease, type ReleaseManifest } from '../protocol/release.ts';
import { packAgent } from './pack-agent.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface SignedRelease {
  archive: string;
  manifestFile: string;
  signatureFile: string;
  manifest: ReleaseManifest;
  signature: string;
}

/** The manifest and signature files of an archive: `X.tar.gz` → `X.manifest.json`, `X.manifest.json.sig`. */
export function releaseFilesOf(archive: string): { manifestFile: string; signatureFile: string } {
  const stem = archive.replace(/\.tar\.gz$/, '');
  return { manifestFile: `${stem}.manifest.json`, signatureFile: `${stem}.manifest.json.sig` };
}

/** Writes the manifest of `archive` (its sha256 and size) and signs it with the PEM private key. */
export function signArchive(archive: string, version: string, privateKeyPem: string): SignedRelease {
  const data = readFileSync(archive);
  const manifest = releaseManifestSchema.parse({
    name: RELEASE_NAME,
    version,
    archive: basename(archive),
    sha256: createHash('sha256').update(data).digest('hex'),
    size: statSync(archive).size,
    createdAt: new Date().toISOString(),
  });
  const bytes = manifestBytes(manifest);
  const signature = signRelease(bytes, privateKeyPem);
  const { manifestFile, signatureFile } = releaseFilesOf(archive);
  writeFileSync(manifestFile, bytes);
  writeFileSync(signatureFile, `${signature}\n`);
  return { archive, manifestFile, signatureFile, manifest, signature };
}

/** Packs the agent (optionally under another version) and signs it. */
export function buildRelease(opts: { outDir: string; keyFile: string; version?: string }): SignedRelease {
  const key = readFileSync(opts.keyFile, 'utf8');
  const packed = packAgent({ outDir: opts.outDir, ...(opts.version === undefined ? {} : { version: opts.version }) });
  return signArchive(packed.tarball, packed.version, key);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const keyFile = arg('--key');
  if (keyFile === undefined) {
    console.error('usage: npm run release:bundle -- --key release-signing.key [--version V] [--out-dir DIR]');
    process.exit(2);
  }
  const version = arg('--version');
  const r = buildRelease({ outDir: resolve(arg('--out-dir') ?? join(ROOT, 'dist')), keyFile: resolve(keyFile), ...(version === undefined ? {} : { version }) });
  const rel = (p: string): string => relative(process.cwd(), p) || p;
  console.log(`${rel(r.archive)}  ${r.manifest.size} bytes (${(r.manifest.size / 1024 / 1024).toFixed(1)} MiB)  sha256 ${r.manifest.sha256}\n${rel(r.manifestFile)}\n${rel(r.signatureFile)}`);
}
