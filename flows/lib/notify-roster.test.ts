// The notification policy with duty rosters, on an injected clock: a new alert goes to the technician on duty of
// its area, climbs the escalation chain step by step, and stops when acknowledged or resolved.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertTopic, type AlertRecord } from '../../protocol/index.ts';
import { notifyConfigSchema, type NotifyConfigInput } from './notify-config.ts';
import { NotificationPolicy, type Notification } from './notify-policy.ts';

const MIN = 60_000;
const local = (iso: string): number => Date.parse(`${iso}+07:00`);
const MONDAY_9 = local('2026-04-20T09:00');

const ROSTER = {
  name: 'tam-duong',
  areas: ['tam-duong'],
  people: [
    { id: 'kt-an', name: 'Nguyễn Văn An', email: 'an@ioc.test' },
    { id: 'kt-binh', name: 'Trần Thị Bình', email: 'binh@ioc.test', webhook: 'zalo:0912000111' },
    { id: 'kt-chi', name: 'Lê Minh Chi', email: 'chi@ioc.test' },
    { id: 'tc-dung', name: 'Phạm Quốc Dũng', email: 'dung@ioc.test', roles: ['truong-ca'] },
  ],
  shifts: [
    { name: 'sang', from: '07:00', to: '11:30', onDuty: ['kt-an', 'kt-chi'] },
    { name: 'chieu', from: '13:30', to: '17:00', onDuty: ['kt-binh'] },
  ],
  onCall: { rota: ['kt-chi', 'kt-binh', 'kt-an'], from: '2026-04-20' },
};
const CHAIN = [
  { after: '15m', to: 'next-on-duty' },
  { after: '30m', to: ['role:truong-ca', 'truc.ioc@ioc.test'] },
];

function record(id: string, state: AlertRecord['state'], over: Partial<AlertRecord> = {}): AlertRecord {
  return { id, site: 'xa-hoang-hoa', rule: 'agent-offline', severity: 'warning', state, since: MONDAY_9, updatedAt: MONDAY_9, summary: { vi: 'Mất kết nối', en: 'Offline' }, labels: { area: 'tam-duong', province: 'vinh-phuc' }, ...over };
}

function setup(input: NotifyConfigInput = {}, start = MONDAY_9) {
  const clock = { t: start };
  const config = notifyConfigSchema.parse({ defaultRoute: { email: ['ioc@ioc.test'] }, rosters: [ROSTER], escalation: CHAIN, ...input });
  const policy = new NotificationPolicy(config, () => clock.t);
  const publish = (a: AlertRecord, retained = false): Notification[] => policy.onMessage(alertTopic(a.site, a.id), JSON.stringify(a), retained);
  return { clock, policy, publish };
}

const summary = (ns: readonly Notification[]): string[] => ns.map((n) => `${n.kind} ${n.channel} ${n.to.join(',')}`);

describe('routing to the technician on duty', () => {
  it('sends a new alert to the first on duty of the morning shift, not to the afternoon one', () => {
    const { publish } = setup();
    const [n, ...more] = publish(record('a1', 'firing'));
    expect(more).toEqual([]);
    expect(summary(n === undefined ? [] : [n])).toEqual(['firing email an@ioc.test']);
    expect(n?.people).toEqual([{ id: 'kt-an', name: 'Nguyễn Văn An' }]);
    expect(n?.text).toContain('Trực / on duty: tam-duong, ca / shift sang: Nguyễn Văn An, Lê Minh Chi');
  });

  it('sends to the afternoon shift after the lunch break, to the on-call rota at lunch, on Sunday and on a holiday', () => {
    expect(summary(setup({}, local('2026-04-20T14:00')).publish(record('a1', 'firing')))).toEqual(['firing email binh@ioc.test']); // Bình has no webhook URL to go to
    expect(summary(setup({}, local('2026-04-20T12:00')).publish(record('a1', 'firing')))).toEqual(['firing email chi@ioc.test']);
    expect(summary(setup({}, local('2026-04-26T09:00')).publish(record('a1', 'firing')))).toEqual(['firing email chi@ioc.test']);
    const tet = setup({}, local('2026-02-17T09:00')).publish(record('a1', 'firing'))[0];
    expect(tet?.text).toMatch(/trực ngoài giờ \/ on call \(Tết Nguyên đán \(mùng 1\)\)/);
  });

  it('pages a person’s webhook handle through the webhook when one is configured', () => {
    const [mail, hook] = setup({ webhook: { url: 'http://127.0.0.1:9/hook' } }, local('2026-04-20T14:00')).publish(record('a1', 'firing'));
    expect(mail?.channel).toBe('email');
    expect(hook).toMatchObject({ channel: 'webhook', people: [{ id: 'kt-binh', webhook: 'zalo:0912000111' }] });
    expect(hook?.text).toContain('Gửi / to: Trần Thị Bình (zalo:0912000111)');
  });

  it('adds the matching routes to the one on duty; the default route only when neither reaches anybody', () => {
    const both = setup({ routes: [{ severities: ['critical'], email: ['truc.ioc@ioc.test'] }] }).publish(record('a1', 'firing', { severity: 'critical' }));
    expect(summary(both)).toEqual(['firing email truc.ioc@ioc.test,an@ioc.test']);
    expect(summary(setup().publish(record('a2', 'firing', { site: 'xa-binh-xuyen', labels: { province: 'phu-tho' } })))).toEqual(['firing email ioc@ioc.test']);
    const noOnCall = setup({ rosters: [{ ...ROSTER, onCall: undefined }] }, local('2026-04-26T09:00'));
    expect(summary(noOnCall.publish(record('a3', 'firing')))).toEqual(['firing email ioc@ioc.test']);
  });
});

describe('the escalation chain', () => {
  it('climbs step by step: the next on duty after 15 min, the shift lead and the IOC desk after 30 min, then stops', () => {
    const { clock, publish, policy } = setup();
    publish(record('a1', 'firing'));
    clock.t = MONDAY_9 + 15 * MIN - 1;
    expect(policy.due()).toEqual([]);
    clock.t = MONDAY_9 + 15 * MIN;
    const [first, ...more] = policy.due();
    expect(more).toEqual([]);
    expect(summary(first === undefined ? [] : [first])).toEqual(['escalation email chi@ioc.test']);
    expect(first?.step).toEqual({ index: 1, of: 2 });
    expect(first?.text).toContain('Bước / step: 1/2');
    clock.t = MONDAY_9 + 29 * MIN;
    expect(policy.due()).toEqual([]);
    clock.t = MONDAY_9 + 30 * MIN;
    expect(summary(policy.due())).toEqual(['escalation email truc.ioc@ioc.test,dung@ioc.test']);
    clock.t = MONDAY_9 + 120 * MIN;
    expect(policy.due()).toEqual([]);
    expect(policy.stats).toEqual({ steps: 2, unreached: 0, evicted: 0 });
    // Everybody paged hears of the resolution.
    expect(summary(publish(record('a1', 'resolved')))).toEqual(['resolved email an@ioc.test,chi@ioc.test,dung@ioc.test,truc.ioc@ioc.test']);
  });

  it('asks whoever is on duty when the step is due: the afternoon shift after the morning one ended', () => {
    const { clock, publish, policy } = setup({}, local('2026-04-20T11:20'));
    publish(record('a1', 'firing'));
    clock.t = local('2026-04-20T13:35');
    // Both steps are due at once (a long pause): only the latest is sent.
    expect(summary(policy.due())).toEqual(['escalation email truc.ioc@ioc.test,dung@ioc.test']);
    const second = setup({ escalation: [{ after: '15m', to: 'next-on-duty' }] }, local('2026-04-20T13:20'));
    second.publish(record('a2', 'firing')); // the lunch on-call (Chi) is told first
    second.clock.t = local('2026-04-20T13:35');
    expect(summary(second.policy.due())).toEqual(['escalation email binh@ioc.test']);
  });

  it('tells everybody paged of the resolution that follows the hub clearing the retained record', () => {
    const { clock, publish, policy } = setup();
    publish(record('a1', 'firing'));
    clock.t = MONDAY_9 + 15 * MIN;
    policy.due();
    clock.t = MONDAY_9 + 29.5 * MIN;
    expect(policy.onMessage(alertTopic('xa-hoang-hoa', 'a1'), '', true)).toEqual([]);
    clock.t = MONDAY_9 + 30 * MIN;
    expect(policy.due()).toEqual([]); // cleared: the chain stopped (its second step was due now)
    expect(summary(publish(record('a1', 'resolved')))).toEqual(['resolved email an@ioc.test,chi@ioc.test']);
  });

  it('stops when the alert is acknowledged or resolved', () => {
    const { clock, publish, policy } = setup();
    publish(record('a1', 'firing'));
    publish(record('a2', 'firing'));
    clock.t = MONDAY_9 + 16 * MIN;
    expect(policy.due().map((n) => n.alert.id)).toEqual(['a1', 'a2']);
    publish(record('a1', 'acknowledged', { ackedBy: 'kt-an' }));
    publish(record('a2', 'resolved'));
    clock.t = MONDAY_9 + 60 * MIN;
    expect(policy.due()).toEqual([]);
  });

  it('counts a step that reaches nobody', () => {
    const { clock, publish, policy } = setup({ escalation: [{ after: '15m', to: 'next-on-duty' }, { after: '20m', to: 'next-on-duty' }, { after: '25m', to: 'next-on-duty' }, { after: '30m', to: 'next-on-duty' }] });
    publish(record('a1', 'firing'));
    const sent: string[] = [];
    for (const m of [15, 20, 25, 30]) {
      clock.t = MONDAY_9 + m * MIN;
      sent.push(...policy.due().flatMap((n) => n.to));
    }
    expect(sent).toEqual(['chi@ioc.test', 'binh@ioc.test']); // An told first; then the morning's second, then the rota
    expect(policy.stats).toEqual({ steps: 4, unreached: 2, evicted: 0 });
  });

  it('takes a roster’s own chain over the top-level one', () => {
    const { clock, publish, policy } = setup({ rosters: [{ ...ROSTER, escalation: [{ after: '5m', to: 'person:kt-binh' }] }] });
    publish(record('a1', 'firing'));
    clock.t = MONDAY_9 + 5 * MIN;
    expect(summary(policy.due())).toEqual(['escalation email binh@ioc.test']);
  });
});

describe('earlier configurations', () => {
  it('reads the single `escalation: {after, email, webhook}` as a chain of one step', () => {
    const c = notifyConfigSchema.parse({ escalation: { after: '10m', email: ['lead@ioc.test'], webhook: true } });
    expect(c.escalation).toEqual([{ after: 10 * MIN, to: [{ kind: 'email', address: 'lead@ioc.test' }], webhook: true }]);
    expect(notifyConfigSchema.parse({}).escalation).toEqual([]);
    expect(notifyConfigSchema.parse({ escalation: {} }).escalation).toEqual([{ after: 15 * MIN, to: [], webhook: false }]);
  });

  it('says what it expected of a broken escalation, with its path', () => {
    const issues = (escalation: unknown): string[] => {
      const r = notifyConfigSchema.safeParse({ escalation });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ after: '10m', emails: ['x@ioc.test'] })).toEqual(['escalation: Unrecognized key: "emails" (a single step {after, email, webhook}, or a chain: [{after, to}, …])']);
    expect(issues([{ after: '10m', to: 'someone' }])[0]).toMatch(/^escalation\.0\.to\.0: "someone": on-duty, next-on-duty/);
  });
});

describe('the sample notify file (flows/samples/notify.yaml)', () => {
  it('parses, and its roster sends a Tam Dương alert to the morning technician, then up the chain', () => {
    const config = notifyConfigSchema.parse(parse(readFileSync(new URL('../samples/notify.yaml', import.meta.url), 'utf8')));
    expect(config.rosters.map((r) => r.name)).toEqual(['tam-duong']);
    expect(config.escalation.map((s) => s.after)).toEqual([15 * MIN, 30 * MIN]);
    const clock = { t: local('2026-06-01T08:00') }; // a Monday
    const policy = new NotificationPolicy(config, () => clock.t);
    const a = record('a1', 'firing', { since: clock.t, updatedAt: clock.t });
    const sent = policy.onMessage(alertTopic(a.site, a.id), JSON.stringify(a), false);
    expect(sent.map((n) => `${n.channel} ${n.to.join(',')}`)).toEqual(['email an.nv@tamduong.vinhphuc.gov.vn']);
    clock.t += 15 * MIN;
    expect(policy.due().map((n) => n.to.join(','))).toEqual(['chi.lm@tamduong.vinhphuc.gov.vn']);
    clock.t += 15 * MIN;
    expect(policy.due().map((n) => `${n.channel} ${n.to.join(',')}`)).toEqual(['email truongca.ioc@vinhphuc.gov.vn', 'webhook ']);
  });
});
