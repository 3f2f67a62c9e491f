// Points written per site since local midnight (Asia/Ho_Chi_Minh), in memory.

export class PointsToday {
  private day = '';
  private readonly counts = new Map<string, number>();
  private readonly dayFormat: Intl.DateTimeFormat;

  constructor(
    timeZone = 'Asia/Ho_Chi_Minh',
    private readonly now: () => number = Date.now,
  ) {
    this.dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  private roll(): void {
    const today = this.dayFormat.format(this.now());
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
