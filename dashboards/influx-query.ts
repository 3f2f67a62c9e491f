// The one query type the foundation SDK lacks: a raw InfluxQL target for Grafana's InfluxDB datasource.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';

export type InfluxResultFormat = 'time_series' | 'table';

/** The target JSON Grafana's InfluxDB (InfluxQL) datasource stores for a raw query. */
export interface InfluxQuery extends cog.Dataquery {
  refId: string;
  query: string;
  rawQuery: true;
  resultFormat: InfluxResultFormat;
  datasource?: common.DataSourceRef;
  alias?: string;
  hide?: boolean;
  /** Annotation targets: which columns give the text and the tags. */
  textColumn?: string;
  tagsColumn?: string;
  titleColumn?: string;
  fromAnnotations?: boolean;
}

export class InfluxQueryBuilder implements cog.Builder<InfluxQuery> {
  protected readonly internal: InfluxQuery;

  constructor(query: string) {
    this.internal = {
      refId: 'A',
      query,
      rawQuery: true,
      resultFormat: 'time_series',
      // Dataquery's marker method; JSON.stringify drops functions, so it never reaches the dashboard JSON.
      _implementsDataqueryVariant: () => undefined,
    };
  }

  build(): InfluxQuery {
    return this.internal;
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  query(query: string): this {
    this.internal.query = query;
    return this;
  }

  resultFormat(format: InfluxResultFormat): this {
    this.internal.resultFormat = format;
    return this;
  }

  /** Rows with tags as columns (tables, geomap, stat tiles fed by transformations). */
  table(): this {
    return this.resultFormat('table');
  }

  datasource(ds: common.DataSourceRef): this {
    this.internal.datasource = ds;
    return this;
  }

  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  hide(hide: boolean): this {
    this.internal.hide = hide;
    return this;
  }

  annotationColumns(cols: { text: string; tags?: string; title?: string }): this {
    this.internal.fromAnnotations = true;
    this.internal.textColumn = cols.text;
    if (cols.tags !== undefined) this.internal.tagsColumn = cols.tags;
    if (cols.title !== undefined) this.internal.titleColumn = cols.title;
    return this;
  }
}
