import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  classifyGpiodError,
  gpiogetArgs,
  gpiomonArgs,
  parseFoundLine,
  parseGpiodVersion,
  parseGpiogetValue,
  parseGpiomonLine,
  findLineCommand,
  type GpiodVersion,
} from './gpiod-cli.ts';
import { BIASES } from './line-spec.ts';

const V1: GpiodVersion = { major: 1, text: 'v1.6.3' };
const V2: GpiodVersion = { major: 2, text: 'v2.1.3' };
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));

describe('gpiod tools: versions, arguments, output', () => {
  it('tells libgpiod 1.6 from 2.x by `gpiomon --version`, and refuses others', () => {
    expect(parseGpiodVersion('gpiomon (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski\n')).toEqual(V1);
    expect(parseGpiodVersion('gpiomon (libgpiod) v2.1.3\n')).toEqual(V2);
    expect(parseGpiodVersion('gpiomon (libgpiod) v2.2-devel\n')).toEqual({ major: 2, text: 'v2.2-devel' });
    expect(parseGpiodVersion('gpiomon (libgpiod) v3.0\n')).toBeUndefined();
    expect(parseGpiodVersion('gpiomon 0.1')).toBeUndefined();
  });

  it('builds each version its own command line (1.6: -b is line-buffered, -B the bias; 2.x: -b is the bias)', () => {
    const req = { chip: 'gpiochip0', offset: 27, activeLow: true, bias: 'pull-up' as const };
    expect(gpiomonArgs(V1, req)).toEqual(['-b', '-l', '-B', 'pull-up', 'gpiochip0', '27']);
    expect(gpiomonArgs(V2, req)).toEqual(['--banner', '-C', 'ioc-edge', '-c', 'gpiochip0', '-l', '-b', 'pull-up', '27']);
    expect(gpiomonArgs(V2, { ...req, activeLow: false, bias: 'disable' })).toEqual(['--banner', '-C', 'ioc-edge', '-c', 'gpiochip0', '-b', 'disabled', '27']);
    expect(gpiomonArgs(V1, { ...req, activeLow: false, bias: 'as-is' })).toEqual(['-b', 'gpiochip0', '27']);
    expect(gpiogetArgs(V1, req)).toEqual(['-l', '-B', 'pull-up', 'gpiochip0', '27']);
    expect(gpiogetArgs(V2, req)).toEqual(['--numeric', '-C', 'ioc-edge', '-c', 'gpiochip0', '-l', '-b', 'pull-up', '27']);
  });

  it('reads the recorded gpiomon lines of both versions alike', () => {
    const v1 = fixture('gpio-gpiomon-v1-door.txt').map((l) => parseGpiomonLine(V1, l));
    const v2 = fixture('gpio-gpiomon-v2-door.txt').map((l) => parseGpiomonLine(V2, l));
    expect(v1.map((e) => e?.value)).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
    expect(v2).toEqual(v1);
    expect(v1[0]).toEqual({ value: 1, offset: 17, kernelS: 1234.5 });
    // The banner and anything else is not an edge; nor is a 1.6 line read as 2.x.
    expect(parseGpiomonLine(V2, "Monitoring line '17'...")).toBeUndefined();
    expect(parseGpiomonLine(V2, fixture('gpio-gpiomon-v1-door.txt')[0] ?? '')).toBeUndefined();
    expect(parseGpiomonLine(V2, '1.000000001\tfalling\t"GPIO17"')).toEqual({ value: 0, offset: undefined, kernelS: 1.000000001 });
  });

  it('reads gpioget, gpiofind and gpioinfo answers', () => {
    expect(parseGpiogetValue('1\n')).toBe(1);
    expect(parseGpiogetValue('"GPIO17"=inactive\n')).toBe(0);
    expect(parseGpiogetValue('"GPIO17"=active\n')).toBe(1);
    expect(parseGpiogetValue('')).toBeUndefined();
    expect(parseFoundLine('gpiochip0 17\n')).toEqual({ chip: 'gpiochip0', offset: 17 });
    expect(parseFoundLine('gpiochip4 17\t"GPIO17"        \tinput\n')).toEqual({ chip: 'gpiochip4', offset: 17 });
    expect(parseFoundLine('')).toBeUndefined();
  });

  it('names the failure from the tool stderr', () => {
    expect(classifyGpiodError('gpiomon: error waiting for events: Device or resource busy\n')).toBe('busy');
    expect(classifyGpiodError('gpiomon: unable to request lines on chip /dev/gpiochip0: Device or resource busy\n')).toBe('busy');
    expect(classifyGpiodError("gpiomon: cannot find line 'GPIO99'\n")).toBe('no-line');
    expect(classifyGpiodError('gpioget: error reading GPIO values: Permission denied\n')).toBe('permission');
    expect(classifyGpiodError("gpiomon: cannot find GPIO chip character device 'gpiochip9'\n")).toBe('no-chip');
    expect(classifyGpiodError('something else')).toBe('failed');
  });
});

// The gpiod tools of this machine (Debian's package; the OS-package list installs it). Without a GPIO chip they
// fail at opening it, which shows that every option we build was accepted.
const installed = parseGpiodVersion(spawnSync('gpiomon', ['--version'], { encoding: 'utf8' }).stdout ?? '');

describe.skipIf(installed === undefined)(`the installed gpiod tools (${installed?.text ?? 'none'}) take the arguments we build`, () => {
  it('gpiomon and gpioget accept every bias and active-low combination; the line lookup runs', () => {
    const v = installed ?? V1;
    for (const bias of BIASES) {
      for (const activeLow of [false, true]) {
        const req = { chip: 'gpiochip0', offset: 17, activeLow, bias };
        for (const [tool, args] of [
          ['gpiomon', gpiomonArgs(v, req)],
          ['gpioget', gpiogetArgs(v, req)],
        ] as const) {
          // os-program: gpiomon, gpioget
          const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 5000 });
          // A chip that exists (a Pi running this suite) may also answer: then gpiomon waits for edges.
          if (r.status === null) continue;
          expect(r.stderr, `${tool} ${args.join(' ')}`).not.toMatch(/invalid|unrecognized|try .* --help|requires an argument/);
          expect(r.stderr).toMatch(/No such file or directory|cannot find GPIO chip|^$/);
        }
      }
    }
    const find = findLineCommand(v, 'GPIO17');
    // os-program: gpiofind, gpioinfo
    const r = spawnSync(find.cmd, find.args, { encoding: 'utf8', timeout: 5000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).not.toMatch(/invalid|unrecognized|try .* --help/);
  });
});
