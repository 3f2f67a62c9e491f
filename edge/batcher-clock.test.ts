import { describe, expect, it } from 'vitest';
import type { Point } from '../protocol/index.ts';
import { Batcher } from './batcher.ts';
import type { ClockSyncState, EdgeClock } from './clock.ts';
import { MemoryOutbox, readOldest } from './outbox.ts';

/** A Pi that booted with its clock at 2020 (no RTC); NTP later steps it to the true time. */
class FakeClock implements EdgeClock {
  monoMs = 0;
  wallAtMono0 = 1_600_000_000_000;
  state: ClockSyncState = 'unsynced';
  now(): number {
    return this.wallAtMono0 + this.monoMs;
  }
  mono(): number {
    return this.monoMs;
  }
  syncState(): ClockSyncState {
    return this.state;
  }
}

const TRUE_T0 = 1_763_900_000_000;

async function stored(outbox: MemoryOutbox): Promise<Point[]> {
  const entries = await readOldest(outbox, 1000);
  return entries.flatMap((e) => JSON.parse(e.payload) as Point[]);
}

function setup(clock: FakeClock, holdUnsyncedMs = 600_000): { outbox: MemoryOutbox; batcher: Batcher } {
  const outbox = new MemoryOutbox({ maxBatches: 1000 });
  let seq = 0;
  // maxPoints 1: every reading is cut at once, so the hold decision runs per reading.
  const batcher = new Batcher({ outbox, maxPoints: 1, flushIntervalMs: 60_000, nextSeq: () => (seq += 1), clock, holdUnsyncedMs, maxHoldPoints: 100, jumpThresholdMs: 30_000 });
  return { outbox, batcher };
}

describe('Batcher clock correction', () => {
  it('holds readings while the clock is unsynced and corrects their t from monotonic time once it is synced', async () => {
    const clock = new FakeClock();
    const { outbox, batcher } = setup(clock);
    for (let i = 0; i < 3; i += 1) {
      batcher.add('host', { cpu_pct: i });
      clock.monoMs += 1000;
    }
    batcher.event('gpio_event', { state: 0 }, { pin: '27', name: 'mains' });
    await Promise.resolve();
    expect(outbox.depth).toBe(0);
    expect(batcher.clockStats().held).toBe(4);
    // NTP steps the clock to the truth: mono 3000 is now TRUE_T0 + 3000
    clock.wallAtMono0 = TRUE_T0;
    clock.state = 'synced';
    batcher.add('host', { cpu_pct: 3 });
    await batcher.flush();
    const points = await stored(outbox);
    expect(points.map((p) => [p.m, p.t])).toEqual([
      ['host', TRUE_T0],
      ['host', TRUE_T0 + 1000],
      ['host', TRUE_T0 + 2000],
      ['gpio_event', TRUE_T0 + 3000],
      ['host', TRUE_T0 + 3000],
    ]);
    expect(batcher.clockStats()).toEqual({ held: 0, corrected: 4, uncorrected: 0 });
  });

  it('a wall-clock step against monotonic time releases and corrects held readings even before the sync flag', async () => {
    const clock = new FakeClock();
    const { outbox, batcher } = setup(clock);
    batcher.add('host', { cpu_pct: 1 });
    clock.monoMs += 5000;
    clock.wallAtMono0 = TRUE_T0; // stepped; timesyncd has not written its flag yet
    batcher.add('host', { cpu_pct: 2 });
    await batcher.flush();
    expect((await stored(outbox)).map((p) => p.t)).toEqual([TRUE_T0, TRUE_T0 + 5000]);
  });

  it('readings already in the outbox keep their t: each delivery of a point carries the same time', async () => {
    const clock = new FakeClock();
    clock.state = 'unknown'; // no timesyncd to ask: nothing is held
    const { outbox, batcher } = setup(clock);
    batcher.add('host', { cpu_pct: 1 });
    await batcher.flush();
    const before = (await readOldest(outbox, 10)).map((e) => e.payload);
    clock.monoMs += 1000;
    clock.wallAtMono0 = TRUE_T0;
    batcher.add('host', { cpu_pct: 2 });
    await batcher.flush();
    const after = await readOldest(outbox, 10);
    expect(after[0]?.payload).toBe(before[0]);
    expect((JSON.parse(after[1]?.payload ?? '[]') as Point[])[0]?.t).toBe(TRUE_T0 + 1000);
  });

  it('past the hold bound readings go out with the time they have, counted; stop never loses held readings', async () => {
    const clock = new FakeClock();
    const { outbox, batcher } = setup(clock, 5000);
    batcher.add('host', { cpu_pct: 1 });
    clock.monoMs += 6000;
    batcher.add('host', { cpu_pct: 2 }); // bound reached: both appended as they are
    await Promise.resolve();
    await batcher.flush();
    expect((await stored(outbox)).map((p) => p.t)).toEqual([1_600_000_000_000, 1_600_000_006_000]);
    expect(batcher.clockStats()).toMatchObject({ held: 0, uncorrected: 1 });
    batcher.add('host', { cpu_pct: 3 });
    expect(batcher.clockStats().held).toBe(1);
    await batcher.flush(); // the agent stopping: held readings are appended, not dropped
    expect(outbox.depth).toBe(3);
  });
});
