import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoLockedError, acquireDemoLock, demoStateDir } from './demo-state.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-demo-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo state dir', () => {
  it('is under XDG_STATE_HOME (or ~/.local/state), one per checkout, never inside it; IOC_DEMO_DIR overrides', () => {
    expect(demoStateDir('/src/ioc-edge', { XDG_STATE_HOME: '/x/state' })).toMatch(/^\/x\/state\/ioc-edge\/demo\/[0-9a-f]{12}$/);
    expect(demoStateDir('/src/ioc-edge', { HOME: '/home/an' })).toMatch(/^\/home\/an\/\.local\/state\/ioc-edge\/demo\/[0-9a-f]{12}$/);
    expect(demoStateDir('/src/a', { HOME: '/h' })).not.toBe(demoStateDir('/src/b', { HOME: '/h' }));
    expect(demoStateDir('/src/a', { HOME: '/h', XDG_STATE_HOME: 'relative' })).toMatch(/^\/h\/\.local\/state\//); // XDG: relative paths are ignored
    expect(demoStateDir('/src/a', { IOC_DEMO_DIR: '/tmp/mine' })).toBe('/tmp/mine');
  });
});

describe('demo lock', () => {
  it('is a 0600 pid file taken with O_EXCL, refused while its demo lives, released on stop', () => {
    // a live "demo": its command line names demo, as `tsx scripts/demo.ts` does
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'demo'], { stdio: 'ignore' });
    try {
      const pid = holder.pid ?? 0;
      const theirs = acquireDemoLock(dir, pid);
      expect(readFileSync(theirs.path, 'utf8')).toBe(`${pid}\n`);
      expect(statSync(theirs.path).mode & 0o777).toBe(0o600);
      expect(() => acquireDemoLock(dir)).toThrow(DemoLockedError);
      expect(() => acquireDemoLock(dir)).toThrow(new RegExp(`another demo \\(pid ${pid}\\) is running on ${dir}: stop it first .*kill ${pid}`));
      theirs.release();
      expect(existsSync(theirs.path)).toBe(false);
      const mine = acquireDemoLock(dir);
      expect(mine.staleFrom).toBeUndefined();
      mine.release();
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over the lock of a dead demo, and of a pid now used by another program, and says whose', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    writeFileSync(join(dir, 'demo.pid'), `${deadPid}\n`);
    const lock = acquireDemoLock(dir);
    expect(lock.staleFrom).toBe(deadPid);
    expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    // pid 1 is alive but is not a demo
    writeFileSync(join(dir, 'demo.pid'), '1\n');
    const again = acquireDemoLock(dir);
    expect(again.staleFrom).toBe(1);
    again.release();
  });

  it('refuses an empty lock file younger than 5 s (a demo between its create and its write)', () => {
    writeFileSync(join(dir, 'demo.pid'), '');
    expect(() => acquireDemoLock(dir)).toThrow(DemoLockedError);
    rmSync(join(dir, 'demo.pid'));
  });
});
