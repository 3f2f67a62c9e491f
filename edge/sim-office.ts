// One simulated commune one-stop office: readings with realistic daily shapes in Asia/Ho_Chi_Minh time.
import { localTime, type LocalTime } from '../common/local-day.ts';
import type { Point } from '../protocol/index.ts';
import { hashString, Prng } from './sim-random.ts';

const MORNING = [7 * 60 + 30, 11 * 60 + 30] as const;
const AFTERNOON = [13 * 60 + 30, 17 * 60] as const;

/** Tickets are issued Mon–Sat 07:30–11:30 and 13:30–17:00. */
export function isOfficeOpen(lt: LocalTime): boolean {
  if (lt.weekday === 0) return false;
  return (lt.minute >= MORNING[0] && lt.minute < MORNING[1]) || (lt.minute >= AFTERNOON[0] && lt.minute < AFTERNOON[1]);
}

/** Tickets per minute per counter: a mid-morning peak (~09:30) and a smaller mid-afternoon one. */
export function arrivalRate(lt: LocalTime, peak: number): number {
  if (!isOfficeOpen(lt)) return 0;
  const bump = (centre: number, width: number): number => Math.exp(-(((lt.minute - centre) / width) ** 2));
  const saturday = lt.weekday === 6 ? 0.5 : 1;
  return saturday * peak * (0.15 + bump(9.5 * 60, 70) + 0.6 * bump(14.5 * 60, 60));
}

interface CounterState {
  name: string;
  serviceS: number;
  issued: number;
  served: number;
}

export interface OfficeProfile {
  site: string;
  counters: readonly string[];
  displays: readonly string[];
  /** Typical round trips, ms. */
  rtt: { gateway: number; hub: number; portal: number };
  /** Tickets per minute per counter at the morning peak. */
  peakRate: number;
}

export interface AgentSelf {
  uptime_s: number;
  outbox_depth: number;
  dropped_total: number;
}

export class SimOffice {
  readonly profile: OfficeProfile;
  private readonly rng: Prng;
  private readonly counters: CounterState[];
  private day = -1;
  private wanDownTicks = 0;
  private mainsDownTicks = 0;
  private battery = 100;
  private kwh: number;
  private ifaceErrors = 0;
  private displayDownTicks: number[];
  private displayFrozenTicks: number[];
  private displayFrozen: boolean[];
  private displayAlive: boolean[];
  private diskPct: number;
  /** Offices with a 4G modem fail over to it when the fibre drops. */
  private readonly has4g: boolean;
  private uplink: { kind: string; iface: string; since: number } | undefined;
  private door: 0 | 1 | undefined;
  private mains: 0 | 1 | undefined;
  /** Discrete events since the last takeEvents(): they go on the event channel. */
  private events: Point[] = [];

  constructor(site: string, seed = 1) {
    this.rng = new Prng(hashString(`${seed}:${site}`));
    const nCounters = this.rng.int(2, 4);
    const nDisplays = this.rng.int(1, 2);
    this.profile = {
      site,
      counters: Array.from({ length: nCounters }, (_, i) => `counter-${i + 1}`),
      displays: Array.from({ length: nDisplays }, (_, i) => `display-${i + 1}`),
      rtt: { gateway: this.rng.range(0.8, 3), hub: this.rng.range(15, 60), portal: this.rng.range(25, 90) },
      peakRate: this.rng.range(0.3, 0.9),
    };
    this.counters = this.profile.counters.map((name) => ({ name, serviceS: this.rng.range(180, 480), issued: 0, served: 0 }));
    this.displayDownTicks = this.profile.displays.map(() => 0);
    this.displayFrozenTicks = this.profile.displays.map(() => 0);
    this.displayFrozen = this.profile.displays.map(() => false);
    this.displayAlive = this.profile.displays.map(() => true);
    this.has4g = this.rng.chance(0.6);
    this.kwh = this.rng.range(1000, 20_000);
    this.diskPct = this.rng.range(20, 60);
  }

  /** Telemetry points produced by every tick: fixed per office, so tests can predict counts (events come apart, see takeEvents). */
  get pointsPerTick(): number {
    // 3 net_probe + net_iface + uplink + counters + office queue + displays + 3 equipment + 2 gpio + host + agent
    return 3 + 1 + 1 + this.profile.counters.length + 1 + this.profile.displays.length + 3 + 2 + 1 + 1;
  }

  /** Discrete events (queue_event, uplink_event, display_event, gpio_event) since the last call. */
  takeEvents(): Point[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  tick(t: number, dtMs: number, self: AgentSelf): Point[] {
    const lt = localTime(t);
    const open = isOfficeOpen(lt);
    const busy = open ? 1 : 0.15;
    const dtMin = dtMs / 60_000;
    const rng = this.rng;
    const points: Point[] = [];
    const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

    // Outages: WAN (hub and portal unreachable) and mains (UPS on battery).
    if (this.wanDownTicks > 0) this.wanDownTicks -= 1;
    else if (rng.chance(0.003)) this.wanDownTicks = rng.int(3, 30);
    if (this.mainsDownTicks > 0) this.mainsDownTicks -= 1;
    else if (rng.chance(0.001)) this.mainsDownTicks = rng.int(2, 20);
    const fibreUp = this.wanDownTicks === 0;
    const wanUp = fibreUp || this.has4g;
    const link = fibreUp ? { kind: 'fibre', iface: 'eth0' } : this.has4g ? { kind: '4g', iface: 'wwan0' } : { kind: 'none', iface: 'none' };
    if (this.uplink === undefined || this.uplink.kind !== link.kind) {
      if (this.uplink !== undefined) {
        this.events.push({ m: 'uplink_event', t, fields: { uplink: link.kind, iface: link.iface, previous: this.uplink.kind, previous_iface: this.uplink.iface } });
      }
      this.uplink = { ...link, since: t };
    }
    const onBattery = this.mainsDownTicks > 0;

    const probe = (target: string, method: string, base: number, up: boolean, extra: Record<string, number>): Point => {
      const rtt = base * (1 + 0.3 * busy * rng.next()) + Math.abs(rng.gauss()) * base * 0.1;
      return {
        m: 'net_probe',
        t,
        tags: { target, method },
        fields: up ? { up: 1, rtt_ms: round(rtt), result: 'ok', ...extra } : { up: 0, result: 'timeout' },
      };
    };
    const gwLoss = rng.chance(0.02) ? rng.int(1, 2) * 33.3 : 0;
    points.push(probe('gateway', 'icmp', this.profile.rtt.gateway, true, { loss_pct: round(gwLoss, 1) }));
    points.push(probe('hub', 'tcp', this.profile.rtt.hub, wanUp, {}));
    points.push(probe('portal', 'http', this.profile.rtt.portal, wanUp && !rng.chance(0.005), { status: 200, cert_days_left: 60 }));

    if (rng.chance(0.001)) this.ifaceErrors += 1;
    const traffic = fibreUp ? busy * rng.range(0.5, 1.5) : 0;
    points.push({
      m: 'net_iface',
      t,
      tags: { iface: 'eth0' },
      fields: { rx_bps: Math.round(2_000_000 * traffic + 20_000), tx_bps: Math.round(400_000 * traffic + 5_000), errors: this.ifaceErrors },
    });
    points.push({
      m: 'uplink',
      t,
      fields: { uplink: this.uplink.kind, iface: this.uplink.iface, uplink_since: this.uplink.since, since_s: Math.round((t - this.uplink.since) / 1000), on_4g: this.uplink.kind === '4g' ? 1 : 0 },
    });

    if (lt.day !== this.day) {
      this.day = lt.day;
      for (const c of this.counters) {
        c.issued = 0;
        c.served = 0;
      }
    }
    const office = { waiting: 0, issued_total: 0, served_total: 0 };
    let eventMs = 0;
    const queueEvent = (counter: string, type: string, number: number): void => {
      // One ms apart: two events of a counter never share measurement + tags + time.
      eventMs += 1;
      this.events.push({ m: 'queue_event', t: t - eventMs, tags: { counter, type }, fields: { number } });
    };
    for (const c of this.counters) {
      const issuedBefore = c.issued;
      const servedBefore = c.served;
      if (open) {
        c.issued += rng.poisson(arrivalRate(lt, this.profile.peakRate) * dtMin);
        const canServe = rng.poisson((dtMs / 1000) / c.serviceS);
        c.served = Math.min(c.issued, c.served + canServe);
        // Events for the first few tickets of a tick (a long tick in a fast demo would flood the channel otherwise).
        for (let n = issuedBefore + 1; n <= Math.min(c.issued, issuedBefore + 3); n += 1) queueEvent(c.name, 'issued', n);
        for (let n = servedBefore + 1; n <= Math.min(c.served, servedBefore + 3); n += 1) queueEvent(c.name, 'called', n);
      } else {
        c.served = c.issued; // closed: nobody waits
      }
      const waiting = c.issued - c.served;
      office.waiting += waiting;
      office.issued_total += c.issued;
      office.served_total += c.served;
      points.push({
        m: 'queue',
        t,
        tags: { counter: c.name },
        fields: { waiting, issued_total: c.issued, served_total: c.served, current_number: c.served, avg_wait_s: Math.round(waiting * c.serviceS) },
      });
    }
    points.push({ m: 'queue', t, tags: { counter: 'all' }, fields: office });

    this.profile.displays.forEach((name, i) => {
      const down = this.displayDownTicks[i] ?? 0;
      if (down > 0) this.displayDownTicks[i] = down - 1;
      else if (rng.chance(0.0015)) this.displayDownTicks[i] = rng.int(5, 60);
      const alive = (this.displayDownTicks[i] ?? 0) === 0;
      // Frozen: alive, but stuck on an old number (the player app hung).
      const frozenLeft = this.displayFrozenTicks[i] ?? 0;
      if (frozenLeft > 0) this.displayFrozenTicks[i] = frozenLeft - 1;
      else if (alive && open && rng.chance(0.002)) this.displayFrozenTicks[i] = rng.int(10, 60);
      const frozen = alive && (this.displayFrozenTicks[i] ?? 0) > 0;
      const expected = this.counters[0]?.served ?? 0;
      const shown = frozen ? Math.max(0, expected - 2) : expected;
      if (this.displayAlive[i] !== alive) this.events.push({ m: 'display_event', t, tags: { display: name, type: alive ? 'back' : 'lost' }, fields: { alive: alive ? 1 : 0 } });
      if (this.displayFrozen[i] !== frozen) this.events.push({ m: 'display_event', t, tags: { display: name, type: frozen ? 'frozen' : 'unfrozen' }, fields: { frozen: frozen ? 1 : 0, shown_number: shown } });
      this.displayAlive[i] = alive;
      this.displayFrozen[i] = frozen;
      const fields: Point['fields'] = { alive: alive ? 1 : 0, last_seen_s: alive ? rng.int(0, 5) : Math.round(((this.displayDownTicks[i] ?? 0) * dtMs) / 1000), result: alive ? 'ok' : 'timeout' };
      if (alive) Object.assign(fields, { shown_number: shown, expected_number: expected, frozen: frozen ? 1 : 0 });
      points.push({ m: 'display', t, tags: { display: name }, fields });
    });

    const load = 15 + 30 * busy + rng.range(-3, 3);
    this.battery = onBattery ? Math.max(5, this.battery - (dtMs / 60_000) * 1.5) : Math.min(100, this.battery + (dtMs / 60_000) * 0.5);
    points.push({
      m: 'equipment',
      t,
      tags: { device: 'ups-1', kind: 'ups' },
      fields: { battery_pct: round(this.battery, 1), on_battery: onBattery ? 1 : 0, input_v: onBattery ? 0 : round(220 + 6 * rng.gauss(), 1), load_pct: round(load, 1) },
    });
    const powerW = onBattery ? 0 : Math.round(300 + 2200 * busy * rng.range(0.8, 1.1));
    this.kwh += (powerW * dtMs) / 3_600_000_000;
    points.push({ m: 'equipment', t, tags: { device: 'meter-1', kind: 'meter' }, fields: { kwh: round(this.kwh, 3), power_w: powerW } });
    const hourAngle = ((lt.minute / 60 - 15) / 24) * 2 * Math.PI;
    const temp = 29 + 3.5 * Math.cos(hourAngle) + 0.3 * rng.gauss();
    points.push({ m: 'equipment', t, tags: { device: 'env-1', kind: 'env' }, fields: { temp_c: round(temp, 1), humidity_pct: round(75 - 10 * Math.cos(hourAngle) + rng.gauss(), 1) } });

    // GPIO: the door is open in office hours; the mains relay drops with the power.
    const door: 0 | 1 = open ? 1 : 0;
    const mains: 0 | 1 = onBattery ? 0 : 1;
    if (this.door !== undefined && door !== this.door) this.events.push({ m: 'gpio_event', t, tags: { pin: 'GPIO17', name: 'door' }, fields: { state: door } });
    if (this.mains !== undefined && mains !== this.mains) this.events.push({ m: 'gpio_event', t, tags: { pin: 'GPIO27', name: 'mains' }, fields: { state: mains } });
    this.door = door;
    this.mains = mains;
    points.push({ m: 'gpio', t, tags: { pin: 'GPIO17', name: 'door' }, fields: { state: door } });
    points.push({ m: 'gpio', t, tags: { pin: 'GPIO27', name: 'mains' }, fields: { state: mains } });

    this.diskPct = Math.min(95, this.diskPct + dtMs / 86_400_000);
    points.push({
      m: 'host',
      t,
      fields: { cpu_pct: round(4 + 10 * busy + 3 * Math.abs(rng.gauss()), 1), mem_pct: round(35 + 5 * rng.next(), 1), disk_pct: round(this.diskPct, 1), temp_c: round(temp + 18 + 5 * busy, 1), throttled: 0 },
    });
    points.push({ m: 'agent_report', t, fields: { uptime_s: self.uptime_s, outbox_depth: self.outbox_depth, dropped_total: self.dropped_total } });
    return points;
  }
}
