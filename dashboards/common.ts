// Shared presets for every IOC dashboard: the datasource, uids, one helper per InfluxQL selector, panel presets,
// the site link, the alert annotation and the site variable. Dashboards compose these; no query text is pasted.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import { influxLocalDay, VN_TIME_ZONE } from '../common/local-day.ts';
import { DATABASE } from '../protocol/measurements.ts';
import type { ALERT_STATES, SEVERITIES } from '../protocol/schemas.ts';
import { InfluxQueryBuilder } from './influx-query.ts';

type AlertState = (typeof ALERT_STATES)[number];
type Severity = (typeof SEVERITIES)[number];

export const INFLUX_DS: common.DataSourceRef = { type: 'influxdb', uid: 'ioc-influxdb' };
export const INFLUX_DATABASE = DATABASE;
export const TIMEZONE = VN_TIME_ZONE;
export const DASHBOARD_TAG = 'ioc';

/** Fixed uids (and URL slugs): links, the playlist, kiosk URLs and provisioning depend on them. */
export const DASHBOARDS = {
  wall: { uid: 'ioc-wall', slug: 'tuong-tinh' },
  connectivity: { uid: 'ioc-connectivity', slug: 'ket-noi' },
  queues: { uid: 'ioc-queues', slug: 'mot-cua' },
  equipment: { uid: 'ioc-equipment', slug: 'thiet-bi' },
  site: { uid: 'ioc-site', slug: 'chi-tiet-xa' },
  alerts: { uid: 'ioc-alerts', slug: 'canh-bao' },
} as const;

/** A commune with no point newer than this is "blind" on the wall, whatever its last value said. */
export const BLIND_AFTER = '5m';
/** How far back an alert's last state is looked for (an alert can stay open for days). */
export const ALERT_LOOKBACK = '30d';
/** Retention policies written by hub/storage/influx-schema.ts. */
export const RP = { rollup1m: 'rollup_1m', rollup1h: 'rollup_1h', meta: 'meta' } as const;

// ---- InfluxQL selectors: one helper each --------------------------------------------------------

export const ident = (name: string): string => `"${name.replace(/"/g, '\\"')}"`;
const literal = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Grafana's dashboard time range. */
export const timeFilter = (): string => '$timeFilter';
/**
 * Nothing after now: Grafana's $timeFilter for a range ending "now" has no upper bound, and a reading
 * from a Pi whose clock ran ahead (the hub accepts up to 10 minutes) must not win a `last()` on the wall.
 */
export const upToNow = (): string => 'time <= now()';
/** The last `window` up to now, whatever the dashboard range (wall tiles are "now"). */
export const recentFilter = (window: string = BLIND_AFTER): string => `time > now() - ${window} AND ${upToNow()}`;
/** The `site` template variable (regex form, so it also works as "All"). */
export const siteFilter = (): string => `${ident('site')} =~ /^$site$/`;
/** The `target` template variable of net_probe. */
export const targetFilter = (): string => `${ident('target')} =~ /^$target$/`;
/** Equipment of one kind (ups, meter, env, ...). */
export const kindFilter = (kind: string): string => `${ident('kind')} = ${literal(kind)}`;
/** Probes of one method (icmp, tcp, http, dns). */
export const methodFilter = (method: string): string => `${ident('method')} = ${literal(method)}`;
/** Alert states that count as open (hub/alerts): firing, or acknowledged by a technician but not resolved. */
export const OPEN_ALERT_STATES: readonly AlertState[] = ['firing', 'acknowledged'];
/** Alerts whose (last) state is open. */
export const openAlertFilter = (): string => `${ident('state')} =~ /^(${OPEN_ALERT_STATES.join('|')})$/`;
/** Alert points of one state (e.g. 'firing': an alert being raised). */
export const alertStateIs = (state: AlertState): string => `${ident('state')} = ${literal(state)}`;
/** Alerts of one severity. */
export const severityIs = (severity: Severity): string => `${ident('severity')} = ${literal(severity)}`;
export const fieldEquals = (field: string, value: number): string => `${ident(field)} = ${value}`;
/**
 * `counter` tag of the queue collector's office-wide point (edge/collectors/queue: OFFICE_COUNTER). Office figures read
 * that point alone: summing every counter would count each ticket twice (once at its counter, once in `all`).
 */
export const OFFICE_COUNTER = 'all';
/** Queue points of the whole office (not its counters). */
export const officeQueue = (): string => `${ident('counter')} = ${literal(OFFICE_COUNTER)}`;
/** Queue points of single counters (not the office total). */
export const counterQueue = (): string => `${ident('counter')} != ${literal(OFFICE_COUNTER)}`;
/** GROUP BY bucket following Grafana's interval. */
export const autoInterval = (): string => 'time($__interval)';
/** One local (UTC+7) calendar day. */
export const localDay = (): string => influxLocalDay();

export type Fill = 'null' | 'none' | '0' | 'previous' | 'linear';

export interface SelectSpec {
  /** Column expressions, e.g. agg('mean', 'rtt_ms'). */
  fields: readonly string[];
  /** Measurement name, or a subquery from `subquery()`. */
  from: string;
  rp?: string;
  where?: readonly string[];
  groupBy?: readonly string[];
  fill?: Fill;
  orderByTimeDesc?: boolean;
  limit?: number;
}

/** Assembles one InfluxQL SELECT; every dashboard query goes through here. */
export function influxql(spec: SelectSpec): string {
  const from = spec.from.startsWith('(') ? spec.from : spec.rp === undefined ? ident(spec.from) : `${ident(spec.rp)}.${ident(spec.from)}`;
  const parts = [`SELECT ${spec.fields.join(', ')}`, `FROM ${from}`];
  if (spec.where !== undefined && spec.where.length > 0) parts.push(`WHERE ${spec.where.join(' AND ')}`);
  if (spec.groupBy !== undefined && spec.groupBy.length > 0) parts.push(`GROUP BY ${spec.groupBy.map((g) => (g.startsWith('time(') ? g : ident(g))).join(', ')}`);
  if (spec.fill !== undefined) parts.push(`fill(${spec.fill})`);
  if (spec.orderByTimeDesc === true) parts.push('ORDER BY time DESC');
  if (spec.limit !== undefined) parts.push(`LIMIT ${spec.limit}`);
  return parts.join(' ');
}

export function subquery(spec: SelectSpec): string {
  return `(${influxql(spec)})`;
}

/** `fn("field") AS "alias"`; `scale` multiplies (fractions to percent). */
export function agg(fn: string, field: string, alias: string = field, scale?: number): string {
  return `${fn}(${ident(field)})${scale === undefined ? '' : ` * ${scale}`} AS ${ident(alias)}`;
}

/** A plain column (field or tag) of a raw SELECT. */
export const col = (name: string): string => ident(name);

/** Sites with at least one agent point in the last BLIND_AFTER: one row per site, column `seen`. */
export function seenSitesSubquery(): string {
  return subquery({ fields: [agg('last', 'uptime_s', 'seen')], from: 'agent', where: [recentFilter()], groupBy: ['site'] });
}

/** Sites whose agent is replaying a backlog (hub `delivery` measurement, last BLIND_AFTER): one row per site, column `depth`. */
export function backfillingSitesSubquery(): string {
  return subquery({ fields: [agg('last', 'backlog_depth', 'depth')], from: 'delivery', where: [recentFilter()], groupBy: ['site'] });
}

/** Every registry site (hub/storage/influx-schema.ts writes site_info): one row per site, column `name` (lat/lon may be absent). */
export function registrySitesSubquery(): string {
  return subquery({ fields: [agg('last', 'name', 'name')], from: 'site_info', rp: RP.meta, groupBy: ['site'] });
}

/** The last state of every alert (site, rule) in the lookback. */
export function lastAlertStateSubquery(extraWhere: readonly string[] = []): string {
  return subquery({
    fields: [agg('last', 'state', 'state'), agg('last', 'value', 'value')],
    from: 'alert',
    where: [recentFilter(ALERT_LOOKBACK), ...extraWhere],
    groupBy: ['site', 'rule', 'severity'],
  });
}

// ---- targets ------------------------------------------------------------------------------------

/** A time-series target; `alias` names series in the legend (`$tag_site`). */
export function seriesTarget(query: string, refId = 'A', alias?: string): InfluxQueryBuilder {
  const t = new InfluxQueryBuilder(query).refId(refId).datasource(INFLUX_DS);
  return alias === undefined ? t : t.alias(alias);
}

/** A table target: tags become columns (tables, geomap, tiles fed by transformations). */
export function tableTarget(query: string, refId = 'A'): InfluxQueryBuilder {
  return new InfluxQueryBuilder(query).refId(refId).datasource(INFLUX_DS).table();
}

// ---- links ------------------------------------------------------------------------------------

export function dashboardUrl(d: { uid: string; slug: string }): string {
  return `/d/${d.uid}/${d.slug}`;
}

/**
 * Data link to the site detail. Table rows carry the site as a column (`${__data.fields.site}`);
 * time series carry it as a label (`${__field.labels.site}`).
 */
export function siteLink(from: 'table' | 'series'): dashboard.DashboardLinkBuilder {
  const value = from === 'table' ? '${__data.fields.site}' : '${__field.labels.site}';
  return new dashboard.DashboardLinkBuilder('Chi tiết xã / Site detail')
    .type(dashboard.DashboardLinkType.Link)
    .url(`${dashboardUrl(DASHBOARDS.site)}?var-site=${value}&\${__url_time_range}`);
}

export function linkTo(d: { uid: string; slug: string }, title: string): dashboard.DashboardLinkBuilder {
  return new dashboard.DashboardLinkBuilder(title).type(dashboard.DashboardLinkType.Link).url(dashboardUrl(d));
}

// ---- presets --------------------------------------------------------------------------------

export type Steps = readonly (readonly [number | null, string])[];

export function thresholds(steps: Steps): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps.map(([value, color]) => ({ value, color })));
}

/** 1 = up (green), 0 = down (red). */
export function upDownMappings(): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: { '1': { text: 'Lên / Up', color: 'green', index: 0 }, '0': { text: 'Mất / Down', color: 'red', index: 1 } },
    },
  ];
}

/** uplink.on_4g: 1 = on the 4G backup (orange), 0 = on the office's fixed line. */
export function on4gMappings(): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: { '1': { text: '4G (dự phòng / backup)', color: 'orange', index: 0 }, '0': { text: 'Đường cố định / Fixed line', color: 'green', index: 1 } },
    },
  ];
}

/** display.alive and display.frozen as a state. */
export function displayStateMappings(field: 'alive' | 'frozen'): dashboard.ValueMapping[] {
  const options =
    field === 'alive'
      ? { '1': { text: 'Sáng / On', color: 'green', index: 0 }, '0': { text: 'Tắt / Down', color: 'red', index: 1 } }
      : { '1': { text: 'Treo / Frozen', color: 'red', index: 0 }, '0': { text: 'Bình thường / OK', color: 'green', index: 1 } };
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

/** The last uplink of every agent in range: link kind, interface, since when, on 4G. One row per (site, agent). */
export function uplinkQuery(extraWhere: readonly string[] = []): string {
  return influxql({
    fields: [agg('last', 'uplink'), agg('last', 'iface'), agg('last', 'uplink_since'), agg('last', 'on_4g')],
    from: 'uplink',
    where: [timeFilter(), upToNow(), ...extraWhere],
    groupBy: ['site', 'agent'],
  });
}

/** Overrides of an uplink table: "on 4G since …" reads as a local date-time and a coloured link state. */
export const UPLINK_OVERRIDES: readonly (readonly [string, { id: string; value: unknown }[]])[] = [
  ['uplink_since', [{ id: 'unit', value: 'dateTimeAsIso' }, { id: 'displayName', value: 'Từ lúc / Since' }]],
  ['on_4g', [{ id: 'mappings', value: on4gMappings() }, { id: 'custom.cellOptions', value: { type: 'color-background' } }, { id: 'displayName', value: 'Đường truyền / Link' }]],
  ['uplink', [{ id: 'displayName', value: 'Loại / Kind' }]],
];

/**
 * net_iface errors and drops are the kernel's cumulative counters: their increase per `bucket` (resets, as after a
 * reboot, dropped), per (site, agent, iface).
 */
export function ifaceIncreaseSubquery(bucket: string, extraWhere: readonly string[] = []): string {
  return subquery({
    fields: ['non_negative_difference(last("errors")) AS "errors"', 'non_negative_difference(last("drops")) AS "drops"'],
    from: 'net_iface',
    where: [timeFilter(), ...extraWhere],
    groupBy: [bucket, 'site', 'agent', 'iface'],
  });
}

/** No data is never green: it shows as "blind". */
export function blindMapping(): dashboard.ValueMapping {
  return {
    type: dashboard.MappingType.SpecialValue,
    options: { match: dashboard.SpecialValueMatch.NullAndNan, result: { text: 'Mất tín hiệu / Blind', color: 'dark-purple', index: 9 } },
  };
}

export function bilingual(vi: string, en: string): string {
  return `${vi} / ${en}`;
}

/** A big-number tile. */
export function tile(title: string, targets: readonly InfluxQueryBuilder[], opts: { unit?: string; steps: Steps; noValue?: string; link?: dashboard.DashboardLinkBuilder; decimals?: number }): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .title(title)
    .datasource(INFLUX_DS)
    .targets([...targets])
    .height(5)
    .span(4)
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(thresholds(opts.steps))
    .unit(opts.unit ?? 'none');
  if (opts.decimals !== undefined) p.decimals(opts.decimals);
  if (opts.noValue !== undefined) p.noValue(opts.noValue);
  if (opts.link !== undefined) p.links([opts.link]);
  return p;
}

/** A time series per site (or per tag in `alias`), each linked to the site detail when it is a site. */
export function seriesPanel(title: string, targets: readonly InfluxQueryBuilder[], opts: { unit: string; siteLinks?: boolean; bars?: boolean; span?: number; min?: number; max?: number }): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(title)
    .datasource(INFLUX_DS)
    .targets([...targets])
    .unit(opts.unit)
    .height(8)
    .span(opts.span ?? 12)
    .lineWidth(1)
    .fillOpacity(opts.bars === true ? 80 : 10)
    .spanNulls(false)
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Right).showLegend(true).calcs(['mean', 'max']));
  if (opts.bars === true) p.drawStyle(common.GraphDrawStyle.Bars).stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (opts.siteLinks === true) p.dataLinks([siteLink('series')]);
  if (opts.min !== undefined) p.min(opts.min);
  if (opts.max !== undefined) p.max(opts.max);
  return p;
}

/** A state timeline, one row per series. */
export function timelinePanel(title: string, target: InfluxQueryBuilder, mappings: dashboard.ValueMapping[], steps: Steps): statetimeline.PanelBuilder {
  return new statetimeline.PanelBuilder()
    .title(title)
    .datasource(INFLUX_DS)
    .targets([target])
    .height(12)
    .span(24)
    .mappings(mappings)
    .thresholds(thresholds(steps))
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .rowHeight(0.8)
    .dataLinks([siteLink('series')]);
}

/** A table of rows; rows with a `site` column link to the site detail. */
export function tablePanel(title: string, targets: readonly InfluxQueryBuilder[], opts: { siteLinks?: boolean; span?: number; height?: number; hideColumns?: readonly string[] } = {}): table.PanelBuilder {
  const p = new table.PanelBuilder()
    .title(title)
    .datasource(INFLUX_DS)
    .targets([...targets])
    .height(opts.height ?? 10)
    .span(opts.span ?? 12)
    .filterable(true);
  for (const name of ['Time', ...(opts.hideColumns ?? [])]) p.overrideByName(name, [{ id: 'custom.hidden', value: true }]);
  if (opts.siteLinks === true) p.overrideByName('site', [{ id: 'links', value: [siteLink('table').build()] }]);
  return p;
}

// ---- dashboard-level ------------------------------------------------------------------------

export const GRID_COLUMNS = 24;

/**
 * Adds panels left to right, wrapping to a new row when the next one does not fit in the 24 columns (the SDK's own
 * placement wraps only after a row is full, so a wide panel after a half-width one overflowed the grid).
 */
export function placePanels(d: dashboard.DashboardBuilder, panels: readonly cog.Builder<dashboard.Panel>[]): dashboard.DashboardBuilder {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const p of panels) {
    const built = p.build();
    const w = Math.min(built.gridPos?.w ?? 12, GRID_COLUMNS);
    const h = built.gridPos?.h ?? 8;
    if (x + w > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed: dashboard.Panel = { ...built, gridPos: { ...built.gridPos, x, y, w, h } };
    d.withPanel({ build: () => placed });
    x += w;
    rowHeight = Math.max(rowHeight, h);
  }
  return d;
}

/** Alerts as annotations on every dashboard (text: rule, tags: site + severity + state). */
export function alertAnnotation(extraWhere: readonly string[] = []): dashboard.AnnotationQueryBuilder {
  const query = influxql({ fields: [col('value'), col('state'), col('rule'), col('site'), col('severity')], from: 'alert', where: [timeFilter(), ...extraWhere] });
  return new dashboard.AnnotationQueryBuilder()
    .name('Cảnh báo / Alerts')
    .datasource(INFLUX_DS)
    .enable(true)
    .iconColor('red')
    .target(tableTarget(query, 'Anno').annotationColumns({ text: 'rule', tags: 'site,severity,state' }));
}

/** A query variable over the values of one tag, refreshed on load, sorted. */
function tagValuesVariable(name: string, label: string, measurement: string, key: string): dashboard.QueryVariableBuilder {
  const query = `SHOW TAG VALUES FROM "${measurement}" WITH KEY = "${key}"`;
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(INFLUX_DS)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/** The `site` variable: every site that ever sent an agent point. */
export function siteVariable(): dashboard.QueryVariableBuilder {
  return tagValuesVariable('site', 'Xã / Site', 'agent', 'site').multi(false).includeAll(false);
}

/** The `target` variable of net_probe; "All" matches every target. */
export function targetVariable(defaultTarget = 'hub'): dashboard.QueryVariableBuilder {
  return tagValuesVariable('target', 'Đích đo / Probe target', 'net_probe', 'target')
    .includeAll(true)
    .allValue('.*')
    .current({ text: defaultTarget, value: defaultTarget, selected: true });
}

/** Common frame of every dashboard: uid, bilingual title, tags, time zone, refresh, alert annotation, nav links. */
export function baseDashboard(d: { uid: string }, title: string, opts: { from: string; refresh: string; annotationWhere?: readonly string[] }): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(d.uid)
    .tags([DASHBOARD_TAG])
    .timezone(TIMEZONE)
    .time({ from: opts.from, to: 'now' })
    .refresh(opts.refresh)
    .readonly()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .annotation(alertAnnotation(opts.annotationWhere))
    .link(new dashboard.DashboardLinkBuilder('IOC').type(dashboard.DashboardLinkType.Dashboards).tags([DASHBOARD_TAG]).asDropdown(true).includeVars(false).keepTime(true));
}

/** `"tag" = 'value'` (a tag such as a GPIO input's `name`), quoted. */
export const tagEquals = (tag: string, value: string): string => `${ident(tag)} = ${literal(value)}`;
