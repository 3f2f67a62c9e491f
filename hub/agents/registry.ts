// Registry of sites and enrolled agents, kept in one JSON file replaced atomically on every change.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssues, isSiteSlug, isSlug, slugSchema } from '../../protocol/index.ts';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { HubError, errorCode, errorMessage } from '../errors.ts';
import { DEFAULT_SCRYPT, decoyHash, generateToken, hashToken, sha256, verifyToken, type ScryptParams } from './token.ts';
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
  tokenHash: z.string().startsWith('scrypt$'),
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
  scrypt?: ScryptParams;
  /** Successful verifications kept in memory (keyed by sha256(token)). */
  verifyCacheSize?: number;
}

interface CachedVerification {
  identity: string;
  tokenHash: string;
}

export class Registry {
  private readonly sites = new Map<string, Site>();
  private readonly agents = new Map<string, AgentRecord>();
  private readonly verified = new Map<string, CachedVerification>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly opts: Required<RegistryOptions>,
  ) {}

  /** Opens the registry file; a missing file is an empty registry. */
  static async open(path: string, opts: RegistryOptions = {}): Promise<Registry> {
    const reg = new Registry(path, { scrypt: opts.scrypt ?? DEFAULT_SCRYPT, verifyCacheSize: opts.verifyCacheSize ?? 10_000 });
    await reg.load();
    return reg;
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err: unknown) {
      if (errorCode(err) === 'ENOENT') return;
      throw new HubError('E_REGISTRY_IO', `cannot read registry ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err: unknown) {
      throw new HubError('E_REGISTRY_CORRUPT', `registry ${this.path} is not valid JSON`, { cause: err });
    }
    const parsed = registryFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new HubError('E_REGISTRY_CORRUPT', `registry ${this.path}: ${describeIssues(parsed.error.issues)}`, { cause: parsed.error });
    }
    for (const site of parsed.data.sites) this.sites.set(site.slug, site);
    for (const agent of parsed.data.agents) this.agents.set(agentKey(agent.site, agent.agent), agent);
  }

  private save(): Promise<void> {
    const snapshot = JSON.stringify({ version: 1, sites: this.listSites(), agents: [...this.agents.values()] }, null, 2);
    const next = this.saving.then(() => writeFileAtomic(this.path, `${snapshot}\n`));
    this.saving = next.catch(() => undefined);
    return next.catch((err: unknown) => {
      throw new HubError('E_REGISTRY_IO', `cannot write registry ${this.path}: ${errorMessage(err)}`, { cause: err });
    });
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
      const tokenHash = await hashToken(token, this.opts.scrypt);
      this.agents.set(agentKey(site, agent), { site, agent, tokenHash, createdAt: new Date().toISOString() });
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
   * True when the token belongs to the agent. Successful checks are cached so mass reconnects cost no
   * scrypt; every other answer costs one scrypt, for an unknown agent too (against a decoy hash), so
   * the time of a refusal does not tell which identities exist.
   */
  async verify(site: string, agent: string, token: string): Promise<boolean> {
    if (token.length === 0 || token.length > 1024) return false;
    const identity = agentKey(site, agent);
    const rec = this.agents.get(identity);
    const key = sha256(token);
    const cached = this.verified.get(key);
    if (rec !== undefined && cached !== undefined && cached.identity === identity && cached.tokenHash === rec.tokenHash) return true;
    if (rec === undefined) {
      await verifyToken(token, this.decoy());
      return false;
    }
    if (!(await verifyToken(token, rec.tokenHash))) return false;
    this.remember(key, { identity, tokenHash: rec.tokenHash });
    return true;
  }

  private decoyHash: string | undefined;

  /** Made once, with the parameters of an enrolled agent's hash (they cost what a real check costs). */
  private decoy(): string {
    this.decoyHash ??= decoyHash(this.agents.values().next().value?.tokenHash ?? `scrypt$${this.opts.scrypt.N}$${this.opts.scrypt.r}$${this.opts.scrypt.p}$x$x`);
    return this.decoyHash;
  }

  private remember(key: string, entry: CachedVerification): void {
    if (this.verified.size >= this.opts.verifyCacheSize) {
      const oldest = this.verified.keys().next();
      if (oldest.done !== true) this.verified.delete(oldest.value);
    }
    this.verified.set(key, entry);
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
