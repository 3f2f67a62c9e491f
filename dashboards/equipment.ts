// Thiết bị / Equipment: UPS (battery, on battery, input voltage, load), power meters, environment, on-battery and door events.
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
  tagEquals,
  timeFilter,
  timelinePanel,
  type Steps,
  placePanels,
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

/** GPIO input `name` (edge gpio collector: door, mains…) going to `state`, counted per site from its gpio_event points. */
function gpioEventCount(name: string, state: 0 | 1, alias: string): string {
  return influxql({
    fields: [agg('count', 'state', alias)],
    from: 'gpio_event',
    where: [timeFilter(), tagEquals('name', name), fieldEquals('state', state)],
    groupBy: ['site'],
  });
}

/**
 * Per site: UPS samples on battery in the range (≈ minutes at a 60 s interval) and the lowest battery seen, beside
 * the door and mains-relay inputs' events (gpio_event: door opened = state 1, mains lost = state 0), merged on site.
 */
function onBatteryAndDoorEvents(): cog.Builder<dashboard.Panel> {
  const ups = influxql({
    fields: [agg('count', 'on_battery', 'samples_on_battery'), agg('min', 'battery_pct', 'min_battery_pct'), agg('min', 'input_v', 'min_input_v')],
    from: 'equipment',
    where: [timeFilter(), kindFilter('ups'), fieldEquals('on_battery', 1)],
    groupBy: ['site', 'device'],
  });
  const targets = [tableTarget(ups, 'UPS'), tableTarget(gpioEventCount('mains', 0, 'mains_lost'), 'MAINS'), tableTarget(gpioEventCount('door', 1, 'door_opened'), 'DOOR')];
  return tablePanel(bilingual('Sự kiện mất điện và cửa', 'On-battery and door events'), targets, { siteLinks: true })
    .description('UPS dùng pin (số mẫu, pin thấp nhất) và sự kiện GPIO: mất điện lưới, mở cửa / UPS on battery (samples, lowest battery) and GPIO events: mains lost, door opened')
    // Aggregates without GROUP BY time share the range's start as time: rows of one site merge into one.
    .withTransformation({ id: 'merge', options: {} })
    .overrideByName('min_battery_pct', [{ id: 'unit', value: 'percent' }]);
}

function energyPerDay(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('spread', 'kwh')], from: 'equipment', where: [timeFilter(), kindFilter('meter')], groupBy: [localDay(), 'site'], fill: 'none' });
  return seriesPanel(bilingual('Điện năng mỗi ngày', 'Energy per day'), [seriesTarget(q, 'A', '$tag_site')], { unit: 'kwatth', bars: true, siteLinks: true });
}

export function equipmentDashboard(): dashboard.Dashboard {
  const d = baseDashboard(DASHBOARDS.equipment, bilingual('Thiết bị', 'Equipment'), { from: 'now-24h', refresh: '1m' });
  placePanels(d, [
    series(bilingual('Pin UPS', 'UPS battery'), 'ups', 'battery_pct', 'percent'),
    series(bilingual('Tải UPS', 'UPS load'), 'ups', 'load_pct', 'percent'),
    series(bilingual('Điện áp vào', 'UPS input voltage'), 'ups', 'input_v', 'volt'),
    onBatteryTimeline(),
    onBatteryAndDoorEvents(),
    series(bilingual('Công suất', 'Power'), 'meter', 'power_w', 'watt'),
    energyPerDay(),
    series(bilingual('Nhiệt độ phòng', 'Room temperature'), 'env', 'temp_c', 'celsius'),
    series(bilingual('Độ ẩm', 'Humidity'), 'env', 'humidity_pct', 'humidity'),
  ]);
  return d.build();
}
