// A real stack for cross-component tests: influxd + the hub as its own process (ioc-hub CLI),
// a registry imported from the commune list, and enrolled agents.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxdProcess } from '../scripts/lib/influxd-process.ts';
import { freePort } from '../scripts/lib/free-port.ts';
import { startProgram, type ManagedProcess } from '../scripts/lib/child-process.ts';
import { importAndEnroll, writeHubConfig, type AgentCredentials, type CommuneSource } from '../scripts/lib/hub-setup.ts';
import { parsePromText } from '../scripts/lib/prom-text.ts';
import { generateToken, hashToken } from '../hub/agents/token.ts';
import { waitUntil } from './wait.ts';

export { COMMUNES_CSV, LEGACY_COMMUNES, LEGACY_PROVINCE, PROVINCE, sitesImportArgs, type AgentCredentials, type CommuneSource } from '../scripts/lib/hub-setup.ts';

export interface Stack {
  dir: string;
  influx: InfluxdProcess;
  hub: ManagedProcess;
  hubConfig: string;
  mqttPort: number;
  httpPort: number;
  mqttUrl: string;
  httpUrl: string;
  agents: AgentCredentials[];
  /** `Authorization` header of the stack's read-only service account (`test-reader`: sites, alerts, audit, agents). */
  readAuth: string;
  metrics(): Promise<Map<string, number>>;
  /** Starts the hub again on the same ports and data (after stop or kill). */
  restartHub(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  agents: number;
  /** Extra top-level YAML for the hub config. */
  hubYaml?: string;
  /** Extra lines under the config's `mqtt:` key, e.g. `connectTimeoutMs: 2000`. */
  mqttLines?: readonly string[];
  /** An MQTTS listener beside the plain one. */
  tls?: { certFile: string; keyFile: string; caFile?: string };
  /** Agents pi-1..pi-N at each of the first `agents` sites (the registry has Phú Thọ's 148): for storms of hundreds of agents. */
  agentsPerSite?: number;
  /** The commune list imported; default Phú Thọ from the 2025 list (no districts, no coordinates). */
  communes?: CommuneSource;
}

export async function startStack(opts: StackOptions = { agents: 1 }): Promise<Stack & { mqttsUrl?: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-stack-'));
  const influx = await InfluxdProcess.start({ dir: join(dir, 'influxdb') });
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const tlsPort = opts.tls === undefined ? undefined : await freePort();
  const hubConfig = join(dir, 'hub.yaml');
  // The API's reads need a scope: the stack has a reader account, added to the caller's `services:` if it has one.
  const readToken = generateToken();
  const reader = [`  - name: test-reader`, `    tokenHash: ${await hashToken(readToken, { N: 1024, r: 8, p: 1 })}`, `    subscribe: []`, `    api: [sites:read, alerts:read, audit:read, agents:read]`].join('\n');
  const extra = opts.hubYaml ?? '';
  const hubYaml = /^services:\s*$/m.test(extra) ? extra.replace(/^services:\s*$/m, `services:\n${reader}`) : `${extra}\nservices:\n${reader}\n`;
  writeHubConfig(hubConfig, { writtenBy: 'a test',
    mqttPort,
    httpPort,
    influxUrl: influx.url,
    registryPath: join(dir, 'registry.json'),
    ...(tlsPort === undefined || opts.tls === undefined ? {} : { tls: { port: tlsPort, ...opts.tls } }),
    extraYaml: hubYaml,
    ...(opts.mqttLines === undefined ? {} : { mqttLines: opts.mqttLines }),
  });
  let agents: AgentCredentials[];
  try {
    agents = await importAndEnroll(hubConfig, join(dir, 'credentials.json'), opts.agents, opts.agentsPerSite ?? 1, opts.communes);
  } catch (err: unknown) {
    await influx.stop(); // nothing else runs yet
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const launch = (): ManagedProcess => startProgram('ioc-hub', ['start', '--config', hubConfig], join(dir, 'hub.log'));
  const waitHub = async (): Promise<void> => {
    await waitUntil('hub /healthz', async () => (await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).ok, 30_000);
  };
  const stack: Stack & { mqttsUrl?: string } = {
    ...(tlsPort === undefined ? {} : { mqttsUrl: `mqtts://localhost:${tlsPort}` }),
    dir,
    influx,
    hub: launch(),
    hubConfig,
    mqttPort,
    httpPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    httpUrl,
    agents,
    readAuth: `Bearer test-reader:${readToken}`,
    async metrics() {
      const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
      return parsePromText(await res.text());
    },
    async restartHub() {
      if (stack.hub.running) await stack.hub.stop();
      stack.hub = launch();
      await waitHub();
    },
    async stop() {
      // stack.influx, not the first one: fault tests replace it with a restarted influxd
      try {
        await stack.hub.stop();
      } finally {
        await stack.influx.stop();
        if (process.env.IOC_KEEP_TEST_DIRS === undefined) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await waitHub();
  } catch (err: unknown) {
    const log = readFileSync(join(dir, 'hub.log'), 'utf8').slice(-4000);
    await stack.stop();
    throw new Error(`hub did not start:\n${log}`, { cause: err });
  }
  return stack;
}
