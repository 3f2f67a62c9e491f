import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchSchema, statusSchema, statusTopic, telemetryTopic } from '../protocol/index.ts';
import { Agent } from './agent.ts';
import { parseEdgeConfig } from './config.ts';
import { TestBroker } from '../testkit/test-broker.ts';
import { waitUntil } from '../testkit/wait.ts';

let broker: TestBroker;
let peer: Server;
let peerPort = 0;
const dataDir = mkdtempSync(join(tmpdir(), 'ioc-agent-'));

beforeAll(async () => {
  broker = await TestBroker.start({ tokens: new Map([['xa-agent/pi-1', 'tok']]) });
  peer = createServer((s) => s.end());
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', () => r()));
  const addr = peer.address();
  peerPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
});

afterAll(async () => {
  await broker.stop();
  await new Promise<void>((r) => peer.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
});

function config() {
  return parseEdgeConfig({
    site: 'xa-agent',
    agent: 'pi-1',
    hub: { url: broker.url, token: 'tok' },
    dataDir,
    batch: { maxPoints: 50, flushIntervalMs: 50 },
    link: { reconnectMinMs: 50, reconnectMaxMs: 200 },
    collectors: [
      { type: 'tcp', name: 'peer', host: '127.0.0.1', port: peerPort, intervalS: 0.1, timeoutMs: 500 },
      { type: 'host', intervalS: 0.2 },
    ],
  });
}

describe('Agent', () => {
  it('collects, batches and delivers valid batches; stop flushes and goes offline; seq survives restart', async () => {
    const agent = new Agent(config(), { agentPointIntervalMs: 100, maxPhaseMs: 20, clockSynced: false });
    await agent.start();
    await agent.start();
    await waitUntil('10 points acknowledged', () => agent.stats().pointsAcked >= 10, 10_000, 10);
    const probe = await agent.probeNow();
    expect(probe.collectors).toBe(2);
    expect(probe.points).toBeGreaterThanOrEqual(2);
    await agent.stop();
    await agent.stop();
    const stats = agent.stats();
    expect(stats.outboxDepth).toBe(0);
    expect(stats.pointsAcked).toBe(stats.pointsCollected);

    const batches = broker.received.filter((r) => r.topic === telemetryTopic('xa-agent', 'pi-1')).map((r) => batchSchema.parse(JSON.parse(r.payload)));
    const points = batches.flatMap((b) => b.points);
    expect(points.some((p) => p.m === 'net_probe' && p.tags?.target === 'peer' && p.fields.up === 1 && p.fields.result === 'ok')).toBe(true);
    expect(points.some((p) => p.m === 'host' && typeof p.fields.mem_pct === 'number')).toBe(true);
    expect(points.some((p) => p.m === 'agent_report' && typeof p.fields.outbox_depth === 'number')).toBe(true);
    const seqs = batches.map((b) => b.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const status = broker.received.filter((r) => r.topic === statusTopic('xa-agent', 'pi-1')).map((r) => statusSchema.parse(JSON.parse(r.payload)));
    expect(status.at(0)?.online).toBe(true);
    expect(status.at(-1)?.online).toBe(false);

    const again = new Agent(config(), { maxPhaseMs: 20 });
    await again.start();
    await waitUntil('a batch acknowledged after the restart', () => again.stats().batchesAcked >= 1, 10_000, 10);
    await again.stop();
    const later = broker.received.filter((r) => r.topic === telemetryTopic('xa-agent', 'pi-1')).map((r) => batchSchema.parse(JSON.parse(r.payload)).seq);
    expect(Math.min(...later.slice(seqs.length))).toBeGreaterThan(Math.max(...seqs));
  });
});
