// The hub's self-check: when a large share of the online agents drop within seconds, or the hub's own uplink is down
// (uplink-probe.ts), the cause is the hub's side — its link to the IOC network — not N communes. One `hub-link`
// incident then stands for it (site `ioc-hub`), and the site-offline alerts of the agents that dropped are muted as
// its parts (`hub-link`). Pure logic on the clock it is given; fed by the engine with stored `agent` points.
import { z } from 'zod';
import { MAX_ALERT_PARTS, SEVERITIES, slugSchema, type AlertPart } from '../../protocol/index.ts';
import { alertKey, type Alert, type AlertSignal } from './alert.ts';
import type { DeepReadonly } from '../../common/deep-freeze.ts';
import { durationSchema } from './duration.ts';

export const HUB_LINK_RULE = 'hub-link';
/** The `site` of the hub's own incident (alert topic ioc/v1/alerts/ioc-hub/{id}). */
export const HUB_SITE = 'ioc-hub';

export const uplinkTargetSchema = z.strictObject({
  name: slugSchema,
  host: z.string().min(1).max(253),
  port: z.int().min(1).max(65_535),
});

export const selfCheckSchema = z.strictObject({
  enabled: z.boolean().default(true),
  severity: z.enum(SEVERITIES).default('critical'),
  /** The incident fires once its condition held this long (a blip of the hub's link pages no one). */
  for: durationSchema.prefault('30s'),
  /**
   * It resolves once the uplink answers and `massDrop.recovered` of its agents are back, both for this long: agents
   * reconnect with jittered back-off, and one still on its way must not come out as a site (or area) alert.
   */
  clearFor: durationSchema.prefault('1m'),
  massDrop: z
    .strictObject({
      /** Share of the online agents that must go offline within `window`. */
      share: z.number().gt(0).max(1).default(0.3),
      /**
       * A silent cut of the hub's link is noticed per agent 1.5 keepalives after its last packet (agents: 30 s), so
       * its drops spread over up to one keepalive: the window covers that.
       */
      window: durationSchema.prefault('30s'),
      /** Fewer drops than this are never a hub incident, whatever the share (a hub with 3 agents). */
      minAgents: z.int().min(2).default(5),
      /**
       * Areas (their province where none) the drops must span: the hub's side takes every area down with it, an ISP
       * outage one area — which is that area's incident (grouping), however large a share of the agents it holds.
       */
      minAreas: z.int().min(1).default(2),
      /** The incident resolves once this share of its agents is back online (the rest alert on their own). */
      recovered: z.number().gt(0).max(1).default(0.8),
    })
    .prefault({}),
  uplink: z
    .strictObject({
      /** TCP connects the hub makes to see its own uplink (the provincial portal, a gateway); none: no probe. */
      targets: z.array(uplinkTargetSchema).max(16).default([]),
      interval: durationSchema.prefault('10s'),
      timeout: durationSchema.prefault('3s'),
      /** Rounds in a row in which every target failed before the uplink counts as down. */
      failures: z.int().min(1).max(100).default(2),
    })
    .prefault({}),
});
export type SelfCheckConfig = DeepReadonly<z.output<typeof selfCheckSchema>>;

export interface SelfCheckStats {
  /** Agents the self-check sees online. */
  agentsOnline: number;
  /** Mass drops detected (the incident condition began). */
  massDrops: number;
  /** Times the uplink was found down (after `failures` rounds). */
  uplinkDowns: number;
  /** 1 up, 0 down, -1 not probed (no targets). */
  uplinkUp: number;
  /** Drop records forgotten because the window held too many (bound: the agents seen). */
  dropsForgotten: number;
  /** Agents not tracked because MAX_TRACKED_AGENTS were (their drops are not counted). */
  agentsUntracked: number;
}

interface Drop {
  key: string;
  site: string;
  agent: string;
  area: string;
  at: number;
}

export const MAX_TRACKED_AGENTS = 100_000;
/** How long a part that came back stays one (its alert resolves within its clearFor, minutes). */
const RETURNED_MS = 3_600_000;

function spansAreas(drops: readonly Drop[], min: number): boolean {
  if (min <= 1) return true;
  const areas = new Set<string>();
  for (const d of drops) {
    areas.add(d.area);
    if (areas.size >= min) return true;
  }
  return false;
}

export class SelfCheck {
  private readonly online = new Set<string>();
  /** Online → offline transitions within the window, oldest first. */
  private drops: Drop[] = [];
  /** Agents of the current incident (site/agent → part); empty when there is none. */
  private readonly parts = new Map<string, Drop>();
  /** Parts still offline. */
  private readonly partsDown = new Set<string>();
  /**
   * Parts that came back (→ when): their site-offline alerts stay muted as parts until they resolve, also after the
   * incident ended — an alert damping its resolution would otherwise be announced as it clears. Forgotten when the
   * agent drops again (that is its own outage) or after RETURNED_MS.
   */
  private readonly returned = new Map<string, number>();
  /** The incident's condition: begun by a mass drop or the uplink down, ended once recovered for `clearFor`. */
  private standing = false;
  /** Causes seen during the standing incident. */
  private dropped = false;
  private uplinkSeen = false;
  private recoveredSince: number | undefined;
  private uplinkFailedRounds = 0;
  private uplinkDown = false;
  private uplinkUnreachable: readonly string[] = [];
  private probed = false;
  /** Online agents just before the drop began (the share's base). */
  private base = 0;
  readonly counts = { massDrops: 0, uplinkDowns: 0, dropsForgotten: 0, agentsUntracked: 0 };

  constructor(private readonly config: SelfCheckConfig) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** The hub's `agent` points with `online`: transitions are counted on the hub's clock when they arrive. */
  onAgentStatus(site: string, agent: string, online: boolean, now: number, area = ''): void {
    if (!this.config.enabled) return;
    const key = `${site}/${agent}`;
    if (online) {
      if (this.online.size < MAX_TRACKED_AGENTS) this.online.add(key);
      else if (!this.online.has(key)) this.counts.agentsUntracked++;
      if (this.partsDown.delete(key)) {
        this.returned.delete(key); // kept in the order they came back
        this.returned.set(key, now);
      }
      return;
    }
    this.returned.delete(key);
    if (!this.online.delete(key)) return;
    const d: Drop = { key, site, agent, area, at: now };
    if (this.standing) this.addPart(d);
    this.drops.push(d);
    if (this.drops.length > MAX_TRACKED_AGENTS) {
      this.drops.shift();
      this.counts.dropsForgotten++;
    }
  }

  /** One round of the uplink probe: `unreachable` lists the targets that failed; up when any target answered. */
  onUplinkRound(up: boolean, unreachable: readonly string[]): void {
    if (!this.config.enabled) return;
    this.probed = true;
    if (up) {
      this.uplinkFailedRounds = 0;
      this.uplinkDown = false;
      this.uplinkUnreachable = [];
      return;
    }
    this.uplinkFailedRounds++;
    this.uplinkUnreachable = [...unreachable];
    if (!this.uplinkDown && this.uplinkFailedRounds >= this.config.uplink.failures) {
      this.uplinkDown = true;
      this.counts.uplinkDowns++;
    }
  }

  /**
   * Moves the state on at `now`; while the incident stands, what the `hub-link` alert is and its parts. Undefined
   * otherwise (disabled, or nothing stands: the grouping clears a derived alert it is not told of).
   */
  evaluate(now: number): { signal: AlertSignal; parts: AlertPart[] } | undefined {
    if (!this.config.enabled) return undefined;
    if (!this.standing && this.drops.length === 0 && !this.uplinkDown && this.returned.size === 0) return undefined;
    const m = this.config.massDrop;
    const from = now - m.window;
    let i = 0;
    while (i < this.drops.length && (this.drops[i]?.at ?? now) < from) i++;
    if (i > 0) this.drops = this.drops.slice(i);
    // Only drops still offline count: an agent that reconnected at once did not drop.
    const recent = this.drops.filter((d) => !this.online.has(d.key));
    const base = this.online.size + recent.length;
    if (!this.dropped && recent.length >= m.minAgents && recent.length >= m.share * base && spansAreas(recent, m.minAreas)) {
      this.dropped = true;
      this.base = base;
      this.counts.massDrops++;
    }
    if (this.uplinkDown) this.uplinkSeen = true;
    if (!this.standing && (this.dropped || this.uplinkDown)) {
      this.standing = true;
      // The agents that dropped just before the uplink was found down went with it.
      for (const d of recent) this.addPart(d);
    } else if (this.standing) {
      const recovered = !this.uplinkDown && this.parts.size - this.partsDown.size >= m.recovered * this.parts.size;
      if (!recovered) this.recoveredSince = undefined;
      else if (now - (this.recoveredSince ??= now) >= this.config.clearFor) this.standing = false;
    }
    for (const [key, at] of this.returned) {
      if (now - at < RETURNED_MS) break;
      this.returned.delete(key);
    }
    if (!this.standing) {
      this.parts.clear();
      this.partsDown.clear();
      this.base = 0;
      this.dropped = false;
      this.uplinkSeen = false;
      this.recoveredSince = undefined;
      return undefined;
    }
    return { signal: this.signal(), parts: this.listParts() };
  }

  /** Is this alert the site-offline alert of an agent that is part of the standing incident (or was, and is back)? */
  claims(a: Pick<Alert, 'site' | 'labels' | 'marksSiteDown' | 'derived'>): boolean {
    if (!a.marksSiteDown || a.derived || (this.parts.size === 0 && this.returned.size === 0)) return false;
    const key = `${a.site}/${a.labels.agent ?? ''}`;
    return this.parts.has(key) || this.returned.has(key);
  }

  /** Key of the hub's own incident in the alert table. */
  get key(): string {
    return alertKey(HUB_LINK_RULE, HUB_SITE, '');
  }

  stats(): SelfCheckStats {
    return { agentsOnline: this.online.size, massDrops: this.counts.massDrops, uplinkDowns: this.counts.uplinkDowns, uplinkUp: this.probed ? (this.uplinkDown ? 0 : 1) : -1, dropsForgotten: this.counts.dropsForgotten, agentsUntracked: this.counts.agentsUntracked };
  }

  private addPart(d: Drop): void {
    if (this.parts.size >= MAX_TRACKED_AGENTS) return;
    this.parts.set(d.key, d);
    this.partsDown.add(d.key);
  }

  private signal(): AlertSignal {
    const causes = [...(this.uplinkSeen ? ['uplink'] : []), ...(this.dropped ? ['agents-dropped'] : [])];
    const down = this.partsDown.size;
    const windowS = Math.round(this.config.massDrop.window / 1000);
    const vi: string[] = [];
    const en: string[] = [];
    if (this.uplinkDown) {
      const where = this.uplinkUnreachable.join(', ');
      vi.push(`hub mất đường truyền (không kết nối được: ${where})`);
      en.push(`the hub's uplink is down (unreachable: ${where})`);
    }
    if (this.dropped || down > 0) {
      vi.push(`${down}/${this.base || this.online.size + down} thiết bị mất kết nối cùng lúc (trong ${windowS} giây)`);
      en.push(`${down} of ${this.base || this.online.size + down} agents dropped at once (within ${windowS} s)`);
    }
    return {
      rule: HUB_LINK_RULE,
      site: HUB_SITE,
      instance: '',
      severity: this.config.severity,
      active: true,
      value: down,
      labels: { scope: 'hub', cause: causes.join(',') || 'none', agents: String(down), ...(this.uplinkDown ? { unreachable: this.uplinkUnreachable.join(',') } : {}) },
      summary: { vi: `Sự cố kết nối IOC / hub: ${vi.join('; ') || 'đã khôi phục'}`, en: `IOC link / hub incident: ${en.join('; ') || 'recovered'}` },
      forMs: this.config.for,
      clearForMs: 0,
      holdMs: 0,
      marksSiteDown: false,
      derived: true,
    };
  }

  /** The agents still offline, at most MAX_ALERT_PARTS of them. */
  private listParts(): AlertPart[] {
    const parts: AlertPart[] = [];
    for (const key of this.partsDown) {
      const p = this.parts.get(key);
      if (p === undefined) continue;
      if (parts.length >= MAX_ALERT_PARTS) break;
      parts.push({ site: p.site, agent: p.agent });
    }
    return parts;
  }
}
