import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { defaultGateway, icmpConfigSchema, icmpPlugin } from './icmp.ts';
import { parsePingOutput } from './ping-output.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'ioc-icmp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hasPing(): boolean {
  try {
    execFileSync('ping', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('ping output parser (golden fixtures)', () => {
  it('parses a clean run', () => {
    expect(parsePingOutput(fixture('ping-ok.txt'))).toEqual({
      kind: 'summary',
      summary: { transmitted: 3, received: 3, lossPct: 0, rttMinMs: 0.045, rttAvgMs: 0.054, rttMaxMs: 0.061, rttMdevMs: 0.007 },
    });
  });
  it('parses partial loss', () => {
    expect(parsePingOutput(fixture('ping-partial-loss.txt'))).toMatchObject({ summary: { transmitted: 5, received: 4, lossPct: 20, rttAvgMs: 4.625, rttMdevMs: 4.433 } });
  });
  it('parses 100% loss without rtt', () => {
    expect(parsePingOutput(fixture('ping-total-loss.txt'))).toEqual({ kind: 'summary', summary: { transmitted: 3, received: 0, lossPct: 100 } });
    expect(parsePingOutput(fixture('ping-unreachable.txt'))).toEqual({ kind: 'summary', summary: { transmitted: 3, received: 0, lossPct: 100 } });
  });
  it('recognises an unknown host', () => {
    expect(parsePingOutput('', fixture('ping-unknown-host.stderr.txt'))).toEqual({ kind: 'unknown_host' });
    expect(parsePingOutput('', fixture('ping-dns-failure.stderr.txt'))).toEqual({ kind: 'unknown_host' });
  });
  it('parses BusyBox output', () => {
    expect(parsePingOutput(fixture('ping-busybox.txt'))).toMatchObject({ summary: { received: 2, lossPct: 0, rttAvgMs: 21.242 } });
  });
  it('says unparsed for garbage', () => {
    expect(parsePingOutput('hello')).toEqual({ kind: 'unparsed' });
  });
});

describe('icmp collector', () => {
  it('reads the default gateway from /proc/net/route', async () => {
    const f = join(tmp, 'route');
    writeFileSync(f, 'Iface\tDestination\tGateway\tFlags\nwlan0\t0000A8C0\t00000000\t0001\neth0\t00000000\t0101A8C0\t0003\n');
    expect(await defaultGateway(f)).toBe('192.168.1.1');
    expect(await defaultGateway(join(tmp, 'none'))).toBeUndefined();
  });

  it('returns a no_ping reading when the binary is missing', async () => {
    const acc = new RecordingAccumulator();
    const cfg = icmpConfigSchema.parse({ type: 'icmp', host: '127.0.0.1', pingPath: join(tmp, 'no-such-ping') });
    await icmpPlugin.create(cfg, { logger: silentLogger() }).gather(acc, new AbortController().signal);
    expect(acc.only().fields).toEqual({ up: 0, result: 'no_ping' });
    expect(acc.only().tags).toEqual({ target: '127.0.0.1', method: 'icmp' });
  });

  it('turns a fake ping run into fields (loss, rtt, jitter)', async () => {
    const fake = join(tmp, 'fake-ping');
    writeFileSync(fake, `#!/bin/sh\ncat <<'OUT'\n${fixture('ping-partial-loss.txt')}OUT\n`, { mode: 0o755 });
    const acc = new RecordingAccumulator();
    const cfg = icmpConfigSchema.parse({ type: 'icmp', name: 'gateway', host: '192.168.1.1', pingPath: fake });
    await icmpPlugin.create(cfg, { logger: silentLogger() }).gather(acc, new AbortController().signal);
    expect(acc.only().fields).toEqual({ up: 1, loss_pct: 20, result: 'ok', rtt_ms: 4.625, rtt_min_ms: 1.87, rtt_max_ms: 12.3, jitter_ms: 4.433 });
  });

  it.skipIf(!hasPing())('pings 127.0.0.1 with the system ping', async () => {
    const acc = new RecordingAccumulator();
    const cfg = icmpConfigSchema.parse({ type: 'icmp', host: '127.0.0.1', count: 2, timeoutS: 1 });
    await icmpPlugin.create(cfg, { logger: silentLogger() }).gather(acc, new AbortController().signal);
    const r = acc.only();
    // unprivileged ping may be forbidden in a container; either way it is a reading
    expect(['ok', 'error']).toContain(r.fields.result);
  });
});
