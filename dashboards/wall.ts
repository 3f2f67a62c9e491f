// Tường tỉnh / Province wall: the kiosk for leaders. Map of communes by state, the list of every commune by state
// (the 2025 commune list has no coordinates: a commune without them is listed, not drawn), and tiles that never show
// a misleading green: a commune with no fresh data is counted (and drawn and listed) as blind.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as geomap from '@grafana/grafana-foundation-sdk/geomap';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as table from '@grafana/grafana-foundation-sdk/table';
import {
  BLIND_AFTER,
  DASHBOARDS,
  INFLUX_DS,
  RP,
  agg,
  backfillingSitesSubquery,
  baseDashboard,
  bilingual,
  blindMapping,
  influxql,
  lastAlertStateSubquery,
  openAlertFilter,
  officeQueue,
  linkTo,
  recentFilter,
  registrySitesSubquery,
  seenSitesSubquery,
  seriesTarget,
  siteLink,
  tablePanel,
  tableTarget,
  thresholds,
  tile,
  timeFilter,
  upToNow,
} from './common.ts';

/** Registry sites with name and coordinates: one row per site (lat/lon null when the site has none). */
function siteInfoQuery(): string {
  return influxql({ fields: [agg('last', 'name'), agg('last', 'lat'), agg('last', 'lon'), agg('last', 'area_name')], from: 'site_info', rp: RP.meta, groupBy: ['site'] });
}

/** Every registry site, coordinates or not: one row per site (`name` is in every site_info point). */
export function communeListQuery(): string {
  return influxql({ fields: [agg('last', 'name'), agg('last', 'area_name')], from: 'site_info', rp: RP.meta, groupBy: ['site'] });
}

/** Share of successful probes per site over the blind window (absent when the site is blind). */
function siteStateQuery(): string {
  return influxql({ fields: [agg('mean', 'up', 'state')], from: 'net_probe', where: [recentFilter()], groupBy: ['site'] });
}

function mapPanel(): geomap.PanelBuilder {
  const markers = new common.MapLayerOptionsBuilder()
    .type('markers')
    .name('Xã / Communes')
    .tooltip(true)
    .location(new common.FrameGeometrySourceBuilder().mode(common.FrameGeometrySourceMode.Coords).latitude('lat').longitude('lon'))
    .config({
      showLegend: true,
      style: {
        color: { field: 'state', fixed: 'dark-purple' },
        size: { fixed: 9 },
        opacity: 0.9,
        symbol: { mode: 'fixed', fixed: 'img/icons/marker/circle.svg' },
      },
    });
  return new geomap.PanelBuilder()
    .title(bilingual('Bản đồ xã theo trạng thái', 'Communes by state'))
    .description(
      `Màu theo tỉ lệ đo thành công ${BLIND_AFTER} gần nhất; tím = mất tín hiệu. Xã chưa có tọa độ chỉ có trong danh sách bên cạnh. Colour: probe success over the last ${BLIND_AFTER}; purple = blind. Communes without coordinates are in the list beside the map only.`,
    )
    .datasource(INFLUX_DS)
    .targets([tableTarget(siteInfoQuery(), 'SITES'), tableTarget(siteStateQuery(), 'STATE')])
    // Outer join on site: registry sites without fresh data keep a row with state = null (blind).
    .withTransformation({ id: 'joinByField', options: { byField: 'site', mode: 'outer' } })
    .view(new geomap.MapViewConfigBuilder().id('fit').padding(5))
    .controls(new geomap.ControlsOptionsBuilder().showZoom(false).mouseWheelZoom(false).showAttribution(true))
    .basemap(new common.MapLayerOptionsBuilder().type('osm-standard').name('OpenStreetMap'))
    .layers([markers])
    .tooltip(new geomap.TooltipOptionsBuilder().mode(geomap.TooltipMode.Details))
    // Unit, colours and the blind mapping belong to the state alone: as panel defaults they also turned lat/lon
    // into percentages (21.3 shown as 2130%) and a missing coordinate into "Blind" in the tooltip.
    .overrideByName('state', [
      { id: 'unit', value: 'percentunit' },
      { id: 'thresholds', value: thresholds([[null, 'red'], [0.5, 'orange'], [0.99, 'green']]).build() },
      { id: 'mappings', value: [blindMapping()] },
    ])
    .dataLinks([siteLink('table')])
    .gridPos({ x: 0, y: 0, w: 8, h: 20 });
}

/**
 * Every commune of the registry with its state, worst first: the wall's complete view, since the map only draws
 * the communes that have coordinates (none of the 2025 list does until an operator adds them).
 */
function communeListPanel(): table.PanelBuilder {
  const stateCell = [
    { id: 'displayName', value: 'Trạng thái / State' },
    { id: 'unit', value: 'percentunit' },
    { id: 'custom.cellOptions', value: { type: 'color-background' } },
    { id: 'thresholds', value: thresholds([[null, 'red'], [0.5, 'orange'], [0.99, 'green']]).build() },
    { id: 'mappings', value: [blindMapping()] },
  ];
  return tablePanel(bilingual('Danh sách xã theo trạng thái', 'Every commune by state'), [tableTarget(communeListQuery(), 'SITES'), tableTarget(siteStateQuery(), 'STATE')], { hideColumns: ['site'] })
    .description(`Mọi xã trong danh sách đăng ký, kể cả xã chưa có tọa độ; tím = không có dữ liệu ${BLIND_AFTER}. Every registered commune, with or without coordinates; purple = no data for ${BLIND_AFTER}.`)
    // Outer join on site: a registered commune without fresh data keeps its row, with state = null (blind).
    .withTransformation({ id: 'joinByField', options: { byField: 'site', mode: 'outer' } })
    .withTransformation({ id: 'filterFieldsByName', options: { include: { names: ['site', 'name', 'area_name', 'state'] } } })
    .overrideByName('name', [
      { id: 'displayName', value: 'Xã / Commune' },
      { id: 'links', value: [siteLink('table').build()] },
    ])
    .overrideByName('area_name', [{ id: 'displayName', value: 'Huyện / District' }])
    .overrideByName('state', stateCell)
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Trạng thái / State').desc(false)])
    .showHeader(true)
    .gridPos({ x: 8, y: 0, w: 9, h: 20 });
}

function onlineTile(): stat.PanelBuilder {
  const q = influxql({ fields: [agg('count', 'seen', 'online')], from: seenSitesSubquery() });
  return tile(bilingual('Xã trực tuyến', 'Communes online'), [seriesTarget(q)], { steps: [[null, 'blue']], noValue: '0', link: linkTo(DASHBOARDS.connectivity, 'Kết nối / Connectivity') })
    .span(5);
}

/**
 * Registered minus seen, plus those backfilling (their walls show old data arriving late): concatenated and
 * combined in Grafana (InfluxQL cannot join two measurements). The last step sums by row, so the tile still
 * counts when no site is backfilling (that query then returns no row).
 */
function blindTile(): stat.PanelBuilder {
  const registered = influxql({ fields: [agg('count', 'name', 'registered')], from: registrySitesSubquery() });
  const seen = influxql({ fields: [agg('count', 'seen', 'seen')], from: seenSitesSubquery() });
  const backfilling = influxql({ fields: [agg('count', 'depth', 'backfilling')], from: backfillingSitesSubquery(), where: ['"depth" > 0'] });
  return tile(bilingual(`Xã mất tín hiệu > ${BLIND_AFTER} hoặc đang gửi bù`, 'Blind or backfilling communes'), [tableTarget(registered, 'REGISTERED'), tableTarget(seen, 'SEEN'), tableTarget(backfilling, 'BACKFILLING')], {
    steps: [[null, 'green'], [1, 'red']],
    noValue: '?',
    link: linkTo(DASHBOARDS.connectivity, 'Kết nối / Connectivity'),
  })
    .span(5)
    .transformations([
      { id: 'concatenate', options: { frameNameMode: 'drop' } },
      { id: 'calculateField', options: { mode: 'binary', binary: { left: 'registered', operator: '-', right: 'seen' }, alias: 'unseen' } },
      { id: 'calculateField', options: { mode: 'reduceRow', reduce: { include: ['unseen', 'backfilling'], reducer: 'sum' }, alias: 'blind', replaceFields: true } },
    ]);
}

function openIncidentsTile(): stat.PanelBuilder {
  const q = influxql({ fields: [agg('count', 'state', 'open')], from: lastAlertStateSubquery(), where: [openAlertFilter()] });
  return tile(bilingual('Sự cố đang mở', 'Open incidents'), [seriesTarget(q)], { steps: [[null, 'green'], [1, 'orange'], [5, 'red']], noValue: '0', link: linkTo(DASHBOARDS.alerts, 'Cảnh báo / Alerts') })
    .span(5);
}

/**
 * issued_total resets at local midnight: the day's tickets are the max of each office point (`counter=all`) since
 * then, summed over agents; the counters' own points are left out (`all` is already their sum).
 */
function ticketsTodayTile(): stat.PanelBuilder {
  const perCounter = influxql({ fields: [agg('max', 'issued_total', 'issued')], from: 'queue', where: [timeFilter(), upToNow(), officeQueue()], groupBy: ['site', 'agent', 'counter'] });
  const q = influxql({ fields: [agg('sum', 'issued', 'tickets')], from: `(${perCounter})` });
  return tile(bilingual('Phiếu hôm nay', 'Tickets today'), [seriesTarget(q)], { steps: [[null, 'blue']], noValue: '0', link: linkTo(DASHBOARDS.queues, 'Một cửa / Queues') })
    .span(5)
    .timeFrom('now/d')
    .hideTimeOverride(true);
}

function waitingTimeTile(): stat.PanelBuilder {
  const q = influxql({ fields: [agg('mean', 'avg_wait_s', 'avg_wait_s')], from: 'queue', where: [recentFilter('15m')] });
  return tile(bilingual('Thời gian chờ TB (15 phút)', 'Average waiting time'), [seriesTarget(q)], {
    unit: 's',
    decimals: 0,
    steps: [[null, 'green'], [900, 'orange'], [1800, 'red']],
    link: linkTo(DASHBOARDS.queues, 'Một cửa / Queues'),
  })
    .span(5);
}

export function wallDashboard(): dashboard.Dashboard {
  const d = baseDashboard(DASHBOARDS.wall, bilingual('Tường tỉnh', 'Province wall'), { from: 'now-6h', refresh: '30s' })
    .description('Màn hình tường cho lãnh đạo (kiosk) / Wall screen for leaders (kiosk mode)')
    .withPanel(mapPanel())
    .withPanel(communeListPanel());
  // The tiles stack in a column right of the map and the list.
  [onlineTile(), blindTile(), openIncidentsTile(), ticketsTodayTile(), waitingTimeTile()].forEach((p, i) => {
    d.withPanel(p.gridPos({ x: 17, y: i * 4, w: 7, h: 4 }));
  });
  return d.build();
}
