// The delivery queue on an injected clock and a scripted sender: back-off with full jitter inside its bounds,
// expiry onto the failed list, exactly once per (alert, transition, recipient), nothing lost over a restart.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import { notifyConfigSchema } from './notify-config.ts';
import { DeliveryQueue, transitionOf, type Delivery, type DeliveryQueueOptions } from './notify-delivery.ts';
import type { Notification } from './notify-policy.ts';

const T0 = Date.parse('2025-07-01T03:00:00Z');
const SEC = 1000;
const retry = notifyConfigSchema.parse({ retry: { maxAge: '5m', minDelay: '1s', maxDelay: '30s', maxQueued: 5 } }).retry;

function alert(id: string): AlertRecord {
  return { id, site: 'xa-lap-thach', rule: 'agent-offline', severity: 'warning', state: 'firing', since: T0, updatedAt: T0, summary: { vi: 'Mất kết nối', en: 'Offline' }, labels: {} };
}

function mail(id: string, to: string[], kind: Notification['kind'] = 'firing'): Notification {
  return { kind, channel: 'email', to, subject: `[${kind}] ${id}`, text: `${kind} ${id}`, alert: alert(id) };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A queue whose sender fails while `down` is set and records every call. */
function setup(over: Partial<DeliveryQueueOptions> = {}) {
  const clock = { t: T0 };
  const state = { down: false };
  const calls: { at: number; key: string; id: string }[] = [];
  const delivered: string[] = [];
  const opts: DeliveryQueueOptions = {
    config: retry,
    now: () => clock.t,
    random: () => 0.999,
    send: async (d: Delivery) => {
      calls.push({ at: clock.t, key: d.key, id: d.id });
      if (state.down) throw new Error('connect ECONNREFUSED 127.0.0.1:2525');
    },
    onDelivered: (d) => delivered.push(d.key),
    ...over,
  };
  return { clock, state, calls, delivered, q: new DeliveryQueue(opts), opts };
}

describe('DeliveryQueue', () => {
  it('splits a message into one delivery per recipient, keyed by alert, transition and recipient', async () => {
    const { q, calls } = setup();
    const added = await q.enqueue(mail('a1', ['kt@ioc.test', 'lead@ioc.test', 'kt@ioc.test']));
    expect(added.map((d) => d.key)).toEqual(['a1:firing:kt@ioc.test', 'a1:firing:lead@ioc.test']);
    expect(added.map((d) => d.notification.to)).toEqual([['kt@ioc.test'], ['lead@ioc.test']]);
    await q.runDue();
    expect(calls.map((c) => c.key).sort()).toEqual(['a1:firing:kt@ioc.test', 'a1:firing:lead@ioc.test']);
    expect(q.stats()).toMatchObject({ queued: 0, delivered: 2, attempts: 2, failedAttempts: 0 });
  });

  it('retries with full-jitter exponential back-off, capped at maxDelay, until delivered; same id every attempt', async () => {
    const { q, calls, clock, state } = setup();
    state.down = true;
    await q.enqueue(mail('a1', ['kt@ioc.test']));
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      await q.runDue();
      const [d] = q.pending();
      if (d === undefined) throw new Error('delivery gone');
      delays.push(d.nextAt - clock.t);
      clock.t = d.nextAt;
    }
    // random() = 0.999: just under the ceiling min(30 s, 1 s · 2^n)
    expect(delays).toEqual([999, 1998, 3996, 7992, 15984, 29970, 29970, 29970]);
    state.down = false;
    await q.runDue();
    expect(q.pending()).toEqual([]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(1);
    expect(q.attempts().map((a) => a.outcome)).toEqual(['delivered', ...Array<string>(8).fill('retry')]);
    expect(q.attempts()[1]?.error).toContain('ECONNREFUSED');
    expect(q.stats()).toMatchObject({ delivered: 1, attempts: 9, failedAttempts: 8, expired: 0 });
  });

  it('the jitter spreads retries over [0, ceiling): a random of 0 retries at once', async () => {
    const { q, clock, state } = setup({ random: () => 0 });
    state.down = true;
    await q.enqueue(mail('a1', ['kt@ioc.test']));
    await q.runDue();
    expect(q.pending()[0]?.nextAt).toBe(clock.t);
  });

  it('gives up after maxAge: on the failed list with its last error, counted, never sent again', async () => {
    const { q, calls, clock, state } = setup();
    state.down = true;
    await q.enqueue(mail('a1', ['kt@ioc.test']));
    while (q.pending().length > 0) {
      await q.runDue();
      const [d] = q.pending();
      if (d !== undefined) {
        expect(d.nextAt).toBeLessThanOrEqual(T0 + 5 * 60 * SEC); // the last attempt is at the expiry, not past it
        clock.t = d.nextAt;
      }
    }
    expect(clock.t).toBe(T0 + 5 * 60 * SEC);
    expect(q.failed()).toEqual([expect.objectContaining({ key: 'a1:firing:kt@ioc.test', reason: 'expired', recipient: 'kt@ioc.test', error: expect.stringContaining('ECONNREFUSED') as unknown })]);
    expect(q.stats()).toMatchObject({ expired: 1, delivered: 0, queued: 0 });
    const n = calls.length;
    state.down = false;
    clock.t += 60 * SEC;
    await q.runDue();
    expect(calls.length).toBe(n);
  });

  it('exactly once: a delivered or queued message handed over again is not sent again; another transition is', async () => {
    const { q, calls, clock } = setup();
    await q.enqueue(mail('a1', ['kt@ioc.test']));
    await q.enqueue(mail('a1', ['kt@ioc.test'])); // still queued
    await q.runDue();
    await q.enqueue(mail('a1', ['kt@ioc.test', 'lead@ioc.test'])); // delivered to kt, new for lead
    clock.t += SEC;
    await q.runDue();
    await q.enqueue(mail('a1', ['kt@ioc.test'], 'resolved'));
    await q.runDue();
    expect(calls.map((c) => c.key)).toEqual(['a1:firing:kt@ioc.test', 'a1:firing:lead@ioc.test', 'a1:resolved:kt@ioc.test']);
    expect(q.stats().duplicates).toBe(2);
    expect(q.wasDelivered('a1:firing:kt@ioc.test')).toBe(true);
  });

  it('escalations and digests are told apart by their content', () => {
    const a = transitionOf({ ...mail('a1', ['x@ioc.test'], 'escalation'), subject: 'step 1' });
    const b = transitionOf({ ...mail('a1', ['x@ioc.test'], 'escalation'), subject: 'step 2' });
    expect(a).toMatch(/^escalation\.[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(transitionOf(mail('a1', ['x@ioc.test']))).toBe('firing');
  });

  it('is bounded: past maxQueued a message is refused, counted and on the failed list', async () => {
    const { q, state } = setup();
    state.down = true;
    await q.enqueue(mail('a1', ['1@ioc.test', '2@ioc.test', '3@ioc.test', '4@ioc.test', '5@ioc.test', '6@ioc.test']));
    expect(q.stats()).toMatchObject({ queued: 5, dropped: 1 });
    expect(q.failed()).toEqual([expect.objectContaining({ recipient: '6@ioc.test', reason: 'queue-full' })]);
  });

  it('runs at most `concurrency` sends at once', async () => {
    let inFlight = 0;
    let most = 0;
    const { q } = setup({
      config: { ...retry, maxQueued: 100, concurrency: 3 },
      send: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
      },
    });
    await q.enqueue(mail('a1', Array.from({ length: 10 }, (_, i) => `${i}@ioc.test`)));
    while (q.pending().length > 0) await q.runDue();
    expect(most).toBe(3);
    expect(q.stats().delivered).toBe(10);
  });

  it('a restart loses nothing: what was waiting is sent by the next queue, what was delivered is not resent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-delivery-'));
    dirs.push(dir);
    const path = join(dir, 'notify-delivery.json');
    const first = setup({ path });
    first.state.down = true;
    await first.q.enqueue(mail('a1', ['kt@ioc.test']));
    await first.q.runDue();
    first.state.down = false;
    await first.q.enqueue(mail('a2', ['kt@ioc.test']));
    await first.q.runDue(); // a2 goes out; a1 waits for its back-off
    expect(first.calls.map((c) => c.key)).toEqual(['a1:firing:kt@ioc.test', 'a2:firing:kt@ioc.test']);
    await first.q.stop();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ version: 1, queue: [expect.objectContaining({ key: 'a1:firing:kt@ioc.test', attempts: 1 })] });

    // the process is gone; the next one reads the file
    const second = setup({ path });
    second.clock.t = T0 + 60 * SEC;
    expect(second.q.pending().map((d) => d.key)).toEqual(['a1:firing:kt@ioc.test']);
    await second.q.enqueue(mail('a2', ['kt@ioc.test'])); // the policy hands a2 over again: already delivered
    await second.q.runDue();
    expect(second.calls.map((c) => c.key)).toEqual(['a1:firing:kt@ioc.test']);
    expect(second.calls[0]?.id).toBe(first.calls[0]?.id); // the same Message-ID / Idempotency-Key
    expect(second.q.stats()).toMatchObject({ queued: 0, delivered: 2, duplicates: 1, attempts: 3 });
    expect(second.q.attempts().map((a) => `${a.alertId} ${a.outcome}`)).toEqual(['a1 delivered', 'a2 delivered', 'a1 retry']);
  });

  it('a corrupt file is moved aside and counted; the queue starts empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-delivery-'));
    dirs.push(dir);
    const path = join(dir, 'notify-delivery.json');
    writeFileSync(path, '{"version":1,"queue":[{"key"');
    const { q } = setup({ path });
    expect(q.stats()).toMatchObject({ corruptFiles: 1, queued: 0 });
    expect(existsSync(`${path}.corrupt`)).toBe(true);
    // well-formed JSON of the wrong shape is no better
    writeFileSync(path, JSON.stringify({ version: 1, queue: [{ key: 'a1:firing:kt@ioc.test' }], delivered: [], failed: [], attempts: [], counts: {} }));
    expect(setup({ path }).q.stats()).toMatchObject({ corruptFiles: 1, queued: 0 });
  });

  it('started, it sends on its own timers, and keeps retrying until the sender recovers', async () => {
    const state = { fails: 2 };
    const sent: number[] = [];
    const q = new DeliveryQueue({
      config: { ...retry, minDelay: 20, maxDelay: 40 },
      send: async () => {
        sent.push(Date.now());
        if (state.fails-- > 0) throw new Error('421 try later');
      },
    });
    q.start();
    try {
      await q.enqueue(mail('a1', ['kt@ioc.test']));
      const until = Date.now() + 5000;
      while (q.stats().delivered === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(q.stats()).toMatchObject({ delivered: 1, attempts: 3, queued: 0 });
    } finally {
      await q.stop();
    }
  });

  it('a send that ends while another pass found nothing waiting is still retried on time', async () => {
    const tries = new Map<string, number>();
    const q = new DeliveryQueue({
      config: { ...retry, minDelay: 20, maxDelay: 40 },
      send: async (d) => {
        const n = (tries.get(d.key) ?? 0) + 1;
        tries.set(d.key, n);
        if (d.channel === 'email') return; // the relay takes mail at once
        await new Promise((r) => setTimeout(r, 300)); // a slow gateway, failing twice
        if (n <= 2) throw new Error('webhook answered 500');
      },
    });
    q.start();
    try {
      const t0 = Date.now();
      await q.enqueue({ ...mail('a1', []), channel: 'webhook' }, { webhookUrl: 'http://gw.test/hook' });
      await new Promise((r) => setTimeout(r, 50)); // the webhook send is under way
      await q.enqueue(mail('a1', ['kt@ioc.test', 'lead@ioc.test'])); // delivered at once: nothing else waits
      while (q.stats().delivered < 3 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
      expect(q.stats()).toMatchObject({ delivered: 3, attempts: 5 });
      expect(Date.now() - t0).toBeLessThan(5000); // three tries of 300 ms and back-offs under 40 ms, not a minute
    } finally {
      await q.stop();
    }
  });
});
