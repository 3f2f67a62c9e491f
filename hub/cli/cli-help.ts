// The shape of every `ioc-hub` command (options, environment, examples), its --help text and its argument parsing.
// Conventions of mosquitto_pub and influx: a usage line, options, environment, examples, exit status.
// Exit status everywhere: 0 success, 1 runtime error, 2 usage error (HubError E_USAGE).
import { errorMessage } from '../../common/errors.ts';
import { parseArgs } from 'node:util';
import { HubError } from '../errors.ts';

/** How the README and every help text run the CLI from a checkout (`npm link` puts `ioc-hub` itself on the PATH). */
export const LAUNCHER = 'npx ioc-hub';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in the help text (`FILE`, `N`). */
  arg?: string;
  help: string;
}

export interface CommandSpec {
  /** The words that name it: `start`, `sites import`. */
  command: string;
  summary: string;
  /** Everything after `ioc-hub COMMAND` on each usage line. */
  usage: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
  env?: readonly (readonly [name: string, help: string])[];
  /** Command lines after `ioc-hub ` (the launcher is added). */
  examples: readonly string[];
  notes?: readonly string[];
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface ParsedCommand {
  values: OptionValues;
  positionals: string[];
  help: boolean;
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'print this help and exit' };

export const EXIT_STATUS = ['0  success', '1  runtime error (file, registry, network, refused by the hub)', '2  usage error (unknown command or option, missing or bad argument)'];

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`);
}

export function formatCommandHelp(program: string, spec: CommandSpec): string {
  const options = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, o]): [string, string] => [
    `${o.short === undefined ? '' : `-${o.short}, `}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`,
    `${o.help}${o.multiple === true ? ' (repeatable)' : ''}`,
  ]);
  const lines = [
    `${program} ${spec.command} — ${spec.summary}`,
    '',
    'Usage:',
    ...spec.usage.map((u) => `  ${program} ${spec.command}${u === '' ? '' : ` ${u}`}`),
    '',
    'Options:',
    ...table(options),
  ];
  if (spec.env !== undefined && spec.env.length > 0) lines.push('', 'Environment:', ...table(spec.env));
  if (spec.notes !== undefined) lines.push('', ...spec.notes);
  lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${LAUNCHER} ${e}`), '', 'Exit status:', ...EXIT_STATUS.map((e) => `  ${e}`), '');
  return lines.join('\n');
}

/** The list of commands; for a group (`ioc-hub silences`), `usage` lines of each command instead of the generic ones. */
export function formatOverview(program: string, summary: string, specs: readonly CommandSpec[], notes: readonly string[] = [], group = false): string {
  const usage = group ? specs.flatMap((s) => s.usage.map((u) => `  ${program} ${s.command}${u === '' ? '' : ` ${u}`}`)) : [`  ${program} COMMAND [OPTIONS]`, `  ${program} COMMAND --help`];
  return [
    `${program} — ${summary}`,
    '',
    'Usage:',
    ...usage,
    '',
    'Commands:',
    ...table(specs.map((s) => [s.command, s.summary])),
    '',
    ...notes,
    ...(notes.length > 0 ? [''] : []),
    'Exit status:',
    ...EXIT_STATUS.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** The command named by the leading words of argv (longest match), and the arguments after it. */
export function findCommand(argv: readonly string[], specs: readonly CommandSpec[]): { spec: CommandSpec; rest: string[] } | undefined {
  let best: CommandSpec | undefined;
  for (const spec of specs) {
    const words = spec.command.split(' ');
    if (words.every((w, i) => argv[i] === w) && (best === undefined || words.length > best.command.split(' ').length)) best = spec;
  }
  return best === undefined ? undefined : { spec: best, rest: argv.slice(best.command.split(' ').length) };
}

/** Parses a command's arguments; any problem is a usage error (exit 2) that names the command's --help. */
export function parseCommand(program: string, spec: CommandSpec, args: readonly string[], allowPositionals: boolean): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION })) {
    options[name] = { type: o.type, ...(o.multiple === true ? { multiple: true } : {}), ...(o.short === undefined ? {} : { short: o.short }) };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, allowPositionals, strict: true });
    return { values: values as OptionValues, positionals, help: values.help === true };
  } catch (err: unknown) {
    if (args.includes('--help') || args.includes('-h')) return { values: {}, positionals: [], help: true };
    // node:util's advice about '--' after an unknown option is noise here: keep its first sentence.
    const message = errorMessage(err).replace(/\. To specify a positional argument.*$/s, '');
    throw usageError(program, spec, `${spec.command}: ${message}`);
  }
}

export function usageError(program: string, spec: CommandSpec | undefined, message: string): HubError {
  const hint = spec === undefined ? `run '${LAUNCHER} --help' for the commands` : `run '${LAUNCHER} ${spec.command} --help' for its options`;
  return new HubError('E_USAGE', `${message}\n${program}: ${hint}`);
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function stringsOption(values: OptionValues, name: string): string[] | undefined {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

export function booleanOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** Environment variables the hub's own commands read (config file and overrides). */
export const CONFIG_ENV: readonly (readonly [string, string])[] = [
  ['IOC_HUB_CONFIG', 'hub config file when --config is not given'],
  ['IOC_HUB_REGISTRY_PATH', 'registry (default $XDG_STATE_HOME/ioc-hub/registry.json, ~/.local/state if unset: the database is registry.db beside it)'],
];

export const CONFIG_OPTION: OptionSpec = { type: 'string', arg: 'FILE', help: 'hub config YAML (default $IOC_HUB_CONFIG; without one: built-in defaults + IOC_HUB_* env)' };

/** The config file a command reads: --config, else $IOC_HUB_CONFIG, else none. */
export function configPath(values: OptionValues, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const flag = stringOption(values, 'config');
  if (flag !== undefined) return flag;
  const fromEnv = env.IOC_HUB_CONFIG;
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
