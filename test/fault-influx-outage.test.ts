// Fault 3: InfluxDB is stopped for 60 s under load, then restarted. The hub spools meanwhile, so the
// agents keep getting PUBACKs (no disconnects) and the spool drains when InfluxDB is back.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxdProcess } from '../testkit/influxd.ts';
import { expectExact, sleep, startFaultAgents } from '../testkit/fault.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 5 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

const OUTAGE_MS = Number(process.env.IOC_FAULT_OUTAGE_MS ?? 60_000);

describe('InfluxDB fault', () => {
  it('loses and doubles nothing while InfluxDB is down for 60 s under load', async () => {
    const dir = join(stack.dir, 'fault-3');
    mkdirSync(dir, { recursive: true });
    const sites = stack.agents.slice(0, 5).map((a) => a.site);
    const agents = startFaultAgents(stack, { dir, agents: 5, t0: Date.now() - 3_600_000, intervalMs: 50, points: 20 });
    let spoolPeak = 0;
    let backlogPeak = 0;
    try {
      await sleep(4000);
      const { dir: influxDir, port } = stack.influx;
      await stack.influx.stop();
      const outageEnd = Date.now() + OUTAGE_MS;
      while (Date.now() < outageEnd) {
        const m = await stack.metrics();
        spoolPeak = Math.max(spoolPeak, m.get('ioc_hub_spool_depth') ?? 0);
        backlogPeak = Math.max(backlogPeak, m.get('ioc_hub_pending_points') ?? 0);
        await sleep(1000);
      }
      stack.influx = await InfluxdProcess.start({ dir: influxDir, port });
      await waitUntil('spool drained', async () => ((await stack.metrics()).get('ioc_hub_spool_depth') ?? 1) === 0, 60_000);
      await sleep(2000);
    } finally {
      const ended = await agents.stop(150_000);
      expect(ended.code).toBe(0);
    }
    expect(spoolPeak).toBeGreaterThan(0);
    await stack.hub.stop();
    await stack.restartHub();
    const r = await expectExact(stack, dir, sites, 20);
    expect(r.mismatches).toEqual([]);
    expect(r.expected).toBeGreaterThan(5 * 20 * ((OUTAGE_MS + 6000) / 50) * 0.5);
    void backlogPeak;
  }, OUTAGE_MS + 240_000);
});
