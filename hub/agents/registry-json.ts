// The registry file of earlier hubs (registry.json: `{version: 1, sites, agents}`), read for its import into the
// database: automatically on the first start beside it, or with `ioc-hub registry import FILE`. The file is never
// changed: it stays as the backup of the registry before the database.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssues, isSiteSlug, slugSchema } from '../../protocol/index.ts';
import { HubError, errorCode, errorMessage } from '../errors.ts';
import { isHmacHash, isScryptHash } from './token.ts';

export const siteSchema = z.strictObject({
  slug: slugSchema.refine(isSiteSlug, 'reserved site slug'),
  name: z.string().min(1).max(256),
  code: z.string().max(32),
  province: slugSchema,
  provinceName: z.string().max(256),
  /** The district's slug; '' when the province groups communes directly (the 2025 list has no districts). */
  area: slugSchema.or(z.literal('')),
  areaName: z.string().max(256),
  /** Absent until the office's coordinates are known (the 2025 list has none): the wall lists it without a map marker. */
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
});

export const agentRecordSchema = z.strictObject({
  site: slugSchema,
  agent: slugSchema,
  /** `hmac-sha256:<hex>` (token.ts); `scrypt$…` in registries written before, migrated on the agent's next connect. */
  tokenHash: z.string().refine((h) => isHmacHash(h) || isScryptHash(h), 'a hmac-sha256: or scrypt$ token hash'),
  createdAt: z.string(),
});

const registryFileSchema = z.strictObject({
  version: z.literal(1),
  sites: z.array(siteSchema),
  agents: z.array(agentRecordSchema),
});
export type RegistryFile = z.infer<typeof registryFileSchema>;

/** The file's content; undefined when it does not exist. E_REGISTRY_CORRUPT for anything but a valid registry. */
export async function readRegistryJson(path: string): Promise<RegistryFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new HubError('E_REGISTRY_IO', `cannot read registry ${path}: ${errorMessage(err)}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err: unknown) {
    throw new HubError('E_REGISTRY_CORRUPT', `registry ${path} is not valid JSON`, { cause: err });
  }
  const parsed = registryFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HubError('E_REGISTRY_CORRUPT', `registry ${path}: ${describeIssues(parsed.error.issues)}`, { cause: parsed.error });
  }
  const agentSites = new Set(parsed.data.sites.map((s) => s.slug));
  const orphan = parsed.data.agents.find((a) => !agentSites.has(a.site));
  if (orphan !== undefined) throw new HubError('E_REGISTRY_CORRUPT', `registry ${path}: agent ${orphan.site}/${orphan.agent} belongs to no site of the file`);
  return parsed.data;
}
