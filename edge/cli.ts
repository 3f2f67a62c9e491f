// The `ioc-edge` command line: run the agent, check a config, or simulate many offices. The command table and
// the help texts are in cli/commands.ts, one module per command beside it; this is the entry and the dispatch.
import { ConfigError } from './config.ts';
import { errorMessage, isEdgeError } from './errors.ts';
import { help, parseCommand, usageError, type CliIo } from './cli/args.ts';
import { checkConfig } from './cli/check-config.ts';
import { USAGE } from './cli/commands.ts';
import { run } from './cli/run.ts';
import { simulate } from './cli/simulate.ts';
import { AGENT_VERSION } from './version.ts';

export type { CliIo } from './cli/args.ts';
export { commandHelp, EDGE_COMMANDS, LAUNCHER, USAGE, type CommandSpec } from './cli/commands.ts';

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
