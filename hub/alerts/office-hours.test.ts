import { describe, expect, it } from 'vitest';
import { OfficeHours, officeHoursSchema } from './office-hours.ts';

// 2025-06-02 is a Monday. 07:30 in Hanoi is 00:30 UTC.
const at = (iso: string): number => Date.parse(iso);

describe('office hours', () => {
  const oh = new OfficeHours(officeHoursSchema.parse({ holidays: ['2025-09-02'], sites: { 'xa-dem': { mon: '18:00-22:00' } } }));

  it('opens Monday 07:30–11:30 and 13:30–17:00 local time', () => {
    expect(oh.isOpen('xa-a', at('2025-06-02T00:29:00Z'))).toBe(false); // 07:29
    expect(oh.isOpen('xa-a', at('2025-06-02T00:30:00Z'))).toBe(true); // 07:30
    expect(oh.isOpen('xa-a', at('2025-06-02T05:00:00Z'))).toBe(false); // 12:00 lunch
    expect(oh.isOpen('xa-a', at('2025-06-02T07:00:00Z'))).toBe(true); // 14:00
    expect(oh.isOpen('xa-a', at('2025-06-02T10:00:00Z'))).toBe(false); // 17:00
  });

  it('is open Saturday morning only and closed on Sunday and holidays', () => {
    expect(oh.isOpen('xa-a', at('2025-06-07T02:00:00Z'))).toBe(true); // Sat 09:00
    expect(oh.isOpen('xa-a', at('2025-06-07T07:00:00Z'))).toBe(false); // Sat 14:00
    expect(oh.isOpen('xa-a', at('2025-06-08T02:00:00Z'))).toBe(false); // Sun 09:00
    expect(oh.isOpen('xa-a', at('2025-09-02T02:00:00Z'))).toBe(false); // National Day, a Tuesday
  });

  it('uses a site schedule when one is given', () => {
    expect(oh.isOpen('xa-dem', at('2025-06-02T02:00:00Z'))).toBe(false); // Mon 09:00
    expect(oh.isOpen('xa-dem', at('2025-06-02T12:00:00Z'))).toBe(true); // Mon 19:00
  });

  it('uses the local date across UTC midnight', () => {
    expect(oh.local(at('2025-06-01T23:30:00Z'))).toEqual({ date: '2025-06-02', day: 'mon', minute: 6 * 60 + 30 });
  });
});
