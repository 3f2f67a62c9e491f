// Agent configuration: YAML file + environment overrides, validated once with zod, then frozen.
import { deepFreeze } from '../common/deep-freeze.ts';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { readYamlFile, YamlConfigError, type YamlFile } from '../common/yaml-config.ts';
import { issueLines } from '../common/zod-issues.ts';
import { edgeConfigBaseSchema } from '../protocol/index.ts';
import { collectorConfigSchema } from './collectors/index.ts';
import { EdgeError } from './errors.ts';

export { LOG_LEVELS, hubConfigSchema } from '../protocol/index.ts';

/** The shared schema (protocol/edge-config.ts), with each collector entry checked by its plugin's own schema. */
export const edgeConfigSchema = edgeConfigBaseSchema.extend({
  collectors: z.array(collectorConfigSchema).max(256).default([]),
  /** Software updates from the hub (edge/update/): signed bundles installed beside the running version (A/B). */
  update: z
    .strictObject({
      /** PEM ed25519 public key (`ioc-hub release keygen`) whose signature a bundle must carry; none: updates refused. */
      publicKey: z.string().regex(/-----BEGIN PUBLIC KEY-----/, 'a PEM public key').optional(),
      /** A new version must be connected and sending within this long after the switch, else it is switched back. */
      healthTimeoutS: z.int().min(5).max(86_400).default(300),
      /** Starts of a new version that may fail before it is switched back. */
      maxAttempts: z.int().min(1).max(20).default(3),
      downloadTimeoutS: z.int().min(5).max(7200).default(600),
    })
    .prefault({}),
});

export type EdgeConfig = z.infer<typeof edgeConfigSchema>;
export type EdgeConfigInput = z.input<typeof edgeConfigSchema>;

export class ConfigError extends EdgeError {
  /** Every problem as `path: message`. */
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source: string, cause?: unknown) {
    super('E_CONFIG', `invalid config ${source}:\n  ${issues.join('\n  ')}`, { cause });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Applies IOC_EDGE_* overrides onto the raw (unvalidated) object. */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const hubRaw = out.hub;
  const hub: Record<string, unknown> = typeof hubRaw === 'object' && hubRaw !== null && !Array.isArray(hubRaw) ? { ...(hubRaw as Record<string, unknown>) } : {};
  if (env.IOC_EDGE_HUB_URL) hub.url = env.IOC_EDGE_HUB_URL;
  if (env.IOC_EDGE_HUB_TOKEN) hub.token = env.IOC_EDGE_HUB_TOKEN;
  if (env.IOC_EDGE_HUB_URL || env.IOC_EDGE_HUB_TOKEN || hubRaw !== undefined) out.hub = hub;
  if (env.IOC_EDGE_DATA_DIR) out.dataDir = env.IOC_EDGE_DATA_DIR;
  if (env.IOC_EDGE_LOG_LEVEL) out.logLevel = env.IOC_EDGE_LOG_LEVEL;
  return out;
}

/** Validates an already-parsed object (YAML or literal). Throws ConfigError (E_CONFIG). */
export function parseEdgeConfig(raw: unknown, source = '(inline)'): Readonly<EdgeConfig> {
  const parsed = edgeConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(issueLines(parsed.error.issues), source, parsed.error);
  deepFreeze(parsed.data);
  return parsed.data;
}

export async function loadEdgeConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Readonly<EdgeConfig>> {
  let file: YamlFile;
  try {
    file = readYamlFile(path);
  } catch (err: unknown) {
    if (!(err instanceof YamlConfigError)) throw err;
    if (err.code === 'E_CONFIG_READ') throw new EdgeError('E_CONFIG_READ', `cannot read config ${path}`, { cause: err.cause });
    throw new ConfigError(err.issues, path, err.cause);
  }
  const { text, doc } = file;
  const withEnv = applyEnvOverrides(doc, env);
  if (typeof withEnv === 'object' && withEnv !== null && !Array.isArray(withEnv) && !('configRev' in withEnv)) {
    (withEnv as Record<string, unknown>).configRev = createHash('sha256').update(text).digest('hex').slice(0, 12);
  }
  return parseEdgeConfig(withEnv, path);
}
