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

  it('is closed on the lunar holidays and the other public holidays of the calendar, open again after them', () => {
    const cal = new OfficeHours(officeHoursSchema.parse({}));
    // 09:00 local (02:00 UTC) on working days that are holidays in 2026.
    for (const d of ['2026-01-01', '2026-02-16', '2026-02-20', '2026-04-27', '2026-04-30', '2026-05-01', '2026-09-01', '2026-09-02']) {
      expect(cal.isOpen('xa-a', at(`${d}T02:00:00Z`)), d).toBe(false);
    }
    // Tết 2026 is 17/2 (a Tuesday); the Hùng Kings' day (10/3 lunar) is Sunday 26/4, made up on Monday 27/4.
    expect(cal.isHoliday('2026-02-17')).toBe(true);
    expect(cal.isOpen('xa-a', at('2026-02-23T02:00:00Z'))).toBe(true); // Monday after Tết
    expect(cal.isOpen('xa-a', at('2026-04-28T02:00:00Z'))).toBe(true); // Tuesday after the make-up day
  });

  it('keeps fixed dates beside the calendar, and a calendar switched off closes only on them', () => {
    const fixed = new OfficeHours(officeHoursSchema.parse({ holidays: ['2026-03-10'], calendar: { statutory: false, extra: ['2026-03-11'] } }));
    expect(fixed.isOpen('xa-a', at('2026-03-10T02:00:00Z'))).toBe(false);
    expect(fixed.isOpen('xa-a', at('2026-03-11T02:00:00Z'))).toBe(false);
    expect(fixed.isOpen('xa-a', at('2026-04-30T02:00:00Z'))).toBe(true);
  });
});
