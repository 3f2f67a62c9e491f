import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHILD_LOG_ENV, PROJECT_ROOT, spawnGuarded } from './child-process.ts';

function alive(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(s.slice(s.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** A Node process that starts `sleep` with spawnGuarded, prints its PID and waits (as a vitest worker would). */
function starter(): Promise<{ parent: ReturnType<typeof spawn>; pid: number }> {
  const code = `import { spawnGuarded } from ${JSON.stringify(join(PROJECT_ROOT, 'scripts', 'lib', 'child-process.ts'))};
const c = spawnGuarded('sleep', ['281'], { stdio: 'ignore' });
console.log(c.pid);
setInterval(() => {}, 1000);`;
  // killed on purpose: kept out of the suite's child log (testkit/global-setup.ts)
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env[CHILD_LOG_ENV];
  const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    parent.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve({ parent, pid: Number(out.trim()) });
    });
    parent.once('exit', (c) => reject(new Error(`starter exited with ${c}`)));
  });
}

describe('spawnGuarded', () => {
  it('runs the program itself (not a wrapper) as the leader of its own process group', async () => {
    const child = spawnGuarded('sleep', ['280'], { stdio: 'ignore' });
    try {
      const pid = child.pid ?? 0;
      const argv = (): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000').filter(Boolean);
      await until(() => argv()[0] === 'sleep', 2000); // setpriv has exec'd it
      expect(argv()).toEqual(['sleep', '280']);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])).toBe(pid);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited; // its stop is in the suite's child log before the test ends
    }
  });

  it('the program dies when the process that started it is SIGKILLed (no cleanup code runs there)', async () => {
    const { parent, pid } = await starter();
    try {
      expect(alive(pid)).toBe(true);
      parent.kill('SIGKILL');
      expect(await until(() => !alive(pid), 5000)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  });

  it('reports a missing program as the ENOENT error event, as spawn does', async () => {
    // os-program: none (a program that does not exist, on purpose)
    const child = spawnGuarded('ioc-no-such-program', [], { stdio: 'ignore' });
    const err = await new Promise<unknown>((resolve) => child.once('error', resolve));
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
