// The device's inventory, sent with the online status (protocol `inventory`): OS, kernel, board model and serial,
// disk, uptime, USB devices. Read from files under `root` (`/` on the device; a recorded Pi in the tests); a file
// that is absent (no device tree on x86, no USB bus in a container) is an absent field, never an error.
import { readdir, statfs } from 'node:fs/promises';
import { machine } from 'node:os';
import { join } from 'node:path';
import { MAX_INVENTORY_USB, type Inventory } from '../../protocol/index.ts';
import { readText } from './read-text.ts';
import { parseUptime } from './uptime.ts';

export interface InventoryOptions {
  /** Where /etc, /proc and /sys are (default `/`). */
  root?: string;
  /** The folder whose filesystem is reported as the disk (the agent's data folder). */
  diskPath?: string;
}

/** The Linux Foundation's root hubs (1d6b): every machine has them, they say nothing about what is plugged in. */
const ROOT_HUB_VENDOR = '1d6b';

export async function readInventory(opts: InventoryOptions = {}): Promise<Inventory> {
  const root = opts.root ?? '/';
  const at = (path: string): string => join(root, path);
  const [osRelease, kernel, model, cpuinfo, uptime, usb, disk] = await Promise.all([
    readText(at('etc/os-release')),
    readText(at('proc/sys/kernel/osrelease')),
    readText(at('proc/device-tree/model')),
    readText(at('proc/cpuinfo')),
    readText(at('proc/uptime')),
    readUsb(at('sys/bus/usb/devices')),
    opts.diskPath === undefined ? Promise.resolve(undefined) : readDisk(opts.diskPath),
  ]);
  const inv: Inventory = {};
  const os = osRelease === undefined ? undefined : parseOsRelease(osRelease);
  if (os !== undefined) inv.os = os;
  const k = clean(kernel, 128);
  if (k !== undefined) inv.kernel = k;
  if (root === '/') inv.arch = machine().slice(0, 32);
  const board = clean(model, 128);
  if (board !== undefined) inv.boardModel = board;
  const serial = cpuinfo === undefined ? undefined : parseCpuSerial(cpuinfo);
  if (serial !== undefined) inv.boardSerial = serial;
  if (disk !== undefined) Object.assign(inv, disk);
  const up = uptime === undefined ? undefined : parseUptime(uptime);
  if (up !== undefined && up >= 0) inv.uptimeS = up;
  if (usb !== undefined) inv.usb = usb;
  return inv;
}

/** PRETTY_NAME of os-release (quoted or not), else NAME and VERSION. */
export function parseOsRelease(text: string): string | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) fields.set(m[1], m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1'));
  }
  const pretty = fields.get('PRETTY_NAME') ?? [fields.get('NAME'), fields.get('VERSION')].filter((x) => x !== undefined).join(' ');
  return clean(pretty, 128);
}

/** The `Serial` line of /proc/cpuinfo (Raspberry Pis; x86 has none). */
export function parseCpuSerial(text: string): string | undefined {
  const m = /^Serial\s*:\s*([0-9A-Za-z]+)\s*$/m.exec(text);
  return m?.[1] === undefined ? undefined : m[1].slice(0, 64);
}

/** Devices of /sys/bus/usb/devices (not interfaces, not root hubs), sorted, at most MAX_INVENTORY_USB. */
async function readUsb(dir: string): Promise<Inventory['usb']> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.includes(':')).sort();
  } catch {
    return undefined;
  }
  const devices = await Promise.all(
    names.map(async (name) => {
      const [vendor, product, label] = await Promise.all([readText(join(dir, name, 'idVendor')), readText(join(dir, name, 'idProduct')), readText(join(dir, name, 'product'))]);
      const vendorId = vendor?.trim().toLowerCase();
      const productId = product?.trim().toLowerCase();
      if (vendorId === undefined || productId === undefined || !/^[0-9a-f]{4}$/.test(vendorId) || !/^[0-9a-f]{4}$/.test(productId) || vendorId === ROOT_HUB_VENDOR) return undefined;
      const text = clean(label, 64);
      return text === undefined ? { vendorId, productId } : { vendorId, productId, product: text };
    }),
  );
  return devices.filter((d) => d !== undefined).slice(0, MAX_INVENTORY_USB);
}

async function readDisk(path: string): Promise<Pick<Inventory, 'diskTotalBytes' | 'diskFreeBytes'> | undefined> {
  try {
    const s = await statfs(path);
    return { diskTotalBytes: s.blocks * s.bsize, diskFreeBytes: s.bavail * s.bsize };
  } catch {
    return undefined;
  }
}

/** Trimmed, without NULs or control characters, at most `max` characters; undefined when empty. */
function clean(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  const out = text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, max);
  return out.length === 0 ? undefined : out;
}
