import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLOWS_ENV, FlowsEnvError, flowsSettingsFromEnv } from './env.ts';

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const REQUIRED = { NODE_RED_CREDENTIAL_SECRET: 'secret', IOC_NR_MQTT_PASSWORD: 'token' };

describe('the Node-RED service environment', () => {
  it('has defaults for all but the secrets, and IOC_NR_LOG_LEVEL reaches the runtime', () => {
    expect(flowsSettingsFromEnv(REQUIRED)).toEqual({
      runtime: { userDir: '/data', host: '0.0.0.0', port: 1880, credentialSecret: 'secret', mqtt: { host: '127.0.0.1', port: 1883, username: 'service:node-red', password: 'token' }, logLevel: 'warn' },
      notifyFile: undefined,
    });
    const s = flowsSettingsFromEnv({ ...REQUIRED, IOC_NR_LOG_LEVEL: 'debug', IOC_NR_NOTIFY_FILE: '/etc/ioc-flows/notify.yaml', IOC_NR_PORT: '1999' });
    expect(s.runtime).toMatchObject({ logLevel: 'debug', port: 1999 });
    expect(s.notifyFile).toBe('/etc/ioc-flows/notify.yaml');
    expect(() => flowsSettingsFromEnv({ ...REQUIRED, IOC_NR_LOG_LEVEL: 'loud' })).toThrow(FlowsEnvError);
    expect(() => flowsSettingsFromEnv({ NODE_RED_CREDENTIAL_SECRET: 'x' })).toThrow('environment variable IOC_NR_MQTT_PASSWORD is required');
  });

  it('every IOC_NR_* variable the deployment files and docs name has an effect', () => {
    // Read by flows/env.ts, or set by flows/runtime.ts for the ${VAR} references of flows.json and its credentials.
    const effective = new Set([...Object.keys(FLOWS_ENV), 'IOC_NR_MQTT_CLIENT_ID']);
    for (const file of ['docker-compose.yml', '.env.example', 'README.md', 'scripts/demo.ts', 'flows/flows.json', 'flows/runtime.ts', 'flows/main.ts']) {
      for (const [name] of read(file).matchAll(/\bIOC_NR_[A-Z_]+\b/g)) expect(effective.has(name), `${file}: ${name}`).toBe(true);
    }
    // settings.cjs holds only fixed settings: nothing there can be shadowed by the runtime.
    expect(read('flows/settings.cjs')).not.toMatch(/process\.env/);
    // The README names every variable the service reads.
    const readme = read('README.md');
    for (const name of Object.keys(FLOWS_ENV)) expect(readme, name).toContain(name);
  });

  it('IOC_NR_CLOCK gives the runtime a clock that starts at that instant and runs on', async () => {
    const now = flowsSettingsFromEnv({ ...REQUIRED, IOC_NR_CLOCK: '2026-04-20T09:00:00+07:00' }).runtime.now;
    const t0 = now?.() ?? 0;
    expect(Math.abs(t0 - Date.parse('2026-04-20T02:00:00Z'))).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 30));
    expect((now?.() ?? 0) - t0).toBeGreaterThanOrEqual(25);
    expect(flowsSettingsFromEnv(REQUIRED).runtime.now).toBeUndefined();
    expect(() => flowsSettingsFromEnv({ ...REQUIRED, IOC_NR_CLOCK: '2026-04-20 09:00' })).toThrow('IOC_NR_CLOCK must be an ISO instant with its offset');
  });
});
