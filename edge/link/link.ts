// The MQTT link to the hub: drains the outbox with QoS 1 over a session per connection attempt, and
// composes its parts: session.ts (client, retained status, last will), reconnect.ts (back-off),
// scheduler.ts (live and replay lanes, token bucket), leases.ts (what is in flight), commands.ts;
// its options and stats are in options.ts.
//
// A batch leaves the outbox only on PUBACK (publish callback without error). When a connection's
// socket closes, every batch it had in flight goes back to the outbox (released) and is resent on
// the next connection. Replayed batches carry `late: true`, and every batch sent while a backlog
// remains carries `backlog: {depth, oldestT}` (batch-level only: points stay identical between
// deliveries), in the envelope protocol/envelope.ts writes.
import { EventEmitter } from 'node:events';
import { agentIdentity, encodeBatch, eventTopic, telemetryTopic } from '../../protocol/index.ts';
import { EdgeError, errorMessage } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { Outbox, OutboxEntry } from '../outbox.ts';
import { CommandDispatcher, type CommandHandler } from './commands.ts';
import { OutboxLeases } from './leases.ts';
import { Reconnector } from './reconnect.ts';
import { LaneScheduler, type Lane } from './scheduler.ts';
import type { LinkStats, LinkStopOptions, MqttLinkEvents, MqttLinkOptions } from './options.ts';
import { MqttSession } from './session.ts';

export type { CommandHandler } from './commands.ts';
export type { LinkAck, LinkStats, LinkStopOptions, MqttLinkEvents, MqttLinkOptions } from './options.ts';

export const DEFAULT_REPLAY_BATCHES_PER_S = 20;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class MqttLink extends EventEmitter<MqttLinkEvents> {
  private readonly opts: MqttLinkOptions;
  private readonly log: Logger;
  private readonly topic: string;
  private readonly eventTopic: string;
  private readonly outbox: Outbox;
  private readonly leases: OutboxLeases;
  private readonly scheduler: LaneScheduler;
  private readonly session: MqttSession;
  private readonly reconnect: Reconnector;
  private readonly commands: CommandDispatcher;
  private running = false;
  private insecureTimer: NodeJS.Timeout | undefined;
  private replayTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private counters = { connects: 0, batchesAcked: 0, pointsAcked: 0, publishErrors: 0, batchesReplayed: 0 };

  constructor(opts: MqttLinkOptions) {
    super();
    if (!/^mqtts?:\/\//.test(opts.url)) throw new EdgeError('E_LINK', `hub url must start with mqtt:// or mqtts://: ${opts.url}`);
    this.opts = opts;
    const identity = agentIdentity(opts.site, opts.agent);
    this.topic = telemetryTopic(opts.site, opts.agent);
    this.eventTopic = eventTopic(opts.site, opts.agent);
    this.log = (opts.logger ?? silentLogger()).child({ component: 'link', identity });
    this.outbox = opts.outbox;
    this.leases = new OutboxLeases(opts.outbox);
    const rate = opts.replayBatchesPerS ?? DEFAULT_REPLAY_BATCHES_PER_S;
    if (!(rate > 0)) throw new EdgeError('E_LINK', `replayBatchesPerS must be > 0, got ${rate}`);
    this.scheduler = new LaneScheduler({ maxInflight: opts.maxInflight ?? 8, replayBatchesPerS: rate, now: () => performance.now() });
    this.reconnect = new Reconnector({ minMs: opts.reconnectMinMs ?? 1000, maxMs: opts.reconnectMaxMs ?? 60_000, log: this.log, ...(opts.random ? { random: opts.random } : {}) });
    this.commands = new CommandDispatcher(opts.site, opts.agent, this.log);
    this.session = new MqttSession({ ...opts, identity, accept: () => this.running, log: this.log });
    this.session.on('up', () => this.onUp());
    this.session.on('down', (wasUp) => this.onDown(wasUp));
    this.session.on('failure', (err) => this.onFailure(err));
    this.session.on('message', (topic, payload) => void this.onMessage(topic, payload));
  }

  /** True when the hub's certificate goes unchecked (mqtts with rejectUnauthorized: false). */
  get insecureTls(): boolean {
    return this.opts.url.startsWith('mqtts:') && this.opts.rejectUnauthorized === false;
  }

  private warnInsecure(): void {
    this.log.warn({ url: this.opts.url, rejectUnauthorized: false }, "TLS certificate checks are OFF (hub.rejectUnauthorized: false): anyone on the path can pose as the hub and read this agent's token");
  }

  get connected(): boolean {
    return this.session.connected;
  }

  stats(): LinkStats {
    return { connected: this.session.connected, inflight: this.scheduler.inflightCount, backlog: this.scheduler.backlog(this.outbox.depth), ...this.counters, leased: this.leases.inflight };
  }

  /** Registers the handler of command `name` (topic `.../cmd/{name}`); its result goes to cmd-result. */
  /** Sends the online status again (with the inventory as it is now) while connected; nothing while not. */
  refreshStatus(): void {
    this.session.republishStatus();
  }

  handleCommand(name: string, handler: CommandHandler): void {
    this.commands.handle(name, handler);
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
    if (this.session.connected) void this.pump();
  }

  /** Drains for up to drainTimeoutMs, publishes retained `online:false`, disconnects. Idempotent. */
  async stop(opts: LinkStopOptions = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.reconnect.cancel();
    clearInterval(this.insecureTimer);
    this.insecureTimer = undefined;
    const deadline = Date.now() + (opts.drainTimeoutMs ?? 2000);
    while (this.session.connected && (this.outbox.depth > 0 || this.scheduler.inflightCount > 0) && Date.now() < deadline) {
      await delay(20);
    }
    await this.session.publishOffline();
    const ended = this.session.end();
    this.clearInflight();
    await ended;
    this.log.info({}, 'link stopped');
  }

  private connectNow(): void {
    if (!this.running) return;
    if (!this.session.open()) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.running) this.reconnect.schedule(() => this.connectNow());
  }

  private onFailure(err: unknown): void {
    this.reconnect.failed(err);
    if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new EdgeError('E_LINK', errorMessage(err), { cause: err }));
  }

  private onUp(): void {
    this.counters.connects += 1;
    this.reconnect.connected();
    // Whatever is in the outbox now is backlog; what is appended from here on is live.
    this.scheduler.begin(this.outbox.lastSeq, this.outbox.depth);
    this.emit('connect');
    void this.pump();
  }

  private onDown(wasUp: boolean): void {
    // Everything this connection had in flight goes back to the outbox, to be resent in order.
    this.clearInflight();
    this.reconnect.lost(wasUp);
    this.emit('close');
    this.scheduleReconnect();
  }

  private clearInflight(): void {
    this.scheduler.end();
    clearTimeout(this.replayTimer);
    this.replayTimer = undefined;
    this.leases.release();
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
        while (this.session.connected && this.scheduler.liveRoom() > 0) {
          const attempt = this.session.attempt;
          // Live lane: the newest batches appended since the connection came up, unthrottled.
          const live = await this.leases.peekNewest(this.scheduler.liveRoom(), this.scheduler.liveFrom);
          if (!this.usable(attempt, live)) break;
          for (const entry of live) this.send(entry, 'live');
          // Replay lane: oldest first, rate-limited, never in the slots kept for live batches.
          const grant = this.scheduler.replayGrant();
          const old = await this.leases.peek(grant.count);
          if (!this.usable(attempt, old)) break;
          for (const entry of old) this.send(entry, 'replay');
          if (grant.starved) this.scheduleReplay();
          if (live.length === 0 && old.length === 0) break;
        }
      } while (this.pumpAgain && this.session.connected);
    } catch (err: unknown) {
      this.log.error({ err }, 'outbox read failed');
    } finally {
      this.pumping = false;
    }
  }

  /** Whether batches just leased can go out on `attempt`; if not they are returned to the outbox. */
  private usable(attempt: number, entries: readonly OutboxEntry[]): boolean {
    if (this.session.isUp(attempt)) return true;
    if (entries.length > 0) this.leases.release(entries.map((e) => e.seq));
    return false;
  }

  /** Wakes the pump when the replay lane has its next token (only while the outbox has batches not in flight). */
  private scheduleReplay(): void {
    if (this.replayTimer !== undefined) return;
    const wait = this.scheduler.replayWakeInMs(this.outbox.depth);
    if (wait === undefined) return;
    this.replayTimer = setTimeout(() => {
      this.replayTimer = undefined;
      void this.pump();
    }, wait);
  }

  private send(entry: OutboxEntry, lane: Lane): void {
    const sentAt = Date.now();
    const late = this.scheduler.sent(entry.seq, lane);
    if (late) this.counters.batchesReplayed += 1;
    const oldestT = this.outbox.oldestAppendedAt;
    const wire = encodeBatch({ seq: entry.seq, sentAt, late, ...(oldestT === undefined ? {} : { backlog: { depth: this.scheduler.backlog(this.outbox.depth), oldestT } }) }, entry.payload);
    this.session.publish(entry.channel === 'event' ? this.eventTopic : this.topic, wire, (err, current) => {
      if (err) {
        // Late failures of a closed client are expected: its batches were already released.
        if (current) {
          this.counters.publishErrors += 1;
          this.scheduler.settled(entry.seq, false);
          this.leases.release([entry.seq]);
          this.log.warn({ err, seq: entry.seq }, 'publish failed');
        }
        return;
      }
      if (current) this.scheduler.settled(entry.seq, true);
      void this.acked(entry, sentAt);
    });
  }

  private async acked(entry: OutboxEntry, sentAt: number): Promise<void> {
    try {
      await this.leases.ack(entry.seq);
    } catch (err: unknown) {
      this.log.error({ err, seq: entry.seq }, 'outbox ack failed');
    }
    this.counters.batchesAcked += 1;
    this.counters.pointsAcked += entry.points;
    this.emit('ack', { seq: entry.seq, points: entry.points, sentAt, ackedAt: Date.now(), payload: entry.payload });
    void this.pump();
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const attempt = this.session.attempt;
    const reply = await this.commands.dispatch(topic, payload);
    if (reply === undefined || !this.session.isUp(attempt)) return;
    this.session.publish(reply.topic, reply.payload, (err) => {
      if (err) this.log.debug({ err, topic: reply.topic }, 'command result not acknowledged');
    });
  }
}
