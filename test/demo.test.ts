// The README's first command, shortened: the demo starts everything, data becomes queryable, it stops cleanly.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../scripts/lib/child-process.ts';

describe('npm run demo', () => {
  it('starts influxd, the hub, simulated offices and a real agent, prints live lines, and stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-demo-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'demo.ts'), '--sites', '5', '--interval-ms', '1000', '--duration', '12', '--data-dir', dir], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(out).toMatch(/InfluxDB\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toMatch(/MQTT broker\s+mqtt:\/\/127\.0\.0\.1:\d+/);
      expect(out).toMatch(/Node-RED\s+http:\/\/127\.0\.0\.1:\d+\/alerts/);
      const firstPoints = /first points queryable in InfluxDB after ([\d.]+) s/.exec(out);
      expect(firstPoints, out).not.toBeNull();
      expect(Number(firstPoints?.[1])).toBeLessThan(30);
      const lines = [...out.matchAll(/agents online (\d+)\/6 · received (\d+) points .* stored (\d+) · rejected (\d+)/g)];
      expect(lines.length).toBeGreaterThanOrEqual(2);
      const lastLine = lines.at(-1);
      expect(Number(lastLine?.[1])).toBe(6);
      expect(Number(lastLine?.[2])).toBeGreaterThan(0);
      expect(Number(lastLine?.[4])).toBe(0);
      for (const part of ['ioc-edge run', 'ioc-edge simulate', 'node-red', 'mail sink', 'ioc-hub start', 'influxd']) expect(out).toContain(`stopped ${part}`);
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
