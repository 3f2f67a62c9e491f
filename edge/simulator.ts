// Many simulated commune offices in one process, each a real MqttLink + outbox: the agent's own delivery path.
import { EventEmitter } from 'node:events';
import type { Point } from '../protocol/index.ts';
import { silentLogger, type Logger } from './logger.ts';
import { MqttLink } from './link/link.ts';
import { MemoryOutbox } from './outbox.ts';
import { SimOffice } from './sim-office.ts';

export interface SimAgentCredentials {
  site: string;
  agent: string;
  token: string;
}

export type SimMode = 'realtime' | 'flood';

export interface SimulatorOptions {
  hubUrl: string;
  agents: readonly SimAgentCredentials[];
  /** realtime: one tick of readings per office every intervalMs. */
  intervalMs?: number;
  /** Seeds each office's PRNG (with its site): same seed, same offices. */
  seed?: number;
  logger?: Logger;
  /** Each office starts after a random delay in [0, startJitterMs). */
  startJitterMs?: number;
  mode?: SimMode;
  /** flood: points per batch. */
  floodBatchPoints?: number;
  /** flood: batches per agent. */
  floodBatches?: number;
  maxInflight?: number;
  /** Backlog replay rate of each agent's link (batches/s). */
  replayBatchesPerS?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  outboxMaxBatches?: number;
  caFile?: string;
  rejectUnauthorized?: boolean;
  /** First batch seq of every agent; default Date.now() so a restarted simulator never goes backwards. */
  seqStart?: number;
  /** Called on every PUBACK (also emitted as the 'ack' event). */
  onAck?: (ack: SimAck) => void;
}

export interface SimAck {
  site: string;
  agent: string;
  seq: number;
  points: number;
  sentAt: number;
  ackedAt: number;
  /** The points array as sent (JSON). */
  payload: string;
}

export interface SimulatorStats {
  agentsConnected: number;
  pointsGenerated: number;
  pointsAcked: number;
  batchesAcked: number;
}

export interface SimulatorEvents {
  ack: [SimAck];
  /** flood: every agent has had all its batches acknowledged. */
  done: [];
}

interface SimAgent {
  creds: SimAgentCredentials;
  office: SimOffice;
  outbox: MemoryOutbox;
  link: MqttLink;
  seq: number;
  startedAt: number;
  lastTick: number;
  startTimer: NodeJS.Timeout | undefined;
  tickTimer: NodeJS.Timeout | undefined;
  floodMade: number;
  floodAcked: number;
  lastT: number;
}

export class Simulator extends EventEmitter<SimulatorEvents> {
  private readonly opts: SimulatorOptions;
  private readonly log: Logger;
  private readonly agents: SimAgent[];
  private running = false;
  private pointsGenerated = 0;
  private pointsAcked = 0;
  private batchesAcked = 0;
  private floodDoneAgents = 0;
  private donePromise: Promise<void>;
  private resolveDone: () => void = () => undefined;

  constructor(opts: SimulatorOptions) {
    super();
    this.opts = opts;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'simulator' });
    this.donePromise = new Promise<void>((resolve) => (this.resolveDone = resolve));
    const seqStart = opts.seqStart ?? Date.now();
    this.agents = opts.agents.map((creds) => {
      const outbox = new MemoryOutbox({ maxBatches: opts.outboxMaxBatches ?? 10_000 });
      const link = new MqttLink({
        url: opts.hubUrl,
        site: creds.site,
        agent: creds.agent,
        token: creds.token,
        outbox,
        maxInflight: opts.maxInflight ?? 8,
        ...(opts.replayBatchesPerS === undefined ? {} : { replayBatchesPerS: opts.replayBatchesPerS }),
        reconnectMinMs: opts.reconnectMinMs ?? 1000,
        reconnectMaxMs: opts.reconnectMaxMs ?? 60_000,
        ...(opts.caFile === undefined ? {} : { caFile: opts.caFile }),
        ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
        configRev: 'sim',
        clockSynced: true,
        logger: opts.logger ?? silentLogger(),
      });
      const a: SimAgent = {
        creds,
        office: new SimOffice(creds.site, opts.seed ?? 1),
        outbox,
        link,
        seq: seqStart,
        startedAt: 0,
        lastTick: 0,
        startTimer: undefined,
        tickTimer: undefined,
        floodMade: 0,
        floodAcked: 0,
        lastT: 0,
      };
      link.on('error', () => undefined); // the link logs; one office failing must not stop the rest
      link.on('ack', (ack) => this.onAck(a, ack.seq, ack.points, ack.sentAt, ack.ackedAt, ack.payload));
      return a;
    });
  }

  /** Points one realtime tick of `site` produces with this seed. */
  static pointsPerTick(site: string, seed = 1): number {
    return new SimOffice(site, seed).pointsPerTick;
  }

  get mode(): SimMode {
    return this.opts.mode ?? 'realtime';
  }

  /** flood: resolves when every agent's batches are all acknowledged. */
  done(): Promise<void> {
    return this.donePromise;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const jitter = this.opts.startJitterMs ?? 0;
    this.log.info({ agents: this.agents.length, mode: this.mode, hub: this.opts.hubUrl }, 'simulator started');
    if (this.agents.length === 0 && this.mode === 'flood') this.resolveDone();
    for (const a of this.agents) {
      const wait = jitter > 0 ? Math.floor(Math.random() * jitter) : 0;
      a.startTimer = setTimeout(() => this.startAgent(a), wait);
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const a of this.agents) {
      clearTimeout(a.startTimer);
      clearInterval(a.tickTimer);
    }
    await Promise.all(this.agents.map((a) => a.link.stop({ drainTimeoutMs: 1000 })));
    this.log.info(this.stats(), 'simulator stopped');
  }

  stats(): SimulatorStats {
    return {
      agentsConnected: this.agents.filter((a) => a.link.connected).length,
      pointsGenerated: this.pointsGenerated,
      pointsAcked: this.pointsAcked,
      batchesAcked: this.batchesAcked,
    };
  }

  private startAgent(a: SimAgent): void {
    a.startTimer = undefined;
    if (!this.running) return;
    a.startedAt = Date.now();
    a.link.start();
    if (this.mode === 'flood') {
      a.link.on('connect', () => this.floodFill(a));
      return;
    }
    const interval = this.opts.intervalMs ?? 10_000;
    a.lastTick = Date.now();
    this.tick(a, interval);
    a.tickTimer = setInterval(() => this.tick(a, interval), interval);
  }

  private tick(a: SimAgent, interval: number): void {
    const now = Date.now();
    const dt = a.lastTick === now ? interval : Math.max(1, now - a.lastTick);
    a.lastTick = now;
    const points = a.office.tick(now, dt, {
      uptime_s: Math.round((now - a.startedAt) / 1000),
      outbox_depth: a.outbox.depth,
      dropped_total: a.outbox.droppedTotal,
    });
    this.append(a, points);
    const events = a.office.takeEvents();
    if (events.length > 0) this.append(a, events, 'event');
  }

  private append(a: SimAgent, points: Point[], channel: 'telemetry' | 'event' = 'telemetry'): void {
    const seq = a.seq;
    a.seq += 1;
    this.pointsGenerated += points.length;
    void a.outbox.append({ seq, payload: JSON.stringify(points), points: points.length, ...(channel === 'event' ? { channel } : {}) }).then(() => a.link.kick());
  }

  /** Keeps a small backlog ahead of the in-flight window, so points are stamped close to their send. */
  private floodFill(a: SimAgent): void {
    const total = this.opts.floodBatches ?? 100;
    const size = this.opts.floodBatchPoints ?? 500;
    const ahead = (this.opts.maxInflight ?? 8) * 2;
    while (this.running && a.floodMade < total && a.outbox.depth < ahead) {
      // t rises by ≥1 ms per batch and each point has its own target tag, so no two points collide in storage.
      const t = Math.max(Date.now(), a.lastT + 1);
      a.lastT = t;
      const points: Point[] = [];
      for (let i = 0; i < size; i += 1) {
        points.push({ m: 'net_probe', t, tags: { target: `flood-${i}`, method: 'tcp' }, fields: { up: 1, rtt_ms: (i % 97) + 0.5 } });
      }
      a.floodMade += 1;
      this.append(a, points);
    }
  }

  private onAck(a: SimAgent, seq: number, points: number, sentAt: number, ackedAt: number, payload: string): void {
    this.batchesAcked += 1;
    this.pointsAcked += points;
    const ack: SimAck = { site: a.creds.site, agent: a.creds.agent, seq, points, sentAt, ackedAt, payload };
    this.opts.onAck?.(ack);
    this.emit('ack', ack);
    if (this.mode === 'flood') {
      a.floodAcked += 1;
      if (a.floodAcked === (this.opts.floodBatches ?? 100)) {
        this.floodDoneAgents += 1;
        if (this.floodDoneAgents === this.agents.length) {
          this.resolveDone();
          this.emit('done');
        }
      }
      this.floodFill(a);
    }
  }
}
