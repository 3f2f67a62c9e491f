// The suite's last check (testkit/global-setup.ts + testkit/leak-check.ts) sees a leaked process — also one
// orphaned to PID 1 — kills it and fails the run with a non-zero exit.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHILD_LOG_ENV, PROJECT_ROOT } from '../testkit/child-process.ts';
import { describeUnstopped, findMarkedProcesses, isRunnerProcess, reapLeftovers, unstoppedChildren } from '../testkit/leak-check.ts';

const MARKER = 'IOC_LEAK_PROBE';

async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (s.slice(s.lastIndexOf(')') + 2).startsWith('Z')) return true; // dead, not yet reaped by its new parent
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('leak check', () => {
  it('finds a process carrying the run marker, and kills it', async () => {
    const run = randomUUID();
    const child = spawn('sleep', ['271'], { stdio: 'ignore', env: { ...process.env, [MARKER]: run } });
    try {
      const found = findMarkedProcesses(run, { marker: MARKER });
      expect(found.map((p) => [p.pid, p.cmdline])).toEqual([[child.pid, 'sleep 271']]);
      expect(findMarkedProcesses(randomUUID(), { marker: MARKER })).toEqual([]);
      const exited = new Promise((r) => child.once('exit', r));
      const reaped = await reapLeftovers(run, { marker: MARKER, graceMs: 0 });
      expect(reaped.map((p) => p.pid)).toEqual([child.pid]);
      await exited;
      expect(findMarkedProcesses(run, { marker: MARKER })).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('finds a grandchild orphaned when its parent died (parent PID 1), as a dead worker leaves its servers', async () => {
    const run = randomUUID();
    // a parent that starts `sleep` in its own group and exits at once, leaving it to PID 1
    const parent = spawn(process.execPath, ['-e', "const c = require('node:child_process').spawn('sleep', ['272'], { stdio: 'ignore', detached: true }); c.unref(); console.log(c.pid)"], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, [MARKER]: run },
    });
    let out = '';
    parent.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await new Promise((r) => parent.once('close', r));
    const pid = Number(out.trim());
    try {
      const found = findMarkedProcesses(run, { marker: MARKER });
      expect(found.map((p) => p.cmdline)).toEqual(['sleep 272']);
      expect(found[0]?.pid).toBe(pid);
      expect(found[0]?.ppid).not.toBe(process.pid);
      expect(found[0]?.pgid).toBe(pid);
      expect((await reapLeftovers(run, { marker: MARKER, graceMs: 0 })).map((p) => p.pid)).toEqual([pid]);
      expect(await waitGone(pid)).toBe(true);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('a server whose starter is SIGKILLed dies with it, and the child log shows it was never stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-leak-log-'));
    const log = join(dir, 'children.log');
    const code = `import { spawnGuarded } from ${JSON.stringify(join(PROJECT_ROOT, 'scripts', 'lib', 'child-process.ts'))};
const stopped = spawnGuarded('sleep', ['274'], { stdio: 'ignore' });
stopped.once('exit', () => {
  const kept = spawnGuarded('sleep', ['275'], { stdio: 'ignore' });
  console.log(kept.pid);
});
stopped.kill('SIGTERM');
setInterval(() => {}, 1000);`;
    const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_LOG_ENV]: log };
    const starter = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'], env });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        starter.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim())));
        starter.once('exit', () => reject(new Error('starter ended early')));
      });
      expect(unstoppedChildren(readFileSync(log, 'utf8')).map((c) => c.pid)).toEqual([pid]);
      starter.kill('SIGKILL'); // as a worker dies: no code of it runs any more
      expect(await waitGone(pid)).toBe(true);
      const unstopped = unstoppedChildren(readFileSync(log, 'utf8'));
      expect(unstopped).toEqual([{ pid, parent: starter.pid, command: 'sleep 275' }]);
      expect(describeUnstopped(unstopped)).toBe(`  pid ${pid} (started by pid ${starter.pid}, which ended without stopping it): sleep 275`);
    } finally {
      starter.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not count vitest itself: its main process and the workers directly under it', () => {
    const main = 1000;
    expect(isRunnerProcess({ pid: main, ppid: 1, pgid: main, state: 'S', cmdline: 'node vitest run' }, main)).toBe(true);
    expect(isRunnerProcess({ pid: 1001, ppid: main, pgid: main, state: 'S', cmdline: 'node /x/node_modules/vitest/dist/workers/forks.js' }, main)).toBe(true);
    expect(isRunnerProcess({ pid: 1002, ppid: 1001, pgid: 1002, state: 'S', cmdline: 'influxd -config /tmp/x/influxd.conf' }, main)).toBe(false);
    expect(isRunnerProcess({ pid: 1003, ppid: 1, pgid: 1003, state: 'S', cmdline: 'node /x/node_modules/vitest/dist/workers/forks.js' }, main)).toBe(false);
  });

  it('fails the run (exit 1) and names the process when a test leaves one behind', async () => {
    const fixture = join(PROJECT_ROOT, 'testkit', 'fixtures', 'leak');
    const env: NodeJS.ProcessEnv = { ...process.env, IOC_LEAK_SLEEP_S: '276' };
    for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === CHILD_LOG_ENV) delete env[k];
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', join(fixture, 'vitest.config.ts')], {
      cwd: fixture,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    const leaked = Number(/leaked pid (\d+)/.exec(out)?.[1]);
    const unstopped = Number(/unstopped pid (\d+)/.exec(out)?.[1]);
    expect(out).toMatch(/2 passed/);
    expect(out).toMatch(new RegExp(`1 process\\(es\\) started by the tests were still running after the suite \\(killed now\\):\\n\\s+pid ${leaked} .*: sleep 276\\n`));
    expect(out).toMatch(new RegExp(`1 server\\(s\\) started by the tests were never stopped by them .*:\\n\\s+pid ${unstopped} \\(started by pid \\d+, which ended without stopping it\\): sleep 277\\n`));
    expect(code).toBe(1);
    expect(await waitGone(leaked)).toBe(true);
    expect(await waitGone(unstopped)).toBe(true);
  }, 60_000);
});
