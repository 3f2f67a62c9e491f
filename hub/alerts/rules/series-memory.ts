// What a rule remembers per series (last state, last seen, samples), bounded per site and in total: a series
// past the bound is not remembered (so it never alerts) and is counted; one site cannot crowd out the others.

export class SeriesMemory<V> {
  private readonly map = new Map<string, { site: string; value: V }>();
  private readonly perSite = new Map<string, number>();
  /** New series refused because the site or the rule was at its bound. */
  refused = 0;

  constructor(
    private readonly maxPerSite: number,
    private readonly maxTotal: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  /** Remembers `value` for `key` (a series of `site`); false when it is new and a bound is reached. */
  set(site: string, key: string, value: V): boolean {
    const had = this.map.get(key);
    if (had !== undefined) {
      had.value = value;
      return true;
    }
    const n = this.perSite.get(site) ?? 0;
    if (n >= this.maxPerSite || this.map.size >= this.maxTotal) {
      this.refused++;
      return false;
    }
    this.perSite.set(site, n + 1);
    this.map.set(key, { site, value });
    return true;
  }

  *values(): IterableIterator<V> {
    for (const e of this.map.values()) yield e.value;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [k, e] of this.map) yield [k, e.value];
  }
}
