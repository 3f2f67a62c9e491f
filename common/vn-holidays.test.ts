import { describe, expect, it } from 'vitest';
import { LunarDate, SolarDate } from '@nghiavuive/lunar_date_vi';
import { HolidayCalendar, holidayCalendarSchema, localIsoDate, lunarToDay, nationalDayPair, statutoryHolidays, isoOfDay } from './vn-holidays.ts';

const calendar = (input: Parameters<typeof holidayCalendarSchema.parse>[0] = {}): HolidayCalendar => new HolidayCalendar(holidayCalendarSchema.parse(input));
const dates = (year: number, c = calendar()): string[] => c.list(year).map((h) => `${h.date} ${h.kind}`);

/** Lunar New Year by ICU's Chinese calendar (UTC+8 astronomy), for a cross-check from a second implementation. */
function icuNewYear(year: number): string {
  const fmt = new Intl.DateTimeFormat('en-u-ca-chinese', { timeZone: 'UTC', month: 'numeric', day: 'numeric' });
  for (let t = Date.UTC(year, 0, 15); t < Date.UTC(year, 2, 1); t += 86_400_000) {
    const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, x.value]));
    if (p.month === '1' && p.day === '1') return new Date(t).toISOString().slice(0, 10);
  }
  throw new Error(`no new year in ${year}`);
}

describe('the Vietnamese lunar holidays', () => {
  it('puts Tết and the Hùng Kings’ day on their published dates', () => {
    // Published calendars (the government's holiday notices and the lunar calendars printed in Vietnam).
    const tet: Record<number, string> = { 2021: '2021-02-12', 2022: '2022-02-01', 2023: '2023-01-22', 2024: '2024-02-10', 2025: '2025-01-29', 2026: '2026-02-17', 2027: '2027-02-06', 2028: '2028-01-26' };
    const hung: Record<number, string> = { 2020: '2020-04-02', 2023: '2023-04-29', 2024: '2024-04-18', 2025: '2025-04-07', 2026: '2026-04-26', 2027: '2027-04-16' };
    for (const [y, d] of Object.entries(tet)) expect(isoOfDay(lunarToDay({ day: 1, month: 1, year: Number(y) }))).toBe(d);
    for (const [y, d] of Object.entries(hung)) expect(isoOfDay(lunarToDay({ day: 10, month: 3, year: Number(y) }))).toBe(d);
  });

  it('agrees with ICU’s Chinese calendar on Tết in 2008–2060 except where the two time zones (UTC+7, UTC+8) part', () => {
    const differ: Record<number, string> = {};
    for (let y = 2008; y <= 2060; y++) {
      const vn = isoOfDay(lunarToDay({ day: 1, month: 1, year: y }));
      const cn = icuNewYear(y);
      if (vn !== cn) differ[y] = `${vn} ${cn}`;
    }
    // Two years part by one day, Vietnam's the earlier: years whose new moon falls close to midnight, where
    // UTC+7 and UTC+8 (and ICU's approximation of the Chinese calendar) disagree. Vietnam's 2027 Tết is 6 February.
    expect(differ).toEqual({ 2027: '2027-02-06 2027-02-07', 2053: '2053-02-18 2053-02-19' });
  });

  it('takes Tết’s five days from the last day of the lunar year, 30 or 29 Tháng Chạp', () => {
    const tet = (y: number): string[] => statutoryHolidays(y).filter((h) => h.name.en.startsWith('Lunar')).map((h) => h.date);
    expect(tet(2026)).toEqual(['2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20']);
    expect(tet(2027)).toEqual(['2027-02-05', '2027-02-06', '2027-02-07', '2027-02-08', '2027-02-09']);
    expect(tet(2024)).toEqual(['2024-02-09', '2024-02-10', '2024-02-11', '2024-02-12', '2024-02-13']);
    // The eve is the last day of Tháng Chạp, whichever its length (29 in Ất Tỵ, 30 in Quý Mão).
    for (const [y, last] of [[2026, 29], [2024, 30]] as const) {
      const [d, m, yy] = tet(y)[0]?.split('-').reverse().map(Number) ?? [];
      const l = new SolarDate({ day: d ?? 0, month: m ?? 0, year: yy ?? 0 }).toLunarDate().get();
      expect({ day: l.day, month: l.month }).toEqual({ day: last, month: 12 });
    }
    expect(() => new LunarDate({ day: 30, month: 12, year: 2025 }).init()).toThrow(); // Tháng Chạp of Ất Tỵ is short
  });
});

describe('the statutory calendar', () => {
  it('lists 2026: New Year, Tết, Hùng Kings on a Sunday made up on Monday, 30/4, 1/5, 1–2/9', () => {
    expect(dates(2026)).toEqual([
      '2026-01-01 statutory',
      '2026-02-16 statutory',
      '2026-02-17 statutory',
      '2026-02-18 statutory',
      '2026-02-19 statutory',
      '2026-02-20 statutory',
      '2026-04-26 statutory', // Sunday
      '2026-04-27 compensation',
      '2026-04-30 statutory',
      '2026-05-01 statutory',
      '2026-09-01 statutory',
      '2026-09-02 statutory',
    ]);
    expect(calendar().on('2026-04-27')?.name.vi).toBe('Nghỉ bù Giỗ Tổ Hùng Vương (10/3 âm lịch)');
  });

  it('makes up a Tết day on Sunday after the last day of Tết (2027: 7 Feb → 10 Feb)', () => {
    expect(dates(2027).filter((d) => d.startsWith('2027-02'))).toEqual(['2027-02-05 statutory', '2027-02-06 statutory', '2027-02-07 statutory', '2027-02-08 statutory', '2027-02-09 statutory', '2027-02-10 compensation']);
    // Offices closed on Saturday too: Saturday's day is made up as well, after Sunday's.
    const weekend = calendar({ restDays: ['sat', 'sun'] });
    expect(dates(2027, weekend).filter((d) => d.startsWith('2027-02'))).toEqual(['2027-02-05 statutory', '2027-02-06 statutory', '2027-02-07 statutory', '2027-02-08 statutory', '2027-02-09 statutory', '2027-02-10 compensation', '2027-02-11 compensation']);
  });

  it('pairs National Day with the day the government usually picks, or the one configured', () => {
    const pair = (y: number, c?: 'before' | 'after'): string => isoOfDay(nationalDayPair(y, c));
    expect([2021, 2022, 2024, 2025].map((y) => pair(y))).toEqual(['2021-09-03', '2022-09-01', '2024-09-03', '2025-09-01']);
    expect(pair(2026, 'after')).toBe('2026-09-03');
    expect(dates(2026, calendar({ nationalDayAdjacent: 'after' })).filter((d) => d.includes('-09-'))).toEqual(['2026-09-02 statutory', '2026-09-03 statutory']);
  });

  it('applies the government’s swaps of a year: extra days off and removed ones', () => {
    const c = calendar({ extra: ['2026-02-14', '2026-02-21'], removed: ['2026-04-27'] });
    expect(c.on('2026-02-14')).toMatchObject({ kind: 'extra' });
    expect(c.on('2026-04-27')).toBeUndefined();
    expect(c.on('2025-02-14')).toBeUndefined();
    expect(calendar({ statutory: false, extra: ['2026-01-02'] }).list(2026).map((h) => h.date)).toEqual(['2026-01-02']);
  });

  it('looks an instant up by its local date in UTC+7', () => {
    const c = calendar();
    expect(c.at(Date.parse('2026-04-29T16:59:59Z'))).toBeUndefined(); // 23:59:59 on 29/4 in Hanoi
    expect(c.at(Date.parse('2026-04-29T17:00:00Z'))?.name.en).toBe('Reunification Day'); // 00:00 on 30/4
    expect(localIsoDate(Date.parse('2026-02-16T18:00:00Z'))).toBe('2026-02-17');
  });
});
