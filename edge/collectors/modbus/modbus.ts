// modbus: office equipment (UPS, power meter, temperature/humidity) over Modbus TCP or RTU (equipment).
import { z } from 'zod';
import { EQUIPMENT_KINDS, type FieldValue } from '../../../protocol/index.ts';
import { ModbusBus, modbusResultFromError, type ModbusTransport } from './modbus-bus.ts';
import { MODBUS_PROFILE_NAMES, MODBUS_PROFILES } from './profiles.ts';
import { decodeWords, planReads, registerSchema, type RegisterSpec } from './register-map.ts';
import { collectorBaseShape, defineCollector, elapsedMs, hostSchema, portSchema, timeoutMsSchema, writes, type CollectorContext, type Collector } from '../types.ts';

const transportSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tcp'), host: hostSchema, port: portSchema.default(502) }),
  z.strictObject({
    kind: z.literal('rtu'),
    /** Serial device, e.g. /dev/ttyUSB0 (an RS-485 adapter). */
    path: z.string().min(1),
    baudRate: z.int().min(1200).max(921_600).default(9600),
    parity: z.enum(['none', 'even', 'odd']).default('none'),
    dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  }),
]);

const deviceSchema = z
  .strictObject({
    /** The `device` tag. */
    name: z.string().min(1).max(64),
    /** The `kind` tag; defaults to the profile's. */
    kind: z.enum(EQUIPMENT_KINDS).optional(),
    /** Modbus unit (slave) id. */
    unitId: z.int().min(0).max(255).default(1),
    profile: z.enum(MODBUS_PROFILE_NAMES).optional(),
    /** Own registers; a field also in the profile replaces the profile's entry. */
    registers: z.array(registerSchema).max(128).default([]),
    timeoutMs: timeoutMsSchema.default(1000),
    /** Further tries of a failed read (timeouts: a bus glitch); a Modbus exception is not retried. */
    retries: z.int().min(0).max(5).default(1),
  })
  .refine((d) => d.profile !== undefined || d.registers.length > 0, { message: 'set a profile or registers', path: ['registers'] })
  .refine((d) => d.profile !== undefined || d.kind !== undefined, { message: 'kind is required without a profile', path: ['kind'] });

export const modbusConfigSchema = z.strictObject({
  type: z.literal('modbus'),
  ...collectorBaseShape,
  intervalS: collectorBaseShape.intervalS.unwrap().default(30),
  transport: transportSchema,
  connectTimeoutMs: timeoutMsSchema.default(3000),
  devices: z.array(deviceSchema).min(1).max(64),
});
export type ModbusConfig = z.infer<typeof modbusConfigSchema>;
export type ModbusDeviceConfig = ModbusConfig['devices'][number];

export interface ResolvedDevice {
  name: string;
  kind: string;
  unitId: number;
  timeoutMs: number;
  retries: number;
  registers: RegisterSpec[];
}

/** Profile registers overlaid with the device's own, by field. */
export function resolveDevice(d: ModbusDeviceConfig): ResolvedDevice {
  const profile = d.profile === undefined ? undefined : MODBUS_PROFILES[d.profile];
  const byField = new Map<string, RegisterSpec>();
  for (const r of profile?.registers ?? []) byField.set(r.field, registerSchema.parse(r));
  for (const r of d.registers) byField.set(r.field, r);
  return { name: d.name, kind: d.kind ?? profile?.kind ?? 'ups', unitId: d.unitId, timeoutMs: d.timeoutMs, retries: d.retries, registers: [...byField.values()] };
}

async function readDevice(bus: ModbusBus, d: ResolvedDevice, signal: AbortSignal): Promise<Record<string, FieldValue>> {
  const start = process.hrtime.bigint();
  const fields: Record<string, FieldValue> = {};
  try {
    for (const span of planReads(d.registers)) {
      let words: number[] | undefined;
      for (let attempt = 0; words === undefined; attempt += 1) {
        try {
          words = await bus.read(d.unitId, span.function, span.address, span.length, d.timeoutMs, signal);
        } catch (err: unknown) {
          if (attempt >= d.retries || modbusResultFromError(err) === 'exception' || signal.aborted) throw err;
        }
      }
      for (const r of span.registers) {
        const at = words.slice(r.address - span.address);
        const v = r.function === 'coil' || r.function === 'discrete' ? at[0] : decodeWords(at, r);
        if (v !== undefined) fields[r.field] = v;
      }
    }
  } catch (err: unknown) {
    return { up: 0, result: modbusResultFromError(err) };
  }
  return { ...fields, up: 1, result: 'ok', rtt_ms: elapsedMs(start) };
}

export function createModbusCollector(config: ModbusConfig, ctx: CollectorContext): Collector {
  const transport: ModbusTransport = config.transport;
  const bus = new ModbusBus(transport, config.connectTimeoutMs);
  const devices = config.devices.map(resolveDevice);
  const log = ctx.logger;
  return {
    async gather(acc, signal) {
      // Devices one after another on the bus; each has its own timeout, so a dead one costs (retries+1) × timeoutMs.
      for (const d of devices) {
        const t = Date.now();
        const fields = await bus.exclusive(() => readDevice(bus, d, signal));
        if (fields.up === 0) log.debug({ device: d.name, bus: bus.label, result: fields.result }, 'modbus device unreadable');
        acc.add('equipment', fields, { device: d.name, kind: d.kind }, t);
      }
    },
    async close() {
      await bus.exclusive(() => bus.close());
    },
  };
}

export const modbusPlugin = defineCollector({
  type: 'modbus',
  configSchema: modbusConfigSchema,
  label: (c) => `modbus:${c.name ?? (c.transport.kind === 'tcp' ? `${c.transport.host}:${c.transport.port}` : c.transport.path)}`,
  writes: [
    writes('equipment', {
      tags: ['device', 'kind'],
      // The built-in profiles' fields (profiles.ts); a device's own registers may add any numeric field.
      fields: ['up', 'result', 'rtt_ms', 'battery_pct', 'on_battery', 'input_v', 'output_v', 'load_pct', 'runtime_min', 'temp_c', 'humidity_pct', 'kwh', 'power_w', 'voltage_v', 'current_a', 'frequency_hz'],
      otherFields: true,
    }),
  ],
  create: (config, ctx) => createModbusCollector(config, ctx),
});
