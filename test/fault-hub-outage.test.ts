// Fault 1: the hub is stopped for 60 s while 20 agents keep collecting, then restarted.
// Fault 4: the hub is killed with SIGKILL during ingest (three times), then restarted on the same spool.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExact, sleep, startFaultAgents } from '../testkit/fault.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 22 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

const OUTAGE_MS = Number(process.env.IOC_FAULT_OUTAGE_MS ?? 60_000);

describe('hub faults', () => {
  it('loses and doubles nothing while the hub is down for 60 s (20 agents)', async () => {
    const dir = join(stack.dir, 'fault-1');
    mkdirSync(dir, { recursive: true });
    const sites = stack.agents.slice(0, 20).map((a) => a.site);
    const agents = startFaultAgents(stack, { dir, agents: 20, t0: Date.now() - 3_600_000, intervalMs: 200, points: 10 });
    try {
      await sleep(4000);
      await stack.hub.stop();
      await sleep(OUTAGE_MS);
      await stack.restartHub();
      await sleep(4000);
    } finally {
      const ended = await agents.stop(150_000);
      expect(ended.code).toBe(0);
    }
    await stack.hub.stop(); // flushes ingest; nothing is pending in InfluxDB after this
    await stack.restartHub();
    const r = await expectExact(stack, dir, sites, 10);
    expect(r.mismatches).toEqual([]);
    expect(r.expected).toBeGreaterThan(20 * 10 * ((OUTAGE_MS + 8000) / 200) * 0.8);
  }, OUTAGE_MS + 240_000);

  it('loses and doubles nothing when the hub is killed with SIGKILL during ingest', async () => {
    const dir = join(stack.dir, 'fault-4');
    mkdirSync(dir, { recursive: true });
    const sites = stack.agents.slice(20, 22).map((a) => a.site);
    const agents = startFaultAgents(stack, { dir, agents: 2, offset: 20, t0: Date.now() - 3_600_000, intervalMs: 20, points: 50 });
    try {
      for (let k = 0; k < 3; k += 1) {
        await sleep(1500 + Math.random() * 1500);
        await stack.hub.kill();
        await stack.restartHub();
      }
      await sleep(2000);
    } finally {
      const ended = await agents.stop(150_000);
      expect(ended.code).toBe(0);
    }
    await stack.hub.stop();
    await stack.restartHub();
    await waitUntil('spool empty', async () => ((await stack.metrics()).get('ioc_hub_spool_depth') ?? 1) === 0, 30_000);
    const r = await expectExact(stack, dir, sites, 50);
    expect(r.mismatches).toEqual([]);
    expect(r.expected).toBeGreaterThan(1000);
  }, 180_000);
});
