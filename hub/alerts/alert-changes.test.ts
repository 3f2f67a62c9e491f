import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import { AlertChanges, type AlertChange } from './alert-changes.ts';

const record = { id: 'a1', site: 'xa-a', state: 'firing' } as AlertRecord;

describe('AlertChanges', () => {
  it('passes each output call on, then tells the listeners; a listener that throws stops nobody', () => {
    const changes = new AlertChanges();
    const calls: string[] = [];
    const seen: AlertChange[] = [];
    changes.on(() => {
      throw new Error('broken listener');
    });
    changes.on((c) => seen.push(c));
    const outputs = changes.wrap({ active: (r) => calls.push(`active ${r.id}`), resolved: (r) => calls.push(`resolved ${r.id}`) });
    outputs.active(record);
    outputs.resolved({ ...record, state: 'resolved' });
    outputs.history?.(record); // the wrapped outputs have none: only the listeners hear it
    changes.emit({ kind: 'silences' });
    expect(calls).toEqual(['active a1', 'resolved a1']);
    expect(seen).toEqual([
      { kind: 'active', id: 'a1', site: 'xa-a', state: 'firing' },
      { kind: 'resolved', id: 'a1', site: 'xa-a', state: 'resolved' },
      { kind: 'history', id: 'a1', site: 'xa-a', state: 'firing' },
      { kind: 'silences' },
    ]);
  });
});
