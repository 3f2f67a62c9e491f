import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../logger.ts';
import { alive, makeFakeGpiod, pi4LineNames } from '../../../testkit/fake-gpiod.ts';
import { detectGpiodTools, openGpiodPin } from './gpiod-pin.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts an agent-like process that opens GPIO17 through the fake tools; resolves with its pid and its gpiomon's. */
async function agentHoldingALine(setpriv: boolean): Promise<{ agentPid: number; monitorPid: number; cleanup: () => Promise<void> }> {
  // No recording: the gpiomon waits for an edge, as a real one on a quiet door contact does for hours (one that
  // prints would die of the closed pipe at its next line, masking what this tests).
  const fake = await makeFakeGpiod({ version: '1.6.3', chips: { gpiochip0: { label: 'pinctrl-bcm2711', lines: pi4LineNames() } }, setpriv });
  const script = join(fake.dir, 'agent.mts');
  await writeFile(
    script,
    `import { createLineOpener } from ${JSON.stringify(join(here, 'open-line.ts'))};
import { silentLogger } from ${JSON.stringify(join(here, '..', '..', 'logger.ts'))};
const open = createLineOpener({ logger: silentLogger(), devDir: ${JSON.stringify(fake.devDir)}, sysfsDir: '/nonexistent', env: ${JSON.stringify(fake.env)} });
const pin = await open({ chip: undefined, line: 'GPIO17' }, { activeLow: false, bias: 'as-is' });
console.log(JSON.stringify({ pid: (pin as unknown as { pid: number }).pid }));
setInterval(() => undefined, 1000);
`,
  );
  const agent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let line: string;
  try {
    line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: agent.stdout });
      rl.once('line', resolve);
      agent.once('exit', (code) => reject(new Error(`agent exited ${String(code)}`)));
      setTimeout(() => reject(new Error('agent did not start')), 20_000);
    });
  } catch (err: unknown) {
    agent.kill('SIGKILL');
    await fake.cleanup();
    throw err;
  }
  const monitorPid = (JSON.parse(line) as { pid: number }).pid;
  return {
    agentPid: agent.pid ?? 0,
    monitorPid,
    cleanup: async () => {
      for (const pid of [agent.pid ?? 0, monitorPid]) if (alive(pid)) process.kill(pid, 'SIGKILL');
      await fake.cleanup();
    },
  };
}

describe('gpiomon child processes', () => {
  it('an agent killed outright (kill -9) leaves no gpiomon holding the line: setpriv --pdeathsig', { timeout: 30_000 }, async () => {
    const a = await agentHoldingALine(true);
    try {
      expect(alive(a.monitorPid)).toBe(true);
      process.kill(a.agentPid, 'SIGKILL');
      for (let i = 0; i < 250 && alive(a.monitorPid); i++) await sleep(20);
      expect(alive(a.monitorPid)).toBe(false);
    } finally {
      await a.cleanup();
    }
  });

  it('without setpriv the same gpiomon would outlive the agent (what the test above guards against)', { timeout: 30_000 }, async () => {
    const a = await agentHoldingALine(false);
    try {
      process.kill(a.agentPid, 'SIGKILL');
      await sleep(500);
      expect(alive(a.monitorPid)).toBe(true);
    } finally {
      await a.cleanup();
    }
  });
});

describe('edge times', () => {
  it('follow the kernel timestamps, and start anew when the wall clock steps (NTP setting a Pi clock after boot)', { timeout: 20_000 }, async () => {
    const fake = await makeFakeGpiod({
      version: '2.1.3',
      chips: { gpiochip0: { label: 'pinctrl-bcm2711', lines: pi4LineNames() } },
      recordings: { 'gpiochip0:17': fileURLToPath(new URL('./fixtures/gpio-gpiomon-v2-two-edges.txt', import.meta.url)) },
    });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2000-01-01T00:00:00Z'));
      const tools = await detectGpiodTools(fake.env);
      if (!('version' in tools)) throw tools;
      const pin = await openGpiodPin(tools, { chip: 'gpiochip0', line: 17 }, { activeLow: false, bias: 'as-is' }, { logger: silentLogger() });
      const seen: [number, number][] = [];
      pin.watch((v, at) => {
        seen.push([v, at]);
        // NTP sets the clock between the two edges.
        if (seen.length === 1) vi.setSystemTime(new Date('2026-12-01T12:00:00Z'));
      });
      for (let i = 0; i < 200 && seen.length < 2; i++) await sleep(25);
      await pin.close();
      expect(seen.map(([v]) => v)).toEqual([1, 0]);
      expect(new Date(seen[0]?.[1] ?? 0).getUTCFullYear()).toBe(2000);
      // Timed from the new clock, not 600 ms after the old one.
      expect(new Date(seen[1]?.[1] ?? 0).getUTCFullYear()).toBe(2026);
    } finally {
      vi.useRealTimers();
      await fake.cleanup();
    }
  });
});
