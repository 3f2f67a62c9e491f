// Config of people's logins (`sessions:`) and of the web console (`console:`); zod only, read by hub/config.ts.
import { z } from 'zod';
import { durationSchema } from '../alerts/duration.ts';

export const sessionsConfigSchema = z.strictObject({
  /** Users and sessions (SQLite); default: accounts.db beside the registry. */
  accountsPath: z.string().min(1).optional(),
  /** A session unused this long ends. */
  idle: durationSchema.prefault('8h'),
  /** A session ends this long after its login, used or not. */
  absolute: durationSchema.prefault('24h'),
  /** `Secure` cookies: auto = when the request came over TLS (or a proxy said so, with http.trustProxy); always; never. */
  secureCookies: z.enum(['auto', 'always', 'never']).default('auto'),
  /** Failed logins of one user from one address within `loginWindow`; past it that pair is refused (429) without checking. */
  loginFailures: z.int().min(1).max(1000).default(5),
  loginWindow: durationSchema.prefault('15m'),
  /** User + address pairs remembered by the throttle; past it the oldest is forgotten (counted). */
  maxThrottleEntries: z.int().min(100).max(1_000_000).default(10_000),
});

export const consoleConfigSchema = z.strictObject({
  /** Serve the web console (dist/console) on the HTTP API port. */
  enabled: z.boolean().default(true),
  /** The built console; default dist/console of the installation. */
  dir: z.string().min(1).optional(),
  /** Anonymous visitors may see the wall (read-only, `wall:read` only); false: the wall needs a login too. */
  anonymousWall: z.boolean().default(true),
  /** Live updates (GET /api/events, server-sent events) open at once; past it a stream is refused (503, counted). */
  maxEventStreams: z.int().min(1).max(100_000).default(200),
  /** A heartbeat on every stream this often (the client calls the hub lost after two without one). */
  eventHeartbeat: durationSchema.prefault('15s').pipe(z.int().min(100).max(300_000)),
  /** Bytes a stream may have waiting for its client; past it the client is too slow and its stream is dropped (counted). */
  eventBufferBytes: z.int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
  /** A stream is ended (the client reconnects at once, its session checked again) after this long. */
  eventStreamMaxAge: durationSchema.prefault('10m').pipe(z.int().min(1000)),
});

export type SessionsConfig = z.output<typeof sessionsConfigSchema>;
export type ConsoleConfig = z.output<typeof consoleConfigSchema>;

