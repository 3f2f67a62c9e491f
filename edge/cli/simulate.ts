// `ioc-edge simulate`: many commune offices from a credentials file (load tests, the demo).
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssues } from '../../common/zod-issues.ts';
import { slugSchema } from '../../protocol/index.ts';
import { LOG_LEVELS } from '../config.ts';
import { EdgeError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { Simulator, type SimMode } from '../simulator.ts';
import { envValue, help, parseCommand, str, usageError, type CliIo } from './args.ts';

const credentialsSchema = z.strictObject({
  agents: z.array(z.strictObject({ site: slugSchema, agent: slugSchema, token: z.string().min(1) })).min(1),
});

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw usageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`, 'simulate');
  return n;
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

export async function simulate(args: string[], io: CliIo): Promise<number> {
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
