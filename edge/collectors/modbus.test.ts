// Against jsmodbus (a Modbus server we did not write): TCP on a loopback port, RTU over a socat pty pair.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsmodbus from 'jsmodbus';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../testkit/free-port.ts';
import { silentLogger } from '../logger.ts';
import { encodeWords, registerSchema } from '../modbus/register-map.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { createModbusCollector, modbusConfigSchema } from './modbus.ts';

/** Register memory like a UPS + meter + env sensor would hold (2 bytes per register, big-endian). */
function memory(): { holding: Buffer; input: Buffer; coils: Buffer; discrete: Buffer } {
  const holding = Buffer.alloc(200);
  const input = Buffer.alloc(200);
  const put = (buf: Buffer, address: number, words: number[]): void => words.forEach((w, i) => buf.writeUInt16BE(w, (address + i) * 2));
  // generic-ups (input registers)
  put(input, 0, [2205, 2300, 87, 42, 35, 0xffff & -15]);
  // power-meter float32 at 0/6/12/70/72 would collide with the UPS map: the meter sits on unit 2 of another server below
  // temp-humidity (holding 0, 1)
  put(holding, 0, [655, 287]);
  // a custom device: uint32 little word order at holding 10, scale 0.01
  put(holding, 10, encodeWords(1234.56, registerSchema.parse({ field: 'x', address: 10, type: 'uint32', wordOrder: 'little', scale: 0.01 })));
  const discrete = Buffer.alloc(4);
  discrete.writeUInt8(0b1, 0); // on_battery
  return { holding, input, coils: Buffer.alloc(4), discrete };
}

function meterMemory(): { holding: Buffer; input: Buffer; coils: Buffer; discrete: Buffer } {
  const input = Buffer.alloc(400);
  const f = (address: number, v: number): void => {
    const w = encodeWords(v, registerSchema.parse({ field: 'x', address, type: 'float32' }));
    w.forEach((x, i) => input.writeUInt16BE(x, (address + i) * 2));
  };
  f(0, 229.5);
  f(6, 4.25);
  f(12, 975);
  f(70, 50);
  f(72, 12345.5);
  return { holding: Buffer.alloc(10), input, coils: Buffer.alloc(2), discrete: Buffer.alloc(2) };
}

async function tcpServer(mem: ReturnType<typeof memory>): Promise<{ server: Server; port: number }> {
  const server = createServer();
  new jsmodbus.server.TCP(server, mem);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return { server, port: typeof a === 'object' && a !== null ? a.port : 0 };
}

const servers: Server[] = [];
let upsPort = 0;
let meterPort = 0;

beforeAll(async () => {
  const ups = await tcpServer(memory());
  const meter = await tcpServer(meterMemory());
  servers.push(ups.server, meter.server);
  upsPort = ups.port;
  meterPort = meter.port;
});
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

async function gatherOnce(cfg: Record<string, unknown>): Promise<RecordingAccumulator> {
  const c = createModbusCollector(modbusConfigSchema.parse({ type: 'modbus', ...cfg }), { logger: silentLogger() });
  const acc = new RecordingAccumulator();
  try {
    await c.gather(acc, AbortSignal.timeout(10_000));
  } finally {
    await c.close?.();
  }
  return acc;
}

describe('modbus collector over TCP (jsmodbus server)', () => {
  it('reads the built-in profiles and a custom register map', async () => {
    const acc = await gatherOnce({
      transport: { kind: 'tcp', host: '127.0.0.1', port: upsPort },
      devices: [
        { name: 'ups-1', profile: 'generic-ups' },
        { name: 'env-1', profile: 'temp-humidity', unitId: 3 },
        { name: 'counter-x', kind: 'printer', registers: [{ field: 'pages', address: 10, type: 'uint32', wordOrder: 'little', scale: 0.01 }] },
      ],
    });
    const by = new Map(acc.readings.map((r) => [r.tags?.device, r]));
    expect(by.get('ups-1')?.tags).toEqual({ device: 'ups-1', kind: 'ups' });
    expect(by.get('ups-1')?.fields).toMatchObject({ up: 1, result: 'ok', input_v: 220.5, output_v: 230, battery_pct: 87, load_pct: 42, runtime_min: 35, temp_c: -1.5, on_battery: 1 });
    expect(by.get('env-1')?.fields).toMatchObject({ up: 1, humidity_pct: 65.5, temp_c: 28.7 });
    expect(by.get('env-1')?.tags?.kind).toBe('env');
    expect(by.get('counter-x')?.fields).toMatchObject({ up: 1, pages: 1234.56 });
  });

  it('reads a float32 power meter', async () => {
    const acc = await gatherOnce({ transport: { kind: 'tcp', host: '127.0.0.1', port: meterPort }, devices: [{ name: 'meter-1', profile: 'power-meter' }] });
    expect(acc.only().fields).toMatchObject({ voltage_v: 229.5, current_a: 4.25, power_w: 975, frequency_hz: 50, kwh: 12345.5 });
  });

  it('a bad answer and a dead endpoint are readings', async () => {
    // Past its memory, jsmodbus 5 answers a short frame (not exception 02): modbus-serial sees a length error.
    const ex = await gatherOnce({ transport: { kind: 'tcp', host: '127.0.0.1', port: upsPort }, devices: [{ name: 'x', kind: 'ups', registers: [{ field: 'v', address: 5000 }] }] });
    expect(ex.only().fields).toEqual({ up: 0, result: 'bad_response' });
    const closed = await freePort();
    const dead = await gatherOnce({ transport: { kind: 'tcp', host: '127.0.0.1', port: closed }, devices: [{ name: 'ups-9', profile: 'generic-ups' }] });
    expect(dead.only().fields).toEqual({ up: 0, result: 'refused' });
  });

  it('validates device config', () => {
    const base = { type: 'modbus', transport: { kind: 'tcp', host: 'h' } };
    expect(modbusConfigSchema.safeParse({ ...base, devices: [{ name: 'a' }] }).success).toBe(false);
    expect(modbusConfigSchema.safeParse({ ...base, devices: [{ name: 'a', profile: 'nope' }] }).success).toBe(false);
    expect(modbusConfigSchema.parse({ ...base, devices: [{ name: 'a', profile: 'generic-ups' }] })).toMatchObject({ transport: { port: 502 }, devices: [{ unitId: 1, timeoutMs: 1000, retries: 1 }] });
  });
});

describe('modbus collector over RTU (socat pty pair, jsmodbus RTU server)', () => {
  let socat: ChildProcess | undefined;
  let port: SerialPort | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ioc-rtu-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');

  beforeAll(async () => {
    socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    while (!(existsSync(a) && existsSync(b))) {
      if (Date.now() > deadline) throw new Error('socat did not create the pty pair');
      await new Promise((r) => setTimeout(r, 20));
    }
    const sp = new SerialPort({ path: b, baudRate: 9600 });
    await new Promise<void>((resolve, reject) => sp.once('open', () => resolve()).once('error', reject));
    port = sp;
    // Unit 9 is a dead device on the bus: its requests get no answer. Everyone else is the jsmodbus server.
    const line = {
      on: (event: 'data', cb: (d: Buffer) => void) => sp.on(event, (d: Buffer) => (d[0] === 9 ? undefined : cb(d))),
      write: (d: Buffer, cb?: () => void) => sp.write(d, cb),
    };
    new jsmodbus.server.RTU(line as unknown as SerialPort, memory());
  });
  afterAll(async () => {
    if (port?.isOpen === true) await new Promise<void>((r) => port?.close(() => r()));
    socat?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads devices one at a time; a dead device costs its timeout and does not stall the others', async () => {
    const c = createModbusCollector(
      modbusConfigSchema.parse({
        type: 'modbus',
        transport: { kind: 'rtu', path: a, baudRate: 9600 },
        devices: [
          { name: 'ups-1', profile: 'generic-ups', unitId: 1 },
          { name: 'dead-9', profile: 'temp-humidity', unitId: 9, timeoutMs: 300, retries: 1 },
          { name: 'env-1', profile: 'temp-humidity', unitId: 2 },
        ],
      }),
      { logger: silentLogger() },
    );
    const acc = new RecordingAccumulator();
    // Two gathers at once: the bus still puts one request on the wire at a time.
    await Promise.all([c.gather(acc, AbortSignal.timeout(10_000)), c.gather(acc, AbortSignal.timeout(10_000))]);
    await c.close?.();
    expect(acc.readings).toHaveLength(6);
    const by = (d: string) => acc.readings.filter((r) => r.tags?.device === d).map((r) => r.fields);
    for (const f of by('ups-1')) expect(f).toMatchObject({ up: 1, input_v: 220.5, on_battery: 1 });
    for (const f of by('env-1')) expect(f).toMatchObject({ up: 1, temp_c: 28.7, humidity_pct: 65.5 });
    for (const f of by('dead-9')) expect(f).toEqual({ up: 0, result: 'timeout' });
  }, 20_000);
});
