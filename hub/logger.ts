// The hub's root pino logger; components take `logger.child({ component })`.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line. */
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

export function createLogger(level: LevelWithSilent | string = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { level, base: { name: 'ioc-hub' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** A logger that writes nothing (tests, library use without a logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
