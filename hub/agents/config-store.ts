// Remote configuration in the registry database (tables of migration 3 in sqlite-store.ts): an operator sets a
// template for a scope (one agent, a site, an area, a province, all); each agent runs the template of its most
// specific scope (agent > site > area > province > all), rendered with its site's variables (`{{site}}`). Every
// set and rollback is a revision (who, when, comment); the config of each agent it reaches is rendered and
// validated with the agent's own schema (protocol/edge-config.ts) before anything is stored, so a config the agent
// would refuse is refused here, naming the agent and the field. The CLI and a running hub share the file (WAL);
// the hub notices a new revision through `PRAGMA data_version` (watch) and delivers it (config-delivery.ts).
import Database from 'better-sqlite3';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { edgeConfigBaseSchema } from '../../protocol/index.ts';
import { issueLines } from '../../common/zod-issues.ts';
import { HubError, errorMessage } from '../errors.ts';
import { SqliteRegistryStore, watchDataVersion, type SiteRow } from './sqlite-store.ts';

export const CONFIG_SCOPES = ['agent', 'site', 'area', 'province', 'all'] as const;
export type ConfigScopeKind = (typeof CONFIG_SCOPES)[number];

/** A scope: `agent` targets `site/agent`, `site` a site slug, `area`/`province` a code, `all` nothing (''). */
export interface ConfigScope {
  kind: ConfigScopeKind;
  target: string;
}

export interface ConfigRevision {
  rev: number;
  scope: ConfigScopeKind;
  target: string;
  template: string;
  who: string;
  at: string;
  comment?: string;
  rollbackOf?: number;
  /** Agents whose config this revision set. */
  agents: number;
}

/** What happened to one agent's revision: delivered (sent, agent said it applies it), applied (it runs it, seen in its status), refused (by the agent), rolled-back (by the agent), timeout/busy (delivery, retried). */
export type ConfigEventKind = 'delivered' | 'applied' | 'refused' | 'rolled-back' | 'timeout' | 'busy';

export interface ConfigEvent {
  seq: number;
  at: string;
  site: string;
  agent: string;
  rev: number;
  kind: ConfigEventKind;
  detail?: string;
}

export interface AgentConfigState {
  site: string;
  agent: string;
  /** The revision the agent should run. */
  rev: number;
  /** The last event of that revision (none: not delivered yet). */
  last?: ConfigEvent;
}

export interface PlannedConfig {
  site: string;
  agent: string;
  /** The rendered YAML the agent will get. */
  text: string;
  /** The revision it runs now, and its text (none: never configured from the hub). */
  previousRev?: number;
  previousText?: string;
}

/** Variables a template may use: `{{site}}`, `{{site_name}}`, `{{agent}}`… */
export const TEMPLATE_VARIABLES = ['site', 'site_name', 'site_code', 'area', 'area_name', 'province', 'province_name', 'lat', 'lon', 'agent'] as const;

/** Stand-ins for what the agent keeps of its own file when the pushed config lacks it (see renderForAgent). */
const KEPT_BY_AGENT = { url: 'mqtt://kept-by-the-agent:1883', token: 'kept-by-the-agent' };

interface RevisionRow {
  rev: number;
  scope: ConfigScopeKind;
  target: string;
  template: string;
  who: string;
  at: string;
  comment: string | null;
  rollback_of: number | null;
  agents: number;
}

interface EventRow {
  seq: number;
  at: string;
  site: string;
  agent: string;
  rev: number;
  kind: ConfigEventKind;
  detail: string | null;
}

/** `agent:SITE/AGENT`, `site:SLUG`, `area:CODE`, `province:CODE`, `all`. */
export function parseScope(text: string): ConfigScope {
  if (text === 'all') return { kind: 'all', target: '' };
  const i = text.indexOf(':');
  const kind = text.slice(0, i) as ConfigScopeKind;
  const target = text.slice(i + 1);
  if (i < 0 || !CONFIG_SCOPES.includes(kind) || kind === 'all' || target === '') {
    throw new HubError('E_CONFIG_SCOPE', `invalid scope ${JSON.stringify(text)}: agent:SITE/AGENT, site:SLUG, area:CODE, province:CODE or all`);
  }
  if (kind === 'agent' && !/^[^/]+\/[^/]+$/.test(target)) throw new HubError('E_CONFIG_SCOPE', `invalid agent scope ${JSON.stringify(text)}: agent:SITE/AGENT`);
  return { kind, target };
}

export function formatScope(s: ConfigScope): string {
  return s.kind === 'all' ? 'all' : `${s.kind}:${s.target}`;
}

/** Substitutes `{{name}}` (spaces allowed inside the braces); an unknown name is an error. */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new HubError('E_CONFIG_INVALID', `unknown template variable {{${name}}}: use ${TEMPLATE_VARIABLES.map((t) => `{{${t}}}`).join(', ')}`);
    return v;
  });
}

function siteVars(site: SiteRow, agent: string): Record<string, string> {
  return {
    site: site.slug,
    site_name: site.name,
    site_code: site.code,
    area: site.area,
    area_name: site.area_name,
    province: site.province,
    province_name: site.province_name,
    lat: site.lat === null ? '' : String(site.lat),
    lon: site.lon === null ? '' : String(site.lon),
    agent,
  };
}

/**
 * The YAML an agent gets for revision `rev`: the template rendered with its site's variables, with `site`, `agent`
 * and `configRev` set by the hub. The agent keeps its own `hub.token` (the hub holds only its hash), and its own
 * `hub.url`, `hub.caFile`, `hub.certFile`, `hub.keyFile` and `dataDir` where the template leaves them out; the
 * result is validated with the agent's schema, those kept keys standing in. Throws E_CONFIG_INVALID naming the
 * agent and every field at fault.
 */
export function renderForAgent(template: string, site: SiteRow, agent: string, rev: number): string {
  const who = `${site.slug}/${agent}`;
  const fail = (lines: readonly string[]): never => {
    throw new HubError('E_CONFIG_INVALID', `config for ${who} would not validate on the agent:\n  ${lines.join('\n  ')}`);
  };
  let doc: unknown;
  try {
    doc = parseYaml(renderTemplate(template, siteVars(site, agent)));
  } catch (err: unknown) {
    if (err instanceof HubError) throw err;
    return fail([`(yaml): ${errorMessage(err).split('\n')[0] ?? ''}`]);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) return fail(['(root): expected a mapping of config keys']);
  const out: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  const problems: string[] = [];
  for (const key of ['site', 'agent'] as const) {
    const want = key === 'site' ? site.slug : agent;
    if (out[key] !== undefined && out[key] !== want) problems.push(`${key}: is ${JSON.stringify(out[key])}, but this config is for ${who} (leave it out: the hub sets it)`);
  }
  if ('configRev' in out) problems.push('configRev: set by the hub (the revision number); leave it out');
  const hub = out.hub;
  if (hub !== undefined && (typeof hub !== 'object' || hub === null || Array.isArray(hub))) problems.push('hub: expected a mapping');
  const hubKeys = typeof hub === 'object' && hub !== null && !Array.isArray(hub) ? (hub as Record<string, unknown>) : {};
  if ('token' in hubKeys) problems.push("hub.token: the agent keeps its own token (the hub holds only its hash); leave it out");
  if (problems.length > 0) fail(problems);
  delete out.site;
  delete out.agent;
  const final: Record<string, unknown> = { site: site.slug, agent, configRev: rev, ...out };
  const check = { ...final, hub: { url: KEPT_BY_AGENT.url, ...hubKeys, token: KEPT_BY_AGENT.token } };
  const parsed = edgeConfigBaseSchema.safeParse(check);
  if (!parsed.success) fail(issueLines(parsed.error.issues));
  return `# revision ${rev} for ${who}, rendered by the hub (ioc-hub config); hub.token stays the agent's own\n${stringifyYaml(final)}`;
}

/** A line diff (longest common subsequence): `-` removed, `+` added, `  ` kept. */
export function lineDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] ?? [];
    const below = lcs[i + 1] ?? [];
    for (let j = m - 1; j >= 0; j--) row[j] = x[i] === y[j] ? (below[j + 1] ?? 0) + 1 : Math.max(below[j] ?? 0, row[j + 1] ?? 0);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push(`  ${x[i] ?? ''}`);
      i++;
      j++;
    } else if (j < m && (i >= n || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) {
      out.push(`+ ${y[j] ?? ''}`);
      j++;
    } else {
      out.push(`- ${x[i] ?? ''}`);
      i++;
    }
  }
  return out.join('\n');
}

export class ConfigStore {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  /** Opens the registry database (migrated to the current schema first). */
  static open(path: string, opts: { busyTimeoutMs?: number } = {}): ConfigStore {
    void SqliteRegistryStore.open(path, opts).close(); // creates and migrates the file; synchronous under the promise
    const db = new Database(path, { timeout: opts.busyTimeoutMs ?? 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return new ConfigStore(path, db);
  }

  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err: unknown) {
      if (err instanceof HubError) throw err;
      throw new HubError('E_REGISTRY_IO', `cannot write the registry database ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
  }

  private sites(): Map<string, SiteRow> {
    return new Map((this.db.prepare('SELECT * FROM sites').all() as SiteRow[]).map((s) => [s.slug, s]));
  }

  private enrolled(): { site: string; agent: string }[] {
    return this.db.prepare('SELECT site, agent FROM agents WHERE revoked_at IS NULL ORDER BY site, agent').all() as { site: string; agent: string }[];
  }

  /** The newest revision of each scope (key `kind:target`). */
  private latestByScope(): Map<string, RevisionRow> {
    const rows = this.db.prepare('SELECT r.*, 0 AS agents FROM config_revisions r WHERE rev IN (SELECT max(rev) FROM config_revisions GROUP BY scope, target)').all() as RevisionRow[];
    return new Map(rows.map((r) => [formatScope({ kind: r.scope, target: r.target }), r]));
  }

  private checkScope(scope: ConfigScope, sites: ReadonlyMap<string, SiteRow>): void {
    const known =
      scope.kind === 'all' ||
      (scope.kind === 'site' && sites.has(scope.target)) ||
      (scope.kind === 'agent' && this.enrolled().some((a) => `${a.site}/${a.agent}` === scope.target)) ||
      (scope.kind === 'area' && [...sites.values()].some((s) => s.area === scope.target)) ||
      (scope.kind === 'province' && [...sites.values()].some((s) => s.province === scope.target));
    if (!known) throw new HubError('E_CONFIG_SCOPE', `scope ${formatScope(scope)} matches no ${scope.kind === 'agent' ? 'enrolled agent' : scope.kind === 'site' ? 'site' : `site's ${scope.kind}`} of the registry`);
  }

  /** The scope that decides an agent's config, given the newest revision of each scope (most specific first). */
  private static winner(site: SiteRow, agent: string, latest: ReadonlyMap<string, { rev: number }>): string | undefined {
    const keys = [`agent:${site.slug}/${agent}`, `site:${site.slug}`, `area:${site.area}`, `province:${site.province}`, 'all'];
    return keys.find((k) => latest.has(k));
  }

  /**
   * What a new revision of `template` at `scope` would give each agent it decides (the agents with a more specific
   * revision keep theirs). Throws E_CONFIG_INVALID (every agent at fault, each field) when any would not validate.
   */
  plan(scope: ConfigScope, template: string, rev = this.nextRev()): PlannedConfig[] {
    const sites = this.sites();
    this.checkScope(scope, sites);
    const latest: Map<string, { rev: number }> = this.latestByScope();
    const key = formatScope(scope);
    latest.set(key, { rev });
    const desired = this.desiredRevs();
    const out: PlannedConfig[] = [];
    const errors: string[] = [];
    for (const a of this.enrolled()) {
      const site = sites.get(a.site);
      if (site === undefined || ConfigStore.winner(site, a.agent, latest) !== key) continue;
      try {
        const text = renderForAgent(template, site, a.agent, rev);
        const prev = desired.get(`${a.site}/${a.agent}`);
        out.push({ site: a.site, agent: a.agent, text, ...(prev === undefined ? {} : { previousRev: prev, previousText: this.rendered(a.site, a.agent, prev) ?? '' }) });
      } catch (err: unknown) {
        if (!(err instanceof HubError) || err.code !== 'E_CONFIG_INVALID') throw err;
        errors.push(err.message);
      }
    }
    if (errors.length > 0) {
      const more = errors.length > 3 ? `\n… and ${errors.length - 3} more agents` : '';
      throw new HubError('E_CONFIG_INVALID', `${errors.slice(0, 3).join('\n')}${more}\nnothing was stored or delivered`);
    }
    return out;
  }

  /**
   * Agents enrolled after the revisions that decide their config were set: their config is rendered now from the
   * newest revision of their most specific scope. Returns the agents added, and those whose config would not
   * validate (left without one, and reported).
   */
  adoptNew(): { added: string[]; invalid: { agent: string; error: string }[] } {
    const desired = this.desiredRevs();
    const fresh = this.enrolled().filter((a) => !desired.has(`${a.site}/${a.agent}`));
    if (fresh.length === 0) return { added: [], invalid: [] };
    const latest = this.latestByScope();
    if (latest.size === 0) return { added: [], invalid: [] };
    const sites = this.sites();
    const rows: { site: string; agent: string; rev: number; text: string }[] = [];
    const invalid: { agent: string; error: string }[] = [];
    for (const a of fresh) {
      const site = sites.get(a.site);
      const win = site === undefined ? undefined : ConfigStore.winner(site, a.agent, latest);
      const r = win === undefined ? undefined : latest.get(win);
      if (site === undefined || r === undefined) continue;
      try {
        rows.push({ site: a.site, agent: a.agent, rev: r.rev, text: renderForAgent(r.template, site, a.agent, r.rev) });
      } catch (err: unknown) {
        invalid.push({ agent: `${a.site}/${a.agent}`, error: errorMessage(err) });
      }
    }
    if (rows.length === 0) return { added: [], invalid };
    const rendered = this.db.prepare('INSERT INTO config_rendered (rev, site, agent, text) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    const put = this.db.prepare('INSERT INTO config_desired (site, agent, rev) VALUES (?, ?, ?) ON CONFLICT (site, agent) DO NOTHING');
    this.write(() => {
      for (const r of rows) {
        rendered.run(r.rev, r.site, r.agent, r.text);
        put.run(r.site, r.agent, r.rev);
      }
    });
    return { added: rows.map((r) => `${r.site}/${r.agent}`), invalid };
  }

  private nextRev(): number {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'config_revisions'").get() as { seq: number } | undefined;
    return (row?.seq ?? 0) + 1;
  }

  /** Stores a new revision and the config of every agent it decides (one transaction); refused as plan() refuses. */
  set(input: { scope: ConfigScope; template: string; who: string; comment?: string; rollbackOf?: number }): { rev: number; agents: PlannedConfig[] } {
    return this.write(() => {
      const rev = this.nextRev();
      const planned = this.plan(input.scope, input.template, rev);
      const at = new Date().toISOString();
      this.db
        .prepare('INSERT INTO config_revisions (rev, scope, target, template, who, at, comment, rollback_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(rev, input.scope.kind, input.scope.target, input.template, input.who, at, input.comment ?? null, input.rollbackOf ?? null);
      const rendered = this.db.prepare('INSERT INTO config_rendered (rev, site, agent, text) VALUES (?, ?, ?, ?)');
      const desired = this.db.prepare('INSERT INTO config_desired (site, agent, rev) VALUES (?, ?, ?) ON CONFLICT (site, agent) DO UPDATE SET rev = excluded.rev');
      for (const p of planned) {
        rendered.run(rev, p.site, p.agent, p.text);
        desired.run(p.site, p.agent, rev);
      }
      return { rev, agents: planned };
    });
  }

  /**
   * A new revision at `scope` with the template of revision `to` (default: the one before the newest at that scope).
   */
  rollback(input: { scope: ConfigScope; to?: number; who: string; comment?: string }): { rev: number; from: number; agents: PlannedConfig[] } {
    const at = this.db.prepare('SELECT rev, template FROM config_revisions WHERE scope = ? AND target = ? ORDER BY rev DESC').all(input.scope.kind, input.scope.target) as { rev: number; template: string }[];
    const target = input.to === undefined ? at[1] : at.find((r) => r.rev === input.to);
    if (target === undefined) {
      throw new HubError('E_CONFIG_SCOPE', input.to === undefined ? `scope ${formatScope(input.scope)} has ${at.length} revision(s): nothing to roll back to` : `revision ${input.to} is not a revision of scope ${formatScope(input.scope)}`);
    }
    const r = this.set({ scope: input.scope, template: target.template, who: input.who, comment: input.comment ?? `rollback to revision ${target.rev}`, rollbackOf: target.rev });
    return { ...r, from: target.rev };
  }

  revisions(scope?: ConfigScope, limit = 50): ConfigRevision[] {
    const where = scope === undefined ? '' : 'WHERE r.scope = @kind AND r.target = @target';
    const rows = this.db
      .prepare(`SELECT r.*, (SELECT count(*) FROM config_rendered x WHERE x.rev = r.rev) AS agents FROM config_revisions r ${where} ORDER BY r.rev DESC LIMIT @limit`)
      .all({ ...(scope === undefined ? {} : { kind: scope.kind, target: scope.target }), limit }) as RevisionRow[];
    return rows.map(toRevision);
  }

  revision(rev: number): ConfigRevision | undefined {
    const row = this.db.prepare('SELECT r.*, (SELECT count(*) FROM config_rendered x WHERE x.rev = r.rev) AS agents FROM config_revisions r WHERE rev = ?').get(rev) as RevisionRow | undefined;
    return row === undefined ? undefined : toRevision(row);
  }

  private desiredRevs(): Map<string, number> {
    const rows = this.db.prepare('SELECT site, agent, rev FROM config_desired').all() as { site: string; agent: string; rev: number }[];
    return new Map(rows.map((r) => [`${r.site}/${r.agent}`, r.rev]));
  }

  /** The config rendered for an agent at a revision (default: the one it should run). */
  rendered(site: string, agent: string, rev?: number): string | undefined {
    const row =
      rev === undefined
        ? (this.db.prepare('SELECT x.text FROM config_rendered x JOIN config_desired d ON d.site = x.site AND d.agent = x.agent AND d.rev = x.rev WHERE x.site = ? AND x.agent = ?').get(site, agent) as { text: string } | undefined)
        : (this.db.prepare('SELECT text FROM config_rendered WHERE rev = ? AND site = ? AND agent = ?').get(rev, site, agent) as { text: string } | undefined);
    return row?.text;
  }

  /** Every agent with a config from the hub: the revision it should run, and the last event of that revision. */
  states(): AgentConfigState[] {
    const rows = this.db
      .prepare(
        `SELECT d.site, d.agent, d.rev, e.seq, e.at, e.kind, e.detail FROM config_desired d
         LEFT JOIN config_events e ON e.seq = (SELECT max(seq) FROM config_events x WHERE x.site = d.site AND x.agent = d.agent AND x.rev = d.rev)
         JOIN agents a ON a.site = d.site AND a.agent = d.agent AND a.revoked_at IS NULL ORDER BY d.site, d.agent`,
      )
      .all() as { site: string; agent: string; rev: number; seq: number | null; at: string | null; kind: ConfigEventKind | null; detail: string | null }[];
    return rows.map((r) => ({
      site: r.site,
      agent: r.agent,
      rev: r.rev,
      ...(r.seq === null || r.at === null || r.kind === null ? {} : { last: toEvent({ seq: r.seq, at: r.at, site: r.site, agent: r.agent, rev: r.rev, kind: r.kind, detail: r.detail }) }),
    }));
  }

  addEvents(events: readonly Omit<ConfigEvent, 'seq' | 'at'>[]): void {
    if (events.length === 0) return;
    const insert = this.db.prepare('INSERT INTO config_events (at, site, agent, rev, kind, detail) VALUES (?, ?, ?, ?, ?, ?)');
    const at = new Date().toISOString();
    this.write(() => {
      for (const e of events) insert.run(at, e.site, e.agent, e.rev, e.kind, e.detail?.slice(0, 1024) ?? null);
    });
  }

  events(filter: { site?: string; agent?: string; rev?: number; limit?: number } = {}): ConfigEvent[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM config_events WHERE (@site IS NULL OR site = @site) AND (@agent IS NULL OR agent = @agent) AND (@rev IS NULL OR rev = @rev) ORDER BY seq DESC LIMIT @limit`,
      )
      .all({ site: filter.site ?? null, agent: filter.agent ?? null, rev: filter.rev ?? null, limit: filter.limit ?? 100 }) as EventRow[];
    return rows.map(toEvent).reverse();
  }

  /** Calls `onChange` when another connection committed (PRAGMA data_version), polled every `intervalMs`. */
  watch(onChange: () => void, intervalMs: number): () => void {
    return watchDataVersion(this.db, () => this.closed, onChange, intervalMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

function toRevision(r: RevisionRow): ConfigRevision {
  return {
    rev: r.rev,
    scope: r.scope,
    target: r.target,
    template: r.template,
    who: r.who,
    at: r.at,
    agents: r.agents,
    ...(r.comment === null ? {} : { comment: r.comment }),
    ...(r.rollback_of === null ? {} : { rollbackOf: r.rollback_of }),
  };
}

function toEvent(r: EventRow): ConfigEvent {
  return { seq: r.seq, at: r.at, site: r.site, agent: r.agent, rev: r.rev, kind: r.kind, ...(r.detail === null ? {} : { detail: r.detail }) };
}
