import type { Client, PublishPacket } from 'aedes';
import { describe, expect, it } from 'vitest';
import { AgentStateTable } from '../agents/agent-state.ts';
import { AcceptPath, DEFAULT_POLICY_BUDGETS } from './accept-path.ts';
import { silentLogger } from '../logger.ts';
import { HubMetrics } from '../metrics.ts';
import type { Site } from '../agents/registry.ts';
import type { HubPoint } from '../write/sink.ts';

const SITE: Site = { slug: 'xa-a', name: 'Xã A', code: '1', province: 'p', provinceName: 'P', area: 'a', areaName: 'A', lat: 1, lon: 1 };

function setup(budgets = DEFAULT_POLICY_BUDGETS, now = () => 1_800_000_000_000) {
  const submitted: HubPoint[][] = [];
  const metrics = new HubMetrics();
  const agentState = new AgentStateTable();
  const policy = new AcceptPath({
    registry: { verify: async () => true, getSite: (s: string) => (s === 'xa-a' ? SITE : undefined) },
    write: { submitAgentBatch: async (_key: string, points: readonly HubPoint[]) => void submitted.push([...points]), submitHubPoints: async (points: readonly HubPoint[]) => void submitted.push([...points]) },
    agentState,
    metrics,
    limits: { maxPayloadBytes: 512 * 1024, maxTopicDepth: 6 },
    budgets,
    logger: silentLogger(),
    now,
  });
  const client = { id: 'xa-a/pi-1', conn: {} } as unknown as Client;
  return { policy, client, submitted, metrics, agentState };
}

const packet = (topic: string, payload: unknown, retain = false): PublishPacket => ({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain, dup: false }) as PublishPacket;

describe('BrokerPolicy accept path', () => {
  it('keeps retain on status only, drops cmd-result for ids the hub did not issue, accepts issued ones once', async () => {
    const { policy, client, metrics } = setup();
    await policy.authenticate(client, 'xa-a/pi-1', Buffer.from('t'));
    const t = 1_800_000_000_000;
    const tele = packet('ioc/v1/xa-a/pi-1/telemetry', { seq: 1, sentAt: t, points: [{ m: 'host', t, fields: { cpu_pct: 1 } }] }, true);
    expect(await policy.authorizePublish(client, tele)).toBe('allow');
    expect(tele.retain).toBe(false);
    const status = packet('ioc/v1/xa-a/pi-1/status', { online: true, ts: t, version: '1', bootId: 'b', configRev: 1, clockSynced: true }, true);
    expect(await policy.authorizePublish(client, status)).toBe('allow');
    expect(status.retain).toBe(true);
    const result = { id: 'c-1', ok: true, at: t };
    expect(await policy.authorizePublish(client, packet('ioc/v1/xa-a/pi-1/cmd-result/c-1', result, true))).toBe('drop');
    policy.issuedCommands.issued('xa-a', 'pi-1', 'c-1', t);
    expect(await policy.authorizePublish(client, packet('ioc/v1/xa-a/pi-1/cmd-result/c-1', result))).toBe('allow');
    expect(await policy.authorizePublish(client, packet('ioc/v1/xa-a/pi-1/cmd-result/c-1', result))).toBe('drop');
    expect(metrics.retainRefused.get()).toBe(2);
    expect(metrics.cmdResultRefused.get()).toBe(2);
  });

  it('stores the points the contract accepts and counts the rest by reason', async () => {
    const { policy, client, submitted, metrics } = setup();
    await policy.authenticate(client, 'xa-a/pi-1', Buffer.from('t'));
    const t = 1_800_000_000_000;
    const points = [
      { m: 'host', t, fields: { cpu_pct: 1 } },
      { m: 'host', t: t + 86_400_000, fields: { cpu_pct: 1 } },
      { m: 'alert', t, tags: { rule: 'r', severity: 'critical' }, fields: { state: 'firing' } },
      { m: 'host', t, fields: { cpu_pct: 'x' } },
    ];
    expect(await policy.authorizePublish(client, packet('ioc/v1/xa-a/pi-1/telemetry', { seq: 1, sentAt: t, points }))).toBe('allow');
    expect(submitted.flat().filter((p) => p.measurement === 'host')).toHaveLength(1);
    expect(metrics.pointsRefused.get('clock_future')).toBe(1);
    expect(metrics.pointsRefused.get('hub_measurement')).toBe(1);
    expect(metrics.pointsRefused.get('field_type')).toBe(1);
  });

  it('refuses an agent\'s own `agent` point and stores its `agent_report` as `agent`, identically on a replay', async () => {
    const { policy, client, submitted, metrics } = setup();
    await policy.authenticate(client, 'xa-a/pi-1', Buffer.from('t'));
    const t = 1_800_000_000_000;
    const report = { m: 'agent_report', t: t - 1000, fields: { uptime_s: 60, outbox_depth: 3, dropped_total: 0 } };
    const forged = { m: 'agent', t: t - 2000, fields: { uptime_s: 99_999 } };
    expect(await policy.authorizePublish(client, packet('ioc/v1/xa-a/pi-1/telemetry', { seq: 1, sentAt: t, points: [report, forged] }))).toBe('allow');
    expect(await policy.authorizePublish(client, packet('ioc/v1/xa-a/pi-1/telemetry', { seq: 2, sentAt: t, late: true, points: [report] }))).toBe('allow');
    const fromAgent = submitted.filter((batch) => batch.some((p) => p.fields.uptime_s !== undefined));
    const stored = { measurement: 'agent', tags: { site: 'xa-a', agent: 'pi-1', province: 'p', area: 'a' }, fields: report.fields, timestamp: report.t };
    // The replay stores the same point; its batch's `late` travels beside it to the alert engine (never a field).
    expect(fromAgent).toEqual([[stored], [{ ...stored, late: true }]]);
    expect(submitted.flat().some((p) => p.measurement === 'agent_report' || p.fields.uptime_s === 99_999)).toBe(false);
    expect(metrics.pointsRefused.get('hub_measurement')).toBe(1);
  });

  it('holds the PUBACK past the points budget and refuses past the longest hold', async () => {
    const clock = 1_800_000_000_000;
    const { policy, client, metrics } = setup({ ...DEFAULT_POLICY_BUDGETS, pointsPerS: 100, pointsBurst: 100, maxHoldMs: 200 }, () => clock);
    await policy.authenticate(client, 'xa-a/pi-1', Buffer.from('t'));
    const batch = (seq: number, n: number) => packet('ioc/v1/xa-a/pi-1/telemetry', { seq, sentAt: clock, points: Array.from({ length: n }, (_, i) => ({ m: 'host', t: clock + i, fields: { cpu_pct: i } })) });
    expect(await policy.authorizePublish(client, batch(1, 100))).toBe('allow');
    const started = performance.now();
    expect(await policy.authorizePublish(client, batch(2, 10))).toBe('allow'); // 100 ms behind: held
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    await expect(policy.authorizePublish(client, batch(3, 50))).rejects.toThrow(/budget/); // 600 ms behind: refused
    expect(metrics.budgetHits.get('rate_held')).toBe(1);
    expect(metrics.budgetHits.get('rate_refused')).toBe(1);
  });

  it('applies a status (retained status or last will) where it is accepted: the state table and one `agent` point', async () => {
    const { policy, client, submitted, metrics, agentState } = setup();
    await policy.authenticate(client, 'xa-a/pi-1', Buffer.from('t'));
    const t = 1_800_000_000_000;
    const status = { online: true, ts: t, version: '1.2.3', bootId: 'b', configRev: 1, clockSynced: true };
    expect(await policy.authorizePublish(client, packet('ioc/v1/xa-a/pi-1/status', status, true))).toBe('allow');
    expect(agentState.get('xa-a', 'pi-1')).toMatchObject({ online: true, version: '1.2.3', bootId: 'b' });
    await Promise.resolve();
    expect(submitted).toEqual([[{ measurement: 'agent', tags: { site: 'xa-a', agent: 'pi-1', province: 'p', area: 'a' }, fields: { online: true }, timestamp: t }]]);
    expect(await policy.authorizePublish(client, packet('ioc/v1/xa-a/pi-1/status', { ...status, online: 'no' }, true))).toBe('drop');
    expect(await policy.authorizePublish(null, packet('ioc/v1/xa-a/pi-1/status', { ...status, online: false }))).toBe('allow'); // a will of a broker that died
    expect(agentState.get('xa-a', 'pi-1')?.online).toBe(false);
    expect(submitted).toHaveLength(2);
    expect(metrics.batchesRejected.total()).toBe(1);
  });
});
