import { describe, expect, it } from 'vitest';
import { WallFigures, wallFigureQueries, type InfluxRows } from './wall-figures.ts';

const NOW = Date.parse('2026-12-01T03:00:00Z'); // 10:00 in Vietnam

function figures(answer: (q: string) => InfluxRows | Error, now = () => NOW) {
  const asked: string[] = [];
  const outcomes: string[] = [];
  const f = new WallFigures({
    query: async (q) => {
      asked.push(q);
      const a = answer(q);
      if (a instanceof Error) throw a;
      return a;
    },
    cacheMs: 10_000,
    freshForMs: 300_000,
    portalTarget: 'portal',
    now,
    onRead: (o) => outcomes.push(o),
  });
  return { f, asked, outcomes };
}

describe('WallFigures', () => {
  it('reads the day since local midnight (UTC+7) and the last values within the freshness bound', () => {
    const q = wallFigureQueries(NOW, 300_000, "po'rtal");
    expect(q.tickets).toContain(`time >= ${Date.parse('2026-11-30T17:00:00Z')}ms`);
    expect(q.tickets).toContain(`"counter" = 'all'`);
    expect(q.wait).toContain('time > now() - 300s');
    expect(q.portal).toContain(`"target" = 'po\\'rtal'`);
  });

  it('sums the offices, averages their waits, counts the communes reaching the portal', async () => {
    const { f, outcomes } = figures((q) => (q.includes('issued') ? [{ issued: 40 }, { issued: 2 }] : q.includes('avg_wait_s') ? [{ wait: 300 }, { wait: 601 }] : [{ up: 1 }, { up: 0 }, { up: true }]));
    expect(await f.get()).toMatchObject({ ticketsToday: 42, ticketOffices: 2, avgWaitS: 451, waitOffices: 2, portalReachable: 2, portalReporting: 3 });
    expect(outcomes).toEqual(['ok']);
  });

  it('gives null (unknown), not 0, when no office reports or InfluxDB does not answer', async () => {
    const empty = figures(() => []);
    expect(await empty.f.get()).toMatchObject({ ticketsToday: null, avgWaitS: null, portalReachable: null, portalReporting: 0 });
    const down = figures(() => new Error('connect ECONNREFUSED'));
    expect(await down.f.get()).toMatchObject({ ticketsToday: null, avgWaitS: null, portalReachable: null, error: 'connect ECONNREFUSED' });
    expect(down.outcomes).toEqual(['failed']);
  });

  it('keeps a read for cacheMs, and callers at once share one read', async () => {
    let now = NOW;
    const { f, asked } = figures(() => [], () => now);
    await Promise.all([f.get(), f.get(), f.get()]);
    expect(asked).toHaveLength(3); // one read: its three statements
    now += 9_999;
    await f.get();
    expect(asked).toHaveLength(3);
    now += 1;
    await f.get();
    expect(asked).toHaveLength(6);
  });
});
