// `ioc-hub config set|show|diff|history|rollback`: remote configuration of agents (agents/config-store.ts) on the
// registry database, shared with a running hub, which delivers a new revision within its poll interval. Every set
// and rollback is a revision with who and when, and an audit-log entry.
import { readFile } from 'node:fs/promises';
import { AuditLog, auditLogPath } from '../auth/audit-log.ts';
import { ConfigStore, formatScope, lineDiff, parseScope, type ConfigScope, type PlannedConfig } from '../agents/config-store.ts';
import { registryDbPath } from '../agents/registry.ts';
import type { HubConfig } from '../config.ts';
import { HubError, errorMessage } from '../errors.ts';
import { CONFIG_ENV, CONFIG_OPTION, booleanOption, stringOption, type CommandSpec, type OptionSpec, type OptionValues } from './cli-help.ts';

const SCOPE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  agent: { type: 'string', arg: 'SITE/AGENT', help: 'one agent (the most specific scope: it wins over all others)' },
  site: { type: 'string', arg: 'SITE', help: "every agent of a site (the site's slug, see `sites list`)" },
  area: { type: 'string', arg: 'CODE', help: 'every agent of the sites of an area (its code in the registry)' },
  province: { type: 'string', arg: 'CODE', help: 'every agent of the sites of a province (its code, e.g. 25)' },
  all: { type: 'boolean', help: 'every agent (the least specific scope)' },
};
const SCOPE_USAGE = '(--agent SITE/AGENT | --site SITE | --area CODE | --province CODE | --all)';

export const CONFIG_COMMANDS: readonly CommandSpec[] = [
  {
    command: 'config set',
    summary: "set the agents' config for a scope from a template; the running hub delivers it",
    usage: [`${SCOPE_USAGE} --template FILE [--comment TEXT] [--dry-run] [--config FILE]`],
    options: {
      ...SCOPE_OPTIONS,
      template: { type: 'string', arg: 'FILE', help: 'agent config YAML; {{site}}, {{site_name}}, {{site_code}}, {{area}}, {{area_name}}, {{province}}, {{province_name}}, {{lat}}, {{lon}}, {{agent}} are replaced per agent' },
      comment: { type: 'string', arg: 'TEXT', help: 'why (kept in the history)' },
      'dry-run': { type: 'boolean', help: 'render and validate for every agent and print the diffs; store nothing' },
      config: CONFIG_OPTION,
    },
    env: CONFIG_ENV,
    examples: ['config set --site xa-lap-thach --template office.yaml --comment "queue collector"', 'config set --all --template fleet.yaml --dry-run'],
    notes: [
      'Each agent runs the template of its most specific scope: agent > site > area > province > all.',
      "The hub sets site, agent and configRev; leave hub.token out (the agent keeps its own). hub.url, hub.caFile, hub.certFile, hub.keyFile and dataDir the template leaves out are kept from the agent's file.",
      'A config that would not validate on an agent is refused before anything is stored, naming the agent and the field.',
    ],
  },
  {
    command: 'config show',
    summary: "print each agent's config revision and its state, or one agent's config",
    usage: ['[--agent SITE/AGENT] [--config FILE]'],
    options: { agent: SCOPE_OPTIONS.agent ?? { type: 'string', help: '' }, config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['config show', 'config show --agent xa-lap-thach/pi-1'],
    notes: ['States: pending (not delivered yet), delivered (the agent took it and restarts with it), applied (its status shows the revision), refused, rolled-back (by the agent), timeout (sent again on its next connect).'],
  },
  {
    command: 'config diff',
    summary: "diff an agent's config between two revisions, or preview a template against what agents have",
    usage: ['--agent SITE/AGENT [--from REV] [--to REV] [--config FILE]', `${SCOPE_USAGE} --template FILE [--config FILE]`],
    options: {
      ...SCOPE_OPTIONS,
      from: { type: 'string', arg: 'REV', help: 'the older revision (default: the one before --to)' },
      to: { type: 'string', arg: 'REV', help: 'the newer revision (default: the one the agent should run)' },
      template: { type: 'string', arg: 'FILE', help: 'preview: the diff this template would make for each agent it reaches' },
      config: CONFIG_OPTION,
    },
    env: CONFIG_ENV,
    examples: ['config diff --agent xa-lap-thach/pi-1', 'config diff --site xa-lap-thach --template office.yaml'],
  },
  {
    command: 'config history',
    summary: 'print the revisions (rev, when, who, scope, agents, comment), an agent\'s with what happened to them',
    usage: [`[${SCOPE_USAGE}] [--limit N] [--config FILE]`],
    options: { ...SCOPE_OPTIONS, limit: { type: 'string', arg: 'N', help: 'at most N revisions (default 50)' }, config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['config history', 'config history --agent xa-lap-thach/pi-1'],
  },
  {
    command: 'config rollback',
    summary: 'set a scope back to an earlier revision (a new revision with its template)',
    usage: [`${SCOPE_USAGE} [--to REV] [--comment TEXT] [--config FILE]`],
    options: { ...SCOPE_OPTIONS, to: { type: 'string', arg: 'REV', help: 'the revision of that scope to go back to (default: the one before the newest)' }, comment: { type: 'string', arg: 'TEXT', help: 'why' }, config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['config rollback --site xa-lap-thach', 'config rollback --all --to 3'],
  },
];

export interface ConfigCliIo {
  stdout: (text: string) => void;
  /** The OS user (the audit log's `cli:USER`). */
  who: string;
}

function scopeOf(values: OptionValues, required: boolean): ConfigScope | undefined {
  const given: string[] = [];
  for (const kind of ['agent', 'site', 'area', 'province'] as const) {
    const v = stringOption(values, kind);
    if (v !== undefined) given.push(`${kind}:${v}`);
  }
  if (booleanOption(values, 'all')) given.push('all');
  if (given.length > 1) throw new HubError('E_USAGE', `give one scope, not ${given.join(' and ')}`);
  const [one] = given;
  if (one === undefined) {
    if (required) throw new HubError('E_USAGE', `a scope is required: ${SCOPE_USAGE}`);
    return undefined;
  }
  return parseScope(one);
}

function revOption(values: OptionValues, name: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new HubError('E_USAGE', `--${name} must be a revision number, got ${v}`);
  return Number(v);
}

async function readTemplate(values: OptionValues): Promise<string> {
  const file = stringOption(values, 'template');
  if (file === undefined) throw new HubError('E_USAGE', '--template FILE is required');
  try {
    return await readFile(file, 'utf8');
  } catch (err: unknown) {
    throw new HubError('E_USAGE', `cannot read the template ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

function previews(planned: readonly PlannedConfig[]): string {
  return planned.map((p) => `--- ${p.site}/${p.agent} (revision ${p.previousRev ?? 'none'} → new)\n${lineDiff(p.previousText ?? '', p.text)}\n`).join('');
}

export async function runConfigCommand(command: string, config: HubConfig, values: OptionValues, io: ConfigCliIo): Promise<number> {
  const store = ConfigStore.open(registryDbPath(config.registry.path), { busyTimeoutMs: config.registry.busyTimeoutMs });
  const audit = (action: string, target: string, detail: Record<string, unknown>): Promise<void> => new AuditLog(auditLogPath(config)).append({ who: `cli:${io.who}`, action, target, detail });
  try {
    switch (command) {
      case 'config set': {
        const scope = scopeOf(values, true) ?? { kind: 'all', target: '' };
        const template = await readTemplate(values);
        const comment = stringOption(values, 'comment');
        if (booleanOption(values, 'dry-run')) {
          const planned = store.plan(scope, template);
          io.stdout(`${previews(planned)}dry run: ${planned.length} agent(s) of ${formatScope(scope)} would get a new revision; nothing stored\n`);
          return 0;
        }
        const r = store.set({ scope, template, who: `cli:${io.who}`, ...(comment === undefined ? {} : { comment }) });
        await audit('config.set', formatScope(scope), { rev: r.rev, agents: r.agents.length, ...(comment === undefined ? {} : { comment }) });
        io.stdout(`revision ${r.rev} set for ${formatScope(scope)}: ${r.agents.length} agent(s); the running hub delivers it\n`);
        return 0;
      }
      case 'config rollback': {
        const scope = scopeOf(values, true) ?? { kind: 'all', target: '' };
        const to = revOption(values, 'to');
        const comment = stringOption(values, 'comment');
        const r = store.rollback({ scope, who: `cli:${io.who}`, ...(to === undefined ? {} : { to }), ...(comment === undefined ? {} : { comment }) });
        await audit('config.rollback', formatScope(scope), { rev: r.rev, to: r.from, agents: r.agents.length, ...(comment === undefined ? {} : { comment }) });
        io.stdout(`revision ${r.rev} set for ${formatScope(scope)} with the template of revision ${r.from}: ${r.agents.length} agent(s)\n`);
        return 0;
      }
      case 'config show': {
        const agent = stringOption(values, 'agent');
        const states = store.states();
        if (agent === undefined) {
          io.stdout(states.map((s) => `${s.site}/${s.agent}\t${s.rev}\t${s.last?.kind ?? 'pending'}\t${s.last?.at ?? ''}\n`).join(''));
          return 0;
        }
        const s = states.find((x) => `${x.site}/${x.agent}` === agent);
        if (s === undefined) throw new HubError('E_CONFIG_SCOPE', `${agent} has no config from the hub`);
        io.stdout(`# ${agent}: revision ${s.rev}, ${s.last?.kind ?? 'pending'}${s.last?.detail === undefined ? '' : ` (${s.last.detail})`}\n${store.rendered(s.site, s.agent, s.rev) ?? ''}`);
        return 0;
      }
      case 'config diff': {
        if (stringOption(values, 'template') !== undefined) {
          const scope = scopeOf(values, true) ?? { kind: 'all', target: '' };
          io.stdout(previews(store.plan(scope, await readTemplate(values))));
          return 0;
        }
        const agent = stringOption(values, 'agent');
        if (agent === undefined) throw new HubError('E_USAGE', 'config diff needs --agent SITE/AGENT, or a scope and --template FILE');
        const [site = '', name = ''] = agent.split('/');
        const to = revOption(values, 'to') ?? store.states().find((x) => x.site === site && x.agent === name)?.rev;
        const revs = store.events({ site, agent: name, limit: 1000 }).map((e) => e.rev);
        const mine = [...new Set([...revs, ...(to === undefined ? [] : [to])])].filter((r) => store.rendered(site, name, r) !== undefined).sort((a, b) => a - b);
        const from = revOption(values, 'from') ?? mine.filter((r) => to !== undefined && r < to).at(-1);
        if (to === undefined) throw new HubError('E_CONFIG_SCOPE', `${agent} has no config from the hub`);
        const b = store.rendered(site, name, to);
        if (b === undefined) throw new HubError('E_CONFIG_SCOPE', `${agent} has no config at revision ${to}`);
        const a = from === undefined ? '' : (store.rendered(site, name, from) ?? '');
        io.stdout(`--- ${agent} revision ${from ?? 'none'}\n+++ ${agent} revision ${to}\n${lineDiff(a, b)}\n`);
        return 0;
      }
      case 'config history': {
        const scope = scopeOf(values, false);
        const limit = revOption(values, 'limit') ?? 50;
        const agentScope = scope?.kind === 'agent' ? scope.target : undefined;
        const revisions = agentScope === undefined ? store.revisions(scope, limit) : store.revisions(undefined, 10_000).filter((r) => store.rendered(...(agentScope.split('/') as [string, string]), r.rev) !== undefined).slice(0, limit);
        const lines = revisions.map((r) => `${r.rev}\t${r.at}\t${r.who}\t${formatScope({ kind: r.scope, target: r.target })}\t${r.agents} agent(s)\t${r.rollbackOf === undefined ? '' : `rollback to ${r.rollbackOf}; `}${r.comment ?? ''}\n`);
        if (agentScope !== undefined) {
          const [site = '', agent = ''] = agentScope.split('/');
          lines.push(...store.events({ site, agent, limit }).map((e) => `  ${e.at}\trevision ${e.rev}\t${e.kind}${e.detail === undefined ? '' : `\t${e.detail}`}\n`));
        }
        io.stdout(lines.join(''));
        return 0;
      }
      default:
        throw new HubError('E_USAGE', `unknown command: ${command}`);
    }
  } finally {
    store.close();
  }
}
