// Kết nối / Connectivity: latency, loss and up/down per site, uptime over the range and per month (1h rollups).
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DASHBOARDS,
  RP,
  agg,
  autoInterval,
  baseDashboard,
  bilingual,
  influxql,
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

/** Long range from the 1h rollups (mean of the hourly means); 30-day buckets over the last year. */
function monthlyUptime(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('mean', 'mean_up', 'uptime_pct', 100)], from: 'net_probe', rp: RP.rollup1h, where: [timeFilter(), targetFilter()], groupBy: ['time(30d)', ...perSite], fill: 'none' });
  return seriesPanel(bilingual('Tỉ lệ hoạt động theo tháng (30 ngày, dữ liệu 1 giờ)', 'Uptime per month (1h rollups)'), [seriesTarget(q, 'A', '$tag_site')], { unit: 'percent', siteLinks: true, bars: false, min: 0, max: 100 })
    .timeFrom('365d');
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
  placePanels(d, [rttPanel(), lossPanel(), upTimeline(), uptimeTable(), monthlyUptime(), rttLongRange()]);
  return d.build();
}
