// The root pino logger of a process (hub, agent, simulator); components take `logger.child({ component })`.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line (the hub's and the agent's secrets alike). */
export const REDACT_PATHS = [
  'password',
  'token',
  '*.password',
  '*.token',
  '*.*.password',
  '*.*.token',
  'influx.password',
  'hub.token',
  'headers.authorization',
];

/** `name` is the program (`ioc-hub`, `ioc-edge`): every line carries it, with the pid and an ISO time. */
export function createLogger(name: string, level: LevelWithSilent | string = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { name, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** A logger that writes nothing (tests, library use without a logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
