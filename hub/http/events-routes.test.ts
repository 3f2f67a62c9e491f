import { describe, expect, it } from 'vitest';
import { parseEventId, sseFrame } from './events-routes.ts';

describe('live-update event ids and frames', () => {
  it('reads bootId.rev and nothing else', () => {
    expect(parseEventId('3f2a9c1d.42')).toEqual({ bootId: '3f2a9c1d', rev: 42 });
    for (const bad of [undefined, '', '42', 'abc.', '.1', 'a b.1', 'x.1.2', `a.${'9'.repeat(16)}`]) expect(parseEventId(bad)).toBeUndefined();
  });

  it('one frame: id, event, one data line of JSON, a blank line', () => {
    expect(sseFrame('b.3', 'sites', { rev: 3, note: 'hai\ndòng' })).toBe('id: b.3\nevent: sites\ndata: {"rev":3,"note":"hai\\ndòng"}\n\n');
  });
});
