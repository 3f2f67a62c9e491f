// Test access to a real influxd: one per test file, on a free port with a temp folder.
export { InfluxdProcess, type InfluxQueryResponse, type InfluxSeries } from '../scripts/lib/influxd-process.ts';
import type { InfluxdProcess } from '../scripts/lib/influxd-process.ts';

/** First column-value of the first row of the first series, or undefined. */
export async function scalar(influx: InfluxdProcess, q: string, db = 'ioc'): Promise<unknown> {
  const body = await influx.query(q, db);
  const r = body.results[0];
  if (r?.error !== undefined) throw new Error(r.error);
  return r?.series?.[0]?.values?.[0]?.[1];
}
