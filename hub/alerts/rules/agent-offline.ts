// Agent offline rule: the agent's status (retained status or last will) says offline, or it went silent.
import { z } from 'zod';
import type { HubPoint } from '../../write/sink.ts';
import { durationSchema } from '../duration.ts';
import { matchesSelector } from '../selector.ts';
import type { RuleInstance, RulePlugin, RuleSignal } from '../types.ts';
import { baseRuleShape, commonOf, isLabels, render } from './base.ts';
import { SeriesMemory } from './series-memory.ts';

export const agentOfflineConfigSchema = z.strictObject({
  ...baseRuleShape,
  type: z.literal('agent-offline'),
  severity: baseRuleShape.severity.default('critical'),
  /** Grace: an agent must stay offline this long before the alert fires (reconnects are routine). */
  for: durationSchema.prefault('2m'),
  /** Also offline when an agent that was online sends nothing for this long (its will was lost with a hub restart). */
  staleAfter: durationSchema.optional(),
  /** When true, an offline agent inhibits the other alerts of its site. */
  inhibitsSite: z.boolean().default(true),
});
export type AgentOfflineConfig = z.output<typeof agentOfflineConfigSchema>;

interface AgentSeen {
  site: string;
  agent: string;
  labels: Record<string, string>;
  online: boolean;
  lastSeen: number;
}

/** A remembered agent from the state file (labels may be missing in older files). */
function isAgentSeen(v: unknown): v is Omit<AgentSeen, 'labels'> & { labels?: Record<string, string> } {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Record<string, unknown>;
  return typeof a.site === 'string' && typeof a.agent === 'string' && typeof a.online === 'boolean' && typeof a.lastSeen === 'number' && isLabels(a.labels);
}

export const agentOfflineRule: RulePlugin<typeof agentOfflineConfigSchema> = {
  type: 'agent-offline',
  configSchema: agentOfflineConfigSchema,
  create(c: AgentOfflineConfig): RuleInstance {
    const agents = new SeriesMemory<AgentSeen>(c.maxSeriesPerSite, c.maxSeries);
    const template = c.summary ?? { vi: 'Mất kết nối với điểm {site} (thiết bị {agent})', en: 'Site {site} is offline (agent {agent})' };
    const signal = (a: AgentSeen, active: boolean): RuleSignal => ({
      site: a.site,
      instance: `agent=${a.agent}`,
      active,
      labels: a.labels,
      summary: render(template, { ...a.labels, site: a.site, agent: a.agent }),
    });
    return {
      ...commonOf(c, 'agent-offline', c.inhibitsSite),
      onPoint(p: HubPoint, now: number): RuleSignal[] {
        const site = p.tags.site;
        const agent = p.tags.agent;
        if (site === undefined || agent === undefined || !matchesSelector(c.select, p.tags)) return [];
        const key = `${site}/${agent}`;
        const online = p.fields.online;
        const prev = agents.get(key);
        // Any point is a sign of life; only the hub's `agent` point with `online` changes the status.
        const a: AgentSeen = {
          site,
          agent,
          labels: { agent, ...(p.tags.area === undefined ? {} : { area: p.tags.area }), ...(p.tags.province === undefined ? {} : { province: p.tags.province }) },
          online: p.measurement === 'agent' && typeof online === 'boolean' ? online : (prev?.online ?? true),
          lastSeen: now,
        };
        if (!agents.set(site, key, a)) return [];
        return [signal(a, !a.online)];
      },
      tick(now: number): RuleSignal[] {
        if (c.staleAfter === undefined) return [];
        const stale = c.staleAfter;
        return [...agents.values()].filter((a) => a.online).map((a) => signal(a, now - a.lastSeen > stale));
      },
      snapshot: () => [...agents.values()],
      restore(data: unknown, now: number): void {
        if (!Array.isArray(data)) return;
        for (const raw of data as unknown[]) {
          if (!isAgentSeen(raw)) continue;
          agents.set(raw.site, `${raw.site}/${raw.agent}`, { site: raw.site, agent: raw.agent, online: raw.online, labels: raw.labels ?? {}, lastSeen: Math.max(now, raw.lastSeen) });
        }
      },
      seriesRefused: () => agents.refused,
    };
  },
};
