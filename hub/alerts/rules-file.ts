// The alert rules file (YAML): rules, office hours, storm control, maintenance windows; validated once at start.
import { z } from 'zod';
import { readYamlFile, YamlConfigError } from '../../common/yaml-config.ts';
import { prefixIssues } from '../../common/zod-issues.ts';
import { SEVERITIES, describeIssues, slugSchema } from '../../protocol/index.ts';
import { deepFreeze, type DeepReadonly } from '../../common/deep-freeze.ts';
import { HubError } from '../errors.ts';
import { durationSchema } from './duration.ts';
import { officeHoursSchema } from './office-hours.ts';
import { RULE_PLUGINS } from './rules/index.ts';
import { summarySchema } from './rules/base.ts';
import type { RuleInstance } from './types.ts';

export const compositeSchema = z.strictObject({
  /** Name of the incident rule (e.g. power-cut). */
  name: slugSchema,
  /** Rules that together make the incident at one site; each of them alone still alerts after groupWait. */
  rules: z.array(slugSchema).min(2),
  severity: z.enum(SEVERITIES).default('critical'),
  summary: summarySchema,
});

export const stormSchema = z.strictObject({
  /** Firing alerts of a grouped rule at this many sites of one province become one province incident. */
  groupMinSites: z.int().min(2).default(10),
  /** How long a groupable alert waits to see whether it is part of a storm before it is announced alone. */
  groupWait: durationSchema.prefault('30s'),
  composites: z.array(compositeSchema).default([]),
});

export const maintenanceSchema = z.strictObject({
  sites: z.array(z.string()).optional(),
  areas: z.array(z.string()).optional(),
  rules: z.array(z.string()).optional(),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  comment: z.string().default(''),
});

export const rulesFileSchema = z.strictObject({
  rules: z.array(z.looseObject({ type: z.string(), name: z.string() })).default([]),
  officeHours: officeHoursSchema.prefault({}),
  storm: stormSchema.prefault({}),
  maintenance: z.array(maintenanceSchema).default([]),
});

export type RulesFile = DeepReadonly<Omit<z.output<typeof rulesFileSchema>, 'rules'>> & { rules: readonly RuleInstance[] };
export type Composite = z.output<typeof compositeSchema>;

/** Validates a rules document: every rule against its type's schema; every problem with its path. */
export function parseRulesFile(raw: unknown, source = 'rules'): RulesFile {
  const parsed = rulesFileSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new HubError('E_CONFIG', `invalid ${source}: ${describeIssues(parsed.error.issues, 20)}`, { cause: parsed.error });
  const problems: string[] = [];
  const rules: RuleInstance[] = [];
  const names = new Set<string>();
  parsed.data.rules.forEach((r, i) => {
    const plugin = RULE_PLUGINS.find((p) => p.type === r.type);
    if (plugin === undefined) {
      problems.push(`rules.${i}.type: unknown rule type ${JSON.stringify(r.type)} (known: ${RULE_PLUGINS.map((p) => p.type).join(', ')})`);
      return;
    }
    const one = plugin.configSchema.safeParse(r);
    if (!one.success) {
      problems.push(describeIssues(prefixIssues(one.error.issues, ['rules', i]), 10));
      return;
    }
    if (names.has(r.name)) problems.push(`rules.${i}.name: duplicate rule name ${r.name}`);
    names.add(r.name);
    const config = one.data;
    rules.push({ ...plugin.create(config), replica: () => plugin.create(config) });
  });
  parsed.data.storm.composites.forEach((c, i) => {
    for (const r of c.rules) if (!names.has(r)) problems.push(`storm.composites.${i}.rules: unknown rule ${r}`);
    if (names.has(c.name)) problems.push(`storm.composites.${i}.name: ${c.name} is also a rule name`);
  });
  if (problems.length > 0) throw new HubError('E_CONFIG', `invalid ${source}: ${problems.join('; ')}`);
  const { rules: _raw, ...rest } = parsed.data;
  return { ...deepFreeze(rest), rules };
}

export function loadRulesFile(path: string): RulesFile {
  let doc: unknown;
  try {
    doc = readYamlFile(path).doc;
  } catch (err: unknown) {
    if (!(err instanceof YamlConfigError)) throw err;
    throw new HubError('E_CONFIG', `cannot read alert rules ${path}: ${err.issues.join('; ')}`, { cause: err.cause });
  }
  return parseRulesFile(doc, path);
}
