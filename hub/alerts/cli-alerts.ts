// `ioc-hub alerts …`, `ioc-hub silences …`, `ioc-hub services token`: the alert API from the command line.
import { parseArgs } from 'node:util';
import { ALERT_STATES } from '../../protocol/index.ts';
import { generateToken, hashToken } from '../token.ts';
import { parseDuration } from './duration.ts';
import { loadRulesFile } from './rules-file.ts';

export const ALERT_CLI_COMMANDS: ReadonlySet<string> = new Set(['alerts', 'silences', 'services']);

export const ALERT_USAGE = `usage (API at --url or IOC_HUB_API_URL, default http://127.0.0.1:8080; writes need IOC_HUB_API_TOKEN=NAME:TOKEN):
  ioc-hub alerts list [--state firing|acknowledged|pending|resolved] [--site SITE]
  ioc-hub alerts ack ID [--by NAME]
  ioc-hub alerts check-rules FILE
  ioc-hub silences list
  ioc-hub silences add (--site S… | --area A… | --rule R… | --all-sites) --duration 2h [--maintenance] [--comment TEXT]
  ioc-hub silences delete ID
  ioc-hub services token --name NAME      (prints a token and the services: entry for hub.yaml)
`;

export interface AlertCliIo {
  stdout: (t: string) => void;
  stderr: (t: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

export async function runAlertCli(argv: readonly string[], io: AlertCliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        state: { type: 'string' },
        site: { type: 'string', multiple: true },
        area: { type: 'string', multiple: true },
        rule: { type: 'string', multiple: true },
        by: { type: 'string' },
        duration: { type: 'string' },
        comment: { type: 'string' },
        maintenance: { type: 'boolean' },
        'all-sites': { type: 'boolean' },
        name: { type: 'string' },
      },
    });
    const base = (values.url ?? io.env.IOC_HUB_API_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) throw new Error(`the hub API URL must be http(s)://host:port, not "${base}" (--url or IOC_HUB_API_URL)`);
      const token = io.env.IOC_HUB_API_TOKEN;
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
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
    const [group, cmd, arg] = positionals;
    switch (`${group} ${cmd}`) {
      case 'alerts list': {
        const q = new URLSearchParams();
        if (values.state !== undefined && !(ALERT_STATES as readonly string[]).includes(values.state)) throw new Error(`--state must be one of ${ALERT_STATES.join(', ')}`);
        if (values.state !== undefined) q.set('state', values.state);
        if (values.site?.[0] !== undefined) q.set('site', values.site[0]);
        const { alerts } = (await call('GET', `/api/alerts?${q}`)) as { alerts: { id: string; state: string; severity: string; site: string; summary: { vi: string } }[] };
        for (const a of alerts) io.stdout(`${a.id}\t${a.state}\t${a.severity}\t${a.site}\t${a.summary.vi}\n`);
        return 0;
      }
      case 'alerts ack':
        if (arg === undefined) throw new Error('alerts ack needs an alert id');
        print(await call('POST', `/api/alerts/${encodeURIComponent(arg)}/ack`, values.by === undefined ? {} : { by: values.by }));
        return 0;
      case 'alerts check-rules': {
        if (arg === undefined) throw new Error('alerts check-rules needs a file');
        const rules = loadRulesFile(arg);
        io.stdout(`${arg}: ${rules.rules.length} rules OK (${rules.rules.map((r) => `${r.name}:${r.type}`).join(', ')})\n`);
        return 0;
      }
      case 'silences list':
        print(await call('GET', '/api/silences'));
        return 0;
      case 'silences add': {
        const ms = parseDuration(values.duration ?? '');
        if (ms === undefined || ms <= 0) throw new Error(values.duration === undefined ? '--duration is required, e.g. 2h' : `--duration "${values.duration}" is not a duration such as 30m, 2h or 1d`);
        // A silence without a selector mutes the whole province: only on purpose.
        if (values.site === undefined && values.area === undefined && values.rule === undefined && values['all-sites'] !== true) {
          throw new Error('silences add needs --site, --area or --rule (or --all-sites to silence every alert of the province)');
        }
        print(
          await call('POST', '/api/silences', {
            ...(values.site === undefined ? {} : { sites: values.site }),
            ...(values.area === undefined ? {} : { areas: values.area }),
            ...(values.rule === undefined ? {} : { rules: values.rule }),
            ...(values['all-sites'] === true && values.site === undefined && values.area === undefined ? { allSites: true } : {}),
            endsAt: Date.now() + ms,
            kind: values.maintenance === true ? 'maintenance' : 'silence',
            comment: values.comment ?? '',
          }),
        );
        return 0;
      }
      case 'silences delete':
        if (arg === undefined) throw new Error('silences delete needs a silence id');
        await call('DELETE', `/api/silences/${encodeURIComponent(arg)}`);
        return 0;
      case 'services token': {
        const name = values.name;
        if (name === undefined || !/^[a-z0-9-]{1,64}$/.test(name)) throw new Error('--name must be a slug');
        const token = generateToken();
        io.stdout(`token: ${token}\n# MQTT user service:${name}, API header "Authorization: Bearer ${name}:<token>"\nservices:\n  - name: ${name}\n    tokenHash: ${await hashToken(token)}\n    subscribe: ['ioc/v1/alerts/#']\n    api: [alerts:write]\n`);
        return 0;
      }
      default:
        io.stderr(ALERT_USAGE);
        return 2;
    }
  } catch (err: unknown) {
    io.stderr(`ioc-hub: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** `{code, error}` of a hub API error as one line; any other body as it is (shortened). */
function apiErrorText(text: string): string {
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
function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'no answer within 10 s';
  const cause = err instanceof Error ? err.cause : undefined;
  if (typeof cause === 'object' && cause !== null) {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return err instanceof Error ? err.message : String(err);
}
