// The agent's version string, read once from package.json.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const raw: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    if (typeof raw === 'object' && raw !== null && 'version' in raw && typeof raw.version === 'string') {
      return raw.version.slice(0, 64);
    }
  } catch {
    // fall through: a missing package.json must not stop the agent
  }
  return '0.0.0';
}

export const AGENT_VERSION = readVersion();
