// Alert latency: condition true (telemetry published by an agent) → e-mail received by the SMTP sink, through
// hub ingest, the alert engine, MQTT, Node-RED and SMTP. `tsx bench/alert-latency.ts` or import { run }.
import { pathToFileURL } from 'node:url';
import { AlertStack } from '../testkit/alerts-stack.ts';
import { waitUntil } from '../testkit/wait.ts';

export interface AlertLatencyFigures {
  samples: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
}

const RULES = `
rules:
  - { name: ups-on-battery, type: threshold, measurement: equipment, field: on_battery, above: 0.5, severity: critical }
`;

export async function run(samples = 10): Promise<AlertLatencyFigures> {
  const stack = await AlertStack.start({ sites: samples, rulesYaml: RULES, startupGrace: '0s' });
  try {
    const latencies: number[] = [];
    for (const site of stack.sites) {
      await stack.online(site.slug);
      const t0 = performance.now();
      await stack.telemetry(site.slug, [{ m: 'equipment', t: Date.now(), tags: { device: 'ups-1', kind: 'ups' }, fields: { on_battery: 1 } }]);
      const mail = await waitUntil('alert e-mail', async () => stack.mails.find((m) => m.site === site.slug), 10_000, 2);
      latencies.push(mail.at - t0);
    }
    latencies.sort((a, b) => a - b);
    const q = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
    return { samples: latencies.length, medianMs: q(0.5), p90Ms: q(0.9), maxMs: Math.round(latencies.at(-1) ?? 0) };
  } finally {
    await stack.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const f = await run();
  process.stdout.write(`alert latency (condition true → e-mail in the SMTP sink), ${f.samples} samples: median ${f.medianMs} ms, p90 ${f.p90Ms} ms, max ${f.maxMs} ms\n`);
  process.exit(0);
}
