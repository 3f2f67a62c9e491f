// The accept path's decisions as pure functions of the message and the hub's clock: each step passes what it
// learnt on, or refuses with a stable code. No I/O, no counters, no logs: accept-path.ts runs them in order and
// turns a refusal into its metric, its log line and the MQTT outcome.
import { checkAgentPointFast } from '../../protocol/fast-batch.ts';
import { cmdFilter, decodeBatch, decodeStatus, noteClockRefusal, parseTopic, type Batch, type ContractViolation, type Point, type Status, type TimeWindow } from '../../protocol/index.ts';
import { seriesKey, type SeriesBudget, type TokenBucket } from './budgets.ts';

export interface AgentIdentity {
  site: string;
  agent: string;
}

/** Why a publish is refused before its PUBACK: the connection is closed and the agent resends after reconnecting. */
export type DenyCode = 'unauthenticated' | 'topic_too_deep' | 'foreign_topic' | 'unknown_site' | 'rate_refused' | 'spool_refused';

export type Refusal =
  /** Refused unacknowledged (closes the connection). */
  | { readonly action: 'deny'; readonly code: DenyCode; readonly reason: string }
  /** Acknowledged and dropped: resending cannot help (the code of the decode error). */
  | { readonly action: 'malformed'; readonly code: string; readonly reason: string }
  /** Acknowledged and dropped, counted by the step itself (a cmd-result the hub did not ask for). */
  | { readonly action: 'drop'; readonly code: 'cmd_result_unknown' | 'nothing_accepted'; readonly reason: string };

export type StepResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

const pass = <T>(value: T): StepResult<T> => ({ ok: true, value });
const refuse = (refusal: Refusal): StepResult<never> => ({ ok: false, refusal });

/** The channels an agent may publish on; everything else (alerts, commands, other agents' topics) is denied. */
export type AgentTopic = { readonly kind: 'status' | 'telemetry' | 'event'; readonly site: string; readonly agent: string } | { readonly kind: 'cmd-result'; readonly site: string; readonly agent: string; readonly id: string };

/** Step `topic`: an authenticated agent publishing on one of its own channels, within the depth limit. */
export function checkTopic(identity: AgentIdentity | undefined, topic: string, maxTopicDepth: number): StepResult<{ identity: AgentIdentity; topic: AgentTopic }> {
  if (identity === undefined) return refuse({ action: 'deny', code: 'unauthenticated', reason: 'unauthenticated client' });
  if (topic.split('/').length > maxTopicDepth) return refuse({ action: 'deny', code: 'topic_too_deep', reason: 'topic too deep' });
  const parsed = parseTopic(topic);
  if (parsed === null || parsed.kind === 'alert' || parsed.kind === 'cmd' || parsed.site !== identity.site || parsed.agent !== identity.agent) {
    return refuse({ action: 'deny', code: 'foreign_topic', reason: 'topic outside the agent’s own' });
  }
  return pass({ identity, topic: parsed });
}

/** Step `subscribe`: an agent's own command topics (`ioc/v1/{site}/{agent}/cmd/#`, `…/cmd/+` or one command). */
export function isOwnCommandFilter(filter: string, id: AgentIdentity): boolean {
  const own = cmdFilter(id.site, id.agent);
  if (filter === own) return true;
  const prefix = own.slice(0, -1);
  const rest = filter.startsWith(prefix) ? filter.slice(prefix.length) : '';
  return rest === '+' || /^[A-Za-z0-9_.-]{1,128}$/.test(rest);
}

/** Step `retain`: retained messages are the agent's status only (one per agent, of a bounded size). */
export function retainAllowed(topic: AgentTopic): boolean {
  return topic.kind === 'status';
}

/**
 * Steps `bytes budget` and `points budget`: how long the PUBACK is held while the agent is over its rate
 * (only its own socket waits), or a refusal past what a hold of `maxHoldMs` can absorb.
 */
export function takeRate(bucket: TokenBucket, kind: 'points' | 'bytes', amount: number, now: number, maxHoldMs: number): StepResult<{ holdMs: number }> {
  const verdict = bucket.take(amount, now, maxHoldMs);
  if (verdict.kind === 'refuse') return refuse({ action: 'deny', code: 'rate_refused', reason: `over the ${kind} budget (${Math.round(verdict.waitMs)} ms behind)` });
  return pass({ holdMs: Math.max(0, verdict.waitMs) });
}

/** Step `decode` of a telemetry or event batch: the schema, the payload limit. */
export function decodeAgentBatch(payload: Buffer, maxPayloadBytes: number): StepResult<Batch> {
  const decoded = decodeBatch(payload, maxPayloadBytes);
  return decoded.ok ? pass(decoded.value) : refuse({ action: 'malformed', code: decoded.error.code, reason: decoded.error.message });
}

/** Step `decode` of a status (retained status or last will): the one place a status payload is decoded. */
export function decodeAgentStatus(payload: Buffer): StepResult<Status> {
  const decoded = decodeStatus(payload);
  return decoded.ok ? pass(decoded.value) : refuse({ action: 'malformed', code: decoded.error.code, reason: decoded.error.message });
}

/** Step `site`: the agent's site must still be in the registry (it may have been removed while connected). */
export function requireSite<S>(site: S | undefined): StepResult<S> {
  return site === undefined ? refuse({ action: 'deny', code: 'unknown_site', reason: 'site no longer in the registry' }) : pass(site);
}

/**
 * Step `spool share`: while InfluxDB is away an agent may not fill the spool past its share; refused before the
 * ack (the agent keeps the batch and resends), so no one's acknowledged batch is evicted.
 */
export function checkSpoolShare(spooledBytes: number, incomingBytes: number, shareBytes: number): StepResult<undefined> {
  if (spooledBytes > 0 && spooledBytes + incomingBytes > shareBytes) {
    return refuse({ action: 'deny', code: 'spool_refused', reason: `over its spool share (${spooledBytes} bytes spooled)` });
  }
  return pass(undefined);
}

/** Step `cmd-result`: bounded like any payload, and only for a command the hub issued to this agent (taken once). */
export function checkCmdResult(payloadBytes: number, maxPayloadBytes: number, issued: () => boolean): StepResult<undefined> {
  if (payloadBytes > maxPayloadBytes) return refuse({ action: 'malformed', code: 'E_PAYLOAD_TOO_LARGE', reason: `${payloadBytes} bytes` });
  if (!issued()) return refuse({ action: 'drop', code: 'cmd_result_unknown', reason: 'cmd-result for a command the hub did not issue; dropped' });
  return pass(undefined);
}

export interface TimeLimits {
  /** Accepted reading times: hub clock − maxPastMs … hub clock + maxFutureMs. */
  readonly maxFutureMs?: number;
  readonly maxPastMs?: number;
}

export const DEFAULT_MAX_FUTURE_MS = 600_000;

/** The reading times accepted at hub time `now` (no lower bound but the schema's without `maxPastMs`). */
export function timeWindow(now: number, limits: TimeLimits): TimeWindow {
  const past = limits.maxPastMs;
  return { min: past === undefined ? 0 : now - past, max: now + (limits.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS) };
}

export interface Admitted {
  accepted: Point[];
  /** Refused points by reason (the contract's, and `series_budget`). */
  refused: Map<ContractViolation | 'series_budget', number>;
  /** Points refused for the series budget alone. */
  overSeries: number;
  /** Set when readings were refused for their time: the agent's clock. */
  clockRefused?: { future: number; past: number; minT: number; maxT: number };
}

/**
 * Steps `contract + time window` and `series budget`, per point: what the data contract accepts within the
 * window, then what fits the agent's distinct series of the day. Refused points are reported, the rest go on.
 * One pass, the contract read straight off the decoded point (checkAgentPointFast: the verdicts and codes of
 * protocol/contract.ts applyContract, proven equal by protocol/fast-batch.test.ts).
 */
export function admitPoints(points: readonly Point[], window: TimeWindow, series: SeriesBudget, agentKey: string, now: number): Admitted {
  const accepted: Point[] = [];
  const refused = new Map<ContractViolation | 'series_budget', number>();
  let overSeries = 0;
  let clock: Admitted['clockRefused'];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p === undefined) continue;
    const why = checkAgentPointFast(p, window);
    if (why === undefined) {
      if (series.admit(agentKey, seriesKey(p.m, p.tags), now)) accepted.push(p);
      else overSeries++;
      continue;
    }
    refused.set(why, (refused.get(why) ?? 0) + 1);
    clock = noteClockRefusal(clock, why, p.t);
  }
  if (overSeries > 0) refused.set('series_budget', overSeries);
  const admitted: Admitted = { accepted, refused, overSeries };
  if (clock !== undefined) admitted.clockRefused = clock;
  return admitted;
}
