// Wiring of the alert engine into the hub: rules from the config, outputs to the broker and ingest, the HTTP routes.
import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { MqttBroker } from '../broker.ts';
import type { HubConfig } from '../config.ts';
import type { Ingest } from '../ingest.ts';
import { AlertEngine } from './engine.ts';
import { alertRoutes } from './http-routes.ts';
import { hubAlertOutputs } from './outputs.ts';
import { loadRulesFile, parseRulesFile, type RulesFile } from './rules-file.ts';
import { ServiceAccounts } from './service-accounts.ts';

/** Reads and validates the rules file (throws E_CONFIG with every problem): call before anything starts. */
export function loadAlertRules(config: HubConfig): RulesFile {
  return config.alerts.rulesFile === undefined ? parseRulesFile({}) : loadRulesFile(config.alerts.rulesFile);
}

export function serviceAccounts(config: HubConfig): ServiceAccounts {
  return new ServiceAccounts(config.services);
}

export function createAlertEngine(opts: { config: HubConfig; rules: RulesFile; broker: MqttBroker; ingest: Pick<Ingest, 'submit'>; logger: Logger }): AlertEngine {
  const outputs = hubAlertOutputs({
    publish: (topic, payload, retain) =>
      new Promise<void>((resolve, reject) => {
        opts.broker.aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false }, (err) => (err ? reject(err) : resolve()));
      }),
    store: (points) => opts.ingest.submit(points),
    logger: opts.logger,
  });
  return new AlertEngine({
    rules: opts.rules,
    outputs,
    statePath: opts.config.alerts.statePath ?? join(dirname(opts.config.registry.path), 'alerts-state.json'),
    startupGraceMs: opts.config.alerts.startupGrace,
    evaluateIntervalMs: opts.config.alerts.evaluateIntervalMs,
    logger: opts.logger,
  });
}

export function alertHttpPlugin(engine: AlertEngine, accounts: ServiceAccounts): FastifyPluginAsync {
  return alertRoutes({ engine, accounts });
}
