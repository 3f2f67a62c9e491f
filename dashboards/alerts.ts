// Cảnh báo / Alerts: open alerts (last state firing or acknowledged) and the recent history, from the `alert` measurement
// (tags site, rule, severity; fields state = pending | firing | acknowledged | resolved, value) written by the hub's alert engine.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DASHBOARDS,
  agg,
  autoInterval,
  baseDashboard,
  bilingual,
  col,
  alertStateIs,
  influxql,
  lastAlertStateSubquery,
  openAlertFilter,
  severityIs,
  seriesPanel,
  seriesTarget,
  tablePanel,
  tableTarget,
  tile,
  timeFilter,
  placePanels,
} from './common.ts';
import type { SEVERITIES } from '../protocol/schemas.ts';

type Severity = (typeof SEVERITIES)[number];

function openBySeverity(severity: Severity, color: string): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('count', 'state', 'open')], from: lastAlertStateSubquery([severityIs(severity)]), where: [openAlertFilter()] });
  return tile(bilingual(`Đang mở: ${severity}`, `Open: ${severity}`), [seriesTarget(q)], { steps: [[null, 'green'], [1, color]], noValue: '0' }).span(8);
}

function openTable(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [col('state'), col('value')], from: lastAlertStateSubquery(), where: [openAlertFilter()], groupBy: ['site', 'rule', 'severity'] });
  return tablePanel(bilingual('Cảnh báo đang mở', 'Open alerts'), [tableTarget(q)], { siteLinks: true, span: 24 });
}

function recentTable(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [col('site'), col('rule'), col('severity'), col('state'), col('value')], from: 'alert', where: [timeFilter()], orderByTimeDesc: true, limit: 500 });
  return tablePanel(bilingual('Lịch sử cảnh báo', 'Recent alerts'), [tableTarget(q)], { siteLinks: true, span: 24, height: 12 }).overrideByName('Time', [{ id: 'custom.hidden', value: false }]);
}

function firingOverTime(): cog.Builder<dashboard.Panel> {
  const q = influxql({ fields: [agg('count', 'state', 'transitions')], from: 'alert', where: [timeFilter(), alertStateIs('firing')], groupBy: [autoInterval(), 'severity'], fill: '0' });
  return seriesPanel(bilingual('Cảnh báo phát sinh theo mức độ', 'Alerts raised by severity'), [seriesTarget(q, 'A', '$tag_severity')], { unit: 'none', bars: true, span: 24 });
}

export function alertsDashboard(): dashboard.Dashboard {
  const d = baseDashboard(DASHBOARDS.alerts, bilingual('Cảnh báo', 'Alerts'), { from: 'now-7d', refresh: '30s' });
  placePanels(d, [openBySeverity('critical', 'red'), openBySeverity('warning', 'orange'), openBySeverity('info', 'blue'), openTable(), recentTable(), firingOverTime()]);
  return d.build();
}
