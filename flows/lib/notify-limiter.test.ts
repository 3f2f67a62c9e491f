import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import { NotificationLimiter } from './notify-limiter.ts';
import type { Notification } from './notify-policy.ts';

const alert = (i: number, site = `xa-${i}`): AlertRecord => ({ id: `a-${i}`, site, rule: 'probe-down', severity: 'critical', state: 'firing', since: 0, updatedAt: 0, summary: { vi: `lỗi ${i}`, en: `failure ${i}` }, labels: {} });
const mail = (i: number, to: string[]): Notification => ({ kind: 'firing', channel: 'email', to, subject: `s${i}`, text: '', alert: alert(i) });
const hook = (i: number): Notification => ({ kind: 'firing', channel: 'webhook', to: [], subject: `s${i}`, text: '', alert: alert(i) });

function setup(max = 3) {
  const clock = { t: 1_000_000 };
  const limiter = new NotificationLimiter({ max, window: 600_000, digestAfter: 60_000, digestMaxItems: 5 }, () => clock.t);
  return { limiter, clock };
}

describe('NotificationLimiter', () => {
  it('lets `max` messages per recipient through, then holds the rest for one digest', () => {
    const { limiter, clock } = setup();
    const out = limiter.admit(Array.from({ length: 2000 }, (_, i) => mail(i, ['tech@ioc.test'])));
    expect(out.map((n) => n.alert.id)).toEqual(['a-0', 'a-1', 'a-2']);
    expect(limiter.due()).toEqual([]); // not before digestAfter
    clock.t += 60_000;
    const [digest, ...more] = limiter.due();
    expect(more).toEqual([]);
    expect(digest).toMatchObject({ kind: 'digest', channel: 'email', to: ['tech@ioc.test'], digest: { count: 1997 } });
    expect(digest?.digest?.items).toHaveLength(5); // listed; the rest counted
    expect(digest?.text).toContain('and 1992 more');
    expect(digest?.subject).toContain('1997');
    expect(limiter.stats).toEqual({ held: 1997, digests: 1 });
    expect(limiter.due()).toEqual([]);
  });

  it('counts each address and the webhook on their own', () => {
    const { limiter } = setup(2);
    const out = limiter.admit([mail(1, ['a@x.vn', 'b@x.vn']), mail(2, ['a@x.vn']), mail(3, ['a@x.vn', 'b@x.vn']), hook(4), hook(5), hook(6)]);
    expect(out.map((n) => [n.alert.id, n.to.join(',')])).toEqual([
      ['a-1', 'a@x.vn,b@x.vn'],
      ['a-2', 'a@x.vn'],
      ['a-3', 'b@x.vn'], // a@ is at its limit, b@ is not
      ['a-4', ''],
      ['a-5', ''],
    ]);
    expect(limiter.stats.held).toBe(2);
  });

  it('the window slides: a recipient gets messages again once its old ones are out of it', () => {
    const { limiter, clock } = setup(2);
    expect(limiter.admit([mail(1, ['a@x.vn']), mail(2, ['a@x.vn'])])).toHaveLength(2);
    clock.t += 300_000;
    expect(limiter.admit([mail(3, ['a@x.vn'])])).toHaveLength(0);
    clock.t += 60_000;
    expect(limiter.due().map((d) => d.digest?.count)).toEqual([1]);
    clock.t += 300_000; // the first two left the window; the digest is still in it
    expect(limiter.admit([mail(4, ['a@x.vn']), mail(5, ['a@x.vn'])]).map((n) => n.alert.id)).toEqual(['a-4']);
  });

  it('max 0 turns the limit off', () => {
    const { limiter } = setup(0);
    expect(limiter.admit(Array.from({ length: 100 }, (_, i) => hook(i)))).toHaveLength(100);
  });
});
