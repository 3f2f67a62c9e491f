// The sample notify file parses, and the retry and watchdog settings take their defaults.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readYamlFile } from '../../common/yaml-config.ts';
import { notifyConfigSchema } from './notify-config.ts';

describe('notify config', () => {
  it('parses flows/samples/notify.yaml', () => {
    const { doc } = readYamlFile(fileURLToPath(new URL('../samples/notify.yaml', import.meta.url)));
    const c = notifyConfigSchema.parse(doc);
    expect(c.retry).toMatchObject({ maxAge: 6 * 3_600_000, minDelay: 5000, maxDelay: 300_000, maxQueued: 10_000 });
    expect(c.watchdog.webhook).toBe('https://hc-ping.example.vn/ioc-notify');
  });

  it('defaults: retried up to 6 h, 5 s to 5 min apart; no heartbeat recipient', () => {
    const c = notifyConfigSchema.parse({});
    expect(c.retry).toMatchObject({ maxAge: 6 * 3_600_000, minDelay: 5000, maxDelay: 300_000, concurrency: 4 });
    expect(c.watchdog).toEqual({ email: [], maxAge: 600_000 });
    expect(() => notifyConfigSchema.parse({ retry: { maxAge: 'soon' } })).toThrow();
  });
});
