// A real stack for cross-component tests: influxd + the hub as its own process (ioc-hub CLI),
// a registry imported from the commune list, and enrolled agents.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxdProcess } from '../../scripts/lib/influxd-process.ts';
import { freePort } from '../../scripts/lib/free-port.ts';
import { PROJECT_ROOT, runProgram, startProgram, type ManagedProcess } from '../../scripts/lib/child-process.ts';
import { parsePromText } from '../../scripts/lib/prom-text.ts';

export interface AgentCredentials {
  site: string;
  agent: string;
  token: string;
}

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
  metrics(): Promise<Map<string, number>>;
  /** Starts the hub again on the same ports and data (after stop or kill). */
  restartHub(): Promise<void>;
  stop(): Promise<void>;
}

export const COMMUNES_CSV = join(PROJECT_ROOT, 'data', 'vinh-phuc-communes.csv');

export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err: unknown) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr instanceof Error ? ` (last error: ${lastErr.message})` : ''}`);
}

export interface StackOptions {
  agents: number;
  /** Extra top-level YAML for the hub config. */
  hubYaml?: string;
  /** An MQTTS listener beside the plain one. */
  tls?: { certFile: string; keyFile: string };
  /** Agents pi-1..pi-N at each of the first `agents` sites (the registry has 121): for storms of hundreds of agents. */
  agentsPerSite?: number;
}

export async function startStack(opts: StackOptions = { agents: 1 }): Promise<Stack & { mqttsUrl?: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-stack-'));
  const influx = await InfluxdProcess.start({ dir: join(dir, 'influxdb') });
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const tlsPort = opts.tls === undefined ? undefined : await freePort();
  const hubConfig = join(dir, 'hub.yaml');
  writeFileSync(
    hubConfig,
    [
      'mqtt:',
      '  host: 127.0.0.1',
      `  port: ${mqttPort}`,
      ...(tlsPort === undefined || opts.tls === undefined ? [] : ['  tls:', `    port: ${tlsPort}`, `    certFile: ${opts.tls.certFile}`, `    keyFile: ${opts.tls.keyFile}`]),
      'http:',
      '  host: 127.0.0.1',
      `  port: ${httpPort}`,
      'influx:',
      `  url: ${influx.url}`,
      '  database: ioc',
      'registry:',
      `  path: ${join(dir, 'registry.json')}`,
      'log:',
      '  level: info',
      opts.hubYaml ?? '',
      '',
    ].join('\n'),
  );
  const credsPath = join(dir, 'credentials.json');
  for (const args of [
    ['sites', 'import', '--csv', COMMUNES_CSV, '--config', hubConfig],
    ['enroll', '--all-sites', '--limit', String(opts.agents), '--out', credsPath, '--config', hubConfig],
  ]) {
    const r = await runProgram('ioc-hub', args);
    if (r.code !== 0) throw new Error(`ioc-hub ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  }
  const agents = (JSON.parse(readFileSync(credsPath, 'utf8')) as { agents: AgentCredentials[] }).agents;
  for (let k = 2; k <= (opts.agentsPerSite ?? 1); k += 1) {
    const more = join(dir, `credentials-pi-${k}.json`);
    const args = ['enroll', '--all-sites', '--agent', `pi-${k}`, '--limit', String(opts.agents), '--out', more, '--config', hubConfig];
    const r = await runProgram('ioc-hub', args);
    if (r.code !== 0) throw new Error(`ioc-hub ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
    agents.push(...(JSON.parse(readFileSync(more, 'utf8')) as { agents: AgentCredentials[] }).agents);
  }
  if ((opts.agentsPerSite ?? 1) > 1) writeFileSync(credsPath, `${JSON.stringify({ agents }, null, 2)}\n`, { mode: 0o600 });
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
      await stack.hub.stop();
      await influx.stop();
      if (process.env.IOC_KEEP_TEST_DIRS === undefined) rmSync(dir, { recursive: true, force: true });
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
