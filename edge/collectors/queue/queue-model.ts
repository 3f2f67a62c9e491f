// The one-stop queue of an office: tickets issued, called, served, skipped per counter. Pure: time comes in with each event or from the injected clock.
import { z } from 'zod';
import { epochMsSchema } from '../../../protocol/index.ts';
import { localDayNumber, VN_UTC_OFFSET_MIN } from '../../../common/local-day.ts';

export const QUEUE_EVENT_TYPES = ['issued', 'called', 'served', 'skipped'] as const;
export type QueueEventType = (typeof QUEUE_EVENT_TYPES)[number];

/** Counter names become the `counter` tag. */
export const counterNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'counter: 1-64 of letters, digits, _ . -');

/**
 * One event from the ticket dispenser / queue software (JSON body of `POST /v1/queue/events`):
 * - `issued`: a citizen took ticket `number` for `counter` (required number);
 * - `called`: the counter calls `number`, or the next waiting ticket when absent; a ticket still in
 *   service at that counter counts as served (a "call next" button means "done, next");
 * - `served`: the counter finished `number` (default: the ticket it called last);
 * - `skipped`: `number` (default: the ticket called last) did not show up, or left the queue.
 */
export const queueEventSchema = z.strictObject({
  type: z.enum(QUEUE_EVENT_TYPES),
  counter: counterNameSchema,
  number: z.int().min(0).max(999_999).optional(),
  /** When it happened, epoch ms; default: when received. */
  at: epochMsSchema.optional(),
});
export type QueueEventInput = z.infer<typeof queueEventSchema>;

export type QueueErrorCode = 'E_QUEUE_EMPTY' | 'E_NOTHING_CALLED' | 'E_NUMBER_REQUIRED';

/** What an applied event did: becomes one `queue_event` point. */
export interface AppliedQueueEvent {
  type: QueueEventType;
  counter: string;
  number: number;
  at: number;
  /** called: seconds from issue to call (when the ticket was seen issued). */
  waitS?: number;
  /** served: seconds from call to served. */
  serviceS?: number;
}

export type ApplyResult = { ok: true; applied: AppliedQueueEvent[] } | { ok: false; code: QueueErrorCode; message: string };

export interface QueueStats {
  waiting: number;
  issued_total: number;
  served_total: number;
  skipped_total: number;
  /** Seconds the oldest waiting ticket has waited. */
  longest_wait_s: number;
  current_number?: number;
  avg_wait_s?: number;
  p90_wait_s?: number;
  avg_service_s?: number;
  p90_service_s?: number;
}

export interface QueueModelOptions {
  now?: () => number;
  /** Wait and service times kept per counter for avg/p90. */
  window?: number;
  /** Local time offset from UTC in minutes (Vietnam: 420); totals reset at local midnight. */
  utcOffsetMin?: number;
  /** Waiting tickets kept per counter; beyond it the oldest is dropped and counted. */
  maxWaiting?: number;
  /** Counters reported even before their first event. */
  counters?: readonly string[];
}

interface Ticket {
  number: number;
  issuedAt: number;
}

interface CounterState {
  waiting: Ticket[];
  issued: number;
  served: number;
  skipped: number;
  current: number | undefined;
  inService: { number: number; calledAt: number } | undefined;
  waits: number[];
  services: number[];
}


/** Nearest-rank percentile of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

export class QueueModel {
  private readonly counters = new Map<string, CounterState>();
  /** The number called last at any counter: what an office-wide display shows. */
  private lastCalled: number | undefined;
  private readonly now: () => number;
  private readonly window: number;
  private readonly utcOffsetMin: number;
  private readonly maxWaiting: number;
  private day: number;
  /** Waiting tickets dropped because a counter's queue was full. */
  droppedTotal = 0;

  constructor(opts: QueueModelOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.window = opts.window ?? 100;
    this.utcOffsetMin = opts.utcOffsetMin ?? VN_UTC_OFFSET_MIN;
    this.maxWaiting = opts.maxWaiting ?? 10_000;
    this.day = this.localDay(this.now());
    for (const c of opts.counters ?? []) this.counter(c);
  }

  apply(input: QueueEventInput): ApplyResult {
    const at = input.at ?? this.now();
    this.rollDay(at);
    const c = this.counter(input.counter);
    const applied: AppliedQueueEvent[] = [];
    switch (input.type) {
      case 'issued': {
        if (input.number === undefined) return { ok: false, code: 'E_NUMBER_REQUIRED', message: 'an issued event needs the ticket number' };
        if (c.waiting.length >= this.maxWaiting) {
          c.waiting.shift();
          this.droppedTotal += 1;
        }
        c.waiting.push({ number: input.number, issuedAt: at });
        c.issued += 1;
        applied.push({ type: 'issued', counter: input.counter, number: input.number, at });
        break;
      }
      case 'called': {
        let ticket: Ticket | undefined;
        if (input.number === undefined) {
          ticket = c.waiting.shift();
          if (ticket === undefined) return { ok: false, code: 'E_QUEUE_EMPTY', message: `no ticket waiting at ${input.counter}` };
        } else {
          const i = c.waiting.findIndex((t) => t.number === input.number);
          ticket = i >= 0 ? c.waiting.splice(i, 1)[0] : undefined;
        }
        if (c.inService !== undefined) applied.push(this.serve(c, input.counter, c.inService.number, at));
        const number = ticket?.number ?? input.number ?? 0;
        c.current = number;
        this.lastCalled = number;
        c.inService = { number, calledAt: at };
        const ev: AppliedQueueEvent = { type: 'called', counter: input.counter, number, at };
        if (ticket !== undefined) {
          ev.waitS = round1(Math.max(0, at - ticket.issuedAt) / 1000);
          this.sample(c.waits, ev.waitS);
        }
        applied.push(ev);
        break;
      }
      case 'served': {
        const number = input.number ?? c.inService?.number;
        if (number === undefined) return { ok: false, code: 'E_NOTHING_CALLED', message: `${input.counter} has no ticket in service` };
        applied.push(this.serve(c, input.counter, number, at));
        break;
      }
      case 'skipped': {
        const number = input.number ?? c.inService?.number;
        if (number === undefined) return { ok: false, code: 'E_NOTHING_CALLED', message: `${input.counter} has no ticket in service` };
        if (c.inService?.number === number) c.inService = undefined;
        else c.waiting = c.waiting.filter((t) => t.number !== number);
        c.skipped += 1;
        applied.push({ type: 'skipped', counter: input.counter, number, at });
        break;
      }
    }
    return { ok: true, applied };
  }

  /** Per counter, and `office` over all counters (its current_number: the number called last anywhere). */
  snapshot(): { counters: Map<string, QueueStats>; office: QueueStats } {
    const now = this.now();
    this.rollDay(now);
    const counters = new Map<string, QueueStats>();
    const allWaits: number[] = [];
    const allServices: number[] = [];
    const office: QueueStats = { waiting: 0, issued_total: 0, served_total: 0, skipped_total: 0, longest_wait_s: 0 };
    for (const [name, c] of this.counters) {
      const s = this.stats(c, now, c.waits, c.services);
      if (c.current !== undefined) s.current_number = c.current;
      counters.set(name, s);
      office.waiting += s.waiting;
      office.issued_total += s.issued_total;
      office.served_total += s.served_total;
      office.skipped_total += s.skipped_total;
      office.longest_wait_s = Math.max(office.longest_wait_s, s.longest_wait_s);
      allWaits.push(...c.waits);
      allServices.push(...c.services);
    }
    Object.assign(office, this.timing(allWaits, allServices));
    if (this.lastCalled !== undefined) office.current_number = this.lastCalled;
    return { counters, office };
  }

  /** The number the counter called last, if any. */
  currentNumber(counter: string): number | undefined {
    return this.counters.get(counter)?.current;
  }

  private stats(c: CounterState, now: number, waits: number[], services: number[]): QueueStats {
    const oldest = c.waiting[0];
    return {
      waiting: c.waiting.length,
      issued_total: c.issued,
      served_total: c.served,
      skipped_total: c.skipped,
      longest_wait_s: oldest === undefined ? 0 : round1(Math.max(0, now - oldest.issuedAt) / 1000),
      ...this.timing(waits, services),
    };
  }

  private timing(waits: number[], services: number[]): Partial<QueueStats> {
    const out: Partial<QueueStats> = {};
    if (waits.length > 0) {
      out.avg_wait_s = round1(waits.reduce((a, b) => a + b, 0) / waits.length);
      out.p90_wait_s = percentile(waits, 90);
    }
    if (services.length > 0) {
      out.avg_service_s = round1(services.reduce((a, b) => a + b, 0) / services.length);
      out.p90_service_s = percentile(services, 90);
    }
    return out;
  }

  private serve(c: CounterState, counter: string, number: number, at: number): AppliedQueueEvent {
    const ev: AppliedQueueEvent = { type: 'served', counter, number, at };
    if (c.inService?.number === number) {
      ev.serviceS = round1(Math.max(0, at - c.inService.calledAt) / 1000);
      this.sample(c.services, ev.serviceS);
      c.inService = undefined;
    }
    c.served += 1;
    return ev;
  }

  private sample(list: number[], v: number): void {
    list.push(v);
    if (list.length > this.window) list.shift();
  }

  private counter(name: string): CounterState {
    let c = this.counters.get(name);
    if (c === undefined) {
      c = { waiting: [], issued: 0, served: 0, skipped: 0, current: undefined, inService: undefined, waits: [], services: [] };
      this.counters.set(name, c);
    }
    return c;
  }

  private localDay(t: number): number {
    return localDayNumber(t, this.utcOffsetMin);
  }

  /** A new local day: yesterday's tickets are void and totals start from zero. */
  private rollDay(t: number): void {
    const day = this.localDay(t);
    if (day <= this.day) return;
    this.day = day;
    this.lastCalled = undefined;
    for (const c of this.counters.values()) {
      c.waiting = [];
      c.issued = 0;
      c.served = 0;
      c.skipped = 0;
      c.current = undefined;
      c.inService = undefined;
      c.waits = [];
      c.services = [];
    }
  }
}
