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

  it('places every panel of every dashboard inside the 24-column grid, none overlapping another', () => {
    for (const [file, content] of generateAll()) {
      if (file === 'playlist.json') continue;
      const d = JSON.parse(content) as { panels: { title: string; gridPos: { x: number; y: number; w: number; h: number } }[] };
      for (const p of d.panels) {
        const g = p.gridPos;
        expect(g.x, `${file} / ${p.title}`).toBeGreaterThanOrEqual(0);
        expect(g.w, `${file} / ${p.title}`).toBeGreaterThan(0);
        expect(g.x + g.w, `${file} / ${p.title}: x + w`).toBeLessThanOrEqual(24);
      }
      for (const [i, a] of d.panels.entries()) {
        for (const b of d.panels.slice(i + 1)) {
          const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
          expect(overlap, `${file}: ${a.title} overlaps ${b.title}`).toBe(false);
        }
      }
    }
  });

  it("the wall map's percent unit, colours and blind mapping apply to the state only, not to lat/lon", () => {
    const wall = JSON.parse(generateAll().get('wall.json') ?? '{}') as {
      panels: { type: string; fieldConfig: { defaults: Record<string, unknown>; overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[] } }[];
    };
    const map = wall.panels.find((p) => p.type === 'geomap');
    expect(map).toBeDefined();
    const defaults = map?.fieldConfig.defaults ?? {};
    expect(defaults.unit).toBeUndefined();
    expect(defaults.mappings ?? []).toEqual([]);
    const byName = (name: string): string[] => (map?.fieldConfig.overrides ?? []).filter((o) => o.matcher.id === 'byName' && o.matcher.options === name).flatMap((o) => o.properties.map((x) => x.id));
    expect(byName('state')).toEqual(expect.arrayContaining(['unit', 'thresholds', 'mappings']));
    expect(byName('lat')).toEqual([]);
    expect(byName('lon')).toEqual([]);
    const stateUnit = map?.fieldConfig.overrides.find((o) => o.matcher.options === 'state')?.properties.find((x) => x.id === 'unit')?.value;
    expect(stateUnit).toBe('percentunit');
  });
});
