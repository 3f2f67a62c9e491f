// The hub's root pino logger (common/logger.ts, named ioc-hub); components take `logger.child({ component })`.
import type { DestinationStream, LevelWithSilent, Logger } from 'pino';
import { createLogger as createProgramLogger } from '../common/logger.ts';

export { silentLogger, type Logger } from '../common/logger.ts';

export function createLogger(level: LevelWithSilent | string = 'info', destination?: DestinationStream): Logger {
  return createProgramLogger('ioc-hub', level, destination);
}
