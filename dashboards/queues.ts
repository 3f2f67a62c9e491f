// Một cửa / One-stop queues: people waiting per site, the waiting-time distribution, people served per hour, queue events per hour, counters.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as histogram from '@grafana/grafana-foundation-sdk/histogram';
import {
  DASHBOARDS,
  INFLUX_DS,
  agg,
  autoInterval,
  baseDashboard,
  bilingual,
  influxql,
  officeQueue,
  seriesPanel,
  seriesTarget,
  subquery,
  tablePanel,
  tableTarget,
  timeFilter,
  upToNow,
  placePanels,
} from './common.ts';

const perCounter = ['site', 'agent', 'counter'];

/** The office point's (`counter=all`) mean per bucket, summed over the site's agents (not over its counters: `all` already is their sum). */
function waitingPanel(): cog.Builder<dashboard.Panel> {
  const inner = subquery({ fields: [agg('mean', 'waiting')], from: 'queue', where: [timeFilter(), officeQueue()], groupBy: [autoInterval(), ...perCounter] });
  const q = influxql({ fields: [agg('sum', 'waiting')], from: inner, where: [timeFilter()], groupBy: [autoInterval(), 'site'], fill: 'null' });
  return seriesPanel(bilingual('Người đang chờ theo xã', 'People waiting per site'), [seriesTarget(q, 'A', '$tag_site')], { unit: 'none', siteLinks: true, min: 0 });
}

/** 5-minute mean expected waiting time of every site, as a distribution. */
function waitDistribution(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('mean', 'avg_wait_s', 'wait_s')], from: 'queue', where: [timeFilter(), '"waiting" > 0'], groupBy: ['time(5m)', 'site'], fill: 'none' });
  return new histogram.PanelBuilder()
    .title(bilingual('Phân bố thời gian chờ', 'Waiting-time distribution'))
    .description('Trung bình 5 phút mỗi xã khi có người chờ / 5-minute means per site while people wait')
    .datasource(INFLUX_DS)
    .targets([tableTarget(q)])
    .unit('s')
    .bucketSize(300)
    .legend(new common.VizLegendOptionsBuilder().showLegend(false).displayMode(common.LegendDisplayMode.Hidden).placement(common.LegendPlacement.Bottom))
    .overrideByName('Time', [{ id: 'custom.hideFrom', value: { viz: true, legend: true, tooltip: true } }])
    .height(8)
    .span(12);
}

/**
 * served_total is cumulative per counter and resets at local midnight: per-hour increase of each office point
 * (`counter=all`; the counters' own points would count every person twice), resets dropped. Grouped by
 * province and district: a registry with districts gets one series per district; one without (the 2025 list, no
 * `area` tag) gets one series for its province.
 */
function servedPerHour(): cog.Builder<dashboard.Panel> {
  const inner = subquery({ fields: ['non_negative_difference(last("served_total")) AS "served"'], from: 'queue', where: [timeFilter(), officeQueue()], groupBy: ['time(1h)', ...perCounter, 'province', 'area'] });
  const q = influxql({ fields: [agg('sum', 'served')], from: inner, where: [timeFilter()], groupBy: ['time(1h)', 'province', 'area'], fill: '0' });
  return seriesPanel(bilingual('Hồ sơ đã phục vụ mỗi giờ (theo huyện, hoặc tỉnh khi không có huyện)', 'Served per hour (by district, or province without districts)'), [seriesTarget(q, 'A', '$tag_province $tag_area')], { unit: 'none', bars: true }).interval('1h');
}

/** queue_event points (issued/called/served/skipped, sent by the edge as they happen) per type and hour, all sites. */
function eventsPerHour(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('count', 'number', 'events')], from: 'queue_event', where: [timeFilter()], groupBy: ['time(1h)', 'type'], fill: '0' });
  return seriesPanel(bilingual('Sự kiện phiếu mỗi giờ (theo loại)', 'Queue events per hour (by type)'), [seriesTarget(q, 'A', '$tag_type')], { unit: 'none', bars: true }).interval('1h');
}

function countersTable(): cog.Builder<dashboard.Panel> {
  const q = influxql({
    fields: [agg('last', 'waiting'), agg('last', 'issued_total', 'issued'), agg('last', 'served_total', 'served'), agg('last', 'current_number', 'current'), agg('last', 'avg_wait_s')],
    from: 'queue',
    where: [timeFilter(), upToNow()],
    groupBy: ['site', 'counter'],
  });
  return tablePanel(bilingual('Quầy', 'Counters'), [tableTarget(q)], { siteLinks: true, span: 24 }).overrideByName('avg_wait_s', [{ id: 'unit', value: 's' }]);
}

export function queuesDashboard(): dashboard.Dashboard {
  const d = baseDashboard(DASHBOARDS.queues, bilingual('Một cửa', 'One-stop queues'), { from: 'now-12h', refresh: '1m' });
  placePanels(d, [waitingPanel(), waitDistribution(), servedPerHour(), eventsPerHour(), countersTable()]);
  return d.build();
}
