// For tests: a registry as hubs before HMAC records wrote it: the given agents' records rewritten as scrypt hashes
// of their tokens (with the hub stopped; it reads the registry at start).
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_SCRYPT, hashToken, type ScryptParams } from '../hub/agents/token.ts';
import type { AgentCredentials } from '../scripts/lib/hub-setup.ts';

interface FileAgent {
  site: string;
  agent: string;
  tokenHash: string;
}

export async function toScryptRecords(registryPath: string, agents: readonly AgentCredentials[], params: ScryptParams = DEFAULT_SCRYPT): Promise<void> {
  const doc = JSON.parse(readFileSync(registryPath, 'utf8')) as { agents: FileAgent[] };
  for (const a of agents) {
    const rec = doc.agents.find((r) => r.site === a.site && r.agent === a.agent);
    if (rec === undefined) throw new Error(`${a.site}/${a.agent} is not in ${registryPath}`);
    rec.tokenHash = await hashToken(a.token, params);
  }
  writeFileSync(registryPath, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
}

/** Each agent's stored token record, by `{site}/{agent}`. */
export function tokenRecords(registryPath: string): Map<string, string> {
  const doc = JSON.parse(readFileSync(registryPath, 'utf8')) as { agents: FileAgent[] };
  return new Map(doc.agents.map((a) => [`${a.site}/${a.agent}`, a.tokenHash]));
}
