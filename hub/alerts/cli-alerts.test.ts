// `ioc-hub alerts / silences / services` against a running in-process hub (real broker, HTTP API and alert
// engine; a real agent connection whose last will raises the alert): output, exit codes, and errors people can read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { agentIdentity, statusTopic, type AlertRecord, type Status } from '../../protocol/index.ts';
import { runProgram } from '../../testkit/child-process.ts';
import { freePort } from '../../testkit/free-port.ts';
import { parseHubConfig } from '../config.ts';
import { Hub } from '../hub.ts';
import type { HubPoint, Sink } from '../write/sink.ts';
import { generateToken, hashToken, verifyToken } from '../agents/token.ts';
import { runAlertCli } from './cli-alerts.ts';
import { serviceAccountSchema } from '../auth/service-accounts.ts';

const LOW_SCRYPT = { N: 1024, r: 8, p: 1 };
const SITE = 'xa-a';

class NullSink implements Sink {
  readonly points: HubPoint[] = [];
  async write(points: readonly HubPoint[]): Promise<void> {
    this.points.push(...points);
  }
}

let dir = '';
let hub: Hub;
let url = '';
let token = '';
let agent: MqttClient | undefined;
let alertId = '';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: readonly string[], env: Record<string, string | undefined> = { IOC_HUB_API_TOKEN: `ops:${token}` }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runAlertCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

/** Exit 1 with one `ioc-hub: …` line that matches, and no stack trace. */
function expectError(r: Run, message: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^ioc-hub: [^\n]+\n$/);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\bat .+:\d+:\d+/);
}

/** Exit 2 with the `ioc-hub: …` line that matches, then the line that names the command's --help; no stack trace. */
function expectUsageError(r: Run, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^ioc-hub: [^\n]+\nioc-hub: run 'npx ioc-hub [a-z -]+--help' for [^\n]+\n$/);
  expect(r.stderr.split('\n')[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\bat .+:\d+:\d+/);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ioc-cli-alerts-'));
  const rulesFile = join(dir, 'alerts.yaml');
  writeFileSync(rulesFile, 'rules:\n  - { name: site-offline, type: agent-offline, for: 300ms, clearFor: 300ms }\n');
  token = generateToken();
  hub = new Hub(
    parseHubConfig({
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      registry: { path: join(dir, 'registry.json') },
      log: { level: 'silent' },
      alerts: { rulesFile, startupGrace: '200ms', evaluateIntervalMs: 50 },
      services: [{ name: 'ops', tokenHash: await hashToken(token, LOW_SCRYPT), api: ['alerts:write'] }, { name: 'viewer', tokenHash: await hashToken(token, LOW_SCRYPT) }],
    }),
    { sink: new NullSink(), registry: { scrypt: LOW_SCRYPT } },
  );
  await hub.start();
  url = `http://127.0.0.1:${hub.httpPort}`;
  await hub.registry.upsertSite({ slug: SITE, name: 'Xã A', code: '00001', province: 'vinh-phuc', provinceName: 'Vĩnh Phúc', area: 'tam-dao', areaName: 'Tam Đảo', lat: 21.4, lon: 105.6 });
  const agentToken = (await hub.registry.enroll(SITE, 'pi-1')).token;
  await new Promise((r) => setTimeout(r, 300)); // past the startup grace

  // An agent that goes away without DISCONNECT: its will raises site-offline.
  const id = agentIdentity(SITE, 'pi-1');
  const status = (online: boolean): string => JSON.stringify({ online, ts: Date.now(), version: 'test', bootId: 'b', configRev: 1, clockSynced: true } satisfies Status);
  agent = await connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
    clientId: id,
    username: id,
    password: agentToken,
    protocolVersion: 4,
    reconnectPeriod: 0,
    will: { topic: statusTopic(SITE, 'pi-1'), payload: Buffer.from(status(false)), qos: 1, retain: true },
  });
  await agent.publishAsync(statusTopic(SITE, 'pi-1'), status(true), { qos: 1, retain: true });
  agent.stream.destroy();
  agent.end(true);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const res = (await (await fetch(`${url}/api/alerts?state=firing`, { headers: { authorization: `Bearer ops:${token}` } })).json()) as { alerts: AlertRecord[] };
    alertId = res.alerts[0]?.id ?? '';
    if (alertId !== '') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (alertId === '') throw new Error('no firing alert');
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('ioc-hub alerts', () => {
  it('list prints one line per active alert, filtered by state and site', async () => {
    const all = await cli(['alerts', 'list', '--url', url]);
    expect(all).toEqual({ code: 0, stdout: `${alertId}\tfiring\tcritical\t${SITE}\tMất kết nối với điểm ${SITE} (thiết bị pi-1)\n`, stderr: '' });
    expect((await cli(['alerts', 'list', '--url', url, '--state', 'firing', '--site', SITE])).stdout).toBe(all.stdout);
    expect(await cli(['alerts', 'list', '--url', url, '--site', 'xa-khac'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await cli(['alerts', 'list', '--state', 'acknowledged'], { IOC_HUB_API_URL: url, IOC_HUB_API_TOKEN: `ops:${token}` })).stdout).toBe('');
    // reads need a token with alerts:read (or alerts:write) too
    expectError(await cli(['alerts', 'list', '--url', url], {}), /GET \/api\/alerts\?: 401 E_AUTH: a service token with alerts:read is required/);
    expectError(await cli(['alerts', 'list', '--url', url], { IOC_HUB_API_TOKEN: `viewer:${token}` }), /: 401 E_AUTH/);
    expectUsageError(await cli(['alerts', 'list', '--url', url, '--state', 'burning']), /--state must be one of pending, firing, acknowledged, resolved/);
  });

  it('ack needs a writer token, an existing id, and records who acknowledged', async () => {
    expectError(await cli(['alerts', 'ack', alertId, '--url', url], {}), /POST \/api\/alerts\/.+\/ack: 401 E_AUTH: a service token with alerts:write is required/);
    expectError(await cli(['alerts', 'ack', alertId, '--url', url], { IOC_HUB_API_TOKEN: 'ops:wrong' }), /: 401 E_AUTH/);
    expectError(await cli(['alerts', 'ack', alertId, '--url', url], { IOC_HUB_API_TOKEN: `viewer:${token}` }), /: 401 E_AUTH/); // no alerts:write scope
    expectUsageError(await cli(['alerts', 'ack', '--url', url]), /alerts ack needs an alert id/);
    expectError(await cli(['alerts', 'ack', 'a-nope', '--url', url]), /404 E_ALERT_NOT_FOUND: no active alert a-nope/);

    const ok = await cli(['alerts', 'ack', alertId, '--by', 'ky-thuat-an', '--url', url]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { alert: AlertRecord }).alert).toMatchObject({ id: alertId, state: 'acknowledged', ackedBy: 'ky-thuat-an' });
    expect((await cli(['alerts', 'list', '--url', url, '--state', 'acknowledged'])).stdout).toMatch(new RegExp(`^${alertId}\tacknowledged\t`));
    expect((await cli(['alerts', 'list', '--url', url, '--state', 'firing'])).stdout).toBe('');
  });

  it('check-rules validates a rules file', async () => {
    const good = join(dir, 'alerts.yaml');
    expect(await cli(['alerts', 'check-rules', good])).toEqual({ code: 0, stdout: `${good}: 1 rules OK (site-offline:agent-offline)\n`, stderr: '' });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules:\n  - { name: x, type: agent-offline, for: soon }\n');
    expectError(await cli(['alerts', 'check-rules', bad]), /invalid .*bad\.yaml.*for/);
    expectError(await cli(['alerts', 'check-rules', join(dir, 'missing.yaml')]), /cannot read alert rules .*missing\.yaml/);
    expectUsageError(await cli(['alerts', 'check-rules']), /needs a file/);
  });
});

describe('ioc-hub silences', () => {
  it('add, list, delete, with clear errors for bad input', async () => {
    expectUsageError(await cli(['silences', 'add', '--site', SITE, '--url', url]), /--duration is required, e\.g\. 2h/);
    expectUsageError(await cli(['silences', 'add', '--site', SITE, '--duration', 'soon', '--url', url]), /--duration "soon" is not a duration such as 30m, 2h or 1d/);
    expectUsageError(await cli(['silences', 'add', '--site', SITE, '--duration', '0s', '--url', url]), /--duration "0s" is not a duration/);
    expectUsageError(await cli(['silences', 'add', '--duration', '2h', '--url', url]), /needs --site, --area or --rule \(or --all-sites/);
    expectError(await cli(['silences', 'add', '--site', SITE, '--duration', '2h', '--url', url], {}), /POST \/api\/silences: 401 E_AUTH/);

    const before = Date.now();
    const added = await cli(['silences', 'add', '--site', SITE, '--rule', 'site-offline', '--duration', '2h', '--maintenance', '--comment', 'thay modem', '--url', url]);
    expect(added.code, added.stderr).toBe(0);
    const { silence } = JSON.parse(added.stdout) as { silence: { id: string; endsAt: number; startsAt: number } };
    expect(silence).toMatchObject({ kind: 'maintenance', sites: [SITE], rules: ['site-offline'], createdBy: 'ops', comment: 'thay modem' });
    expect(silence.endsAt - before).toBeGreaterThanOrEqual(2 * 3_600_000);
    expect(silence.endsAt - before).toBeLessThan(2 * 3_600_000 + 10_000);

    expectError(await cli(['silences', 'list', '--url', url], {}), /GET \/api\/silences: 401 E_AUTH/); // reading needs a token
    const listed = await cli(['silences', 'list', '--url', url]);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { silences: { id: string }[] }).silences.map((s) => s.id)).toEqual([silence.id]);

    expectError(await cli(['silences', 'delete', silence.id, '--url', url], {}), /DELETE .*: 401 E_AUTH/);
    expect(await cli(['silences', 'delete', silence.id, '--url', url])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(JSON.parse((await cli(['silences', 'list', '--url', url])).stdout)).toEqual({ silences: [] });
    expectError(await cli(['silences', 'delete', silence.id, '--url', url]), new RegExp(`404 E_SILENCE_NOT_FOUND: no silence ${silence.id}`));
    expectUsageError(await cli(['silences', 'delete', '--url', url]), /silences delete needs a silence id/);
  });
});

describe('ioc-hub services token', () => {
  it('prints a token and a services: entry whose hash verifies it', async () => {
    const r = await cli(['services', 'token', '--name', 'node-red'], {});
    expect(r.code).toBe(0);
    const printed = /^token: (\S+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(printed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const doc = parseYaml(r.stdout.slice(r.stdout.indexOf('services:'))) as { services: unknown[] };
    const [entry] = doc.services.map((s) => serviceAccountSchema.parse(s));
    expect(entry).toMatchObject({ name: 'node-red', subscribe: ['ioc/v1/alerts/#'], api: ['alerts:write'] });
    expect(await verifyToken(printed, entry?.tokenHash ?? '')).toBe(true);
    expect(await verifyToken(generateToken(), entry?.tokenHash ?? '')).toBe(false);
    // a second call gives another token
    expect((await cli(['services', 'token', '--name', 'node-red'], {})).stdout).not.toContain(printed);
  });

  it('refuses a name that is not a slug', async () => {
    expectUsageError(await cli(['services', 'token'], {}), /--name must be a slug/);
    expectUsageError(await cli(['services', 'token', '--name', 'Node RED'], {}), /--name must be a slug/);
  });
});

describe('bad invocations', () => {
  it('usage for an unknown command, one line for an unknown option or an unreachable hub', async () => {
    for (const [args, first] of [
      [['alerts'], 'alerts needs a command'],
      [['silences', 'mute'], 'unknown command: silences mute'],
      [['services'], 'services needs a command'],
    ] as const) {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^ioc-hub: ${first}\n`));
      expect(r.stderr).toContain(`Usage:\n  ioc-hub ${args[0]} `);
    }
    expectUsageError(await cli(['alerts', 'list', '--bogus']), /Unknown option '--bogus'/);
    const closed = await freePort();
    expectError(await cli(['alerts', 'list', '--url', `http://127.0.0.1:${closed}`]), new RegExp(`cannot reach the hub API at http://127.0.0.1:${closed}: ECONNREFUSED`));
    expectUsageError(await cli(['alerts', 'list', '--url', 'hub.local:8080']), /the hub API URL must be http\(s\):\/\/host:port, not "hub\.local:8080"/);
  });

  it('finds the API through IOC_HUB_CONFIG and sends IOC_HUB_API_TOKEN on reads too', async () => {
    const hubYaml = join(dir, 'hub-for-cli.yaml');
    writeFileSync(hubYaml, `http:\n  host: 127.0.0.1\n  port: ${hub.httpPort}\n`);
    const viaConfig = await cli(['alerts', 'list', '--state', 'acknowledged'], { IOC_HUB_CONFIG: hubYaml, IOC_HUB_API_TOKEN: `ops:${token}` });
    expect(viaConfig.code, viaConfig.stderr).toBe(0);
    expect(viaConfig.stdout).toMatch(new RegExp(`^${alertId}\tacknowledged\t`));
    // IOC_HUB_API_URL wins over the config
    const closed = await freePort();
    expectError(await cli(['silences', 'list'], { IOC_HUB_CONFIG: hubYaml, IOC_HUB_API_URL: `http://127.0.0.1:${closed}` }), /ECONNREFUSED/);

    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      res.end(req.url?.startsWith('/api/alerts') === true ? '{"alerts":[]}' : '{"silences":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      const fake = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
      expect((await cli(['alerts', 'list'], { IOC_HUB_API_URL: fake, IOC_HUB_API_TOKEN: 'ops:secret' })).code).toBe(0);
      expect((await cli(['silences', 'list'], { IOC_HUB_API_URL: fake, IOC_HUB_API_TOKEN: 'ops:secret' })).code).toBe(0);
      expect((await cli(['silences', 'list'], { IOC_HUB_API_URL: fake })).code).toBe(0);
      expect(seen).toEqual(['Bearer ops:secret', 'Bearer ops:secret', undefined]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the real ioc-hub program: output on stdout, one error line on stderr, no stack trace', async () => {
    const closed = await freePort();
    const [ok, down, usage] = await Promise.all([
      runProgram('ioc-hub', ['alerts', 'list', '--url', url, '--state', 'acknowledged'], { env: { IOC_HUB_API_TOKEN: `ops:${token}` } }),
      runProgram('ioc-hub', ['silences', 'list', '--url', `http://127.0.0.1:${closed}`]),
      runProgram('ioc-hub', ['silences']),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^${alertId}\tacknowledged\tcritical\t${SITE}\t`));
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`ioc-hub: cannot reach the hub API at http://127.0.0.1:${closed}: ECONNREFUSED\n`);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('ioc-hub silences add');
  }, 30_000);
});
