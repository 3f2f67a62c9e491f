// The MQTT link to the hub: drains the outbox with QoS 1, owns reconnects, retained status and last will.
//
// How this uses mqtt.js 5 (read in node_modules/mqtt/build/lib/client.js) and why:
// - mqtt.js keeps unacked QoS 1 publishes in its own in-memory `outgoingStore` and, when it
//   reconnects the SAME client (its own reconnect timer, or `connect()` after a drop), replays them
//   from that store before emitting 'connect'. But `client.reconnect()` swaps in an EMPTY store
//   (losing them silently, their callbacks never called), and a forced clean-up (keepalive or
//   CONNACK timeout) with `reconnectPeriod: 0` and `clean: true` fails their callbacks with
//   "Connection closed" while the packets stay in the store to be replayed. Resending ourselves on
//   that error while mqtt.js also replays would double-send; not resending would depend on
//   which path closed the socket.
// - So the outbox is the single source of truth: each connection attempt gets a FRESH client
//   (`reconnectPeriod: 0`, `clean: true`), and when its socket closes we end it for good (its
//   store dies with it and its late callbacks are ignored), return every in-flight batch to the
//   outbox (`release()`) and resend them, oldest first, on the next connection. A batch leaves the
//   outbox only on PUBACK (publish callback without error). A batch in flight when the socket died
//   may be delivered twice; the hub's idempotent writes make that harmless, and nothing else is
//   resent twice.
// - Two lanes share maxInflight after a (re)connect. The LIVE lane sends the newest batches appended
//   since the connection came up (Outbox.peekNewest), at once, so walls see the present while a day
//   of backlog is still queued. The REPLAY lane sends the oldest batches in seq order at a bounded
//   rate (replayBatchesPerS, a token bucket) and never takes the last liveReserve slots, so a
//   rural uplink is not flooded and live batches always find room. Replayed batches carry
//   `late: true`, and every batch sent while a backlog remains carries `backlog: {depth, oldestT}`
//   (batch-level only: points stay identical between deliveries).
// - Reconnects are ours: exponential back-off with full jitter capped at reconnectMaxMs, so 3,000
//   agents cut off by a hub restart come back spread out. A refused CONNACK (bad token) is logged
//   and retried with the same capped back-off.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  agentIdentity,
  cmdFilter,
  cmdResultTopic,
  decodeCommand,
  parseTopic,
  statusTopic,
  telemetryTopic,
  eventTopic,
  type Command,
  type CommandResult,
  type Status,
} from '../protocol/index.ts';
import { Backoff } from '../common/backoff.ts';
import { RateLimitedLog } from '../common/rate-limited-log.ts';
import { readBootId, readClockSynced } from './boot-info.ts';
import { EdgeError, errorMessage } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';
import { AGENT_VERSION } from './version.ts';

export interface MqttLinkOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  url: string;
  site: string;
  agent: string;
  /** Enrollment token, sent as the MQTT password. */
  token: string;
  outbox: Outbox;
  /** PEM CA bundle file for mqtts. */
  caFile?: string;
  /** PEM client certificate and key for a hub that requires mTLS. */
  certFile?: string;
  keyFile?: string;
  /** false: the hub's certificate is not checked; warned about at start and every `insecureWarnEveryMs`. */
  rejectUnauthorized?: boolean;
  /** Interval of the repeated warning when rejectUnauthorized is false (default 10 minutes). */
  insecureWarnEveryMs?: number;
  keepaliveS?: number;
  /** Socket open to CONNACK. */
  connectTimeoutMs?: number;
  /** QoS 1 publishes from the outbox awaiting PUBACK at once (both lanes). */
  maxInflight?: number;
  /** Replay lane: backlog batches sent per second after an outage (default 20: ~20 KiB/s of typical batches). */
  replayBatchesPerS?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  logger?: Logger;
  version?: string;
  configRev?: string | number;
  bootId?: string;
  /** Overrides the timesyncd/env detection of a synchronised clock. */
  clockSynced?: boolean;
  /** Randomness of the back-off jitter (tests). */
  random?: () => number;
}

export interface LinkAck {
  seq: number;
  points: number;
  sentAt: number;
  ackedAt: number;
  payload: string;
}

export type CommandHandler = (cmd: Command) => Promise<unknown>;

export interface MqttLinkEvents {
  connect: [];
  close: [];
  error: [Error];
  ack: [LinkAck];
}

export interface LinkStats {
  connected: boolean;
  connects: number;
  inflight: number;
  batchesAcked: number;
  pointsAcked: number;
  publishErrors: number;
  /** Batches of the backlog (present when the connection came up) not yet acknowledged. */
  backlog: number;
  batchesReplayed: number;
}

export interface LinkStopOptions {
  /** How long to keep draining the outbox before going offline. */
  drainTimeoutMs?: number;
}

const STATUS_PUBACK_TIMEOUT_MS = 2000;
const END_TIMEOUT_MS = 2000;
const FAILURE_LOG_INTERVAL_MS = 60_000;
/** A connection must last this long before the back-off starts again from its minimum (no flapping loop). */
const STABLE_CONNECTION_MS = 30_000;
export const DEFAULT_REPLAY_BATCHES_PER_S = 20;
/** batchSchema's epoch range: an unsynced clock outside it must not make a batch malformed. */
const MIN_PLAUSIBLE_EPOCH_MS = 1_000_000_000_000;
const MAX_PLAUSIBLE_EPOCH_MS = 9_999_999_999_999;

/** Token bucket of the replay lane: `rate` tokens a second, at most `burst` saved up. */
class TokenBucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.at = this.now();
  }

  available(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    this.at = now;
    return Math.floor(this.tokens);
  }

  take(): void {
    this.tokens -= 1;
  }

  /** ms until one whole token is there. */
  msToNext(): number {
    return Math.max(1, Math.ceil(((1 - Math.min(1, this.tokens)) * 1000) / this.rate));
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class MqttLink extends EventEmitter<MqttLinkEvents> {
  private readonly opts: MqttLinkOptions;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly identity: string;
  private readonly topic: string;
  private readonly eventTopic: string;
  private readonly ca: Buffer | undefined;
  private readonly bootId: string;
  private readonly maxInflight: number;
  /** Slots of maxInflight the replay lane may use: the rest is kept for live batches. */
  private readonly maxReplayInflight: number;
  private readonly replayBucket: TokenBucket;
  private readonly commands = new Map<string, CommandHandler>();

  private client: MqttClient | undefined;
  private running = false;
  private isConnected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private insecureTimer: NodeJS.Timeout | undefined;
  private readonly clientCert: { cert: Buffer; key: Buffer } | undefined;
  private readonly inflightSeqs = new Set<number>();
  private readonly replayInflight = new Set<number>();
  /** Seqs at or above this were appended after the connection came up: the live lane. */
  private liveFrom = 0;
  /** Backlog batches (below liveFrom) not yet acknowledged; an estimate bounded by the outbox depth. */
  private backlogLeft = 0;
  private replayTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private failures = 0;
  private connectedAt = 0;
  private readonly failureLog: RateLimitedLog;
  private counters = { connects: 0, batchesAcked: 0, pointsAcked: 0, publishErrors: 0, batchesReplayed: 0 };

  constructor(opts: MqttLinkOptions) {
    super();
    if (!/^mqtts?:\/\//.test(opts.url)) throw new EdgeError('E_LINK', `hub url must start with mqtt:// or mqtts://: ${opts.url}`);
    this.opts = opts;
    this.identity = agentIdentity(opts.site, opts.agent);
    this.topic = telemetryTopic(opts.site, opts.agent);
    this.eventTopic = eventTopic(opts.site, opts.agent);
    this.log = (opts.logger ?? silentLogger()).child({ component: 'link', identity: this.identity });
    this.failureLog = new RateLimitedLog(this.log, FAILURE_LOG_INTERVAL_MS);
    this.maxInflight = opts.maxInflight ?? 8;
    this.maxReplayInflight = Math.max(1, this.maxInflight - Math.ceil(this.maxInflight / 4));
    const rate = opts.replayBatchesPerS ?? DEFAULT_REPLAY_BATCHES_PER_S;
    if (!(rate > 0)) throw new EdgeError('E_LINK', `replayBatchesPerS must be > 0, got ${rate}`);
    this.replayBucket = new TokenBucket(rate, Math.max(1, Math.ceil(rate)));
    this.backoff = new Backoff({ minMs: opts.reconnectMinMs ?? 1000, maxMs: opts.reconnectMaxMs ?? 60_000, ...(opts.random ? { random: opts.random } : {}) });
    this.bootId = opts.bootId ?? readBootId();
    try {
      this.ca = opts.caFile === undefined ? undefined : readFileSync(opts.caFile);
    } catch (err: unknown) {
      throw new EdgeError('E_LINK', `cannot read CA file ${opts.caFile ?? ''}`, { cause: err });
    }
    try {
      this.clientCert = opts.certFile === undefined || opts.keyFile === undefined ? undefined : { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile) };
    } catch (err: unknown) {
      throw new EdgeError('E_LINK', `cannot read client certificate ${opts.certFile ?? ''} / key ${opts.keyFile ?? ''}`, { cause: err });
    }
  }

  /** True when the hub's certificate goes unchecked (mqtts with rejectUnauthorized: false). */
  get insecureTls(): boolean {
    return this.opts.url.startsWith('mqtts:') && this.opts.rejectUnauthorized === false;
  }

  private warnInsecure(): void {
    this.log.warn({ url: this.opts.url, rejectUnauthorized: false }, "TLS certificate checks are OFF (hub.rejectUnauthorized: false): anyone on the path can pose as the hub and read this agent's token");
  }

  get connected(): boolean {
    return this.isConnected;
  }

  stats(): LinkStats {
    return { connected: this.isConnected, inflight: this.inflightSeqs.size, backlog: this.backlog(), ...this.counters };
  }

  /** Registers the handler of command `name` (topic `.../cmd/{name}`); its result goes to cmd-result. */
  handleCommand(name: string, handler: CommandHandler): void {
    this.commands.set(name, handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.insecureTls) {
      this.warnInsecure();
      this.insecureTimer = setInterval(() => this.warnInsecure(), this.opts.insecureWarnEveryMs ?? 600_000);
      this.insecureTimer.unref();
    }
    this.connectNow();
  }

  /** Tells the link the outbox has something new. */
  kick(): void {
    if (this.isConnected) void this.pump();
  }

  /** Drains for up to drainTimeoutMs, publishes retained `online:false`, disconnects. Idempotent. */
  async stop(opts: LinkStopOptions = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearInterval(this.insecureTimer);
    this.insecureTimer = undefined;
    const deadline = Date.now() + (opts.drainTimeoutMs ?? 2000);
    while (this.isConnected && (this.opts.outbox.depth > 0 || this.inflightSeqs.size > 0) && Date.now() < deadline) {
      await delay(20);
    }
    const client = this.client;
    if (client !== undefined && this.isConnected) {
      try {
        await this.publishAsync(client, statusTopic(this.opts.site, this.opts.agent), JSON.stringify(this.status(false)), true, STATUS_PUBACK_TIMEOUT_MS);
      } catch (err: unknown) {
        this.log.warn({ err }, 'offline status not acknowledged');
      }
    }
    this.isConnected = false;
    this.client = undefined;
    this.clearInflight();
    if (client !== undefined) await this.endClient(client);
    this.log.info({}, 'link stopped');
  }

  private status(online: boolean): Status {
    return {
      online,
      ts: Date.now(),
      version: this.opts.version ?? AGENT_VERSION,
      bootId: this.bootId,
      configRev: this.opts.configRev ?? 0,
      clockSynced: readClockSynced(this.opts.clockSynced),
    };
  }

  private connectNow(): void {
    this.reconnectTimer = undefined;
    if (!this.running) return;
    const options: IClientOptions = {
      clientId: this.identity,
      username: this.identity,
      password: this.opts.token,
      protocolVersion: 4,
      clean: true,
      keepalive: this.opts.keepaliveS ?? 30,
      connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      will: {
        topic: statusTopic(this.opts.site, this.opts.agent),
        payload: Buffer.from(JSON.stringify(this.status(false))),
        qos: 1,
        retain: true,
      },
      ...(this.opts.url.startsWith('mqtts:') ? { rejectUnauthorized: this.opts.rejectUnauthorized ?? true, ...(this.ca ? { ca: this.ca } : {}), ...(this.clientCert ?? {}) } : {}),
    };
    let client: MqttClient;
    try {
      client = mqtt.connect(this.opts.url, options);
    } catch (err: unknown) {
      this.onFailure(err);
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    // Nagle adds ~17 ms per small publish; our batches are latency-sensitive acks, not bulk.
    if (client.stream instanceof Socket) client.stream.setNoDelay(true);
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose(client));
    client.on('error', (err: Error) => {
      if (client !== this.client) return;
      this.onFailure(err);
    });
    client.on('message', (topic: string, payload: Buffer) => {
      if (client !== this.client) return;
      void this.onMessage(client, topic, payload);
    });
  }

  private onFailure(err: unknown): void {
    this.failures += 1;
    const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
    const refused = code === 4 || code === 5;
    const data = { err, code, failures: this.failures };
    if (this.failureLog.due('connect', this.failures === 1) !== undefined) {
      if (refused) this.log.error(data, 'hub refused the connection: check the agent token and identity');
      else this.log.warn(data, 'hub connection failed');
    } else {
      this.log.debug(data, 'hub connection failed');
    }
    if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new EdgeError('E_LINK', errorMessage(err), { cause: err }));
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client || !this.running) return;
    this.isConnected = true;
    this.counters.connects += 1;
    if (this.failures > 0) this.log.info({ failures: this.failures }, 'hub connection restored');
    else this.log.info({}, 'connected to hub');
    this.failures = 0;
    this.connectedAt = Date.now();
    // Whatever is in the outbox now is backlog; what is appended from here on is live.
    this.liveFrom = this.opts.outbox.lastSeq + 1;
    this.backlogLeft = this.opts.outbox.depth;
    client.publish(statusTopic(this.opts.site, this.opts.agent), JSON.stringify(this.status(true)), { qos: 1, retain: true }, (err?: Error) => {
      if (err) this.log.debug({ err }, 'online status not acknowledged');
    });
    client.subscribe(cmdFilter(this.opts.site, this.opts.agent), { qos: 1 }, (err?: Error | null) => {
      if (err) this.log.warn({ err }, 'command subscription failed');
    });
    this.emit('connect');
    void this.pump();
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    const wasConnected = this.isConnected;
    this.isConnected = false;
    this.client = undefined;
    // Everything this connection had in flight goes back to the outbox, to be resent in order.
    this.clearInflight();
    this.discardClient(client);
    if (wasConnected && Date.now() - this.connectedAt >= STABLE_CONNECTION_MS) this.backoff.reset();
    if (wasConnected) this.log.warn({}, 'hub connection lost');
    this.emit('close');
    this.scheduleReconnect();
  }

  private clearInflight(): void {
    this.inflightSeqs.clear();
    this.replayInflight.clear();
    clearTimeout(this.replayTimer);
    this.replayTimer = undefined;
    this.opts.outbox.release();
  }

  private backlog(): number {
    this.backlogLeft = Math.min(this.backlogLeft, this.opts.outbox.depth);
    return this.backlogLeft;
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer !== undefined) return;
    const wait = this.backoff.next();
    this.log.debug({ wait, attempt: this.backoff.attempts }, 'reconnect scheduled');
    this.reconnectTimer = setTimeout(() => this.connectNow(), wait);
  }

  /** A client whose socket has closed: end it for good, so its store and timers go with it. */
  private discardClient(client: MqttClient): void {
    client.removeAllListeners('message');
    client.on('error', () => undefined);
    client.end(true);
  }

  /** A connected client: DISCONNECT cleanly (no last will), or force it after END_TIMEOUT_MS. */
  private async endClient(client: MqttClient): Promise<void> {
    client.removeAllListeners('message');
    client.on('error', () => undefined);
    if (!client.connected) {
      client.end(true);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      new Promise<boolean>((resolve) => client.end(false, {}, () => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), END_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!ended) client.end(true);
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.isConnected && this.inflightSeqs.size < this.maxInflight) {
          const client = this.client;
          // Live lane: the newest batches appended since the connection came up, unthrottled.
          const live = await this.opts.outbox.peekNewest(this.maxInflight - this.inflightSeqs.size, this.liveFrom);
          if (!this.usable(client, live)) break;
          for (const entry of live) this.send(client, entry, false);
          // Replay lane: oldest first, rate-limited, never in the slots kept for live batches.
          const room = Math.min(this.maxInflight - this.inflightSeqs.size, this.maxReplayInflight - this.replayInflight.size);
          const tokens = room > 0 ? this.replayBucket.available() : 0;
          const old = await this.opts.outbox.peek(Math.min(room, tokens));
          if (!this.usable(client, old)) break;
          for (const entry of old) {
            this.replayBucket.take();
            this.send(client, entry, true);
          }
          if (room > 0 && tokens === 0) this.scheduleReplay();
          if (live.length === 0 && old.length === 0) break;
        }
      } while (this.pumpAgain && this.isConnected);
    } catch (err: unknown) {
      this.log.error({ err }, 'outbox read failed');
    } finally {
      this.pumping = false;
    }
  }

  /** Whether batches just leased can go out on `client`; if not they are returned to the outbox. */
  private usable(client: MqttClient | undefined, entries: readonly OutboxEntry[]): client is MqttClient {
    if (client !== undefined && client === this.client && this.isConnected) return true;
    if (entries.length > 0) this.opts.outbox.release(entries.map((e) => e.seq));
    return false;
  }

  /** Wakes the pump when the replay lane has its next token (only while the outbox has batches not in flight). */
  private scheduleReplay(): void {
    if (this.replayTimer !== undefined || this.opts.outbox.depth <= this.inflightSeqs.size) return;
    this.replayTimer = setTimeout(() => {
      this.replayTimer = undefined;
      void this.pump();
    }, this.replayBucket.msToNext());
  }

  private send(client: MqttClient, entry: OutboxEntry, replay: boolean): void {
    const sentAt = Date.now();
    const late = entry.seq < this.liveFrom;
    this.inflightSeqs.add(entry.seq);
    if (replay) this.replayInflight.add(entry.seq);
    if (late) this.counters.batchesReplayed += 1;
    const wire = `{"seq":${entry.seq},"sentAt":${sentAt}${late ? ',"late":true' : ''}${this.backlogJson()},"points":${entry.payload}}`;
    client.publish(entry.channel === 'event' ? this.eventTopic : this.topic, wire, { qos: 1 }, (err?: Error) => {
      const current = client === this.client;
      if (err) {
        // Late failures of a closed client are expected: its batches were already released.
        if (current) {
          this.counters.publishErrors += 1;
          this.inflightSeqs.delete(entry.seq);
          this.replayInflight.delete(entry.seq);
          this.opts.outbox.release([entry.seq]);
          this.log.warn({ err, seq: entry.seq }, 'publish failed');
        }
        return;
      }
      if (current) {
        this.inflightSeqs.delete(entry.seq);
        this.replayInflight.delete(entry.seq);
        if (late && this.backlogLeft > 0) this.backlogLeft -= 1;
      }
      void this.acked(entry, sentAt);
    });
  }

  /** `,"backlog":{…}` while a backlog remains (and the oldest append time is a plausible epoch ms). */
  private backlogJson(): string {
    const depth = this.backlog();
    const oldestT = this.opts.outbox.oldestAppendedAt;
    if (depth === 0 || oldestT === undefined || oldestT < MIN_PLAUSIBLE_EPOCH_MS || oldestT > MAX_PLAUSIBLE_EPOCH_MS) return '';
    return `,"backlog":{"depth":${depth},"oldestT":${Math.round(oldestT)}}`;
  }

  private async acked(entry: OutboxEntry, sentAt: number): Promise<void> {
    try {
      await this.opts.outbox.ack(entry.seq);
    } catch (err: unknown) {
      this.log.error({ err, seq: entry.seq }, 'outbox ack failed');
    }
    this.counters.batchesAcked += 1;
    this.counters.pointsAcked += entry.points;
    this.emit('ack', { seq: entry.seq, points: entry.points, sentAt, ackedAt: Date.now(), payload: entry.payload });
    void this.pump();
  }

  private publishAsync(client: MqttClient, topic: string, payload: string, retain: boolean, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new EdgeError('E_LINK', `no PUBACK within ${timeoutMs} ms`)), timeoutMs);
      client.publish(topic, payload, { qos: 1, retain }, (err?: Error) => {
        clearTimeout(timer);
        if (err) reject(new EdgeError('E_LINK', 'publish failed', { cause: err }));
        else resolve();
      });
    });
  }

  private async onMessage(client: MqttClient, topic: string, payload: Buffer): Promise<void> {
    const parsed = parseTopic(topic);
    if (parsed === null || parsed.kind !== 'cmd' || parsed.site !== this.opts.site || parsed.agent !== this.opts.agent) return;
    const decoded = decodeCommand(payload);
    if (!decoded.ok) {
      this.log.warn({ topic, code: decoded.error.code, reason: decoded.error.message }, 'malformed command ignored');
      return;
    }
    const cmd = decoded.value;
    const handler = this.commands.get(parsed.name);
    let result: CommandResult;
    if (handler === undefined) {
      result = { id: cmd.id, ok: false, at: Date.now(), error: `unknown command: ${parsed.name}` };
    } else {
      try {
        const value = await handler(cmd);
        result = { id: cmd.id, ok: true, at: Date.now(), ...(value === undefined ? {} : { result: value }) };
      } catch (err: unknown) {
        result = { id: cmd.id, ok: false, at: Date.now(), error: errorMessage(err).slice(0, 1024) };
      }
    }
    this.log.info({ command: parsed.name, id: cmd.id, ok: result.ok }, 'command handled');
    if (client !== this.client || !this.isConnected) return;
    client.publish(cmdResultTopic(this.opts.site, this.opts.agent, cmd.id), JSON.stringify(result), { qos: 1 }, (err?: Error) => {
      if (err) this.log.debug({ err, id: cmd.id }, 'command result not acknowledged');
    });
  }
}
