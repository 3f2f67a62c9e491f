// The InfluxDB 1.x sink (node-influx): line-protocol writes with ms precision, database + `raw` retention setup.
import { errorMessage } from '../../common/errors.ts';
import type { InfluxDB, IPoint } from 'influx';
import type { Logger } from 'pino';
import { HubError } from '../errors.ts';
import { ensureInfluxSchema, influxClient } from '../storage/influx-schema.ts';
import { SinkError, parseRejection, type HubPoint, type Sink } from './sink.ts';

export interface InfluxSinkOptions {
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Duration of the `raw` retention policy (InfluxDB syntax: 90d, INF). */
  retention: string;
  timeoutMs: number;
  logger: Logger;
}

export const RAW_RETENTION_POLICY = 'raw';

export class InfluxSink implements Sink {
  private readonly influx: InfluxDB;
  private readonly log: Logger;

  constructor(private readonly opts: InfluxSinkOptions) {
    // No retries inside the client: ingest decides (the agent resends until PUBACK).
    this.influx = influxClient(opts);
    this.log = opts.logger.child({ component: 'influx-sink' });
  }

  /**
   * Numbers as timestamps are passed through verbatim by node-influx (grammar/times.js castTimestamp:
   * `String(timestamp)`), so with precision 'ms' an epoch-ms value lands exactly.
   */
  async write(points: readonly HubPoint[]): Promise<void> {
    const lines: IPoint[] = points.map((p) => ({ measurement: p.measurement, tags: { ...p.tags }, fields: { ...p.fields }, timestamp: p.timestamp }));
    try {
      await this.influx.writePoints(lines, { precision: 'ms', database: this.opts.database });
    } catch (err: unknown) {
      const status = httpStatus(err);
      const message = `InfluxDB write failed: ${errorMessage(err)}`;
      // 400 = the points themselves were refused (InfluxDB still wrote the valid ones: "partial write").
      if (status === 400) throw new SinkError(message, { retryable: false, cause: err, rejection: parseRejection(message) });
      throw new SinkError(message, { retryable: true, cause: err });
    }
  }

  /** Creates the database and the default `raw` retention policy (or aligns its duration). */
  async ensureDatabase(): Promise<void> {
    const { database, retention } = this.opts;
    try {
      await this.influx.createDatabase(database);
      const rp = { database, duration: retention, replication: 1, isDefault: true };
      try {
        await this.influx.createRetentionPolicy(RAW_RETENTION_POLICY, rp);
      } catch (err: unknown) {
        if (!/already exists/.test(String(err))) throw err;
        await this.influx.alterRetentionPolicy(RAW_RETENTION_POLICY, rp);
      }
      await ensureInfluxSchema(this.influx, { database, sourceRp: RAW_RETENTION_POLICY });
      this.log.info({ database, retention }, 'database ready');
    } catch (err: unknown) {
      throw new HubError('E_SINK_SETUP', `cannot set up InfluxDB database ${database}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** True when InfluxDB answers /ping within the timeout. */
  async ping(timeoutMs = Math.min(this.opts.timeoutMs, 2000)): Promise<boolean> {
    try {
      const hosts = await this.influx.ping(timeoutMs);
      return hosts.some((h) => h.online);
    } catch {
      return false;
    }
  }
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('res' in err)) return undefined;
  const res: unknown = err.res;
  if (typeof res !== 'object' || res === null || !('statusCode' in res)) return undefined;
  return typeof res.statusCode === 'number' ? res.statusCode : undefined;
}
