// Duty rosters: who is on duty for an area at an instant (local time UTC+7), and the escalation chain's steps
// resolved to people. A roster has Monday–Saturday shifts (morning, afternoon…) with the technicians on duty in
// order (the first is told first, the next one when the alert escalates), and an out-of-hours on-call rota that
// covers nights, the lunch break, Sundays and public holidays (common/vn-holidays.ts, with the lunar ones).
import { z } from 'zod';
import { localDayNumber, localTime } from '../../common/local-day.ts';
import { HolidayCalendar, localIsoDate, WEEKDAYS, type Holiday } from '../../common/vn-holidays.ts';
import { durationSchema } from '../../hub/alerts/duration.ts';

const idSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a lowercase id such as kt-an');
const hhmmSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a local time HH:MM');
const MON_SAT = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function minuteOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

export const personSchema = z.strictObject({
  id: idSchema,
  /** As shown in messages: `Nguyễn Văn An`. */
  name: z.string().min(1),
  email: z.email().optional(),
  /** The person's handle on the webhook gateway (a Zalo/Telegram/SMS number or chat id): they are paged there too. */
  webhook: z.string().min(1).optional(),
  /** Roles an escalation step may name (`role:truong-ca`). */
  roles: z.array(idSchema).default([]),
});
export type Person = z.output<typeof personSchema>;

export const shiftSchema = z.strictObject({
  /** `sang`, `chieu`… */
  name: idSchema,
  days: z.array(z.enum(WEEKDAYS)).min(1).default([...MON_SAT]),
  /** Local time the shift starts (inclusive) and ends (exclusive), the same day: nights belong to the on-call rota. */
  from: hhmmSchema,
  to: hhmmSchema,
  /** People on duty, in order: the first gets a new alert, `next-on-duty` steps take the next ones. */
  onDuty: z.array(idSchema).min(1),
});

export const onCallSchema = z.strictObject({
  /** People taking the out-of-hours duty in turn; the others follow the one on call for `next-on-duty`. */
  rota: z.array(idSchema).min(1),
  /** The turn passes every day or every week. */
  every: z.enum(['day', 'week']).default('week'),
  /** Local date the first of the rota starts its turn. */
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a local date YYYY-MM-DD'),
  /** Local time a turn hands over to the next (the morning shift's start). */
  handover: hhmmSchema.default('07:00'),
});

/** `on-duty`, `next-on-duty`, `role:NAME`, `person:ID`, or an e-mail address. */
export type StepTarget = { kind: 'on-duty' } | { kind: 'next-on-duty' } | { kind: 'role'; role: string } | { kind: 'person'; id: string } | { kind: 'email'; address: string };

const targetSchema = z.string().transform((v, ctx): StepTarget => {
  if (v === 'on-duty' || v === 'next-on-duty') return { kind: v };
  const role = /^role:([a-z0-9][a-z0-9-]{0,63})$/.exec(v);
  if (role?.[1] !== undefined) return { kind: 'role', role: role[1] };
  const person = /^person:([a-z0-9][a-z0-9-]{0,63})$/.exec(v);
  if (person?.[1] !== undefined) return { kind: 'person', id: person[1] };
  if (z.email().safeParse(v).success) return { kind: 'email', address: v };
  ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)}: on-duty, next-on-duty, role:NAME, person:ID or an e-mail address` });
  return z.NEVER;
});

export const escalationStepSchema = z.strictObject({
  /** Since the alert fired (not since the previous step): the steps' `after` rise along the chain. */
  after: durationSchema,
  /** One target or a list of them. */
  to: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(targetSchema).min(1)),
  /** Also post to the webhook (besides the webhook handles of the people the step reaches). */
  webhook: z.boolean().default(false),
});
export type EscalationStep = z.output<typeof escalationStepSchema>;

export const escalationChainSchema = z.array(escalationStepSchema).superRefine((steps, ctx) => {
  steps.forEach((s, i) => {
    const prev = steps[i - 1];
    if (prev !== undefined && s.after <= prev.after) ctx.addIssue({ code: 'custom', path: [i, 'after'], message: 'each step comes later than the one before (`after` counts from when the alert fired)' });
  });
});

export const rosterSchema = z
  .strictObject({
    name: idSchema,
    /** The alerts it covers: any of these districts, provinces or sites. A roster with none of them covers what no other does. */
    areas: z.array(z.string().min(1)).optional(),
    provinces: z.array(z.string().min(1)).optional(),
    sites: z.array(z.string().min(1)).optional(),
    people: z.array(personSchema).min(1),
    shifts: z.array(shiftSchema).default([]),
    /** Out of the shifts (nights, lunch break, Sundays, holidays). Without it, nobody of this roster is on duty then. */
    onCall: onCallSchema.optional(),
    /** On a public holiday: the on-call rota (default) or the usual shifts. */
    holidays: z.enum(['on-call', 'shifts']).default('on-call'),
    /** This roster's own escalation chain, instead of the top-level `escalation`. */
    escalation: escalationChainSchema.optional(),
  })
  .superRefine((r, ctx) => {
    const ids = new Set<string>();
    r.people.forEach((p, i) => {
      if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['people', i, 'id'], message: `${p.id} is listed twice` });
      ids.add(p.id);
    });
    const known = (id: string, path: (string | number)[]): void => {
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', path, message: `${id} is not among this roster's people` });
    };
    r.shifts.forEach((s, i) => {
      s.onDuty.forEach((id, j) => known(id, ['shifts', i, 'onDuty', j]));
      if (minuteOf(s.to) <= minuteOf(s.from)) ctx.addIssue({ code: 'custom', path: ['shifts', i, 'to'], message: 'a shift ends after it starts, the same day (nights are the on-call rota’s)' });
      r.shifts.slice(0, i).forEach((o) => {
        const sameDay = s.days.some((d) => o.days.includes(d));
        if (sameDay && minuteOf(s.from) < minuteOf(o.to) && minuteOf(o.from) < minuteOf(s.to)) ctx.addIssue({ code: 'custom', path: ['shifts', i], message: `overlaps shift ${o.name}` });
      });
    });
    r.onCall?.rota.forEach((id, j) => known(id, ['onCall', 'rota', j]));
    r.escalation?.forEach((step, i) =>
      step.to.forEach((t, j) => {
        if (t.kind === 'person') known(t.id, ['escalation', i, 'to', j]);
        if (t.kind === 'role' && !r.people.some((p) => p.roles.includes(t.role))) ctx.addIssue({ code: 'custom', path: ['escalation', i, 'to', j], message: `nobody has the role ${t.role}` });
      }),
    );
  });
export type Roster = z.output<typeof rosterSchema>;

/** The rosters: each name once, and each site, area or province covered by one roster at most (one may name none). */
export const rostersSchema = z.array(rosterSchema).superRefine((rosters, ctx) => {
  const seen = new Map<string, string>();
  rosters.forEach((r, i) => {
    const claims = [`name ${r.name}`, ...(r.sites ?? []).map((x) => `site ${x}`), ...(r.areas ?? []).map((x) => `area ${x}`), ...(r.provinces ?? []).map((x) => `province ${x}`)];
    if (r.sites === undefined && r.areas === undefined && r.provinces === undefined) claims.push('the rest (no sites, areas or provinces)');
    for (const c of claims) {
      const other = seen.get(c);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: [i], message: `${c} is already roster ${other}'s` });
      else seen.set(c, r.name);
    }
  });
});

/** Who is on duty for a roster at an instant. */
export interface OnDuty {
  roster: string;
  /** The shift's name, or `on-call`. */
  shift: string;
  /** In order: the first is told first. */
  people: Person[];
  /** The public holiday that put the roster on call. */
  holiday?: Holiday;
}

/** What the alert says about where it is (its site, its district and province labels). */
export interface Whereabouts {
  site: string;
  area?: string | undefined;
  province?: string | undefined;
}

/** What one step reaches: people of the roster, and plain addresses. */
export interface StepRecipients {
  people: Person[];
  emails: string[];
}

export class DutyRosters {
  constructor(
    private readonly rosters: readonly Roster[],
    private readonly calendar: HolidayCalendar,
  ) {}

  get size(): number {
    return this.rosters.length;
  }

  /** The roster that covers an alert: one naming its site, else its area, else its province, else one naming none. */
  rosterFor(w: Whereabouts): Roster | undefined {
    const by = (pick: (r: Roster) => boolean): Roster | undefined => this.rosters.find(pick);
    return (
      by((r) => r.sites?.includes(w.site) === true) ??
      by((r) => w.area !== undefined && r.areas?.includes(w.area) === true) ??
      by((r) => w.province !== undefined && r.provinces?.includes(w.province) === true) ??
      by((r) => r.sites === undefined && r.areas === undefined && r.provinces === undefined)
    );
  }

  /** Who is on duty at `t` (local time, UTC+7). */
  onDuty(r: Roster, t: number): OnDuty {
    const holiday = this.calendar.on(localIsoDate(t));
    if (holiday === undefined || r.holidays === 'shifts') {
      const { weekday, minute } = localTime(t);
      const day = WEEKDAYS[weekday] ?? 'sun';
      const shift = r.shifts.find((s) => s.days.includes(day) && minute >= minuteOf(s.from) && minute < minuteOf(s.to));
      if (shift !== undefined) return { roster: r.name, shift: shift.name, people: this.people(r, shift.onDuty) };
    }
    return { roster: r.name, shift: 'on-call', people: this.onCallAt(r, t), ...(holiday === undefined ? {} : { holiday }) };
  }

  /**
   * The people and addresses a step reaches at `t`. `told` holds the ids (and addresses) already paged for this
   * alert: `next-on-duty` is the first on duty not yet told, then the rest of the on-call rota in turn.
   */
  resolve(r: Roster | undefined, step: EscalationStep, t: number, told: ReadonlySet<string>): StepRecipients {
    const people = new Map<string, Person>();
    const emails = new Set<string>();
    for (const target of step.to) {
      if (target.kind === 'email') {
        emails.add(target.address);
        continue;
      }
      if (r === undefined) continue;
      if (target.kind === 'on-duty') {
        const first = this.onDuty(r, t).people[0];
        if (first !== undefined) people.set(first.id, first);
      } else if (target.kind === 'next-on-duty') {
        const candidates = [...this.onDuty(r, t).people, ...this.onCallAt(r, t)];
        const next = candidates.find((p) => !told.has(p.id) && !people.has(p.id));
        if (next !== undefined) people.set(next.id, next);
      } else if (target.kind === 'role') {
        for (const p of r.people) if (p.roles.includes(target.role)) people.set(p.id, p);
      } else {
        const p = r.people.find((x) => x.id === target.id);
        if (p !== undefined) people.set(p.id, p);
      }
    }
    return { people: [...people.values()], emails: [...emails] };
  }

  /** The on-call rota at `t`, starting with the one whose turn it is. */
  private onCallAt(r: Roster, t: number): Person[] {
    const oc = r.onCall;
    if (oc === undefined) return [];
    // A turn runs from `handover` to the next day's (or next week's) `handover`.
    const day = localDayNumber(t - minuteOf(oc.handover) * 60_000);
    const start = Math.round(Date.parse(`${oc.from}T00:00:00Z`) / 86_400_000);
    const period = oc.every === 'week' ? 7 : 1;
    const n = oc.rota.length;
    const turn = (((Math.floor((day - start) / period)) % n) + n) % n;
    return this.people(r, [...oc.rota.slice(turn), ...oc.rota.slice(0, turn)]);
  }

  private people(r: Roster, ids: readonly string[]): Person[] {
    return ids.flatMap((id) => r.people.filter((p) => p.id === id));
  }
}
