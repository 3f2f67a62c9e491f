// The sample display rules, run by the real engine on an injected clock: a dead or frozen display fires during
// office hours, a quiet counter (its number unchanged for an hour) does not, nor a dead display after closing time.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../../protocol/index.ts';
import type { HubPoint } from '../../write/sink.ts';
import { AlertEngine } from '../engine.ts';
import { loadRulesFile } from '../rules-file.ts';

const TUE_9AM = Date.parse('2026-12-01T02:00:00Z'); // Tuesday 09:00 in Hanoi
const TUE_6PM = Date.parse('2026-12-01T11:00:00Z'); // after closing time
const MIN = 60_000;

function setup(start: number): { engine: AlertEngine; fired: AlertRecord[]; clock: { t: number } } {
  const clock = { t: start };
  const fired: AlertRecord[] = [];
  const engine = new AlertEngine({
    rules: loadRulesFile(fileURLToPath(new URL('./alerts.yaml', import.meta.url))),
    outputs: { active: (r) => fired.push(r), resolved: () => undefined },
    now: () => clock.t,
    evaluateIntervalMs: 0,
    startupGraceMs: 0,
    sliceBudgetMs: 60_000,
  });
  return { engine, fired, clock };
}

const base = { site: 'xa-a', agent: 'pi-1', area: 'tam-dao', province: 'vinh-phuc' };
const display = (t: number, fields: HubPoint['fields']): HubPoint => ({ measurement: 'display', tags: { ...base, display: 'lobby' }, fields, timestamp: t });
const queue = (t: number, counter: string, current: number): HubPoint => ({ measurement: 'queue', tags: { ...base, counter }, fields: { waiting: 0, issued_total: current, served_total: current, current_number: current }, timestamp: t });

/** Feeds one point a minute for `minutes`, ticking the engine after each. */
async function run(start: number, minutes: number, points: (t: number) => HubPoint[]): Promise<AlertRecord[]> {
  const { engine, fired, clock } = setup(start);
  await engine.start();
  for (let i = 0; i <= minutes; i++) {
    clock.t = start + i * MIN;
    engine.onPoints(points(clock.t));
    engine.tick();
  }
  await engine.stop();
  return fired.filter((r) => r.state === 'firing');
}

const rulesOf = (records: readonly AlertRecord[]): string[] => [...new Set(records.map((r) => r.rule))].sort();

describe('sample display rules', () => {
  it('a dead display (alive=0) fires display-down after 3 minutes of office hours', async () => {
    const fired = await run(TUE_9AM, 5, (t) => [display(t, { alive: 0, last_seen_s: 600, frozen: 0 })]);
    expect(rulesOf(fired)).toEqual(['display-down']);
    expect(fired[0]?.site).toBe('xa-a');
  });

  it('a frozen display (alive, shown number lagging) fires display-frozen', async () => {
    const fired = await run(TUE_9AM, 5, (t) => [display(t, { alive: 1, last_seen_s: 5, frozen: 1, shown_number: 12, expected_number: 20 })]);
    expect(rulesOf(fired)).toEqual(['display-frozen']);
  });

  it('a quiet counter with a live display fires nothing, however long the number stays put', async () => {
    const fired = await run(TUE_9AM, 60, (t) => [queue(t, 'quay-1', 7), queue(t, 'all', 7), display(t, { alive: 1, last_seen_s: 5, frozen: 0, shown_number: 7, expected_number: 7 })]);
    expect(fired).toEqual([]);
  });

  it('a dead display after closing time fires nothing', async () => {
    const fired = await run(TUE_6PM, 10, (t) => [display(t, { alive: 0, last_seen_s: 600, frozen: 0 })]);
    expect(fired).toEqual([]);
  });
});
