import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRulesFile, parseRulesFile } from './rules-file.ts';

describe('alert rules file', () => {
  it('parses the sample', () => {
    const rules = loadRulesFile(fileURLToPath(new URL('./samples/alerts.yaml', import.meta.url)));
    expect(rules.rules.map((r) => r.type)).toContain('agent-offline');
    expect(rules.storm.groupWait).toBe(30_000);
    expect(rules.rules.find((r) => r.name === 'site-offline')).toMatchObject({ forMs: 120_000, clearForMs: 60_000, marksSiteDown: true, groupBy: ['area|province'], groupMin: 2 });
    expect(rules.selfCheck).toMatchObject({ enabled: true, for: 30_000, massDrop: { share: 0.3, window: 30_000, minAreas: 2 } });
  });

  it('reports every problem with its path', () => {
    const bad = () =>
      parseRulesFile({
        rules: [
          { name: 'a', type: 'threshold', measurement: 'host', field: 'x' },
          { name: 'b', type: 'nope' },
          { name: 'c', type: 'absence', measurement: 'display', after: 'soon' },
        ],
        storm: { composites: [{ name: 'pc', rules: ['a', 'zz'], summary: { vi: 'x', en: 'x' } }] },
      });
    expect(bad).toThrow(/rules\.0: exactly one of above, below/);
    expect(bad).toThrow(/rules\.1\.type: unknown rule type "nope"/);
    expect(bad).toThrow(/rules\.2\.after: a duration/);
    expect(bad).toThrow(/storm\.composites\.0\.rules: unknown rule zz/);
  });
});
