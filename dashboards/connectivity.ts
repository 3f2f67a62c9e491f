// Kết nối / Connectivity: latency, loss and up/down per site, uptime over the range and per calendar month (1h rollups),
// the active uplink of every office (on 4G since …) and interface errors.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as table from '@grafana/grafana-foundation-sdk/table';
import {
  DASHBOARDS,
  RP,
  agg,
  autoInterval,
  baseDashboard,
  bilingual,
  influxql,
  ifaceIncreaseSubquery,
  uplinkQuery,
  UPLINK_OVERRIDES,
  localDay,
  methodFilter,
  seriesPanel,
  seriesTarget,
  tablePanel,
  tableTarget,
  targetFilter,
  targetVariable,
  thresholds,
  timeFilter,
  timelinePanel,
  upDownMappings,
  placePanels,
} from './common.ts';

const perSite = ['site'];

function rttPanel(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('mean', 'rtt_ms')], from: 'net_probe', where: [timeFilter(), targetFilter()], groupBy: [autoInterval(), ...perSite], fill: 'null' });
  return seriesPanel(bilingual('Độ trễ theo xã ($target)', 'Latency per site'), [seriesTarget(q, 'A', '$tag_site')], { unit: 'ms', siteLinks: true });
}

function lossPanel(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('mean', 'loss_pct')], from: 'net_probe', where: [timeFilter(), methodFilter('icmp')], groupBy: [autoInterval(), ...perSite], fill: 'null' });
  return seriesPanel(bilingual('Mất gói (ICMP) theo xã', 'Packet loss per site (ICMP)'), [seriesTarget(q, 'A', '$tag_site')], { unit: 'percent', siteLinks: true, min: 0, max: 100 });
}

function upTimeline(): cog.Builder<dashboard.Panel> {
  // min(): a bucket with any failed probe shows as down.
  const q = influxql({ fields: [agg('min', 'up')], from: 'net_probe', where: [timeFilter(), targetFilter()], groupBy: [autoInterval(), ...perSite], fill: 'null' });
  return timelinePanel(bilingual('Trạng thái kết nối ($target)', 'Up / down per site'), seriesTarget(q, 'A', '$tag_site'), upDownMappings(), [[null, 'red'], [1, 'green']]);
}

function uptimeTable(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('mean', 'up', 'uptime_pct', 100), agg('count', 'up', 'probes')], from: 'net_probe', where: [timeFilter(), targetFilter()], groupBy: perSite });
  return tablePanel(bilingual('Tỉ lệ hoạt động trong khoảng thời gian', 'Uptime % over the range'), [tableTarget(q)], { siteLinks: true })
    .overrideByName('uptime_pct', [
      { id: 'unit', value: 'percent' },
      { id: 'decimals', value: 2 },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ])
    .thresholds(thresholds([[null, 'red'], [95, 'orange'], [99, 'green']]))
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('uptime_pct').desc(false)]);
}

/**
 * Uptime per calendar month in Vietnam (UTC+7) over the last year, from the 1h rollups. InfluxQL's GROUP BY time()
 * has no calendar months (time(30d) bins count from the epoch and cross month ends), so the query sums the hourly
 * means per local day (`time(1d, -7h)`: day bins start at local midnight) and Grafana groups those days by their
 * month in the dashboard's time zone: the month's uptime is its up-hours over its hours, every hour weighing the same.
 */
function monthlyUptime(): cog.Builder<dashboard.Panel> {
  const q = influxql({
    fields: [agg('sum', 'mean_up', 'up_hours'), agg('count', 'mean_up', 'hours')],
    from: 'net_probe',
    rp: RP.rollup1h,
    where: [timeFilter(), targetFilter()],
    groupBy: [localDay(), ...perSite],
    fill: 'none',
  });
  return tablePanel(bilingual('Tỉ lệ hoạt động theo tháng (giờ Việt Nam, dữ liệu 1 giờ)', 'Uptime per calendar month (UTC+7, 1h rollups)'), [tableTarget(q)], { siteLinks: true })
    .timeFrom('365d')
    .transformations(MONTHLY_TRANSFORMATIONS)
    .overrideByName('Time', [{ id: 'custom.hidden', value: false }, { id: 'displayName', value: 'Tháng / Month' }])
    .overrideByName(MONTH_UPTIME, [
      { id: 'unit', value: 'percentunit' },
      { id: 'decimals', value: 2 },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ])
    .thresholds(thresholds([[null, 'red'], [0.95, 'orange'], [0.99, 'green']]));
}

const MONTH_UPTIME = 'uptime';
/** Day rows → one row per (local month, site): merge the sites' frames, label each day with its month, sum, divide. */
export const MONTHLY_TRANSFORMATIONS: { id: string; options: Record<string, unknown> }[] = [
  { id: 'merge', options: {} },
  { id: 'formatTime', options: { timeField: 'Time', outputFormat: 'YYYY-MM', useTimezone: true } },
  {
    id: 'groupBy',
    options: {
      fields: {
        Time: { aggregations: [], operation: 'groupby' },
        site: { aggregations: [], operation: 'groupby' },
        up_hours: { aggregations: ['sum'], operation: 'aggregate' },
        hours: { aggregations: ['sum'], operation: 'aggregate' },
      },
    },
  },
  { id: 'calculateField', options: { mode: 'binary', binary: { left: 'up_hours (sum)', operator: '/', right: 'hours (sum)' }, alias: MONTH_UPTIME } },
  { id: 'organize', options: { excludeByName: { 'up_hours (sum)': true, 'hours (sum)': true } } },
];

/** Which link each office is on ("4G since 09:12"), the ones on the 4G backup first. */
function uplinkTable(): table.PanelBuilder {
  const p = tablePanel(bilingual('Đường truyền đang dùng', 'Active uplink per site'), [tableTarget(uplinkQuery())], { siteLinks: true })
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Đường truyền / Link').desc(true)]);
  for (const [name, props] of UPLINK_OVERRIDES) p.overrideByName(name, props);
  return p;
}

/** Interface errors and drops over the range per site and interface (increase of the kernel counters). */
function ifaceErrorsTable(): table.PanelBuilder {
  const q = influxql({ fields: [agg('sum', 'errors'), agg('sum', 'drops')], from: ifaceIncreaseSubquery('time(5m)'), where: [timeFilter()], groupBy: ['site', 'iface'] });
  return tablePanel(bilingual('Lỗi và gói bị bỏ trên giao diện mạng', 'Interface errors and drops'), [tableTarget(q)], { siteLinks: true })
    .thresholds(thresholds([[null, 'green'], [1, 'orange'], [100, 'red']]))
    .overrideByName('errors', [{ id: 'custom.cellOptions', value: { type: 'color-background' } }])
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('errors').desc(true)]);
}

/** Long range latency from the 1m rollups. */
function rttLongRange(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('mean', 'mean_rtt_ms', 'rtt_ms')], from: 'net_probe', rp: RP.rollup1m, where: [timeFilter(), targetFilter()], groupBy: [autoInterval(), ...perSite], fill: 'null' });
  return seriesPanel(bilingual('Độ trễ 30 ngày (dữ liệu 1 phút)', 'Latency, last 30 days (1m rollups)'), [seriesTarget(q, 'A', '$tag_site')], { unit: 'ms', siteLinks: true })
    .timeFrom('30d')
    .interval('1h');
}

export function connectivityDashboard(): dashboard.Dashboard {
  const d = baseDashboard(DASHBOARDS.connectivity, bilingual('Kết nối', 'Connectivity'), { from: 'now-24h', refresh: '1m' }).withVariable(targetVariable());
  placePanels(d, [rttPanel(), lossPanel(), upTimeline(), uptimeTable(), monthlyUptime(), rttLongRange(), uplinkTable(), ifaceErrorsTable()]);
  return d.build();
}
