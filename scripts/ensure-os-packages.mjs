#!/usr/bin/env node
// Makes sure the OS programs the demo and the tests start are present: the required entries of
// scripts/os-packages.json (influxd, influx, ping, socat, openssl, setpriv, …). Installs the missing
// packages with apt-get when running as root, otherwise prints the exact line to run and exits non-zero.
// `--check` only checks and prints, never installs.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const list = JSON.parse(readFileSync(join(import.meta.dirname, 'os-packages.json'), 'utf8'));
const needed = list.packages.filter((p) => p.optional !== true);
const checkOnly = process.argv.includes('--check');

/** The program's path on PATH, or undefined (no shell: `command -v` would need one). */
function onPath(bin) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return join(dir, bin);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

const missing = needed.filter((n) => onPath(n.bin) === undefined);
if (missing.length === 0) process.exit(0);

const pkgs = [...new Set(missing.map((m) => m.pkg))].join(' ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = onPath('apt-get') !== undefined;
if (checkOnly || !isRoot || !hasApt) {
  console.error(`ioc-edge needs: ${missing.map((m) => `${m.bin} (package ${m.pkg})`).join(', ')}.`);
  console.error(
    hasApt
      ? `Install them with:\n  sudo apt-get update && sudo apt-get install -y ${pkgs}`
      : `Install the Debian packages ${pkgs} (or your OS's equivalents) with your OS package manager.`,
  );
  process.exit(1);
}
console.error(`installing missing OS packages: ${pkgs}`);
try {
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...new Set(missing.map((m) => m.pkg))], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
} catch (err) {
  console.error(`apt-get failed (${err instanceof Error ? err.message : String(err)}); install by hand: apt-get install -y ${pkgs}`);
  process.exit(1);
}
const still = missing.filter((m) => onPath(m.bin) === undefined);
if (still.length > 0) {
  console.error(`still missing after install: ${still.map((m) => m.bin).join(', ')}`);
  process.exit(1);
}
