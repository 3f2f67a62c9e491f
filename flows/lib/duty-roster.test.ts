// Who is on duty at an instant (UTC+7), which roster covers an alert, and what an escalation step reaches.
import { describe, expect, it } from 'vitest';
import { HolidayCalendar, holidayCalendarSchema } from '../../common/vn-holidays.ts';
import { DutyRosters, escalationStepSchema, rosterSchema, rostersSchema, type Roster } from './duty-roster.ts';

/** An instant given in Hanoi local time. */
const local = (iso: string): number => Date.parse(`${iso}+07:00`);

// The one-stop office technicians of Tam Dương district (Vĩnh Phúc): two on the morning shift, one in the afternoon,
// a weekly on-call rota that hands over on Monday at 07:00, and a shift lead.
const TAM_DUONG = {
  name: 'tam-duong',
  areas: ['tam-duong'],
  people: [
    { id: 'kt-an', name: 'Nguyễn Văn An', email: 'an.nv@tamduong.vinhphuc.gov.vn', roles: ['ky-thuat'] },
    { id: 'kt-binh', name: 'Trần Thị Bình', email: 'binh.tt@tamduong.vinhphuc.gov.vn', webhook: 'zalo:0912000111', roles: ['ky-thuat'] },
    { id: 'kt-chi', name: 'Lê Minh Chi', email: 'chi.lm@tamduong.vinhphuc.gov.vn', roles: ['ky-thuat'] },
    { id: 'tc-dung', name: 'Phạm Quốc Dũng', email: 'dung.pq@vinhphuc.gov.vn', roles: ['truong-ca'] },
  ],
  shifts: [
    { name: 'sang', from: '07:00', to: '11:30', onDuty: ['kt-an', 'kt-chi'] },
    { name: 'chieu', days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '13:30', to: '17:00', onDuty: ['kt-binh', 'kt-an'] },
  ],
  onCall: { rota: ['kt-chi', 'kt-binh', 'kt-an'], every: 'week', from: '2026-04-20', handover: '07:00' },
};

const calendar = new HolidayCalendar(holidayCalendarSchema.parse({}));
const roster = (over: Record<string, unknown> = {}): Roster => rosterSchema.parse({ ...TAM_DUONG, ...over });
const duty = (r: Roster, iso: string): string => {
  const d = new DutyRosters([r], calendar).onDuty(r, local(iso));
  return `${d.shift}: ${d.people.map((p) => p.id).join(',')}${d.holiday === undefined ? '' : ` (${d.holiday.date})`}`;
};

describe('who is on duty', () => {
  const r = roster();

  it('follows the shifts across a Monday, the lunch break and the evening on call', () => {
    // Monday 20 April 2026, the first week of the rota (kt-chi on call).
    expect(duty(r, '2026-04-20T06:59:59')).toBe('on-call: kt-an,kt-chi,kt-binh'); // still the week before's turn
    expect(duty(r, '2026-04-20T07:00')).toBe('sang: kt-an,kt-chi');
    expect(duty(r, '2026-04-20T11:29:59')).toBe('sang: kt-an,kt-chi');
    expect(duty(r, '2026-04-20T11:30')).toBe('on-call: kt-chi,kt-binh,kt-an'); // lunch break
    expect(duty(r, '2026-04-20T13:30')).toBe('chieu: kt-binh,kt-an');
    expect(duty(r, '2026-04-20T17:00')).toBe('on-call: kt-chi,kt-binh,kt-an');
    expect(duty(r, '2026-04-21T02:00')).toBe('on-call: kt-chi,kt-binh,kt-an');
  });

  it('works Saturday morning only, and is on call all Sunday', () => {
    expect(duty(r, '2026-04-25T09:00')).toBe('sang: kt-an,kt-chi');
    expect(duty(r, '2026-04-25T14:00')).toBe('on-call: kt-chi,kt-binh,kt-an');
    expect(duty(r, '2026-05-03T09:00')).toBe('on-call: kt-binh,kt-an,kt-chi'); // the rota's second week
  });

  it('is on call on a lunar holiday (Tết, the Hùng Kings’ make-up day) and on 30/4, unless told to keep the shifts', () => {
    expect(duty(r, '2026-02-17T09:00')).toMatch(/^on-call: .* \(2026-02-17\)$/); // mùng 1 Tết, a Tuesday
    expect(duty(r, '2026-04-27T09:00')).toBe('on-call: kt-binh,kt-an,kt-chi (2026-04-27)'); // Monday in lieu of Sunday 26/4; the next turn
    expect(duty(r, '2026-04-30T14:00')).toBe('on-call: kt-binh,kt-an,kt-chi (2026-04-30)');
    expect(duty(r, '2027-04-16T09:00')).toMatch(/^on-call: .* \(2027-04-16\)$/); // Giỗ Tổ 2027, a Friday
    expect(duty(roster({ holidays: 'shifts' }), '2026-04-30T14:00')).toBe('chieu: kt-binh,kt-an');
    expect(duty(r, '2026-04-28T09:00')).toBe('sang: kt-an,kt-chi');
  });

  it('turns the on-call rota every week at the handover, or every day', () => {
    expect(duty(r, '2026-05-04T06:59')).toBe('on-call: kt-binh,kt-an,kt-chi');
    expect(duty(r, '2026-05-04T18:00')).toBe('on-call: kt-an,kt-chi,kt-binh');
    expect(duty(r, '2026-04-13T18:00')).toBe('on-call: kt-an,kt-chi,kt-binh'); // before `from`: the turns run backwards too
    const daily = roster({ onCall: { ...TAM_DUONG.onCall, every: 'day' } });
    expect(duty(daily, '2026-04-21T18:00')).toBe('on-call: kt-binh,kt-an,kt-chi');
    expect(duty(daily, '2026-04-22T06:00')).toBe('on-call: kt-binh,kt-an,kt-chi');
    expect(duty(daily, '2026-04-22T18:00')).toBe('on-call: kt-an,kt-chi,kt-binh');
  });

  it('has nobody on duty out of the shifts without an on-call rota', () => {
    expect(duty(roster({ onCall: undefined }), '2026-05-03T09:00')).toBe('on-call: ');
  });
});

describe('which roster covers an alert', () => {
  const rosters = new DutyRosters(
    [roster(), roster({ name: 'xa-dao-tu', areas: undefined, sites: ['xa-dao-tu'] }), roster({ name: 'vinh-phuc', areas: undefined, provinces: ['vinh-phuc'] }), roster({ name: 'ioc', areas: undefined })],
    calendar,
  );
  const name = (site: string, area?: string, province?: string): string | undefined => rosters.rosterFor({ site, area, province })?.name;

  it('takes the one naming the site, then the area, then the province, then the one naming none', () => {
    expect(name('xa-dao-tu', 'tam-duong', 'vinh-phuc')).toBe('xa-dao-tu');
    expect(name('xa-hoang-hoa', 'tam-duong', 'vinh-phuc')).toBe('tam-duong');
    expect(name('phuong-tich-son', 'vinh-yen', 'vinh-phuc')).toBe('vinh-phuc');
    expect(name('xa-binh-xuyen', undefined, 'phu-tho')).toBe('ioc');
    expect(new DutyRosters([roster()], calendar).rosterFor({ site: 'xa-x', province: 'phu-tho' })).toBeUndefined();
  });
});

describe('what an escalation step reaches', () => {
  const r = roster();
  const rosters = new DutyRosters([r], calendar);
  const step = (to: string | string[]) => escalationStepSchema.parse({ after: '15m', to });
  const reach = (to: string | string[], iso: string, told: string[] = []): string[] => {
    const got = rosters.resolve(r, step(to), local(iso), new Set(told));
    return [...got.people.map((p) => p.id), ...got.emails];
  };

  it('takes the next one on duty not yet told, then the on-call rota', () => {
    expect(reach('next-on-duty', '2026-04-20T09:00', ['kt-an'])).toEqual(['kt-chi']);
    expect(reach('next-on-duty', '2026-04-20T09:00', ['kt-an', 'kt-chi'])).toEqual(['kt-binh']); // from the rota
    expect(reach('next-on-duty', '2026-04-20T09:00', ['kt-an', 'kt-chi', 'kt-binh'])).toEqual([]);
    expect(reach('next-on-duty', '2026-04-20T14:00', ['kt-an'])).toEqual(['kt-binh']); // the afternoon shift now
    expect(reach(['next-on-duty', 'next-on-duty'], '2026-04-20T09:00', ['kt-an'])).toEqual(['kt-chi', 'kt-binh']);
  });

  it('reaches a role, a person, the one on duty and plain addresses', () => {
    expect(reach('role:truong-ca', '2026-04-20T09:00')).toEqual(['tc-dung']);
    expect(reach(['person:kt-binh', 'truc.ioc@vinhphuc.gov.vn'], '2026-04-20T09:00')).toEqual(['kt-binh', 'truc.ioc@vinhphuc.gov.vn']);
    expect(reach('on-duty', '2026-04-26T09:00', ['kt-chi'])).toEqual(['kt-chi']); // told again: `on-duty` is whoever it is
    expect(rosters.resolve(undefined, step(['next-on-duty', 'ioc@vinhphuc.gov.vn']), local('2026-04-20T09:00'), new Set())).toEqual({ people: [], emails: ['ioc@vinhphuc.gov.vn'] });
  });
});

describe('roster and step configuration', () => {
  const problems = (over: Record<string, unknown>): string[] => {
    const r = rosterSchema.safeParse({ ...TAM_DUONG, ...over });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses unknown people, overlapping or inverted shifts, unknown roles and bad targets', () => {
    expect(problems({ shifts: [{ name: 'sang', from: '07:00', to: '11:30', onDuty: ['kt-x'] }] })).toEqual(['shifts.0.onDuty.0: kt-x is not among this roster\'s people']);
    expect(problems({ shifts: [...TAM_DUONG.shifts, { name: 'trua', days: ['mon'], from: '11:00', to: '14:00', onDuty: ['kt-an'] }] })).toEqual(['shifts.2: overlaps shift sang', 'shifts.2: overlaps shift chieu']);
    expect(problems({ shifts: [{ name: 'dem', from: '22:00', to: '06:00', onDuty: ['kt-an'] }] })[0]).toContain('shifts.0.to: a shift ends after it starts');
    expect(problems({ escalation: [{ after: '15m', to: 'role:giam-doc' }] })).toEqual(['escalation.0.to.0: nobody has the role giam-doc']);
    expect(problems({ escalation: [{ after: '15m', to: 'whoever' }] })[0]).toContain('on-duty, next-on-duty, role:NAME, person:ID or an e-mail address');
    expect(problems({ escalation: [{ after: '30m', to: 'next-on-duty' }, { after: '15m', to: 'role:truong-ca' }] })).toEqual(['escalation.1.after: each step comes later than the one before (`after` counts from when the alert fired)']);
    expect(problems({})).toEqual([]);
  });

  it('refuses two rosters of one name, one site, area or province, or two covering the rest', () => {
    const issues = (rosters: Record<string, unknown>[]): string[] => {
      const r = rostersSchema.safeParse(rosters.map((x) => ({ ...TAM_DUONG, ...x })));
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues([{}, { name: 'tam-duong-2', areas: ['tam-duong', 'tam-dao'] }])).toEqual(["1: area tam-duong is already roster tam-duong's"]);
    expect(issues([{ areas: undefined }, { name: 'ioc', areas: undefined }])).toEqual(["1: the rest (no sites, areas or provinces) is already roster tam-duong's"]);
    expect(issues([{}, {}])).toEqual(["1: name tam-duong is already roster tam-duong's", "1: area tam-duong is already roster tam-duong's"]);
    expect(issues([{}, { name: 'tam-dao', areas: ['tam-dao'] }])).toEqual([]);
  });
});
