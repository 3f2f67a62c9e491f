// Release bundles and rollouts in the registry database (tables of migration 3 in sqlite-store.ts), shared by the
// CLI and a running hub as the registry is: the CLI adds a release and starts or stops a rollout, the hub's
// rollout runner (rollouts.ts) reads them every tick and records each agent's progress. Bundles' files live in
// the releases folder; the database holds their manifest (its exact signed bytes) and signature.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { manifestBytes, parseManifest, type ReleaseManifest } from '../../protocol/index.ts';
import type { HubConfig } from '../config.ts';
import { HubError, errorMessage } from '../errors.ts';
import { registryDbPath } from './registry.ts';
import { SqliteRegistryStore } from './sqlite-store.ts';

export interface ReleaseRecord {
  version: string;
  archive: string;
  sha256: string;
  size: number;
  /** The manifest's exact bytes as signed (one JSON line). */
  manifest: string;
  signature: string;
  addedAt: number;
  addedBy: string;
}

export type RolloutState = 'running' | 'stopped' | 'done';
/** pending: not sent yet (or the agent was offline); installing: it accepted the update; done: it runs the version, committed. */
export type RolloutAgentState = 'pending' | 'installing' | 'done' | 'failed';

export interface RolloutRecord {
  id: number;
  version: string;
  state: RolloutState;
  canary: string[];
  percent: number;
  maxFailures: number;
  /** The wave being rolled out now (0: the canary sites). */
  wave: number;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  reason?: string;
}

export interface RolloutAgent {
  site: string;
  agent: string;
  wave: number;
  state: RolloutAgentState;
  detail?: string;
  sentAt?: number;
  doneAt?: number;
}

export interface WaveSummary {
  wave: number;
  agents: number;
  done: number;
  failed: number;
  pending: number;
  installing: number;
  /** From the first update sent in the wave to its last agent done (null until then). */
  seconds: number | null;
}

export interface RolloutStatus {
  rollout: RolloutRecord;
  waves: WaveSummary[];
  agents: RolloutAgent[];
}

interface RolloutRow {
  id: number;
  version: string;
  state: RolloutState;
  canary: string;
  percent: number;
  max_failures: number;
  wave: number;
  created_at: number;
  created_by: string;
  updated_at: number;
  reason: string | null;
}

interface RolloutAgentRow {
  site: string;
  agent: string;
  wave: number;
  state: RolloutAgentState;
  detail: string | null;
  sent_at: number | null;
  done_at: number | null;
}

/** The releases folder of a hub: `releases.dir`, else releases/ beside the registry. */
export function releasesDir(config: Pick<HubConfig, 'registry' | 'releases'>): string {
  return config.releases.dir ?? join(dirname(config.registry.path), 'releases');
}

/** Waves of a rollout: the canary sites' agents, then `percent` % of the others (when below 100), then the rest. */
export function planWaves(agents: readonly { site: string; agent: string }[], canary: ReadonlySet<string>, percent: number, seed: string): { site: string; agent: string; wave: number }[] {
  const first = agents.filter((a) => canary.has(a.site));
  // The others in an order fixed by the rollout (not by slug: the first wave is not always the same communes).
  const rank = (a: { site: string; agent: string }): string => createHash('sha256').update(`${seed}:${a.site}/${a.agent}`).digest('hex');
  const rest = agents.filter((a) => !canary.has(a.site)).sort((x, y) => (rank(x) < rank(y) ? -1 : 1));
  const cut = percent >= 100 ? rest.length : Math.ceil((rest.length * percent) / 100);
  const waves = [first, rest.slice(0, cut), rest.slice(cut)].filter((w) => w.length > 0);
  return waves.flatMap((w, i) => w.map((a) => ({ site: a.site, agent: a.agent, wave: i })));
}

export class ReleaseStore {
  private constructor(
    private readonly db: Database.Database,
    readonly dir: string,
  ) {}

  /** Opens the registry database (migrated first, as the registry does) and the releases folder. */
  static open(config: Pick<HubConfig, 'registry' | 'releases'>): ReleaseStore {
    const path = registryDbPath(config.registry.path);
    void SqliteRegistryStore.open(path, { busyTimeoutMs: config.registry.busyTimeoutMs }).close();
    let db: Database.Database;
    try {
      db = new Database(path, { timeout: config.registry.busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
    } catch (err: unknown) {
      throw new HubError('E_REGISTRY_IO', `cannot open the registry database ${path}: ${errorMessage(err)}`, { cause: err });
    }
    return new ReleaseStore(db, releasesDir(config));
  }

  close(): void {
    this.db.close();
  }

  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Stores a bundle: `archive` (X.tar.gz) with X.manifest.json and X.manifest.json.sig beside it. The archive must
   * be the manifest's (size, sha256); the signature is the agents' to check (the hub is not what they trust).
   */
  addRelease(archive: string, addedBy: string, now = Date.now()): ReleaseRecord {
    const stem = archive.replace(/\.tar\.gz$/, '');
    let manifestData: Buffer;
    let signature: string;
    try {
      manifestData = readFileSync(`${stem}.manifest.json`);
      signature = readFileSync(`${stem}.manifest.json.sig`, 'utf8').trim();
    } catch (err: unknown) {
      throw new HubError('E_RELEASE', `release add: ${basename(archive)} needs ${basename(stem)}.manifest.json and .manifest.json.sig beside it (npm run release:bundle): ${errorMessage(err)}`, { cause: err });
    }
    const m = parseManifest(manifestData);
    if (!m.ok) throw new HubError('E_RELEASE', `release add: ${m.error}`);
    const manifest: ReleaseManifest = m.manifest;
    if (!manifestBytes(manifest).equals(manifestData)) throw new HubError('E_RELEASE', 'release add: the manifest is not in its signed form (one JSON line)');
    if (manifest.archive !== basename(archive)) throw new HubError('E_RELEASE', `release add: the manifest names ${manifest.archive}, not ${basename(archive)}`);
    const data = readFileSync(archive);
    const sha = createHash('sha256').update(data).digest('hex');
    if (data.length !== manifest.size || sha !== manifest.sha256) throw new HubError('E_RELEASE', `release add: ${basename(archive)} is not the archive of its manifest (size or sha256 differ)`);
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    const target = join(this.dir, manifest.archive);
    copyFileSync(archive, `${target}.tmp`);
    renameSync(`${target}.tmp`, target);
    const rec: ReleaseRecord = { version: manifest.version, archive: manifest.archive, sha256: manifest.sha256, size: manifest.size, manifest: manifestData.toString('utf8'), signature, addedAt: now, addedBy };
    this.write(() => {
      const used = this.db.prepare('SELECT 1 FROM rollouts WHERE version = ? LIMIT 1').get(rec.version);
      if (used !== undefined) throw new HubError('E_RELEASE', `release add: ${rec.version} has been rolled out already: give the new bundle a new version`);
      this.db
        .prepare(
          `INSERT INTO releases (version, archive, sha256, size, manifest, signature, added_at, added_by) VALUES (@version, @archive, @sha256, @size, @manifest, @signature, @addedAt, @addedBy)
           ON CONFLICT (version) DO UPDATE SET archive = excluded.archive, sha256 = excluded.sha256, size = excluded.size, manifest = excluded.manifest,
             signature = excluded.signature, added_at = excluded.added_at, added_by = excluded.added_by`,
        )
        .run(rec);
    });
    return rec;
  }

  listReleases(): ReleaseRecord[] {
    const rows = this.db.prepare('SELECT * FROM releases ORDER BY added_at').all() as { version: string; archive: string; sha256: string; size: number; manifest: string; signature: string; added_at: number; added_by: string }[];
    return rows.map((r) => ({ version: r.version, archive: r.archive, sha256: r.sha256, size: r.size, manifest: r.manifest, signature: r.signature, addedAt: r.added_at, addedBy: r.added_by }));
  }

  getRelease(version: string): ReleaseRecord | undefined {
    return this.listReleases().find((r) => r.version === version);
  }

  /** The archive file of a release, with its size (for serving). */
  archivePath(rec: ReleaseRecord): { path: string; size: number } | undefined {
    const path = join(this.dir, rec.archive);
    try {
      return { path, size: statSync(path).size };
    } catch {
      return undefined;
    }
  }

  /** Starts a rollout of `version` to every enrolled agent, in waves; refused while another one runs. */
  startRollout(opts: { version: string; canary: readonly string[]; percent: number; maxFailures: number; by: string }, now = Date.now()): RolloutStatus {
    const id = this.write(() => {
      if (this.getRelease(opts.version) === undefined) throw new HubError('E_RELEASE', `unknown release ${opts.version}: \`release add\` it first`);
      const running = this.db.prepare("SELECT id, version FROM rollouts WHERE state = 'running'").get() as { id: number; version: string } | undefined;
      if (running !== undefined) throw new HubError('E_ROLLOUT', `rollout ${running.id} of ${running.version} is running: stop it first`);
      const sites = new Set((this.db.prepare('SELECT slug FROM sites').all() as { slug: string }[]).map((r) => r.slug));
      const unknown = opts.canary.filter((s) => !sites.has(s));
      if (unknown.length > 0) throw new HubError('E_ROLLOUT', `unknown canary sites: ${unknown.join(', ')}`);
      const agents = this.db.prepare('SELECT site, agent FROM agents WHERE revoked_at IS NULL ORDER BY site, agent').all() as { site: string; agent: string }[];
      if (agents.length === 0) throw new HubError('E_ROLLOUT', 'no enrolled agents to update');
      const r = this.db
        .prepare("INSERT INTO rollouts (version, state, canary, percent, max_failures, wave, created_at, created_by, updated_at) VALUES (?, 'running', ?, ?, ?, 0, ?, ?, ?)")
        .run(opts.version, JSON.stringify(opts.canary), opts.percent, opts.maxFailures, now, opts.by, now);
      const rolloutId = Number(r.lastInsertRowid);
      const insert = this.db.prepare("INSERT INTO rollout_agents (rollout_id, site, agent, wave, state) VALUES (?, ?, ?, ?, 'pending')");
      for (const a of planWaves(agents, new Set(opts.canary), opts.percent, `${rolloutId}`)) insert.run(rolloutId, a.site, a.agent, a.wave);
      return rolloutId;
    });
    const status = this.status(id);
    if (status === undefined) throw new HubError('E_ROLLOUT', `rollout ${id} vanished`);
    return status;
  }

  /** Stops the running rollout (no new agent is sent the update; those installing finish). */
  stopRollout(reason: string, now = Date.now()): RolloutRecord | undefined {
    return this.write(() => {
      const row = this.db.prepare("SELECT * FROM rollouts WHERE state = 'running'").get() as RolloutRow | undefined;
      if (row === undefined) return undefined;
      this.db.prepare("UPDATE rollouts SET state = 'stopped', reason = ?, updated_at = ? WHERE id = ?").run(reason, now, row.id);
      return toRollout({ ...row, state: 'stopped', reason, updated_at: now });
    });
  }

  /** The rollout running now, else the latest. */
  current(): RolloutRecord | undefined {
    const row = (this.db.prepare("SELECT * FROM rollouts WHERE state = 'running'").get() ?? this.db.prepare('SELECT * FROM rollouts ORDER BY id DESC LIMIT 1').get()) as RolloutRow | undefined;
    return row === undefined ? undefined : toRollout(row);
  }

  status(id?: number): RolloutStatus | undefined {
    const rollout = id === undefined ? this.current() : (() => {
      const row = this.db.prepare('SELECT * FROM rollouts WHERE id = ?').get(id) as RolloutRow | undefined;
      return row === undefined ? undefined : toRollout(row);
    })();
    if (rollout === undefined) return undefined;
    const agents = (this.db.prepare('SELECT site, agent, wave, state, detail, sent_at, done_at FROM rollout_agents WHERE rollout_id = ? ORDER BY wave, site, agent').all(rollout.id) as RolloutAgentRow[]).map(toAgent);
    return { rollout, agents, waves: summarize(agents) };
  }

  setAgent(id: number, site: string, agent: string, change: { state: RolloutAgentState; detail?: string; sentAt?: number; doneAt?: number }): void {
    this.write(() => {
      this.db
        .prepare('UPDATE rollout_agents SET state = ?, detail = coalesce(?, detail), sent_at = coalesce(?, sent_at), done_at = coalesce(?, done_at) WHERE rollout_id = ? AND site = ? AND agent = ?')
        .run(change.state, change.detail ?? null, change.sentAt ?? null, change.doneAt ?? null, id, site, agent);
    });
  }

  /** Moves a running rollout on (to its next wave, or done), or stops it. Only from `running`. */
  advance(id: number, change: { wave?: number; state?: RolloutState; reason?: string }, now = Date.now()): void {
    this.write(() => {
      this.db
        .prepare("UPDATE rollouts SET wave = coalesce(?, wave), state = coalesce(?, state), reason = coalesce(?, reason), updated_at = ? WHERE id = ? AND state = 'running'")
        .run(change.wave ?? null, change.state ?? null, change.reason ?? null, now, id);
    });
  }
}

function toRollout(r: RolloutRow): RolloutRecord {
  let canary: string[] = [];
  try {
    const raw: unknown = JSON.parse(r.canary);
    if (Array.isArray(raw)) canary = raw.filter((s): s is string => typeof s === 'string');
  } catch {
    // a damaged row: no canary shown
  }
  return {
    id: r.id,
    version: r.version,
    state: r.state,
    canary,
    percent: r.percent,
    maxFailures: r.max_failures,
    wave: r.wave,
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
    ...(r.reason === null ? {} : { reason: r.reason }),
  };
}

function toAgent(r: RolloutAgentRow): RolloutAgent {
  return {
    site: r.site,
    agent: r.agent,
    wave: r.wave,
    state: r.state,
    ...(r.detail === null ? {} : { detail: r.detail }),
    ...(r.sent_at === null ? {} : { sentAt: r.sent_at }),
    ...(r.done_at === null ? {} : { doneAt: r.done_at }),
  };
}

function summarize(agents: readonly RolloutAgent[]): WaveSummary[] {
  const waves = new Map<number, RolloutAgent[]>();
  for (const a of agents) waves.set(a.wave, [...(waves.get(a.wave) ?? []), a]);
  return [...waves.entries()]
    .sort(([x], [y]) => x - y)
    .map(([wave, list]) => {
      const count = (s: RolloutAgentState): number => list.filter((a) => a.state === s).length;
      const sent = list.flatMap((a) => (a.sentAt === undefined ? [] : [a.sentAt]));
      const finished = list.every((a) => a.state === 'done' || a.state === 'failed');
      const ends = list.flatMap((a) => (a.doneAt === undefined ? [] : [a.doneAt]));
      const seconds = finished && sent.length > 0 && ends.length > 0 ? Math.round((Math.max(...ends) - Math.min(...sent)) / 100) / 10 : null;
      return { wave, agents: list.length, done: count('done'), failed: count('failed'), pending: count('pending'), installing: count('installing'), seconds };
    });
}
