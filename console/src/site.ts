// The console's site page (site.html?s=<slug>): one commune office — link and uplink, probes with 24 h charts, the
// queue per counter and its displays, equipment, the Pi's health, delivery, recent alerts. Polled by loadSite() (one
// function, so that a push from the hub can drive it later); "data as of" and a banner when the hub is lost. Plain
// DOM; every text from the hub goes in through textContent.
import { h, type Child } from './dom.ts';
import { api, ApiError, type AlertView } from './api.ts';
import { currentLang, localTime, setLang, t } from './i18n.ts';
import { live } from './live.ts';
import type { SiteDetail } from './site-api.ts';
import { drawChart, type Chart, type ChartSeries } from './site-charts.ts';
import { num, w, type SiteWord } from './site-words.ts';
import './style.css';
import './site.css';



/** The poll (it also notices a lost hub); live events bring changes sooner. */
const REFRESH_MS = 10_000;
const LIVE_MIN_MS = 3_000;
const slug = new URLSearchParams(location.search).get('s') ?? '';

type Status = 'loading' | 'ok' | 'login' | 'not-found' | 'no-slug';

const state = {
  status: 'loading' as Status,
  detail: null as SiteDetail | null,
  lost: false,
  message: '',
};

const app = document.getElementById('app') ?? document.body;
let charts: { host: HTMLElement; chart: Chart }[] = [];

/** Fetches the site's detail and draws it; the one entry of every refresh (the poll now, a push later). */
export async function loadSite(): Promise<void> {
  if (slug === '') {
    state.status = 'no-slug';
    render();
    return;
  }
  try {
    state.detail = await api.site(slug);
    state.status = 'ok';
    state.lost = false;
    state.message = '';
  } catch (err: unknown) {
    if (err instanceof ApiError) {
      state.lost = false;
      if (err.status === 401 || err.status === 403) state.status = 'login';
      else if (err.status === 404) state.status = 'not-found';
      else state.message = err.message;
    } else {
      // The hub did not answer: the last data stays, under the banner.
      state.lost = true;
      renderBanner();
      return;
    }
  }
  render();
}

function render(): void {
  document.title = state.detail === null ? w('title') : `${state.detail.site.name} — ${w('title')}`;
  for (const c of charts) c.chart.destroy();
  charts = [];
  app.replaceChildren(header(), h('div', { id: 'banner', role: 'status' }), h('main', { class: 'site-page' }, ...body()));
  renderBanner();
  if (state.status === 'ok' && state.detail !== null) drawCharts(state.detail);
}

function renderBanner(): void {
  const b = document.getElementById('banner');
  if (b === null) return;
  b.className = state.lost ? 'banner lost' : state.message !== '' ? 'banner note' : 'banner';
  b.textContent = state.lost ? t('lostHub') : state.message;
}

function header(): HTMLElement {
  const toggle = h('button', { type: 'button', class: 'lang', 'data-testid': 'lang', onclick: () => { setLang(currentLang() === 'vi' ? 'en' : 'vi'); render(); } }, currentLang() === 'vi' ? 'English' : 'Tiếng Việt');
  return h('header', {}, h('h1', {}, w('title')), h('div', { class: 'bar' }, h('a', { href: './', class: 'back' }, w('backToAlerts')), toggle));
}

function body(): Node[] {
  switch (state.status) {
    case 'loading':
      return [];
    case 'no-slug':
      return [h('p', { class: 'page-note', 'data-testid': 'not-found' }, w('noSlug'))];
    case 'not-found':
      return [h('p', { class: 'page-note', 'data-testid': 'not-found' }, `${w('notFound')} "${slug}" ${w('notFoundTail')}`)];
    case 'login':
      return [h('p', { class: 'page-note', 'data-testid': 'login-needed' }, `${w('login')} — `, h('a', { href: './' }, w('loginLink')))];
    case 'ok':
      return state.detail === null ? [] : detailView(state.detail);
  }
}

function detailView(d: SiteDetail): Node[] {
  const where = [d.site.areaName, d.site.province].filter((x) => x !== '').join(' · ');
  const top = h('div', { class: 'site-head' },
    h('h2', { 'data-testid': 'site-name' }, d.site.name),
    h('span', { class: d.site.online ? 'pill up' : 'pill down', 'data-testid': 'site-online' }, d.site.online ? w('online') : w('offline')),
    where === '' ? null : h('p', { class: 'meta' }, `${where} · ${d.site.slug}`));
  const notes: Node[] = [];
  if (d.missing.length > 0) notes.push(h('p', { class: 'part-note missing', 'data-testid': 'missing', role: 'alert' }, `${w('missing')}: ${d.missing.map((m) => w(`part_${m.part}` as SiteWord)).join(', ')}`));
  if (d.capped.length > 0) notes.push(h('p', { class: 'part-note', 'data-testid': 'capped' }, `${w('capped')}: ${d.capped.map((c) => w(`part_${c}` as SiteWord)).join(', ')}`));
  return [
    top,
    h('p', { class: 'asof', 'data-testid': 'asof' }, `${t('dataAsOf')} ${localTime(d.asOf)}`),
    ...notes,
    h('div', { class: 'cards' }, linkCard(d), probesCard(d), queueCard(d), equipmentCard(d), hostCard(d), deliveryCard(d), alertsCard(d)),
  ];
}

function card(title: SiteWord, testid: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card', 'data-testid': testid }, h('h3', {}, w(title)), ...children);
}

const empty = (word: SiteWord): HTMLElement => h('p', { class: 'empty' }, w(word));
const when = (iso: string | null): string => (iso === null ? w('never') : localTime(Date.parse(iso)));

function uplinkName(kind: string | null): string {
  const known = ['fibre', 'adsl', '4g', 'wifi', 'none', 'other'];
  return kind !== null && known.includes(kind) ? w(`uplink_${kind}` as SiteWord) : (kind ?? '—');
}

function linkCard(d: SiteDetail): HTMLElement {
  const agents = d.agents.map((a) => h('li', { 'data-testid': 'agent-row' },
    h('strong', {}, a.agent), ' ',
    h('span', { class: a.online ? 'pill up' : 'pill down' }, a.online ? w('online') : w('offline')), ' ',
    h('span', { class: 'meta' }, `${a.connected ? w('connected') : w('disconnected')} · ${w('lastSeen')} ${when(a.lastSeen)} · ${w('version')} ${a.version ?? '—'} · ${w('configRev')} ${a.configRev === null ? '—' : String(a.configRev)}`)));
  const uplinks = d.uplinks.map((u) => h('p', { class: u.on4g ? 'uplink on4g' : 'uplink' },
    h('strong', {}, uplinkName(u.uplink)), u.iface === null ? '' : ` (${u.iface})`,
    u.since === null ? '' : ` ${w('uplinkSince')} ${localTime(u.since)}`,
    d.uplinks.length > 1 ? h('span', { class: 'meta' }, ` · ${u.agent}`) : null));
  return card('link', 'link',
    h('ul', { class: 'plain' }, ...agents),
    h('h4', {}, w('uplink')),
    h('div', { 'data-testid': 'uplink' }, ...(uplinks.length === 0 ? [empty('noUplink')] : uplinks)));
}

function probesCard(d: SiteDetail): HTMLElement {
  const rows = d.probes.map((p) => h('tr', { 'data-testid': 'probe-row', 'data-target': p.target },
    h('td', {}, h('strong', {}, p.target), h('span', { class: 'meta block' }, p.method)),
    h('td', {}, h('span', { class: p.up === 0 ? 'pill down' : 'pill up' }, p.up === 0 ? `${w('down')}${p.result === null ? '' : ` (${p.result})`}` : w('up'))),
    h('td', { class: 'num', 'data-testid': 'rtt' }, p.rttMs === null ? '—' : `${num(p.rttMs)} ms`),
    h('td', { class: 'num', 'data-testid': 'loss' }, p.lossPct === null ? '—' : `${num(p.lossPct)} %`)));
  const table = h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, w('target')), h('th', {}, w('state')), h('th', { class: 'num' }, w('latency')), h('th', { class: 'num' }, w('loss')))), h('tbody', {}, ...rows));
  return card('probes', 'probes',
    rows.length === 0 ? empty('noProbes') : table,
    h('h4', {}, w('latencyChart')), h('div', { class: 'chart', 'data-testid': 'chart-latency' }),
    h('h4', {}, w('lossChart')), h('div', { class: 'chart', 'data-testid': 'chart-loss' }));
}

function counterName(c: string): string {
  return c === 'all' ? w('counterAll') : `${w('counter')} ${c}`;
}

function queueCard(d: SiteDetail): HTMLElement {
  const rows = d.counters.map((c) => h('tr', { 'data-testid': 'counter-row', 'data-counter': c.counter },
    h('td', {}, counterName(c.counter)),
    h('td', { class: 'num', 'data-testid': 'current' }, c.currentNumber === null ? '—' : String(c.currentNumber)),
    h('td', { class: 'num', 'data-testid': 'waiting' }, num(c.waiting, 0)),
    h('td', { class: 'num', 'data-testid': 'served' }, num(c.servedTotal, 0))));
  const table = h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, w('counter')), h('th', { class: 'num' }, w('current')), h('th', { class: 'num' }, w('waiting')), h('th', { class: 'num' }, w('served')))), h('tbody', {}, ...rows));
  const displays = d.displays.map((x) => {
    const ok = x.alive === 1 && x.frozen !== 1;
    const label = x.alive !== 1 ? w('dead') : x.frozen === 1 ? w('frozen') : w('alive');
    return h('li', { 'data-testid': 'display-row' }, h('strong', {}, x.display), ' ', h('span', { class: ok ? 'pill up' : 'pill down' }, label),
      x.shownNumber === null ? null : h('span', { class: 'meta' }, ` · ${x.shownNumber}${x.expectedNumber === null ? '' : ` / ${x.expectedNumber}`}`));
  });
  return card('queue', 'queue',
    rows.length === 0 ? empty('noQueue') : table,
    displays.length === 0 ? null : h('h4', {}, w('displays')),
    displays.length === 0 ? null : h('ul', { class: 'plain' }, ...displays),
    h('h4', {}, w('queueChart')), h('div', { class: 'chart', 'data-testid': 'chart-queue' }));
}

function equipmentCard(d: SiteDetail): HTMLElement {
  const devices = d.equipment.map((e) => h('li', { 'data-testid': 'equipment-row' },
    h('strong', {}, `${e.kind.toUpperCase()} ${e.device}`), ' ',
    h('span', { class: 'meta' }, Object.entries(e.fields).map(([k, v]) => `${k} ${typeof v === 'number' ? num(v) : v}`).join(' · '))));
  const gpio = d.gpio.map((g) => h('li', {}, h('strong', {}, g.name === '' ? g.pin : g.name), ` ${num(g.state, 0)}`));
  return card('equipment', 'equipment',
    devices.length === 0 && gpio.length === 0 ? empty('noEquipment') : h('ul', { class: 'plain' }, ...devices),
    gpio.length === 0 ? null : h('h4', {}, w('gpio')),
    gpio.length === 0 ? null : h('ul', { class: 'plain' }, ...gpio));
}

function hostCard(d: SiteDetail): HTMLElement {
  const stat = (word: SiteWord, v: string, testid: string): HTMLElement => h('div', { class: 'stat', 'data-testid': testid }, h('span', { class: 'meta block' }, w(word)), h('strong', {}, v));
  const rows = d.host.map((x) => h('div', { class: 'stats' },
    d.host.length > 1 ? h('span', { class: 'meta block' }, x.agent) : null,
    stat('cpu', x.cpuPct === null ? '—' : `${num(x.cpuPct)} %`, 'host-cpu'),
    stat('temp', x.tempC === null ? '—' : `${num(x.tempC)} °C`, 'host-temp'),
    stat('mem', x.memPct === null ? '—' : `${num(x.memPct)} %`, 'host-mem'),
    stat('disk', x.diskPct === null ? '—' : `${num(x.diskPct)} %`, 'host-disk')));
  return card('host', 'host', ...(rows.length === 0 ? [empty('noHost')] : rows));
}

function deliveryCard(d: SiteDetail): HTMLElement {
  const rows = d.delivery.map((x) => h('li', { 'data-testid': 'delivery-row' },
    h('strong', {}, x.agent), ' ',
    h('span', { class: 'meta' }, `${w('backlog')} ${x.backlog === null ? '—' : `${num(x.backlog, 0)} ${w('batches')}`} · ${w('oldestUnsent')} ${x.oldestUnsentAgeS === null ? '—' : `${num(x.oldestUnsentAgeS, 0)} ${w('seconds')}`} · ${w('completeness')} ${x.completenessPct === null ? '—' : `${num(x.completenessPct)} %`}`)));
  return card('delivery', 'delivery', rows.length === 0 ? empty('noData') : h('ul', { class: 'plain' }, ...rows));
}

function alertLine(a: AlertView): HTMLElement {
  const labels = Object.entries(a.labels).filter(([k]) => k !== 'site').map(([k, v]) => `${k}=${v}`).join(' ');
  return h('li', { class: `alert-line ${a.severity}` },
    h('span', { class: `sev ${a.severity}` }, t(a.severity)), ' ',
    h('span', {}, currentLang() === 'vi' ? a.summary.vi : a.summary.en),
    h('span', { class: 'meta block' }, `${a.rule}${labels === '' ? '' : ` · ${labels}`} · ${t('since')} ${localTime(a.since)}${a.state === 'resolved' ? ` → ${localTime(a.updatedAt)}` : ''}${a.ackedBy === undefined ? '' : ` · ${t('ackedBy')} ${a.ackedBy}`}`));
}

function alertsCard(d: SiteDetail): HTMLElement {
  return card('alerts', 'alerts',
    h('h4', {}, w('active')),
    d.alerts.active.length === 0 ? empty('noAlerts') : h('ul', { class: 'plain' }, ...d.alerts.active.map(alertLine)),
    h('h4', {}, w('resolved')),
    d.alerts.resolved.length === 0 ? empty('noAlerts') : h('ul', { class: 'plain' }, ...d.alerts.resolved.map(alertLine)));
}

function drawCharts(d: SiteDetail): void {
  const range = { from: d.window.from, to: d.window.to };
  const draw = (testid: string, series: ChartSeries[], unit: string, r = range): void => {
    const host = document.querySelector<HTMLElement>(`[data-testid=${testid}]`);
    if (host === null) return;
    if (series.every((x) => x.y.every((v) => v === null))) {
      host.dataset.points = '0';
      host.replaceChildren(empty('noData'));
      return;
    }
    charts.push({ host, chart: drawChart(host, series, unit, r) });
  };
  draw('chart-latency', d.probeSeries.map((s) => ({ label: s.target, t: s.t, y: s.rttMs })), 'ms');
  draw('chart-loss', d.probeSeries.map((s) => ({ label: s.target, t: s.t, y: s.lossPct })), '%');
  draw('chart-queue', d.queueSeries.map((s) => ({ label: counterName(s.counter), t: s.t, y: s.waiting })), '', { from: d.window.dayFrom, to: d.window.to });
}

window.addEventListener('resize', () => {
  for (const c of charts) c.chart.resize(c.host.clientWidth);
});

// Pushed from the hub (live.ts): this site's points or status changed, or its alerts did; at most one fetch every
// LIVE_MIN_MS (each is three bounded InfluxDB reads). The poll is the safety net.
let liveTimer: number | undefined;
let lastLoad = 0;
function loadSoon(): void {
  if (liveTimer !== undefined) return;
  liveTimer = window.setTimeout(() => {
    liveTimer = undefined;
    lastLoad = Date.now();
    void loadSite();
  }, Math.max(250, lastLoad + LIVE_MIN_MS - Date.now()));
}
live.on('sites', (e) => {
  if (e.resync || e.all === true || (e.sites ?? []).includes(slug)) loadSoon();
});
live.on('alerts', loadSoon);
live.start();

setLang(currentLang());
render();
void loadSite();
window.setInterval(() => void loadSite(), REFRESH_MS);
