// Points written per site since local midnight (Vietnam, UTC+7), in memory.
import { localDayNumber } from '../../common/local-day.ts';

export class PointsToday {
  private day = Number.NaN;
  private readonly counts = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  private roll(): void {
    const today = localDayNumber(this.now());
    if (today !== this.day) {
      this.day = today;
      this.counts.clear();
    }
  }

  add(site: string, n: number): void {
    this.roll();
    this.counts.set(site, (this.counts.get(site) ?? 0) + n);
  }

  get(site: string): number {
    this.roll();
    return this.counts.get(site) ?? 0;
  }
}
