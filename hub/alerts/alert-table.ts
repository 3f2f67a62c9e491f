// The open alerts by key, and the indexes kept beside them: every insert and delete goes through put/drop, every
// change of `active` through setActive, so an index (site down, alerts per rule + site) never has to scan.
import type { Alert } from './alert.ts';

/** Told of each alert entering (+1) or leaving (-1) the table; around a change of `active`, of its leaving and its coming back. */
export interface AlertIndex {
  track(a: Alert, by: 1 | -1): void;
}

export class AlertTable {
  private readonly map = new Map<string, Alert>();
  private readonly indexes: AlertIndex[] = [];
  /** Bumped on every insert and delete (the API's page order is sorted again only then). */
  version = 0;

  addIndex(index: AlertIndex): void {
    this.indexes.push(index);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): Alert | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Is this very alert (not an older one of the same key) in the table? */
  holds(a: Alert): boolean {
    return this.map.get(a.key) === a;
  }

  values(): IterableIterator<Alert> {
    return this.map.values();
  }

  /** A copy to iterate over while alerts come and go. */
  snapshot(): Alert[] {
    return [...this.map.values()];
  }

  findById(id: string): Alert | undefined {
    for (const a of this.map.values()) if (a.id === id) return a;
    return undefined;
  }

  put(a: Alert): void {
    this.map.set(a.key, a);
    this.version++;
    for (const i of this.indexes) i.track(a, 1);
  }

  drop(a: Alert): void {
    if (!this.holds(a)) return;
    this.map.delete(a.key);
    this.version++;
    for (const i of this.indexes) i.track(a, -1);
  }

  setActive(a: Alert, active: boolean): void {
    if (a.active === active) return;
    const held = this.holds(a);
    if (held) for (const i of this.indexes) i.track(a, -1);
    a.active = active;
    if (held) for (const i of this.indexes) i.track(a, 1);
  }
}

/** A count per key that forgets keys at zero. */
export function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
