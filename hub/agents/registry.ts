// Registry of sites, enrolled agents and their last reports, in a database shared by the CLI and a running hub
// (registry-store.ts: the interface; sqlite-store.ts: SQLite, the one built). Every write is one transaction in
// the store, so neither process loses the other's changes; the hub follows the store's change log (`watch`) and
// applies another process's enroll, rotate and revoke within a poll interval. The registry.json of earlier hubs is
// imported on the first open beside it and kept as the backup.
import { z } from 'zod';
import { describeIssues, isSiteSlug, isSlug, type Inventory, type Status } from '../../protocol/index.ts';
import { HubError, errorMessage } from '../errors.ts';
import { DEFAULT_SCRYPT, decoyHash, decoyHmac, generateToken, hmacToken, isScryptHash, verifyHmacToken, verifyToken, type ScryptParams } from './token.ts';
import { defaultHubSecretPath, loadOrCreateHubSecret } from './hub-secret.ts';
import { describeProvinces, provincesOf, readCommunesCsv, selectProvince, type CommuneFormat, type CommuneSite } from './communes-csv.ts';
import { readRegistryJson, siteSchema } from './registry-json.ts';
import type { AgentRecord, FleetRecord, InventoryRecord, RegistryStore, SiteRecord } from './registry-store.ts';
import { SqliteRegistryStore } from './sqlite-store.ts';

export { siteSchema } from './registry-json.ts';
export type Site = z.infer<typeof siteSchema>;
export type { AgentRecord, FleetRecord, InventoryRecord } from './registry-store.ts';
export type AgentInfo = Pick<AgentRecord, 'site' | 'agent' | 'createdAt'>;

export interface EnrolledAgent {
  site: string;
  agent: string;
  /** Shown once; only its hash is kept. */
  token: string;
}

export interface ImportResult {
  added: number;
  updated: number;
  total: number;
  format: CommuneFormat;
  /** Codes of the provinces imported. */
  provinces: string[];
}

export interface ImportOptions {
  /** Import only this province's rows: its code (`25`) or name (`Phú Thọ`, `Tỉnh Phú Thọ`, `phu tho`). */
  province?: string | undefined;
  /** Import every province of a file that has several (otherwise refused: a hub serves one province). */
  allProvinces?: boolean | undefined;
}

export interface JsonImportResult {
  file: string;
  sitesAdded: number;
  agentsAdded: number;
  /** Agents of the file already in the database: their records there are kept. */
  agentsKept: number;
}

export interface RegistryOptions {
  /** Parameters of the decoy check while the registry still holds scrypt records without any to copy (tests). */
  scrypt?: ScryptParams;
  /** The key of the token HMACs; default: read (or created) at `secretPath`. */
  secret?: Buffer;
  /** Default: `hub-secret` beside the registry file. */
  secretPath?: string;
  /** scrypt records verified in this window are migrated to HMAC with one write (default 1000 ms). */
  migrationFlushMs?: number;
  /** Agents' reports (inventory, last seen) are written together at most this often (default 1000 ms). */
  reportFlushMs?: number;
  /** Longest wait for another process's write (SQLite busy timeout, default 5000 ms). */
  busyTimeoutMs?: number;
  /** Another store than the SQLite file beside `path` (a server database). */
  store?: RegistryStore;
}

/** Another process changed an agent: its record now (`tokenRev` undefined: revoked, or never enrolled). */
export interface AgentChange {
  site: string;
  agent: string;
  kind: 'enroll' | 'rotate' | 'revoke';
  tokenRev: number | undefined;
}

/** The database file of a configured registry path: `registry.json` → `registry.db` beside it; any other name is the database. */
export function registryDbPath(path: string): string {
  return path.endsWith('.json') ? `${path.slice(0, -'.json'.length)}.db` : path;
}

/** The registry.json of earlier hubs a configured path names, imported on the first open (undefined: none). */
export function legacyJsonPath(path: string): string | undefined {
  return path.endsWith('.json') ? path : undefined;
}

export class Registry {
  private readonly sites = new Map<string, Site>();
  private readonly agents = new Map<string, AgentRecord>();
  /** Agents migrated from scrypt to HMAC and not yet written: identity → the record replaced and its replacement. */
  private readonly migrations = new Map<string, { from: string; to: string }>();
  private migrationTimer: NodeJS.Timeout | undefined;
  private scryptRecords = 0;
  /** The token revision each agent last authenticated with (in this process): a live connection of an older one is closed. */
  private readonly verifiedRevs = new Map<string, number>();
  private readonly pendingReports = new Map<string, InventoryRecord>();
  private reportTimer: NodeJS.Timeout | undefined;
  private changeSeq = 0;
  private stopWatch: (() => void) | undefined;
  private applying: Promise<void> = Promise.resolve();
  private readonly changeListeners: ((change: AgentChange) => void)[] = [];
  private writesAtOpen = 0;
  /** Batched migration writes that failed (ioc_hub_registry_migration_write_errors_total). */
  migrationWriteErrors = 0;
  /** Batched report writes that failed (ioc_hub_registry_report_write_errors_total). */
  reportWriteErrors = 0;
  /** Times another process's changes were read and applied (ioc_hub_registry_reloads_total). */
  reloads = 0;
  /** Agent changes applied from another process, or from this one's API (`syncNow`): enroll, rotate, revoke. */
  changesApplied = 0;
  /** Change-log reads that failed (retried at the next poll). */
  reloadErrors = 0;

  private constructor(
    readonly path: string,
    readonly store: RegistryStore,
    private readonly secret: Buffer,
    private readonly opts: { scrypt: ScryptParams; migrationFlushMs: number; reportFlushMs: number },
  ) {}

  /**
   * Opens the registry at `path` (registryDbPath: `registry.json` means `registry.db` beside it); a new database is
   * an empty registry, into which the registry.json of an earlier hub is imported when it exists. Reads or creates
   * the hub secret.
   */
  static async open(path: string, opts: RegistryOptions = {}): Promise<Registry> {
    const secret = opts.secret ?? (await loadOrCreateHubSecret(opts.secretPath ?? defaultHubSecretPath(path)));
    const store = opts.store ?? SqliteRegistryStore.open(registryDbPath(path), opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs });
    const reg = new Registry(path, store, secret, { scrypt: opts.scrypt ?? DEFAULT_SCRYPT, migrationFlushMs: opts.migrationFlushMs ?? 1000, reportFlushMs: opts.reportFlushMs ?? 1000 });
    try {
      await reg.load();
      const legacy = legacyJsonPath(path);
      if (legacy !== undefined && reg.sites.size === 0 && reg.agents.size === 0) {
        const file = await readRegistryJson(legacy);
        if (file !== undefined && (file.sites.length > 0 || file.agents.length > 0)) await reg.importRecords(legacy, file);
      }
    } catch (err: unknown) {
      await store.close();
      throw err;
    }
    reg.writesAtOpen = store.writes;
    return reg;
  }

  private async load(): Promise<void> {
    const all = await this.store.loadAll();
    this.sites.clear();
    this.agents.clear();
    this.scryptRecords = 0;
    for (const site of all.sites) this.sites.set(site.slug, site);
    for (const agent of all.agents) this.setAgent(agent);
    this.changeSeq = all.changeSeq;
  }

  /** Imports a registry.json of an earlier hub: what the database lacks is added, what it has is kept. */
  async importJson(file: string): Promise<JsonImportResult> {
    const doc = await readRegistryJson(file);
    if (doc === undefined) throw new HubError('E_REGISTRY_IO', `cannot read registry ${file}: no such file`);
    return this.importRecords(file, doc);
  }

  private async importRecords(file: string, doc: { sites: SiteRecord[]; agents: AgentRecord[] }): Promise<JsonImportResult> {
    const r = await this.store.importRecords(doc.sites, doc.agents);
    await this.load();
    return { file, ...r };
  }

  /** Agents whose stored record is still scrypt (migrated on their next successful connect). */
  get scryptRecordCount(): number {
    return this.scryptRecords;
  }

  /** Migrations verified but not yet written. */
  get pendingMigrations(): number {
    return this.migrations.size;
  }

  /** Writes of the database by this registry since it was opened (transactions, each of many rows). */
  get writes(): number {
    return this.store.writes - this.writesAtOpen;
  }

  private setAgent(rec: AgentRecord): void {
    const key = agentKey(rec.site, rec.agent);
    this.dropAgent(key);
    if (isScryptHash(rec.tokenHash)) this.scryptRecords++;
    this.agents.set(key, rec);
  }

  private dropAgent(key: string): void {
    const old = this.agents.get(key);
    if (old !== undefined && isScryptHash(old.tokenHash)) this.scryptRecords--;
    this.agents.delete(key);
  }

  /**
   * Follows the writes of other processes (the CLI): every `intervalMs` the store is asked whether anything changed,
   * and the change log is applied — sites reloaded, agents re-read and each change passed to `onAgentChange`.
   */
  watch(intervalMs: number): void {
    if (this.stopWatch !== undefined) return;
    this.stopWatch = this.store.watch(() => {
      this.applying = this.applying.then(async () => void (await this.applyChanges())).catch(() => {
        this.reloadErrors++;
      });
    }, intervalMs);
  }

  /** Reads the change log since the last change applied; exposed for tests and for a store without `watch`. */
  async applyChanges(): Promise<number> {
    const changes = await this.store.changesSince(this.changeSeq);
    if (changes.length === 0) return 0;
    this.reloads++;
    const agents = new Map<string, AgentChange['kind']>();
    let sites = false;
    for (const c of changes) {
      if (c.kind === 'sites') sites = true;
      else agents.set(agentKey(c.site, c.agent), c.kind);
    }
    if (sites) {
      const list = await this.store.listSites();
      this.sites.clear();
      for (const s of list) this.sites.set(s.slug, s);
    }
    const applied: AgentChange[] = [];
    for (const [key, kind] of agents) {
      const [site = '', agent = ''] = key.split('/');
      const rec = await this.store.getAgent(site, agent);
      if (rec === undefined) this.dropAgent(key);
      else this.setAgent(rec);
      if (rec === undefined || rec.tokenHash !== this.migrations.get(key)?.from) this.migrations.delete(key);
      applied.push({ site, agent, kind, tokenRev: rec?.tokenRev });
    }
    this.changeSeq = changes.at(-1)?.seq ?? this.changeSeq;
    this.changesApplied += applied.length;
    for (const change of applied) for (const listener of this.changeListeners) listener(change);
    return changes.length;
  }

  /**
   * Applies the change log now, after this process's own enroll, rotate or revoke (the API): its commit does not
   * move this connection's `PRAGMA data_version`, so `watch` would not see it until another process wrote. The
   * change listeners (fleet-sync) then close a revoked or rotated agent's live connection at once. Queued behind a
   * poll already applying, so no change is passed on twice.
   */
  syncNow(): Promise<number> {
    const run = this.applying.then(() => this.applyChanges());
    this.applying = run.then(
      () => undefined,
      () => {
        this.reloadErrors++;
      },
    );
    return run;
  }

  /** Called with each agent change another process made, once applied (watch). */
  onAgentChange(listener: (change: AgentChange) => void): void {
    this.changeListeners.push(listener);
  }

  /** The token revision the agent last authenticated with here; undefined: none since start. */
  verifiedRev(site: string, agent: string): number | undefined {
    return this.verifiedRevs.get(agentKey(site, agent));
  }

  /** Writes the migrations and reports still pending (the hub's stop) and closes the store. */
  async close(): Promise<void> {
    this.stopWatch?.();
    this.stopWatch = undefined;
    await this.applying;
    if (this.migrationTimer !== undefined) clearTimeout(this.migrationTimer);
    this.migrationTimer = undefined;
    if (this.reportTimer !== undefined) clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    try {
      await this.flushMigrations();
      await this.flushReports();
    } finally {
      await this.store.close();
    }
  }

  listSites(): Site[] {
    return [...this.sites.values()].sort((a, b) => a.slug.localeCompare(b.slug));
  }

  getSite(slug: string): Site | undefined {
    return this.sites.get(slug);
  }

  listAgents(): AgentInfo[] {
    return [...this.agents.values()]
      .map(({ site, agent, createdAt }) => ({ site, agent, createdAt }))
      .sort((a, b) => agentKey(a.site, a.agent).localeCompare(agentKey(b.site, b.agent)));
  }

  getAgent(site: string, agent: string): AgentInfo | undefined {
    const rec = this.agents.get(agentKey(site, agent));
    return rec === undefined ? undefined : { site: rec.site, agent: rec.agent, createdAt: rec.createdAt };
  }

  async upsertSite(site: Site): Promise<void> {
    const parsed = siteSchema.safeParse(site);
    if (!parsed.success) throw new HubError('E_BAD_SLUG', `invalid site: ${describeIssues(parsed.error.issues)}`, { cause: parsed.error });
    await this.store.updateSites(() => [parsed.data]);
    this.sites.set(parsed.data.slug, parsed.data);
  }

  /** Creates the agent or rotates its token; returns the token (the only time it is visible). */
  async enroll(site: string, agent: string): Promise<EnrolledAgent> {
    const [enrolled] = await this.enrollMany([{ site, agent }]);
    if (enrolled === undefined) throw new HubError('E_REGISTRY_IO', 'enrollment produced no token');
    return enrolled;
  }

  /** Enrolls several agents in one transaction. */
  async enrollMany(list: readonly { site: string; agent: string }[]): Promise<EnrolledAgent[]> {
    for (const { site, agent } of list) this.checkEnrollable(site, agent);
    const now = new Date().toISOString();
    const out = list.map(({ site, agent }) => ({ site, agent, token: generateToken() }));
    await this.store.putAgents(out.map(({ site, agent, token }) => ({ site, agent, tokenHash: hmacToken(token, this.secret), createdAt: now, rotatedAt: now })));
    for (const { site, agent } of out) {
      const key = agentKey(site, agent);
      this.migrations.delete(key); // a new token: nothing of the old record to migrate
      const rec = await this.store.getAgent(site, agent);
      if (rec === undefined) this.dropAgent(key);
      else this.setAgent(rec);
    }
    return out;
  }

  /** A new token for an enrolled agent: the old one is refused from now on (E_UNKNOWN_AGENT if it is not enrolled). */
  async rotate(site: string, agent: string): Promise<EnrolledAgent> {
    if ((await this.store.getAgent(site, agent)) === undefined) throw new HubError('E_UNKNOWN_AGENT', `${site}/${agent} is not enrolled: enroll it instead`);
    return this.enroll(site, agent);
  }

  /** Revokes the agent: its token is refused from now on, and a running hub closes its connection. */
  async revoke(site: string, agent: string): Promise<void> {
    const key = agentKey(site, agent);
    if (!(await this.store.revokeAgent(site, agent, new Date().toISOString()))) throw new HubError('E_UNKNOWN_AGENT', `${key} is not enrolled (or already revoked)`);
    this.dropAgent(key);
    this.migrations.delete(key);
  }

  private checkEnrollable(site: string, agent: string): void {
    if (!isSlug(agent)) throw new HubError('E_BAD_SLUG', `invalid agent slug ${JSON.stringify(agent)}: 1-64 of a-z, 0-9, -`);
    if (!this.sites.has(site)) throw new HubError('E_UNKNOWN_SITE', `unknown site ${JSON.stringify(site)}: import or add it first`);
  }

  /**
   * True when the token belongs to the agent: one HMAC-SHA-256, compared in constant time, against the record as
   * the store holds it now (a rotation or revocation by another process counts from its commit). A record still in
   * scrypt form costs one scrypt and, once verified, is migrated to HMAC (written within `migrationFlushMs`, many
   * agents in one write). A refusal costs what any other refusal costs, for an unknown identity too (a decoy
   * record), so its time does not tell which identities exist; while scrypt records remain, every refusal also runs
   * one scrypt.
   */
  async verify(site: string, agent: string, token: string): Promise<boolean> {
    if (token.length === 0 || token.length > 1024) return false;
    const identity = agentKey(site, agent);
    const rec = await this.currentRecord(site, agent);
    if (rec !== undefined && isScryptHash(rec.tokenHash)) {
      if (!(await verifyToken(token, rec.tokenHash))) return false;
      this.migrate(identity, rec, token);
      this.verifiedRevs.set(identity, rec.tokenRev ?? 1);
      return true;
    }
    const ok = verifyHmacToken(token, rec?.tokenHash ?? this.decoyHmac, this.secret) && rec !== undefined;
    if (ok) this.verifiedRevs.set(identity, rec.tokenRev ?? 1);
    if (!ok && this.scryptRecords > 0) await verifyToken(token, this.decoy());
    return ok;
  }

  /** The store's record (this process's memory if the store cannot answer), with a pending migration applied. */
  private async currentRecord(site: string, agent: string): Promise<AgentRecord | undefined> {
    const key = agentKey(site, agent);
    let rec: AgentRecord | undefined;
    try {
      rec = await this.store.getAgent(site, agent);
    } catch {
      this.reloadErrors++;
      return this.agents.get(key);
    }
    const pending = this.migrations.get(key);
    if (rec !== undefined && pending !== undefined && rec.tokenHash === pending.from) return { ...rec, tokenHash: pending.to };
    if (pending !== undefined) this.migrations.delete(key); // rotated or revoked meanwhile
    const mine = this.agents.get(key);
    if (rec === undefined) this.dropAgent(key);
    else if (mine?.tokenHash !== rec.tokenHash || mine.tokenRev !== rec.tokenRev) this.setAgent(rec);
    return rec;
  }

  private readonly decoyHmac = decoyHmac();
  private decoyHash: string | undefined;

  /** Made once, with the parameters of a scrypt record (they cost what a real check costs). */
  private decoy(): string {
    const like = [...this.agents.values()].find((a) => isScryptHash(a.tokenHash))?.tokenHash;
    this.decoyHash ??= decoyHash(like ?? `scrypt$${this.opts.scrypt.N}$${this.opts.scrypt.r}$${this.opts.scrypt.p}$x$x`);
    return this.decoyHash;
  }

  private migrate(identity: string, rec: AgentRecord, token: string): void {
    const to = hmacToken(token, this.secret);
    if (!this.migrations.has(identity)) this.migrations.set(identity, { from: rec.tokenHash, to });
    this.setAgent({ ...rec, tokenHash: to });
    this.migrationTimer ??= setTimeout(() => {
      this.migrationTimer = undefined;
      // On failure they stay pending: written at the next flush or at close, or migrated again after a restart.
      this.flushMigrations().catch(() => {
        this.migrationWriteErrors++;
      });
    }, this.opts.migrationFlushMs);
    this.migrationTimer.unref();
  }

  /** One conditional write for every pending migration: a record rotated meanwhile is left as the rotation made it. */
  private async flushMigrations(): Promise<void> {
    if (this.migrations.size === 0) return;
    const batch = [...this.migrations].map(([key, m]) => {
      const [site = '', agent = ''] = key.split('/');
      return { site, agent, ...m };
    });
    await this.store.replaceTokens(batch);
    for (const b of batch) if (this.migrations.get(agentKey(b.site, b.agent))?.from === b.from) this.migrations.delete(agentKey(b.site, b.agent));
  }

  /**
   * An agent's status: with `online`, its version, config revision and inventory; always its last seen. Kept in
   * memory and written with the others within `reportFlushMs` (one transaction for a reconnect storm).
   */
  noteStatus(site: string, agent: string, status: Pick<Status, 'online' | 'version' | 'configRev'> & { inventory?: Inventory | undefined }, at: number): void {
    if (status.online) this.noteReport({ site, agent, version: status.version, configRev: String(status.configRev), reportedAt: at, lastSeen: at, ...(status.inventory === undefined ? {} : { inventory: status.inventory }) });
    else this.noteReport({ site, agent, lastSeen: at });
  }

  /** The agent was heard of at `at`; `connected`: a connection of it is open (or was just closed). */
  noteSeen(site: string, agent: string, at: number, connected?: boolean): void {
    this.noteReport({ site, agent, lastSeen: at, ...(connected === undefined ? {} : { connected }) });
  }

  private noteReport(r: InventoryRecord): void {
    const key = agentKey(r.site, r.agent);
    if (!this.agents.has(key)) return; // revoked meanwhile: nothing of it is kept
    const old = this.pendingReports.get(key);
    this.pendingReports.set(key, { ...old, ...r, lastSeen: Math.max(old?.lastSeen ?? 0, r.lastSeen ?? 0) });
    this.reportTimer ??= setTimeout(() => {
      this.reportTimer = undefined;
      this.flushReports().catch(() => {
        this.reportWriteErrors++;
      });
    }, this.opts.reportFlushMs);
    this.reportTimer.unref();
  }

  /** Reports not yet written. */
  get pendingReportCount(): number {
    return this.pendingReports.size;
  }

  private async flushReports(): Promise<void> {
    if (this.pendingReports.size === 0) return;
    const batch = [...this.pendingReports.values()];
    this.pendingReports.clear();
    try {
      await this.store.putReports(batch);
    } catch (err: unknown) {
      for (const r of batch) {
        const key = agentKey(r.site, r.agent);
        const newer = this.pendingReports.get(key);
        this.pendingReports.set(key, { ...r, ...newer, lastSeen: Math.max(r.lastSeen ?? 0, newer?.lastSeen ?? 0) });
      }
      throw new HubError('E_REGISTRY_IO', `cannot write agents' reports: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Every agent with its record and last report (pending ones of this process included), revoked ones too. */
  async listFleet(): Promise<FleetRecord[]> {
    const list = await this.store.listFleet();
    return list.map((f) => {
      const pending = this.pendingReports.get(agentKey(f.site, f.agent));
      if (pending === undefined) return f;
      const report = { ...f.report, ...pending, lastSeen: Math.max(f.report?.lastSeen ?? 0, pending.lastSeen ?? 0) };
      return { ...f, report };
    });
  }

  /**
   * Imports communes (see communes-csv.ts) as sites, in one transaction on the sites as the store holds them. An
   * existing site with the same code keeps its slug, its coordinates when the file has none, and its agents; sites
   * absent from the file are kept. New slugs that collide (with the registry or within the file) go to the lowest
   * code bare and get `-{code}` appended otherwise, so the result does not depend on row order.
   */
  async importCommunesCsv(path: string, opts: ImportOptions = {}): Promise<ImportResult> {
    const list = await readCommunesCsv(path);
    const rows = pickProvinces(list.rows, opts, path);
    let added = 0;
    let updated = 0;
    await this.store.updateSites((current) => {
      const sites = new Map(current.map((s) => [s.slug, s]));
      const byCode = new Map(current.filter((s) => s.code !== '').map((s) => [s.code, s]));
      const changed: Site[] = [];
      added = 0;
      updated = 0;
      const fresh: CommuneSite[] = [];
      for (const row of rows) {
        const existing = byCode.get(row.code);
        if (existing === undefined) {
          fresh.push(row);
          continue;
        }
        const site = toSite(row, existing.slug, existing);
        sites.set(site.slug, site);
        changed.push(site);
        updated++;
      }
      fresh.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
      for (const row of fresh) {
        const slug = freeSlug(sites, row.slug, row.code);
        const site = toSite(row, slug, undefined);
        sites.set(slug, site);
        changed.push(site);
        added++;
      }
      return changed;
    });
    const stored = await this.store.listSites();
    this.sites.clear();
    for (const s of stored) this.sites.set(s.slug, s);
    return { added, updated, total: this.sites.size, format: list.format, provinces: provincesOf(rows).map((p) => p.code) };
  }
}

function freeSlug(sites: ReadonlyMap<string, Site>, base: string, code: string): string {
  if (!sites.has(base) && isSiteSlug(base)) return base;
  const suffix = `-${code.toLowerCase().replace(/[^a-z0-9]+/g, '')}`;
  const slug = `${base.slice(0, 64 - suffix.length).replace(/-+$/, '')}${suffix}`;
  if (sites.has(slug) || !isSiteSlug(slug)) throw new HubError('E_BAD_SLUG', `cannot find a free slug for ${base} (code ${code})`);
  return slug;
}

function pickProvinces(rows: CommuneSite[], opts: ImportOptions, source: string): CommuneSite[] {
  if (opts.province !== undefined) return selectProvince(rows, opts.province, source);
  const provinces = provincesOf(rows);
  if (provinces.length > 1 && opts.allProvinces !== true) {
    throw new HubError(
      'E_SEVERAL_PROVINCES',
      `${source} has ${describeProvinces(provinces)}. A hub serves one province: choose it with --province CODE|NAME (e.g. --province ${provinces[0]?.code ?? '25'}), or pass --all-provinces to import all ${rows.length} communes`,
    );
  }
  return rows;
}

function toSite(row: CommuneSite, slug: string, existing: Site | undefined): Site {
  const coords = row.lat !== undefined && row.lon !== undefined ? { lat: row.lat, lon: row.lon } : existing?.lat !== undefined && existing.lon !== undefined ? { lat: existing.lat, lon: existing.lon } : {};
  return { slug, name: row.name, code: row.code, province: row.province, provinceName: row.provinceName, area: row.area, areaName: row.areaName, ...coords };
}

function agentKey(site: string, agent: string): string {
  return `${site}/${agent}`;
}
