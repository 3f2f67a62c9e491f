import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createGpioCollector, gpioConfigSchema } from '../collectors/gpio.ts';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { listSysfsChips, sysfsNumber } from './sysfs-pin.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../collectors/fixtures/${name}`, import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A copy of a fixture /sys/class/gpio tree and a stand-in for the kernel: a number written to `export` makes
 * gpioN/ (value, direction, active_low); `unexport` removes it; setLevel() sets the physical level, and `value`
 * reads as the kernel would (inverted with active_low=1).
 */
async function fakeSysfs(tree: string) {
  const dir = await mkdtemp(join(tmpdir(), 'fake-sysfs-'));
  await cp(fixture(tree), dir, { recursive: true });
  const levels = new Map<number, number>();
  const exports: string[] = [];
  const unexports: string[] = [];
  const exported = new Set<number>();
  let stopped = false;
  const read = (p: string) => readFile(p, 'utf8').then((s) => s.trim(), () => '');
  const render = async (n: number) => {
    const d = join(dir, `gpio${n}`);
    const activeLow = (await read(join(d, 'active_low'))) === '1';
    const level = levels.get(n) ?? 0;
    const want = String(activeLow ? 1 - level : level);
    if ((await read(join(d, 'value'))) === want) return;
    // Atomically, as a sysfs read never sees a half-written value.
    await writeFile(join(d, '.value'), want);
    await rename(join(d, '.value'), join(d, 'value'));
  };
  const loop = (async () => {
    while (!stopped) {
      const e = await read(join(dir, 'export'));
      if (e !== '') {
        exports.push(e);
        await writeFile(join(dir, 'export'), '');
        // The kernel makes gpioN/ with its attributes at once: build it aside, then rename it into place.
        const staging = join(dir, `.staging-${e}`);
        await mkdir(staging);
        await writeFile(join(staging, 'active_low'), '0');
        await writeFile(join(staging, 'direction'), 'in');
        await writeFile(join(staging, 'value'), String(levels.get(Number(e)) ?? 0));
        await rename(staging, join(dir, `gpio${e}`));
        exported.add(Number(e));
      }
      const u = await read(join(dir, 'unexport'));
      if (u !== '') {
        unexports.push(u);
        await writeFile(join(dir, 'unexport'), '');
        exported.delete(Number(u));
        await rm(join(dir, `gpio${u}`), { recursive: true, force: true });
      }
      // `value` reads the level through active_low, at every read: render it again.
      for (const n of exported) await render(n);
      await sleep(5);
    }
  })();
  return {
    dir,
    exports,
    unexports,
    async setLevel(n: number, level: number) {
      // The loop renders it within one turn (5 ms).
      levels.set(n, level);
      await sleep(0);
    },
    async stop() {
      stopped = true;
      await loop;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('sysfs GPIO fallback: the number is the chip base + offset, never the BCM number', () => {
  it('Pi 4 (kernel >= 6.6): GPIO17 is gpio529 on pinctrl-bcm2711 (base 512, 58 lines)', async () => {
    const chips = await listSysfsChips(fixture('gpio-sysfs-pi4'));
    expect(chips.map((c) => [c.dir, c.base, c.ngpio, c.label, c.cdevNames])).toEqual([
      ['gpiochip512', 512, 58, 'pinctrl-bcm2711', ['gpiochip0']],
      ['gpiochip570', 570, 8, 'raspberrypi-exp-gpio', ['gpiochip1']],
    ]);
    expect(sysfsNumber(chips, { chip: undefined, line: 'GPIO17' }).number).toBe(529);
    expect(sysfsNumber(chips, { chip: 'gpiochip0', line: 17 }).number).toBe(529);
    expect(sysfsNumber(chips, { chip: 'gpiochip1', line: 2 }).number).toBe(572);
    expect(sysfsNumber(chips, { chip: 'pinctrl-bcm2711', line: 4 }).number).toBe(516);
    expect(() => sysfsNumber(chips, { chip: undefined, line: 'GPIO60' })).toThrow(/pinctrl-bcm2711 has only 58 lines/);
    expect(() => sysfsNumber(chips, { chip: undefined, line: 'PWR_LED' })).toThrow(/sysfs GPIO has no line names/);
    expect(() => sysfsNumber(chips, { chip: 'gpiochip7', line: 1 })).toThrow(/no sysfs GPIO chip for gpiochip7 line 1; chips: gpiochip512 \(pinctrl-bcm2711, base 512, 58 lines\)/);
  });

  it('Pi 5: the header is pinctrl-rp1 at base 571 among the SoC chips: GPIO17 is gpio588', async () => {
    const chips = await listSysfsChips(fixture('gpio-sysfs-pi5'));
    expect(chips.map((c) => c.base)).toEqual([512, 544, 548, 565, 571]);
    expect(sysfsNumber(chips, { chip: undefined, line: 'GPIO17' })).toMatchObject({ number: 588, chip: { label: 'pinctrl-rp1' } });
    expect(sysfsNumber(chips, { chip: 'gpiochip0', line: 17 }).number).toBe(588);
    expect(() => sysfsNumber(chips, { chip: 'gpiochip4', line: 17 })).toThrow(/only 6 lines/);
  });

  it('the collector falls back to sysfs without /dev/gpiochip*: exports 529, sets active_low, debounces polled levels, unexports on close', async () => {
    const sys = await fakeSysfs('gpio-sysfs-pi4');
    cleanups.push(() => sys.stop());
    const noDev = await mkdtemp(join(tmpdir(), 'no-dev-'));
    cleanups.push(() => rm(noDev, { recursive: true, force: true }));
    // Mains present: the relay contact pulls GPIO27 low (active-low: state 1).
    await sys.setLevel(539, 0);
    const c = createGpioCollector(
      gpioConfigSchema.parse({ type: 'gpio', inputs: [{ line: 'GPIO17', name: 'door' }, { line: 'GPIO27', name: 'mains', activeLow: true }], debounceMs: 400 }),
      { logger: silentLogger() },
      // PATH without the gpiod tools, too: sysfs is used when either is missing.
      // The fake kernel re-renders `value` after active_low changes in its own loop: give it time on a loaded machine.
      { gpio: { devDir: noDev, sysfsDir: sys.dir, env: { PATH: noDev }, sysfsPollMs: 5, sysfsSettleMs: 300 } },
    );
    cleanups.push(async () => {
      await c.close?.();
    });
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    expect(sys.exports.sort()).toEqual(['529', '539']);
    expect(await readFile(join(sys.dir, 'gpio539', 'active_low'), 'utf8')).toBe('1');
    const g = new RecordingAccumulator();
    await c.gather(g, new AbortController().signal);
    expect(g.readings.map((r) => [r.tags, r.fields])).toEqual([
      [{ pin: 'GPIO17', name: 'door' }, { state: 0 }],
      [{ pin: 'GPIO27', name: 'mains' }, { state: 1 }],
    ]);
    // The door opens with a bounce; mains is lost for 20 ms (a glitch: no event), then for good.
    await sys.setLevel(529, 1);
    await sleep(15);
    await sys.setLevel(529, 0);
    await sleep(15);
    await sys.setLevel(529, 1);
    await sys.setLevel(539, 1);
    await sleep(20);
    await sys.setLevel(539, 0);
    await sleep(500);
    await sys.setLevel(539, 1);
    // 400 ms of debounce (the 15-20 ms bounces and glitch are driven by this test's own timers, which a loaded
    // machine stretches), the 5 ms polls of the fake kernel and of the pin; then some headroom.
    for (let i = 0; i < 150 && acc.of('gpio_event').length < 2; i++) await sleep(20);
    await sleep(450);
    expect(acc.of('gpio_event').map((e) => [e.tags?.name, e.fields.state])).toEqual([
      ['door', 1],
      ['mains', 0],
    ]);
    await c.close?.();
    // close() resolves once the kernel removed gpioN/: both are unexported by then.
    expect(sys.unexports.sort()).toEqual(['529', '539']);
  });
});
