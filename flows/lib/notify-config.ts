// Configuration of the notification flows: SMTP, webhook, routing by area, duty rosters, escalation chains, the
// public-holiday calendar, the hub API for the console.
import { z } from 'zod';
import { holidayCalendarSchema } from '../../common/vn-holidays.ts';
import { durationSchema } from '../../hub/alerts/duration.ts';
import { escalationChainSchema, rostersSchema, type EscalationStep } from './duty-roster.ts';

const routeSchema = z.strictObject({
  /**
   * Any of these areas (district slugs: `vinh-yen`); absent: any. Only registries with districts have areas: a
   * commune of the 2025 list (no districts) has none and matches no `areas` route; route it by `provinces` or `sites`.
   */
  areas: z.array(z.string().min(1)).optional(),
  /** Any of these provinces (slugs: `phu-tho`); absent: any. Province-wide incidents carry their province too. */
  provinces: z.array(z.string().min(1)).optional(),
  sites: z.array(z.string()).optional(),
  severities: z.array(z.enum(['info', 'warning', 'critical'])).optional(),
  email: z.array(z.email()).default([]),
  /** Also post to the webhook (Zalo/Telegram/SMS gateway). */
  webhook: z.boolean().default(false),
});
export type Route = z.output<typeof routeSchema>;

/** The one-step escalation of earlier configurations: `{after, email, webhook}`, read as a chain of one step. */
const singleEscalationSchema = z.strictObject({
  /** A firing alert not acknowledged after this goes to the escalation recipients. */
  after: durationSchema.prefault('15m'),
  email: z.array(z.email()).default([]),
  webhook: z.boolean().default(false),
});

type EscalationInput = z.input<typeof escalationChainSchema> | z.input<typeof singleEscalationSchema>;

/** A chain of steps (`[{after, to, webhook}, …]`), or the single step `{after, email, webhook}` of earlier files. */
const escalationSchema = z
  .custom<EscalationInput>(() => true)
  .transform((v, ctx): EscalationStep[] => {
    const chain = Array.isArray(v);
    const parsed = chain ? escalationChainSchema.safeParse(v) : singleEscalationSchema.safeParse(v);
    if (!parsed.success) {
      for (const i of parsed.error.issues) ctx.addIssue({ code: 'custom', message: chain ? i.message : `${i.message} (a single step {after, email, webhook}, or a chain: [{after, to}, …])`, path: i.path });
      return z.NEVER;
    }
    if (Array.isArray(parsed.data)) return parsed.data;
    const one = parsed.data;
    return [{ after: one.after, to: one.email.map((address) => ({ kind: 'email' as const, address })), webhook: one.webhook }];
  });

export const notifyConfigSchema = z.strictObject({
  smtp: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.int().min(1).max(65535).default(25),
      secure: z.boolean().default(false),
      user: z.string().optional(),
      pass: z.string().optional(),
      from: z.string().default('IOC cảnh báo <ioc-alerts@localhost>'),
      timeoutMs: z.int().min(100).default(10_000),
    })
    .prefault({}),
  webhook: z
    .strictObject({
      url: z.url().optional(),
      headers: z.record(z.string(), z.string()).default({}),
      timeoutMs: z.int().min(100).default(10_000),
    })
    .prefault({}),
  /** Every matching route is notified, and the person on duty of the alert's roster; when neither, `defaultRoute`. */
  routes: z.array(routeSchema).default([]),
  defaultRoute: routeSchema.prefault({}),
  /** Duty rosters (flows/lib/duty-roster.ts): a new alert goes to the person on duty of the roster that covers it. */
  rosters: rostersSchema.default([]),
  /** Public holidays (common/vn-holidays.ts): on these days rosters are on call. */
  holidays: holidayCalendarSchema.prefault({}),
  /**
   * What stays unacknowledged (firing, neither acknowledged nor resolved) climbs this chain step by step; a roster's
   * own `escalation` replaces it for the alerts it covers. `[]`: no escalation.
   */
  escalation: escalationSchema.default([]),
  /** Per recipient (each e-mail address, the webhook): at most `max` messages per `window`; the rest go into one digest. */
  limits: z
    .strictObject({
      /** 0: no limit. */
      max: z.int().min(0).default(10),
      window: durationSchema.prefault('10m'),
      /** A digest goes out this long after the first message it holds. */
      digestAfter: durationSchema.prefault('1m'),
      digestMaxItems: z.int().min(1).max(10_000).default(200),
    })
    .prefault({}),
  /** The hub's HTTP API, for the technician page (list, acknowledge). */
  hubApi: z
    .strictObject({
      url: z.url().default('http://127.0.0.1:8080'),
      /** `NAME:TOKEN` of a service account with alerts:write (it includes alerts:read, which the page needs). */
      token: z.string().optional(),
      timeoutMs: z.int().min(100).default(5000),
    })
    .prefault({}),
  /**
   * Retries of a failed send (flows/lib/notify-delivery.ts): full-jitter exponential back-off from `minDelay` up to
   * `maxDelay`, until delivered or `maxAge` after it was queued (then it is on the failed list).
   */
  retry: z
    .strictObject({
      maxAge: durationSchema.prefault('6h'),
      minDelay: durationSchema.prefault('5s'),
      maxDelay: durationSchema.prefault('5m'),
      /** Messages waiting at most; past it a new one is refused, counted (`dropped`) and put on the failed list. */
      maxQueued: z.int().min(1).max(1_000_000).default(10_000),
      /** Sends in flight at once. */
      concurrency: z.int().min(1).max(64).default(4),
      /** Attempts and failed notifications kept for GET /notifications/attempts and /notifications/failed. */
      keepAttempts: z.int().min(1).max(100_000).default(1000),
      keepFailed: z.int().min(1).max(100_000).default(1000),
      /** Delivered message keys remembered (so an acknowledged delivery is never resent) this long, and at most `maxQueued` of them. */
      rememberDelivered: durationSchema.prefault('2d'),
    })
    .prefault({}),
  /**
   * The hub's heartbeat (`ioc/v1/alerts/watchdog`) goes through the delivery queue to these recipients (a dead man's
   * switch: healthchecks.io, a watched mailbox), and each delivery is reported to the hub (`hubApi`), which raises
   * "notification path down" when none arrives in time. No recipient: the report goes straight back (it then
   * proves MQTT and Node-RED, not the relay).
   */
  watchdog: z
    .strictObject({
      email: z.array(z.email()).default([]),
      webhook: z.url().optional(),
      /** A heartbeat not delivered within this is given up (the next one follows). */
      maxAge: durationSchema.prefault('10m'),
    })
    .prefault({}),
});
export type NotifyConfigInput = z.input<typeof notifyConfigSchema>;
export type NotifyConfig = z.output<typeof notifyConfigSchema>;
