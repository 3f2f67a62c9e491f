// `ioc-edge run`: the agent (collectors, the outbox on disk, the MQTT link) until SIGTERM/SIGINT.
import { Agent } from '../agent.ts';
import { loadEdgeConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { LogRing, teeToRing } from '../log-ring.ts';
import { pino } from 'pino';
import { envValue, help, parseCommand, str, usageError, type CliIo } from './args.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('run', args);
  if (parsed === undefined) return help('run', io);
  const file = str(parsed.values, 'config') ?? envValue(io.env, 'IOC_EDGE_CONFIG');
  if (file === undefined) throw usageError('run needs --config FILE', 'run');
  const config = await loadEdgeConfig(file, io.env);
  // Under systemd the log goes to stdout (the journal); the newest lines stay in memory too, for the `logs` diagnostic.
  const logRing = new LogRing();
  const logger = createLogger(config.logLevel, teeToRing(logRing, pino.destination({ dest: 1, sync: true })));
  const agent = new Agent(config, { logger, logRing });
  await agent.start();
  const sig = await io.untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await agent.stop();
  return 0;
}
