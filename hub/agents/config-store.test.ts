import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigStore, lineDiff, parseScope } from './config-store.ts';
import { SqliteRegistryStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-config-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fleet(name: string): Promise<ConfigStore> {
  const path = join(dir, `${name}.db`);
  const reg = SqliteRegistryStore.open(path);
  const site = (slug: string, area: string) => ({ slug, name: `Xã ${slug}`, code: slug, province: '25', provinceName: 'Phú Thọ', area, areaName: `Khu ${area}` });
  await reg.updateSites(() => [site('xa-a', 'n'), site('xa-b', 'n'), site('xa-c', 's')]);
  await reg.putAgents(['xa-a', 'xa-b', 'xa-c'].map((s) => ({ site: s, agent: 'pi-1', tokenHash: 'h', createdAt: 'now' })));
  await reg.close();
  return ConfigStore.open(path);
}

describe('ConfigStore', () => {
  it('renders per agent, the most specific scope wins, history keeps who and when', async () => {
    const store = await fleet('scopes');
    const all = store.set({ scope: parseScope('all'), template: 'logLevel: warn\ncollectors:\n  - { type: host, name: "{{site}}-{{agent}}", intervalS: 60 }\n', who: 'cli:an' });
    expect(all.agents.map((a) => a.site)).toEqual(['xa-a', 'xa-b', 'xa-c']);
    const site = store.set({ scope: parseScope('site:xa-b'), template: 'logLevel: debug\n', who: 'cli:binh', comment: 'debug xa-b' });
    expect(site.agents.map((a) => a.site)).toEqual(['xa-b']);
    // A newer "all" does not override the site's own revision.
    const all2 = store.set({ scope: parseScope('area:n'), template: 'logLevel: error\n', who: 'cli:an' });
    expect(all2.agents.map((a) => a.site)).toEqual(['xa-a']);
    const a = parse(store.rendered('xa-a', 'pi-1') ?? '') as Record<string, unknown>;
    expect(a).toMatchObject({ site: 'xa-a', agent: 'pi-1', configRev: all2.rev, logLevel: 'error' });
    expect(parse(store.rendered('xa-c', 'pi-1') ?? '')).toMatchObject({ configRev: all.rev, collectors: [{ name: 'xa-c-pi-1' }] });
    expect(store.revisions().map((r) => [r.rev, r.who, r.agents])).toEqual([[all2.rev, 'cli:an', 1], [site.rev, 'cli:binh', 1], [all.rev, 'cli:an', 3]]);
    expect(() => store.rollback({ scope: parseScope('area:n'), who: 'cli:an' })).toThrow(/nothing to roll back to/);
    store.set({ scope: parseScope('area:n'), template: 'logLevel: fatal\n', who: 'cli:an' });
    const back = store.rollback({ scope: parseScope('area:n'), who: 'cli:chi' });
    expect(back.from).toBe(all2.rev);
    expect(parse(store.rendered('xa-a', 'pi-1') ?? '')).toMatchObject({ configRev: back.rev, logLevel: 'error' });
    expect(store.revision(back.rev)).toMatchObject({ who: 'cli:chi', rollbackOf: all2.rev, comment: `rollback to revision ${all2.rev}` });
    // An agent enrolled afterwards gets the newest revision of its most specific scope.
    const reg = SqliteRegistryStore.open(store.path);
    await reg.putAgents([{ site: 'xa-b', agent: 'pi-2', tokenHash: 'h', createdAt: 'now' }, { site: 'xa-c', agent: 'pi-2', tokenHash: 'h', createdAt: 'now' }]);
    await reg.close();
    expect(store.adoptNew()).toEqual({ added: ['xa-b/pi-2', 'xa-c/pi-2'], invalid: [] });
    expect(parse(store.rendered('xa-b', 'pi-2') ?? '')).toMatchObject({ agent: 'pi-2', configRev: site.rev, logLevel: 'debug' });
    expect(parse(store.rendered('xa-c', 'pi-2') ?? '')).toMatchObject({ configRev: all.rev, collectors: [{ name: 'xa-c-pi-2' }] });
    expect(store.adoptNew().added).toEqual([]);
    store.close();
  });

  it('refuses before storing a config that would not validate, naming the agent and the field', async () => {
    const store = await fleet('refuse');
    expect(() => store.set({ scope: parseScope('site:xa-a'), template: 'batch:\n  maxPoints: 0\n', who: 'x' })).toThrow(/xa-a\/pi-1[\s\S]*batch\.maxPoints/);
    expect(() => store.set({ scope: parseScope('all'), template: 'hub:\n  token: abc\n', who: 'x' })).toThrow(/hub\.token/);
    expect(() => store.set({ scope: parseScope('all'), template: 'collectors:\n  - { type: nope }\n', who: 'x' })).toThrow(/collectors\.0\.type/);
    expect(() => store.set({ scope: parseScope('all'), template: 'logLevel: {{nope}}\n', who: 'x' })).toThrow(/\{\{nope\}\}/);
    expect(() => store.set({ scope: parseScope('site:xa-zz'), template: 'logLevel: info\n', who: 'x' })).toThrow(/matches no site/);
    expect(store.revisions()).toEqual([]);
    store.close();
  });

  it('diffs by line', () => {
    expect(lineDiff('a\nb\nc', 'a\nc\nd')).toBe('  a\n- b\n  c\n+ d');
  });
});
