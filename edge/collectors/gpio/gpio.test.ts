import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, makeFakeGpiod, pi4LineNames, type FakeBoardSpec, type FakeGpiod } from '../../../testkit/fake-gpiod.ts';
import type { GpiodPin } from './gpiod-pin.ts';
import { FakePinBoard } from './pin.ts';
import { createLogger, silentLogger, type Logger } from '../../logger.ts';
import { RecordingAccumulator } from '../../../testkit/recording-accumulator.ts';
import { createGpioCollector, gpioConfigSchema, type GpioCollector } from './gpio.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  return {
    logger: createLogger('debug', sink),
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const fakes: FakeGpiod[] = [];
const collectors: GpioCollector[] = [];
afterEach(async () => {
  for (const c of collectors.splice(0)) await c.close?.();
  for (const f of fakes.splice(0)) await f.cleanup();
});

async function fakeBoard(spec: FakeBoardSpec): Promise<FakeGpiod> {
  const f = await makeFakeGpiod(spec);
  fakes.push(f);
  return f;
}

function collector(config: unknown, fake: FakeGpiod, logger: Logger = silentLogger(), gpio: Record<string, unknown> = {}): GpioCollector {
  const c = createGpioCollector(gpioConfigSchema.parse(config), { logger }, { gpio: { devDir: fake.devDir, env: fake.env, sysfsDir: join(fake.dir, 'no-sysfs'), ...gpio } });
  collectors.push(c);
  return c;
}

/** Waits until `check` holds (the replay runs in real time), at most `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

const pi4 = { gpiochip0: { label: 'pinctrl-bcm2711', lines: pi4LineNames() }, gpiochip1: { label: 'raspberrypi-exp-gpio', lines: ['BT_ON', 'WL_ON', 'PWR_LED_OFF'] } };

describe('gpio collector over the gpiod tools (fake tools replaying recorded gpiomon output)', () => {
  it('libgpiod 1.6: debounced door and mains events and states, as the recorded edges imply; no gpiomon left after close', async () => {
    const fake = await fakeBoard({
      version: '1.6.3',
      chips: pi4,
      levels: { 'gpiochip0:17': 0, 'gpiochip0:27': 0 },
      recordings: { 'gpiochip0:17': fixture('gpio-gpiomon-v1-door.txt'), 'gpiochip0:27': fixture('gpio-gpiomon-v1-mains.txt') },
    });
    const c = collector(
      {
        type: 'gpio',
        inputs: [
          { line: 'GPIO17', name: 'door' },
          { line: 'GPIO27', name: 'mains', activeLow: true, bias: 'pull-up' },
        ],
        // 150 ms: the recording's 10 ms glitch stays a glitch even when this machine is so loaded that the replay lags.
        debounceMs: 150,
      },
      fake,
    );
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    // Both recordings printed, then the debounce of their last edge.
    await fake.replayed(2);
    await until(() => acc.of('gpio_event').length >= 4);
    await sleep(300);
    const events = acc.of('gpio_event');
    expect(events.filter((e) => e.tags?.name === 'door').map((e) => [e.channel, e.tags?.pin, e.fields.state])).toEqual([
      ['event', 'GPIO17', 1],
      ['event', 'GPIO17', 0],
    ]); // the bounces collapse; the 10 ms glitch makes no event
    expect(events.filter((e) => e.tags?.name === 'mains').map((e) => e.fields.state)).toEqual([0, 1]);
    // Event times are those of the edges that began each level, timed by the kernel's timestamps: the door
    // stood open 1234.910 - 1234.505 = 405 ms in the recording, however late the replay ran on a loaded machine.
    // Never more than 405 (timed by arrival, a loaded machine made it 720); less only by how much sooner a later
    // line came through the pipe than the first one did (up to ~70 ms seen on this loaded machine: 100 ms headroom).
    const [opened, closed] = events.filter((e) => e.tags?.name === 'door');
    const openMs = (closed?.t ?? 0) - (opened?.t ?? 0);
    expect(openMs).toBeLessThanOrEqual(405);
    expect(openMs).toBeGreaterThan(305);
    const later = new RecordingAccumulator();
    await c.gather(later, new AbortController().signal);
    expect(later.readings.map((r) => [r.m, r.tags?.name, r.fields, r.channel])).toEqual([
      ['gpio', 'door', { state: 0 }, 'telemetry'],
      ['gpio', 'mains', { state: 1 }, 'telemetry'],
    ]);
    // The tools were called with 1.6's options: the name found with gpiofind, -b (line-buffered), -l, -B.
    const runs = await fake.runs();
    expect(runs.filter((r) => r.tool === 'gpiofind' && r.args !== undefined).map((r) => r.args)).toEqual(expect.arrayContaining([['--', 'GPIO17'], ['--', 'GPIO27']]));
    const mons = runs.filter((r) => r.tool === 'gpiomon' && r.args !== undefined && !r.args.includes('--version'));
    expect(mons.map((r) => r.args)).toEqual(expect.arrayContaining([['-b', 'gpiochip0', '17'], ['-b', '-l', '-B', 'pull-up', 'gpiochip0', '27']]));
    expect(mons.every((r) => alive(r.pid))).toBe(true);
    await c.close?.();
    expect(mons.map((r) => alive(r.pid))).toEqual([false, false]);
  });

  it('before any edge, the state is the level gpioget read, active-low applied', async () => {
    const fake = await fakeBoard({ version: '1.6.3', chips: pi4, levels: { 'gpiochip0:17': 1, 'gpiochip0:27': 0 } });
    const c = collector({ type: 'gpio', inputs: [{ line: 'GPIO17', name: 'door' }, { line: 'GPIO27', name: 'mains', activeLow: true, bias: 'pull-up' }] }, fake);
    await c.start?.(new RecordingAccumulator());
    const first = new RecordingAccumulator();
    await c.gather(first, new AbortController().signal);
    // Mains present: the relay pulls the line to 0 (physical), 1 with active-low.
    expect(first.readings.map((r) => [r.tags, r.fields])).toEqual([
      [{ pin: 'GPIO17', name: 'door' }, { state: 1 }],
      [{ pin: 'GPIO27', name: 'mains' }, { state: 1 }],
    ]);
    expect((await fake.runs()).filter((r) => r.tool === 'gpioget').map((r) => r.args)).toEqual(expect.arrayContaining([['gpiochip0', '17'], ['-l', '-B', 'pull-up', 'gpiochip0', '27']]));
  });

  it('libgpiod 2.x: a line by chip + offset, the 2.x options and output', async () => {
    const fake = await fakeBoard({ version: '2.1.3', chips: pi4, levels: { 'gpiochip0:17': 1 }, recordings: { 'gpiochip0:17': fixture('gpio-gpiomon-v2-door.txt') } });
    // 150 ms of debounce against the recording's 10 ms glitch: headroom for a loaded machine's late replay.
    const c = collector({ type: 'gpio', inputs: [{ chip: 'gpiochip0', line: 17, name: 'door' }], debounceMs: 150 }, fake);
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    await fake.replayed(1);
    await sleep(400);
    // gpioget said 1 before the recording: its first rising edge changes nothing, the close is the one event.
    expect(acc.of('gpio_event').map((e) => [e.tags, e.fields])).toEqual([[{ pin: 'gpiochip0:17', name: 'door' }, { state: 0 }]]);
    const runs = await fake.runs();
    expect(runs.find((r) => r.tool === 'gpiomon' && r.args !== undefined && !r.args.includes('--version'))?.args).toEqual(['--banner', '-C', 'ioc-edge', '-c', 'gpiochip0', '17']);
    expect(runs.find((r) => r.tool === 'gpioget' && r.args !== undefined)?.args).toEqual(['--numeric', '-C', 'ioc-edge', '-c', 'gpiochip0', '17']);
    const pids = c.pins().map((p) => (p as GpiodPin).pid);
    expect(pids).toHaveLength(1);
    await c.close?.();
    expect(pids.map((p) => alive(p ?? 0))).toEqual([false]);
  });

  it('libgpiod 2.x: a line name is found with gpioinfo (there is no gpiofind)', async () => {
    const fake = await fakeBoard({ version: '2.1.3', chips: { gpiochip0: { label: 'pinctrl-rp1', lines: pi4LineNames().slice(0, 54) } }, recordings: { 'gpiochip0:17': fixture('gpio-gpiomon-v2-door.txt') } });
    const c = collector({ type: 'gpio', inputs: [{ line: 'GPIO17', name: 'door' }], debounceMs: 150 }, fake);
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    await until(() => acc.of('gpio_event').length >= 2);
    expect(acc.of('gpio_event').map((e) => e.fields.state)).toEqual([1, 0]);
    expect((await fake.runs()).find((r) => r.tool === 'gpioinfo')?.args).toEqual(['--by-name', '--', 'GPIO17']);
  });

  it('a missing line or missing tools: available=0 and a clear logged reason, never a throw', async () => {
    const fake = await fakeBoard({ version: '1.6.3', chips: pi4 });
    const log = capturingLogger();
    const c = collector({ type: 'gpio', inputs: [{ line: 'GPIO99', name: 'smoke' }, { chip: 'gpiochip1', line: 40, name: 'door' }] }, fake, log.logger);
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    await c.gather(acc, new AbortController().signal);
    expect(acc.readings.map((r) => [r.tags, r.fields])).toEqual([
      [{ pin: 'GPIO99', name: 'smoke' }, { available: 0 }],
      [{ pin: 'gpiochip1:40', name: 'door' }, { available: 0 }],
    ]);
    const errors = log.lines().filter((l) => l.msg === 'gpio input unavailable');
    expect(errors.map((l) => [l.line, (l.err as { message: string }).message])).toEqual(
      expect.arrayContaining([
        ['GPIO99', expect.stringMatching(/line GPIO99 not found on any GPIO chip/)],
        ['gpiochip1:40', expect.stringMatching(/gpiochip1 line 40\): no such line/)],
      ]),
    );
    // Logged once per reason, not at every gather.
    await c.gather(acc, new AbortController().signal);
    await sleep(300);
    await c.gather(acc, new AbortController().signal);
    expect(log.lines().filter((l) => l.msg === 'gpio input unavailable')).toHaveLength(2);

    const none = await fakeBoard({ version: '1.6.3', chips: pi4, tools: [] });
    const log2 = capturingLogger();
    const c2 = collector({ type: 'gpio', inputs: [{ line: 'GPIO17', name: 'door' }] }, none, log2.logger);
    const acc2 = new RecordingAccumulator();
    await c2.start?.(acc2);
    await c2.gather(acc2, new AbortController().signal);
    expect(acc2.only()).toMatchObject({ m: 'gpio', tags: { pin: 'GPIO17', name: 'door' }, fields: { available: 0 } });
    const err = log2.lines().find((l) => l.msg === 'gpio input unavailable')?.err as { message: string; code: string } | undefined;
    expect(err?.code).toBe('E_GPIO_UNAVAILABLE');
    expect(err?.message).toMatch(/gpiod tools are not installed \(gpiomon not found\): apt-get install gpiod, and no .* to fall back to/);
  });

  it('no GPIO at all (no chip, no tools, no sysfs): available=0 saying so', async () => {
    const log = capturingLogger();
    // An empty fake machine (not this one's /dev and /sys): no chip, no tools, no sysfs.
    const fake = await fakeBoard({ version: '1.6.3', chips: {}, tools: [] });
    const c2 = collector({ type: 'gpio', inputs: [{ pin: 17, name: 'smoke' }] }, fake, log.logger);
    const acc = new RecordingAccumulator();
    await c2.start?.(acc);
    await c2.gather(acc, new AbortController().signal);
    // The deprecated BCM `pin:` is `line: GPIO17` and keeps its tag `pin=17`.
    expect(acc.only()).toMatchObject({ m: 'gpio', tags: { pin: '17', name: 'smoke' }, fields: { available: 0 } });
    const lines = log.lines();
    expect(lines.find((l) => l.msg === 'gpio input unavailable')?.err).toMatchObject({ message: expect.stringMatching(/^no GPIO on this machine: no GPIO character device/) });
    expect(lines.find((l) => typeof l.msg === 'string' && l.msg.includes('deprecated'))?.msg).toBe('gpio input: `pin: 17` is deprecated, write `line: GPIO17`');
  });

  it('a line another program holds (EBUSY): available=0, E_GPIO_BUSY logged, and it is taken once free', async () => {
    const fake = await fakeBoard({ version: '1.6.3', chips: pi4, levels: { 'gpiochip0:22': 1 }, busy: ['gpiochip0:22'] });
    const log = capturingLogger();
    const c = collector({ type: 'gpio', inputs: [{ line: 'GPIO22', name: 'smoke' }] }, fake, log.logger);
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    await c.gather(acc, new AbortController().signal);
    expect(acc.only().fields).toEqual({ available: 0 });
    const err = log.lines().find((l) => l.msg === 'gpio input unavailable')?.err as { code: string; message: string };
    expect(err.code).toBe('E_GPIO_BUSY');
    expect(err.message).toMatch(/GPIO22 \(gpiochip0 line 22\) is in use by another program \(EBUSY\)/);
    // The other program lets go: the next gather retries, the one after reports the level.
    const boardPath = join(fake.dir, 'board.json');
    const board = JSON.parse(await readFile(boardPath, 'utf8')) as { busy: string[] };
    board.busy = [];
    await writeFile(boardPath, JSON.stringify(board));
    await c.gather(new RecordingAccumulator(), new AbortController().signal);
    await until(() => c.pins().length === 1);
    const after = new RecordingAccumulator();
    await c.gather(after, new AbortController().signal);
    expect(after.only().fields).toEqual({ state: 1 });
    expect(log.lines().some((l) => l.msg === 'gpio input available again')).toBe(true);
  });

  it('a gpiomon that dies: available=0 while it is lost, reopened with back-off, and none left after close', async () => {
    const fake = await fakeBoard({ version: '1.6.3', chips: pi4, recordings: { 'gpiochip0:17': fixture('gpio-gpiomon-v1-lost.txt') } });
    const log = capturingLogger();
    const c = collector({ type: 'gpio', inputs: [{ line: 'GPIO17', name: 'door' }], debounceMs: 0 }, fake, log.logger, { gpiod: { retryMinMs: 400, retryMaxMs: 400 } });
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    await until(() => log.lines().some((l) => l.msg === 'gpio line lost, reopening'));
    const g = new RecordingAccumulator();
    await c.gather(g, new AbortController().signal);
    expect(g.only().fields).toEqual({ available: 0 });
    expect((log.lines().find((l) => l.msg === 'gpio input unavailable')?.err as { message: string }).message).toMatch(/no such GPIO chip.*No such device/);
    const monitors = async () => (await fake.runs()).filter((r) => r.tool === 'gpiomon' && r.args !== undefined && !r.args.includes('--version'));
    // Reopened: a second gpiomon ran (and replays the same recording, so it dies again).
    const end = Date.now() + 5000;
    while ((await monitors()).length < 2 && Date.now() < end) await sleep(50);
    expect((c.pins()[0] as GpiodPin).starts).toBeGreaterThanOrEqual(2);
    expect(acc.of('gpio_event').map((e) => e.fields.state)[0]).toBe(1);
    await c.close?.();
    const mons = await monitors();
    expect(mons.length).toBeGreaterThanOrEqual(2);
    expect(mons.filter((r) => alive(r.pid))).toEqual([]);
  });

  it('FakePinBoard still drives the collector (other tests use it)', async () => {
    const board = new FakePinBoard();
    const c = createGpioCollector(gpioConfigSchema.parse({ type: 'gpio', inputs: [{ line: 'GPIO5', name: 'door' }], debounceMs: 20 }), { logger: silentLogger() }, { openPin: board.open });
    collectors.push(c);
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    const door = board.get('GPIO5');
    door.set(1);
    door.set(0);
    door.set(1);
    await sleep(60);
    expect(acc.of('gpio_event').map((e) => e.fields.state)).toEqual([1]);
  });
});

describe('gpio config', () => {
  it('takes a line name, chip + offset, or the old BCM pin; refuses ambiguity', () => {
    const c = gpioConfigSchema.parse({
      type: 'gpio',
      inputs: [{ line: 'GPIO17', name: 'door' }, { chip: 'gpiochip4', line: 27, name: 'mains' }, { pin: 22, name: 'smoke' }, { line: 5, name: 'bell' }],
    });
    expect(c.inputs.map((i) => [i.spec, i.tag, i.legacyPin, i.bias])).toEqual([
      [{ chip: undefined, line: 'GPIO17' }, 'GPIO17', undefined, 'as-is'],
      [{ chip: 'gpiochip4', line: 27 }, 'gpiochip4:27', undefined, 'as-is'],
      [{ chip: undefined, line: 'GPIO22' }, '22', 22, 'as-is'],
      [{ chip: 'gpiochip0', line: 5 }, 'gpiochip0:5', undefined, 'as-is'],
    ]);
    expect(() => gpioConfigSchema.parse({ type: 'gpio', inputs: [{ pin: 17, line: 'GPIO17', name: 'door' }] })).toThrow(/old name of `line/);
    expect(() => gpioConfigSchema.parse({ type: 'gpio', inputs: [{ name: 'door' }] })).toThrow(/give `line`/);
    expect(() => gpioConfigSchema.parse({ type: 'gpio', inputs: [{ line: 'GPIO17', name: 'a' }, { pin: 17, name: 'b' }] })).toThrow(/given twice/);
    expect(() => gpioConfigSchema.parse({ type: 'gpio', inputs: [{ line: 'GPIO17', name: 'a', bias: 'up' }] })).toThrow();
  });
});
