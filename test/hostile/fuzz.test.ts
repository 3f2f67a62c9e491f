// The fuzz runs of issue 9: 10^5 generated payloads through the decoders in-process (they never
// throw), and 10^5 generated publishes (malformed and hostile batches, wrong topics, hub-owned
// measurements, far timestamps, control characters, oversized) from one agent against a real hub and
// influxd, with a bystander beside it: the hub stays up with bounded memory, nothing the fuzzer sends
// is stored under another site, and the bystander lands every point with its PUBACK p99.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyContract, decodeBatch, decodeCommand, decodeStatus, parseAgentIdentity, parseTopic } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { BYSTANDER_P99_MS, figures, hubRssMiB, publishAll } from '../../testkit/contract-kit.ts';
import { hostilePayload, hostileTopic, Rng } from '../../testkit/fuzz-gen.ts';

const N = 100_000;

describe('decoder fuzz (in-process)', () => {
  it(`${N} generated payloads and topics: decoders and the contract never throw`, () => {
    const r = new Rng(9);
    const now = Date.now();
    const own = { site: 'xa-a', agent: 'pi-1' };
    const other = { site: 'xa-b', agent: 'pi-2' };
    let ok = 0;
    for (let i = 0; i < N; i++) {
      const payload = hostilePayload(r, now, i);
      const topic = hostileTopic(r, own, other);
      const d = decodeBatch(payload);
      if (d.ok) {
        ok++;
        applyContract(d.value.points, { min: now - 90 * 86_400_000, max: now + 600_000 });
      }
      decodeStatus(payload);
      decodeCommand(payload);
      parseTopic(topic);
      parseAgentIdentity(topic);
    }
    expect(ok).toBeGreaterThan(N / 50); // the fuzz also reaches the contract, not only the parser
  }, 120_000);
});

describe('MQTT fuzz against a real hub', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The attacker's budgets are raised so that 10^5 publishes fit in two minutes; the bystander keeps its own.
    stack = await startStack({ agents: 2, hubYaml: ['budgets:', '  pointsPerS: 20000', '  bytesPerS: 4194304', '  bytesBurst: 8388608'].join('\n') });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it(`${N} hostile publishes from one agent: the hub stays up, memory bounded, nothing lands under another site, the bystander is unharmed`, async () => {
    const [attacker, bystanderAgent] = stack.agents;
    if (attacker === undefined || bystanderAgent === undefined) throw new Error('agents');
    const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent, ackTimeoutMs: 30_000 });
    const t0 = Date.now();
    const rssBefore = hubRssMiB(stack);
    const r = new Rng(2026);
    const base = `ioc/v1/${attacker.site}/${attacker.agent}`;
    const ownTopics = [`${base}/telemetry`, `${base}/telemetry`, `${base}/telemetry`, `${base}/event`, `${base}/status`, `${base}/cmd-result/x1`];
    let rssPeak = rssBefore;
    const messages = function* (): Generator<{ topic: string; payload: Buffer; retain: boolean }> {
      for (let i = 0; i < N; i++) {
        if (i % 5000 === 0) rssPeak = Math.max(rssPeak, hubRssMiB(stack));
        // Wrong topics close the connection (a reconnect each): rare, so the run fits its time.
        const topic = r.chance(0.002) ? hostileTopic(r, attacker, bystanderAgent) : r.pick(ownTopics);
        // Oversized payloads are in hostilePayload at a few per mille; plain junk and hostile batches otherwise.
        yield { topic, payload: hostilePayload(r, Date.now(), i), retain: r.chance(0.05) };
      }
    };
    const tally = await publishAll(stack, attacker, messages(), { inflight: 64, timeoutMs: 60_000 });
    const fuzzMs = Date.now() - t0;
    const rssAfter = hubRssMiB(stack);
    const health = await fetch(`${stack.httpUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
    const rb = await b.finish();
    // Every site that got a point since the run began: only the attacker's own and the bystander's.
    const sitesBody = await stack.influx.query(`SELECT count(*) FROM raw./.*/ WHERE time > ${t0 - 100 * 86_400_000}ms AND time < ${t0 + 86_400_000}ms GROUP BY site`, 'ioc');
    const sites = new Set((sitesBody.results[0]?.series ?? []).map((s) => s.tags?.site ?? '(none)'));
    const m = await stack.metrics();
    figures('fuzz', { publishes: N, acked: tally.acked, closed: tally.closed, timeouts: tally.timeouts, fuzzMs, rssBeforeMiB: Math.round(rssBefore), rssPeakMiB: Math.round(rssPeak), rssAfterMiB: Math.round(rssAfter), sites: [...sites], refused: m.get('ioc_hub_points_refused_total') ?? 0, malformed: m.get('ioc_hub_batches_rejected_total') ?? 0, loopMaxMs: m.get('ioc_hub_event_loop_delay_max_ms'), bystanderP99Ms: rb.p99Ms });

    expect(health.status).toBe(200);
    expect(tally.acked + tally.closed + tally.timeouts).toBe(N);
    expect(tally.acked).toBeGreaterThan(N * 0.5);
    expect(tally.timeouts).toBe(0);
    expect(rssPeak - rssBefore).toBeLessThan(300);
    expect([...sites].every((s) => s === attacker.site || s === bystanderAgent.site)).toBe(true);
    expect(bystanderProblems(rb, BYSTANDER_P99_MS)).toEqual([]);
  }, 300_000);
});
