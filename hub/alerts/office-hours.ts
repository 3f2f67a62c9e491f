// Office hours per site (Mon–Sat schedules, holidays) in the province's time zone (Asia/Ho_Chi_Minh). Holidays: the
// Vietnamese public-holiday calendar (common/vn-holidays.ts: Tết and the Hùng Kings' day by the lunar calendar) plus
// fixed dates.
import { z } from 'zod';
import { VN_TIME_ZONE } from '../../common/local-day.ts';
import { HolidayCalendar, holidayCalendarSchema } from '../../common/vn-holidays.ts';
import type { DeepReadonly } from '../../common/deep-freeze.ts';

type Day = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';

const rangesSchema = z
  .string()
  .regex(/^(|\d{2}:\d{2}-\d{2}:\d{2}(,\d{2}:\d{2}-\d{2}:\d{2})*)$/, 'ranges such as 07:30-11:30,13:30-17:00 (empty: closed)');

const weekSchema = z.strictObject({
  mon: rangesSchema.optional(),
  tue: rangesSchema.optional(),
  wed: rangesSchema.optional(),
  thu: rangesSchema.optional(),
  fri: rangesSchema.optional(),
  sat: rangesSchema.optional(),
  sun: rangesSchema.optional(),
});

const WEEKDAY = '07:30-11:30,13:30-17:00';

export const officeHoursSchema = z.strictObject({
  timezone: z.string().default(VN_TIME_ZONE),
  /** One-stop offices work Monday to Friday and Saturday morning. */
  default: weekSchema.default({ mon: WEEKDAY, tue: WEEKDAY, wed: WEEKDAY, thu: WEEKDAY, fri: WEEKDAY, sat: '07:30-11:30', sun: '' }),
  /** Per-site schedule replacing the default (days not given are closed). */
  sites: z.record(z.string(), weekSchema).default({}),
  /** More dates (YYYY-MM-DD, local) when every office is closed, beside the calendar's. */
  holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]),
  /** The public holidays (statutory days, make-up days, the year's swaps): every office is closed. */
  calendar: holidayCalendarSchema.prefault({}),
});
export type OfficeHoursConfig = z.output<typeof officeHoursSchema>;

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

export class OfficeHours {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly holidays: ReadonlySet<string>;
  private readonly calendar: HolidayCalendar;

  constructor(private readonly config: DeepReadonly<OfficeHoursConfig>) {
    this.fmt = new Intl.DateTimeFormat('en-CA', { timeZone: config.timezone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    this.holidays = new Set(config.holidays);
    this.calendar = new HolidayCalendar(config.calendar);
  }

  /** Local date, weekday and minute of day at `at`. */
  local(at: number): { date: string; day: Day; minute: number } {
    const parts: Record<string, string> = {};
    for (const p of this.fmt.formatToParts(new Date(at))) parts[p.type] = p.value;
    const day = (parts.weekday ?? 'Sun').toLowerCase().slice(0, 3) as Day;
    return { date: `${parts.year}-${parts.month}-${parts.day}`, day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
  }

  /** A local date (YYYY-MM-DD) every office is closed. */
  isHoliday(date: string): boolean {
    return this.holidays.has(date) || this.calendar.on(date) !== undefined;
  }

  isOpen(site: string, at: number): boolean {
    const { date, day, minute } = this.local(at);
    if (this.isHoliday(date)) return false;
    const week = this.config.sites[site] ?? this.config.default;
    const ranges = week[day] ?? '';
    if (ranges === '') return false;
    return ranges.split(',').some((r) => {
      const [from, to] = r.split('-');
      return from !== undefined && to !== undefined && minute >= minutes(from) && minute < minutes(to);
    });
  }
}
