// The durable per-recipient delivery queue of the notifications: every message is split into one delivery per
// recipient (an e-mail address, a webhook URL), kept in a file (written atomically) until it is delivered or
// expired, and retried with full-jitter exponential back-off. A delivery is known by (alert id, transition,
// recipient): once delivered it is never sent again, even if the policy hands it over a second time.
//
// The honest gap: a send acknowledged by the far end but cut before we hear it (SMTP: the connection drops after
// the DATA dot, before the 250; webhook: the answer is lost) is sent again. Each delivery carries a stable id
// (the e-mail's Message-ID, the webhook's Idempotency-Key header) so that the receiver can drop the copy.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import { fullJitterDelay } from '../../common/backoff.ts';
import { errorMessage } from '../../common/errors.ts';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { z } from 'zod';
import { alertRecordSchema } from '../../protocol/index.ts';
import type { NotifyConfig } from './notify-config.ts';
import type { Notification } from './notify-policy.ts';

export type RetryConfig = NotifyConfig['retry'];

export interface Delivery {
  /** `alertId:transition:recipient`: what "exactly once" is counted by. */
  key: string;
  /** Stable across attempts and restarts: the Message-ID's local part, the webhook's Idempotency-Key. */
  id: string;
  channel: Notification['channel'];
  /** The e-mail address, or the webhook URL. */
  recipient: string;
  /** The message, addressed to this recipient alone. */
  notification: Notification;
  /** `heartbeat` deliveries are reported to the hub once delivered. */
  tag?: string;
  queuedAt: number;
  expiresAt: number;
  attempts: number;
  nextAt: number;
  lastError?: string;
}

export interface DeliveryAttempt {
  at: number;
  key: string;
  channel: Notification['channel'];
  recipient: string;
  alertId: string;
  kind: Notification['kind'];
  /** 1-based. */
  attempt: number;
  outcome: 'delivered' | 'retry' | 'expired';
  error?: string;
  nextAt?: number;
}

export interface FailedDelivery {
  key: string;
  id: string;
  channel: Notification['channel'];
  recipient: string;
  alertId: string;
  kind: Notification['kind'];
  subject: string;
  queuedAt: number;
  failedAt: number;
  attempts: number;
  reason: 'expired' | 'queue-full';
  error: string;
}

export interface DeliveryCounts {
  /** Deliveries acknowledged by the far end. */
  delivered: number;
  /** Send attempts, and those that failed. */
  attempts: number;
  failedAttempts: number;
  /** Given up after `retry.maxAge`. */
  expired: number;
  /** Refused because `retry.maxQueued` were waiting. */
  dropped: number;
  /** Handed over again after being queued or delivered: not sent twice. */
  duplicates: number;
  /** Writes of the queue file that failed (the queue goes on in memory). */
  persistErrors: number;
  /** Starts that found the queue file unreadable (moved aside as .corrupt). */
  corruptFiles: number;
}

export interface DeliveryStats extends DeliveryCounts {
  queued: number;
  inFlight: number;
  oldestQueuedAgeSeconds: number;
}

/** Sends one delivery; resolves once the far end acknowledged it. */
export type DeliverySender = (d: Delivery) => Promise<void>;

export interface DeliveryLog {
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface DeliveryQueueOptions {
  config: RetryConfig;
  send: DeliverySender;
  /** The queue file; none: memory only (tests). */
  path?: string;
  now?: () => number;
  random?: () => number;
  log?: DeliveryLog;
  /** Called once a delivery is acknowledged (and recorded). */
  onDelivered?: (d: Delivery) => void;
}

const kindSchema = z.enum(['firing', 'resolved', 'escalation', 'digest']).or(z.string().min(1)) as z.ZodType<Notification['kind']>;
const channelSchema = z.enum(['email', 'webhook']);
/** What a queue file must hold to be read back (what the policy puts in a notification beyond this is kept as is). */
const queueFileSchema = z.object({
  version: z.literal(1),
  queue: z.array(
    z.object({
      key: z.string().min(1),
      id: z.string().min(1),
      channel: channelSchema,
      recipient: z.string().min(1),
      notification: z.looseObject({ kind: kindSchema, channel: channelSchema, to: z.array(z.string()), subject: z.string(), text: z.string(), alert: alertRecordSchema }),
      tag: z.string().optional(),
      queuedAt: z.number(),
      expiresAt: z.number(),
      attempts: z.int().min(0),
      nextAt: z.number(),
      lastError: z.string().optional(),
    }),
  ),
  delivered: z.array(z.tuple([z.string(), z.number()])),
  failed: z.array(z.looseObject({ key: z.string(), failedAt: z.number() })),
  attempts: z.array(z.looseObject({ key: z.string(), at: z.number() })),
  counts: z.record(z.string(), z.number()),
});

interface QueueFile {
  version: 1;
  queue: Delivery[];
  delivered: [string, number][];
  failed: FailedDelivery[];
  attempts: DeliveryAttempt[];
  counts: DeliveryCounts;
}

/** Outcomes of attempts reach the file within this (a new message is written before enqueue() resolves). */
const PERSIST_GROUP_MS = 200;

const NO_LOG: DeliveryLog = { warn: () => undefined, error: () => undefined };

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What the alert went through: firing and resolved happen once per alert; others are told apart by their content. */
export function transitionOf(n: Notification): string {
  if (n.kind === 'firing' || n.kind === 'resolved') return n.kind;
  return `${n.kind}.${sha(`${n.subject}\n${n.text}`).slice(0, 12)}`;
}

/** One delivery per recipient: each e-mail address, the webhook URL. */
export function recipientsOf(n: Notification, webhookUrl: string | undefined): { channel: Notification['channel']; recipient: string; notification: Notification }[] {
  if (n.channel === 'webhook') return webhookUrl === undefined ? [] : [{ channel: 'webhook', recipient: webhookUrl, notification: n }];
  return [...new Set(n.to)].map((address) => ({ channel: 'email', recipient: address, notification: { ...n, to: [address] } }));
}

export class DeliveryQueue {
  private readonly queue = new Map<string, Delivery>();
  private readonly delivered = new Map<string, number>();
  private failedList: FailedDelivery[] = [];
  private attemptList: DeliveryAttempt[] = [];
  private readonly inFlight = new Map<string, Promise<void>>();
  readonly counts: DeliveryCounts = { delivered: 0, attempts: 0, failedAttempts: 0, expired: 0, dropped: 0, duplicates: 0, persistErrors: 0, corruptFiles: 0 };
  private readonly now: () => number;
  private readonly log: DeliveryLog;
  private saveChain: Promise<void> = Promise.resolve();
  private nextSave: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly retryLogged = new Map<string, { at: number; suppressed: number }>();
  private persistTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: DeliveryQueueOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? NO_LOG;
    if (opts.path !== undefined) this.load(opts.path);
  }

  /** Starts sending what is due (and what a previous run left); idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops sending, waits for the sends in flight, writes the file. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight.values()]);
    if (this.persistTimer !== undefined) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    await this.persist();
  }

  /**
   * Queues one delivery per recipient of `n` (skipping those already queued or delivered) and resolves once they
   * are on disk. `maxAge` overrides `retry.maxAge` (heartbeats).
   */
  async enqueue(n: Notification, opts: { webhookUrl?: string; maxAge?: number; tag?: string; alertKey?: string } = {}): Promise<Delivery[]> {
    const now = this.now();
    const added: Delivery[] = [];
    for (const r of recipientsOf(n, opts.webhookUrl)) {
      const key = `${opts.alertKey ?? n.alert.id}:${transitionOf(n)}:${r.recipient}`;
      if (this.queue.has(key) || this.delivered.has(key)) {
        this.counts.duplicates++;
        continue;
      }
      const d: Delivery = { key, id: sha(key).slice(0, 32), ...r, ...(opts.tag === undefined ? {} : { tag: opts.tag }), queuedAt: now, expiresAt: now + (opts.maxAge ?? this.opts.config.maxAge), attempts: 0, nextAt: now };
      if (this.queue.size >= this.opts.config.maxQueued) {
        this.counts.dropped++;
        this.fail(d, 'queue-full', `${this.opts.config.maxQueued} notifications already waiting (retry.maxQueued)`, now);
        continue;
      }
      this.queue.set(key, d);
      added.push(d);
    }
    await this.persist();
    if (this.running) this.schedule(0);
    return added;
  }

  /** Sends every delivery that is due now (up to `concurrency` at once) and waits for those sends. */
  async runDue(): Promise<void> {
    await Promise.all(this.startDue());
  }

  private startDue(): Promise<void>[] {
    const now = this.now();
    const slots = Math.max(0, this.opts.config.concurrency - this.inFlight.size);
    // Oldest first (the map keeps the order messages were queued in); stops at the free slots, so a long queue costs
    // one short scan per send, not a sort.
    const due: Delivery[] = [];
    for (const d of this.queue.values()) {
      if (due.length >= slots) break;
      if (d.nextAt <= now && !this.inFlight.has(d.key)) due.push(d);
    }
    return due.map((d) => {
      const p = this.attempt(d).finally(() => this.inFlight.delete(d.key));
      this.inFlight.set(d.key, p);
      return p;
    });
  }

  private async attempt(d: Delivery): Promise<void> {
    d.attempts++;
    this.counts.attempts++;
    const n = d.notification;
    const base = { key: d.key, channel: d.channel, recipient: d.recipient, alertId: n.alert.id, kind: n.kind, attempt: d.attempts };
    try {
      await this.opts.send(d);
    } catch (err: unknown) {
      const now = this.now();
      const error = errorMessage(err).slice(0, 500);
      this.counts.failedAttempts++;
      d.lastError = error;
      if (now >= d.expiresAt) {
        this.queue.delete(d.key);
        this.counts.expired++;
        this.record({ at: now, ...base, outcome: 'expired', error });
        this.fail(d, 'expired', error, now);
      } else {
        d.nextAt = Math.min(d.expiresAt, now + fullJitterDelay(d.attempts - 1, { minMs: this.opts.config.minDelay, maxMs: this.opts.config.maxDelay, ...(this.opts.random === undefined ? {} : { random: this.opts.random }) }));
        this.record({ at: now, ...base, outcome: 'retry', error, nextAt: d.nextAt });
        // Once a minute per recipient, with the count of the lines left out (a relay down for hours is one line a minute).
        const last = this.retryLogged.get(d.recipient);
        if (last === undefined || now - last.at >= 60_000) {
          if (this.retryLogged.size > 10_000) this.retryLogged.clear();
          this.retryLogged.set(d.recipient, { at: now, suppressed: 0 });
          this.log.warn({ key: d.key, channel: d.channel, attempt: d.attempts, nextAt: new Date(d.nextAt).toISOString(), err: error, suppressed: last?.suppressed ?? 0 }, 'notification not delivered, will retry');
        } else last.suppressed++;
      }
      this.persistSoon();
      return;
    }
    const now = this.now();
    this.queue.delete(d.key);
    this.delivered.set(d.key, now);
    this.counts.delivered++;
    this.record({ at: now, ...base, outcome: 'delivered' });
    this.pruneDelivered(now);
    // A crash before this write lands sends the message again (with the same id): the at-least-once gap, widened by
    // at most PERSIST_GROUP_MS and one write, so that a storm is not paced by fsync nor spent serialising the file.
    this.persistSoon();
    try {
      this.opts.onDelivered?.(d);
    } catch (err: unknown) {
      this.log.error({ key: d.key, err: errorMessage(err) }, 'delivery callback failed');
    }
  }

  private fail(d: Delivery, reason: FailedDelivery['reason'], error: string, now: number): void {
    const n = d.notification;
    this.failedList.push({ key: d.key, id: d.id, channel: d.channel, recipient: d.recipient, alertId: n.alert.id, kind: n.kind, subject: n.subject, queuedAt: d.queuedAt, failedAt: now, attempts: d.attempts, reason, error });
    if (this.failedList.length > this.opts.config.keepFailed) this.failedList.splice(0, this.failedList.length - this.opts.config.keepFailed);
    this.log.error({ key: d.key, channel: d.channel, recipient: d.recipient, reason, attempts: d.attempts, err: error }, 'notification failed');
  }

  private record(a: DeliveryAttempt): void {
    this.attemptList.push(a);
    if (this.attemptList.length > this.opts.config.keepAttempts) this.attemptList.splice(0, this.attemptList.length - this.opts.config.keepAttempts);
  }

  private pruneDelivered(now: number): void {
    const limit = this.opts.config.maxQueued;
    for (const [key, at] of this.delivered) {
      if (at > now - this.opts.config.rememberDelivered && this.delivered.size <= limit) break;
      this.delivered.delete(key);
    }
  }

  /**
   * Starts what is due, then sleeps until the next waiting delivery is due (at most a minute); every send that ends
   * looks again, so a slow send never holds the others back and no wake-up is lost.
   */
  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      for (const p of this.startDue()) void p.catch(() => undefined).finally(() => this.schedule(0));
      const next = [...this.queue.values()].filter((d) => !this.inFlight.has(d.key)).reduce((m, d) => Math.min(m, d.nextAt), Number.POSITIVE_INFINITY);
      const free = this.inFlight.size < this.opts.config.concurrency;
      // No free slot: the next send to end wakes us.
      const delay = free && Number.isFinite(next) ? next - this.now() : 60_000;
      if (this.timer === undefined) this.schedule(Math.min(60_000, Math.max(10, delay)));
    }, delayMs);
    this.timer.unref();
  }

  /** Writes the file within PERSIST_GROUP_MS (the outcomes of attempts; enqueue() writes at once). */
  private persistSoon(): void {
    if (this.opts.path === undefined || this.persistTimer !== undefined) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      void this.persist();
    }, PERSIST_GROUP_MS);
    this.persistTimer.unref();
  }

  /** Writes the file; a change made while a write runs gets the next one (writes are coalesced, never torn). */
  persist(): Promise<void> {
    const path = this.opts.path;
    if (path === undefined) return Promise.resolve();
    if (this.nextSave !== undefined) return this.nextSave;
    const p = this.saveChain.then(async () => {
      this.nextSave = undefined;
      try {
        await writeFileAtomic(path, JSON.stringify(this.snapshot()), { tmp: 'fixed' });
      } catch (err: unknown) {
        this.counts.persistErrors++;
        this.log.error({ path, err: errorMessage(err) }, 'notification queue not written');
      }
    });
    this.nextSave = p;
    this.saveChain = p;
    return p;
  }

  private snapshot(): QueueFile {
    return { version: 1, queue: [...this.queue.values()], delivered: [...this.delivered], failed: this.failedList, attempts: this.attemptList, counts: this.counts };
  }

  private load(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return; // no file yet
    }
    try {
      const f = queueFileSchema.parse(JSON.parse(text)) as unknown as QueueFile;
      for (const d of f.queue) this.queue.set(d.key, d);
      for (const [k, at] of f.delivered) this.delivered.set(k, at);
      this.failedList = f.failed;
      this.attemptList = f.attempts;
      for (const k of Object.keys(this.counts) as (keyof DeliveryCounts)[]) this.counts[k] += f.counts[k] ?? 0;
    } catch (err: unknown) {
      this.counts.corruptFiles++;
      this.log.error({ path, err: errorMessage(err) }, 'notification queue file unreadable: moved aside, starting empty');
      try {
        renameSync(path, `${path}.corrupt`);
      } catch {
        // left where it is: the next write replaces it
      }
    }
  }

  stats(): DeliveryStats {
    const now = this.now();
    const oldest = [...this.queue.values()].reduce((m, d) => Math.min(m, d.queuedAt), now);
    return { ...this.counts, queued: this.queue.size, inFlight: this.inFlight.size, oldestQueuedAgeSeconds: Math.round((now - oldest) / 1000) };
  }

  /** Waiting deliveries, oldest first. */
  pending(): Delivery[] {
    return [...this.queue.values()].sort((a, b) => a.queuedAt - b.queuedAt);
  }

  /** The last attempts, newest first. */
  attempts(limit = this.opts.config.keepAttempts): DeliveryAttempt[] {
    return this.attemptList.slice(-limit).reverse();
  }

  /** Expired and refused notifications, newest first. */
  failed(limit = this.opts.config.keepFailed): FailedDelivery[] {
    return this.failedList.slice(-limit).reverse();
  }

  /** True when this key was delivered (and is still remembered). */
  wasDelivered(key: string): boolean {
    return this.delivered.has(key);
  }
}
