// The InfluxDB 1.x sink: writes are line protocol built here (line-protocol.ts) and POSTed to /write with ms
// precision over a keep-alive agent; node-influx stays for the database + `raw` retention setup and /ping.
import * as http from 'node:http';
import * as https from 'node:https';
import { errorMessage } from '../../common/errors.ts';
import type { InfluxDB } from 'influx';
import type { Logger } from 'pino';
import { HubError } from '../errors.ts';
import { ensureInfluxSchema, influxClient } from '../storage/influx-schema.ts';
import { lineProtocol } from './line-protocol.ts';
import { SinkError, parseRejection, type HubPoint, type Sink } from './sink.ts';

export interface InfluxSinkOptions {
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Duration of the `raw` retention policy (InfluxDB syntax: 90d, INF). */
  retention: string;
  timeoutMs: number;
  /** Retention policy of the writes (`rp=`); absent: the database's default (`raw`, set by ensureDatabase). */
  retentionPolicy?: string | undefined;
  logger: Logger;
}

export const RAW_RETENTION_POLICY = 'raw';

export class InfluxSink implements Sink {
  private readonly influx: InfluxDB;
  private readonly log: Logger;
  private readonly writeUrl: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly authorization: string | undefined;

  constructor(private readonly opts: InfluxSinkOptions) {
    // No retries inside the client: ingest decides (the agent resends until PUBACK).
    this.influx = influxClient(opts);
    this.log = opts.logger.child({ component: 'influx-sink' });
    const base = new URL(opts.url);
    const secure = base.protocol === 'https:';
    this.writeUrl = new URL(`${base.pathname.replace(/\/+$/, '')}/write`, base);
    const query = new URLSearchParams({ db: opts.database, precision: 'ms' });
    if (opts.retentionPolicy !== undefined) query.set('rp', opts.retentionPolicy);
    this.writeUrl.search = query.toString();
    // Ingest bounds the writes in flight; the agent only keeps their connections open between writes.
    this.agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    this.request = secure ? https.request : http.request;
    this.authorization = opts.username === undefined ? undefined : `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  }

  /** Epoch-ms timestamps with `precision=ms`: a point lands at exactly its `t`. */
  async write(points: readonly HubPoint[]): Promise<void> {
    if (points.length === 0) return;
    const body = lineProtocol(points);
    let res: { status: number; text: string };
    try {
      res = await this.post(body);
    } catch (err: unknown) {
      throw new SinkError(`InfluxDB write failed: ${errorMessage(err)}`, { retryable: true, cause: err });
    }
    if (res.status === 204 || res.status === 200) return;
    const message = `InfluxDB write failed: HTTP ${res.status}: ${res.text.slice(0, 2000)}`;
    // 400 = the points themselves were refused (InfluxDB still wrote the valid ones: "partial write").
    if (res.status === 400) throw new SinkError(message, { retryable: false, rejection: parseRejection(message) });
    throw new SinkError(message, { retryable: true });
  }

  private post(text: string): Promise<{ status: number; text: string }> {
    const body = Buffer.from(text, 'utf8');
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.byteLength };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    return new Promise((resolve, reject) => {
      const req = this.request(this.writeUrl, { method: 'POST', agent: this.agent, headers, timeout: this.opts.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new HubError('E_SINK_WRITE', `no answer from InfluxDB within ${this.opts.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Closes the kept-alive connections (idempotent; they never hold the process open). */
  close(): void {
    this.agent.destroy();
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
