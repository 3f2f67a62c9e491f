import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchSchema, parseTopic, statusSchema } from '../protocol/index.ts';
import { isOfficeOpen, SimOffice, vnLocalTime } from './sim-office.ts';
import { Simulator } from './simulator.ts';
import { TestBroker } from '../testkit/test-broker.ts';
import { waitUntil } from '../testkit/wait.ts';

const agents = [
  { site: 'xa-mot', agent: 'pi-1', token: 't1' },
  { site: 'xa-hai', agent: 'pi-1', token: 't2' },
  { site: 'xa-ba', agent: 'pi-1', token: 't3' },
];

let broker: TestBroker;
beforeAll(async () => {
  broker = await TestBroker.start({ tokens: new Map(agents.map((a) => [`${a.site}/${a.agent}`, a.token])) });
});
afterAll(async () => {
  await broker.stop();
});

describe('SimOffice', () => {
  it('is deterministic per site and seed', () => {
    const a = new SimOffice('xa-mot', 7);
    const b = new SimOffice('xa-mot', 7);
    const t = Date.UTC(2025, 0, 6, 2, 30); // Monday 09:30 in Hanoi
    expect(a.profile).toEqual(b.profile);
    expect(a.tick(t, 10_000, { uptime_s: 1, outbox_depth: 0, dropped_total: 0 })).toEqual(b.tick(t, 10_000, { uptime_s: 1, outbox_depth: 0, dropped_total: 0 }));
    expect(a.profile.counters.length).toBeGreaterThanOrEqual(2);
    expect(a.profile.counters.length).toBeLessThanOrEqual(4);
  });

  it('issues tickets only in office hours (Asia/Ho_Chi_Minh), and resets daily', () => {
    expect(isOfficeOpen(vnLocalTime(Date.UTC(2025, 0, 6, 2, 30)))).toBe(true); // Mon 09:30
    expect(isOfficeOpen(vnLocalTime(Date.UTC(2025, 0, 6, 5, 0)))).toBe(false); // Mon 12:00 lunch
    expect(isOfficeOpen(vnLocalTime(Date.UTC(2025, 0, 5, 2, 30)))).toBe(false); // Sunday
    const office = new SimOffice('xa-hai', 3);
    const self = { uptime_s: 0, outbox_depth: 0, dropped_total: 0 };
    let issuedMorning = 0;
    for (let m = 0; m < 240; m += 1) {
      const pts = office.tick(Date.UTC(2025, 0, 6, 0, 30 + m), 60_000, self);
      issuedMorning = pts.filter((p) => p.m === 'queue').reduce((s, p) => s + Number(p.fields.issued_total), 0);
    }
    expect(issuedMorning).toBeGreaterThan(10);
    const night = office.tick(Date.UTC(2025, 0, 6, 15, 0), 60_000, self); // 22:00
    for (const q of night.filter((p) => p.m === 'queue')) expect(q.fields.waiting).toBe(0);
    const nextDay = office.tick(Date.UTC(2025, 0, 6, 18, 0), 60_000, self); // 01:00 next day
    for (const q of nextDay.filter((p) => p.m === 'queue')) expect(q.fields.issued_total).toBe(0);
  });
});

describe('Simulator', () => {
  it('realtime: 3 offices publish valid batches with predictable point counts', async () => {
    const sim = new Simulator({ hubUrl: broker.url, agents, intervalMs: 150, seed: 42, reconnectMinMs: 50, reconnectMaxMs: 200 });
    sim.start();
    await waitUntil('9 batches acknowledged', () => sim.stats().batchesAcked >= 9, 10_000, 10);
    await sim.stop();
    const stats = sim.stats();
    expect(stats.pointsAcked).toBe(stats.pointsGenerated);
    for (const a of agents) {
      const mine = broker.received.filter((r) => r.topic === `ioc/v1/${a.site}/${a.agent}/telemetry`);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      for (const r of mine) {
        const batch = batchSchema.parse(JSON.parse(r.payload));
        expect(batch.points.length).toBe(Simulator.pointsPerTick(a.site, 42));
        const ms = new Set(batch.points.map((p) => p.m));
        expect([...ms].sort()).toEqual(['agent_report', 'display', 'equipment', 'gpio', 'host', 'net_iface', 'net_probe', 'queue', 'uplink']);
      }
      const statuses = broker.received.filter((r) => parseTopic(r.topic)?.kind === 'status' && r.clientId === `${a.site}/${a.agent}`);
      expect(statuses.map((s) => statusSchema.parse(JSON.parse(s.payload)).online)).toEqual([true, false]);
    }
  });

  it('flood: publishes N batches of M points per agent as fast as PUBACKs allow', async () => {
    const acks: number[] = [];
    const sim = new Simulator({
      hubUrl: broker.url,
      agents: agents.slice(0, 2),
      mode: 'flood',
      floodBatches: 20,
      floodBatchPoints: 100,
      maxInflight: 4,
      onAck: (a) => acks.push(a.ackedAt - a.sentAt),
    });
    sim.start();
    await sim.done();
    await sim.stop();
    expect(sim.stats()).toMatchObject({ batchesAcked: 40, pointsAcked: 4000, pointsGenerated: 4000 });
    expect(acks).toHaveLength(40);
    const floods = broker.received.filter((r) => r.topic.endsWith('/telemetry') && r.payload.includes('flood-'));
    for (const r of floods.slice(0, 5)) expect(batchSchema.safeParse(JSON.parse(r.payload)).success).toBe(true);
  });
});
