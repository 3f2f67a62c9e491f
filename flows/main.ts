// Standalone Node-RED service with the IOC notification flows: configuration from the environment and an
// optional YAML notify file; SIGTERM/SIGINT stop it cleanly. Used by docker compose and the demo.
import { readYamlFile, validateConfig, YamlConfigError } from '../common/yaml-config.ts';
import { NodeRedRuntime } from './runtime.ts';
import { notifyConfigSchema, type NotifyConfigInput } from './lib/notify-config.ts';

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') {
    console.error(`ioc-flows: environment variable ${name} is required`);
    process.exit(2);
  }
  return v;
}

function loadNotify(path: string | undefined): NotifyConfigInput {
  if (path === undefined) return {};
  try {
    const { doc } = readYamlFile(path);
    validateConfig(notifyConfigSchema, doc, path);
    // The runtime takes the input form (it applies the defaults itself): the checked document as written.
    return doc as NotifyConfigInput;
  } catch (err: unknown) {
    if (!(err instanceof YamlConfigError)) throw err;
    if (err.code === 'E_CONFIG_READ') console.error(`ioc-flows: cannot read ${path}: ${err.issues.join('; ')}`);
    else for (const issue of err.issues) console.error(`ioc-flows: ${path}: ${issue}`);
    process.exit(1);
  }
}

const port = Number(env('IOC_NR_PORT', '1880'));
const runtime = new NodeRedRuntime({
  userDir: env('IOC_NR_USER_DIR', '/data'),
  host: env('IOC_NR_HOST', '0.0.0.0'),
  port,
  credentialSecret: env('NODE_RED_CREDENTIAL_SECRET'),
  mqtt: {
    host: env('IOC_HUB_MQTT_HOST', '127.0.0.1'),
    port: Number(env('IOC_HUB_MQTT_PORT', '1883')),
    username: env('IOC_NR_MQTT_USERNAME', 'service:node-red'),
    password: env('IOC_NR_MQTT_PASSWORD'),
  },
  notify: loadNotify(process.env.IOC_NR_NOTIFY_FILE),
  logLevel: 'warn',
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ level: 30, time: Date.now(), signal, msg: 'stopping' }));
  await runtime.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await runtime.start();
console.log(JSON.stringify({ level: 30, time: Date.now(), url: runtime.url, console: `${runtime.url}/alerts`, msg: 'node-red flows running' }));
