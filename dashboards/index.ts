// Every generated dashboard, with the file it is written to under dashboards/generated/.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { alertsDashboard } from './alerts.ts';
import { connectivityDashboard } from './connectivity.ts';
import { equipmentDashboard } from './equipment.ts';
import { queuesDashboard } from './queues.ts';
import { siteDetailDashboard } from './site-detail.ts';
import { wallDashboard } from './wall.ts';

export interface DashboardModule {
  file: string;
  build: () => dashboard.Dashboard;
}

export const DASHBOARD_MODULES: readonly DashboardModule[] = [
  { file: 'wall.json', build: wallDashboard },
  { file: 'connectivity.json', build: connectivityDashboard },
  { file: 'queues.json', build: queuesDashboard },
  { file: 'equipment.json', build: equipmentDashboard },
  { file: 'site-detail.json', build: siteDetailDashboard },
  { file: 'alerts.json', build: alertsDashboard },
];
