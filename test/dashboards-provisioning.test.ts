// Grafana provisioning files: they parse, and carry what Grafana and our dashboards need.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { PROJECT_ROOT } from '../testkit/paths.ts';
import { INFLUX_DS } from '../dashboards/common.ts';

const dir = join(PROJECT_ROOT, 'dashboards', 'provisioning');

const datasourcesSchema = z.object({
  apiVersion: z.literal(1),
  datasources: z
    .array(
      z.object({
        name: z.string().min(1),
        uid: z.string(),
        type: z.literal('influxdb'),
        access: z.literal('proxy'),
        url: z.string().min(1),
        user: z.string().regex(/^\$\{\w+\}$/, 'from the environment'),
        jsonData: z.object({ dbName: z.literal('ioc'), version: z.literal('InfluxQL') }),
        secureJsonData: z.object({ password: z.string().regex(/^\$\{\w+\}$/, 'from the environment') }),
      }),
    )
    .length(1),
});

const dashboardsSchema = z.object({
  apiVersion: z.literal(1),
  providers: z.array(z.object({ name: z.string(), type: z.literal('file'), allowUiUpdates: z.literal(false), options: z.object({ path: z.string().startsWith('/') }) })).min(1),
});

describe('grafana provisioning', () => {
  it('datasource: InfluxQL on database ioc with uid ioc-influxdb, credentials from env', () => {
    const doc = datasourcesSchema.parse(parse(readFileSync(join(dir, 'datasources', 'influxdb.yaml'), 'utf8')));
    expect(doc.datasources[0]?.uid).toBe(INFLUX_DS.uid);
  });

  it('dashboards: a file provider whose path docker-compose mounts dashboards/generated on', () => {
    const doc = dashboardsSchema.parse(parse(readFileSync(join(dir, 'dashboards', 'ioc.yaml'), 'utf8')));
    const compose = readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
    for (const p of doc.providers) expect(compose).toContain(`./dashboards/generated:${p.options.path}:ro`);
  });
});
