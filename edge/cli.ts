// The `ioc-edge` command line: run the agent, check a config, or simulate many offices.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { describeIssues, slugSchema } from '../protocol/index.ts';
import { Agent } from './agent.ts';
import { ConfigError, LOG_LEVELS, loadEdgeConfig } from './config.ts';
import { EdgeError, errorMessage, isEdgeError } from './errors.ts';
import { createLogger } from './logger.ts';
import { Simulator, type SimMode } from './simulator.ts';
import { AGENT_VERSION } from './version.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT); injectable for tests. */
  untilSignal: () => Promise<string>;
}

/** How the README and the help texts run the CLI from a checkout (`npm link` puts `ioc-edge` itself on the PATH). */
export const LAUNCHER = 'npx ioc-edge';

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  arg?: string;
  help: string;
}

export interface CommandSpec {
  command: string;
  summary: string;
  usage: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
  env?: readonly (readonly [string, string])[];
  examples: readonly string[];
  notes?: readonly string[];
}

const EXIT_STATUS = ['0  success', '1  runtime error (invalid config, unreadable file, the agent failed)', '2  usage error (unknown command or option, missing or bad argument)'];
const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'print this help and exit' };
const OVERRIDE_ENV: readonly (readonly [string, string])[] = [
  ['IOC_EDGE_HUB_URL', 'overrides hub.url of the config'],
  ['IOC_EDGE_HUB_TOKEN', 'overrides hub.token of the config'],
  ['IOC_EDGE_DATA_DIR', 'overrides dataDir (outbox, seq store)'],
  ['IOC_EDGE_LOG_LEVEL', 'overrides logLevel'],
];
const CONFIG_FLAG: OptionSpec = { type: 'string', short: 'c', arg: 'FILE', help: 'the agent config YAML (default $IOC_EDGE_CONFIG)' };

export const EDGE_COMMANDS: readonly CommandSpec[] = [
  {
    command: 'run',
    summary: 'run the agent: collectors, the outbox on disk, the MQTT link to the hub',
    usage: ['--config FILE'],
    options: { config: CONFIG_FLAG },
    env: [['IOC_EDGE_CONFIG', 'config file when --config is not given'], ...OVERRIDE_ENV, ['IOC_EDGE_DEBUG', '1: print the stack of an unexpected error']],
    examples: ['run --config /etc/ioc-edge/agent.yaml'],
    notes: ['Runs until SIGTERM or SIGINT (Ctrl-C), then stops cleanly (edge/deploy/ioc-edge.service runs it under systemd).'],
  },
  {
    command: 'check-config',
    summary: 'validate an agent config (with the env overrides) without running it',
    usage: ['FILE', '--config FILE', '-   (the config on stdin)'],
    options: { config: CONFIG_FLAG },
    env: [['IOC_EDGE_CONFIG', 'config file when neither FILE nor --config is given'], ...OVERRIDE_ENV],
    examples: ['check-config /etc/ioc-edge/agent.yaml', 'check-config - < agent.yaml'],
    notes: ['Prints `OK FILE: site=… agent=… collectors=N`, or every problem with its path (never the values).'],
  },
  {
    command: 'simulate',
    summary: 'simulate many commune offices from a credentials file (load tests, the demo)',
    usage: [
      '--hub URL --credentials FILE [--sites N] [--interval-ms MS] [--mode realtime|flood]',
      ' [--flood-batches N] [--flood-batch-points N] [--max-inflight N] [--seed N] [--start-jitter-ms MS] [--ca-file FILE] [--log-level LEVEL]',
    ],
    options: {
      hub: { type: 'string', arg: 'URL', help: 'the hub, mqtt://host:1883 or mqtts://host:8883 (default $IOC_EDGE_HUB_URL)' },
      credentials: { type: 'string', arg: 'FILE', help: 'JSON {agents:[{site, agent, token}]} as `ioc-hub enroll --all-sites --out` writes it' },
      sites: { type: 'string', arg: 'N', help: 'only the first N agents of the file' },
      'interval-ms': { type: 'string', arg: 'MS', help: 'how often each office reports (default 10000)' },
      mode: { type: 'string', arg: 'MODE', help: 'realtime (default: offices report until stopped) or flood (send a fixed load, then exit)' },
      'flood-batches': { type: 'string', arg: 'N', help: 'flood: batches per agent' },
      'flood-batch-points': { type: 'string', arg: 'N', help: 'flood: points per batch' },
      'max-inflight': { type: 'string', arg: 'N', help: 'unacknowledged publishes per agent' },
      seed: { type: 'string', arg: 'N', help: 'random seed of the simulated offices' },
      'start-jitter-ms': { type: 'string', arg: 'MS', help: 'spread the connections over MS (default min(interval, 5000))' },
      'ca-file': { type: 'string', arg: 'FILE', help: "CA certificate for mqtts:// (the hub's own CA)" },
      'log-level': { type: 'string', arg: 'LEVEL', help: `one of ${LOG_LEVELS.join(', ')} (default warn)` },
    },
    env: [['IOC_EDGE_HUB_URL', 'the hub when --hub is not given (npm run demo prints its own)']],
    examples: ['simulate --hub mqtt://127.0.0.1:1883 --credentials creds.json --sites 30 --interval-ms 5000'],
    notes: ['Prints a status line every 5 s and a last one when it stops (SIGTERM/SIGINT, or the end of a flood).'],
  },
  {
    command: 'version',
    summary: 'print the agent version',
    usage: [''],
    options: {},
    examples: ['version'],
  },
];

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`);
}

export function commandHelp(spec: CommandSpec): string {
  const options = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, o]): [string, string] => [
    `${o.short === undefined ? '' : `-${o.short}, `}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`,
    o.help,
  ]);
  return [
    `ioc-edge ${spec.command} — ${spec.summary}`,
    '',
    'Usage:',
    // A usage line that starts with spaces continues the one above it.
    ...spec.usage.map((u) => (u.startsWith(' ') ? `  ${' '.repeat(`ioc-edge ${spec.command}`.length)}${u}` : `  ioc-edge ${spec.command}${u === '' ? '' : ` ${u}`}`)),
    '',
    'Options:',
    ...table(options),
    ...(spec.env === undefined ? [] : ['', 'Environment:', ...table(spec.env)]),
    ...(spec.notes === undefined ? [] : ['', ...spec.notes]),
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${LAUNCHER} ${e}`),
    '',
    'Exit status:',
    ...EXIT_STATUS.map((e) => `  ${e}`),
  ].join('\n');
}

export const USAGE = [
  'ioc-edge — the commune office agent',
  '',
  'Usage:',
  '  ioc-edge COMMAND [OPTIONS]',
  '  ioc-edge COMMAND --help',
  '  ioc-edge --version',
  '',
  'Commands:',
  ...table(EDGE_COMMANDS.map((c) => [c.command, c.summary])),
  '',
  `From the project checkout run it as \`${LAUNCHER} COMMAND\` (\`npm link\` puts ioc-edge itself on the PATH);`,
  'on a Pi, `node /opt/ioc-edge/bin/ioc-edge.js COMMAND`.',
  '',
  'Exit status:',
  ...EXIT_STATUS.map((e) => `  ${e}`),
].join('\n');

const credentialsSchema = z.strictObject({
  agents: z.array(z.strictObject({ site: slugSchema, agent: slugSchema, token: z.string().min(1) })).min(1),
});

function processSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  untilSignal: processSignal,
};

function specOf(command: string): CommandSpec | undefined {
  return EDGE_COMMANDS.find((c) => c.command === command);
}

function usageError(message: string, command?: string): EdgeError {
  const hint = command === undefined || specOf(command) === undefined ? `run '${LAUNCHER} --help' for the commands` : `run '${LAUNCHER} ${command} --help' for its options`;
  return new EdgeError('E_USAGE', `${message}\nioc-edge: ${hint}`);
}

/** Parses one command's arguments; any problem is a usage error (exit 2). `undefined`: --help was asked. */
function parseCommand(command: string, args: string[], allowPositionals = false): { values: Record<string, string | boolean | undefined>; positionals: string[] } | undefined {
  const spec = specOf(command);
  if (spec === undefined) throw usageError(`unknown command ${JSON.stringify(command)}`);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION })) options[name] = { type: o.type, ...(o.short === undefined ? {} : { short: o.short }) };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals, strict: true }) as typeof parsed;
  } catch (err: unknown) {
    if (args.includes('--help') || args.includes('-h')) parsed = { values: { help: true }, positionals: [] };
    else throw usageError(`${command}: ${errorMessage(err).replace(/\. To specify a positional argument.*$/s, '')}`, command);
  }
  return parsed.values.help === true ? undefined : parsed;
}

function str(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw usageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`, 'simulate');
  return n;
}

async function checkConfig(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('check-config', args, true);
  if (parsed === undefined) return help('check-config', io);
  const { values, positionals } = parsed;
  if (positionals.length > 1 || (positionals.length === 1 && str(values, 'config') !== undefined)) throw usageError('check-config takes one FILE', 'check-config');
  const file = str(values, 'config') ?? positionals[0] ?? envValue(io.env, 'IOC_EDGE_CONFIG');
  if (file === undefined) throw usageError('check-config needs a FILE', 'check-config');
  try {
    const cfg = await loadEdgeConfig(file === '-' ? '/dev/stdin' : file, io.env);
    io.out(`OK ${file}: site=${cfg.site} agent=${cfg.agent} collectors=${cfg.collectors.length}`);
    return 0;
  } catch (err: unknown) {
    if (err instanceof ConfigError) {
      io.err(`invalid config ${file}:`);
      for (const issue of err.issues) io.err(`  ${issue}`);
      return 1;
    }
    throw err;
  }
}

function help(command: string, io: CliIo): number {
  const spec = specOf(command);
  io.out(spec === undefined ? USAGE : commandHelp(spec));
  return 0;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('run', args);
  if (parsed === undefined) return help('run', io);
  const file = str(parsed.values, 'config') ?? envValue(io.env, 'IOC_EDGE_CONFIG');
  if (file === undefined) throw usageError('run needs --config FILE', 'run');
  const config = await loadEdgeConfig(file, io.env);
  const logger = createLogger(config.logLevel);
  const agent = new Agent(config, { logger });
  await agent.start();
  const sig = await io.untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await agent.stop();
  return 0;
}

async function readCredentials(file: string): Promise<z.infer<typeof credentialsSchema>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err: unknown) {
    throw new EdgeError('E_CREDENTIALS', `cannot read credentials ${file}`, { cause: err });
  }
  const parsed = credentialsSchema.safeParse(raw);
  if (!parsed.success) throw new EdgeError('E_CREDENTIALS', `invalid credentials ${file}: ${describeIssues(parsed.error.issues)}`, { cause: parsed.error });
  return parsed.data;
}

async function simulate(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('simulate', args);
  if (parsed === undefined) return help('simulate', io);
  const v = parsed.values;
  const values = {
    hub: str(v, 'hub') ?? envValue(io.env, 'IOC_EDGE_HUB_URL'),
    credentials: str(v, 'credentials'),
    sites: str(v, 'sites'),
    'interval-ms': str(v, 'interval-ms'),
    mode: str(v, 'mode'),
    'flood-batches': str(v, 'flood-batches'),
    'flood-batch-points': str(v, 'flood-batch-points'),
    'max-inflight': str(v, 'max-inflight'),
    seed: str(v, 'seed'),
    'start-jitter-ms': str(v, 'start-jitter-ms'),
    'ca-file': str(v, 'ca-file'),
    'log-level': str(v, 'log-level'),
  };
  if (values.hub === undefined || !/^mqtts?:\/\//.test(values.hub)) throw usageError('simulate needs --hub mqtt://host:port (or IOC_EDGE_HUB_URL)', 'simulate');
  if (values.credentials === undefined) throw usageError('simulate needs --credentials FILE', 'simulate');
  const mode = values.mode ?? 'realtime';
  if (mode !== 'realtime' && mode !== 'flood') throw usageError(`--mode must be realtime or flood, got ${JSON.stringify(mode)}`, 'simulate');
  const level = values['log-level'] ?? 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, 'simulate');
  const sites = intOption('sites', values.sites, 1);
  const intervalMs = intOption('interval-ms', values['interval-ms'], 10) ?? 10_000;
  const floodBatches = intOption('flood-batches', values['flood-batches'], 1);
  const floodBatchPoints = intOption('flood-batch-points', values['flood-batch-points'], 1);
  const maxInflight = intOption('max-inflight', values['max-inflight'], 1);
  const seed = intOption('seed', values.seed, 0);
  const startJitterMs = intOption('start-jitter-ms', values['start-jitter-ms'], 0) ?? Math.min(intervalMs, 5000);
  // Usage is checked before any file is read: a bad option is exit 2 whatever the credentials.
  const creds = await readCredentials(values.credentials);
  const agents = sites === undefined ? creds.agents : creds.agents.slice(0, sites);
  const logger = createLogger(level, process.stderr);
  const sim = new Simulator({
    hubUrl: values.hub,
    agents,
    intervalMs,
    mode: mode satisfies SimMode,
    startJitterMs,
    logger,
    ...(floodBatches === undefined ? {} : { floodBatches }),
    ...(floodBatchPoints === undefined ? {} : { floodBatchPoints }),
    ...(maxInflight === undefined ? {} : { maxInflight }),
    ...(seed === undefined ? {} : { seed }),
    ...(values['ca-file'] === undefined ? {} : { caFile: values['ca-file'] }),
  });
  const started = Date.now();
  const line = (): string => {
    const s = sim.stats();
    return `${new Date().toISOString()} agents=${s.agentsConnected}/${agents.length} generated=${s.pointsGenerated} acked=${s.pointsAcked} batches=${s.batchesAcked} elapsed_s=${Math.round((Date.now() - started) / 1000)}`;
  };
  const status = setInterval(() => io.out(line()), 5000);
  sim.start();
  const reason = await Promise.race([io.untilSignal(), ...(mode === 'flood' ? [sim.done().then(() => 'done')] : [])]);
  clearInterval(status);
  await sim.stop();
  io.out(`${line()} stopped=${reason}`);
  return 0;
}

/** Runs one command; resolves with the exit code. User errors print a message, never a stack. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await run(rest, io);
      case 'check-config':
        return await checkConfig(rest, io);
      case 'simulate':
        return await simulate(rest, io);
      case '--version':
      case '-V':
      case 'version':
        if (command === 'version' && parseCommand('version', rest) === undefined) return help('version', io);
        io.out(AGENT_VERSION);
        return 0;
      case undefined:
        io.err(USAGE);
        return 2;
      case '--help':
      case '-h':
      case 'help':
        return help(rest[0] ?? '', io);
      default:
        throw usageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err: unknown) {
    if (err instanceof ConfigError) {
      io.err(`ioc-edge: invalid config:`);
      for (const issue of err.issues) io.err(`  ${issue}`);
      return 1;
    }
    if (isEdgeError(err)) {
      const cause = err.cause === undefined || err.code === 'E_USAGE' ? '' : ` (${errorMessage(err.cause)})`;
      io.err(`ioc-edge: ${err.message}${cause}`);
      return err.code === 'E_USAGE' ? 2 : 1;
    }
    io.err(`ioc-edge: unexpected error: ${errorMessage(err)}`);
    if (io.env.IOC_EDGE_DEBUG === '1' && err instanceof Error && err.stack !== undefined) io.err(err.stack);
    return 1;
  }
}
