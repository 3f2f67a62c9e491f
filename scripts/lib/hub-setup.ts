// The steps the demo, the test stack and the benchmarks share to stand up a hub: a config file on
// loopback ports, the commune registry imported, and agents enrolled through the `ioc-hub` CLI.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, runProgram } from './child-process.ts';

/** The national commune list since 1 July 2025 (two tiers, no districts, no coordinates); see data/README.md. */
export const COMMUNES_CSV = join(PROJECT_ROOT, 'data', 'vn-communes-2025.csv');
/** The province the demo and the test stack stand up: Phú Thọ, which took in the former Vĩnh Phúc. */
export const PROVINCE = { code: '25', name: 'Tỉnh Phú Thọ', slug: 'phu-tho', communes: 148 } as const;
/** The former three-tier list of Vĩnh Phúc (121 communes in 9 districts, approximate coordinates): the legacy example. */
export const LEGACY_COMMUNES_CSV = join(PROJECT_ROOT, 'data', 'vinh-phuc-communes.csv');
export const LEGACY_PROVINCE = { code: '26', name: 'Tỉnh Vĩnh Phúc', slug: 'vinh-phuc', communes: 121, districts: 9 } as const;

/** Which commune list a hub imports: a file, and the province to take from it when it has several. */
export interface CommuneSource {
  csv: string;
  province?: string;
}
export const DEFAULT_COMMUNES: CommuneSource = { csv: COMMUNES_CSV, province: PROVINCE.code };
export const LEGACY_COMMUNES: CommuneSource = { csv: LEGACY_COMMUNES_CSV };

/** `ioc-hub sites import` arguments for a commune source. */
export function sitesImportArgs(source: CommuneSource = DEFAULT_COMMUNES): string[] {
  return ['sites', 'import', '--csv', source.csv, ...(source.province === undefined ? [] : ['--province', source.province])];
}

export interface AgentCredentials {
  site: string;
  agent: string;
  token: string;
}

export interface HubConfigOptions {
  mqttPort: number;
  httpPort: number;
  influxUrl: string;
  registryPath: string;
  /** An MQTTS listener beside the plain one. */
  tls?: { port: number; certFile: string; keyFile: string; caFile?: string };
  logLevel?: string;
  /** Extra top-level YAML. */
  extraYaml?: string;
  /** Extra lines under `mqtt:` (indented by two spaces here), e.g. `connectTimeoutMs: 2000`. */
  mqttLines?: readonly string[];
  /** Who writes it, for the file's first line. */
  writtenBy: 'the demo' | 'a test' | 'a benchmark';
}

export function writeHubConfig(path: string, o: HubConfigOptions): void {
  writeFileSync(
    path,
    [
      `# written by ${o.writtenBy}; hub/samples/hub.yaml shows every key`,
      'mqtt:',
      '  host: 127.0.0.1',
      `  port: ${o.mqttPort}`,
      ...(o.mqttLines ?? []).map((l) => `  ${l}`),
      ...(o.tls === undefined ? [] : ['  tls:', `    port: ${o.tls.port}`, `    certFile: ${o.tls.certFile}`, `    keyFile: ${o.tls.keyFile}`, ...(o.tls.caFile === undefined ? [] : [`    caFile: ${o.tls.caFile}`])]),
      'http:',
      '  host: 127.0.0.1',
      `  port: ${o.httpPort}`,
      'influx:',
      `  url: ${o.influxUrl}`,
      '  database: ioc',
      'registry:',
      `  path: ${o.registryPath}`,
      'log:',
      `  level: ${o.logLevel ?? 'info'}`,
      o.extraYaml ?? '',
      '',
    ].join('\n'),
  );
}

async function hubCli(args: string[]): Promise<void> {
  const r = await runProgram('ioc-hub', args);
  if (r.code !== 0) throw new Error(`ioc-hub ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
}

/**
 * Imports the communes (by default Phú Thọ's 148 from the 2025 list) into the hub's registry and enrolls `pi-1` … `pi-{perSite}` at the first `sites`
 * sites; the credentials (tokens in clear) are written to `credsPath` with mode 0600 and returned.
 */
export async function importAndEnroll(hubConfig: string, credsPath: string, sites: number, perSite = 1, communes: CommuneSource = DEFAULT_COMMUNES): Promise<AgentCredentials[]> {
  await hubCli([...sitesImportArgs(communes), '--config', hubConfig]);
  const agents: AgentCredentials[] = [];
  for (let k = 1; k <= perSite; k += 1) {
    const out = `${credsPath}.pi-${k}`;
    await hubCli(['enroll', '--all-sites', '--agent', `pi-${k}`, '--limit', String(sites), '--out', out, '--config', hubConfig]);
    agents.push(...(JSON.parse(readFileSync(out, 'utf8')) as { agents: AgentCredentials[] }).agents);
  }
  writeFileSync(credsPath, `${JSON.stringify({ agents }, null, 2)}\n`, { mode: 0o600 });
  return agents;
}
