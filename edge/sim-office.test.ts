import { describe, expect, it } from 'vitest';
import { pointSchema } from '../protocol/index.ts';
import { SimOffice } from './sim-office.ts';

describe('SimOffice events and new collectors', () => {
  it('keeps pointsPerTick exact and sends discrete events apart', () => {
    const office = new SimOffice('xa-bon', 5);
    const self = { uptime_s: 0, outbox_depth: 0, dropped_total: 0 };
    const events = new Set<string>();
    for (let m = 0; m < 24 * 60; m += 1) {
      const pts = office.tick(Date.UTC(2025, 0, 6, 0, m), 60_000, self); // Monday, from 07:00 Hanoi
      expect(pts).toHaveLength(office.pointsPerTick);
      for (const p of office.takeEvents()) {
        expect(pointSchema.safeParse(p).success).toBe(true);
        expect(p.m.endsWith('_event')).toBe(true);
        events.add(`${p.m}:${p.tags?.type ?? p.tags?.name ?? ''}`);
      }
    }
    expect([...events]).toEqual(expect.arrayContaining(['queue_event:issued', 'queue_event:called', 'gpio_event:door']));
    const last = office.tick(Date.UTC(2025, 0, 7, 2, 30), 60_000, self);
    expect(last.find((p) => p.m === 'uplink')?.fields).toMatchObject({ uplink: expect.stringMatching(/^(fibre|4g|none)$/) });
    expect(last.filter((p) => p.m === 'gpio').map((p) => p.tags?.name)).toEqual(['door', 'mains']);
  });
});
