// Debian's Chromium, headless, as a guarded child process of our own (its PID is ours to stop, also on failure),
// driven by playwright-core over CDP: no browser download. Used by the browser tests and by anyone who wants a
// screenshot of the console.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ManagedProcess, spawnGuarded } from './child-process.ts';
import { freePort } from './free-port.ts';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] as const;

export interface RunningChromium {
  browser: Browser;
  process: ManagedProcess;
  /** Closes the CDP connection, stops the process by its PID and removes its profile. Idempotent. */
  stop(): Promise<void>;
}

export async function startChromium(logFile: string): Promise<RunningChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'ioc-chromium-'));
  const port = await freePort();
  const child = spawnGuarded(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-address=127.0.0.1', `--remote-debugging-port=${port}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore'] });
  const proc = new ManagedProcess('chromium', child, logFile, true);
  let browser: Browser | undefined;
  const stop = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    await proc.stop(3000);
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/json/version`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (!proc.running) throw new Error('chromium exited before it listened');
      if (Date.now() > deadline) throw new Error('chromium did not open its debugging port within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { timeout: 30_000 });
  } catch (err: unknown) {
    await stop();
    throw err;
  }
  return { browser, process: proc, stop };
}
