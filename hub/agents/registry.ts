// Registry of sites and enrolled agents, kept in one JSON file replaced atomically on every change. Every write is
// a read-merge-write under a lock file (registry-lock.ts): this process's changes since it last read or wrote the
// file are applied onto the file as it is now, so the CLI and a running hub (which migrates token records) never
// lose each other's changes.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssues, isSiteSlug, isSlug, slugSchema } from '../../protocol/index.ts';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { HubError, errorCode, errorMessage } from '../errors.ts';
import { DEFAULT_SCRYPT, decoyHash, decoyHmac, generateToken, hmacToken, isHmacHash, isScryptHash, verifyHmacToken, verifyToken, type ScryptParams } from './token.ts';
import { defaultHubSecretPath, loadOrCreateHubSecret } from './hub-secret.ts';
import { withFileLock } from './registry-lock.ts';
import { describeProvinces, provincesOf, readCommunesCsv, selectProvince, type CommuneFormat, type CommuneSite } from './communes-csv.ts';

export const siteSchema = z.strictObject({
  slug: slugSchema.refine(isSiteSlug, 'reserved site slug'),
  name: z.string().min(1).max(256),
  code: z.string().max(32),
  province: slugSchema,
  provinceName: z.string().max(256),
  /** The district's slug; '' when the province groups communes directly (the 2025 list has no districts). */
  area: slugSchema.or(z.literal('')),
  areaName: z.string().max(256),
  /** Absent until the office's coordinates are known (the 2025 list has none): the wall lists it without a map marker. */
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
});
export type Site = z.infer<typeof siteSchema>;

const agentRecordSchema = z.strictObject({
  site: slugSchema,
  agent: slugSchema,
  /** `hmac-sha256:<hex>` (token.ts); `scrypt$…` in registries written before, migrated on the agent's next connect. */
  tokenHash: z.string().refine((h) => isHmacHash(h) || isScryptHash(h), 'a hmac-sha256: or scrypt$ token hash'),
  createdAt: z.string(),
});
export type AgentRecord = z.infer<typeof agentRecordSchema>;
export type AgentInfo = Omit<AgentRecord, 'tokenHash'>;

const registryFileSchema = z.strictObject({
  version: z.literal(1),
  sites: z.array(siteSchema),
  agents: z.array(agentRecordSchema),
});

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

export interface RegistryOptions {
  /** Parameters of the decoy check while the registry still holds scrypt records without any to copy (tests). */
  scrypt?: ScryptParams;
  /** The key of the token HMACs; default: read (or created) at `secretPath`. */
  secret?: Buffer;
  /** Default: `hub-secret` beside the registry file. */
  secretPath?: string;
  /** scrypt records verified in this window are migrated to HMAC with one file write (default 1000 ms). */
  migrationFlushMs?: number;
}

export class Registry {
  private readonly sites = new Map<string, Site>();
  private readonly agents = new Map<string, AgentRecord>();
  /** Each site and agent as this process last read or wrote it (JSON): what differs in memory is this process's change. */
  private readonly baseSites = new Map<string, string>();
  private readonly baseAgents = new Map<string, string>();
  /** Agents migrated from scrypt to HMAC and not yet written: identity → the scrypt record replaced. */
  private readonly migrations = new Map<string, string>();
  private migrationTimer: NodeJS.Timeout | undefined;
  private scryptRecords = 0;
  /** Writes of the registry file by this process. */
  fileWrites = 0;
  /** Batched migration writes that failed (ioc_hub_registry_migration_write_errors_total). */
  migrationWriteErrors = 0;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly secret: Buffer,
    private readonly opts: { scrypt: ScryptParams; migrationFlushMs: number },
  ) {}

  /** Opens the registry file; a missing file is an empty registry. Reads or creates the hub secret. */
  static async open(path: string, opts: RegistryOptions = {}): Promise<Registry> {
    const secret = opts.secret ?? (await loadOrCreateHubSecret(opts.secretPath ?? defaultHubSecretPath(path)));
    const reg = new Registry(path, secret, { scrypt: opts.scrypt ?? DEFAULT_SCRYPT, migrationFlushMs: opts.migrationFlushMs ?? 1000 });
    const file = await readRegistryFile(path);
    for (const site of file.sites) reg.sites.set(site.slug, site);
    for (const agent of file.agents) reg.setAgent(agent);
    reg.rebase();
    return reg;
  }

  /** Agents whose stored record is still scrypt (migrated on their next successful connect). */
  get scryptRecordCount(): number {
    return this.scryptRecords;
  }

  /** Migrations verified but not yet written. */
  get pendingMigrations(): number {
    return this.migrations.size;
  }

  private setAgent(rec: AgentRecord): void {
    const key = agentKey(rec.site, rec.agent);
    const old = this.agents.get(key);
    if (old !== undefined && isScryptHash(old.tokenHash)) this.scryptRecords--;
    if (isScryptHash(rec.tokenHash)) this.scryptRecords++;
    this.agents.set(key, rec);
  }

  private rebase(): void {
    this.baseSites.clear();
    this.baseAgents.clear();
    for (const [slug, site] of this.sites) this.baseSites.set(slug, JSON.stringify(site));
    for (const [key, rec] of this.agents) this.baseAgents.set(key, JSON.stringify(rec));
  }

  /**
   * Under the lock: reads the file as it is now, applies what this process changed since it last read or wrote it
   * (a migration only where the file still holds the scrypt record it replaces: a rotation by the CLI wins), writes it.
   */
  private save(): Promise<void> {
    const next = this.saving.then(() => withFileLock(this.path, () => this.mergeAndWrite()));
    this.saving = next.catch(() => undefined);
    return next.catch((err: unknown) => {
      if (err instanceof HubError) throw err;
      throw new HubError('E_REGISTRY_IO', `cannot write registry ${this.path}: ${errorMessage(err)}`, { cause: err });
    });
  }

  private async mergeAndWrite(): Promise<void> {
    const file = await readRegistryFile(this.path);
    const sites = new Map(file.sites.map((s) => [s.slug, s]));
    const agents = new Map(file.agents.map((a) => [agentKey(a.site, a.agent), a]));
    const migrations = new Map(this.migrations);
    for (const [slug, site] of this.sites) if (JSON.stringify(site) !== this.baseSites.get(slug)) sites.set(slug, site);
    for (const [key, rec] of this.agents) {
      if (JSON.stringify(rec) === this.baseAgents.get(key)) continue;
      const from = migrations.get(key);
      if (from !== undefined && agents.get(key)?.tokenHash !== from) continue;
      agents.set(key, rec);
    }
    const snapshot = JSON.stringify({ version: 1, sites: [...sites.values()].sort((a, b) => a.slug.localeCompare(b.slug)), agents: [...agents.values()] }, null, 2);
    await writeFileAtomic(this.path, `${snapshot}\n`);
    this.fileWrites++;
    this.rebase();
    for (const [key, from] of migrations) if (this.migrations.get(key) === from) this.migrations.delete(key);
  }

  /** Writes the migrations still pending (the hub's stop). */
  async close(): Promise<void> {
    if (this.migrationTimer !== undefined) clearTimeout(this.migrationTimer);
    this.migrationTimer = undefined;
    if (this.migrations.size > 0) await this.save();
    await this.saving;
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
    this.sites.set(parsed.data.slug, parsed.data);
    await this.save();
  }

  /** Creates the agent or rotates its token; returns the token (the only time it is visible). */
  async enroll(site: string, agent: string): Promise<EnrolledAgent> {
    const [enrolled] = await this.enrollMany([{ site, agent }]);
    if (enrolled === undefined) throw new HubError('E_REGISTRY_IO', 'enrollment produced no token');
    return enrolled;
  }

  /** Enrolls several agents with one file write. */
  async enrollMany(list: readonly { site: string; agent: string }[]): Promise<EnrolledAgent[]> {
    for (const { site, agent } of list) this.checkEnrollable(site, agent);
    const out: EnrolledAgent[] = [];
    for (const { site, agent } of list) {
      const token = generateToken();
      this.setAgent({ site, agent, tokenHash: hmacToken(token, this.secret), createdAt: new Date().toISOString() });
      this.migrations.delete(agentKey(site, agent)); // a new token: nothing of the old record to migrate
      out.push({ site, agent, token });
    }
    await this.save();
    return out;
  }

  private checkEnrollable(site: string, agent: string): void {
    if (!isSlug(agent)) throw new HubError('E_BAD_SLUG', `invalid agent slug ${JSON.stringify(agent)}: 1-64 of a-z, 0-9, -`);
    if (!this.sites.has(site)) throw new HubError('E_UNKNOWN_SITE', `unknown site ${JSON.stringify(site)}: import or add it first`);
  }

  /**
   * True when the token belongs to the agent: one HMAC-SHA-256, compared in constant time. A record still in scrypt
   * form costs one scrypt and, once verified, is migrated to HMAC (written within `migrationFlushMs`, many agents in
   * one write). A refusal costs what any other refusal costs, for an unknown identity too (a decoy record), so its
   * time does not tell which identities exist; while scrypt records remain, every refusal also runs one scrypt.
   */
  async verify(site: string, agent: string, token: string): Promise<boolean> {
    if (token.length === 0 || token.length > 1024) return false;
    const identity = agentKey(site, agent);
    const rec = this.agents.get(identity);
    if (rec !== undefined && isScryptHash(rec.tokenHash)) {
      if (!(await verifyToken(token, rec.tokenHash))) return false;
      this.migrate(identity, rec, token);
      return true;
    }
    const ok = verifyHmacToken(token, rec?.tokenHash ?? this.decoyHmac, this.secret) && rec !== undefined;
    if (!ok && this.scryptRecords > 0) await verifyToken(token, this.decoy());
    return ok;
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
    if (!this.migrations.has(identity)) this.migrations.set(identity, rec.tokenHash);
    this.setAgent({ ...rec, tokenHash: hmacToken(token, this.secret) });
    this.migrationTimer ??= setTimeout(() => {
      this.migrationTimer = undefined;
      // On failure they stay pending: written with the next change or at close, or migrated again after a restart.
      this.save().catch(() => {
        this.migrationWriteErrors++;
      });
    }, this.opts.migrationFlushMs);
    this.migrationTimer.unref();
  }

  /**
   * Imports communes (see communes-csv.ts) as sites. An existing site with the same code keeps its slug, its
   * coordinates when the file has none, and its agents; sites absent from the file are kept. New slugs that collide
   * (with the registry or within the file) go to the lowest code bare and get `-{code}` appended otherwise, so the
   * result does not depend on row order.
   */
  async importCommunesCsv(path: string, opts: ImportOptions = {}): Promise<ImportResult> {
    const list = await readCommunesCsv(path);
    const rows = pickProvinces(list.rows, opts, path);
    const byCode = new Map([...this.sites.values()].filter((s) => s.code !== '').map((s) => [s.code, s]));
    let added = 0;
    let updated = 0;
    const fresh: CommuneSite[] = [];
    for (const row of rows) {
      const existing = byCode.get(row.code);
      if (existing === undefined) {
        fresh.push(row);
        continue;
      }
      this.sites.set(existing.slug, toSite(row, existing.slug, existing));
      updated++;
    }
    fresh.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    for (const row of fresh) {
      const slug = this.freeSlug(row.slug, row.code);
      this.sites.set(slug, toSite(row, slug, undefined));
      added++;
    }
    await this.save();
    return { added, updated, total: this.sites.size, format: list.format, provinces: provincesOf(rows).map((p) => p.code) };
  }

  private freeSlug(base: string, code: string): string {
    if (!this.sites.has(base) && isSiteSlug(base)) return base;
    const suffix = `-${code.toLowerCase().replace(/[^a-z0-9]+/g, '')}`;
    const slug = `${base.slice(0, 64 - suffix.length).replace(/-+$/, '')}${suffix}`;
    if (this.sites.has(slug) || !isSiteSlug(slug)) throw new HubError('E_BAD_SLUG', `cannot find a free slug for ${base} (code ${code})`);
    return slug;
  }
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

async function readRegistryFile(path: string): Promise<z.infer<typeof registryFileSchema>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    if (errorCode(err) === 'ENOENT') return { version: 1, sites: [], agents: [] };
    throw new HubError('E_REGISTRY_IO', `cannot read registry ${path}: ${errorMessage(err)}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err: unknown) {
    throw new HubError('E_REGISTRY_CORRUPT', `registry ${path} is not valid JSON`, { cause: err });
  }
  const parsed = registryFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HubError('E_REGISTRY_CORRUPT', `registry ${path}: ${describeIssues(parsed.error.issues)}`, { cause: parsed.error });
  }
  return parsed.data;
}
