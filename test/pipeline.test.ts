// End to end through real TCP and real processes: a real agent with real collectors probing local
// targets, plus simulated offices, → the hub process → a real influxd.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../testkit/child-process.ts';
import { freePort } from '../testkit/free-port.ts';
import { Simulator } from '../edge/simulator.ts';
import { z } from 'zod';
import { pointSchema, storedMeasurement } from '../protocol/index.ts';
import { startAgentProcess } from '../testkit/agent-process.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

let stack: Stack;
let agentProc: ManagedProcess | undefined;
let tcpTarget: Server;
let tcpPort: number;
let closedPort: number;

beforeAll(async () => {
  stack = await startStack({ agents: 4 });
  tcpTarget = createServer((s) => s.end());
  await new Promise<void>((r) => tcpTarget.listen(0, '127.0.0.1', () => r()));
  const addr = tcpTarget.address();
  tcpPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
  closedPort = await freePort();
}, 90_000);

afterAll(async () => {
  await agentProc?.stop();
  tcpTarget?.close();
  await stack?.stop();
});

async function rows(q: string): Promise<unknown[][]> {
  const body = await stack.influx.query(q, 'ioc');
  const r = body.results[0];
  if (r?.error !== undefined) throw new Error(r.error);
  return r?.series?.flatMap((s) => s.values ?? []) ?? [];
}

async function apiSite(slug: string): Promise<{ slug: string; online: boolean; pointsToday: number } | undefined> {
  const body = (await (await fetch(`${stack.httpUrl}/api/sites`, { headers: { authorization: stack.readAuth } })).json()) as { sites: { slug: string; online: boolean; pointsToday: number }[] };
  return body.sites.find((s) => s.slug === slug);
}

describe('a real agent process', () => {
  it('probes local targets and its readings land with the registry tags', async () => {
    const me = stack.agents[0];
    if (me === undefined) throw new Error('no agent enrolled');
    agentProc = startAgentProcess(stack, me, [
      `  - { type: tcp, name: open-port, host: 127.0.0.1, port: ${tcpPort}, intervalS: 1 }`,
      `  - { type: tcp, name: closed-port, host: 127.0.0.1, port: ${closedPort}, intervalS: 1 }`,
      `  - { type: http, name: hub-api, url: "${stack.httpUrl}/healthz", intervalS: 1 }`,
      '  - { type: icmp, name: loopback, host: 127.0.0.1, count: 2, intervalS: 2 }',
      '  - { type: host, intervalS: 1 }',
    ]);

    const probes = await waitUntil(
      'readings of every probe target',
      async () => {
        const r = await rows(`SELECT last(up) FROM net_probe WHERE site='${me.site}' GROUP BY target, method`);
        return r.length >= 4 ? r : undefined;
      },
      30_000,
    );
    expect(probes.length).toBeGreaterThanOrEqual(4);

    const up = async (target: string): Promise<unknown> => (await rows(`SELECT last(up) FROM net_probe WHERE site='${me.site}' AND target='${target}'`))[0]?.[1];
    expect(await up('open-port')).toBe(1);
    expect(await up('closed-port')).toBe(0);
    expect(await up('hub-api')).toBe(1);
    expect(await up('loopback')).toBe(1);
    const result = await rows(`SELECT last(result) FROM net_probe WHERE site='${me.site}' AND target='closed-port'`);
    expect(result[0]?.[1]).toBe('refused');
    const httpStatus = await rows(`SELECT last(status) FROM net_probe WHERE site='${me.site}' AND target='hub-api'`);
    expect(httpStatus[0]?.[1]).toBe(200);

    const host = await waitUntil('host readings', async () => {
      const r = await rows(`SELECT last(mem_pct) FROM host WHERE site='${me.site}'`);
      return r.length > 0 ? r : undefined;
    });
    const mem = host[0]?.[1];
    expect(typeof mem).toBe('number');
    expect(mem as number).toBeGreaterThan(0);
    expect(mem as number).toBeLessThanOrEqual(100);

    const tagRows = await rows(`SHOW TAG VALUES FROM net_probe WITH KEY IN ("province", "area", "agent") WHERE site='${me.site}'`);
    const tags = Object.fromEntries(tagRows.map((r) => [String(r[0]), String(r[1])]));
    expect(tags).toMatchObject({ province: 'phu-tho', agent: me.agent });

    expect((await apiSite(me.site))?.online).toBe(true);
  }, 60_000);

  it('is marked offline when it stops, and its last state is stored', async () => {
    const me = stack.agents[0];
    if (me === undefined || agentProc === undefined) throw new Error('previous test did not start the agent');
    const ended = await agentProc.stop();
    expect(ended.code).toBe(0);
    await waitUntil('site offline in the API', async () => {
      return (await apiSite(me.site))?.online === false;
    });
    await waitUntil('online=false stored', async () => (await rows(`SELECT last(online) FROM agent WHERE site='${me.site}'`))[0]?.[1] === false, 10_000);
    const history = await rows(`SELECT online FROM agent WHERE site='${me.site}'`);
    expect(history.map((r) => r[1])).toEqual([true, false]);
  }, 30_000);
});

describe('simulated commune offices', () => {
  it('every acknowledged point is stored exactly once, field by field', async () => {
    const offices = stack.agents.slice(1, 4);
    const acked: { site: string; payload: string }[] = [];
    const sim = new Simulator({ hubUrl: stack.mqttUrl, agents: offices, intervalMs: 400, seed: 7, onAck: (a) => acked.push({ site: a.site, payload: a.payload }) });
    const t0 = Date.now();
    sim.start();
    // Stop between two ticks, when everything generated so far has been acknowledged.
    await waitUntil('a quiet moment after 4 s of traffic', async () => {
      const s = sim.stats();
      return Date.now() - t0 > 4000 && s.pointsGenerated > 0 && s.pointsAcked === s.pointsGenerated;
    }, 30_000, 20);
    await sim.stop();
    expect(sim.stats().pointsAcked).toBe(sim.stats().pointsGenerated);

    // Expected: per measurement and field, the number of distinct points (measurement + tags + time).
    const expected = new Map<string, number>();
    const seen = new Set<string>();
    for (const { site, payload } of acked) {
      // the acknowledged payload is the batch's points array
      const points = z.array(pointSchema).parse(JSON.parse(payload));
      for (const p of points) {
        const key = `${site}|${p.m}|${JSON.stringify(Object.entries(p.tags ?? {}).sort())}|${p.t}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // Stored under the hub's name (agent_report → agent), field by field.
        const m = storedMeasurement(p.m);
        for (const f of Object.keys(p.fields)) expected.set(`${m}.${f}`, (expected.get(`${m}.${f}`) ?? 0) + 1);
      }
    }
    expect(expected.size).toBeGreaterThan(10);
    const siteRegex = offices.map((o) => o.site).join('|');
    const body = await stack.influx.query(`SELECT count(*) FROM /.*/ WHERE site =~ /^(${siteRegex})$/`, 'ioc');
    const stored = new Map<string, number>();
    for (const s of body.results[0]?.series ?? []) {
      s.columns.forEach((c, i) => {
        const v = s.values?.[0]?.[i];
        if (c.startsWith('count_') && typeof v === 'number') stored.set(`${s.name}.${c.slice(6)}`, v);
      });
    }
    for (const [key, n] of expected) expect({ key, stored: stored.get(key) }).toEqual({ key, stored: n });
    const measurements = new Set([...expected.keys()].map((k) => k.split('.')[0]));
    // Every periodic measurement, plus whichever discrete events (`*_event`, event channel) happened in the run.
    const periodic = new Set(['agent', 'net_probe', 'net_iface', 'uplink', 'queue', 'display', 'equipment', 'gpio', 'host']);
    expect(new Set([...measurements].filter((m) => m !== undefined && !m.endsWith('_event')))).toEqual(periodic);
  }, 60_000);
});
