// The process's root pino logger; components take `logger.child({ component })`.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'token',
  'password',
  '*.token',
  '*.password',
  '*.*.token',
  '*.*.password',
  'headers.authorization',
];

export function createLogger(level: LevelWithSilent | string = 'info', destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** A logger that writes nothing (tests, library use without a logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
