// Fault 2: an agent process is killed with SIGKILL 20 times at random moments while it writes.
// Fault 5: the outbox cap is reached while the hub is away: exactly the oldest are dropped, and counted.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExact, generatedSeqs, sleep, startFaultAgents, storedCounts } from '../testkit/fault.ts';
import { startStack, type Stack } from '../testkit/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 3 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

describe('agent faults', () => {
  it('loses and doubles nothing across 20 SIGKILLs of the agent process', async () => {
    const dir = join(stack.dir, 'fault-2');
    mkdirSync(dir, { recursive: true });
    const sites = stack.agents.slice(0, 2).map((a) => a.site);
    const t0 = Date.now() - 3_600_000;
    const opts = { dir, agents: 2, t0, intervalMs: 10, points: 20 };
    // an agent process is generating once every site's generated.log has grown (its SIGTERM handler is installed
    // before its first tick): start-up time under load does not eat the window the kills are meant for
    const generatingSince = async (before: Map<string, number[]>, what: string): Promise<void> => {
      const started = Date.now();
      const generating = (): boolean => sites.every((s) => (generatedSeqs(dir, [s]).get(s)?.length ?? 0) > (before.get(s)?.length ?? 0) + 5);
      while (!generating() && Date.now() - started < 60_000) await sleep(50);
      expect(generating(), `${what} never started generating`).toBe(true);
    };
    for (let k = 0; k < 20; k += 1) {
      const before = generatedSeqs(dir, sites);
      const p = startFaultAgents(stack, opts);
      await generatingSince(before, `agent process ${k}`);
      // kill somewhere in the writing that follows
      await sleep(Math.random() * 1500);
      await p.kill();
    }
    const before = generatedSeqs(dir, sites);
    const last = startFaultAgents(stack, opts);
    await generatingSince(before, 'the last agent process');
    const ended = await last.stop(150_000);
    expect(ended.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { depth: number; droppedTotal: number }[];
    expect(summary.every((s) => s.depth === 0 && s.droppedTotal === 0)).toBe(true);
    await stack.hub.stop();
    await stack.restartHub();
    const r = await expectExact(stack, dir, sites, 20);
    expect(r.mismatches).toEqual([]);
    expect(r.expected).toBeGreaterThan(2000);
  }, 240_000);

  it('drops exactly the oldest batches when the outbox is full, and counts them', async () => {
    const dir = join(stack.dir, 'fault-5');
    mkdirSync(dir, { recursive: true });
    const site = stack.agents[2]?.site ?? '';
    await stack.hub.stop();
    // 100 points ≈ 2.6 KiB a batch; 64 KiB segments, 512 KiB cap ≈ 190 batches kept
    const opts = { dir, agents: 1, offset: 2, t0: Date.now() - 3_600_000, intervalMs: 10, points: 100, maxBytes: 512 * 1024, segmentBytes: 64 * 1024 };
    const p = startFaultAgents(stack, opts);
    await sleep(8000);
    await stack.restartHub();
    const ended = await p.stop(150_000);
    expect(ended.code).toBe(0);
    await stack.hub.stop();
    await stack.restartHub();
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { droppedTotal: number }[];
    const dropped = summary[0]?.droppedTotal ?? -1;
    expect(dropped).toBeGreaterThan(0);
    const seqs = (generatedSeqs(dir, [site]).get(site) ?? []).sort((a, b) => a - b);
    // the dropped ones are exactly the first `dropped` seqs generated
    const keptSeqs = seqs.slice(dropped);
    const stored = (await storedCounts(stack)).get(site);
    expect(stored?.rows).toBe(keptSeqs.length * 100);
    expect(stored?.distinct).toBe(keptSeqs.length * 100);
    expect(stored?.min).toBe((keptSeqs[0] ?? 0) * 100);
    expect(stored?.max).toBe((keptSeqs.at(-1) ?? 0) * 100 + 99);
  }, 120_000);
});
