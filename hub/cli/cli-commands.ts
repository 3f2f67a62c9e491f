// The ioc-hub commands, as a function of argv that returns an exit code (cli.ts is the process entry).
import { chmod, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Logger } from 'pino';
import { ALERT_CLI_COMMANDS, ALERT_COMMANDS, runAlertCli } from '../alerts/cli-alerts.ts';
import { AuditLog, auditLogPath } from '../auth/audit-log.ts';
import {
  CONFIG_ENV,
  CONFIG_OPTION,
  LAUNCHER,
  booleanOption,
  configPath,
  findCommand,
  formatCommandHelp,
  formatOverview,
  parseCommand,
  stringOption,
  usageError,
  type CommandSpec,
  type OptionValues,
} from './cli-help.ts';
import { loadHubConfig, type HubConfig } from '../config.ts';
import { edgeConfigYaml } from './edge-config-template.ts';
import { HubError } from '../errors.ts';
import { Hub, registrySecret } from '../hub.ts';
import { createLogger } from '../logger.ts';
import { Registry, registryDbPath } from '../agents/registry.ts';
import { fleetTable, fleetViews } from '../agents/fleet.ts';
import { USER_COMMANDS, runUsersCommand } from './cli-users.ts';
import { CONFIG_COMMANDS, runConfigCommand } from './cli-config.ts';
import { DIAG_CLI_COMMANDS, DIAG_COMMANDS, runDiagCli } from './cli-diag.ts';
import { RELEASE_COMMANDS, runReleaseCli } from './cli-release.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves with the signal name when the process is asked to stop (`start` only). */
  waitForShutdown: () => Promise<string>;
  logger?: Logger;
  /** Standard input as text (`users add --password-stdin`); default: the process's. */
  stdin?: () => Promise<string>;
}

const COMMANDS: readonly CommandSpec[] = [
  {
    command: 'start',
    summary: 'run the hub: MQTT broker, ingest into InfluxDB, alert engine, HTTP API',
    usage: ['[--config FILE]'],
    options: { config: CONFIG_OPTION },
    env: [
      ...CONFIG_ENV,
      ['IOC_HUB_MQTT_HOST, IOC_HUB_MQTT_PORT', 'MQTT listener (default 0.0.0.0:1883)'],
      ['IOC_HUB_HTTP_HOST, IOC_HUB_HTTP_PORT', 'HTTP API (default 0.0.0.0:8080)'],
      ['IOC_HUB_INFLUX_URL, _DATABASE, _USERNAME, _PASSWORD', 'InfluxDB 1.x (default http://127.0.0.1:8086, ioc)'],
      ['IOC_HUB_ALERTS_RULES_FILE, IOC_HUB_ALERTS_STATE_PATH', 'alert rules and their state'],
      ['IOC_HUB_LOG_LEVEL', 'fatal, error, warn, info (default), debug, trace, silent'],
    ],
    examples: ['start --config hub.yaml'],
    notes: ['Runs until SIGTERM or SIGINT (Ctrl-C), then stops cleanly. hub/samples/hub.yaml shows every key.'],
  },
  {
    command: 'enroll',
    summary: 'enroll an agent (or one per site) and print its agent.yaml, token included',
    usage: ['--site SITE --agent AGENT [--hub-url mqtt://HOST:1883] [--out FILE] [--config FILE]', '--all-sites [--agent pi-1] [--limit N] --out creds.json [--config FILE]'],
    options: {
      site: { type: 'string', arg: 'SITE', help: 'the site slug (see `sites list`)' },
      agent: { type: 'string', arg: 'AGENT', help: 'the agent slug, e.g. pi-1 (default pi-1 with --all-sites)' },
      'hub-url': { type: 'string', arg: 'URL', help: "the hub as the Pi reaches it (default: the config's MQTT listener)" },
      out: { type: 'string', arg: 'FILE', help: 'write the agent.yaml (or, with --all-sites, the credentials JSON) to FILE, mode 0600' },
      'all-sites': { type: 'boolean', help: 'enroll one agent at every site of the registry' },
      limit: { type: 'string', arg: 'N', help: 'with --all-sites: only the first N sites' },
      config: CONFIG_OPTION,
    },
    env: CONFIG_ENV,
    examples: [
      'enroll --site xa-lap-thach --agent pi-1 --hub-url mqtts://ioc.example.gov.vn:8883 --out agent.yaml',
      'enroll --site xa-lap-thach --agent pi-1 > agent.yaml',
      'enroll --all-sites --limit 30 --out creds.json',
    ],
    notes: ['The token is shown only once (the registry keeps its HMAC under the hub secret); enrolling again rotates it.', 'Without --out the agent.yaml goes to stdout: valid YAML, ready for `ioc-edge check-config`.'],
  },
  {
    command: 'sites import',
    summary: 'add or update the sites of the registry from a communes CSV',
    usage: ['--csv FILE [--province CODE|NAME | --all-provinces] [--config FILE]'],
    options: {
      csv: { type: 'string', arg: 'FILE', help: 'the communes CSV: the 2025 national list or the older list with districts (data/README.md)' },
      province: { type: 'string', arg: 'CODE|NAME', help: 'import only this province of a national file (25, "Phú Thọ")' },
      'all-provinces': { type: 'boolean', help: 'import every province of the file' },
      config: CONFIG_OPTION,
    },
    env: CONFIG_ENV,
    examples: ['sites import --csv data/vn-communes-2025.csv --province 25 --config hub.yaml', 'sites import --csv data/vinh-phuc-communes.csv --config hub.yaml'],
  },
  {
    command: 'sites list',
    summary: 'print the registry: slug, name, area, coordinates, agents (tab-separated)',
    usage: ['[--config FILE]'],
    options: { config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['sites list --config hub.yaml | head'],
  },
  {
    command: 'agents list',
    summary: 'the fleet inventory: version, config revision, OS, kernel, board, disk, uptime, USB, last seen',
    usage: ['[--site SITE] [--province P] [--area A] [--version V] [--offline] [--revoked] [--json] [--config FILE]'],
    options: {
      site: { type: 'string', arg: 'SITE', help: "only this site's agents" },
      province: { type: 'string', arg: 'SLUG', help: 'only this province (its slug, e.g. phu-tho)' },
      area: { type: 'string', arg: 'SLUG', help: 'only this district (legacy lists)' },
      version: { type: 'string', arg: 'V', help: 'only agents that last reported this version' },
      offline: { type: 'boolean', help: 'only agents not connected now' },
      revoked: { type: 'boolean', help: 'revoked agents too' },
      json: { type: 'boolean', help: 'one JSON document ({agents: [...]}), the shape of GET /api/agents' },
      config: CONFIG_OPTION,
    },
    env: CONFIG_ENV,
    examples: ['agents list --offline', 'agents list --province phu-tho --version 0.3.0 --json'],
    notes: ['Read from the registry database, where the running hub writes what each agent reports when it connects, and its last seen every 30 s.'],
  },
  {
    command: 'agents revoke',
    summary: "revoke an agent: the running hub closes its connection within a second and refuses its token from then on",
    usage: ['--site SITE --agent AGENT [--config FILE]'],
    options: { site: { type: 'string', arg: 'SITE', help: 'the site slug' }, agent: { type: 'string', arg: 'AGENT', help: 'the agent slug' }, config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['agents revoke --site xa-lap-thach --agent pi-1'],
    notes: ['`enroll` gives a revoked agent a new token. Its inventory and audit entries stay.'],
  },
  {
    command: 'agents rotate',
    summary: "give an enrolled agent a new token (the old one is refused, its live connection closed) and print its agent.yaml",
    usage: ['--site SITE --agent AGENT [--hub-url mqtt://HOST:1883] [--out FILE] [--config FILE]'],
    options: {
      site: { type: 'string', arg: 'SITE', help: 'the site slug' },
      agent: { type: 'string', arg: 'AGENT', help: 'the agent slug' },
      'hub-url': { type: 'string', arg: 'URL', help: "the hub as the Pi reaches it (default: the config's MQTT listener)" },
      out: { type: 'string', arg: 'FILE', help: 'write the agent.yaml to FILE, mode 0600' },
      config: CONFIG_OPTION,
    },
    env: CONFIG_ENV,
    examples: ['agents rotate --site xa-lap-thach --agent pi-1 --out agent.yaml'],
  },
  {
    command: 'registry import',
    summary: 'import the registry.json of an earlier hub into the registry database (what it lacks is added)',
    usage: ['FILE [--config FILE]'],
    options: { config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['registry import /var/lib/ioc-hub/registry.json.bak'],
    notes: [
      'The hub does this by itself on its first start beside a registry.json; the file is never changed (it is the backup).',
      'Sites and agents already in the database keep their records there; token records stay as they are (scrypt ones are migrated on connect).',
    ],
  },
  ...USER_COMMANDS,
  ...CONFIG_COMMANDS,
];

/** Every `ioc-hub` command, for --help and the tests. */
export const HUB_COMMANDS: readonly CommandSpec[] = [...COMMANDS, ...ALERT_COMMANDS, ...DIAG_COMMANDS, ...RELEASE_COMMANDS];

const GROUPS = new Set(HUB_COMMANDS.filter((c) => c.command.includes(' ')).map((c) => c.command.split(' ')[0] ?? ''));

export const USAGE = formatOverview('ioc-hub', 'the IOC hub and its registry, alerts and service accounts', HUB_COMMANDS, [
  `From the project checkout run it as \`${LAUNCHER} COMMAND\` (\`npm link\` puts ioc-hub itself on the PATH).`,
  'Every command reads IOC_HUB_* environment variables; `npm run demo` prints the ones for its hub.',
]);

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    if (argv[0] === 'help' && argv.length > 1) return await runCli([...argv.slice(1), '--help'], io); // `ioc-hub help sites import`
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      (argv.length === 0 ? io.stderr : io.stdout)(USAGE);
      return argv.length === 0 ? 2 : 0;
    }
    if (ALERT_CLI_COMMANDS.has(argv[0] ?? '')) return await runAlertCli(argv, io);
    if (DIAG_CLI_COMMANDS.has(argv[0] ?? '')) return await runDiagCli(argv, io);
    if (argv[0] === 'release') return await runReleaseCli(argv, { ...io, who: osUser(io) });
    const found = findCommand(argv, COMMANDS);
    if (found === undefined) return groupUsage(argv, io);
    const { spec, rest } = found;
    const parsed = parseCommand('ioc-hub', spec, rest, spec.command === 'registry import');
    if (parsed.help) {
      io.stdout(formatCommandHelp('ioc-hub', spec));
      return 0;
    }
    const { values } = parsed;
    const config = loadHubConfig({ path: configPath(values, io.env), env: io.env });
    if (spec.command.startsWith('config ')) return await runConfigCommand(spec.command, config, values, { stdout: io.stdout, who: osUser(io) });
    switch (spec.command) {
      case 'start':
        return await start(config, io);
      case 'enroll':
        return await enroll(config, values, io);
      case 'sites import':
        return await sitesImport(config, values, io);
      case 'sites list':
        return await sitesList(config, io);
      case 'agents list':
        return await agentsList(config, values, io);
      case 'agents revoke':
        return await agentsRevoke(config, values, io);
      case 'agents rotate':
        return await agentsRotate(config, values, io);
      case 'registry import':
        return await registryImport(config, parsed.positionals, io);
      case 'users add':
      case 'users passwd':
      case 'users list':
      case 'users disable':
      case 'users enable':
        return await runUsersCommand(spec.command, config, values, { stdout: io.stdout, who: osUser(io), ...(io.stdin === undefined ? {} : { stdin: io.stdin }) });
      default:
        throw new HubError('E_USAGE', `unknown command: ${spec.command}`);
    }
  } catch (err: unknown) {
    return reportError(err, io);
  }
}

/** `ioc-hub sites` (a group without its command), or a command that does not exist. */
function groupUsage(argv: readonly string[], io: CliIo): number {
  const group = argv[0] ?? '';
  const inGroup = HUB_COMMANDS.filter((c) => c.command.split(' ')[0] === group);
  const help = argv[1] === '--help' || argv[1] === '-h'; // `sites --help`; `sites purge --help` is an unknown command
  if (GROUPS.has(group) && inGroup.length > 0) {
    const text = formatOverview('ioc-hub', `${group} commands`, inGroup, [`Run '${LAUNCHER} ${group} COMMAND --help' for a command's options.`], true);
    if (help) {
      io.stdout(text);
      return 0;
    }
    io.stderr(`ioc-hub: ${argv[1] === undefined ? `${group} needs a command` : `unknown command: ${argv.slice(0, 2).join(' ')}`}\n${text}`);
    return 2;
  }
  io.stderr(`ioc-hub: unknown command: ${group}\nioc-hub: run '${LAUNCHER} --help' for the commands\n`);
  return 2;
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof HubError) {
    io.stderr(`ioc-hub: ${err.message}\n`);
    return err.code === 'E_USAGE' ? 2 : 1;
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

function need(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw usageError('ioc-hub', HUB_COMMANDS.find((c) => c.command === command), `${command}: ${flag} is required`);
  return value;
}

/** Appends a registry write made from the command line to the audit log (who: the OS user). */
async function audit(config: HubConfig, io: CliIo, action: string, target: string, detail?: Record<string, unknown>): Promise<void> {
  await new AuditLog(auditLogPath(config)).append({ who: `cli:${osUser(io)}`, action, target, ...(detail === undefined ? {} : { detail }) });
}

function osUser(io: CliIo): string {
  try {
    return userInfo().username;
  } catch {
    return io.env.USER ?? 'unknown'; // no passwd entry (containers): $USER
  }
}

/** Writes a file that holds secrets: created 0600, and made 0600 if it existed. */
async function writePrivateFile(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

async function enroll(config: HubConfig, values: OptionValues, io: CliIo): Promise<number> {
  const enrollSpec = COMMANDS.find((c) => c.command === 'enroll');
  if (booleanOption(values, 'all-sites')) {
    if (stringOption(values, 'site') !== undefined || stringOption(values, 'hub-url') !== undefined) throw usageError('ioc-hub', enrollSpec, 'enroll --all-sites takes neither --site nor --hub-url');
  } else if (stringOption(values, 'limit') !== undefined) throw usageError('ioc-hub', enrollSpec, 'enroll: --limit goes with --all-sites');
  const out = stringOption(values, 'out');
  if (booleanOption(values, 'all-sites')) return await enrollAll(config, values, io);
  const site = need('enroll', stringOption(values, 'site'), '--site');
  const agent = need('enroll', stringOption(values, 'agent'), '--agent');
  const hubUrl = agentHubUrl(config, values, enrollSpec);
  const { token } = await withRegistry(config, (registry) => registry.enroll(site, agent));
  await audit(config, io, 'agent.enroll', `${site}/${agent}`);
  return await printAgentYaml(config, io, { site, agent, token, hubUrl, out, done: 'enrolled' });
}

/** The hub as an agent reaches it: --hub-url, else MQTTS whenever the hub has a TLS listener (never the plaintext port by default). */
function agentHubUrl(config: HubConfig, values: OptionValues, spec: CommandSpec | undefined): string {
  const host = config.mqtt.host === '0.0.0.0' ? '127.0.0.1' : config.mqtt.host;
  const hubUrl = stringOption(values, 'hub-url') ?? (config.mqtt.tls === undefined ? `mqtt://${host}:${config.mqtt.port}` : `mqtts://${host}:${config.mqtt.tls.port}`);
  if (!/^mqtts?:\/\/[^/]+/.test(hubUrl)) throw usageError('ioc-hub', spec, `--hub-url must look like mqtt://host:1883, got ${hubUrl}`);
  return hubUrl;
}

async function printAgentYaml(config: HubConfig, io: CliIo, o: { site: string; agent: string; token: string; hubUrl: string; out: string | undefined; done: string }): Promise<number> {
  const yaml = edgeConfigYaml({ site: o.site, agent: o.agent, token: o.token, hubUrl: o.hubUrl, clientCertificate: config.mqtt.tls?.caFile !== undefined });
  if (o.out === undefined) {
    io.stdout(yaml);
    return 0;
  }
  await writePrivateFile(o.out, yaml);
  io.stdout(`${o.done} ${o.site}/${o.agent}; its agent.yaml (with the token, shown nowhere else) is in ${o.out} (mode 0600)\n`);
  return 0;
}

/** Opens the registry for one command and closes it after (the database handle, not the hub's). */
async function withRegistry<T>(config: HubConfig, fn: (registry: Registry) => Promise<T>): Promise<T> {
  const registry = await Registry.open(config.registry.path, registrySecret(config));
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

async function agentsList(config: HubConfig, values: OptionValues, io: CliIo): Promise<number> {
  const filter = {
    site: stringOption(values, 'site'),
    province: stringOption(values, 'province'),
    area: stringOption(values, 'area'),
    version: stringOption(values, 'version'),
    offline: booleanOption(values, 'offline'),
    revoked: booleanOption(values, 'revoked'),
  };
  const views = await withRegistry(config, async (registry) => fleetViews(await registry.listFleet(), (slug) => registry.getSite(slug), filter));
  io.stdout(booleanOption(values, 'json') ? `${JSON.stringify({ agents: views }, null, 2)}\n` : fleetTable(views));
  return 0;
}

async function agentsRevoke(config: HubConfig, values: OptionValues, io: CliIo): Promise<number> {
  const site = need('agents revoke', stringOption(values, 'site'), '--site');
  const agent = need('agents revoke', stringOption(values, 'agent'), '--agent');
  await withRegistry(config, (registry) => registry.revoke(site, agent));
  await audit(config, io, 'agent.revoke', `${site}/${agent}`);
  io.stdout(`revoked ${site}/${agent}: its token is refused, and a running hub closes its connection within a second\n`);
  return 0;
}

async function agentsRotate(config: HubConfig, values: OptionValues, io: CliIo): Promise<number> {
  const site = need('agents rotate', stringOption(values, 'site'), '--site');
  const agent = need('agents rotate', stringOption(values, 'agent'), '--agent');
  const hubUrl = agentHubUrl(config, values, COMMANDS.find((c) => c.command === 'agents rotate'));
  const { token } = await withRegistry(config, (registry) => registry.rotate(site, agent));
  await audit(config, io, 'agent.rotate', `${site}/${agent}`);
  return await printAgentYaml(config, io, { site, agent, token, hubUrl, out: stringOption(values, 'out'), done: 'rotated the token of' });
}

async function registryImport(config: HubConfig, positionals: readonly string[], io: CliIo): Promise<number> {
  const spec = COMMANDS.find((c) => c.command === 'registry import');
  if (positionals.length !== 1 || positionals[0] === undefined) throw usageError('ioc-hub', spec, 'registry import: give one FILE (a registry.json)');
  const file = positionals[0];
  const r = await withRegistry(config, (registry) => registry.importJson(file));
  await audit(config, io, 'registry.import', file, { sitesAdded: r.sitesAdded, agentsAdded: r.agentsAdded, agentsKept: r.agentsKept });
  io.stdout(`imported ${file} into ${registryDbPath(config.registry.path)}: ${r.sitesAdded} sites and ${r.agentsAdded} agents added, ${r.agentsKept} agents already there kept\n`);
  return 0;
}

async function enrollAll(config: HubConfig, values: OptionValues, io: CliIo): Promise<number> {
  const out = need('enroll', stringOption(values, 'out'), '--out (with --all-sites)');
  const agent = stringOption(values, 'agent') ?? 'pi-1';
  const limitText = stringOption(values, 'limit');
  const limit = limitText === undefined ? Infinity : Number(limitText);
  if (!(limit >= 1) || (Number.isFinite(limit) && !Number.isInteger(limit))) {
    throw usageError('ioc-hub', COMMANDS.find((c) => c.command === 'enroll'), `--limit must be a positive integer, got ${limitText}`);
  }
  const agents = await withRegistry(config, async (registry) => {
    const sites = registry.listSites().slice(0, limit);
    if (sites.length === 0) throw new HubError('E_UNKNOWN_SITE', `the registry has no sites: run \`${LAUNCHER} sites import --csv FILE\` first`);
    return registry.enrollMany(sites.map((s) => ({ site: s.slug, agent })));
  });
  await audit(config, io, 'agent.enroll', `*/${agent}`, { sites: agents.length, out });
  await writePrivateFile(out, `${JSON.stringify({ agents }, null, 2)}\n`);
  io.stdout(`enrolled ${agents.length} agents; credentials in ${out}\n`);
  return 0;
}

async function sitesImport(config: HubConfig, values: OptionValues, io: CliIo): Promise<number> {
  const csv = need('sites import', stringOption(values, 'csv'), '--csv');
  const province = stringOption(values, 'province');
  const allProvinces = values['all-provinces'] === true;
  if (province !== undefined && allProvinces) throw new HubError('E_USAGE', '--province and --all-provinces exclude each other');
  if (province !== undefined && province.trim() === '') throw new HubError('E_USAGE', '--province needs a code (25) or a name (Phú Thọ)');
  const result = await withRegistry(config, (registry) => registry.importCommunesCsv(csv, { province, allProvinces }));
  await audit(config, io, 'sites.import', csv, { added: result.added, updated: result.updated, total: result.total });
  io.stdout(`imported (${result.format}, province ${result.provinces.join(',')}): ${result.added} added, ${result.updated} updated, ${result.total} sites in ${registryDbPath(config.registry.path)}\n`);
  return 0;
}

async function sitesList(config: HubConfig, io: CliIo): Promise<number> {
  const { agents, sites } = await withRegistry(config, (registry) => Promise.resolve({ agents: registry.listAgents(), sites: registry.listSites() }));
  const lines = sites.map((s) => {
    const mine = agents.filter((a) => a.site === s.slug).map((a) => a.agent);
    return `${s.slug}\t${s.name}\t${s.area}\t${s.lat === undefined ? '' : `${s.lat},${s.lon}`}\t${mine.join(',')}\n`;
  });
  io.stdout(lines.join(''));
  return 0;
}
