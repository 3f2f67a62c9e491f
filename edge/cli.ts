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

const USAGE = `usage:
  ioc-edge run --config FILE
  ioc-edge check-config FILE
  ioc-edge simulate --hub URL --credentials FILE [--sites N] [--interval-ms MS] [--mode realtime|flood]
                    [--flood-batches N] [--flood-batch-points N] [--max-inflight N] [--seed N]
                    [--start-jitter-ms MS] [--ca-file FILE] [--log-level LEVEL]
  ioc-edge --version`;

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

function usageError(message: string): EdgeError {
  return new EdgeError('E_USAGE', `${message}\n${USAGE}`);
}

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw usageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

async function checkConfig(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, allowPositionals: true });
  const file = values.config ?? positionals[0];
  if (file === undefined) throw usageError('check-config needs a FILE');
  try {
    const cfg = await loadEdgeConfig(file, io.env);
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

async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  if (values.config === undefined) throw usageError('run needs --config FILE');
  const config = await loadEdgeConfig(values.config, io.env);
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
  const { values } = parseArgs({
    args,
    options: {
      hub: { type: 'string' },
      credentials: { type: 'string' },
      sites: { type: 'string' },
      'interval-ms': { type: 'string' },
      mode: { type: 'string' },
      'flood-batches': { type: 'string' },
      'flood-batch-points': { type: 'string' },
      'max-inflight': { type: 'string' },
      seed: { type: 'string' },
      'start-jitter-ms': { type: 'string' },
      'ca-file': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  if (values.hub === undefined || !/^mqtts?:\/\//.test(values.hub)) throw usageError('simulate needs --hub mqtt://host:port');
  if (values.credentials === undefined) throw usageError('simulate needs --credentials FILE');
  const mode = values.mode ?? 'realtime';
  if (mode !== 'realtime' && mode !== 'flood') throw usageError(`--mode must be realtime or flood, got ${JSON.stringify(mode)}`);
  const level = values['log-level'] ?? 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const creds = await readCredentials(values.credentials);
  const sites = intOption('sites', values.sites, 1);
  const agents = sites === undefined ? creds.agents : creds.agents.slice(0, sites);
  const intervalMs = intOption('interval-ms', values['interval-ms'], 10) ?? 10_000;
  const floodBatches = intOption('flood-batches', values['flood-batches'], 1);
  const floodBatchPoints = intOption('flood-batch-points', values['flood-batch-points'], 1);
  const maxInflight = intOption('max-inflight', values['max-inflight'], 1);
  const seed = intOption('seed', values.seed, 0);
  const startJitterMs = intOption('start-jitter-ms', values['start-jitter-ms'], 0) ?? Math.min(intervalMs, 5000);
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
      case 'version':
        io.out(AGENT_VERSION);
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
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
    if (err instanceof TypeError && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`ioc-edge: ${err.message}\n${USAGE}`);
      return 2;
    }
    io.err(`ioc-edge: unexpected error: ${errorMessage(err)}`);
    if (io.env.IOC_EDGE_DEBUG === '1' && err instanceof Error && err.stack !== undefined) io.err(err.stack);
    return 1;
  }
}
