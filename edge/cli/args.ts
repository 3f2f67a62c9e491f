// What every ioc-edge command shares: the process I/O it is given, and the parsing of its arguments
// against the command table, where any problem is a usage error (exit status 2).
import { parseArgs } from 'node:util';
import { EdgeError, errorMessage } from '../errors.ts';
import { commandHelp, HELP_OPTION, LAUNCHER, specOf, USAGE } from './commands.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT); injectable for tests. */
  untilSignal: () => Promise<string>;
}

export type ParsedArgs = { values: Record<string, string | boolean | undefined>; positionals: string[] };

export function usageError(message: string, command?: string): EdgeError {
  const hint = command === undefined || specOf(command) === undefined ? `run '${LAUNCHER} --help' for the commands` : `run '${LAUNCHER} ${command} --help' for its options`;
  return new EdgeError('E_USAGE', `${message}\nioc-edge: ${hint}`);
}

/** Parses one command's arguments; any problem is a usage error (exit 2). `undefined`: --help was asked. */
export function parseCommand(command: string, args: string[], allowPositionals = false): ParsedArgs | undefined {
  const spec = specOf(command);
  if (spec === undefined) throw usageError(`unknown command ${JSON.stringify(command)}`);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION })) options[name] = { type: o.type, ...(o.short === undefined ? {} : { short: o.short }) };
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args, options, allowPositionals, strict: true }) as ParsedArgs;
  } catch (err: unknown) {
    if (args.includes('--help') || args.includes('-h')) parsed = { values: { help: true }, positionals: [] };
    else throw usageError(`${command}: ${errorMessage(err).replace(/\. To specify a positional argument.*$/s, '')}`, command);
  }
  return parsed.values.help === true ? undefined : parsed;
}

/** Prints the help of `command` (the overview when it is not one); exit status 0. */
export function help(command: string, io: CliIo): number {
  const spec = specOf(command);
  io.out(spec === undefined ? USAGE : commandHelp(spec));
  return 0;
}

export function str(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}
