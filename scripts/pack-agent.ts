// `npm run pack:agent [-- --out-dir DIR]`: the edge agent as one tarball for a Raspberry Pi,
// `ioc-edge-agent-<version>.tar.gz` (default in dist/). It holds the compiled JavaScript of edge/, protocol/,
// journal/ and common/ (tsc -p tsconfig.build.json, no tests), a launcher that runs it without tsx, a package.json
// with only the dependencies the compiled agent imports, those installed for production (`--omit=dev
// --ignore-scripts`: native add-ons come as the prebuilt binaries their packages ship), the systemd unit and
// the sample configs. Extract it into /opt/ioc-edge (see the README, "Deploy to a Raspberry Pi").
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The compiled folders the agent is made of; edge never imports hub (a lint rule enforces it). */
const AGENT_DIRS = ['edge', 'protocol', 'journal', 'common'] as const;

const rootPackageSchema = z.object({
  version: z.string(),
  license: z.string().optional(),
  engines: z.record(z.string(), z.string()).optional(),
  dependencies: z.record(z.string(), z.string()).default({}),
  optionalDependencies: z.record(z.string(), z.string()).default({}),
  allowScripts: z.record(z.string(), z.boolean()).default({}),
});

export interface PackResult {
  tarball: string;
  version: string;
  /** The production dependencies written into the tarball's package.json. */
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  bytes: number;
}

function run(cmd: string, args: readonly string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.status ?? r.signal)}):\n${r.stderr}\n${r.stdout}`);
}

function walk(dir: string, visit: (file: string) => void): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, visit);
    else visit(p);
  }
}

/** Package names the compiled files import (bare specifiers; `node:` built-ins left out). */
export function importedPackages(dir: string): Set<string> {
  const names = new Set<string>();
  walk(dir, (file) => {
    if (!file.endsWith('.js')) return;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? '';
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
      const parts = spec.split('/');
      names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec));
    }
  });
  return names;
}

const LAUNCHER = `#!/usr/bin/env node
// Launcher of the ioc-edge agent (release): runs the compiled CLI of the slot in use, after the launcher step of
// the A/B update (edge/update/launcher.ts: a trial that cannot start or stay healthy is switched back).
import { launch } from '../edge/update/launcher.js';

process.exitCode = await launch(process.argv.slice(2), import.meta.url);
`;

export interface PackOptions {
  outDir: string;
  /** The version written into the tarball's package.json (the agent reports it); default the project's. */
  version?: string;
}

export function packAgent(opts: PackOptions): PackResult {
  const parsedPkg = rootPackageSchema.parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')));
  const pkg = { ...parsedPkg, version: opts.version ?? parsedPkg.version };
  const name = `ioc-edge-agent-${pkg.version}`;
  const work = mkdtempSync(join(tmpdir(), 'ioc-pack-agent-'));
  try {
    // The same compile as `npm run build`, into a folder of our own.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    run(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(work, 'build')], ROOT);

    const stage = join(work, name);
    for (const d of AGENT_DIRS) {
      cpSync(join(work, 'build', d), join(stage, d), { recursive: true, filter: (src) => statSync(src).isDirectory() || (src.endsWith('.js') && !/\.test\.js$/.test(src)) });
    }
    mkdirSync(join(stage, 'bin'));
    writeFileSync(join(stage, 'bin', 'ioc-edge.js'), LAUNCHER, { mode: 0o755 });
    mkdirSync(join(stage, 'edge', 'deploy'), { recursive: true });
    copyFileSync(join(ROOT, 'edge', 'deploy', 'ioc-edge.service'), join(stage, 'edge', 'deploy', 'ioc-edge.service'));
    cpSync(join(ROOT, 'edge', 'samples'), join(stage, 'edge', 'samples'), { recursive: true });

    // Exactly the packages the compiled agent imports, at the versions the project pins.
    const dependencies: Record<string, string> = {};
    const optionalDependencies: Record<string, string> = {};
    for (const dep of [...importedPackages(stage)].sort()) {
      const required = pkg.dependencies[dep];
      const optional = pkg.optionalDependencies[dep];
      if (required !== undefined) dependencies[dep] = required;
      else if (optional !== undefined) optionalDependencies[dep] = optional;
      else throw new Error(`the compiled agent imports ${dep}, which is not a production dependency in package.json`);
    }
    const manifest = {
      name: 'ioc-edge-agent',
      version: pkg.version,
      description: 'ioc-edge agent for a commune office Raspberry Pi (compiled JavaScript)',
      type: 'module',
      private: true,
      ...(pkg.license === undefined ? {} : { license: pkg.license }),
      ...(pkg.engines === undefined ? {} : { engines: pkg.engines }),
      bin: { 'ioc-edge': './bin/ioc-edge.js' },
      dependencies,
      ...(Object.keys(optionalDependencies).length === 0 ? {} : { optionalDependencies }),
      allowScripts: pkg.allowScripts,
    };
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // The project's lockfile as the starting point: npm keeps its pinned versions and drops the rest.
    copyFileSync(join(ROOT, 'package-lock.json'), join(stage, 'package-lock.json'));
    run('npm', ['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], stage);
    // Types, TypeScript sources and source maps inside packages are never loaded at run time.
    walk(join(stage, 'node_modules'), (file) => {
      if (/\.(?:[cm]?ts|map)$/.test(file)) rmSync(file);
    });

    mkdirSync(opts.outDir, { recursive: true });
    const tarball = resolve(opts.outDir, `${name}.tar.gz`);
    run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, '-C', work, name], work);
    return { tarball, version: pkg.version, dependencies, optionalDependencies, bytes: statSync(tarball).size };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out-dir');
  const outDir = i === -1 ? join(ROOT, 'dist') : resolve(process.argv[i + 1] ?? 'dist');
  const r = packAgent({ outDir });
  const deps = Object.entries({ ...r.dependencies, ...r.optionalDependencies }).map(([k, v]) => `${k}@${v}`);
  console.log(`${relative(process.cwd(), r.tarball) || r.tarball}  ${(r.bytes / 1024 / 1024).toFixed(1)} MiB  (ioc-edge ${r.version}; ${deps.join(', ')})`);
}
