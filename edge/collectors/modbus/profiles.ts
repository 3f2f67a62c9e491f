// Built-in register maps for common office equipment. Devices differ by vendor: a device entry's own
// `registers` override profile entries with the same field, so a profile is a starting point.
import type { RegisterSpecInput } from './register-map.ts';

export interface ModbusProfile {
  kind: 'ups' | 'meter' | 'env';
  description: string;
  registers: readonly RegisterSpecInput[];
}

export const MODBUS_PROFILES = {
  /** A generic single-phase online UPS (input registers, 0.1 scaling). */
  'generic-ups': {
    kind: 'ups',
    description: 'generic UPS: input/output voltage, battery %, load %, on-battery flag, runtime',
    registers: [
      { field: 'input_v', address: 0, function: 'input', type: 'uint16', scale: 0.1, unit: 'V' },
      { field: 'output_v', address: 1, function: 'input', type: 'uint16', scale: 0.1, unit: 'V' },
      { field: 'battery_pct', address: 2, function: 'input', type: 'uint16', unit: '%' },
      { field: 'load_pct', address: 3, function: 'input', type: 'uint16', unit: '%' },
      { field: 'runtime_min', address: 4, function: 'input', type: 'uint16', unit: 'min' },
      { field: 'temp_c', address: 5, function: 'input', type: 'int16', scale: 0.1, unit: '°C' },
      { field: 'on_battery', address: 0, function: 'discrete' },
    ],
  },
  /** A single-phase DIN-rail energy meter with float32 registers (Eastron SDM120-style input map). */
  'power-meter': {
    kind: 'meter',
    description: 'single-phase power meter: voltage, current, power, frequency, energy (float32)',
    registers: [
      { field: 'voltage_v', address: 0, function: 'input', type: 'float32', unit: 'V' },
      { field: 'current_a', address: 6, function: 'input', type: 'float32', unit: 'A' },
      { field: 'power_w', address: 12, function: 'input', type: 'float32', unit: 'W' },
      { field: 'frequency_hz', address: 70, function: 'input', type: 'float32', unit: 'Hz' },
      { field: 'kwh', address: 72, function: 'input', type: 'float32', unit: 'kWh' },
    ],
  },
  /** A temperature/humidity sensor (common RS-485 probes: holding registers, 0.1 scaling). */
  'temp-humidity': {
    kind: 'env',
    description: 'temperature/humidity sensor: temp_c, humidity_pct',
    registers: [
      { field: 'humidity_pct', address: 0, function: 'holding', type: 'uint16', scale: 0.1, unit: '%' },
      { field: 'temp_c', address: 1, function: 'holding', type: 'int16', scale: 0.1, unit: '°C' },
    ],
  },
} as const satisfies Record<string, ModbusProfile>;

export type ModbusProfileName = keyof typeof MODBUS_PROFILES;
export const MODBUS_PROFILE_NAMES = Object.keys(MODBUS_PROFILES) as [ModbusProfileName, ...ModbusProfileName[]];
