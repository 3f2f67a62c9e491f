// `ioc-edge run`: the agent (collectors, the outbox on disk, the MQTT link) until SIGTERM/SIGINT. A config the hub
// pushes (link/remote-config.ts) is written over the config file and the agent's parts are rebuilt from it here:
// stopped (the outbox flushed, the offline status sent) and started again with the new file.
import { Agent } from '../agent.ts';
import { ConfigError, loadEdgeConfig, type EdgeConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { RemoteConfig, rollBackUnloadable } from '../link/remote-config.ts';
import { LogRing, teeToRing } from '../log-ring.ts';
import { pino } from 'pino';
import { envValue, help, parseCommand, str, usageError, type CliIo } from './args.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('run', args);
  if (parsed === undefined) return help('run', io);
  const file = str(parsed.values, 'config') ?? envValue(io.env, 'IOC_EDGE_CONFIG');
  if (file === undefined) throw usageError('run needs --config FILE', 'run');
  const signal = io.untilSignal().then((sig) => ({ kind: 'signal' as const, sig }));
  // Under systemd the log goes to stdout (the journal); the newest lines stay in memory too, for the `logs` diagnostic
  // (one ring for the process: it keeps the lines of the agent before a config restart).
  const logRing = new LogRing();
  for (;;) {
    let config: Readonly<EdgeConfig>;
    try {
      config = await loadEdgeConfig(file, io.env);
    } catch (err: unknown) {
      // A pushed config that does not load (it was validated, but the environment differs): the previous file back.
      if (!(err instanceof ConfigError) || !rollBackUnloadable(file, createLogger('warn'))) throw err;
      continue;
    }
    const logger = createLogger(config.logLevel, teeToRing(logRing, pino.destination({ dest: 1, sync: true })));
    let restart: (why: string) => void = () => undefined;
    const restarted = new Promise<{ kind: 'restart'; why: string }>((resolve) => (restart = (why) => resolve({ kind: 'restart', why })));
    const remote = new RemoteConfig({ configPath: file, config, env: io.env, log: logger.child({ component: 'remote-config' }), restart });
    const agent = new Agent(config, { logger, logRing, remoteConfig: { apply: remote.apply, result: () => remote.result() } });
    await agent.start();
    remote.watch(() => agent.stats().connected);
    // An update installed: the process ends, and systemd starts the updated `current` (edge/update/).
    const updated = agent.restartRequested.then((why) => ({ kind: 'update' as const, why }));
    const next = await Promise.race([signal, restarted, updated]);
    remote.stop();
    logger.info(next.kind === 'signal' ? { signal: next.sig } : { restart: next.why }, next.kind === 'restart' ? 'restarting with the config file' : 'stopping');
    await agent.stop();
    if (next.kind !== 'restart') return 0;
  }
}
