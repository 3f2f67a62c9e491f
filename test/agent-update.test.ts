// Signed agent software updates, end to end: a real hub (testkit/stack.ts, real influxd), 20 real agents installed
// A/B as on a Pi from a real release tarball and run as the systemd unit runs them (through the release's
// launcher, restarted when they exit), and release bundles made from the same tarball with another version.
// 1. a bundle signed with another key is refused by the canary agents before anything is written; the rollout stops;
// 2. a bundle that cannot start is installed on the canary, switched back by the launcher, and stops the rollout;
// 3. a good bundle reaches the canary, then all the others: every agent reports the new version.
// It prints what an update costs: the bundle's bytes and each wave's seconds.
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../testkit/child-process.ts';
import { EdgeUnit, installRelease } from '../testkit/edge-unit.ts';
import { packAgent, restampRelease, type SignedRelease } from '../testkit/release-bundles.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const AGENTS = 20;
const V1 = '1.0.0';
const dir = mkdtempSync(join(tmpdir(), 'ioc-update-'));
let stack: Stack | undefined;
const units: EdgeUnit[] = [];
let bundles: { badSignature: SignedRelease; cannotStart: SignedRelease; good: SignedRelease };
let v1Folder = '';

interface RolloutJson {
  rollout: { id: number; version: string; state: string; wave: number; reason?: string };
  waves: { wave: number; agents: number; done: number; failed: number; pending: number; installing: number; seconds: number | null }[];
  agents: { site: string; agent: string; wave: number; state: string; detail?: string; sentAt?: number; doneAt?: number }[];
}

const wave0Settled = (r: RolloutJson): boolean => r.agents.filter((a) => a.wave === 0).every((a) => a.state === 'done' || a.state === 'failed');

async function hub(args: readonly string[]): Promise<string> {
  if (stack === undefined) throw new Error('no stack');
  const r = await runProgram('ioc-hub', [...args, '--config', stack.hubConfig], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`ioc-hub ${args.join(' ')} → ${String(r.code)}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function rolloutStatus(): Promise<RolloutJson> {
  return JSON.parse(await hub(['release', 'rollout', 'status', '--json'])) as RolloutJson;
}

/** Versions the agents report, from the hub's live view (/api/sites). */
async function versions(): Promise<Map<string, string | null>> {
  if (stack === undefined) throw new Error('no stack');
  const res = await fetch(`${stack.httpUrl}/api/sites`, { headers: { authorization: stack.readAuth }, signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { sites: { slug: string; agents: { agent: string; version: string | null; connected: boolean }[] }[] };
  const out = new Map<string, string | null>();
  for (const s of body.sites) for (const a of s.agents) if (a.connected) out.set(`${s.slug}/${a.agent}`, a.version);
  return out;
}

async function waitRollout(what: string, done: (s: RolloutJson) => boolean, timeoutMs: number): Promise<RolloutJson> {
  let last: RolloutJson | undefined;
  try {
    await waitUntil(what, async () => done((last = await rolloutStatus())), timeoutMs, 1000);
  } catch (err: unknown) {
    throw new Error(`${what}: last status ${JSON.stringify(last, null, 1)?.slice(0, 4000)}\n${tails()}`, { cause: err });
  }
  if (last === undefined) throw new Error('no status');
  return last;
}

function tails(): string {
  return units
    .slice(0, 3)
    .map((u) => `--- ${u.logFile}\n${readFileSync(u.logFile, 'utf8').slice(-2000)}`)
    .join('\n');
}

beforeAll(async () => {
  const out = join(dir, 'bundles');
  mkdirSync(out);
  const base = packAgent({ outDir: join(dir, 'base'), version: V1 });
  // The operator's key pair, made by the CLI; a stranger's key for the forged bundle.
  const keys = join(dir, 'keys');
  const kg = await runProgram('ioc-hub', ['release', 'keygen', '--out-dir', keys]);
  expect(kg.code, kg.stderr).toBe(0);
  const keyPem = readFileSync(join(keys, 'release-signing.key'), 'utf8');
  const publicKey = readFileSync(join(keys, 'release-signing.pub'), 'utf8');
  const stranger = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  bundles = {
    badSignature: restampRelease(base.tarball, { version: '1.1.0-rc.1', outDir: out, keyPem: stranger }),
    // Its agent exits as soon as it loads: the launcher counts the starts and switches back.
    cannotStart: restampRelease(base.tarball, { version: '1.1.0-rc.2', outDir: out, keyPem, mutate: (d) => appendFileSync(join(d, 'edge', 'agent.js'), '\nprocess.exit(3);\n') }),
    good: restampRelease(base.tarball, { version: '1.1.0', outDir: out, keyPem }),
  };
  stack = await startStack({ agents: AGENTS, hubYaml: 'releases:\n  tickMs: 300\n  agentTimeoutS: 240\n' });
  for (const [i, me] of stack.agents.entries()) {
    const root = join(dir, `pi-${i}`, 'opt', 'ioc-edge');
    v1Folder = installRelease(base.tarball, root);
    const config = join(dir, `pi-${i}`, 'agent.yaml');
    writeFileSync(
      config,
      [
        `site: ${me.site}`,
        `agent: ${me.agent}`,
        'hub:',
        `  url: ${stack.mqttUrl}`,
        `  token: ${me.token}`,
        `dataDir: ${join(dir, `pi-${i}`, 'data')}`,
        'batch:',
        '  flushIntervalMs: 200',
        'link:',
        '  reconnectMaxMs: 3000',
        'update:',
        '  healthTimeoutS: 60',
        '  maxAttempts: 2',
        '  publicKey: |',
        ...publicKey.trimEnd().split('\n').map((l) => `    ${l}`),
        'collectors:',
        '  - type: host',
        `    diskPath: ${dir}`,
        '    intervalS: 2',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const unit = new EdgeUnit(root, config, join(dir, `pi-${i}.log`), { restartMs: 1000 });
    units.push(unit);
    unit.start();
  }
  await waitUntil(`${AGENTS} agents connected on ${V1}`, async () => [...(await versions()).values()].filter((v) => v === V1).length === AGENTS, 180_000, 1000);
}, 900_000);

afterAll(async () => {
  await Promise.allSettled(units.map((u) => u.stop()));
  await stack?.stop();
  // 40 installed releases (~3,800 files each): removed without holding the event loop.
  if (process.env.IOC_KEEP_TEST_DIRS === undefined) await rm(dir, { recursive: true, force: true });
}, 900_000);

describe('agent software updates: signed bundles, waves, rollback', () => {
  const canary = (): string[] => (stack?.agents ?? []).slice(0, 2).map((a) => a.site);

  it('a bundle with a bad signature is refused by the canary agents and stops the rollout before wave 1', async () => {
    const added = await hub(['release', 'add', bundles.badSignature.archive]);
    expect(added).toMatch(/^added 1\.1\.0-rc\.1: /);
    await hub(['release', 'rollout', 'start', '--version', '1.1.0-rc.1', '--canary', canary().join(',')]);
    // The first failure stops the rollout (max failures 0); the other canary's answer is recorded as it comes.
    const s = await waitRollout('the forged rollout stopped', (r) => r.rollout.state === 'stopped' && wave0Settled(r), 120_000);
    expect(s.rollout.reason).toMatch(/^wave 0: [12] of 2 agents failed \(more than 0\)$/);
    const wave0 = s.agents.filter((a) => a.wave === 0);
    expect(wave0.map((a) => a.site).sort()).toEqual(canary().sort());
    for (const a of wave0) expect(a).toMatchObject({ state: 'failed', detail: expect.stringMatching(/refused: .*signature .* does not verify/) as unknown as string });
    expect(s.agents.filter((a) => a.wave === 1).every((a) => a.state === 'pending')).toBe(true);
    // Nothing was installed: every agent still runs 1.0.0 from its first folder.
    const v = await versions();
    expect([...v.values()].filter((x) => x === V1).length).toBe(AGENTS);
    for (const u of units) expect(readlinkSync(join(u.root, 'current'))).toBe(v1Folder);
    const m = await (stack as Stack).metrics();
    expect(m.get('ioc_hub_release_bytes_served_total') ?? 0).toBe(0); // refused at the manifest: no archive fetched
  }, 300_000);

  it('a bundle that cannot start is rolled back by the launcher on the canary and stops the rollout', async () => {
    await hub(['release', 'add', bundles.cannotStart.archive]);
    await hub(['release', 'rollout', 'start', '--version', '1.1.0-rc.2', '--canary', canary().join(',')]);
    const s = await waitRollout('the broken rollout stopped', (r) => r.rollout.state === 'stopped' && wave0Settled(r), 300_000);
    const wave0 = s.agents.filter((a) => a.wave === 0);
    for (const a of wave0) expect(a).toMatchObject({ state: 'failed', detail: expect.stringMatching(/^rolled back to 1\.0\.0: did not stay up: 2 starts/) as unknown as string });
    expect(s.agents.filter((a) => a.wave === 1).every((a) => a.state === 'pending')).toBe(true);
    await waitUntil('the canary back on 1.0.0', async () => [...(await versions()).values()].filter((x) => x === V1).length === AGENTS, 60_000, 1000);
    // Installed into slot `a` beside the running folder, switched to, then switched back by the launcher.
    for (const u of units.slice(0, 2)) {
      expect(readlinkSync(join(u.root, 'current'))).toBe(v1Folder);
      expect(JSON.parse(readFileSync(join(u.root, 'a', 'package.json'), 'utf8'))).toMatchObject({ version: '1.1.0-rc.2' });
      expect(JSON.parse(readFileSync(join(u.root, 'update-state.json'), 'utf8'))).toMatchObject({ state: 'rolled-back', version: '1.1.0-rc.2', attempts: 2 });
    }
    for (const u of units.slice(2)) expect(readlinkSync(join(u.root, 'current'))).toBe(v1Folder);
  }, 420_000);

  it('a good bundle reaches the canary, then every other agent, an offline one when it is back: all 20 report 1.1.0', async () => {
    await hub(['release', 'add', bundles.good.archive]);
    // One Pi of wave 1 is off during the rollout.
    const offIndex = AGENTS - 1;
    const off = units[offIndex];
    const offCreds = stack?.agents[offIndex];
    if (off === undefined || offCreds === undefined) throw new Error('no agent to switch off');
    await off.stop();
    await waitUntil('the agent off', async () => !(await versions()).has(`${offCreds.site}/${offCreds.agent}`), 30_000, 500);
    const t0 = Date.now();
    await hub(['release', 'rollout', 'start', '--version', '1.1.0', '--canary', canary().join(',')]);
    const others = await waitRollout('every connected agent updated', (r) => r.rollout.state !== 'running' || r.agents.filter((a) => a.state === 'done').length === AGENTS - 1, 600_000);
    const seconds = (Date.now() - t0) / 1000;
    // Wave 1 is over but for the offline agent: the rollout waits for it, and sends it nothing meanwhile.
    expect(others.rollout.state).toBe('running');
    expect(others.agents.find((a) => a.site === offCreds.site)).toMatchObject({ wave: 1, state: 'pending' });
    const back = new EdgeUnit(off.root, join(dir, `pi-${offIndex}`, 'agent.yaml'), off.logFile, { restartMs: 1000 });
    units[offIndex] = back;
    back.start();
    const s = await waitRollout('the good rollout done', (r) => r.rollout.state !== 'running', 300_000);
    expect(s.rollout.state).toBe('done');
    expect(s.waves.map((w) => [w.wave, w.agents, w.done, w.failed])).toEqual([
      [0, 2, 2, 0],
      [1, AGENTS - 2, AGENTS - 2, 0],
    ]);
    await waitUntil('every agent reports 1.1.0', async () => [...(await versions()).values()].filter((x) => x === '1.1.0').length === AGENTS, 60_000, 1000);
    const text = await hub(['release', 'rollout', 'status']);
    expect(text).toMatch(/^rollout \d+ of 1\.1\.0: done/);
    const audit = readFileSync(join((stack as Stack).dir, 'audit.jsonl'), 'utf8');
    expect(audit.match(/"action":"release\.update".*"outcome":"updated"/g)?.length).toBe(AGENTS);
    expect(audit).toMatch(/"action":"release\.rollout\.start"/);
    const m = await (stack as Stack).metrics();
    const bytes = bundles.good.manifest.size;
    for (const a of s.agents) expect(a.detail).toMatch(/^running 1\.1\.0 \(1 starts; download [\d.]+ s, unpack [\d.]+ s, answered after [\d.]+ s, restart and health check [\d.]+ s\)$/);
    console.log(`per agent (hub's view): ${s.agents.map((a) => `${a.site}: ${a.detail ?? ''}`).join(' | ')}`);
    // Each wave from its first update sent to its last agent committed (the offline agent apart: it came back later).
    const span = (list: typeof s.agents): number => (Math.max(...list.map((a) => a.doneAt ?? 0)) - Math.min(...list.map((a) => a.sentAt ?? Infinity))) / 1000;
    const waveSeconds = [0, 1].map((w) => span(s.agents.filter((a) => a.wave === w && a.site !== offCreds.site)));
    console.log(
      `update cost: bundle ${bytes} bytes (${(bytes / 1024 / 1024).toFixed(2)} MiB) per agent; ${AGENTS} agents: wave 0 (2 agents) ${waveSeconds[0]?.toFixed(1)} s, wave 1 (${AGENTS - 3} agents online) ${waveSeconds[1]?.toFixed(1)} s; ${AGENTS - 1} online agents done ${seconds.toFixed(1)} s after the start; the offline one updated ${span(s.agents.filter((a) => a.site === offCreds.site)).toFixed(1)} s after it was sent the update on its return; archive bytes served in all three rollouts: ${m.get('ioc_hub_release_bytes_served_total') ?? 0}`,
    );
  }, 900_000);
});
