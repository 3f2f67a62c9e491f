// Standalone Node-RED service with the IOC notification flows: configuration from the environment and an
// optional YAML notify file; SIGTERM/SIGINT stop it cleanly. Used by docker compose and the demo.
import { readYamlFile, validateConfig, YamlConfigError } from '../common/yaml-config.ts';
import { flowsSettingsFromEnv, FlowsEnvError, type FlowsSettings } from './env.ts';
import { NodeRedRuntime } from './runtime.ts';
import { notifyConfigSchema, type NotifyConfigInput } from './lib/notify-config.ts';

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

let settings: FlowsSettings;
try {
  settings = flowsSettingsFromEnv(process.env);
} catch (err: unknown) {
  if (!(err instanceof FlowsEnvError)) throw err;
  console.error(`ioc-flows: ${err.message}`);
  process.exit(2);
}
const runtime = new NodeRedRuntime({ ...settings.runtime, notify: loadNotify(settings.notifyFile) });

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
