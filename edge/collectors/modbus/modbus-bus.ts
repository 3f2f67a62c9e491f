// One Modbus bus (a TCP gateway/device or an RTU serial line): one connection, requests strictly one at a time.
import modbusSerial from 'modbus-serial';
import { errorCode } from '../../errors.ts';
import { CodedError } from '../../../common/errors.ts';
import type { ModbusFunction } from './register-map.ts';

// modbus-serial is CommonJS: its default export is module.exports, whose `default` is the client class.
const ModbusRTU = modbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

export type ModbusTransport =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'rtu'; path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 };

export type ModbusResult = 'ok' | 'timeout' | 'refused' | 'exception' | 'bad_response' | 'unreachable' | 'port_error' | 'error';

export class ModbusReadError extends CodedError<'E_MODBUS'> {
  constructor(
    readonly result: ModbusResult,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('E_MODBUS', message, options);
  }
}

export function modbusResultFromError(err: unknown): ModbusResult {
  if (err instanceof ModbusReadError) return err.result;
  if (typeof err === 'object' && err !== null && 'modbusCode' in err) return 'exception';
  // modbus-serial's words for a frame of the wrong length or CRC.
  if (err instanceof Error && /data length error|crc error|unexpected data/i.test(err.message)) return 'bad_response';
  const code = errorCode(err);
  if (typeof err === 'object' && err !== null && 'errno' in err && err.errno === 'ETIMEDOUT') return 'timeout';
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
      return 'unreachable';
    case 'ENOENT':
    case 'EACCES':
    case 'EBUSY':
      return 'port_error';
    default:
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
      return 'error';
  }
}

/** Rejects with a timeout ModbusReadError when `signal` aborts first. */
async function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw new ModbusReadError('timeout', 'aborted');
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ModbusReadError('timeout', 'timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

export class ModbusBus {
  private client: ModbusClient | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly transport: ModbusTransport,
    private readonly connectTimeoutMs: number,
  ) {}

  get label(): string {
    return this.transport.kind === 'tcp' ? `tcp://${this.transport.host}:${this.transport.port}` : `rtu:${this.transport.path}`;
  }

  /** Runs `fn` when every earlier request on this bus has finished (RTU allows one request on the wire). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** One read on the bus: words for registers, 0/1 for coils and discrete inputs. Call inside exclusive(). */
  async read(unitId: number, fn: ModbusFunction, address: number, length: number, timeoutMs: number, signal: AbortSignal): Promise<number[]> {
    const limit = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    const client = await this.connect(limit);
    client.setID(unitId);
    client.setTimeout(timeoutMs);
    try {
      switch (fn) {
        case 'holding':
          return (await raceSignal(client.readHoldingRegisters(address, length), limit)).data;
        case 'input':
          return (await raceSignal(client.readInputRegisters(address, length), limit)).data;
        case 'coil':
          return (await raceSignal(client.readCoils(address, length), limit)).data.slice(0, length).map((b) => (b ? 1 : 0));
        case 'discrete':
          return (await raceSignal(client.readDiscreteInputs(address, length), limit)).data.slice(0, length).map((b) => (b ? 1 : 0));
      }
    } catch (err: unknown) {
      const result = modbusResultFromError(err);
      // A dead TCP connection is reopened on the next read; an RTU timeout is one silent device, not the line.
      if (this.transport.kind === 'tcp' && result !== 'exception') await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c === undefined) return;
    await new Promise<void>((resolve) => {
      try {
        c.close(() => resolve());
      } catch {
        resolve();
      }
      setTimeout(resolve, 1000).unref();
    });
  }

  private async connect(signal: AbortSignal): Promise<ModbusClient> {
    if (this.client?.isOpen === true) return this.client;
    await this.close();
    const client = new ModbusRTU();
    const t = this.transport;
    const limit = AbortSignal.any([signal, AbortSignal.timeout(this.connectTimeoutMs)]);
    try {
      if (t.kind === 'tcp') await raceSignal(client.connectTCP(t.host, { port: t.port }), limit);
      else await raceSignal(client.connectRTUBuffered(t.path, { baudRate: t.baudRate, parity: t.parity, dataBits: t.dataBits, stopBits: t.stopBits }), limit);
    } catch (err: unknown) {
      try {
        client.close(() => undefined);
      } catch {
        // never opened
      }
      throw err;
    }
    this.client = client;
    return client;
  }
}
