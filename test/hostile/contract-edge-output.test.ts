// The agent data contract matches what the edge writes, exactly: the simulators' output (the office
// model over a week, the flood mode, both over a real broker) and every built-in Modbus register map
// pass checkAgentPoint. Every collector's own test checks its readings too (testkit/recording-accumulator.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from '../../edge/simulator.ts';
import { SimOffice } from '../../edge/sim-office.ts';
import { MODBUS_PROFILES } from '../../edge/modbus/profiles.ts';
import { TestBroker } from '../../testkit/test-broker.ts';
import { agentFieldType, batchSchema, checkAgentPoint, MEASUREMENTS, type Point } from '../../protocol/index.ts';

const agents = [
  { site: 'xa-mot', agent: 'pi-1', token: 't1' },
  { site: 'xa-hai', agent: 'pi-1', token: 't2' },
];
let broker: TestBroker;
beforeAll(async () => {
  broker = await TestBroker.start({ tokens: new Map(agents.map((a) => [`${a.site}/${a.agent}`, a.token])) });
});
afterAll(async () => {
  await broker.stop();
});

function violations(points: readonly Point[]): string[] {
  const out = new Set<string>();
  for (const p of points) {
    const why = checkAgentPoint(p);
    if (why !== undefined) out.add(`${p.m} ${why}: ${JSON.stringify({ tags: p.tags, fields: p.fields })}`);
  }
  return [...out];
}

describe('what the edge writes is inside the contract', () => {
  it('the office model, every tick and event of a week (all measurements, states and events)', () => {
    const seen = new Set<string>();
    for (const [site, seed] of [['xa-bon', 5], ['xa-nam', 9], ['xa-sau', 13]] as const) {
      const office = new SimOffice(site, seed);
      const self = { uptime_s: 0, outbox_depth: 3, dropped_total: 0 };
      const all: Point[] = [];
      for (let m = 0; m < 7 * 24 * 60; m += 5) {
        all.push(...office.tick(Date.UTC(2025, 0, 6, 0, m), 5 * 60_000, self), ...office.takeEvents());
      }
      for (const p of all) seen.add(p.m);
      expect(violations(all)).toEqual([]);
    }
    // Everything the contract lets agents write, but equipment's per-device fields, is exercised here or by a collector test.
    expect([...seen].sort()).toEqual(expect.arrayContaining(['agent_report', 'display', 'equipment', 'gpio', 'gpio_event', 'host', 'net_iface', 'net_probe', 'queue', 'queue_event', 'uplink']));
  });

  it('the simulator over MQTT, realtime and flood', async () => {
    const rt = new Simulator({ hubUrl: broker.url, agents: agents.slice(0, 1), intervalMs: 100, seed: 42, reconnectMinMs: 50, reconnectMaxMs: 200 });
    rt.start();
    const deadline = Date.now() + 10_000;
    while (rt.stats().batchesAcked < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await rt.stop();
    const flood = new Simulator({ hubUrl: broker.url, agents: agents.slice(1), mode: 'flood', floodBatches: 5, floodBatchPoints: 50, maxInflight: 2 });
    flood.start();
    await flood.done();
    await flood.stop();
    const points = broker.received.filter((r) => r.topic.endsWith('/telemetry') || r.topic.endsWith('/event')).flatMap((r) => batchSchema.parse(JSON.parse(r.payload)).points);
    expect(points.length).toBeGreaterThan(250);
    expect(violations(points)).toEqual([]);
  });

  it('every built-in Modbus register map writes numbers the contract declares', () => {
    for (const [name, profile] of Object.entries(MODBUS_PROFILES)) {
      for (const r of profile.registers) expect(agentFieldType(MEASUREMENTS.equipment, r.field), `${name}.${r.field}`).toBe('number');
    }
  });
});
