// MQTT topic builders and parsers: the only place topic strings are assembled or taken apart.

export const TOPIC_PREFIX = 'ioc/v1';
/** Deepest topic we ever use: ioc/v1/{site}/{agent}/cmd-result/{id}. */
export const MAX_TOPIC_DEPTH = 6;
export const SLUG_PATTERN = /^[a-z0-9-]{1,64}$/;
/** `alerts` sits where a site slug would, so no site may be called that. */
export const RESERVED_SITE_SLUGS: ReadonlySet<string> = new Set(['alerts']);
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

export type AgentChannel = 'status' | 'telemetry' | 'event';

export type ParsedTopic =
  | { kind: AgentChannel; site: string; agent: string }
  | { kind: 'cmd'; site: string; agent: string; name: string }
  | { kind: 'cmd-result'; site: string; agent: string; id: string }
  | { kind: 'alert'; site: string; alertId: string };

export function isSlug(value: string): boolean {
  return SLUG_PATTERN.test(value);
}

export function isSiteSlug(value: string): boolean {
  return isSlug(value) && !RESERVED_SITE_SLUGS.has(value);
}

function checkSiteAgent(site: string, agent: string): void {
  if (!isSiteSlug(site)) throw new TypeError(`invalid site slug: ${JSON.stringify(site)}`);
  if (!isSlug(agent)) throw new TypeError(`invalid agent slug: ${JSON.stringify(agent)}`);
}

function checkId(what: string, value: string): void {
  if (!ID_PATTERN.test(value)) throw new TypeError(`invalid ${what}: ${JSON.stringify(value)}`);
}

export function agentTopicPrefix(site: string, agent: string): string {
  checkSiteAgent(site, agent);
  return `${TOPIC_PREFIX}/${site}/${agent}/`;
}

export function statusTopic(site: string, agent: string): string {
  return `${agentTopicPrefix(site, agent)}status`;
}

export function telemetryTopic(site: string, agent: string): string {
  return `${agentTopicPrefix(site, agent)}telemetry`;
}

export function eventTopic(site: string, agent: string): string {
  return `${agentTopicPrefix(site, agent)}event`;
}

export function cmdTopic(site: string, agent: string, name: string): string {
  checkId('command name', name);
  return `${agentTopicPrefix(site, agent)}cmd/${name}`;
}

/** Subscription filter an agent uses for its own commands. */
export function cmdFilter(site: string, agent: string): string {
  return `${agentTopicPrefix(site, agent)}cmd/#`;
}

export function cmdResultTopic(site: string, agent: string, id: string): string {
  checkId('command id', id);
  return `${agentTopicPrefix(site, agent)}cmd-result/${id}`;
}

export function alertTopic(site: string, alertId: string): string {
  if (!isSiteSlug(site)) throw new TypeError(`invalid site slug: ${JSON.stringify(site)}`);
  checkId('alert id', alertId);
  return `${TOPIC_PREFIX}/alerts/${site}/${alertId}`;
}

/** Filters the hub subscribes to. */
export const ALL_STATUS_FILTER = `${TOPIC_PREFIX}/+/+/status`;
export const ALL_TELEMETRY_FILTER = `${TOPIC_PREFIX}/+/+/telemetry`;
export const ALL_EVENT_FILTER = `${TOPIC_PREFIX}/+/+/event`;
export const ALL_ALERTS_FILTER = `${TOPIC_PREFIX}/alerts/#`;

/** Parses a concrete topic (no wildcards). Returns null for anything outside our scheme. */
export function parseTopic(topic: string): ParsedTopic | null {
  if (topic.length > 512) return null;
  const parts = topic.split('/');
  if (parts.length < 4 || parts.length > MAX_TOPIC_DEPTH) return null;
  if (`${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) return null;
  const [, , a, b, c, d] = parts;
  if (a === undefined || b === undefined) return null;
  if (a === 'alerts') {
    if (c === undefined || d !== undefined || !isSiteSlug(b) || !ID_PATTERN.test(c)) return null;
    return { kind: 'alert', site: b, alertId: c };
  }
  if (!isSiteSlug(a) || !isSlug(b) || c === undefined) return null;
  if (d === undefined) {
    if (c === 'status' || c === 'telemetry' || c === 'event') return { kind: c, site: a, agent: b };
    return null;
  }
  if (!ID_PATTERN.test(d)) return null;
  if (c === 'cmd') return { kind: 'cmd', site: a, agent: b, name: d };
  if (c === 'cmd-result') return { kind: 'cmd-result', site: a, agent: b, id: d };
  return null;
}

/** MQTT username and client id of an agent: `{site}/{agent}` (slugs hold no `/`, so it parses back). */
export function agentIdentity(site: string, agent: string): string {
  checkSiteAgent(site, agent);
  return `${site}/${agent}`;
}

export function parseAgentIdentity(identity: string): { site: string; agent: string } | null {
  const parts = identity.split('/');
  if (parts.length !== 2) return null;
  const [site, agent] = parts;
  if (site === undefined || agent === undefined || !isSiteSlug(site) || !isSlug(agent)) return null;
  return { site, agent };
}

/**
 * The hub's notification-path heartbeat (hub → Node-RED, QoS 1, not retained): under the alerts filter every
 * notification service already subscribes to, and no alert topic (parseTopic gives null for it).
 */
export const WATCHDOG_TOPIC = `${TOPIC_PREFIX}/alerts/watchdog`;
