// The notification policy over time, with an injected clock: what an alert's life on MQTT sends (once per
// state change seen live, nothing for retained records), when escalation fires, which routes a record takes, and
// the flows' composition of the policy with the per-recipient limit (flows-context.ts).
import { describe, expect, it } from 'vitest';
import { alertTopic, type AlertRecord } from '../../protocol/index.ts';
import { createFlowsContext } from './flows-context.ts';
import { notifyConfigSchema, type NotifyConfigInput } from './notify-config.ts';
import { NotificationPolicy, type Notification } from './notify-policy.ts';

const T0 = Date.parse('2025-07-01T03:00:00Z');
const MIN = 60_000;

function record(id: string, state: AlertRecord['state'], over: Partial<AlertRecord> = {}): AlertRecord {
  return { id, site: 'xa-lap-thach', rule: 'agent-offline', severity: 'warning', state, since: T0, updatedAt: T0, summary: { vi: 'Mất kết nối', en: 'Offline' }, labels: { province: 'phu-tho' }, ...over };
}

function setup(input: NotifyConfigInput = {}) {
  const clock = { t: T0 };
  const config = notifyConfigSchema.parse({ defaultRoute: { email: ['ioc@ioc.test'] }, escalation: { after: '15m', email: ['truong-ca@ioc.test'] }, ...input });
  const policy = new NotificationPolicy(config, () => clock.t);
  const publish = (a: AlertRecord, retained = false): Notification[] => policy.onMessage(alertTopic(a.site, a.id), JSON.stringify(a), retained);
  const clear = (a: AlertRecord): Notification[] => policy.onMessage(alertTopic(a.site, a.id), '', false);
  return { clock, policy, publish, clear };
}

const summary = (ns: readonly Notification[]): string[] => ns.map((n) => `${n.kind} ${n.channel} ${n.to.join(',')} ${n.alert.id}`);

describe('NotificationPolicy over an alert’s life', () => {
  it('sends firing and resolved once each, however often the same state is published', () => {
    const { publish } = setup();
    expect(summary(publish(record('a1', 'firing')))).toEqual(['firing email ioc@ioc.test a1']);
    expect(publish(record('a1', 'firing', { updatedAt: T0 + 1000 }))).toEqual([]);
    expect(publish(record('a1', 'pending'))).toEqual([]);
    const [resolved, ...more] = publish(record('a1', 'resolved'));
    expect(more).toEqual([]);
    expect(resolved?.kind).toBe('resolved');
    expect(resolved?.subject).toBe('[ĐÃ KHẮC PHỤC / RESOLVED] [warning] Mất kết nối');
    expect(publish(record('a1', 'resolved'))).toEqual([]);
  });

  it('never re-announces a retained record (a reconnect, a restart), and knows it as active', () => {
    const { publish, policy } = setup();
    expect(publish(record('a1', 'firing'), true)).toEqual([]);
    expect(publish(record('a1', 'firing'))).toEqual([]); // the same state, live after the retained copy
    expect(policy.active().map((a) => a.id)).toEqual(['a1']);
    expect(publish(record('a1', 'resolved'), true)).toEqual([]);
    expect(policy.active()).toEqual([]);
  });

  it('escalates a firing alert not acknowledged after `escalation.after`, once, and not a minute earlier', () => {
    const { clock, publish, policy } = setup();
    publish(record('a1', 'firing'));
    clock.t = T0 + 14 * MIN;
    expect(policy.due()).toEqual([]);
    clock.t = T0 + 15 * MIN;
    const due = policy.due();
    expect(summary(due)).toEqual(['escalation email truong-ca@ioc.test a1']);
    expect(due[0]?.subject).toBe('[CHƯA XỬ LÝ / NOT ACKNOWLEDGED] [warning] Mất kết nối');
    clock.t = T0 + 60 * MIN;
    expect(policy.due()).toEqual([]);
  });

  it('does not escalate what was acknowledged, resolved or cleared before it was due', () => {
    const { clock, publish, clear, policy } = setup();
    publish(record('a1', 'firing'));
    publish(record('a2', 'firing'));
    publish(record('a3', 'firing'));
    publish(record('a4', 'firing'));
    clock.t = T0 + 5 * MIN;
    publish(record('a1', 'acknowledged', { ackedBy: 'kt-lan' }));
    publish(record('a2', 'resolved'));
    clear(record('a3', 'firing'));
    clock.t = T0 + 15 * MIN;
    expect(summary(policy.due())).toEqual(['escalation email truong-ca@ioc.test a4']);
    expect(policy.active().map((a) => `${a.id} ${a.state}`).sort()).toEqual(['a1 acknowledged', 'a4 firing']);
  });

  it('escalates a retained firing record from its own updatedAt, not from when it was seen', () => {
    const { clock, publish, policy } = setup();
    clock.t = T0 + 10 * MIN; // the flows restarted ten minutes after the alert fired
    publish(record('a1', 'firing'), true);
    clock.t = T0 + 15 * MIN;
    expect(summary(policy.due())).toEqual(['escalation email truong-ca@ioc.test a1']);
  });

  it('ignores other topics, malformed payloads and records that fail the schema', () => {
    const { policy } = setup();
    expect(policy.onMessage('ioc/v1/xa-a/pi-1/status', '{}', false)).toEqual([]);
    expect(policy.onMessage(alertTopic('xa-a', 'a1'), '{not json', false)).toEqual([]);
    expect(policy.onMessage(alertTopic('xa-a', 'a1'), JSON.stringify({ ...record('a1', 'firing'), severity: 'loud' }), false)).toEqual([]);
    expect(policy.active()).toEqual([]);
  });
});

describe('NotificationPolicy routing', () => {
  const routes: NotifyConfigInput['routes'] = [
    { severities: ['critical'], email: ['truc-ban@ioc.test'], webhook: true },
    { sites: ['xa-lap-thach'], email: ['kt-lap-thach@ioc.test', 'truc-ban@ioc.test'] },
    { provinces: ['phu-tho'], email: ['kt-phu-tho@ioc.test'] },
  ];

  it('notifies every matching route, each address once, and the default route only when none matches', () => {
    const { publish } = setup({ routes });
    expect(summary(publish(record('a1', 'firing')))).toEqual(['firing email kt-lap-thach@ioc.test,truc-ban@ioc.test,kt-phu-tho@ioc.test a1']);
    expect(summary(publish(record('a2', 'firing', { site: 'xa-khac', labels: { province: 'ha-noi' } })))).toEqual(['firing email ioc@ioc.test a2']);
  });

  it('posts to the webhook for a route that asks for it, only when a webhook URL is configured', () => {
    const critical = record('a1', 'firing', { severity: 'critical', site: 'xa-khac', labels: {} });
    expect(summary(setup({ routes }).publish(critical))).toEqual(['firing email truc-ban@ioc.test a1']);
    expect(summary(setup({ routes, webhook: { url: 'http://127.0.0.1:9/hook' } }).publish(critical))).toEqual(['firing email truc-ban@ioc.test a1', 'firing webhook  a1']);
  });

  it('sends nothing for a route without recipients', () => {
    const { publish } = setup({ routes: [{ sites: ['xa-lap-thach'] }] });
    expect(publish(record('a1', 'firing'))).toEqual([]);
  });
});

describe('the flows: policy, then the per-recipient limit (flows-context.ts)', () => {
  it('holds what is over the limit, and due() gives the escalations and then the digest, on the injected clock', () => {
    const clock = { t: T0 };
    const ctx = createFlowsContext(
      { defaultRoute: { email: ['ioc@ioc.test'] }, escalation: { after: '15m', email: ['ioc@ioc.test'] }, limits: { max: 2, window: '10m', digestAfter: '1m', digestMaxItems: 10 } },
      () => clock.t,
    );
    try {
      const sent = [1, 2, 3, 4].flatMap((i) => ctx.onMessage(alertTopic('xa-lap-thach', `a${i}`), JSON.stringify(record(`a${i}`, 'firing')), false));
      expect(sent.map((n) => n.alert.id)).toEqual(['a1', 'a2']);
      expect(ctx.limited).toEqual({ held: 2, digests: 0 });
      clock.t = T0 + 30_000;
      expect(ctx.due()).toEqual([]);
      clock.t = T0 + MIN;
      const [digest, ...more] = ctx.due();
      expect(more).toEqual([]);
      expect(digest?.kind).toBe('digest');
      expect(digest?.digest?.items.map((i) => i.alert.id)).toEqual(['a3', 'a4']);
      // At 15 min the window (10 min) has slid past the first two messages and the digest: of the four
      // escalations two go out now, two are held for the next digest.
      clock.t = T0 + 15 * MIN;
      expect(summary(ctx.due())).toEqual(['escalation email ioc@ioc.test a1', 'escalation email ioc@ioc.test a2']);
      expect(ctx.limited).toEqual({ held: 4, digests: 1 });
      clock.t = T0 + 16 * MIN;
      expect(ctx.due().flatMap((d) => d.digest?.items.map((i) => `${i.kind} ${i.alert.id}`) ?? [])).toEqual(['escalation a3', 'escalation a4']);
    } finally {
      ctx.close();
    }
  });
});
