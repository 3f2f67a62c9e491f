// Creates the database, its retention policies and rollups, then writes site_info, in the background until
// InfluxDB answers: the hub starts (and spools) while InfluxDB is down.
import type { Logger } from 'pino';
import type { Site } from '../agents/registry.ts';
import { fullJitterDelay } from '../../common/backoff.ts';
import type { InfluxSink } from '../write/influx-sink.ts';
import { writeSiteInfo, type InfluxConnection } from './influx-schema.ts';

export interface DatabaseSetupDeps {
  influx: Pick<InfluxSink, 'ensureDatabase'>;
  conn: InfluxConnection;
  /** The registry's sites: site_info (names, coordinates) lets the walls' geomap join the registry. */
  sites: () => readonly Site[];
  log: Logger;
}

export class DatabaseSetup {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;

  constructor(private readonly deps: DatabaseSetupDeps) {}

  /** Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.attempt(0);
  }

  private attempt(n: number): void {
    const { influx, conn, sites, log } = this.deps;
    influx.ensureDatabase().then(() => writeSiteInfo(conn, sites())).then(
      () => undefined,
      (err: unknown) => {
        if (this.stopped) return;
        const delay = fullJitterDelay(n, { minMs: 500, maxMs: 30_000 });
        log.warn({ err, attempt: n, retryInMs: delay }, 'InfluxDB setup failed; retrying');
        this.timer = setTimeout(() => this.attempt(n + 1), delay);
      },
    );
  }

  /** Stops retrying. Idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}
