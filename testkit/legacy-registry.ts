// For tests: registries as earlier hubs left them — scrypt token records (before HMAC records), and the
// registry.json file (before the database) — and what the database holds now.
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { registryDbPath } from '../hub/agents/registry.ts';
import { DEFAULT_SCRYPT, generateToken, hashToken, type ScryptParams } from '../hub/agents/token.ts';
import type { AgentCredentials } from '../scripts/lib/hub-setup.ts';

interface FileAgent {
  site: string;
  agent: string;
  tokenHash: string;
  createdAt: string;
}

interface FileSite {
  slug: string;
  name: string;
  code: string;
  province: string;
  provinceName: string;
  area: string;
  areaName: string;
  lat?: number;
  lon?: number;
}

/**
 * Rewrites the given agents' records in the registry database (of the configured `registryPath`, registry.json →
 * registry.db) as scrypt hashes of their tokens, as hubs before HMAC records stored them.
 */
export async function toScryptRecords(registryPath: string, agents: readonly AgentCredentials[], params: ScryptParams = DEFAULT_SCRYPT): Promise<void> {
  const hashes = await Promise.all(agents.map(async (a) => ({ ...a, hash: await hashToken(a.token, params) })));
  const db = new Database(registryDbPath(registryPath), { timeout: 5000 });
  try {
    const update = db.prepare('UPDATE agents SET token_hash = ? WHERE site = ? AND agent = ?');
    db.transaction(() => {
      for (const a of hashes) if (update.run(a.hash, a.site, a.agent).changes !== 1) throw new Error(`${a.site}/${a.agent} is not in ${registryPath}`);
    }).immediate();
  } finally {
    db.close();
  }
}

/** Each active agent's stored token record, by `{site}/{agent}`, as the database holds it. */
export function tokenRecords(registryPath: string): Map<string, string> {
  const db = new Database(registryDbPath(registryPath), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT site, agent, token_hash FROM agents WHERE revoked_at IS NULL').all() as { site: string; agent: string; token_hash: string }[];
    return new Map(rows.map((r) => [`${r.site}/${r.agent}`, r.token_hash]));
  } finally {
    db.close();
  }
}

/** The site slugs the database holds, sorted. */
export function siteSlugs(registryPath: string): string[] {
  const db = new Database(registryDbPath(registryPath), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT slug FROM sites ORDER BY slug').pluck().all() as string[]);
  } finally {
    db.close();
  }
}

/** A registry.json as hubs before the database wrote it: the sites, and `n` agents per site with scrypt records; returns the agents' tokens. */
export async function writeLegacyRegistryJson(path: string, sites: readonly FileSite[], perSite: number, params: ScryptParams = { N: 1024, r: 8, p: 1 }): Promise<AgentCredentials[]> {
  const creds: AgentCredentials[] = sites.flatMap((s) => Array.from({ length: perSite }, (_, i) => ({ site: s.slug, agent: `pi-${i + 1}`, token: generateToken() })));
  const agents: FileAgent[] = await Promise.all(creds.map(async (c) => ({ site: c.site, agent: c.agent, tokenHash: await hashToken(c.token, params), createdAt: '2026-01-01T00:00:00.000Z' })));
  writeFileSync(path, `${JSON.stringify({ version: 1, sites, agents }, null, 2)}\n`, { mode: 0o600 });
  return creds;
}

/** The records of a registry.json (the backup an import leaves untouched). */
export function jsonTokenRecords(path: string): Map<string, string> {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { agents: FileAgent[] };
  return new Map(doc.agents.map((a) => [`${a.site}/${a.agent}`, a.tokenHash]));
}
