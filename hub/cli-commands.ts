// The ioc-hub commands, as a function of argv that returns an exit code (cli.ts is the process entry).
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { loadHubConfig, type HubConfig } from './config.ts';
import { edgeConfigYaml } from './edge-config-template.ts';
import { HubError } from './errors.ts';
import { Hub } from './hub.ts';
import { createLogger } from './logger.ts';
import { Registry } from './registry.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves with the signal name when the process is asked to stop (`start` only). */
  waitForShutdown: () => Promise<string>;
  logger?: Logger;
}

export const USAGE = `usage:
  ioc-hub start [--config FILE]
  ioc-hub enroll --site SITE --agent AGENT [--hub-url mqtt://HOST:1883] [--config FILE]
  ioc-hub enroll --all-sites [--agent pi-1] [--limit N] --out creds.json [--config FILE]
  ioc-hub sites import --csv FILE [--config FILE]
  ioc-hub sites list [--config FILE]
`;

const OPTIONS = {
  config: { type: 'string' },
  site: { type: 'string' },
  agent: { type: 'string' },
  'hub-url': { type: 'string' },
  'all-sites': { type: 'boolean' },
  limit: { type: 'string' },
  out: { type: 'string' },
  csv: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help === true || positionals.length === 0) {
      io.stdout(USAGE);
      return values.help === true ? 0 : 2;
    }
    const config = loadHubConfig({ path: values.config, env: io.env });
    const command = positionals.join(' ');
    switch (command) {
      case 'start':
        return await start(config, io);
      case 'enroll':
        return await enroll(config, values, io);
      case 'sites import':
        return await sitesImport(config, values, io);
      case 'sites list':
        return await sitesList(config, io);
      default:
        throw new HubError('E_USAGE', `unknown command: ${command}`);
    }
  } catch (err: unknown) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof HubError) {
    io.stderr(`ioc-hub: ${err.message}\n`);
    if (err.code === 'E_USAGE') io.stderr(USAGE);
    return err.code === 'E_USAGE' ? 2 : 1;
  }
  if (err instanceof TypeError && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
    io.stderr(`ioc-hub: ${err.message}\n${USAGE}`);
    return 2;
  }
  io.stderr(`ioc-hub: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

async function start(config: HubConfig, io: CliIo): Promise<number> {
  const logger = io.logger ?? createLogger(config.log.level);
  const hub = new Hub(config, { logger });
  await hub.start();
  const signal = await io.waitForShutdown();
  logger.info({ signal }, 'stopping');
  await hub.stop();
  return 0;
}

function need(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new HubError('E_USAGE', `${flag} is required`);
  return value;
}

async function enroll(config: HubConfig, values: Values, io: CliIo): Promise<number> {
  const registry = await Registry.open(config.registry.path);
  if (values['all-sites'] === true) return await enrollAll(registry, values, io);
  const site = need(values.site, '--site');
  const agent = need(values.agent, '--agent');
  // MQTTS whenever the hub has a TLS listener: agents are never handed the plaintext port by default.
  const host = config.mqtt.host === '0.0.0.0' ? '127.0.0.1' : config.mqtt.host;
  const hubUrl = values['hub-url'] ?? (config.mqtt.tls === undefined ? `mqtt://${host}:${config.mqtt.port}` : `mqtts://${host}:${config.mqtt.tls.port}`);
  if (!/^mqtts?:\/\/[^/]+/.test(hubUrl)) throw new HubError('E_USAGE', `--hub-url must look like mqtt://host:1883, got ${hubUrl}`);
  const { token } = await registry.enroll(site, agent);
  io.stdout(`token: ${token}\n---\n${edgeConfigYaml({ site, agent, token, hubUrl, clientCertificate: config.mqtt.tls?.caFile !== undefined })}`);
  return 0;
}

async function enrollAll(registry: Registry, values: Values, io: CliIo): Promise<number> {
  const out = need(values.out, '--out');
  const agent = values.agent ?? 'pi-1';
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit >= 1) || (Number.isFinite(limit) && !Number.isInteger(limit))) throw new HubError('E_USAGE', `--limit must be a positive integer, got ${values.limit}`);
  const sites = registry.listSites().slice(0, limit);
  if (sites.length === 0) throw new HubError('E_UNKNOWN_SITE', 'the registry has no sites: run `ioc-hub sites import --csv FILE` first');
  const agents = await registry.enrollMany(sites.map((s) => ({ site: s.slug, agent })));
  await writeFile(out, `${JSON.stringify({ agents }, null, 2)}\n`, { mode: 0o600 });
  io.stdout(`enrolled ${agents.length} agents; credentials in ${out}\n`);
  return 0;
}

async function sitesImport(config: HubConfig, values: Values, io: CliIo): Promise<number> {
  const registry = await Registry.open(config.registry.path);
  const result = await registry.importCommunesCsv(need(values.csv, '--csv'));
  io.stdout(`imported: ${result.added} added, ${result.updated} updated, ${result.total} sites in ${registry.path}\n`);
  return 0;
}

async function sitesList(config: HubConfig, io: CliIo): Promise<number> {
  const registry = await Registry.open(config.registry.path);
  const agents = registry.listAgents();
  const lines = registry.listSites().map((s) => {
    const mine = agents.filter((a) => a.site === s.slug).map((a) => a.agent);
    return `${s.slug}\t${s.name}\t${s.area}\t${s.lat},${s.lon}\t${mine.join(',')}\n`;
  });
  io.stdout(lines.join(''));
  return 0;
}
