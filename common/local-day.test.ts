import { describe, expect, it } from 'vitest';
import { DAY_MS, influxLocalDay, localDayNumber, localDayStart, localTime, VN_TIME_ZONE, VN_UTC_OFFSET_MIN } from './local-day.ts';

describe('the Vietnam local day (UTC+7, no DST)', () => {
  it('changes at 17:00 UTC, local midnight', () => {
    const before = Date.UTC(2025, 0, 6, 16, 59, 59, 999);
    const after = Date.UTC(2025, 0, 6, 17, 0, 0, 0);
    expect(localDayNumber(after) - localDayNumber(before)).toBe(1);
    expect(localDayStart(after)).toBe(after);
    expect(localDayStart(before)).toBe(after - DAY_MS);
  });

  it('agrees with the Asia/Ho_Chi_Minh calendar of Intl on every hour of a year (the zone has no DST)', () => {
    const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: VN_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
    const start = Date.UTC(2025, 0, 1);
    for (let t = start; t < start + 366 * DAY_MS; t += 3_600_000 + 61_000) {
      const ymd = new Date(localDayStart(t) + VN_UTC_OFFSET_MIN * 60_000).toISOString().slice(0, 10);
      expect(ymd).toBe(fmt.format(t));
    }
  });

  it('gives the local weekday and minute of the day', () => {
    // Monday 2025-01-06 09:30 in Hanoi.
    expect(localTime(Date.UTC(2025, 0, 6, 2, 30))).toMatchObject({ weekday: 1, minute: 9 * 60 + 30, day: localDayNumber(Date.UTC(2025, 0, 6, 2, 30)) });
    // Sunday 2025-01-05 23:59:30 in Hanoi: still Sunday.
    expect(localTime(Date.UTC(2025, 0, 5, 16, 59, 30))).toMatchObject({ weekday: 0, minute: 23 * 60 + 59.5 });
  });

  it('takes another offset when a config names one', () => {
    expect(localDayStart(Date.UTC(2025, 0, 6, 12), 0)).toBe(Date.UTC(2025, 0, 6));
    expect(localDayNumber(Date.UTC(2025, 0, 6, 23), -60)).toBe(localDayNumber(Date.UTC(2025, 0, 6, 12), -60));
  });

  it('writes the InfluxQL day bucket that starts at local midnight', () => {
    expect(influxLocalDay()).toBe('time(1d, -7h)');
    expect(influxLocalDay(330)).toBe('time(1d, -330m)');
  });
});
