// host: health of the device itself: CPU, memory, disk, SoC temperature, Pi throttling, uptime.
import { execFile } from 'node:child_process';
import { access, constants, statfs } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { z } from 'zod';
import type { FieldValue } from '../../protocol/index.ts';
import { parseMeminfo } from '../system/meminfo.ts';
import { cpuPct, parseProcStat, type CpuSample } from '../system/proc-stat.ts';
import { readText } from '../system/read-text.ts';
import { parseThermalTemp } from '../system/thermal.ts';
import { parseUptime } from '../system/uptime.ts';
import { collectorBaseShape, defineCollector, plainLabel, writes } from './types.ts';

export const hostConfigSchema = z.strictObject({
  type: z.literal('host'),
  ...collectorBaseShape,
  /** Filesystem whose usage is `disk_pct` (the data directory's, usually). */
  diskPath: z.string().min(1).default('/'),
  procDir: z.string().min(1).default('/proc'),
  thermalFile: z.string().min(1).default('/sys/class/thermal/thermal_zone0/temp'),
});
export type HostConfig = z.infer<typeof hostConfigSchema>;

/** `throttled=0x50005` → 327685. */
export function parseThrottled(text: string): number | undefined {
  const m = /throttled=(0x[0-9a-fA-F]+)/.exec(text);
  return m?.[1] === undefined ? undefined : Number.parseInt(m[1], 16);
}

/** The bits of `vcgencmd get_throttled` (bits 0-3: now, 16-19: since boot). */
export function decodeThrottled(mask: number): Record<string, number> {
  const bit = (n: number): number => (mask >>> n) & 1;
  return {
    under_voltage: bit(0),
    freq_capped: bit(1),
    throttled_now: bit(2),
    soft_temp_limit: bit(3),
    under_voltage_seen: bit(16),
    throttled_seen: bit(18) | bit(17),
  };
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const hostPlugin = defineCollector({
  type: 'host',
  configSchema: hostConfigSchema,
  label: plainLabel,
  writes: [
    writes('host', {
      tags: [],
      fields: ['cpu_pct', 'mem_pct', 'disk_pct', 'temp_c', 'uptime_s', 'throttled', 'under_voltage', 'freq_capped', 'throttled_now', 'soft_temp_limit', 'under_voltage_seen', 'throttled_seen'],
    }),
  ],
  create(config) {
    let prevCpu: CpuSample | undefined;
    let vcgencmd: Promise<string | undefined> | undefined;
    return {
      async gather(acc, signal) {
        const t = Date.now();
        const fields: Record<string, FieldValue> = {};
        const stat = await readText(join(config.procDir, 'stat'));
        const cpu = stat === undefined ? undefined : parseProcStat(stat);
        if (cpu !== undefined) {
          // The first gather only takes the baseline: a since-boot average would mislead.
          const pct = prevCpu === undefined ? undefined : cpuPct(prevCpu, cpu);
          if (pct !== undefined) fields.cpu_pct = pct;
          prevCpu = cpu;
        }
        const mem = await readText(join(config.procDir, 'meminfo'));
        const memPct = mem === undefined ? undefined : parseMeminfo(mem);
        if (memPct !== undefined) fields.mem_pct = memPct;
        try {
          const fs = await statfs(config.diskPath);
          const used = fs.blocks - fs.bfree;
          const denom = used + fs.bavail;
          if (denom > 0) fields.disk_pct = Math.round((used / denom) * 10_000) / 100;
        } catch {
          // no such filesystem: leave the field out
        }
        const temp = await readText(config.thermalFile);
        const tempC = temp === undefined ? undefined : parseThermalTemp(temp);
        if (tempC !== undefined) fields.temp_c = tempC;
        const uptime = await readText(join(config.procDir, 'uptime'));
        const up = uptime === undefined ? undefined : parseUptime(uptime);
        if (up !== undefined) fields.uptime_s = up;
        vcgencmd ??= findOnPath('vcgencmd');
        const bin = await vcgencmd;
        if (bin !== undefined && !signal.aborted) {
          const out = await new Promise<string>((resolve) => {
            execFile(bin, ['get_throttled'], { timeout: 2000, signal, encoding: 'utf8' }, (_err, stdout) => resolve(stdout));
          });
          const throttled = parseThrottled(out);
          if (throttled !== undefined) Object.assign(fields, { throttled }, decodeThrottled(throttled));
        }
        if (Object.keys(fields).length > 0) acc.add('host', fields, undefined, t);
      },
    };
  },
});
