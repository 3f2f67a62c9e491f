// Vietnam's public holidays (Labour Code 2019, art. 112) as local dates (UTC+7), with the lunar ones (Tết,
// the Hùng Kings' day) from the Vietnamese lunar calendar, and the government's yearly swaps as configuration.
//
// The statutory days, year by year:
// - Tết Dương lịch: 1 January.
// - Tết Nguyên đán: 5 days. The law gives the number, the government picks them each year; its usual choice, kept
//   here, is the last day of the lunar year (30 Tháng Chạp, or 29 when Tháng Chạp is short) and 1–4 Tháng Giêng:
//   the day before lunar New Year and the four days from it. (Computed as the day before lunar 1/1, which is by
//   definition the last day of the year, whatever Tháng Chạp's length.)
// - Giỗ Tổ Hùng Vương: 10 Tháng Ba (lunar; the ordinary month, not a leap one).
// - Ngày Chiến thắng 30/4 and Quốc tế Lao động 1/5.
// - Quốc khánh: 2/9 and one adjacent day (1/9 or 3/9), picked as the government usually does (`nationalDayAdjacent`).
// - A statutory day that falls on a weekly rest day (`restDays`) is made up on the next working day (art. 112(3)).
// What the government announces beyond that (a swapped working Saturday, a longer Tết) goes into `extra` and `removed`.
import { LunarDate } from '@nghiavuive/lunar_date_vi';
import { z } from 'zod';
import { DAY_MS, localDayNumber, VN_UTC_OFFSET_MIN } from './local-day.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a local date YYYY-MM-DD');

export const holidayCalendarSchema = z.strictObject({
  /** The statutory holidays above; false: only `extra` (and the fixed dates of whoever embeds this). */
  statutory: z.boolean().default(true),
  /**
   * Weekly rest days: a statutory holiday on one of them is made up on the next day that is neither a rest day
   * nor a holiday. One-stop offices work Saturday mornings: only Sunday by default.
   */
  restDays: z.array(z.enum(WEEKDAYS)).default(['sun']),
  /** Which day goes with 2/9: `auto` follows the usual choice (the one that joins a weekend; see `nationalDayPair`). */
  nationalDayAdjacent: z.enum(['auto', 'before', 'after']).default('auto'),
  /** Days off the government adds in a given year (a swap, a longer Tết), local dates. */
  extra: z.array(isoDate).default([]),
  /** Days of the rules above that the government moved elsewhere that year, local dates. */
  removed: z.array(isoDate).default([]),
});
export type HolidayCalendarConfig = z.output<typeof holidayCalendarSchema>;
export type HolidayCalendarInput = z.input<typeof holidayCalendarSchema>;

export interface Holiday {
  /** Local date, YYYY-MM-DD. */
  date: string;
  name: { vi: string; en: string };
  /** `compensation`: made up for a statutory day on a rest day; `extra`: from the configuration. */
  kind: 'statutory' | 'compensation' | 'extra';
}

/** The day number (days since 1970-01-01) of a civil date. */
function dayOf(year: number, month: number, day: number): number {
  return Math.round(Date.UTC(year, month - 1, day) / DAY_MS);
}

/** YYYY-MM-DD of a day number. */
export function isoOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The local date (YYYY-MM-DD, UTC+7 unless told) of an instant. */
export function localIsoDate(t: number, utcOffsetMin = VN_UTC_OFFSET_MIN): string {
  return isoOfDay(localDayNumber(t, utcOffsetMin));
}

/** The solar day number of a lunar date (ordinary month) of the Vietnamese calendar. */
export function lunarToDay(lunar: { day: number; month: number; year: number }): number {
  const l = new LunarDate({ ...lunar, leap_month: false });
  l.init();
  const s = l.toSolarDate().get();
  return dayOf(s.year, s.month, s.day);
}

/** Which of 1/9 or 3/9 goes with National Day, as the government usually picks: the one that makes a long weekend. */
export function nationalDayPair(year: number, choice: HolidayCalendarConfig['nationalDayAdjacent'] = 'auto'): number {
  const national = dayOf(year, 9, 2);
  if (choice === 'before') return national - 1;
  if (choice === 'after') return national + 1;
  // 2/9 on Monday (1/9 is Sunday), Thursday (3/9 is Friday) or Sunday: 3/9; otherwise 1/9 (Tue → Mon, Wed → Tue,
  // Fri → Thu, Sat → Fri). 2021 (Thu): 2–3/9; 2022 (Fri): 1–2/9; 2024 (Mon): 2–3/9; 2025 (Tue): 1–2/9.
  const weekday = new Date(national * DAY_MS).getUTCDay();
  return weekday === 1 || weekday === 4 || weekday === 0 ? national + 1 : national - 1;
}

/** The statutory holidays of a (solar) year, in date order, without compensation or configuration. */
export function statutoryHolidays(year: number, nationalDayAdjacent: HolidayCalendarConfig['nationalDayAdjacent'] = 'auto'): Holiday[] {
  const out: { day: number; name: Holiday['name'] }[] = [];
  out.push({ day: dayOf(year, 1, 1), name: { vi: 'Tết Dương lịch', en: "New Year's Day" } });
  // Tết of this solar year, and the one of the next lunar year when its eve falls in this year (never so far, but
  // the rule is about dates, not years).
  for (const lunarYear of [year, year + 1]) {
    const newYear = lunarToDay({ day: 1, month: 1, year: lunarYear });
    out.push({ day: newYear - 1, name: { vi: 'Tết Nguyên đán (ngày cuối năm)', en: 'Lunar New Year (last day of the year)' } });
    for (let i = 0; i < 4; i++) out.push({ day: newYear + i, name: { vi: `Tết Nguyên đán (mùng ${i + 1})`, en: `Lunar New Year (day ${i + 1})` } });
  }
  out.push({ day: lunarToDay({ day: 10, month: 3, year }), name: { vi: 'Giỗ Tổ Hùng Vương (10/3 âm lịch)', en: "Hùng Kings' Commemoration (10th day of the 3rd lunar month)" } });
  out.push({ day: dayOf(year, 4, 30), name: { vi: 'Ngày Chiến thắng', en: 'Reunification Day' } });
  out.push({ day: dayOf(year, 5, 1), name: { vi: 'Ngày Quốc tế Lao động', en: 'International Labour Day' } });
  out.push({ day: dayOf(year, 9, 2), name: { vi: 'Quốc khánh', en: 'National Day' } });
  out.push({ day: nationalDayPair(year, nationalDayAdjacent), name: { vi: 'Quốc khánh (ngày liền kề)', en: 'National Day (adjacent day)' } });
  const first = dayOf(year, 1, 1);
  const last = dayOf(year, 12, 31);
  return out
    .filter((h) => h.day >= first && h.day <= last)
    .sort((a, b) => a.day - b.day)
    .map((h) => ({ date: isoOfDay(h.day), name: h.name, kind: 'statutory' as const }));
}

/** The holidays of a configuration, year by year (computed once a year, then looked up by date). */
export class HolidayCalendar {
  private readonly years = new Map<number, ReadonlyMap<string, Holiday>>();
  private readonly rest: ReadonlySet<number>;

  constructor(private readonly config: Readonly<Omit<HolidayCalendarConfig, 'restDays' | 'extra' | 'removed'>> & { readonly restDays: readonly Weekday[]; readonly extra: readonly string[]; readonly removed: readonly string[] }) {
    this.rest = new Set(config.restDays.map((d) => WEEKDAYS.indexOf(d)));
  }

  /** The holiday on a local date (YYYY-MM-DD), if any. */
  on(date: string): Holiday | undefined {
    const year = Number(date.slice(0, 4));
    if (!Number.isInteger(year)) return undefined;
    return this.year(year).get(date);
  }

  /** The holiday at an instant (its local date in UTC+7 unless told). */
  at(t: number, utcOffsetMin = VN_UTC_OFFSET_MIN): Holiday | undefined {
    return this.on(localIsoDate(t, utcOffsetMin));
  }

  /** Every holiday of a year, in date order. */
  list(year: number): Holiday[] {
    return [...this.year(year).values()].sort((a, b) => a.date.localeCompare(b.date));
  }

  private year(year: number): ReadonlyMap<string, Holiday> {
    const cached = this.years.get(year);
    if (cached !== undefined) return cached;
    const days = new Map<string, Holiday>();
    if (this.config.statutory) {
      // No statutory day is late enough in the year for its make-up day to spill into the next one.
      const statutory = statutoryHolidays(year, this.config.nationalDayAdjacent);
      for (const h of statutory) days.set(h.date, h);
      for (const h of statutory) {
        const day = Math.round(Date.parse(`${h.date}T00:00:00Z`) / DAY_MS);
        if (!this.rest.has(new Date(day * DAY_MS).getUTCDay())) continue;
        let make = day + 1;
        while (this.rest.has(new Date(make * DAY_MS).getUTCDay()) || days.has(isoOfDay(make))) make++;
        const date = isoOfDay(make);
        days.set(date, { date, name: { vi: `Nghỉ bù ${h.name.vi}`, en: `In lieu of ${h.name.en}` }, kind: 'compensation' });
      }
    }
    for (const date of this.config.removed) if (date.startsWith(`${year}-`)) days.delete(date);
    for (const date of this.config.extra) if (date.startsWith(`${year}-`)) days.set(date, { date, name: { vi: 'Ngày nghỉ theo thông báo', en: 'Day off as announced' }, kind: 'extra' });
    if (this.years.size > 200) this.years.clear();
    this.years.set(year, days);
    return days;
  }
}
