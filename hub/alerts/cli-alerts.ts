// `ioc-hub alerts …`, `ioc-hub silences …`, `ioc-hub services token`: the alert API from the command line.
import { errorMessage } from '../../common/errors.ts';
import { ALERT_STATES } from '../../protocol/index.ts';
import {
  CONFIG_OPTION,
  LAUNCHER,
  booleanOption,
  configPath,
  findCommand,
  formatCommandHelp,
  formatOverview,
  parseCommand,
  stringOption,
  stringsOption,
  usageError,
  type CommandSpec,
  type OptionSpec,
  type OptionValues,
} from '../cli/cli-help.ts';
import { loadHubConfig } from '../config.ts';
import { HubError } from '../errors.ts';
import { generateToken, hashToken } from '../agents/token.ts';
import { parseDuration } from './duration.ts';
import { loadRulesFile } from './rules-file.ts';

export const ALERT_CLI_COMMANDS: ReadonlySet<string> = new Set(['alerts', 'silences', 'services']);

/** --url and --config of the CLI commands that talk to a running hub's API (alerts, silences, diag). */
export const URL_OPTION: OptionSpec = { type: 'string', arg: 'URL', help: "the hub's HTTP API (default $IOC_HUB_API_URL, else the config's http listener, else http://127.0.0.1:8080)" };
export const API_CONFIG_OPTION: OptionSpec = { ...CONFIG_OPTION, help: 'hub config whose http listener is the API, when neither --url nor IOC_HUB_API_URL is set (default $IOC_HUB_CONFIG)' };
const API_ENV: readonly (readonly [string, string])[] = [
  ['IOC_HUB_API_URL', 'the hub API, e.g. http://hub:8080 (npm run demo prints its own)'],
  ['IOC_HUB_API_TOKEN', 'NAME:TOKEN of a service account, sent as "Authorization: Bearer NAME:TOKEN" (writes need alerts:write)'],
  ['IOC_HUB_CONFIG', 'hub config file, used for the API address when IOC_HUB_API_URL is not set'],
];
const API_OPTIONS = { url: URL_OPTION, config: API_CONFIG_OPTION };

export const ALERT_COMMANDS: readonly CommandSpec[] = [
  {
    command: 'alerts list',
    summary: 'print the active alerts: id, state, severity, site, summary (tab-separated)',
    usage: ['[--state firing|acknowledged|pending|resolved] [--site SITE] [--url URL]'],
    options: {
      state: { type: 'string', arg: 'STATE', help: `only alerts in this state: ${ALERT_STATES.join(', ')}` },
      site: { type: 'string', arg: 'SITE', help: 'only alerts of this site' },
      ...API_OPTIONS,
    },
    env: API_ENV,
    examples: ['alerts list --state firing', 'alerts list --url http://hub:8080 --site xa-lap-thach'],
  },
  {
    command: 'alerts ack',
    summary: 'acknowledge an alert (needs a token with alerts:write)',
    usage: ['ID [--by NAME] [--url URL]'],
    options: { by: { type: 'string', arg: 'NAME', help: 'who acknowledges (default: the service account)' }, ...API_OPTIONS },
    env: API_ENV,
    examples: ['alerts ack a-1f2e3d --by "Nguyễn Văn A"'],
  },
  {
    command: 'alerts check-rules',
    summary: 'validate an alert rules file without a hub',
    usage: ['FILE'],
    options: {},
    examples: ['alerts check-rules hub/alerts/samples/alerts.yaml'],
  },
  {
    command: 'silences list',
    summary: 'print the silences and maintenance windows (JSON)',
    usage: ['[--url URL]'],
    options: API_OPTIONS,
    env: API_ENV,
    examples: ['silences list'],
  },
  {
    command: 'silences add',
    summary: 'silence alerts of sites, areas or rules for a while (needs alerts:write)',
    usage: ['(--site SITE… | --area AREA… | --rule RULE… | --all-sites) --duration 2h [--maintenance] [--comment TEXT] [--url URL]'],
    options: {
      site: { type: 'string', multiple: true, arg: 'SITE', help: 'silence this site' },
      area: { type: 'string', multiple: true, arg: 'AREA', help: 'silence every site of this area' },
      rule: { type: 'string', multiple: true, arg: 'RULE', help: 'silence this rule' },
      'all-sites': { type: 'boolean', help: 'silence every alert of the province (only on purpose)' },
      duration: { type: 'string', arg: 'DURATION', help: 'how long: 30m, 2h, 1d (required)' },
      maintenance: { type: 'boolean', help: 'a maintenance window rather than a plain silence' },
      comment: { type: 'string', arg: 'TEXT', help: 'why, shown with the silence' },
      ...API_OPTIONS,
    },
    env: API_ENV,
    examples: ['silences add --site xa-lap-thach --duration 2h --maintenance --comment "thay UPS"'],
  },
  {
    command: 'silences delete',
    summary: 'end a silence before its time (needs alerts:write)',
    usage: ['ID [--url URL]'],
    options: API_OPTIONS,
    env: API_ENV,
    examples: ['silences delete s-4b5c6d'],
  },
  {
    command: 'services token',
    summary: 'make a service account token and print the services: entry for hub.yaml',
    usage: ['--name NAME'],
    options: { name: { type: 'string', arg: 'NAME', help: 'the account name, a slug (MQTT user service:NAME)' } },
    examples: ['services token --name node-red'],
    notes: ['Prints `token: …` once, then the services: entry (only the scrypt hash of the token) to add to hub.yaml.'],
  },
];

export interface AlertCliIo {
  stdout: (t: string) => void;
  stderr: (t: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** The hub API base URL: --url, $IOC_HUB_API_URL, the config's http listener, or the default port. */
export function apiBase(values: OptionValues, env: Readonly<Record<string, string | undefined>>): string {
  const explicit = stringOption(values, 'url') ?? (env.IOC_HUB_API_URL === '' ? undefined : env.IOC_HUB_API_URL);
  if (explicit !== undefined) return explicit.replace(/\/+$/, '');
  const path = configPath(values, env);
  const http = loadHubConfig({ ...(path === undefined ? {} : { path }), env }).http;
  const host = http.host === '0.0.0.0' ? '127.0.0.1' : http.host === '::' ? '[::1]' : http.host;
  return `http://${host}:${http.port}`;
}

export async function runAlertCli(argv: readonly string[], io: AlertCliIo): Promise<number> {
  try {
    const found = findCommand(argv, ALERT_COMMANDS);
    if (found === undefined) return groupUsage(argv, io);
    const { spec } = found;
    const parsed = parseCommand('ioc-hub', spec, found.rest, true);
    if (parsed.help) {
      io.stdout(formatCommandHelp('ioc-hub', spec));
      return 0;
    }
    const { values, positionals } = parsed;
    const usage = (message: string): HubError => usageError('ioc-hub', spec, message);
    const takesId = spec.command === 'alerts ack' || spec.command === 'silences delete' || spec.command === 'alerts check-rules';
    if (positionals.length > (takesId ? 1 : 0)) throw usage(`${spec.command}: unexpected argument ${JSON.stringify(positionals.at(-1))}`);
    const arg = positionals[0];
    const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const base = apiBase(values, io.env);
      if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) throw usage(`the hub API URL must be http(s)://host:port, not "${base}" (--url or IOC_HUB_API_URL)`);
      // Reads send the token too: a hub may require it for /api/alerts and /api/sites.
      const token = io.env.IOC_HUB_API_TOKEN;
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err: unknown) {
        throw new Error(`cannot reach the hub API at ${base}: ${networkReason(err)}`);
      }
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${apiErrorText(text)}`);
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    };
    const print = (v: unknown): void => io.stdout(`${JSON.stringify(v, null, 2)}\n`);
    switch (spec.command) {
      case 'alerts list': {
        const q = new URLSearchParams();
        const state = stringOption(values, 'state');
        const site = stringOption(values, 'site');
        if (state !== undefined && !(ALERT_STATES as readonly string[]).includes(state)) throw usage(`--state must be one of ${ALERT_STATES.join(', ')}`);
        if (state !== undefined) q.set('state', state);
        if (site !== undefined) q.set('site', site);
        const { alerts } = (await call('GET', `/api/alerts?${q}`)) as { alerts: { id: string; state: string; severity: string; site: string; summary: { vi: string } }[] };
        for (const a of alerts) io.stdout(`${a.id}\t${a.state}\t${a.severity}\t${a.site}\t${a.summary.vi}\n`);
        return 0;
      }
      case 'alerts ack': {
        if (arg === undefined) throw usage('alerts ack needs an alert id');
        const by = stringOption(values, 'by');
        print(await call('POST', `/api/alerts/${encodeURIComponent(arg)}/ack`, by === undefined ? {} : { by }));
        return 0;
      }
      case 'alerts check-rules': {
        if (arg === undefined) throw usage('alerts check-rules needs a file');
        const rules = loadRulesFile(arg);
        io.stdout(`${arg}: ${rules.rules.length} rules OK (${rules.rules.map((r) => `${r.name}:${r.type}`).join(', ')})\n`);
        return 0;
      }
      case 'silences list':
        print(await call('GET', '/api/silences'));
        return 0;
      case 'silences add': {
        const duration = stringOption(values, 'duration');
        const ms = parseDuration(duration ?? '');
        if (ms === undefined || ms <= 0) throw usage(duration === undefined ? '--duration is required, e.g. 2h' : `--duration "${duration}" is not a duration such as 30m, 2h or 1d`);
        const sites = stringsOption(values, 'site');
        const areas = stringsOption(values, 'area');
        const rules = stringsOption(values, 'rule');
        // A silence without a selector mutes the whole province: only on purpose.
        if (sites === undefined && areas === undefined && rules === undefined && !booleanOption(values, 'all-sites')) {
          throw usage('silences add needs --site, --area or --rule (or --all-sites to silence every alert of the province)');
        }
        print(
          await call('POST', '/api/silences', {
            ...(sites === undefined ? {} : { sites }),
            ...(areas === undefined ? {} : { areas }),
            ...(rules === undefined ? {} : { rules }),
            ...(booleanOption(values, 'all-sites') && sites === undefined && areas === undefined ? { allSites: true } : {}),
            endsAt: Date.now() + ms,
            kind: booleanOption(values, 'maintenance') ? 'maintenance' : 'silence',
            comment: stringOption(values, 'comment') ?? '',
          }),
        );
        return 0;
      }
      case 'silences delete':
        if (arg === undefined) throw usage('silences delete needs a silence id');
        await call('DELETE', `/api/silences/${encodeURIComponent(arg)}`);
        return 0;
      case 'services token': {
        const name = stringOption(values, 'name');
        if (name === undefined || !/^[a-z0-9-]{1,64}$/.test(name)) throw usage('--name must be a slug');
        const token = generateToken();
        io.stdout(`token: ${token}\n# MQTT user service:${name}, API header "Authorization: Bearer ${name}:<token>"\nservices:\n  - name: ${name}\n    tokenHash: ${await hashToken(token)}\n    subscribe: ['ioc/v1/alerts/#']\n    api: [alerts:write]\n`);
        return 0;
      }
      default:
        throw usage(`unknown command: ${spec.command}`);
    }
  } catch (err: unknown) {
    io.stderr(`ioc-hub: ${errorMessage(err)}\n`);
    return err instanceof HubError && err.code === 'E_USAGE' ? 2 : 1;
  }
}

/** `ioc-hub alerts` without its command, or `ioc-hub silences mute`: the group's commands; --help on the group exits 0. */
function groupUsage(argv: readonly string[], io: AlertCliIo): number {
  const group = argv[0] ?? '';
  const text = formatOverview('ioc-hub', `${group} commands (the hub API at --url or IOC_HUB_API_URL; writes need IOC_HUB_API_TOKEN=NAME:TOKEN)`, ALERT_COMMANDS.filter((c) => c.command.startsWith(`${group} `)), [`Run '${LAUNCHER} ${group} COMMAND --help' for a command's options.`], true);
  if (argv[1] === '--help' || argv[1] === '-h') {
    io.stdout(text);
    return 0;
  }
  io.stderr(`ioc-hub: ${argv[1] === undefined || argv[1].startsWith('-') ? `${group} needs a command` : `unknown command: ${group} ${argv[1]}`}\n${text}`);
  return 2;
}

/** `{code, error}` of a hub API error as one line; any other body as it is (shortened). */
export function apiErrorText(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null) {
      const { code, error, message } = body as Record<string, unknown>;
      // ours: {code, error}; fastify's own: {statusCode, code?, error: 'Bad Request', message}
      const msg = typeof message === 'string' ? (typeof error === 'string' ? `${error}: ${message}` : message) : typeof error === 'string' ? error : undefined;
      if (msg !== undefined) return typeof code === 'string' ? `${code}: ${msg}` : msg;
    }
  } catch {
    // not JSON
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Why fetch failed, without its stack: ECONNREFUSED, ENOTFOUND, timeout… */
export function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'no answer within 10 s';
  const cause = err instanceof Error ? err.cause : undefined;
  if (typeof cause === 'object' && cause !== null) {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return errorMessage(err);
}
