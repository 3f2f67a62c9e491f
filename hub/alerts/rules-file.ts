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
import { groupLabelSchema, summarySchema } from './rules/base.ts';
import { HUB_LINK_RULE, selfCheckSchema } from './self-check.ts';
import type { RuleInstance } from './types.ts';

export const compositeSchema = z.strictObject({
  /** Name of the incident rule (e.g. power-cut). */
  name: slugSchema,
  /** Rules that together make the incident at one site; each of them alone still alerts after groupWait. */
  rules: z.array(slugSchema).min(2),
  severity: z.enum(SEVERITIES).default('critical'),
  summary: summarySchema,
});

/** A group across rules (as Alertmanager's route group_by): alerts of `rules` sharing the `by` labels make one incident. */
export const groupSchema = z.strictObject({
  /** Name of the incident rule (e.g. isp-outage). */
  name: slugSchema,
  rules: z.array(slugSchema).min(1),
  /** Labels, or alternatives `a|b` (the first the alert has); an alert with none of a list's labels is not grouped. */
  by: z.array(groupLabelSchema).min(1).max(8),
  /** Sites the group needs to form. */
  min: z.int().min(2).max(100_000).default(2),
  /** Group wait of its rules; default storm.groupWait. */
  wait: durationSchema.optional(),
  /** Default: the most severe of its members. */
  severity: z.enum(SEVERITIES).optional(),
  /** Templates: {count} (sites), {rule}, and the `by` labels in braces. */
  summary: summarySchema.optional(),
});

export const stormSchema = z.strictObject({
  /** Firing alerts of a `group: province` rule at this many sites of one province become one province incident. */
  groupMinSites: z.int().min(2).default(10),
  /** How long a groupable alert waits to see whether it is part of a group before it is announced alone. */
  groupWait: durationSchema.prefault('30s'),
  /** A standing incident whose parts changed is published again (same id and state: no new notification) at most this often. */
  groupInterval: durationSchema.prefault('1m'),
  groups: z.array(groupSchema).default([]),
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
  /** The hub's self-check (self-check.ts): a mass drop of agents or its own uplink down → one hub-link incident. */
  selfCheck: selfCheckSchema.prefault({}),
  maintenance: z.array(maintenanceSchema).default([]),
});

export type RulesFile = DeepReadonly<Omit<z.output<typeof rulesFileSchema>, 'rules'>> & { rules: readonly RuleInstance[] };
export type Composite = z.output<typeof compositeSchema>;
export type GroupConfig = z.output<typeof groupSchema>;

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
    rules.push(plugin.create(one.data));
  });
  parsed.data.storm.composites.forEach((c, i) => {
    for (const r of c.rules) if (!names.has(r)) problems.push(`storm.composites.${i}.rules: unknown rule ${r}`);
    if (names.has(c.name)) problems.push(`storm.composites.${i}.name: ${c.name} is also a rule name`);
  });
  problems.push(...groupingProblems(parsed.data.storm, rules, names));
  if (problems.length > 0) throw new HubError('E_CONFIG', `invalid ${source}: ${problems.join('; ')}`);
  const { rules: _raw, ...rest } = parsed.data;
  return { ...deepFreeze(rest), rules };
}

/** A rule is in at most one group (its own groupBy, `group: province`, or one of storm.groups); names do not collide. */
function groupingProblems(storm: z.output<typeof stormSchema>, rules: readonly RuleInstance[], names: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const groupOf = new Map<string, string>();
  const taken = new Set([...names, ...storm.composites.map((c) => c.name), HUB_LINK_RULE]);
  rules.forEach((r) => {
    if (r.group !== undefined && r.groupBy !== undefined) problems.push(`rules.${r.name}: group and groupBy are exclusive (group: province is groupBy: [province])`);
    if (r.group !== undefined || r.groupBy !== undefined) groupOf.set(r.name, `its own groupBy`);
    else if (r.groupMin !== undefined || r.groupWaitMs !== undefined) problems.push(`rules.${r.name}: groupMin and groupWait need groupBy`);
    if (r.name === HUB_LINK_RULE) problems.push(`rules.${r.name}: ${HUB_LINK_RULE} is the hub self-check's incident`);
  });
  storm.groups.forEach((g, i) => {
    if (taken.has(g.name)) problems.push(`storm.groups.${i}.name: ${g.name} is also a rule, composite or group name`);
    taken.add(g.name);
    for (const r of g.rules) {
      if (!names.has(r)) problems.push(`storm.groups.${i}.rules: unknown rule ${r}`);
      const other = groupOf.get(r);
      if (other !== undefined) problems.push(`storm.groups.${i}.rules: ${r} is already grouped (${other})`);
      groupOf.set(r, `storm.groups.${i}`);
    }
  });
  return problems;
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
