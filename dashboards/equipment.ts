// Thiết bị / Equipment: UPS (battery, on battery, input voltage, load), power meters, environment, on-battery events.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DASHBOARDS,
  agg,
  autoInterval,
  baseDashboard,
  bilingual,
  fieldEquals,
  influxql,
  kindFilter,
  localDay,
  seriesPanel,
  seriesTarget,
  tablePanel,
  tableTarget,
  timeFilter,
  timelinePanel,
  type Steps,
} from './common.ts';

/** mean(field) of one equipment kind per site and bucket. */
function kindSeries(kind: string, fn: string, field: string): string {
  return influxql({ fields: [agg(fn, field)], from: 'equipment', where: [timeFilter(), kindFilter(kind)], groupBy: [autoInterval(), 'site'], fill: 'null' });
}

function series(title: string, kind: string, field: string, unit: string, span = 12): cog.Builder<dashboard.Panel> {
  return seriesPanel(title, [seriesTarget(kindSeries(kind, 'mean', field), 'A', '$tag_site')], { unit, siteLinks: true, span });
}

const onBatterySteps: Steps = [[null, 'green'], [1, 'red']];

function onBatteryTimeline(): cog.Builder<dashboard.Panel> {
  const mappings: dashboard.ValueMapping[] = [
    { type: dashboard.MappingType.ValueToText, options: { '0': { text: 'Điện lưới / Mains', color: 'green', index: 0 }, '1': { text: 'Dùng pin / On battery', color: 'red', index: 1 } } },
  ];
  return timelinePanel(bilingual('UPS dùng pin', 'UPS on battery'), seriesTarget(kindSeries('ups', 'max', 'on_battery'), 'A', '$tag_site'), mappings, onBatterySteps);
}

/** Per site: samples on battery in the range (≈ minutes at a 60 s interval) and the lowest battery seen. */
function onBatteryEvents(): cog.Builder<dashboard.Panel> {
  const q = influxql({
    fields: [agg('count', 'on_battery', 'samples_on_battery'), agg('min', 'battery_pct', 'min_battery_pct'), agg('min', 'input_v', 'min_input_v')],
    from: 'equipment',
    where: [timeFilter(), kindFilter('ups'), fieldEquals('on_battery', 1)],
    groupBy: ['site', 'device'],
  });
  return tablePanel(bilingual('Sự kiện mất điện lưới', 'On-battery events'), [tableTarget(q)], { siteLinks: true }).overrideByName('min_battery_pct', [{ id: 'unit', value: 'percent' }]);
}

function energyPerDay(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('spread', 'kwh')], from: 'equipment', where: [timeFilter(), kindFilter('meter')], groupBy: [localDay(), 'site'], fill: 'none' });
  return seriesPanel(bilingual('Điện năng mỗi ngày', 'Energy per day'), [seriesTarget(q, 'A', '$tag_site')], { unit: 'kwatth', bars: true, siteLinks: true });
}

export function equipmentDashboard(): dashboard.Dashboard {
  const d = baseDashboard(DASHBOARDS.equipment, bilingual('Thiết bị', 'Equipment'), { from: 'now-24h', refresh: '1m' });
  for (const p of [
    series(bilingual('Pin UPS', 'UPS battery'), 'ups', 'battery_pct', 'percent'),
    series(bilingual('Tải UPS', 'UPS load'), 'ups', 'load_pct', 'percent'),
    series(bilingual('Điện áp vào', 'UPS input voltage'), 'ups', 'input_v', 'volt'),
    onBatteryTimeline(),
    onBatteryEvents(),
    series(bilingual('Công suất', 'Power'), 'meter', 'power_w', 'watt'),
    energyPerDay(),
    series(bilingual('Nhiệt độ phòng', 'Room temperature'), 'env', 'temp_c', 'celsius'),
    series(bilingual('Độ ẩm', 'Humidity'), 'env', 'humidity_pct', 'humidity'),
  ])
    d.withPanel(p);
  return d.build();
}
