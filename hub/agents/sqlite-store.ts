// The registry in SQLite (better-sqlite3 12): one file shared by the CLI and a running hub. WAL mode (readers never
// wait for a writer), a busy timeout for two writers at once, every write one IMMEDIATE transaction (a
// read-modify-write cannot interleave with another process's), synchronous=FULL (an enrollment survives a power
// cut). Another process's commit is seen through `PRAGMA data_version`, polled by `watch`; what changed is read
// from the `changes` log. The schema carries its version; MIGRATIONS bring an older file forward at open.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { inventorySchema, type Inventory } from '../../protocol/index.ts';
import { HubError, errorCode, errorMessage } from '../errors.ts';
import type { AgentRecord, FleetRecord, InventoryRecord, RegistryChange, RegistryStore, SiteRecord } from './registry-store.ts';

/** Each entry brings the schema from version i to i + 1. Append only: never edit a shipped one. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sites (
     slug TEXT PRIMARY KEY, name TEXT NOT NULL, code TEXT NOT NULL, province TEXT NOT NULL, province_name TEXT NOT NULL,
     area TEXT NOT NULL, area_name TEXT NOT NULL, lat REAL, lon REAL);
   CREATE TABLE agents (
     site TEXT NOT NULL REFERENCES sites(slug), agent TEXT NOT NULL, token_hash TEXT NOT NULL, created_at TEXT NOT NULL,
     token_rev INTEGER NOT NULL DEFAULT 1, rotated_at TEXT, revoked_at TEXT, PRIMARY KEY (site, agent));
   CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, site TEXT NOT NULL, agent TEXT NOT NULL);`,
  `CREATE TABLE reports (
     site TEXT NOT NULL, agent TEXT NOT NULL, version TEXT, config_rev TEXT, reported_at INTEGER, last_seen INTEGER, connected INTEGER, inventory TEXT,
     PRIMARY KEY (site, agent));`,
  // Release bundles and their rollouts in waves (hub/agents/release-store.ts).
  `CREATE TABLE releases (
     version TEXT PRIMARY KEY, archive TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, manifest TEXT NOT NULL, signature TEXT NOT NULL,
     added_at INTEGER NOT NULL, added_by TEXT NOT NULL);
   CREATE TABLE rollouts (
     id INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL REFERENCES releases(version), state TEXT NOT NULL, canary TEXT NOT NULL,
     percent INTEGER NOT NULL, max_failures INTEGER NOT NULL, wave INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
     updated_at INTEGER NOT NULL, reason TEXT);
   CREATE TABLE rollout_agents (
     rollout_id INTEGER NOT NULL REFERENCES rollouts(id), site TEXT NOT NULL, agent TEXT NOT NULL, wave INTEGER NOT NULL, state TEXT NOT NULL,
     detail TEXT, sent_at INTEGER, done_at INTEGER, PRIMARY KEY (rollout_id, site, agent));`,
  // Remote configuration (config-store.ts): revisions of templates by scope, each agent's rendered config per
  // revision, the revision each agent should run, and what happened to it (delivered, applied, refused, rolled back).
  `CREATE TABLE config_revisions (
     rev INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, target TEXT NOT NULL, template TEXT NOT NULL,
     who TEXT NOT NULL, at TEXT NOT NULL, comment TEXT, rollback_of INTEGER);
   CREATE TABLE config_rendered (
     rev INTEGER NOT NULL REFERENCES config_revisions(rev), site TEXT NOT NULL, agent TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (rev, site, agent));
   CREATE TABLE config_desired (site TEXT NOT NULL, agent TEXT NOT NULL, rev INTEGER NOT NULL REFERENCES config_revisions(rev), PRIMARY KEY (site, agent));
   CREATE TABLE config_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, site TEXT NOT NULL, agent TEXT NOT NULL, rev INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT);
   CREATE INDEX config_events_agent ON config_events (site, agent, seq);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface SqliteStoreOptions {
  /** Longest wait for another process's write transaction (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Migrate only up to this version (tests of the migrations). */
  targetVersion?: number;
}

/** A row of the `sites` table. */
export interface SiteRow {
  slug: string;
  name: string;
  code: string;
  province: string;
  province_name: string;
  area: string;
  area_name: string;
  lat: number | null;
  lon: number | null;
}

interface AgentRow {
  site: string;
  agent: string;
  token_hash: string;
  created_at: string;
  token_rev: number;
  rotated_at: string | null;
  revoked_at: string | null;
}

interface ReportRow {
  site: string;
  agent: string;
  version: string | null;
  config_rev: string | null;
  reported_at: number | null;
  last_seen: number | null;
  connected: number | null;
  inventory: string | null;
}

export class SqliteRegistryStore implements RegistryStore {
  writes = 0;
  private closed = false;
  private getAgentStmt: Database.Statement | undefined;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  get location(): string {
    return `sqlite:${this.path}`;
  }

  /** Opens (or creates, mode 0600: it holds the token hashes) the database and migrates it to SCHEMA_VERSION. */
  static open(path: string, opts: SqliteStoreOptions = {}): SqliteRegistryStore {
    let db: Database.Database;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      closeSync(openSync(path, 'a', 0o600)); // SQLite gives its -wal and -shm files the database's mode
      db = new Database(path, { timeout: opts.busyTimeoutMs ?? 5000 });
    } catch (err: unknown) {
      throw new HubError('E_REGISTRY_IO', `cannot open the registry database ${path}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db, path, opts.targetVersion ?? SCHEMA_VERSION);
    } catch (err: unknown) {
      db.close();
      if (err instanceof HubError) throw err;
      throw new HubError('E_REGISTRY_CORRUPT', `registry database ${path}: ${errorMessage(err)}`, { cause: err });
    }
    return new SqliteRegistryStore(path, db);
  }

  /** The schema version of the file (the `schema_version` row). */
  schemaVersion(): number {
    return readVersion(this.db);
  }

  /** Runs a method's body: its throw becomes the promise's rejection, with a code (the interface is async). */
  private attempt<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err: unknown) {
      if (err instanceof HubError) return Promise.reject(err);
      return Promise.reject(new HubError('E_REGISTRY_IO', `registry database ${this.path}: ${errorMessage(err)}`, { cause: err }));
    }
  }

  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err: unknown) {
      if (err instanceof HubError) throw err;
      if (errorCode(err) === 'SQLITE_BUSY') throw new HubError('E_REGISTRY_LOCKED', `the registry database ${this.path} stayed locked by another process's write`, { cause: err });
      throw new HubError('E_REGISTRY_IO', `cannot write the registry database ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
  }

  private logChange(kind: RegistryChange['kind'], site: string, agent: string): void {
    this.db.prepare('INSERT INTO changes (at, kind, site, agent) VALUES (?, ?, ?, ?)').run(new Date().toISOString(), kind, site, agent);
  }

  loadAll(): Promise<{ sites: SiteRecord[]; agents: AgentRecord[]; changeSeq: number }> {
    return this.attempt(() => {
      const read = this.db.transaction(() => ({
        sites: this.readSites(),
        agents: (this.db.prepare('SELECT * FROM agents WHERE revoked_at IS NULL ORDER BY site, agent').all() as AgentRow[]).map(toAgent),
        changeSeq: this.lastSeq(),
      }));
      return read();
    });
  }

  private lastSeq(): number {
    const row = this.db.prepare('SELECT max(seq) AS seq FROM changes').get() as { seq: number | null };
    return row.seq ?? 0;
  }

  private readSites(): SiteRecord[] {
    return (this.db.prepare('SELECT * FROM sites ORDER BY slug').all() as SiteRow[]).map(toSite);
  }

  getAgent(site: string, agent: string): Promise<AgentRecord | undefined> {
    return this.attempt(() => {
      // Every CONNECT runs this: prepared once.
      this.getAgentStmt ??= this.db.prepare('SELECT * FROM agents WHERE site = ? AND agent = ? AND revoked_at IS NULL');
      const row = this.getAgentStmt.get(site, agent) as AgentRow | undefined;
      return row === undefined ? undefined : toAgent(row);
    });
  }

  listSites(): Promise<SiteRecord[]> {
    return this.attempt(() => {
      return this.readSites();
    });
  }

  updateSites(compute: (current: readonly SiteRecord[]) => readonly SiteRecord[]): Promise<void> {
    return this.attempt(() => {
      const upsert = this.db.prepare(
        `INSERT INTO sites (slug, name, code, province, province_name, area, area_name, lat, lon) VALUES (@slug, @name, @code, @province, @provinceName, @area, @areaName, @lat, @lon)
         ON CONFLICT (slug) DO UPDATE SET name = excluded.name, code = excluded.code, province = excluded.province, province_name = excluded.province_name,
           area = excluded.area, area_name = excluded.area_name, lat = excluded.lat, lon = excluded.lon`,
      );
      this.write(() => {
        const changed = compute(this.readSites());
        for (const s of changed) upsert.run({ ...s, lat: s.lat ?? null, lon: s.lon ?? null });
        if (changed.length > 0) this.logChange('sites', '', '');
      });
      this.writes++;
      return undefined;
    });
  }

  putAgents(records: readonly AgentRecord[]): Promise<{ site: string; agent: string; kind: 'enroll' | 'rotate' }[]> {
    return this.attempt(() => {
      const find = this.db.prepare('SELECT token_rev, revoked_at FROM agents WHERE site = ? AND agent = ?');
      const siteExists = this.db.prepare('SELECT 1 FROM sites WHERE slug = ?');
      const insert = this.db.prepare('INSERT INTO agents (site, agent, token_hash, created_at, token_rev) VALUES (?, ?, ?, ?, 1)');
      const rotate = this.db.prepare('UPDATE agents SET token_hash = ?, token_rev = token_rev + 1, rotated_at = ?, revoked_at = NULL WHERE site = ? AND agent = ?');
      const done = this.write(() => {
        const out: { site: string; agent: string; kind: 'enroll' | 'rotate' }[] = [];
        for (const r of records) {
          if (siteExists.get(r.site) === undefined) throw new HubError('E_UNKNOWN_SITE', `unknown site ${JSON.stringify(r.site)}: import or add it first`);
          const existing = find.get(r.site, r.agent) as { token_rev: number; revoked_at: string | null } | undefined;
          // A revoked agent enrolled again is a new enrollment (with a higher revision: its old connections stay closed).
          const kind = existing === undefined || existing.revoked_at !== null ? 'enroll' : 'rotate';
          if (existing === undefined) insert.run(r.site, r.agent, r.tokenHash, r.createdAt);
          else rotate.run(r.tokenHash, r.rotatedAt ?? r.createdAt, r.site, r.agent);
          this.logChange(kind, r.site, r.agent);
          out.push({ site: r.site, agent: r.agent, kind });
        }
        return out;
      });
      this.writes++;
      return done;
    });
  }

  importRecords(sites: readonly SiteRecord[], agents: readonly AgentRecord[]): Promise<{ sitesAdded: number; agentsAdded: number; agentsKept: number }> {
    return this.attempt(() => {
      const site = this.db.prepare(
        'INSERT INTO sites (slug, name, code, province, province_name, area, area_name, lat, lon) VALUES (@slug, @name, @code, @province, @provinceName, @area, @areaName, @lat, @lon) ON CONFLICT (slug) DO NOTHING',
      );
      const agent = this.db.prepare('INSERT INTO agents (site, agent, token_hash, created_at, token_rev) VALUES (?, ?, ?, ?, 1) ON CONFLICT (site, agent) DO NOTHING');
      const result = this.write(() => {
        let sitesAdded = 0;
        let agentsAdded = 0;
        for (const s of sites) sitesAdded += site.run({ ...s, lat: s.lat ?? null, lon: s.lon ?? null }).changes;
        for (const a of agents) {
          const added = agent.run(a.site, a.agent, a.tokenHash, a.createdAt).changes;
          agentsAdded += added;
          if (added > 0) this.logChange('enroll', a.site, a.agent);
        }
        if (sitesAdded > 0) this.logChange('sites', '', '');
        return { sitesAdded, agentsAdded, agentsKept: agents.length - agentsAdded };
      });
      this.writes++;
      return result;
    });
  }

  revokeAgent(site: string, agent: string, at: string): Promise<boolean> {
    return this.attempt(() => {
      const revoked = this.write(() => {
        const r = this.db.prepare('UPDATE agents SET revoked_at = ? WHERE site = ? AND agent = ? AND revoked_at IS NULL').run(at, site, agent);
        if (r.changes === 0) return false;
        this.logChange('revoke', site, agent);
        return true;
      });
      if (revoked) this.writes++;
      return revoked;
    });
  }

  replaceTokens(updates: readonly { site: string; agent: string; from: string; to: string }[]): Promise<number> {
    return this.attempt(() => {
      if (updates.length === 0) return 0;
      const update = this.db.prepare('UPDATE agents SET token_hash = ? WHERE site = ? AND agent = ? AND token_hash = ? AND revoked_at IS NULL');
      const n = this.write(() => updates.reduce((sum, u) => sum + update.run(u.to, u.site, u.agent, u.from).changes, 0));
      this.writes++;
      return n;
    });
  }

  changesSince(seq: number): Promise<RegistryChange[]> {
    return this.attempt(() => {
      const rows = this.db.prepare('SELECT seq, kind, site, agent FROM changes WHERE seq > ? ORDER BY seq').all(seq) as RegistryChange[];
      return rows;
    });
  }

  watch(onChange: () => void, intervalMs: number): () => void {
    return watchDataVersion(this.db, () => this.closed, onChange, intervalMs);
  }

  putReports(reports: readonly InventoryRecord[]): Promise<void> {
    return this.attempt(() => {
      if (reports.length === 0) return undefined;
      const upsert = this.db.prepare(
        `INSERT INTO reports (site, agent, version, config_rev, reported_at, last_seen, connected, inventory) VALUES (@site, @agent, @version, @configRev, @reportedAt, @lastSeen, @connected, @inventory)
         ON CONFLICT (site, agent) DO UPDATE SET version = coalesce(excluded.version, version), config_rev = coalesce(excluded.config_rev, config_rev),
           reported_at = coalesce(excluded.reported_at, reported_at), last_seen = max(coalesce(excluded.last_seen, 0), coalesce(last_seen, 0)),
           connected = coalesce(excluded.connected, connected), inventory = coalesce(excluded.inventory, inventory)`,
      );
      this.write(() => {
        for (const r of reports) {
          upsert.run({
            site: r.site,
            agent: r.agent,
            version: r.version ?? null,
            configRev: r.configRev ?? null,
            reportedAt: r.reportedAt ?? null,
            lastSeen: r.lastSeen ?? null,
            connected: r.connected === undefined ? null : Number(r.connected),
            inventory: r.inventory === undefined ? null : JSON.stringify(r.inventory),
          });
        }
      });
      this.writes++;
      return undefined;
    });
  }

  listFleet(): Promise<FleetRecord[]> {
    return this.attempt(() => {
      const rows = this.db
        .prepare(
          `SELECT a.site, a.agent, a.created_at, a.token_rev, a.rotated_at, a.revoked_at, r.version, r.config_rev, r.reported_at, r.last_seen, r.connected, r.inventory,
             r.site AS report_site
           FROM agents a LEFT JOIN reports r ON r.site = a.site AND r.agent = a.agent ORDER BY a.site, a.agent`,
        )
        .all() as (Omit<AgentRow, 'token_hash'> & Omit<ReportRow, 'site' | 'agent'> & { report_site: string | null })[];
      return rows.map((r) => ({
          site: r.site,
          agent: r.agent,
          createdAt: r.created_at,
          tokenRev: r.token_rev,
          ...(r.rotated_at === null ? {} : { rotatedAt: r.rotated_at }),
          ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
          report: r.report_site === null ? undefined : toReport({ ...r, site: r.site, agent: r.agent }),
        }));
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }
}

function migrate(db: Database.Database, path: string, target: number): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, migrated_at TEXT NOT NULL)');
  db.transaction(() => {
    const from = readVersion(db);
    if (from > SCHEMA_VERSION) {
      throw new HubError('E_REGISTRY_VERSION', `registry database ${path} has schema version ${from}, newer than this hub's ${SCHEMA_VERSION}: run the newer hub, or restore the backup`);
    }
    for (let v = from; v < target; v++) db.exec(MIGRATIONS[v] ?? '');
    if (target > from) db.prepare('INSERT INTO schema_version (id, version, migrated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, migrated_at = excluded.migrated_at').run(target, new Date().toISOString());
  }).immediate();
}

function readVersion(db: Database.Database): number {
  const row = db.prepare('SELECT version FROM schema_version WHERE id = 1').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

function toSite(r: SiteRow): SiteRecord {
  return {
    slug: r.slug,
    name: r.name,
    code: r.code,
    province: r.province,
    provinceName: r.province_name,
    area: r.area,
    areaName: r.area_name,
    ...(r.lat === null || r.lon === null ? {} : { lat: r.lat, lon: r.lon }),
  };
}

function toAgent(r: AgentRow): AgentRecord {
  return { site: r.site, agent: r.agent, tokenHash: r.token_hash, createdAt: r.created_at, tokenRev: r.token_rev, ...(r.rotated_at === null ? {} : { rotatedAt: r.rotated_at }) };
}

function toReport(r: ReportRow): InventoryRecord {
  let inventory: Inventory | undefined;
  if (r.inventory !== null) {
    try {
      const parsed = inventorySchema.safeParse(JSON.parse(r.inventory));
      if (parsed.success) inventory = parsed.data;
    } catch {
      // a damaged row shows without its inventory
    }
  }
  return {
    site: r.site,
    agent: r.agent,
    ...(r.version === null ? {} : { version: r.version }),
    ...(r.config_rev === null ? {} : { configRev: r.config_rev }),
    ...(r.reported_at === null ? {} : { reportedAt: r.reported_at }),
    ...(r.last_seen === null ? {} : { lastSeen: r.last_seen }),
    ...(r.connected === null ? {} : { connected: r.connected === 1 }),
    ...(inventory === undefined ? {} : { inventory }),
  };
}

/**
 * Calls `onChange` when another connection committed to `db` (its `PRAGMA data_version` moved), polled every
 * `intervalMs` until the returned stop is called or `closed()` says the connection is gone.
 */
export function watchDataVersion(db: Database.Database, closed: () => boolean, onChange: () => void, intervalMs: number): () => void {
  const version = db.prepare('PRAGMA data_version').pluck();
  let last = version.get() as number;
  const timer = setInterval(() => {
    if (closed()) return;
    const now = version.get() as number;
    if (now === last) return;
    last = now;
    onChange();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
