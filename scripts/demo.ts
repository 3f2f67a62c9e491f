// `npm run demo`: the whole system on this machine — a real influxd, the hub, 30 simulated commune
// offices and one real agent probing local targets — with a live status line until Ctrl-C.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { InfluxdProcess } from './lib/influxd-process.ts';
import { freePort } from './lib/free-port.ts';
import { PROJECT_ROOT, runProgram, startProgram, startTsEntry, type ManagedProcess } from './lib/child-process.ts';
import { startMailSink } from './lib/mail-sink.ts';
import { PROVINCE, importAndEnroll, writeHubConfig } from './lib/hub-setup.ts';
import { parseFlags } from './lib/cli-args.ts';
import { parsePromText } from './lib/prom-text.ts';
import { waitUntil } from './lib/wait-until.ts';
import { DemoLockedError, acquireDemoLock, demoStateDir, type DemoLock } from './lib/demo-state.ts';

const USAGE = `usage: npm run demo -- [--sites N] [--interval-ms MS] [--data-dir DIR] [--duration S] [--fresh]

Options:
  --sites N        simulated commune offices (default 30)
  --interval-ms    how often each simulated office reports (default 5000)
  --data-dir DIR   where InfluxDB data, the registry, tokens and logs go (default $IOC_DEMO_DIR, else
                   $XDG_STATE_HOME/ioc-edge/demo/<checkout id>, ~/.local/state/… when unset; never the checkout)
  --duration S     stop by itself S seconds after the first points are stored (default: run until Ctrl-C)
  --fresh          start from an empty registry and database
  -h, --help       print this help and exit

Environment:
  IOC_DEMO_DIR     the state folder when --data-dir is not given
  XDG_STATE_HOME   base of the default state folder (default ~/.local/state)

Example:
  npm run demo -- --sites 10 --duration 120

Exit status:
  0  stopped by Ctrl-C, SIGTERM or --duration
  1  a part failed, or another demo is running on the same state folder
  2  usage error`;

const DEMO_LOGINS = [
  { name: 'ky-thuat', role: 'technician', displayName: 'Kỹ thuật viên Demo' },
  { name: 'dieu-hanh', role: 'operator', displayName: 'Điều hành viên Demo' },
  { name: 'quan-tri', role: 'admin', displayName: 'Quản trị Demo' },
] as const;

/** Adds a console login (or gives an existing one a new password) with `ioc-hub users`; returns its password. */
async function demoLogin(hubConfig: string, l: (typeof DEMO_LOGINS)[number]): Promise<{ name: string; role: string; password: string }> {
  let r = await runProgram('ioc-hub', ['users', 'add', '--name', l.name, '--role', l.role, '--display-name', l.displayName, '--config', hubConfig]);
  if (r.code !== 0 && r.stderr.includes('exists')) r = await runProgram('ioc-hub', ['users', 'passwd', '--name', l.name, '--config', hubConfig]);
  const password = /^password: (\S+)$/m.exec(r.stdout)?.[1];
  if (r.code !== 0 || password === undefined) throw new Error(`ioc-hub users add ${l.name} failed:\n${r.stderr}`);
  return { name: l.name, role: l.role, password };
}

function fail(message: string): never {
  console.error(`demo: ${message}\n${USAGE}`);
  process.exit(2);
}

let flags: Record<string, string | number | boolean>;
try {
  flags = parseFlags(process.argv.slice(2), { sites: 'number', 'interval-ms': 'number', 'data-dir': 'string', duration: 'number', fresh: 'boolean', help: 'boolean' });
} catch (err: unknown) {
  fail(err instanceof Error ? err.message : String(err));
}
if (flags.help === true) {
  console.log(USAGE);
  process.exit(0);
}
const sites = Math.floor(Number(flags.sites ?? 30));
if (sites < 1 || sites > PROVINCE.communes - 1) fail(`--sites must be between 1 and ${PROVINCE.communes - 1} (${PROVINCE.name} has ${PROVINCE.communes} communes; one is kept for the real agent)`);
const intervalMs = Number(flags['interval-ms'] ?? 5000);
const dataDir = resolve(String(flags['data-dir'] ?? demoStateDir(PROJECT_ROOT)));
const durationS = flags.duration === undefined ? undefined : Number(flags.duration);

const started: { name: string; stop: () => Promise<unknown> }[] = [];
let stopping = false;
let lock: DemoLock | undefined;

async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  console.log('\nstopping…');
  for (const part of started.reverse()) {
    try {
      await part.stop();
      console.log(`  stopped ${part.name}`);
    } catch (err: unknown) {
      console.error(`  ${part.name} did not stop cleanly: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  lock?.release();
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

/** A part the demo cannot go on without: when it exits, everything stops. */
function track(proc: ManagedProcess): ManagedProcess {
  started.push({ name: proc.name, stop: () => proc.stop() });
  void proc.exited.then(({ code, signal }) => {
    if (!stopping) {
      console.error(`${proc.name} exited unexpectedly (code ${code}, signal ${signal}); see ${proc.logFile}`);
      void stopAll(1);
    }
  });
  return proc;
}

/** An agent: stopping one is what a user does to watch an alert, so the demo goes on and says what happens next. */
function trackAgent(proc: ManagedProcess, afterExit: (how: string) => string): ManagedProcess {
  started.push({ name: proc.name, stop: () => proc.stop() });
  void proc.exited.then(({ code, signal }) => {
    if (!stopping) console.log(`${proc.name} (pid ${proc.pid}) stopped (${signal ?? `exit code ${code}`}); the demo goes on. ${afterExit(proc.logFile)}`);
  });
  return proc;
}

/** `export NAME=value` lines a POSIX shell can source, the value quoted when it needs to be. */
function exportLine(name: string, value: string): string {
  return `export ${name}=${/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`}`;
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    lock = acquireDemoLock(dataDir);
  } catch (err: unknown) {
    if (!(err instanceof DemoLockedError)) throw err;
    console.error(`demo: ${err.message}`);
    process.exit(1);
  }
  if (lock.staleFrom !== undefined) console.log(`demo: taking over the lock of demo pid ${lock.staleFrom}, which is no longer running`);
  if (!relative(PROJECT_ROOT, dataDir).startsWith('..')) console.log(`demo: note: ${dataDir} is inside the checkout; it will hold tokens and a registry`);
  // --fresh empties the folder only once it is ours (never under a running demo).
  if (flags.fresh === true) for (const entry of readdirSync(dataDir)) if (entry !== 'demo.pid') rmSync(join(dataDir, entry), { recursive: true, force: true });
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();

  const influx = await InfluxdProcess.start({ dir: join(dataDir, 'influxdb') });
  started.push({ name: 'influxd', stop: () => influx.stop() });

  const mqttPort = await freePort();
  const httpPort = await freePort();
  const nodeRedPort = await freePort();
  const hubConfig = join(dataDir, 'hub.yaml');
  // Service accounts: Node-RED's (alert topics, acknowledge through the API) and the operator's, for the CLI.
  const serviceAccount = async (name: string): Promise<{ token: string; yaml: string }> => {
    const r = await runProgram('ioc-hub', ['services', 'token', '--name', name]);
    const token = /^token: (\S+)$/m.exec(r.stdout)?.[1];
    const yaml = r.stdout.slice(r.stdout.indexOf('services:'));
    if (r.code !== 0 || token === undefined || !yaml.startsWith('services:\n')) throw new Error(`ioc-hub services token failed:\n${r.stderr}`);
    return { token, yaml };
  };
  const [nodeRed, operator] = await Promise.all([serviceAccount('node-red'), serviceAccount('operator')]);
  const serviceToken = nodeRed.token;
  // The operator also reads sites and the audit log (the API's reads need a scope).
  const operatorYaml = operator.yaml.slice('services:\n'.length).replace('api: [alerts:write]', 'api: [alerts:write, sites:read, audit:read]');
  const servicesYaml = `${nodeRed.yaml}${operatorYaml}`;
  writeHubConfig(hubConfig, { writtenBy: 'the demo',
    mqttPort,
    httpPort,
    influxUrl: influx.url,
    registryPath: join(dataDir, 'registry.json'),
    extraYaml: ['alerts:', `  rulesFile: ${join(PROJECT_ROOT, 'hub', 'alerts', 'samples', 'alerts.yaml')}`, '  startupGrace: 30s', servicesYaml].join('\n'),
  });
  const credsPath = join(dataDir, 'credentials.json');
  const creds = { agents: await importAndEnroll(hubConfig, credsPath, sites + 1) };
  const realAgent = creds.agents[sites];
  if (realAgent === undefined) throw new Error(`enrollment gave ${creds.agents.length} agents, expected ${sites + 1}`);
  const simCredsPath = join(dataDir, 'credentials-simulated.json');
  writeFileSync(simCredsPath, JSON.stringify({ agents: creds.agents.slice(0, sites) }), { mode: 0o600 });

  const hub = track(startProgram('ioc-hub', ['start', '--config', hubConfig], join(logDir, 'hub.log')));
  // Console logins, one per role, made beside the running hub (accounts.db is shared with it) while the rest
  // starts; a rerun gives them new passwords.
  const loginsMade = Promise.all(DEMO_LOGINS.map((l) => demoLogin(hubConfig, l)));
  loginsMade.catch(() => undefined); // awaited below
  const metricsUrl = `http://127.0.0.1:${httpPort}/metrics`;
  await waitUntil('the hub', async () => (await fetch(metricsUrl, { signal: AbortSignal.timeout(1000) })).ok, 30_000, 250);

  const hubUrl = `mqtt://127.0.0.1:${mqttPort}`;

  // Notifications: Node-RED flows → a local SMTP sink that prints every e-mail here.
  const mail = await startMailSink((m) => console.log(`✉ e-mail to ${m.to.join(', ')}: ${m.subject}`));
  started.push({ name: 'mail sink', stop: () => mail.stop() });
  const notifyFile = join(dataDir, 'notify.yaml');
  writeFileSync(
    notifyFile,
    [
      '# written by the demo; flows/samples/notify.yaml shows a real SMTP relay and webhook',
      `smtp: { host: 127.0.0.1, port: ${mail.port} }`,
      'defaultRoute: { email: [truc.ioc@demo.local] }',
      'escalation: { after: 10m, email: [truongca.ioc@demo.local] }',
      `hubApi: { url: "http://127.0.0.1:${httpPort}", token: "node-red:${serviceToken}" }`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  track(
    startTsEntry('node-red', 'flows/main.ts', [], join(logDir, 'node-red.log'), {
      IOC_NR_PORT: String(nodeRedPort),
      IOC_NR_HOST: '127.0.0.1',
      IOC_NR_USER_DIR: join(dataDir, 'node-red'),
      NODE_RED_CREDENTIAL_SECRET: 'demo-only-secret',
      IOC_HUB_MQTT_HOST: '127.0.0.1',
      IOC_HUB_MQTT_PORT: String(mqttPort),
      IOC_NR_MQTT_USERNAME: 'service:node-red',
      IOC_NR_MQTT_PASSWORD: serviceToken,
      IOC_NR_NOTIFY_FILE: notifyFile,
    }),
  );
  const simulatorArgs = ['simulate', '--hub', hubUrl, '--credentials', simCredsPath, '--sites', String(sites), '--interval-ms', String(intervalMs)];
  trackAgent(
    startProgram('ioc-edge', simulatorArgs, join(logDir, 'simulator.log')),
    (log) => `The ${sites} simulated offices are offline: the hub raises one IOC link / hub incident (hub-link) after 30 s when they were ≥ 30% of its agents (of ≥ 2 areas), else one incident per area after 2 min (site-offline grouped by area). Log: ${log}; start them again: npx ioc-edge ${simulatorArgs.join(' ')}`,
  );

  // One real agent with real collectors, probing what this machine has: the hub's ports and itself.
  const agentConfig = join(dataDir, 'agent.yaml');
  writeFileSync(
    agentConfig,
    [
      '# written by the demo: a real agent on this machine, probing local targets',
      `site: ${realAgent.site}`,
      `agent: ${realAgent.agent}`,
      'hub:',
      `  url: ${hubUrl}`,
      `  token: ${realAgent.token}`,
      `dataDir: ${join(dataDir, 'agent')}`,
      'collectors:',
      '  - type: tcp',
      '    name: hub-mqtt',
      '    host: 127.0.0.1',
      `    port: ${mqttPort}`,
      '    intervalS: 10',
      '  - type: http',
      '    name: hub-api',
      `    url: http://127.0.0.1:${httpPort}/healthz`,
      '    intervalS: 10',
      '  - type: icmp',
      '    name: loopback',
      '    host: 127.0.0.1',
      '    intervalS: 15',
      '  - type: host',
      '    intervalS: 10',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  mkdirSync(join(dataDir, 'agent'), { recursive: true });
  const agent = trackAgent(
    startProgram('ioc-edge', ['run', '--config', agentConfig], join(logDir, 'agent.log')),
    (log) =>
      `${realAgent.site} is offline: the hub raises site-offline after 2 min and its 30 s group wait (rule hub/alerts/samples/alerts.yaml), Node-RED e-mails it here, \`npx ioc-hub alerts list\` shows it. Log: ${log}; start the agent again: npx ioc-edge run --config ${agentConfig}`,
  );
  const env: [string, string][] = [
    ['IOC_HUB_CONFIG', hubConfig],
    ['IOC_HUB_API_URL', `http://127.0.0.1:${httpPort}`],
    ['IOC_HUB_API_TOKEN', `operator:${operator.token}`],
    ['IOC_EDGE_HUB_URL', hubUrl],
  ];
  const envFile = join(dataDir, 'env.sh');
  writeFileSync(envFile, `# written by the demo: the CLIs against its hub (. ${envFile})\n${env.map(([k, v]) => exportLine(k, v)).join('\n')}\n`, { mode: 0o600 });

  const logins = await loginsMade;
  console.log(`ioc-edge demo is running (${sites} simulated offices + 1 real agent on ${realAgent.site})
  Console      http://127.0.0.1:${httpPort}/   (alerts: acknowledge, silences, history; Vietnamese first)
${logins.map((l) => `    login ${l.name.padEnd(10)} password ${l.password}   (${l.role})`).join('\n')}
  Wall         http://127.0.0.1:${httpPort}/wall.html   (kiosk for a TV: every commune by state, map, incidents; no login)
  InfluxDB     ${influx.url}   (database ioc)   influx -host 127.0.0.1 -port ${influx.port} -database ioc
  MQTT broker  ${hubUrl}
  Hub API      http://127.0.0.1:${httpPort}/api/sites   /api/alerts   /api/audit (these need the header: Authorization: Bearer $IOC_HUB_API_TOKEN)   /metrics   /healthz
  Node-RED     http://127.0.0.1:${nodeRedPort}   (notifications; e-mails go to a local SMTP sink, printed here)
  real agent   pid ${agent.pid}   (kill ${agent.pid} to watch ${realAgent.site} go offline: the demo goes on, an alert follows)
  state        ${dataDir}   (registry, tokens, logs ${logDir})
The CLIs against this demo, in another terminal in this checkout (also in ${envFile}):
${env.map(([k, v]) => `  ${exportLine(k, v)}`).join('\n')}
  then: npx ioc-hub sites list | head   npx ioc-hub alerts list   npx ioc-hub silences list
Ctrl-C stops everything.`);

  const firstPoint = await waitUntil(
    'the first point in InfluxDB',
    async () => {
      const body = await influx.query('SELECT count(rtt_ms) FROM net_probe', 'ioc');
      const v = body.results[0]?.series?.[0]?.values?.[0]?.[1];
      return typeof v === 'number' && v > 0 ? v : undefined;
    },
    60_000,
    250,
  );
  console.log(`first points queryable in InfluxDB after ${((Date.now() - t0) / 1000).toFixed(1)} s (${firstPoint} net_probe readings)`);
  // The wall is populated once every commune with an agent shows a state from fresh data (not blind).
  const withAgent = new Set(creds.agents.map((a) => a.site)).size;
  const wallPopulated = async (): Promise<void> => {
    const wall = await waitUntil(
      'the wall populated',
      async () => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/api/wall`, { signal: AbortSignal.timeout(2000) });
        const body = (await res.json()) as { sites: { slug: string; state: string }[]; counts: Record<string, number> };
        const shown = body.sites.filter((x) => x.state !== 'blind').length;
        return shown >= withAgent ? body : undefined;
      },
      60_000,
      500,
    );
    const states = Object.entries(wall.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(`wall populated after ${((Date.now() - t0) / 1000).toFixed(1)} s: the ${withAgent} communes with an agent show their state; ${wall.sites.length} tiles (${states})`);
  };
  wallPopulated().catch((err: unknown) => console.log(`the wall is not populated yet: ${err instanceof Error ? err.message : String(err)} (the demo goes on)`));

  let last: { t: number; received: number } | undefined;
  const tick = async (): Promise<void> => {
    try {
      const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) });
      const m = parsePromText(await res.text());
      const now = Date.now();
      const received = m.get('ioc_hub_points_received_total') ?? 0;
      const rate = last === undefined ? '…' : (((received - last.received) * 1000) / Math.max(1, now - last.t)).toFixed(0);
      last = { t: now, received };
      const rejected = (m.get('ioc_hub_batches_rejected_total') ?? 0) + (m.get('ioc_hub_publish_denied_total') ?? 0);
      console.log(
        `[${new Date(now).toISOString().slice(11, 19)}] agents online ${m.get('ioc_hub_agents_online') ?? 0}/${sites + 1}` +
          ` · received ${received} points (${rate}/s) · stored ${m.get('ioc_hub_points_written_total') ?? 0}` +
          ` · rejected ${rejected} · pending ${m.get('ioc_hub_pending_points') ?? 0}`,
      );
    } catch (err: unknown) {
      console.log(`hub metrics unavailable: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  await tick();
  const timer = setInterval(() => void tick(), 5000);
  if (durationS !== undefined) {
    setTimeout(() => {
      clearInterval(timer);
      void tick().then(() => stopAll(0));
    }, durationS * 1000);
  }
  void hub;
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  void stopAll(1);
});
