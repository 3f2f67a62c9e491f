// Writes dashboards/generated/*.json (committed, so Grafana provisions without a build): `npm run dashboards`.
// `--check` exits 1 when a committed file differs from a fresh generation.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DASHBOARD_MODULES } from './index.ts';
import { wallPlaylist } from './playlist.ts';

export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'generated');

function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** File name → content of every generated file. */
export function generateAll(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of DASHBOARD_MODULES) out.set(m.file, toJson(m.build()));
  out.set('playlist.json', toJson(wallPlaylist()));
  return out;
}

/** Files whose committed content differs from a fresh generation (missing files included). */
export function staleFiles(dir = GENERATED_DIR): string[] {
  const stale: string[] = [];
  for (const [file, content] of generateAll()) {
    let committed: string | undefined;
    try {
      committed = readFileSync(join(dir, file), 'utf8');
    } catch {
      committed = undefined;
    }
    if (committed !== content) stale.push(file);
  }
  return stale;
}

function main(argv: readonly string[]): number {
  if (argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length > 0) {
      process.stderr.write(`dashboards/generated is stale (${stale.join(', ')}): run npm run dashboards\n`);
      return 1;
    }
    return 0;
  }
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [file, content] of generateAll()) writeFileSync(join(GENERATED_DIR, file), content);
  process.stdout.write(`wrote ${generateAll().size} files to ${GENERATED_DIR}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
