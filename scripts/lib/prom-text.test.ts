import { describe, expect, it } from 'vitest';
import { parsePromText } from './prom-text.ts';

describe('parsePromText', () => {
  it('sums labelled series and skips comments and junk', () => {
    const m = parsePromText(
      ['# HELP x y', '# TYPE a counter', 'a 3', 'b{code="E_SCHEMA"} 2', 'b{code="E_BAD_JSON"} 5', 'c NaN', 'garbage line here', 'd 1e3'].join('\n'),
    );
    expect(m.get('a')).toBe(3);
    expect(m.get('b')).toBe(7);
    expect(m.has('c')).toBe(false);
    expect(m.get('d')).toBe(1000);
  });
});
