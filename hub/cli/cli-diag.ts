// `ioc-hub diag run SITE/AGENT COMMAND …` and `ioc-hub diag log`: remote diagnostics through a running hub's API
// (POST /api/agents/:site/:agent/diagnostics, GET /api/diagnostics), with a service token holding diagnostics:run.
import { errorMessage } from '../../common/errors.ts';
import { DIAG_HUB_TIMEOUT_MS, DIAGNOSTIC_COMMANDS, isDiagnosticCommand, type DiagnosticCommand } from '../../protocol/index.ts';
import { API_CONFIG_OPTION, apiBase, apiErrorText, networkReason, URL_OPTION } from '../alerts/cli-alerts.ts';
import type { AuditEntry } from '../auth/audit-log.ts';
import { HubError } from '../errors.ts';
import {
  LAUNCHER,
  booleanOption,
  findCommand,
  formatCommandHelp,
  formatOverview,
  parseCommand,
  stringOption,
  usageError,
  type CommandSpec,
  type OptionSpec,
  type OptionValues,
} from './cli-help.ts';

export const DIAG_CLI_COMMANDS: ReadonlySet<string> = new Set(['diag']);

const API_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: URL_OPTION,
  token: { type: 'string', arg: 'NAME:TOKEN', help: 'a service account holding diagnostics:run (default $IOC_HUB_API_TOKEN)' },
  config: API_CONFIG_OPTION,
  json: { type: 'boolean', help: "print the hub's JSON answer as it is" },
};
const API_ENV: readonly (readonly [string, string])[] = [
  ['IOC_HUB_API_URL', 'the hub API, e.g. http://hub:8080'],
  ['IOC_HUB_API_TOKEN', 'NAME:TOKEN of a service account with diagnostics:run (`services token`, then api: [diagnostics:run] in hub.yaml)'],
  ['IOC_HUB_CONFIG', 'hub config file, used for the API address when IOC_HUB_API_URL is not set'],
];

/** The command's option → its argument name and whether it is a number. */
const ARG_OPTIONS: Readonly<Record<string, { arg: string; number: boolean; help: string }>> = {
  host: { arg: 'host', number: false, help: 'ping, traceroute: the host name or IP address' },
  count: { arg: 'count', number: true, help: 'ping: echo requests, 1-20 (default 4)' },
  timeout: { arg: 'timeoutS', number: true, help: 'ping: seconds to wait for each reply, 1-10 (default 2)' },
  'max-hops': { arg: 'maxHops', number: true, help: 'traceroute: 1-30 (default 15)' },
  wait: { arg: 'waitS', number: true, help: 'traceroute: seconds to wait for each probe, 1-5 (default 2)' },
  queries: { arg: 'queries', number: true, help: 'traceroute: probes per hop, 1-3 (default 1)' },
  name: { arg: 'name', number: false, help: 'dns: the name to resolve; restart-collector: the collector (its label, e.g. icmp:gateway, or name)' },
  type: { arg: 'type', number: false, help: 'dns: A (default), AAAA, MX, TXT, NS, CNAME, SOA, SRV, PTR' },
  server: { arg: 'server', number: false, help: "dns: ask this server (IP[:PORT]) instead of the Pi's resolver" },
  lines: { arg: 'lines', number: true, help: "logs: the agent's newest N log lines, 1-500 (default 100)" },
};

/** The options each command takes (others are refused), with its help's usage and example. */
const RUN_SPECS: Readonly<Record<DiagnosticCommand, { options: readonly string[]; summary: string; example: string }>> = {
  ping: { options: ['host', 'count', 'timeout'], summary: 'ping a host from the agent (the real ping)', example: '--host 1.1.1.1 --count 4' },
  traceroute: { options: ['host', 'max-hops', 'wait', 'queries'], summary: 'the route from the agent to a host (the real traceroute)', example: '--host 1.1.1.1 --max-hops 15' },
  dns: { options: ['name', 'type', 'server'], summary: "resolve a name on the agent, with its resolver or a given server", example: '--name dichvucong.gov.vn --server 8.8.8.8' },
  logs: { options: ['lines'], summary: "the agent's newest log lines", example: '--lines 100' },
  'restart-collector': { options: ['name'], summary: 'restart one collector of the agent', example: '--name icmp:gateway' },
  'probe-now': { options: [], summary: 'run every collector of the agent now', example: '' },
};

const argOption = (k: string): OptionSpec => {
  const o = ARG_OPTIONS[k];
  return { type: 'string', arg: o?.number === true ? 'N' : 'VALUE', help: o?.help ?? k };
};

/** `diag run COMMAND --help`: the command's own options. */
function runSpecOf(command: DiagnosticCommand): CommandSpec {
  const r = RUN_SPECS[command];
  return {
    command: `diag run ${command}`,
    summary: `${r.summary} (through the hub; recorded in the audit log)`,
    usage: [`SITE/AGENT ${r.options.map((o) => `[--${o} ${argOption(o).arg ?? ''}]`).join(' ')} [--json] [--url URL] [--token NAME:TOKEN]`.replace(/ {2,}/g, ' ')],
    options: { ...Object.fromEntries(r.options.map((o) => [o, argOption(o)])), ...API_OPTIONS },
    env: API_ENV,
    examples: [`diag run xa-lap-thach/pi-1 ${command}${r.example === '' ? '' : ` ${r.example}`}`],
    notes: ['SITE/AGENT and the command may come in either order. Exit 0 when the agent ran it, 1 when the hub or the agent refused it (the error is printed).'],
  };
}

export const DIAG_COMMANDS: readonly CommandSpec[] = [
  {
    command: 'diag run',
    summary: 'run a diagnostic on an agent through the hub (recorded in the audit log): ping, traceroute, dns, logs, restart-collector, probe-now',
    usage: [`SITE/AGENT (${DIAGNOSTIC_COMMANDS.join('|')}) [--host H] [--count N] [--name NAME] [--server IP] [--lines N] … [--json] [--url URL] [--token NAME:TOKEN]`],
    options: { ...Object.fromEntries(Object.keys(ARG_OPTIONS).map((k) => [k, argOption(k)])), ...API_OPTIONS },
    env: API_ENV,
    examples: ['diag run xa-lap-thach/pi-1 ping --host 1.1.1.1', 'diag run xa-lap-thach/pi-1 dns --name portal.gov.vn --server 8.8.8.8', 'diag run xa-lap-thach/pi-1 logs --lines 50', 'diag run xa-lap-thach/pi-1 restart-collector --name icmp:gateway'],
    notes: ["`diag run COMMAND --help` lists a command's own options.", 'Exit 0 when the agent ran it, 1 when the hub or the agent refused it (wrong argument, offline agent, timeout): the error is printed.'],
  },
  {
    command: 'diag log',
    summary: 'the diagnostics run on agents, newest first: when, who, command, agent, outcome, duration, error (tab-separated)',
    usage: ['[--site SITE] [--agent AGENT] [--limit N] [--json] [--url URL] [--token NAME:TOKEN]'],
    options: {
      site: { type: 'string', arg: 'SITE', help: "only this site's agents" },
      agent: { type: 'string', arg: 'AGENT', help: 'only this agent (with --site)' },
      limit: { type: 'string', arg: 'N', help: 'at most N entries, 1-500 (default 50)' },
      ...API_OPTIONS,
    },
    env: API_ENV,
    examples: ['diag log --site xa-lap-thach', 'diag log --limit 10 --json'],
  },
];

export interface DiagCliIo {
  stdout: (t: string) => void;
  stderr: (t: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

interface DiagAnswer {
  ok: boolean;
  command: string;
  durationMs?: number;
  result?: unknown;
  error?: string;
  code?: string;
}

export async function runDiagCli(argv: readonly string[], io: DiagCliIo): Promise<number> {
  try {
    const found = findCommand(argv, DIAG_COMMANDS);
    if (found === undefined) return groupUsage(argv, io);
    const { spec } = found;
    const parsed = parseCommand('ioc-hub', spec, found.rest, spec.command === 'diag run');
    const { values, positionals } = parsed;
    const named = positionals.find((p) => isDiagnosticCommand(p));
    if (parsed.help) {
      io.stdout(formatCommandHelp('ioc-hub', spec.command === 'diag run' && named !== undefined && isDiagnosticCommand(named) ? runSpecOf(named) : spec));
      return 0;
    }
    const usage = (message: string): HubError => usageError('ioc-hub', spec, message);
    const call = async (method: 'GET' | 'POST', path: string, timeoutMs: number, body?: unknown): Promise<{ status: number; text: string }> => {
      const base = apiBase(values, io.env);
      if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) throw usage(`the hub API URL must be http(s)://host:port, not "${base}" (--url or IOC_HUB_API_URL)`);
      const token = stringOption(values, 'token') ?? io.env.IOC_HUB_API_TOKEN;
      try {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        return { status: res.status, text: await res.text() };
      } catch (err: unknown) {
        if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) throw new Error(`no answer from the hub API at ${base} within ${Math.round(timeoutMs / 1000)} s`);
        throw new Error(`cannot reach the hub API at ${base}: ${networkReason(err)}`);
      }
    };
    if (spec.command === 'diag run') {
      // SITE/AGENT COMMAND, or COMMAND SITE/AGENT
      const target = positionals.find((p) => p.includes('/'));
      const command = positionals.find((p) => p !== target);
      const extra = positionals.find((p) => p !== target && p !== command);
      const m = /^([a-z0-9-]{1,64})\/([a-z0-9-]{1,64})$/.exec(target ?? '');
      if (m === null) throw usage(`diag run needs SITE/AGENT, e.g. xa-lap-thach/pi-1${target === undefined ? '' : ` (not ${JSON.stringify(target)})`}`);
      if (command === undefined || !isDiagnosticCommand(command)) throw usage(`diag run needs a command: ${DIAGNOSTIC_COMMANDS.join(', ')}${command === undefined ? '' : ` (not ${JSON.stringify(command)})`}`);
      if (extra !== undefined) throw usage(`diag run: unexpected argument ${JSON.stringify(extra)}`);
      const other = Object.keys(ARG_OPTIONS).find((o) => values[o] !== undefined && !RUN_SPECS[command].options.includes(o));
      if (other !== undefined) throw usage(`diag run ${command} takes no --${other}${RUN_SPECS[command].options.length === 0 ? '' : ` (it takes ${RUN_SPECS[command].options.map((o) => `--${o}`).join(', ')})`}`);
      const args = argsOf(values, usage);
      const path = `/api/agents/${m[1] ?? ''}/${m[2] ?? ''}/diagnostics`;
      const r = await call('POST', path, DIAG_HUB_TIMEOUT_MS[command] + 10_000, { command, args });
      const answer = parseAnswer(r.text);
      if (booleanOption(values, 'json')) io.stdout(`${r.text}\n`);
      if (answer === undefined || r.status >= 300 || !answer.ok) {
        io.stderr(`ioc-hub: ${command} on ${m[1] ?? ''}/${m[2] ?? ''}: ${r.status} ${answer === undefined ? apiErrorText(r.text) : `${answer.code ?? 'E_DIAG'}: ${answer.error ?? 'failed'}`}\n`);
        return 1;
      }
      if (!booleanOption(values, 'json')) io.stdout(formatResult(command, answer));
      return 0;
    }
    // diag log
    if (positionals.length > 0) throw usage(`diag log: unexpected argument ${JSON.stringify(positionals[0])}`);
    const q = new URLSearchParams();
    for (const k of ['site', 'agent', 'limit']) {
      const v = stringOption(values, k);
      if (v !== undefined) q.set(k, v);
    }
    const r = await call('GET', `/api/diagnostics?${q}`, 10_000);
    if (r.status !== 200) throw new Error(`GET /api/diagnostics: ${r.status} ${apiErrorText(r.text)}`);
    if (booleanOption(values, 'json')) {
      io.stdout(`${r.text}\n`);
      return 0;
    }
    const { diagnostics } = JSON.parse(r.text) as { diagnostics: AuditEntry[] };
    for (const e of diagnostics) {
      const d = e.detail ?? {};
      const error = typeof d.error === 'string' ? d.error.replace(/\s+/g, ' ') : '';
      io.stdout(`${e.at}\t${e.who}\t${e.action.replace(/^diagnostics\./, '')}\t${e.target ?? ''}\t${String(d.outcome ?? '')}\t${String(d.durationMs ?? '')} ms\t${JSON.stringify(d.args ?? {})}\t${error}\n`);
    }
    return 0;
  } catch (err: unknown) {
    io.stderr(`ioc-hub: ${errorMessage(err)}\n`);
    return err instanceof HubError && err.code === 'E_USAGE' ? 2 : 1;
  }
}

/** The command's arguments from the options given (the hub and the agent check them). */
function argsOf(values: OptionValues, usage: (m: string) => HubError): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [opt, o] of Object.entries(ARG_OPTIONS)) {
    const v = stringOption(values, opt);
    if (v === undefined) continue;
    if (o.number && !/^\d{1,9}$/.test(v)) throw usage(`--${opt} must be a whole number, not ${JSON.stringify(v)}`);
    args[o.arg] = o.number ? Number(v) : v;
  }
  return args;
}

function parseAnswer(text: string): DiagAnswer | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && 'ok' in v ? (v as DiagAnswer) : undefined;
  } catch {
    return undefined;
  }
}

/** What an operator reads: the program's own output, the answers, the log lines. */
function formatResult(command: DiagnosticCommand, a: DiagAnswer): string {
  const r = (a.result ?? {}) as Record<string, unknown>;
  const tail = `(${command} took ${a.durationMs ?? '?'} ms on the agent and back${r.truncated === true ? '; output cut to its bound' : ''})\n`;
  switch (command) {
    case 'ping':
    case 'traceroute': {
      const out = typeof r.output === 'string' ? r.output : '';
      return `${out}${out.endsWith('\n') || out === '' ? '' : '\n'}exit ${String(r.exitCode)}${r.timedOut === true ? ' (killed at its timeout)' : ''} ${tail}`;
    }
    case 'dns':
      return `${String(r.name)} ${String(r.type)} via ${String(r.server)}: ${JSON.stringify(r.answers)} ${tail}`;
    case 'logs': {
      const lines = Array.isArray(r.lines) ? r.lines.map(String) : [];
      return `${lines.map((l) => `${l}\n`).join('')}${tail}`;
    }
    default:
      return `${JSON.stringify(a.result)}\n${tail}`;
  }
}

function groupUsage(argv: readonly string[], io: DiagCliIo): number {
  const text = formatOverview('ioc-hub', 'diag commands (the hub API at --url or IOC_HUB_API_URL; IOC_HUB_API_TOKEN=NAME:TOKEN with diagnostics:run)', DIAG_COMMANDS, [`Run '${LAUNCHER} diag COMMAND --help' for a command's options.`], true);
  if (argv[1] === '--help' || argv[1] === '-h') {
    io.stdout(text);
    return 0;
  }
  io.stderr(`ioc-hub: ${argv[1] === undefined || argv[1].startsWith('-') ? 'diag needs a command' : `unknown command: diag ${argv[1]}`}\n${text}`);
  return 2;
}
