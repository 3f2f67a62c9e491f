import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, makeFakeGpiod, pi4LineNames } from './fake-gpiod.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const recording = fileURLToPath(new URL('../collectors/fixtures/gpio-gpiomon-v1-door.txt', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts an agent-like process that opens GPIO17 through the fake tools; resolves with its pid and its gpiomon's. */
async function agentHoldingALine(setpriv: boolean): Promise<{ agentPid: number; monitorPid: number; cleanup: () => Promise<void> }> {
  const fake = await makeFakeGpiod({ version: '1.6.3', chips: { gpiochip0: { label: 'pinctrl-bcm2711', lines: pi4LineNames() } }, recordings: { 'gpiochip0:17': recording }, setpriv });
  const script = join(fake.dir, 'agent.mts');
  await writeFile(
    script,
    `import { createLineOpener } from ${JSON.stringify(join(here, 'open-line.ts'))};
import { silentLogger } from ${JSON.stringify(join(here, '..', 'logger.ts'))};
const open = createLineOpener({ logger: silentLogger(), devDir: ${JSON.stringify(fake.devDir)}, sysfsDir: '/nonexistent', env: ${JSON.stringify(fake.env)} });
const pin = await open({ chip: undefined, line: 'GPIO17' }, { activeLow: false, bias: 'as-is' });
console.log(JSON.stringify({ pid: (pin as unknown as { pid: number }).pid }));
setInterval(() => undefined, 1000);
`,
  );
  const agent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: agent.stdout });
    rl.once('line', resolve);
    agent.once('exit', (code) => reject(new Error(`agent exited ${String(code)}`)));
    setTimeout(() => reject(new Error('agent did not start')), 20_000);
  });
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
      for (let i = 0; i < 100 && alive(a.monitorPid); i++) await sleep(20);
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
