// For tests: what the registry database (registry.json → registry.db beside it) holds, read as another process would.
import Database from 'better-sqlite3';
import { registryDbPath } from '../hub/agents/registry.ts';

/** Commit time (epoch ms, the CLI's clock) of the last change of this kind to the agent; undefined if none. */
export function changeAt(registryPath: string, kind: 'enroll' | 'rotate' | 'revoke', site: string, agent: string): number | undefined {
  const db = new Database(registryDbPath(registryPath), { readonly: true, fileMustExist: true });
  try {
    const at = db.prepare('SELECT at FROM changes WHERE kind = ? AND site = ? AND agent = ? ORDER BY seq DESC LIMIT 1').pluck().get(kind, site, agent) as string | undefined;
    return at === undefined ? undefined : Date.parse(at);
  } finally {
    db.close();
  }
}
