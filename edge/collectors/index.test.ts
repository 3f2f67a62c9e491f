import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { COLLECTOR_PLUGINS, COLLECTOR_TYPES, collectorConfigSchema, collectorLabel, createCollector } from './index.ts';

// One minimal entry per type: what a config file would hold.
const MINIMAL: Record<string, Record<string, unknown>> = {
  tcp: { host: 'hub', port: 8883 },
  http: { url: 'https://portal.example/' },
  dns: { query: 'portal.example' },
  icmp: { host: 'gateway' },
  host: {},
  net_iface: {},
  uplink: {},
  queue: { http: false },
  display: { display: 'tv-1', host: '10.0.0.9' },
  modbus: { transport: { kind: 'tcp', host: '10.0.0.5' }, devices: [{ name: 'ups-1', profile: 'generic-ups' }] },
  gpio: { inputs: [{ line: 'GPIO17', name: 'door' }] },
};

describe('the collector plugin list', () => {
  it('is the one source of the config union, the factory and the labels', () => {
    expect(COLLECTOR_TYPES).toEqual(['tcp', 'http', 'dns', 'icmp', 'host', 'net_iface', 'uplink', 'queue', 'display', 'modbus', 'gpio']);
    expect(new Set(COLLECTOR_TYPES).size).toBe(COLLECTOR_PLUGINS.length);
    expect(Object.keys(MINIMAL).sort()).toEqual([...COLLECTOR_TYPES].sort());
    const labels: string[] = [];
    for (const plugin of COLLECTOR_PLUGINS) {
      const raw = { type: plugin.type, ...MINIMAL[plugin.type] };
      const config = collectorConfigSchema.parse(raw);
      // The union parses an entry exactly as the plugin's own schema does (defaults included).
      expect(config, plugin.type).toEqual(plugin.configSchema.parse(raw));
      labels.push(collectorLabel(config));
      const collector = createCollector(config, { logger: silentLogger() });
      expect(typeof collector.gather, plugin.type).toBe('function');
    }
    expect(labels).toEqual(['tcp:hub:8883', 'http:https://portal.example/', 'dns:portal.example', 'icmp:gateway', 'host', 'net_iface', 'uplink', 'queue:127.0.0.1:8090', 'display:tv-1', 'modbus:10.0.0.5:502', 'gpio:door']);
    expect(collectorLabel(collectorConfigSchema.parse({ type: 'host', name: 'pi' }))).toBe('host:pi');
  });

  it('refuses a type no plugin has, naming the known ones', () => {
    const r = collectorConfigSchema.safeParse({ type: 'snmp', host: 'x' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('type');
  });

  it('every plugin declares what it writes', () => {
    for (const plugin of COLLECTOR_PLUGINS) expect(plugin.writes.length, plugin.type).toBeGreaterThan(0);
  });
});
