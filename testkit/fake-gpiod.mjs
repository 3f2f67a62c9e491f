#!/usr/bin/env node
// A stand-in for Debian's gpiod tools (gpiomon, gpioget, gpiofind, gpioinfo) in tests: it takes the options of
// libgpiod 1.6 or 2.x (as its board says), refuses the other version's, and prints their output formats
// (tools/*.c of libgpiod): gpiomon replays a recorded output with the recorded timing.
// Usage (through the wrappers fake-gpiod.ts writes): node fake-gpiod.mjs <tool> [args...], FAKE_GPIOD_DIR=<dir with board.json>.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [tool = '', ...args] = process.argv.slice(2);
const dir = process.env.FAKE_GPIOD_DIR ?? '';
/** @type {{version: string, chips: Record<string, {label: string, lines: string[]}>, levels?: Record<string, number>, busy?: string[], recordings?: Record<string, string>, log?: string}} */
const board = JSON.parse(readFileSync(join(dir, 'board.json'), 'utf8'));
const v1 = board.version.startsWith('1.');
const chipNames = Object.keys(board.chips).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));

function log(entry) {
  if (board.log) appendFileSync(board.log, `${JSON.stringify({ tool, pid: process.pid, ...entry })}\n`);
}
log({ args });

function die(msg) {
  process.stderr.write(`${tool}: ${msg}\n`);
  log({ exit: 1, msg });
  process.exit(1);
}

/** getopt_long for the options of this tool and version: `spec` maps each option to whether it takes a value. */
function getopt(spec) {
  const opts = {};
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      pos.push(...args.slice(i + 1));
      break;
    }
    if (pos.length > 0 || !a.startsWith('-') || a === '-') {
      // "+" in the shortopts of every gpiod tool: options end at the first positional argument.
      pos.push(...args.slice(i));
      break;
    }
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] : a.slice(1, 2);
    if (!(name in spec)) {
      // getopt's own line, then the tool's.
      process.stderr.write(a.startsWith('--') ? `${tool}: unrecognized option '${a}'\n` : `${tool}: invalid option -- '${name}'\n`);
      die(`try ${tool} --help`);
    }
    if (spec[name]) {
      const inline = a.startsWith('--') ? (a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined) : a.length > 2 ? a.slice(2) : undefined;
      const val = inline ?? args[++i];
      if (val === undefined) die(`option requires an argument -- '${name}'`);
      opts[name] = val;
    } else opts[name] = true;
  }
  return { opts, pos };
}

function version() {
  process.stdout.write(`${tool} (libgpiod) v${board.version}\nCopyright (C) 2017-2023 Bartosz Golaszewski\nThis is free software: you are free to change and redistribute it.\n`);
  process.exit(0);
}

function findChip(id) {
  const name = id.replace(/^\/dev\//, '');
  if (board.chips[name]) return name;
  if (/^\d+$/.test(id) && board.chips[`gpiochip${id}`]) return `gpiochip${id}`;
  // 1.6's gpiod_chip_open_lookup() also takes a label.
  if (v1) return chipNames.find((c) => board.chips[c].label === id);
  return undefined;
}

function findName(name, onlyChip) {
  for (const c of chipNames) {
    if (onlyChip !== undefined && c !== onlyChip) continue;
    const off = board.chips[c].lines.indexOf(name);
    if (off >= 0) return { chip: c, offset: off };
  }
  return undefined;
}

const level = (chip, offset) => board.levels?.[`${chip}:${offset}`] ?? 0;
const isBusy = (chip, offset) => (board.busy ?? []).includes(`${chip}:${offset}`);

const BIAS_V1 = ['as-is', 'disable', 'pull-up', 'pull-down'];
const BIAS_V2 = ['disabled', 'pull-up', 'pull-down'];

/** Resolves the line arguments: 1.6 takes `<chip> <offset>...`, 2.x `[-c chip] <line>...`. */
function resolveLines(opts, pos, errPrefix) {
  if (v1) {
    if (pos.length < 1) die('gpiochip must be specified');
    if (pos.length < 2) die('at least one GPIO line offset must be specified');
    const chip = findChip(pos[0]);
    if (chip === undefined) die(`${errPrefix}: No such file or directory`);
    const lines = pos.slice(1).map((o) => {
      if (!/^\d+$/.test(o)) die(`invalid GPIO offset: ${o}`);
      if (Number(o) >= board.chips[chip].lines.length) die(`${errPrefix}: Invalid argument`);
      return { chip, offset: Number(o), id: o };
    });
    return lines;
  }
  if (pos.length < 1) die('at least one GPIO line must be specified');
  let chip;
  if (opts.c !== undefined || opts.chip !== undefined) {
    chip = findChip(opts.c ?? opts.chip);
    if (chip === undefined) die(`cannot find GPIO chip character device '${opts.c ?? opts.chip}'`);
  }
  const byName = opts['by-name'] === true || chip === undefined;
  return pos.map((id) => {
    if (!byName && /^\d+$/.test(id)) {
      if (Number(id) >= board.chips[chip].lines.length) die(`offset ${id} is out of range on chip '${opts.c ?? opts.chip}'`);
      return { chip, offset: Number(id), id };
    }
    const f = findName(id, chip);
    if (f === undefined) die(`cannot find line '${id}'`);
    return { ...f, id };
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function gpiomon() {
  const spec = v1
    ? { h: false, help: false, v: false, version: false, l: false, 'active-low': false, B: true, bias: true, n: true, s: false, r: false, f: false, b: false, 'line-buffered': false, F: true, format: true }
    : { banner: false, b: true, bias: true, 'by-name': false, c: true, chip: true, C: true, consumer: true, e: true, edges: true, E: true, F: true, h: false, l: false, 'active-low': false, n: true, p: true, q: false, s: false, unquoted: false, v: false, version: false, 'idle-timeout': true, utc: false, localtime: false };
  const { opts, pos } = getopt(spec);
  if (opts.v || opts.version) version();
  const bias = opts.B ?? (v1 ? undefined : opts.b) ?? opts.bias;
  if (bias !== undefined && !(v1 ? BIAS_V1 : BIAS_V2).includes(bias)) die(`invalid bias: ${bias}`);
  const lines = resolveLines(opts, pos, 'error waiting for events');
  for (const l of lines) {
    if (isBusy(l.chip, l.offset)) die(v1 ? 'error waiting for events: Device or resource busy' : `unable to request lines on chip /dev/${l.chip}: Device or resource busy`);
  }
  const activeLow = opts.l === true || opts['active-low'] === true;
  // 1.6 without -b: stdout to a pipe is fully buffered, so nothing comes out until the process exits.
  const lineBuffered = !v1 || opts.b === true || opts['line-buffered'] === true;
  let held = '';
  const out = (s) => {
    if (lineBuffered) process.stdout.write(s);
    else held += s;
  };
  const stop = () => {
    if (held !== '') process.stdout.write(held);
    log({ exit: 0, signal: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (!v1 && opts.banner) out(lines.length > 1 ? `Monitoring lines ${lines.map((l) => `'${l.id}'`).join(', ')}...\n` : `Monitoring line '${lines[0].id}'...\n`);
  const rec = board.recordings?.[`${lines[0].chip}:${lines[0].offset}`];
  if (rec !== undefined) {
    let prevTs;
    for (const raw of readFileSync(rec, 'utf8').split('\n')) {
      if (raw.startsWith('# sleep ')) {
        await sleep(Number(raw.slice(8)));
        continue;
      }
      if (raw.startsWith('# die ')) die(raw.slice(6));
      if (raw.startsWith('#') || raw.trim() === '') continue;
      const ts = v1 ? /timestamp: \[\s*(\d+\.\d+)\]/.exec(raw)?.[1] : /^(\d+\.\d+)/.exec(raw)?.[1];
      if (ts !== undefined) {
        if (prevTs !== undefined) await sleep(Math.max(0, (Number(ts) - prevTs) * 1000));
        prevTs = Number(ts);
      }
      // The recordings are of the physical level; with active-low the kernel reports the edges swapped.
      let line = raw;
      if (activeLow) line = v1 ? line.replace(/ RISING EDGE|FALLING EDGE/, (e) => (e === ' RISING EDGE' ? 'FALLING EDGE' : ' RISING EDGE')) : line.replace(/\t(rising|falling)\t/, (_m, e) => (e === 'rising' ? '\tfalling\t' : '\trising\t'));
      out(`${line}\n`);
    }
  }
  // The test may wait for this: everything recorded was printed (line-buffered, or held).
  if (rec !== undefined) log({ replayed: true });
  // Then wait for events that never come, like the real one, until a signal.
  setInterval(() => undefined, 1 << 30);
}

function gpioget() {
  const spec = v1
    ? { h: false, help: false, v: false, version: false, l: false, 'active-low': false, B: true, bias: true }
    : { a: false, 'as-is': false, b: true, bias: true, 'by-name': false, c: true, chip: true, C: true, consumer: true, h: false, l: false, 'active-low': false, p: true, numeric: false, s: false, unquoted: false, v: false, version: false };
  const { opts, pos } = getopt(spec);
  if (opts.v || opts.version) version();
  const bias = opts.B ?? (v1 ? undefined : opts.b) ?? opts.bias;
  if (bias !== undefined && !(v1 ? BIAS_V1 : BIAS_V2).includes(bias)) die(`invalid bias: ${bias}`);
  const lines = resolveLines(opts, pos, 'error reading GPIO values');
  for (const l of lines) {
    if (isBusy(l.chip, l.offset)) die(v1 ? 'error reading GPIO values: Device or resource busy' : 'unable to request lines: Device or resource busy');
  }
  const activeLow = opts.l === true || opts['active-low'] === true;
  const values = lines.map((l) => level(l.chip, l.offset) ^ (activeLow ? 1 : 0));
  if (v1 || opts.numeric) process.stdout.write(`${values.join(' ')}\n`);
  else process.stdout.write(`${lines.map((l, i) => `"${l.id}"=${values[i] ? 'active' : 'inactive'}`).join(' ')}\n`);
  log({ exit: 0 });
}

function gpiofind() {
  if (!v1) die('command not found'); // 2.x has no gpiofind (the wrapper is not even written)
  const { opts, pos } = getopt({ h: false, help: false, v: false, version: false });
  if (opts.v || opts.version) version();
  if (pos.length !== 1) die('exactly one GPIO line name must be specified');
  const f = findName(pos[0]);
  if (f === undefined) process.exit(1); // 1.6 prints nothing when the name is not found
  process.stdout.write(`${f.chip} ${f.offset}\n`);
}

function gpioinfo() {
  if (v1) {
    const { opts, pos } = getopt({ h: false, help: false, v: false, version: false });
    if (opts.v || opts.version) version();
    for (const c of pos.length > 0 ? pos.map(findChip) : chipNames) {
      if (c === undefined) die('looking up chip: No such file or directory');
      process.stdout.write(`${c} - ${board.chips[c].lines.length} lines:\n`);
      board.chips[c].lines.forEach((n, i) => {
        const used = isBusy(c, i);
        process.stdout.write(`\tline ${String(i).padStart(3)}: ${`"${n}"`.padStart(12)} ${used ? '"other"'.padStart(12) : 'unused'.padStart(12)}   input  active-high${used ? ' [used]' : ''}\n`);
      });
    }
    return;
  }
  const { opts, pos } = getopt({ 'by-name': false, c: true, chip: true, h: false, s: false, strict: false, unquoted: false, v: false, version: false });
  if (opts.v || opts.version) version();
  let only;
  if (opts.c ?? opts.chip) {
    only = findChip(opts.c ?? opts.chip);
    if (only === undefined) die(`cannot find GPIO chip character device '${opts.c ?? opts.chip}'`);
  }
  let missing = false;
  for (const id of pos) {
    const f = findName(id, only);
    if (f === undefined) {
      process.stderr.write(`gpioinfo: cannot find line '${id}'\n`);
      missing = true;
      continue;
    }
    process.stdout.write(`${f.chip} ${f.offset}\t${`"${id}"`.padEnd(16)}\tinput${isBusy(f.chip, f.offset) ? ' consumer="other"' : ''}\n`);
  }
  process.exit(missing ? 1 : 0);
}

const tools = { gpiomon, gpioget, gpiofind, gpioinfo };
if (!(tool in tools)) die('unknown tool');
await tools[tool]();
