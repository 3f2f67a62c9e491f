// The Node-RED service's settings from the environment: the one place that reads IOC_NR_* (and
// NODE_RED_CREDENTIAL_SECRET, IOC_HUB_MQTT_*). flows/settings.cjs holds only what never changes.
import { CodedError } from '../common/errors.ts';
import type { NodeRedRuntimeOptions } from './runtime.ts';

export const NR_LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type LogLevel = (typeof NR_LOG_LEVELS)[number];

/** Every variable read here, with its default (undefined: required; '': optional, no default). */
export const FLOWS_ENV = {
  IOC_NR_PORT: '1880',
  IOC_NR_USER_DIR: '/data',
  IOC_NR_HOST: '0.0.0.0',
  IOC_NR_MQTT_USERNAME: 'service:node-red',
  IOC_NR_MQTT_PASSWORD: undefined,
  IOC_NR_NOTIFY_FILE: '',
  IOC_NR_LOG_LEVEL: 'warn',
  /** Tests and demos only: the flows' clock (rosters, escalation, limits) starts at this instant and runs on. */
  IOC_NR_CLOCK: '',
  NODE_RED_CREDENTIAL_SECRET: undefined,
  IOC_HUB_MQTT_HOST: '127.0.0.1',
  IOC_HUB_MQTT_PORT: '1883',
} as const satisfies Record<string, string | undefined>;
type FlowsEnvName = keyof typeof FLOWS_ENV;

export class FlowsEnvError extends CodedError<'E_ENV'> {
  constructor(message: string) {
    super('E_ENV', message);
  }
}

export interface FlowsSettings {
  runtime: Omit<NodeRedRuntimeOptions, 'notify'>;
  /** The notify YAML, when IOC_NR_NOTIFY_FILE is set. */
  notifyFile: string | undefined;
}

export function flowsSettingsFromEnv(env: NodeJS.ProcessEnv): FlowsSettings {
  const get = (name: FlowsEnvName): string => {
    const v = env[name] ?? FLOWS_ENV[name];
    if (v === undefined || v === '') throw new FlowsEnvError(`environment variable ${name} is required`);
    return v;
  };
  const level = get('IOC_NR_LOG_LEVEL');
  if (!(NR_LOG_LEVELS as readonly string[]).includes(level)) throw new FlowsEnvError(`IOC_NR_LOG_LEVEL must be one of ${NR_LOG_LEVELS.join(', ')}`);
  const notifyFile = env.IOC_NR_NOTIFY_FILE;
  const now = clockFromEnv(env.IOC_NR_CLOCK);
  return {
    runtime: {
      userDir: get('IOC_NR_USER_DIR'),
      host: get('IOC_NR_HOST'),
      port: Number(get('IOC_NR_PORT')),
      credentialSecret: get('NODE_RED_CREDENTIAL_SECRET'),
      mqtt: {
        host: get('IOC_HUB_MQTT_HOST'),
        port: Number(get('IOC_HUB_MQTT_PORT')),
        username: get('IOC_NR_MQTT_USERNAME'),
        password: get('IOC_NR_MQTT_PASSWORD'),
      },
      logLevel: level as LogLevel,
      ...(now === undefined ? {} : { now }),
    },
    notifyFile: notifyFile === undefined || notifyFile === '' ? undefined : notifyFile,
  };
}

/**
 * IOC_NR_CLOCK (an ISO instant with its offset, `2026-04-20T09:00:00+07:00`): a clock that reads that instant now
 * and runs at the real pace from there, so a test sees a shift or a holiday without waiting for one.
 */
function clockFromEnv(value: string | undefined): (() => number) | undefined {
  if (value === undefined || value === '') return undefined;
  const start = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(start)) throw new FlowsEnvError('IOC_NR_CLOCK must be an ISO instant with its offset, such as 2026-04-20T09:00:00+07:00');
  const offset = start - Date.now();
  return () => Date.now() + offset;
}
