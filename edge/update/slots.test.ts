import { mkdirSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentSlot, installRootOf, launchStep, otherSlot, readSlotState, switchCurrent, writeSlotState, type SlotState } from './slots.ts';

let root: string;
const NOW = 1_800_000_000_000;

function trial(over: Partial<SlotState> = {}): SlotState {
  return { state: 'trial', version: '1.1.0', slot: 'a', previous: 'ioc-edge-agent-1.0.0', previousVersion: '1.0.0', deadline: NOW + 60_000, attempts: 0, maxAttempts: 2, at: NOW, ...over };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ioc-slots-'));
  for (const d of ['ioc-edge-agent-1.0.0', 'a']) mkdirSync(join(root, d));
  switchCurrent(root, 'ioc-edge-agent-1.0.0');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('A/B slots', () => {
  it('finds the install root only through current, and the other slot', () => {
    expect(installRootOf(join(root, 'ioc-edge-agent-1.0.0'))).toBe(root);
    expect(installRootOf(join(root, 'a'))).toBeUndefined(); // not the slot in use
    expect(currentSlot(root)).toBe('ioc-edge-agent-1.0.0');
    expect(otherSlot('ioc-edge-agent-1.0.0')).toBe('a');
    expect(otherSlot('a')).toBe('b');
    expect(otherSlot('b')).toBe('a');
  });

  it('switches current atomically to a relative link', () => {
    switchCurrent(root, 'a');
    expect(readlinkSync(join(root, 'current'))).toBe('a');
    expect(installRootOf(join(root, 'a'))).toBe(root);
  });

  it('runs a trial, counting its starts, until its attempts are spent, then switches back', () => {
    switchCurrent(root, 'a');
    writeSlotState(root, trial());
    expect(launchStep(root, NOW + 1000)).toEqual({ slot: 'a', trialDeadline: NOW + 60_000 });
    expect(readSlotState(root)?.attempts).toBe(1);
    expect(launchStep(root, NOW + 2000)).toEqual({ slot: 'a', trialDeadline: NOW + 60_000 });
    const third = launchStep(root, NOW + 3000);
    expect(third.slot).toBe('ioc-edge-agent-1.0.0');
    expect(third.rolledBack).toMatchObject({ state: 'rolled-back', reason: expect.stringMatching(/did not stay up: 2 starts/) as unknown as string });
    expect(readlinkSync(join(root, 'current'))).toBe('ioc-edge-agent-1.0.0');
    // The previous version starts as usual afterwards.
    expect(launchStep(root, NOW + 4000)).toEqual({ slot: 'ioc-edge-agent-1.0.0' });
  });

  it('switches back a trial started after its deadline', () => {
    switchCurrent(root, 'a');
    writeSlotState(root, trial());
    const step = launchStep(root, NOW + 61_000);
    expect(step.slot).toBe('ioc-edge-agent-1.0.0');
    expect(readSlotState(root)).toMatchObject({ state: 'rolled-back', reason: expect.stringMatching(/health check/) as unknown as string });
  });

  it('leaves a committed version alone, and a torn state file means no trial', () => {
    switchCurrent(root, 'a');
    writeSlotState(root, trial({ state: 'committed' }));
    expect(launchStep(root, NOW + 120_000)).toEqual({ slot: 'a' });
    rmSync(join(root, 'update-state.json'));
    expect(readSlotState(root)).toBeUndefined();
  });
});
