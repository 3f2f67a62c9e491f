// The local day of a commune office: Vietnam keeps UTC+7 all year (no DST), so a local day is plain
// arithmetic on epoch ms, the same on the agent, the hub and in the dashboards' queries.

export const DAY_MS = 86_400_000;
/** Vietnam's offset from UTC, minutes (Asia/Ho_Chi_Minh, no DST). */
export const VN_UTC_OFFSET_MIN = 420;
/** The IANA name of that zone (Grafana's dashboard time zone, the alert office-hours default). */
export const VN_TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** The local calendar day of `t` as a day number (days since 1970-01-01 local): changes at local midnight. */
export function localDayNumber(t: number, utcOffsetMin = VN_UTC_OFFSET_MIN): number {
  return Math.floor((t + utcOffsetMin * 60_000) / DAY_MS);
}

/** Epoch ms of the local midnight that starts the day of `t`. */
export function localDayStart(t: number, utcOffsetMin = VN_UTC_OFFSET_MIN): number {
  return localDayNumber(t, utcOffsetMin) * DAY_MS - utcOffsetMin * 60_000;
}

export interface LocalTime {
  /** 0 = Sunday. */
  weekday: number;
  /** Minutes since local midnight (fractional). */
  minute: number;
  /** Local calendar day number (for daily resets), as localDayNumber. */
  day: number;
}

export function localTime(t: number, utcOffsetMin = VN_UTC_OFFSET_MIN): LocalTime {
  const d = new Date(t + utcOffsetMin * 60_000);
  return { weekday: d.getUTCDay(), minute: d.getUTCHours() * 60 + d.getUTCMinutes() + d.getUTCSeconds() / 60, day: localDayNumber(t, utcOffsetMin) };
}

/** InfluxQL `GROUP BY` interval of one local day (`time(1d, -7h)`): buckets start at local midnight. */
export function influxLocalDay(utcOffsetMin = VN_UTC_OFFSET_MIN): string {
  return utcOffsetMin % 60 === 0 ? `time(1d, ${-utcOffsetMin / 60}h)` : `time(1d, ${-utcOffsetMin}m)`;
}
