import { describe, expect, it } from 'vitest';
import { applyContract, checkAgentPoint, HUB_MEASUREMENTS, MEASUREMENTS, STORED_AS, storedMeasurement, type MeasurementSpec, type Point } from './index.ts';

const NOW = 1_800_000_000_000;
const window = { min: NOW - 90 * 86_400_000, max: NOW + 600_000 };
const p = (over: Partial<Point>): Point => ({ m: 'host', t: NOW, fields: { cpu_pct: 1 }, ...over });

describe('the agent data contract', () => {
  it('accepts what the edge writes', () => {
    expect(checkAgentPoint(p({}), window)).toBeUndefined();
    expect(checkAgentPoint(p({ m: 'net_probe', tags: { target: 'hub', method: 'tcp' }, fields: { up: 1, rtt_ms: 3, result: 'ok' } }), window)).toBeUndefined();
    expect(checkAgentPoint(p({ m: 'equipment', tags: { device: 'ups-1', kind: 'ups' }, fields: { battery_pct: 90, my_custom_register: 3 } }), window)).toBeUndefined();
    expect(checkAgentPoint(p({ m: 'agent_report', fields: { uptime_s: 5, outbox_depth: 0, dropped_total: 0 } }), window)).toBeUndefined();
    expect(checkAgentPoint(p({ m: 'queue_event', tags: { counter: 'a', type: 'called' }, fields: { number: 12 } }), window)).toBeUndefined();
    expect(checkAgentPoint(p({ m: 'display', tags: { display: 'tv' }, fields: { result: 'Màn hình ổn' } }), window)).toBeUndefined();
  });

  it('refuses the hub’s own measurements, `agent` included (the self-report is `agent_report`)', () => {
    expect(HUB_MEASUREMENTS).toEqual(['agent', 'alert', 'delivery', 'site_info']);
    expect(checkAgentPoint(p({ m: 'alert', tags: { rule: 'x', severity: 'critical' }, fields: { state: 'firing' } }), window)).toBe('hub_measurement');
    expect(checkAgentPoint(p({ m: 'delivery', fields: { late_points: 1 } }), window)).toBe('hub_measurement');
    expect(checkAgentPoint(p({ m: 'site_info', fields: { lat: 1 } }), window)).toBe('hub_measurement');
    expect(checkAgentPoint(p({ m: 'agent', fields: { online: false } }), window)).toBe('hub_measurement');
    expect(checkAgentPoint(p({ m: 'agent', fields: { uptime_s: 1, clock_offset_ms: 0 } }), window)).toBe('hub_measurement');
    expect(checkAgentPoint(p({ m: 'agent', fields: { uptime_s: 1 } }), window)).toBe('hub_measurement');
    expect(checkAgentPoint(p({ m: 'agent', fields: { uptime_s: 1, outbox_depth: 0, dropped_total: 0 } }), window)).toBe('hub_measurement');
    expect(checkAgentPoint(p({ m: 'agent_report', fields: { online: false } }), window)).toBe('unknown_field');
    expect(checkAgentPoint(p({ m: 'agent_report', fields: { uptime_s: 1, clock_offset_ms: 0 } }), window)).toBe('unknown_field');
  });

  it('stores `agent_report` as `agent`, every other measurement under its own name', () => {
    expect(storedMeasurement('agent_report')).toBe('agent');
    for (const m of ['host', 'net_probe', 'agent', 'alert', 'cpu', '__proto__', 'constructor', 'toString']) expect(storedMeasurement(m)).toBe(m);
    const specs: Readonly<Record<string, MeasurementSpec>> = MEASUREMENTS;
    for (const [from, to] of Object.entries(STORED_AS)) {
      const src = specs[from];
      const dst = specs[to];
      if (src === undefined || dst === undefined) throw new Error(`${from} → ${to}: not declared`);
      // An agent measurement mapped onto a hub one: same tags, and every field declared there with the same type.
      expect(src.owner, from).toBe('agent');
      expect(dst.owner, to).toBe('hub');
      expect(dst.tags, `${from} → ${to}`).toEqual(src.tags);
      for (const [field, type] of Object.entries(src.fields)) expect(dst.fields[field], `${from}.${field} → ${to}`).toBe(type);
    }
  });

  it('refuses unknown measurements, tags and fields, and a field of another type', () => {
    expect(checkAgentPoint(p({ m: 'cpu' }), window)).toBe('unknown_measurement');
    expect(checkAgentPoint(p({ tags: { target: 'x' } }), window)).toBe('unknown_tag');
    expect(checkAgentPoint(p({ fields: { cpu_pct: 1, bogus: 2 } }), window)).toBe('unknown_field');
    expect(checkAgentPoint(p({ fields: { cpu_pct: 'high' } }), window)).toBe('field_type');
    expect(checkAgentPoint(p({ m: 'net_probe', fields: { up: true } }), window)).toBe('field_type');
    expect(checkAgentPoint(p({ m: 'equipment', fields: { my_register: 'text' } }), window)).toBe('field_type');
    expect(checkAgentPoint(p({ fields: { cpu_pct: Number.POSITIVE_INFINITY } }), window)).toBe('not_finite');
  });

  it('refuses a tag value ending in a backslash (line protocol 1.x cannot carry it)', () => {
    for (const v of ['gw\\', '\\', 'a\\\\', 'a b\\']) expect(checkAgentPoint(p({ m: 'net_probe', tags: { target: v }, fields: { up: 1 } }), window), v).toBe('tag_escape');
    for (const v of ['back\\slash', '\\x', 'a\\"b', 'a\\ b', 'a\\,site=x', 'a\\=b']) expect(checkAgentPoint(p({ m: 'net_probe', tags: { target: v }, fields: { up: 1 } }), window), v).toBeUndefined();
    // String fields are quoted: a backslash anywhere is written escaped and stored as sent.
    expect(checkAgentPoint(p({ m: 'net_probe', tags: { target: 'a' }, fields: { up: 1, result: 'ends in \\' } }), window)).toBeUndefined();
  });

  it('refuses control characters in tag values and string fields (a newline would start a new line-protocol line)', () => {
    expect(checkAgentPoint(p({ m: 'net_probe', tags: { target: 'a\nalert,site=x state="firing"' }, fields: { up: 1 } }), window)).toBe('control_char');
    expect(checkAgentPoint(p({ m: 'net_probe', tags: { target: 'a\u0000' }, fields: { up: 1 } }), window)).toBe('control_char');
    expect(checkAgentPoint(p({ m: 'net_probe', tags: { target: 'a' }, fields: { result: 'x\ry' } }), window)).toBe('control_char');
    expect(checkAgentPoint(p({ m: 'net_probe', tags: { target: 'x'.repeat(300) }, fields: { up: 1 } }), window)).toBe('too_long');
  });

  it('refuses readings outside the time window, per point: the rest of the batch goes on', () => {
    const points = [p({}), p({ t: NOW + 86_400_000 }), p({ t: NOW + 700_000 }), p({ t: NOW - 100 * 86_400_000 }), p({ t: NOW + 599_000 })];
    const out = applyContract(points, window);
    expect(out.accepted.map((x) => x.t)).toEqual([NOW, NOW + 599_000]);
    expect(Object.fromEntries(out.refused)).toEqual({ clock_future: 2, clock_past: 1 });
    expect(out.clockRefused).toEqual({ future: 2, past: 1, minT: NOW - 100 * 86_400_000, maxT: NOW + 86_400_000 });
  });

  it('declares one type for every field, and tags site and agent on every agent measurement', () => {
    for (const [m, spec] of Object.entries(MEASUREMENTS)) {
      for (const type of Object.values(spec.fields)) expect(['number', 'boolean', 'string'], m).toContain(type);
      if (spec.owner === 'agent') expect(spec.tags.slice(0, 2), m).toEqual(['site', 'agent']);
    }
  });
});
