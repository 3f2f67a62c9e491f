// Per-agent budgets of the accept path: points and bytes per second (token buckets) and distinct series per day.
// Past a rate budget the agent's PUBACK is held (its own socket stalls, no one else's); past what a hold
// can absorb the publish is refused before any ack, so nothing acknowledged is ever lost.

/** The per-agent budgets the policy enforces (hub config `budgets`). */
export interface PolicyBudgets {
  readonly pointsPerS: number;
  readonly pointsBurst: number;
  readonly bytesPerS: number;
  readonly bytesBurst: number;
  readonly maxHoldMs: number;
  readonly seriesPerDay: number;
  readonly spoolShareBytes: number;
}

export const DEFAULT_POLICY_BUDGETS: PolicyBudgets = {
  pointsPerS: 5000,
  pointsBurst: 10_000,
  bytesPerS: 1024 * 1024,
  bytesBurst: 2 * 1024 * 1024,
  maxHoldMs: 30_000,
  seriesPerDay: 2000,
  spoolShareBytes: 64 * 1024 * 1024,
};

export interface RateBudget {
  /** Sustained rate, units per second. */
  perS: number;
  /** Bucket size: what an agent may send at once after being quiet. */
  burst: number;
}

export type HoldVerdict = { kind: 'ok'; waitMs: number } | { kind: 'refuse'; waitMs: number };

/** A token bucket that may go into debt: the debt is the wait the caller holds the PUBACK for. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly budget: RateBudget,
    now: number,
  ) {
    this.tokens = budget.burst;
    this.at = now;
  }

  /** Takes `amount`; the wait until the bucket is out of debt, or refuse (nothing taken) when that wait exceeds `maxWaitMs`. */
  take(amount: number, now: number, maxWaitMs: number): HoldVerdict {
    this.tokens = Math.min(this.budget.burst, this.tokens + ((now - this.at) / 1000) * this.budget.perS);
    this.at = now;
    const after = this.tokens - amount;
    const waitMs = after >= 0 ? 0 : (-after / this.budget.perS) * 1000;
    if (waitMs > maxWaitMs) return { kind: 'refuse', waitMs };
    this.tokens = after;
    return { kind: 'ok', waitMs };
  }
}

/** The points and bytes buckets of each agent (`site/agent`), made full on first use. */
export class RateBuckets {
  private readonly buckets = new Map<string, { points: TokenBucket; bytes: TokenBucket }>();

  constructor(private readonly budgets: Pick<PolicyBudgets, 'pointsPerS' | 'pointsBurst' | 'bytesPerS' | 'bytesBurst'>) {}

  of(agentKey: string, now: number): { points: TokenBucket; bytes: TokenBucket } {
    let b = this.buckets.get(agentKey);
    if (b === undefined) {
      const { pointsPerS, pointsBurst, bytesPerS, bytesBurst } = this.budgets;
      b = { points: new TokenBucket({ perS: pointsPerS, burst: pointsBurst }, now), bytes: new TokenBucket({ perS: bytesPerS, burst: bytesBurst }, now) };
      this.buckets.set(agentKey, b);
    }
    return b;
  }
}

/** 53-bit FNV-1a of a string: series keys are kept as numbers (bounded memory per entry). */
export function hash53(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h2 >>> 0) * 0x200000 + ((h1 >>> 0) & 0x1fffff);
}

/** Series identity of an agent's point: measurement + its own tags, sorted (the hub tags are the agent's, constant). */
export function seriesKey(measurement: string, tags: Readonly<Record<string, string>> | undefined): string {
  if (tags === undefined) return measurement;
  const keys = Object.keys(tags).sort();
  let out = measurement;
  for (const k of keys) out += `,${k}=${tags[k] ?? ''}`;
  return out;
}

/** Distinct series each agent wrote today (UTC day); past `limit`, new series are refused. */
export class SeriesBudget {
  private readonly seen = new Map<string, Set<number>>();
  private day = -1;

  constructor(private readonly limit: number) {}

  /** True when the series is known today or still fits the agent's budget (then it is counted). */
  admit(agentKey: string, series: string, now: number): boolean {
    const day = Math.floor(now / 86_400_000);
    if (day !== this.day) {
      this.seen.clear();
      this.day = day;
    }
    let set = this.seen.get(agentKey);
    if (set === undefined) {
      set = new Set();
      this.seen.set(agentKey, set);
    }
    const h = hash53(series);
    if (set.has(h)) return true;
    if (set.size >= this.limit) return false;
    set.add(h);
    return true;
  }

  /** Distinct series of the agent today. */
  count(agentKey: string): number {
    return this.seen.get(agentKey)?.size ?? 0;
  }
}

/** Command ids the hub issued recently (bounded, oldest forgotten first): only those may come back on cmd-result. */
export class IssuedCommands {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 3_600_000,
  ) {}

  issued(site: string, agent: string, id: string, now: number): void {
    const key = `${site}/${agent}/${id}`;
    this.ids.delete(key);
    this.ids.set(key, now);
    while (this.ids.size > this.max) {
      const oldest = this.ids.keys().next();
      if (oldest.done === true) break;
      this.ids.delete(oldest.value);
    }
  }

  /** True once for an id issued to this agent within the ttl (a result is taken once). */
  take(site: string, agent: string, id: string, now: number): boolean {
    const key = `${site}/${agent}/${id}`;
    const at = this.ids.get(key);
    if (at === undefined) return false;
    this.ids.delete(key);
    return now - at <= this.ttlMs;
  }
}
