// The state file: schema-checked on load (a corrupt file is moved aside, logged, counted, and the engine starts
// afresh), written atomically with coalesced writes.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import { createLogger } from '../logger.ts';
import type { HubPoint } from '../write/sink.ts';
import { AlertEngine } from './engine.ts';
import { parseRulesFile } from './rules-file.ts';
import { AlertStateFile, alertStateSchema, type AlertState } from './state-store.ts';

const T0 = Date.parse('2025-06-02T02:00:00Z');

function logged(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

const dir = (): string => mkdtempSync(join(tmpdir(), 'ioc-alert-state-'));

const STATE: AlertState = {
  version: 1,
  alerts: [
    {
      key: 'probe-down|xa-a|target=portal',
      id: 'probe-down-1a2b3c4d-m0',
      rule: 'probe-down',
      site: 'xa-a',
      instance: 'target=portal',
      severity: 'critical',
      state: 'firing',
      since: T0,
      firingAt: T0,
      updatedAt: T0,
      value: 0,
      summary: { vi: 'Mất kết nối', en: 'Probe down' },
      labels: { agent: 'pi-1', target: 'portal' },
      active: true,
      announced: true,
      forMs: 0,
      clearForMs: 0,
      holdMs: 0,
      marksSiteDown: false,
      derived: false,
    },
  ],
  silences: [{ id: 's-1', kind: 'silence', sites: ['xa-b'], startsAt: T0, endsAt: T0 + 3_600_000, createdBy: 'ops', comment: '' }],
  history: [],
  rules: { 'probe-down': [['xa-a|target=portal', true]] },
};

describe('alert state file', () => {
  it('loads what it saved, and none when there is no file yet', async () => {
    const file = new AlertStateFile(join(dir(), 'alerts-state.json'));
    expect(await file.load()).toBeUndefined();
    await file.save(STATE);
    expect(await file.load()).toEqual(STATE);
    expect(file.corrupt).toBe(0);
  });

  it('writes atomically: only the latest of queued saves lands, no temporary file is left', async () => {
    const d = dir();
    const file = new AlertStateFile(join(d, 'alerts-state.json'));
    for (let i = 0; i < 20; i++) void file.saveText(JSON.stringify({ ...STATE, history: [], rules: { n: i } }));
    await file.flush();
    expect((await file.load())?.rules).toEqual({ n: 19 });
    expect(readdirSync(d)).toEqual(['alerts-state.json']);
  });

  it.each([
    ['not JSON', '{"version":1,"alerts":[', /not valid JSON/],
    ['an unknown version', JSON.stringify({ ...STATE, version: 2 }), /version/],
    ['an alert of the wrong shape', JSON.stringify({ ...STATE, alerts: [{ ...STATE.alerts[0], since: 'yesterday', active: 1 }] }), /alerts\.0\.since/],
    ['a silence without an end', JSON.stringify({ ...STATE, silences: [{ id: 's-1', kind: 'silence', startsAt: T0, createdBy: 'ops', comment: '' }] }), /silences\.0\.endsAt/],
  ])('a file with %s: moved aside, logged with the problem, counted, and a fresh start', async (_what, text, problem) => {
    const path = join(dir(), 'alerts-state.json');
    writeFileSync(path, text);
    const { logger, lines } = logged();
    const file = new AlertStateFile(path, logger);
    expect(await file.load()).toBeUndefined();
    expect(file.corrupt).toBe(1);
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(`${path}.corrupt`, 'utf8')).toBe(text);
    const line = lines.find((l) => l.code === 'E_ALERT_STATE_FILE');
    expect(line).toMatchObject({ level: 50, path, movedTo: `${path}.corrupt` });
    expect(String(line?.problem)).toMatch(problem);
  });

  it('a file that cannot be read at all is an error for the operator, not a fresh start', async () => {
    const path = join(dir(), 'alerts-state.json');
    mkdirSync(path);
    const file = new AlertStateFile(path);
    await expect(file.load()).rejects.toMatchObject({ code: 'E_ALERT_STATE_FILE' });
    expect(file.corrupt).toBe(0);
  });

  it('the schema holds the state the engine writes', async () => {
    const path = join(dir(), 'alerts-state.json');
    const engine = new AlertEngine({
      rules: parseRulesFile({ rules: [{ name: 'probe-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5 }] }),
      outputs: { active: () => undefined, resolved: () => undefined },
      now: () => T0,
      evaluateIntervalMs: 0,
      startupGraceMs: 0,
      statePath: path,
    });
    await engine.start();
    engine.onPoints([{ measurement: 'net_probe', tags: { site: 'xa-a', agent: 'pi-1', target: 'portal' }, fields: { up: false }, timestamp: T0 }]);
    engine.addSilence({ sites: ['xa-b'], endsAt: T0 + 3_600_000 }, 'ops');
    await engine.stop();
    const parsed = alertStateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    expect(parsed.success).toBe(true);
    expect(parsed.data?.alerts.map((a) => a.state)).toEqual(['firing']);
    expect(parsed.data?.silences).toHaveLength(1);
  });
});

describe('the engine on a corrupt state file', () => {
  it('starts afresh, counts it, alerts as usual, and leaves a valid file behind', async () => {
    const path = join(dir(), 'alerts-state.json');
    writeFileSync(path, '\u0000\u0000garbage after a power cut');
    const clock = { t: T0 };
    const active: AlertRecord[] = [];
    const { logger, lines } = logged();
    const setup = (): AlertEngine =>
      new AlertEngine({
        rules: parseRulesFile({ rules: [{ name: 'site-offline', type: 'agent-offline', for: '2m' }] }),
        outputs: { active: (r) => active.push(r), resolved: () => undefined },
        now: () => clock.t,
        evaluateIntervalMs: 0,
        startupGraceMs: 0,
        statePath: path,
        logger,
      });
    const engine = setup();
    await engine.start();
    expect(engine.stats().stateFileCorrupt).toBe(1);
    expect(lines.some((l) => l.code === 'E_ALERT_STATE_FILE' && l.level === 50)).toBe(true);
    const offline: HubPoint = { measurement: 'agent', tags: { site: 'xa-a', agent: 'pi-1' }, fields: { online: false }, timestamp: T0 };
    engine.onPoints([offline]);
    clock.t += 120_000;
    engine.tick();
    expect(active.map((r) => r.rule)).toEqual(['site-offline']);
    await engine.stop();
    const again = setup();
    await again.start();
    expect(again.stats().stateFileCorrupt).toBe(0);
    expect(again.list().map((a) => [a.rule, a.state])).toEqual([['site-offline', 'firing']]);
    await again.stop();
  });
});
