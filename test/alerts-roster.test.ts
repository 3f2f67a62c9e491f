// Duty rosters for real: hub (broker, alert engine) → MQTT → Node-RED flows → SMTP sink, on a flows clock set by
// IOC_NR_CLOCK (flows/env.ts) to a Monday morning in Hanoi. The technician on duty gets the alert, the chain climbs
// to the next one and then the shift lead, the afternoon technician (off duty) hears nothing; later shifts and a
// public holiday are reached by moving the clock, not by waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowsSettingsFromEnv } from '../flows/env.ts';
import { AlertStack, type Mail } from '../testkit/alerts-stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const RULES = `
rules:
  - { name: site-offline, type: agent-offline, for: 1s, clearFor: 1s }
`;

// The one-stop office technicians of Tam Đảo district (the stack's even-numbered communes).
const ROSTER = {
  name: 'tam-dao',
  areas: ['tam-dao'],
  people: [
    { id: 'kt-an', name: 'Nguyễn Văn An', email: 'an@ioc.test' },
    { id: 'kt-chi', name: 'Lê Minh Chi', email: 'chi@ioc.test' },
    { id: 'kt-binh', name: 'Trần Thị Bình', email: 'binh@ioc.test' },
    { id: 'tc-dung', name: 'Phạm Quốc Dũng', email: 'dung@ioc.test', roles: ['truong-ca'] },
    { id: 'kt-em', name: 'Hoàng Văn Em', email: 'em@ioc.test' },
  ],
  shifts: [
    { name: 'sang', from: '07:00', to: '11:30', onDuty: ['kt-an', 'kt-chi'] },
    { name: 'chieu', from: '13:30', to: '17:00', onDuty: ['kt-binh'] },
  ],
  onCall: { rota: ['kt-em'], from: '2026-04-20' },
};
// Room for the acknowledgement to travel (hub API → engine → MQTT → flows) well before the first step on a loaded machine.
const AFTER_1 = 4000;
const AFTER_2 = 8000;

const HOUR = 3_600_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let s: AlertStack;
/** The flows' clock: IOC_NR_CLOCK's, plus what a test moves it by. */
const clock = { jump: 0 };

beforeAll(async () => {
  const base = flowsSettingsFromEnv({ NODE_RED_CREDENTIAL_SECRET: 'x', IOC_NR_MQTT_PASSWORD: 'x', IOC_NR_CLOCK: '2026-04-20T09:00:00+07:00' }).runtime.now;
  if (base === undefined) throw new Error('IOC_NR_CLOCK gave no clock');
  s = await AlertStack.start({
    sites: 8,
    rulesYaml: RULES,
    notify: {
      routes: [],
      defaultRoute: { email: ['ops@ioc.test'] },
      rosters: [ROSTER],
      escalation: [
        { after: `${AFTER_1}ms`, to: 'next-on-duty' },
        { after: `${AFTER_2}ms`, to: 'role:truong-ca' },
      ],
    },
    nodeRedNow: () => base() + clock.jump,
  });
  await Promise.all(s.sites.map((site) => s.online(site.slug)));
  await sleep(1500); // past the hub's startup grace
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const of = (site: string) => (m: Mail): boolean => m.site === site;
const line = (m: Mail): string => `${m.kind} ${m.to}`;

describe('notifications to whoever is on duty', () => {
  it('Monday 09:00: the alert goes to the technician on duty, escalates to the next after `after`, then to the shift lead, never to the off-duty one; an acknowledged one stops', async () => {
    s.offline('xa-0');
    s.offline('xa-2');
    const fired = await waitUntil('two firing mails', async () => {
      const m = s.mails.filter((x) => x.kind === 'firing' && (x.site === 'xa-0' || x.site === 'xa-2'));
      return m.length === 2 ? m : undefined;
    }, 15_000, 50);
    expect(fired.map((m) => m.to)).toEqual(['an@ioc.test', 'an@ioc.test']);
    // Acknowledge xa-2 at once (the hub's API): its chain stops.
    const acked = fired.find((m) => m.site === 'xa-2');
    const res = await fetch(`${s.apiUrl}/api/alerts/${acked?.alertId}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.apiToken}` }, body: JSON.stringify({ by: 'kt-an' }) });
    expect(res.status).toBeLessThan(300);

    await waitUntil('the second step of xa-0', async () => s.mailsFor((m) => m.site === 'xa-0' && m.kind === 'escalation').length === 2, 20_000, 50);
    await sleep(1500); // nothing more comes
    const mails = s.mailsFor(of('xa-0'));
    expect(mails.map(line)).toEqual(['firing an@ioc.test', 'escalation chi@ioc.test', 'escalation dung@ioc.test']);
    const [firing, step1, step2] = mails.map((m) => m.at);
    // Each step after its `after` (counted from the firing; the escalation tick runs every second), not before.
    expect((step1 ?? 0) - (firing ?? 0)).toBeGreaterThanOrEqual(AFTER_1 - 250);
    expect((step2 ?? 0) - (firing ?? 0)).toBeGreaterThanOrEqual(AFTER_2 - 250);
    expect((step2 ?? 0) - (step1 ?? 0)).toBeGreaterThanOrEqual(AFTER_2 - AFTER_1 - 1250);
    expect(s.mailsFor(of('xa-2')).map(line)).toEqual(['firing an@ioc.test']);
    expect(s.mails.filter((m) => m.to.includes('binh@ioc.test') || m.to.includes('em@ioc.test'))).toEqual([]);

    // The resolution goes to everyone paged.
    await s.online('xa-0');
    // One delivery per recipient (the delivery queue), so one mail each.
    const resolvedTo = (): string[] => s.mailsFor((m) => m.site === 'xa-0' && m.kind === 'resolved').map((m) => m.to).sort();
    await waitUntil('xa-0 resolved', async () => resolvedTo().length >= 3, 15_000, 50);
    await sleep(500);
    expect(resolvedTo()).toEqual(['an@ioc.test', 'chi@ioc.test', 'dung@ioc.test']);
    await s.online('xa-2');
  });

  it('Monday 14:00: the afternoon technician gets it, the morning ones do not', async () => {
    clock.jump = 5 * HOUR;
    s.offline('xa-4');
    const [first] = await waitUntil('firing mail', async () => (s.mailsFor((m) => m.site === 'xa-4').length > 0 ? s.mailsFor(of('xa-4')) : undefined), 15_000, 50);
    expect(first && line(first)).toBe('firing binh@ioc.test');
    // Nobody else of the afternoon shift: the first step goes to the on-call rota's Em, the second to the lead.
    await waitUntil('two steps', async () => s.mailsFor((m) => m.site === 'xa-4' && m.kind === 'escalation').length === 2, 20_000, 50);
    expect(s.mailsFor(of('xa-4')).map(line)).toEqual(['firing binh@ioc.test', 'escalation em@ioc.test', 'escalation dung@ioc.test']);
    await s.online('xa-4');
  });

  it('Thursday 30 April (a public holiday), 09:00: the on-call technician gets it, not the morning shift', async () => {
    clock.jump = 10 * 24 * HOUR; // Thursday 30 April 2026, 09:00
    s.offline('xa-6');
    const [first] = await waitUntil('firing mail', async () => (s.mailsFor(of('xa-6')).length > 0 ? s.mailsFor(of('xa-6')) : undefined), 15_000, 50);
    expect(first && line(first)).toBe('firing em@ioc.test');
    await s.online('xa-6');
  });
});
