// Chi tiết xã / Site detail: everything about one commune office, chosen with the `site` variable.
// Every other dashboard links here with ?var-site=<site>.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DASHBOARDS,
  RP,
  agg,
  autoInterval,
  baseDashboard,
  bilingual,
  col,
  influxql,
  ifaceIncreaseSubquery,
  uplinkQuery,
  UPLINK_OVERRIDES,
  displayStateMappings,
  upToNow,
  kindFilter,
  lastAlertStateSubquery,
  openAlertFilter,
  recentFilter,
  seriesPanel,
  seriesTarget,
  siteFilter,
  siteVariable,
  tablePanel,
  tableTarget,
  tile,
  timeFilter,
  upDownMappings,
  placePanels,
} from './common.ts';

/** `fn(field)` of a measurement for the chosen site, per bucket and per `by` tag. */
function siteSeries(measurement: string, fn: string, field: string, by: string, extra: readonly string[] = []): string {
  return influxql({ fields: [agg(fn, field)], from: measurement, where: [timeFilter(), siteFilter(), ...extra], groupBy: [autoInterval(), by], fill: 'null' });
}

function infoTable(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('last', 'name'), agg('last', 'area_name'), agg('last', 'lat'), agg('last', 'lon')], from: 'site_info', rp: RP.meta, where: [siteFilter()], groupBy: ['site', 'province', 'area'] });
  return tablePanel(bilingual('Thông tin xã', 'Site'), [tableTarget(q)], { span: 12, height: 5 });
}

function stateTile(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('min', 'up')], from: 'net_probe', where: [recentFilter(), siteFilter()] });
  return tile(bilingual('Kết nối 5 phút qua', 'Link, last 5 min'), [seriesTarget(q)], { steps: [[null, 'red'], [1, 'green']], noValue: 'Mất tín hiệu / Blind' })
    .mappings(upDownMappings())
    .span(6);
}

function openAlertsTile(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('count', 'state', 'open')], from: lastAlertStateSubquery([siteFilter()]), where: [openAlertFilter()] });
  return tile(bilingual('Cảnh báo đang mở', 'Open alerts'), [seriesTarget(q)], { steps: [[null, 'green'], [1, 'red']], noValue: '0' }).span(6);
}

/** Every queue display of the site: on, frozen (the shown number lags the queue), last answer, numbers. */
function displaysTable(): cog.Builder<dashboard.Panel> {
  const q = influxql({
    fields: [agg('last', 'alive'), agg('last', 'frozen'), agg('last', 'last_seen_s'), agg('last', 'shown_number'), agg('last', 'expected_number')],
    from: 'display',
    where: [timeFilter(), upToNow(), siteFilter()],
    groupBy: ['display'],
  });
  return tablePanel(bilingual('Màn hình xếp hàng', 'Queue displays'), [tableTarget(q)], { span: 12, height: 6 })
    .overrideByName('alive', [{ id: 'mappings', value: displayStateMappings('alive') }, { id: 'custom.cellOptions', value: { type: 'color-background' } }])
    .overrideByName('frozen', [{ id: 'mappings', value: displayStateMappings('frozen') }, { id: 'custom.cellOptions', value: { type: 'color-background' } }])
    .overrideByName('last_seen_s', [{ id: 'unit', value: 's' }]);
}

function uplinkTable(): cog.Builder<dashboard.Panel> {
  const p = tablePanel(bilingual('Đường truyền', 'Uplink'), [tableTarget(uplinkQuery([siteFilter()]))], { span: 12, height: 6 });
  for (const [name, props] of UPLINK_OVERRIDES) p.overrideByName(name, props);
  return p;
}

/** Interface errors and drops per bucket (increase of the kernel counters) per interface. */
function ifaceErrors(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('sum', 'errors'), agg('sum', 'drops')], from: ifaceIncreaseSubquery(autoInterval(), [siteFilter()]), where: [timeFilter()], groupBy: [autoInterval(), 'iface'], fill: 'null' });
  return seriesPanel(bilingual('Lỗi giao diện mạng', 'Interface errors and drops'), [seriesTarget(q, 'A', '$tag_iface $col')], { unit: 'none', min: 0, bars: true });
}

function alertsTable(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [col('state'), col('value'), col('rule'), col('severity')], from: 'alert', where: [timeFilter(), siteFilter()], orderByTimeDesc: true, limit: 200 });
  return tablePanel(bilingual('Cảnh báo gần đây', 'Recent alerts'), [tableTarget(q)], { span: 24, height: 8 }).overrideByName('Time', [{ id: 'custom.hidden', value: false }]);
}

export function siteDetailDashboard(): dashboard.Dashboard {
  const d = baseDashboard(DASHBOARDS.site, bilingual('Chi tiết xã: $site', 'Site detail'), { from: 'now-24h', refresh: '1m', annotationWhere: [siteFilter()] }).withVariable(siteVariable());
  placePanels(d, [
    infoTable(),
    stateTile(),
    openAlertsTile(),
    seriesPanel(bilingual('Độ trễ theo đích', 'Latency per target'), [seriesTarget(siteSeries('net_probe', 'mean', 'rtt_ms', 'target'), 'A', '$tag_target')], { unit: 'ms' }),
    seriesPanel(bilingual('Kết nối theo đích', 'Up per target'), [seriesTarget(siteSeries('net_probe', 'min', 'up', 'target'), 'A', '$tag_target')], { unit: 'none', min: 0, max: 1 }),
    seriesPanel(bilingual('Người chờ theo quầy', 'Waiting per counter'), [seriesTarget(siteSeries('queue', 'mean', 'waiting', 'counter'), 'A', '$tag_counter')], { unit: 'none', min: 0 }),
    seriesPanel(bilingual('Pin UPS', 'UPS battery'), [seriesTarget(siteSeries('equipment', 'mean', 'battery_pct', 'device', [kindFilter('ups')]), 'A', '$tag_device')], { unit: 'percent', min: 0, max: 100 }),
    seriesPanel(bilingual('Nhiệt độ', 'Temperature'), [
      seriesTarget(siteSeries('equipment', 'mean', 'temp_c', 'device', [kindFilter('env')]), 'A', 'phòng / room $tag_device'),
      seriesTarget(siteSeries('host', 'mean', 'temp_c', 'agent'), 'B', 'Pi $tag_agent'),
    ], { unit: 'celsius' }),
    seriesPanel(bilingual('Máy Pi', 'Pi host'), [
      seriesTarget(siteSeries('host', 'mean', 'cpu_pct', 'agent'), 'A', 'cpu $tag_agent'),
      seriesTarget(siteSeries('host', 'mean', 'mem_pct', 'agent'), 'B', 'mem $tag_agent'),
      seriesTarget(siteSeries('host', 'max', 'disk_pct', 'agent'), 'C', 'disk $tag_agent'),
    ], { unit: 'percent', min: 0, max: 100 }),
    seriesPanel(bilingual('Hàng đợi gửi của Pi', 'Agent outbox depth'), [seriesTarget(siteSeries('agent', 'max', 'outbox_depth', 'agent'), 'A', '$tag_agent')], { unit: 'none', min: 0 }),
    displaysTable(),
    uplinkTable(),
    ifaceErrors(),
    alertsTable(),
  ]);
  return d.build();
}
