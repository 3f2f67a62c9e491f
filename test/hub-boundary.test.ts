// The hub, as its own process, against hostile and broken clients: real influxd, real TCP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdentity, telemetryTopic, type Batch } from '../protocol/index.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ agents: 3 });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

function batch(seq: number, t: number, target = 'portal', n = 1): Batch {
  return {
    seq,
    sentAt: Date.now(),
    points: Array.from({ length: n }, (_, i) => ({ m: 'net_probe', t: t + i, tags: { target, method: 'tcp' }, fields: { up: 1, rtt_ms: 10 + i } })),
  };
}

async function countFor(site: string, target: string): Promise<number> {
  const body = await stack.influx.query(`SELECT count(rtt_ms) FROM net_probe WHERE site='${site}' AND target='${target}'`, 'ioc');
  const v = body.results[0]?.series?.[0]?.values?.[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

function creds(i: number): { site: string; agent: string; token: string } {
  const c = stack.agents[i];
  if (c === undefined) throw new Error(`no agent ${i}`);
  return c;
}

describe('hub boundary', () => {
  it('refuses a wrong token and counts it', async () => {
    const a = creds(0);
    const before = (await stack.metrics()).get('ioc_hub_auth_failures_total') ?? 0;
    await expect(connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), `${a.token}x`)).rejects.toThrow(/not authorized|bad user/i);
    const after = (await stack.metrics()).get('ioc_hub_auth_failures_total') ?? 0;
    expect(after).toBe(before + 1);
  });

  it('refuses a client id that is not the username', async () => {
    const a = creds(0);
    await expect(connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), a.token, { clientId: 'someone-else' })).rejects.toThrow();
  });

  it('stores a good batch with registry tags, and a batch sent twice only once', async () => {
    const a = creds(0);
    const client = await connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), a.token);
    const b = batch(1, Date.now() - 1000, 'twice', 3);
    expect(await publishQos1(client, telemetryTopic(a.site, a.agent), JSON.stringify(b))).toBe('acked');
    // PUBACK comes only after the write: the points are queryable now, without waiting.
    expect(await countFor(a.site, 'twice')).toBe(3);
    expect(await publishQos1(client, telemetryTopic(a.site, a.agent), JSON.stringify({ ...b, sentAt: Date.now() }))).toBe('acked');
    expect(await countFor(a.site, 'twice')).toBe(3);
    const tags = await stack.influx.query(`SHOW TAG VALUES FROM net_probe WITH KEY IN ("province","area","agent") WHERE site='${a.site}'`, 'ioc');
    const values = Object.fromEntries((tags.results[0]?.series?.[0]?.values ?? []).map((r) => [String(r[0]), String(r[1])]));
    expect(values.province).toBe('phu-tho');
    expect(values.agent).toBe(a.agent);
    // The 2025 list has no districts: no area tag at all (an empty one would be refused by InfluxDB); test/communes-legacy.test.ts has one.
    expect(values.area).toBeUndefined();
    await endClient(client);
  });

  it("closes an agent that publishes on another site's topic, and nothing lands", async () => {
    const a = creds(0);
    const b = creds(1);
    const before = (await stack.metrics()).get('ioc_hub_publish_denied_total') ?? 0;
    const client = await connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), a.token);
    const outcome = await publishQos1(client, telemetryTopic(b.site, b.agent), JSON.stringify(batch(1, Date.now(), 'spoofed')));
    expect(outcome).toBe('closed');
    await endClient(client);
    expect(await countFor(b.site, 'spoofed')).toBe(0);
    expect(await countFor(a.site, 'spoofed')).toBe(0);
    expect((await stack.metrics()).get('ioc_hub_publish_denied_total')).toBe(before + 1);
  });

  it('acknowledges, counts and drops malformed batches while a good agent keeps landing', async () => {
    const bad = creds(1);
    const good = creds(2);
    const badClient = await connectAs(stack.mqttUrl, agentIdentity(bad.site, bad.agent), bad.token);
    const goodClient = await connectAs(stack.mqttUrl, agentIdentity(good.site, good.agent), good.token);
    const before = (await stack.metrics()).get('ioc_hub_batches_rejected_total') ?? 0;
    const topic = telemetryTopic(bad.site, bad.agent);
    const t = Date.now() - 5000;
    const malformed: (string | Buffer)[] = [
      '{"seq": 1, "sentAt"',
      Buffer.from([0xff, 0x00, 0xfe]),
      JSON.stringify({ seq: 'x', sentAt: Date.now(), points: [] }),
      JSON.stringify({ seq: 2, sentAt: Date.now(), points: [{ m: 'net_probe', t, tags: { site: 'other-site' }, fields: { up: true } }] }),
      `{"seq":3,"sentAt":${Date.now()},"points":[{"m":"net_probe","t":${t},"tags":{"target":"inf"},"fields":{"rtt_ms":1e999}}]}`,
      JSON.stringify({ ...batch(4, t, 'huge'), pad: 'x'.repeat(600 * 1024) }),
    ];
    let goodSeq = 10;
    for (const payload of malformed) {
      expect(await publishQos1(badClient, topic, payload)).toBe('acked');
      expect(await publishQos1(goodClient, telemetryTopic(good.site, good.agent), JSON.stringify(batch(goodSeq++, t + goodSeq * 10, 'alongside')))).toBe('acked');
    }
    expect(badClient.connected).toBe(true);
    expect(await countFor(good.site, 'alongside')).toBe(malformed.length);
    expect(await countFor(bad.site, 'huge')).toBe(0);
    expect(await countFor(bad.site, 'inf')).toBe(0);
    const after = await waitUntil('rejections counted', async () => {
      const v = (await stack.metrics()).get('ioc_hub_batches_rejected_total') ?? 0;
      return v >= before + malformed.length ? v : undefined;
    });
    expect(after).toBe(before + malformed.length);
    // a good batch from the agent that misbehaved still lands
    expect(await publishQos1(badClient, topic, JSON.stringify(batch(20, t, 'recovered')))).toBe('acked');
    expect(await countFor(bad.site, 'recovered')).toBe(1);
    expect(stack.hub.running).toBe(true);
    await endClient(badClient);
    await endClient(goodClient);
  });
});
