// Hostile: unauthenticated sockets that declare 256 MiB CONNECTs and stream them, and sockets that never
// send a CONNECT. The hub must refuse them from the fixed header (and the CONNECT timeout), its memory
// must stay flat, and a well-behaved agent beside them must keep landing every point.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { metricValue, openRaw, rssMiB, streamPartialConnect, tryConnect } from '../../testkit/raw-mqtt.ts';
import { agentIdentity } from '../../protocol/index.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { waitUntil } from '../../testkit/wait.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 3, mqttLines: ['connectTimeoutMs: 2000'] });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

function hubPid(): number {
  const pid = stack.hub.pid;
  if (pid === undefined) throw new Error('hub has no pid');
  return pid;
}

it('three sockets streaming unfinished 256 MiB CONNECTs are cut at the fixed header; RSS stays flat', async () => {
  const agent = stack.agents[0];
  if (agent === undefined) throw new Error('no agent');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent });
  await new Promise((r) => setTimeout(r, 1000));
  const before = rssMiB(hubPid());
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(hubPid()));
  }, 50);
  const attackers = await Promise.all([0, 1, 2].map(() => openRaw(stack.mqttPort)));
  const written = await Promise.all(attackers.map((a) => streamPartialConnect(a, 256 * 1024 * 1024)));
  await new Promise((r) => setTimeout(r, 1000));
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB(hubPid()));
  const r = await b.finish();
  for (const a of attackers) a.socket.destroy();
  console.log(`hub RSS before ${before.toFixed(0)} MiB, peak during attack ${peak.toFixed(0)} MiB (+${(peak - before).toFixed(0)}); bytes written per socket: ${written.join(', ')}`);
  expect(attackers.every((a) => a.isClosed())).toBe(true);
  expect(peak - before).toBeLessThan(48);
  expect(await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="packet_too_large"')).toBeGreaterThanOrEqual(3);
  expect(bystanderProblems(r, 500)).toEqual([]);
}, 60_000);

it('sockets that never send a CONNECT are closed after mqtt.connectTimeoutMs', async () => {
  const agent = stack.agents[1];
  if (agent === undefined) throw new Error('no agent');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent });
  const before = await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="connect_timeout"');
  const started = Date.now();
  // Slow-loris: 20 sockets, each dribbling one byte of a small CONNECT now and then, never finishing it.
  const lorises = await Promise.all(Array.from({ length: 20 }, () => openRaw(stack.mqttPort)));
  for (const l of lorises) l.socket.write(Buffer.from([0x10, 0x40])); // a CONNECT of 64 bytes…
  const drip = setInterval(() => {
    for (const l of lorises) if (!l.isClosed()) l.socket.write(Buffer.from([0x00])); // …one byte at a time
  }, 500);
  try {
    await waitUntil('every slow socket closed', async () => lorises.every((l) => l.isClosed()), 10_000, 100);
  } finally {
    clearInterval(drip);
  }
  const elapsed = Date.now() - started;
  const r = await b.finish();
  expect(elapsed).toBeGreaterThanOrEqual(1500);
  expect(elapsed).toBeLessThan(6000);
  expect((await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="connect_timeout"')) - before).toBeGreaterThanOrEqual(20);
  expect(bystanderProblems(r, 500)).toEqual([]);
}, 30_000);

it('an authenticated agent declaring a 256 MiB PUBLISH is cut at its header too (limit 2 × maxPayloadBytes + 1 KiB)', async () => {
  const [attacker, bystanderAgent] = [stack.agents[2], stack.agents[0]];
  if (attacker === undefined || bystanderAgent === undefined) throw new Error('no agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const id = agentIdentity(attacker.site, attacker.agent);
  const { code, raw } = await tryConnect(stack.mqttPort, id, id, attacker.token);
  expect(code).toBe(0);
  const before = rssMiB(hubPid());
  const refusedBefore = await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="packet_too_large"');
  // PUBLISH QoS 1 fixed header declaring 256 MiB, then filler
  const header = Buffer.from([0x32, 0xff, 0xff, 0xff, 0x7f]);
  raw.socket.write(header);
  const filler = Buffer.alloc(64 * 1024, 0x61);
  for (let i = 0; i < 64 && !raw.isClosed(); i++) if (!raw.socket.write(filler)) await Promise.race([new Promise((r) => raw.socket.once('drain', r)), raw.closed]);
  await Promise.race([raw.closed, new Promise((r) => setTimeout(r, 3000))]);
  const after = rssMiB(hubPid());
  raw.socket.destroy();
  const r = await b.finish();
  expect(raw.isClosed()).toBe(true);
  expect(after - before).toBeLessThan(32);
  expect((await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="packet_too_large"')) - refusedBefore).toBe(1);
  expect(bystanderProblems(r, 500)).toEqual([]);
}, 30_000);
