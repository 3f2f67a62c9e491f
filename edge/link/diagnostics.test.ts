// The agent's own check of a diagnostic's arguments (it never trusts the wire) and its bound on diagnostics at
// once; no program is started here (test/remote-diagnostics.test.ts runs the real ones).
import { describe, expect, it } from 'vitest';
import { LogRing } from '../log-ring.ts';
import { DIAG_MAX_LOG_BYTES } from '../../protocol/index.ts';
import { diagLogs, diagnosticHandlers, MAX_RUNNING } from './diagnostics.ts';

const cmd = (name: string, args: Record<string, unknown>) => ({ id: `${name}-1`, name, issuedAt: Date.now(), args });

describe('agent diagnostics', () => {
  it('refuse hostile or wrong arguments before running anything', async () => {
    const handlers = diagnosticHandlers({ restartCollector: () => Promise.reject(new Error('not reached')), pingPath: '/nonexistent/ping-must-not-run' });
    const ping = handlers.get('ping');
    if (ping === undefined) throw new Error('no ping handler');
    await expect(ping(cmd('ping', { host: '; rm -rf /' }))).rejects.toMatchObject({ code: 'E_DIAG_ARGS', message: expect.stringContaining('ping: host: a host name or an IP address') });
    await expect(ping(cmd('ping', { host: '127.0.0.1', count: 10_000 }))).rejects.toMatchObject({ code: 'E_DIAG_ARGS', message: expect.stringContaining('count') });
    await expect(handlers.get('traceroute')?.(cmd('traceroute', { host: '--help' }))).rejects.toMatchObject({ code: 'E_DIAG_ARGS' });
    await expect(handlers.get('logs')?.(cmd('logs', { lines: 100_000 }))).rejects.toMatchObject({ code: 'E_DIAG_ARGS' });
    await expect(handlers.get('logs')?.(cmd('logs', {}))).rejects.toMatchObject({ code: 'E_DIAG_NO_LOGS' });
  });

  it(`runs at most ${MAX_RUNNING} at once and refuses the next`, async () => {
    const release: (() => void)[] = [];
    const handlers = diagnosticHandlers({ restartCollector: (name) => new Promise((resolve) => release.push(() => resolve({ collector: name }))) });
    const restart = handlers.get('restart-collector');
    if (restart === undefined) throw new Error('no handler');
    const running = [restart(cmd('restart-collector', { name: 'a' })), restart(cmd('restart-collector', { name: 'b' }))];
    await expect(restart(cmd('restart-collector', { name: 'c' }))).rejects.toMatchObject({ code: 'E_DIAG_BUSY' });
    for (const r of release) r();
    expect(await Promise.all(running)).toEqual([{ collector: 'a' }, { collector: 'b' }]);
    await expect(Promise.race([restart(cmd('restart-collector', { name: 'd' })), Promise.resolve('pending')])).resolves.toBe('pending');
    release.at(-1)?.();
  });

  it('logs returns the newest lines within the byte bound', () => {
    const ring = new LogRing();
    for (let i = 0; i < 500; i++) ring.push(`{"n":${i},"msg":"${'x'.repeat(1000)}"}\n`);
    const r = diagLogs({ lines: 500 }, ring);
    const lines = r.lines as string[];
    expect(JSON.stringify(lines).length).toBeLessThanOrEqual(DIAG_MAX_LOG_BYTES);
    expect(lines.at(-1)).toContain('"n":499');
    expect(r).toMatchObject({ truncated: true, asked: 500, kept: 500 });
    expect(diagLogs({ lines: 3 }, ring)).toMatchObject({ returned: 3, truncated: false });
  });
});
