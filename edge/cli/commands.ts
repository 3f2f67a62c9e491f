// The ioc-edge command table: every command with its options, environment, examples and notes, and the help
// texts printed from it (`ioc-edge --help`, `ioc-edge COMMAND --help`). The README's commands are checked against it.
import { LOG_LEVELS } from '../config.ts';

/** How the README and the help texts run the CLI from a checkout (`npm link` puts `ioc-edge` itself on the PATH). */
export const LAUNCHER = 'npx ioc-edge';

export interface OptionSpec {
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
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'print this help and exit' };
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


export function specOf(command: string): CommandSpec | undefined {
  return EDGE_COMMANDS.find((c) => c.command === command);
}
