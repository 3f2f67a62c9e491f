// The committed dashboards/generated/*.json must be exactly what dashboards/generate.ts produces now.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, generateAll, staleFiles } from '../dashboards/generate.ts';

describe('dashboards/generated', () => {
  it('matches a fresh generation (run `npm run dashboards` after changing dashboards/*.ts)', () => {
    expect(staleFiles()).toEqual([]);
  });

  it('holds no file the generator does not write', () => {
    expect(readdirSync(GENERATED_DIR).sort()).toEqual([...generateAll().keys()].sort());
  });

  it('gives every dashboard a fixed, unique uid and a bilingual title', () => {
    const dashboards = [...generateAll()].filter(([f]) => f !== 'playlist.json').map(([, c]) => JSON.parse(c) as { uid?: string; title: string });
    const uids = dashboards.map((d) => d.uid);
    expect(new Set(uids).size).toBe(dashboards.length);
    for (const d of dashboards) {
      expect(d.uid).toMatch(/^ioc-[a-z-]+$/);
      expect(d.title).toMatch(/ \/ /);
    }
  });

  it('the playlist rotates existing dashboards by uid', () => {
    const all = generateAll();
    const uids = new Set([...all].filter(([f]) => f !== 'playlist.json').map(([, c]) => (JSON.parse(c) as { uid: string }).uid));
    const playlist = JSON.parse(all.get('playlist.json') ?? '{}') as { items: { type: string; value: string }[] };
    expect(playlist.items.length).toBeGreaterThan(0);
    for (const item of playlist.items) {
      expect(item.type).toBe('dashboard_by_uid');
      expect(uids.has(item.value)).toBe(true);
    }
  });
});
