#!/usr/bin/env node
// Makes sure the OS programs the demo and tests run are present: influxd (Debian package `influxdb`)
// and ping (`iputils-ping`, for the icmp collector). Installs them with apt-get when running as root,
// otherwise prints the exact line to run and exits non-zero.
import { execFileSync, spawnSync } from 'node:child_process';

const needed = [
  { bin: 'influxd', pkg: 'influxdb' },
  { bin: 'influx', pkg: 'influxdb-client' },
  { bin: 'ping', pkg: 'iputils-ping' },
  // the agent tarball (scripts/pack-agent.ts and its test); essential on Debian, listed so nothing is assumed
  { bin: 'tar', pkg: 'tar' },
];

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

const missing = needed.filter((n) => !has(n.bin));
if (missing.length === 0) process.exit(0);

const pkgs = missing.map((m) => m.pkg).join(' ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = has('apt-get');
if (!isRoot || !hasApt) {
  console.error(`ioc-edge needs: ${missing.map((m) => `${m.bin} (package ${m.pkg})`).join(', ')}.`);
  console.error(hasApt ? `Install them with:\n  sudo apt-get update && sudo apt-get install -y ${pkgs}` : `Install the packages ${pkgs} with your OS package manager.`);
  process.exit(1);
}
console.error(`installing missing OS packages: ${pkgs}`);
try {
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((m) => m.pkg)], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
} catch (err) {
  console.error(`apt-get failed (${err instanceof Error ? err.message : String(err)}); install by hand: apt-get install -y ${pkgs}`);
  process.exit(1);
}
const still = missing.filter((m) => !has(m.bin));
if (still.length > 0) {
  console.error(`still missing after install: ${still.map((m) => m.bin).join(', ')}`);
  process.exit(1);
}
