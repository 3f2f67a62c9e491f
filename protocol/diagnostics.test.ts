import { describe, expect, it } from 'vitest';
import { parseDiagnosticArgs } from './diagnostics.ts';

describe('diagnostic arguments', () => {
  it('fill their defaults and keep plain hosts, names and servers', () => {
    expect(parseDiagnosticArgs('ping', { host: '127.0.0.1' })).toEqual({ ok: true, args: { host: '127.0.0.1', count: 4, timeoutS: 2 } });
    expect(parseDiagnosticArgs('traceroute', { host: 'portal.phutho.gov.vn' })).toMatchObject({ ok: true, args: { maxHops: 15, queries: 1 } });
    expect(parseDiagnosticArgs('dns', { name: 'localhost', server: '127.0.0.1:5353' })).toMatchObject({ ok: true, args: { type: 'A', server: '127.0.0.1:5353' } });
    expect(parseDiagnosticArgs('dns', { name: 'x.vn', server: '2001:4860:4860::8888' }).ok).toBe(true);
    expect(parseDiagnosticArgs('ping', { host: 'fe80::1' }).ok).toBe(true);
    expect(parseDiagnosticArgs('logs', {})).toEqual({ ok: true, args: { lines: 100 } });
    expect(parseDiagnosticArgs('probe-now', undefined)).toEqual({ ok: true, args: {} });
  });

  it('refuse shell text, options in disguise, huge counts and unknown keys, saying which argument', () => {
    const refused = (name: Parameters<typeof parseDiagnosticArgs>[0], args: unknown): string => {
      const r = parseDiagnosticArgs(name, args);
      if (r.ok) throw new Error(`accepted ${JSON.stringify(args)}`);
      return r.error;
    };
    expect(refused('ping', { host: '; rm -rf /' })).toMatch(/^host: a host name or an IP address/);
    expect(refused('ping', { host: '$(reboot)' })).toMatch(/^host:/);
    expect(refused('ping', { host: '-f' })).toMatch(/not starting with -/);
    expect(refused('traceroute', { host: 'a b' })).toMatch(/^host:/);
    expect(refused('ping', { host: '1.1.1.1', count: 1_000_000 })).toMatch(/^count:/);
    expect(refused('ping', { host: '1.1.1.1', count: '3' })).toMatch(/^count:/);
    expect(refused('logs', { lines: 501 })).toMatch(/^lines:/);
    expect(refused('dns', { name: 'x.vn', server: '8.8.8.8; id' })).toMatch(/^server:/);
    expect(refused('ping', { host: '1.1.1.1', shell: true })).toMatch(/shell/);
    expect(refused('ping', {})).toMatch(/^host:/);
    expect(refused('ping', { host: 'x'.repeat(300) })).toMatch(/^host:/);
  });
});
