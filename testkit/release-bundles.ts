// Release bundles for the update tests, made from a real agent tarball (npm run pack:agent): extracted, its
// package.json given another version (what the agent reports), optionally changed by `mutate` (a release that
// cannot start), packed again the way pack-agent packs, and signed as `npm run release:bundle` signs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signArchive, type SignedRelease } from '../scripts/release-bundle.ts';

export { buildRelease, signArchive, type SignedRelease } from '../scripts/release-bundle.ts';
export { packAgent, type PackResult } from '../scripts/pack-agent.ts';

function tar(args: readonly string[]): void {
  const r = spawnSync('tar', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
}

export function restampRelease(from: string, opts: { version: string; outDir: string; keyPem: string; mutate?: (releaseDir: string) => void }): SignedRelease {
  const work = mkdtempSync(join(tmpdir(), 'ioc-restamp-'));
  try {
    tar(['-xzf', from, '-C', work]);
    const [top] = readdirSync(work);
    if (top === undefined) throw new Error(`${from} is empty`);
    const name = `ioc-edge-agent-${opts.version}`;
    const dir = join(work, name);
    renameSync(join(work, top), dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ ...pkg, version: opts.version }, null, 2)}\n`);
    opts.mutate?.(dir);
    const tarball = join(opts.outDir, `${name}.tar.gz`);
    tar(['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, '-C', work, name]);
    return signArchive(tarball, opts.version, opts.keyPem);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
