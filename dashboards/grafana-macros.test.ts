import { describe, expect, it } from 'vitest';
import { interpolateInfluxQL, rangeStart, timeFilterFor } from './grafana-macros.ts';

const now = Date.UTC(2025, 0, 15, 3, 0, 0); // 10:00 in Vietnam
const ctx = { from: 'now-6h', interval: '10s', vars: { site: 'phuong-tich-son', target: 'hub' }, now };

describe('interpolateInfluxQL', () => {
  it('replaces $timeFilter and $__timeFilter with a relative range', () => {
    expect(interpolateInfluxQL('SELECT 1 FROM m WHERE $timeFilter AND $__timeFilter', ctx)).toBe('SELECT 1 FROM m WHERE time >= now() - 6h AND time >= now() - 6h');
  });

  it('replaces interval macros, $__interval_ms before $__interval', () => {
    expect(interpolateInfluxQL('GROUP BY time($__interval), time($interval) -- $__interval_ms', ctx)).toBe('GROUP BY time(10s), time(10s) -- 10000');
  });

  it('replaces every variable syntax, also inside a regex literal', () => {
    const q = `"site" =~ /^$site$/ AND "site" = '\${site}' AND "site" = '[[site]]' AND "target" =~ /^\${target:regex}$/`;
    expect(interpolateInfluxQL(q, ctx)).toBe(`"site" =~ /^phuong-tich-son$/ AND "site" = 'phuong-tich-son' AND "site" = 'phuong-tich-son' AND "target" =~ /^hub$/`);
  });

  it('escapes regex metacharacters with :regex', () => {
    expect(interpolateInfluxQL('/^${v:regex}$/', { ...ctx, vars: { v: 'a.b/c' } })).toBe('/^a\\.b\\/c$/');
  });

  it('turns now/d into the local (UTC+7) midnight as absolute times', () => {
    const start = rangeStart({ ...ctx, from: 'now/d' });
    expect(new Date(start).toISOString()).toBe('2025-01-14T17:00:00.000Z');
    expect(timeFilterFor({ ...ctx, from: 'now/d' })).toBe(`time >= ${start}ms and time <= ${now}ms`);
  });

  it('gives the range and its bounds', () => {
    expect(interpolateInfluxQL('$__range $__range_s $__from $__to', ctx)).toBe(`21600s 21600 ${now - 21_600_000} ${now}`);
  });

  it('refuses an unknown variable rather than sending it to InfluxDB', () => {
    expect(() => interpolateInfluxQL('WHERE "x" = $nope', ctx)).toThrow(/unknown Grafana variable \$nope/);
  });
});
