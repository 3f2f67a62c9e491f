import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inventorySchema, statusSchema } from '../../protocol/index.ts';
import { parseCpuSerial, parseOsRelease, readInventory } from './inventory.ts';

const PI4 = fileURLToPath(new URL('./fixtures/pi4/', import.meta.url));

describe('the inventory', () => {
  it("reads a Raspberry Pi 4's files: OS, kernel, board model and serial, uptime, USB devices without root hubs or interfaces", async () => {
    const inv = await readInventory({ root: PI4 });
    expect(inv).toEqual({
      os: 'Debian GNU/Linux 12 (bookworm)',
      kernel: '6.6.51+rpt-rpi-v8',
      boardModel: 'Raspberry Pi 4 Model B Rev 1.5',
      boardSerial: '10000000a3f1c2d4',
      uptimeS: 351245,
      usb: [
        { vendorId: '2109', productId: '3431', product: 'USB2.0 Hub' },
        { vendorId: '0764', productId: '0501', product: 'CP1500EPFCLCD' },
        { vendorId: '0403', productId: '6001' },
      ],
    });
    expect(inventorySchema.parse(inv)).toEqual(inv);
  });

  it('gives absent fields for absent files (x86, a container), never an error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ioc-inventory-'));
    expect(await readInventory({ root: empty })).toEqual({});
    const here = await readInventory({ diskPath: empty });
    expect(here.kernel).toMatch(/^\d+\.\d+/);
    expect(here.diskTotalBytes).toBeGreaterThan(0);
    expect(here.diskFreeBytes).toBeLessThanOrEqual(here.diskTotalBytes ?? 0);
    expect(inventorySchema.safeParse(here).success).toBe(true);
  });

  it('parses os-release and cpuinfo variants', () => {
    expect(parseOsRelease("NAME='Alpine Linux'\nVERSION=3.20\n")).toBe('Alpine Linux 3.20');
    expect(parseOsRelease('')).toBeUndefined();
    expect(parseCpuSerial('model name\t: Intel(R) Xeon\n')).toBeUndefined();
  });

  it('fits a status with 16 long-named USB devices under the 4 KiB status limit', () => {
    const usb = Array.from({ length: 16 }, () => ({ vendorId: 'abcd', productId: 'ef01', product: 'x'.repeat(64) }));
    const status = { online: true, ts: Date.now(), version: '0.3.0', bootId: 'b'.repeat(36), configRev: 'c'.repeat(12), clockSynced: true, inventory: { os: 'o'.repeat(128), kernel: 'k'.repeat(128), arch: 'aarch64', boardModel: 'm'.repeat(128), boardSerial: 's'.repeat(64), diskTotalBytes: 2 ** 40, diskFreeBytes: 2 ** 39, uptimeS: 10 ** 8, usb } };
    expect(statusSchema.parse(status)).toEqual(status);
    expect(Buffer.byteLength(JSON.stringify(status))).toBeLessThan(4096);
  });
});
