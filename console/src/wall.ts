// The wall (kiosk for a TV at 1920×1080 or 3840×2160): every commune of the registry as a tile coloured by its
// state (computed on the hub, the same as /api/sites), grouped by area (else province), the headline figures, and
// a rotation of views: tiles, map (the registry's coordinates on a plain equirectangular projection, drawn in
// SVG — no tile server), open incidents. URL parameters: `rotate` (seconds per view, 0: no rotation; default 30),
// `view` (tiles | map | incidents: the first one), `poll` (seconds between reads; default 5), `lang` (vi | en).
// All data comes from GET /api/wall through loadWall(): at once when the hub pushes that sites changed (live.ts,
// server-sent events), and every `poll` seconds whatever comes (a stream that is down does not stop the wall).
import { h } from './dom.ts';
import { currentLang, setLang, type Lang } from './i18n.ts';
import { live } from './live.ts';
import './wall.css';

type State = 'up' | 'degraded' | 'down' | 'blind' | 'backfilling' | 'maintenance';
type View = 'tiles' | 'map' | 'incidents';

interface Tile {
  slug: string;
  name: string;
  area: string;
  areaName: string;
  province: string;
  provinceName: string;
  lat: number | null;
  lon: number | null;
  state: State;
  stateReason: string;
  lastSeen: string | null;
}

interface WallIncident {
  id: string;
  site: string;
  siteName: string;
  severity: string;
  state: string;
  since: number;
  summary: { vi: string; en: string };
  sites: string[];
}

interface WallData {
  asOf: number;
  bounds: { freshForMs: number; downForMs: number };
  sites: Tile[];
  counts: Record<State, number>;
  figures: {
    communes: number;
    online: number;
    openIncidents: number | null;
    ticketsToday: number | null;
    avgWaitS: number | null;
    portalReachable: number | null;
    portalReporting: number;
    figuresError?: string;
  };
  incidents: WallIncident[];
}

const STATES: readonly State[] = ['up', 'degraded', 'backfilling', 'down', 'blind', 'maintenance'];
/** The state also as a sign, for anyone who cannot tell the colours apart. */
const ICON: Readonly<Record<State, string>> = { up: '✓', degraded: '!', backfilling: '↻', down: '✕', blind: '?', maintenance: '⚒' };

const WORDS = {
  title: { vi: 'Trung tâm IOC — Tình trạng các xã', en: 'IOC — Communes at a glance' },
  up: { vi: 'Hoạt động', en: 'Up' },
  degraded: { vi: 'Suy giảm', en: 'Degraded' },
  down: { vi: 'Mất kết nối', en: 'Down' },
  blind: { vi: 'Không có dữ liệu mới', en: 'No fresh data' },
  backfilling: { vi: 'Đang gửi bù', en: 'Backfilling' },
  maintenance: { vi: 'Bảo trì', en: 'Maintenance' },
  online: { vi: 'Xã trực tuyến', en: 'Communes online' },
  incidents: { vi: 'Sự cố đang mở', en: 'Open incidents' },
  tickets: { vi: 'Phiếu hôm nay', en: 'Tickets today' },
  wait: { vi: 'Thời gian chờ TB', en: 'Average wait now' },
  portal: { vi: 'Cổng DVC truy cập được từ', en: 'Portal reachable from' },
  communes: { vi: 'xã', en: 'communes' },
  unknown: { vi: 'chưa rõ', en: 'unknown' },
  min: { vi: 'phút', en: 'min' },
  asOf: { vi: 'Dữ liệu lúc', en: 'Data as of' },
  lost: { vi: 'Mất kết nối tới hub — dữ liệu dưới đây có thể đã cũ', en: 'Lost the hub — the data below may be stale' },
  noData: { vi: 'Đang tải dữ liệu…', en: 'Loading…' },
  login: { vi: 'Màn hình tường cần đăng nhập', en: 'The wall needs a login' },
  noIncident: { vi: 'Không có sự cố nào đang mở', en: 'No open incident' },
  noCoords: { vi: 'Chưa có tọa độ', en: 'No coordinates' },
  noMap: { vi: 'Chưa xã nào có tọa độ: bản đồ trống', en: 'No commune has coordinates yet: nothing to map' },
  since: { vi: 'từ', en: 'since' },
  critical: { vi: 'Nghiêm trọng', en: 'Critical' },
  warning: { vi: 'Cảnh báo', en: 'Warning' },
  info: { vi: 'Thông tin', en: 'Info' },
  viewTiles: { vi: 'Các xã', en: 'Communes' },
  viewMap: { vi: 'Bản đồ', en: 'Map' },
  viewIncidents: { vi: 'Sự cố', en: 'Incidents' },
  blindShort: { vi: 'Không dữ liệu', en: 'No data' },
} as const satisfies Record<string, Record<Lang, string>>;
type Word = keyof typeof WORDS;
const t = (w: Word): string => WORDS[w][currentLang()];

const params = new URLSearchParams(location.search);
const num = (name: string, fallback: number, min: number): number => {
  const v = Number(params.get(name) ?? Number.NaN);
  return Number.isFinite(v) && v >= min ? v : fallback;
};
const ROTATE_MS = num('rotate', 30, 0) * 1000;
const POLL_MS = Math.max(1000, num('poll', 5, 1) * 1000);
const VIEWS: readonly View[] = ['tiles', 'map', 'incidents'];
const firstView = params.get('view');

const wall = {
  data: undefined as WallData | undefined,
  lost: false,
  needsLogin: false,
  view: (VIEWS as readonly string[]).includes(firstView ?? '') ? (firstView as View) : 'tiles',
};

const root = document.getElementById('wall') ?? document.body;

const SVG = 'http://www.w3.org/2000/svg';
function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** `HH:MM:SS` in Vietnam's time (UTC+7), whatever the browser's zone. */
export function clock(ms: number): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(ms));
}

/**
 * Reads the wall's data once and draws it. The poller calls it every `poll` seconds; a push from the hub (server-
 * sent events, later) can call it too. On failure the last data stays, under the lost-hub banner.
 */
export async function loadWall(): Promise<void> {
  try {
    const res = await fetch('/api/wall', { credentials: 'same-origin', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(Math.max(3000, POLL_MS)) });
    if (res.status === 401 || res.status === 403) {
      wall.needsLogin = true;
      wall.lost = false;
    } else if (!res.ok) {
      wall.lost = true;
    } else {
      wall.data = (await res.json()) as WallData;
      wall.lost = false;
      wall.needsLogin = false;
    }
  } catch {
    wall.lost = true;
  }
  render();
}

// ---- drawing

function header(): HTMLElement {
  const d = wall.data;
  const asOf = h('span', { class: 'asof', 'data-testid': 'as-of' }, d === undefined ? t('noData') : `${t('asOf')} ${clock(d.asOf)} (UTC+7)`);
  if (d !== undefined) asOf.dataset.asOf = String(d.asOf);
  const lang = h('button', { type: 'button', class: 'lang', 'data-testid': 'lang' }, currentLang() === 'vi' ? 'EN' : 'VI');
  lang.addEventListener('click', () => {
    setLang(currentLang() === 'vi' ? 'en' : 'vi');
    render();
  });
  const tabs = h('nav', { class: 'views' }, ...VIEWS.map((v) => h('span', { class: v === wall.view ? 'on' : '', 'data-view': v }, t(v === 'tiles' ? 'viewTiles' : v === 'map' ? 'viewMap' : 'viewIncidents'))));
  return h('header', { class: 'wall-head' }, h('h1', {}, t('title')), tabs, asOf, lang);
}

function banner(): HTMLElement | null {
  if (wall.needsLogin) return h('div', { class: 'wall-banner', role: 'alert', 'data-testid': 'banner' }, t('login'), ' — ', h('a', { href: '/' }, '/'));
  if (wall.lost) return h('div', { class: 'wall-banner', role: 'alert', 'data-testid': 'banner' }, t('lost'));
  return null;
}

function figure(label: string, value: string, testid: string, unknown: boolean): HTMLElement {
  return h('div', { class: unknown ? 'figure unknown' : 'figure', 'data-testid': testid }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));
}

function figures(d: WallData): HTMLElement {
  const f = d.figures;
  const unknown = t('unknown');
  const wait = f.avgWaitS === null ? unknown : `${Math.round(f.avgWaitS / 60)} ${t('min')}`;
  return h(
    'section',
    { class: 'figures' },
    figure(t('online'), `${f.online}/${f.communes}`, 'fig-online', false),
    figure(t('incidents'), f.openIncidents === null ? unknown : String(f.openIncidents), 'fig-incidents', f.openIncidents === null),
    figure(t('tickets'), f.ticketsToday === null ? unknown : f.ticketsToday.toLocaleString(currentLang() === 'vi' ? 'vi-VN' : 'en-GB'), 'fig-tickets', f.ticketsToday === null),
    figure(t('wait'), wait, 'fig-wait', f.avgWaitS === null),
    figure(t('portal'), f.portalReachable === null ? unknown : `${f.portalReachable}/${f.portalReporting} ${t('communes')}`, 'fig-portal', f.portalReachable === null),
  );
}

function legend(d: WallData): HTMLElement {
  return h('ul', { class: 'legend', 'data-testid': 'legend' }, ...STATES.map((st) => h('li', { class: `st-${st}` }, h('span', { class: 'icon', 'aria-hidden': 'true' }, ICON[st]), `${WORDS[st][currentLang()]} `, h('b', { 'data-count': st }, String(d.counts[st])))));
}

interface Group {
  key: string;
  label: string;
  tiles: Tile[];
}

/** By area (district) when the registry has areas, else by province. */
function groupsOf(sites: readonly Tile[]): Group[] {
  const byArea = sites.some((x) => x.area !== '');
  const groups = new Map<string, Group>();
  for (const x of sites) {
    const key = byArea ? x.area : x.province;
    const label = byArea ? (x.areaName === '' ? x.provinceName : x.areaName) : x.provinceName;
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, label, tiles: [] };
      groups.set(key, g);
    }
    g.tiles.push(x);
  }
  return [...groups.values()];
}

function tileEl(x: Tile): HTMLElement {
  const label = WORDS[x.state][currentLang()];
  const short = x.state === 'blind' ? t('blindShort') : label;
  const el = h('div', { class: `tile st-${x.state}`, 'data-slug': x.slug, 'data-state': x.state, title: `${x.name}: ${label}`, role: 'listitem', 'aria-label': `${x.name}: ${label}` }, h('span', { class: 'icon', 'aria-hidden': 'true' }, ICON[x.state]), h('span', { class: 'name' }, x.name), h('span', { class: 'state-text' }, short));
  return el;
}

/**
 * One grid for every commune, each group opened by a heading cell in the flow (no row is lost to a heading): the
 * number of columns is chosen so that the cells are as large as the screen allows without scrolling; a phone
 * scrolls instead (cells keep a readable size).
 */
function tilesView(d: WallData, box: HTMLElement): void {
  const grid = h('div', { class: 'tiles', role: 'list', 'data-testid': 'tiles' });
  for (const g of groupsOf(d.sites)) {
    grid.append(h('div', { class: 'group', 'data-group': g.key, role: 'heading', 'aria-level': '2' }, g.label));
    for (const x of g.tiles) grid.append(tileEl(x));
  }
  box.append(grid);
  fitGrid(grid, box);
}

const GAP = 0.004; // of the screen width

function fitGrid(grid: HTMLElement, box: HTMLElement): void {
  const cells = grid.childElementCount;
  const W = box.clientWidth;
  const H = box.clientHeight;
  if (cells === 0 || W === 0 || H === 0) return;
  const gap = Math.max(3, Math.round(W * GAP));
  if (W < 700) {
    // A phone: two or three columns, vertical scrolling.
    const cols = W < 420 ? 2 : 3;
    grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
    grid.style.gridAutoRows = '64px';
    grid.style.gap = `${gap}px`;
    grid.style.setProperty('--cell-font', '15px');
    box.classList.add('scroll');
    return;
  }
  box.classList.remove('scroll');
  let best = { cols: 1, w: 0, h: 0, score: -1 };
  for (let cols = 1; cols <= cells; cols += 1) {
    const rows = Math.ceil(cells / cols);
    const w = (W - gap * (cols - 1)) / cols;
    const hh = (H - gap * (rows - 1)) / rows;
    if (w <= 0 || hh <= 0) continue;
    // Tiles read best between 1.4:1 and 3.2:1; past those the extra room is not used.
    const score = Math.min(w, 3.2 * hh) * Math.min(hh, w / 1.4);
    if (score > best.score) best = { cols, w, h: Math.min(hh, w / 1.4), score };
  }
  grid.style.gridTemplateColumns = `repeat(${best.cols}, minmax(0, 1fr))`;
  grid.style.gridAutoRows = `${Math.floor(best.h)}px`;
  grid.style.gap = `${gap}px`;
  grid.style.setProperty('--cell-font', `${Math.max(10, Math.min(best.h / 3.4, Math.min(best.w, 3.2 * best.h) / 8.5)).toFixed(1)}px`);
}

/** Equirectangular: x = lon·cos(mean lat), y = −lat, fitted to the box; communes without coordinates beside it. */
function mapView(d: WallData, box: HTMLElement): void {
  // Known states drawn over the blind ones, trouble on top: a point that matters is never hidden by another.
  const order: Readonly<Record<State, number>> = { blind: 0, up: 1, backfilling: 2, maintenance: 3, degraded: 4, down: 5 };
  const placed = d.sites.filter((x): x is Tile & { lat: number; lon: number } => x.lat !== null && x.lon !== null).sort((a, b) => order[a.state] - order[b.state]);
  const unplaced = d.sites.filter((x) => x.lat === null || x.lon === null);
  const wrap = h('div', { class: 'map-wrap' });
  if (placed.length === 0) wrap.append(h('p', { class: 'empty' }, t('noMap')));
  else {
    const meanLat = placed.reduce((a, x) => a + x.lat, 0) / placed.length;
    const k = Math.cos((meanLat * Math.PI) / 180);
    const xs = placed.map((x) => x.lon * k);
    const ys = placed.map((x) => -x.lat);
    const minX = Math.min(...xs);
    const minY = Math.min(...ys);
    const spanX = Math.max(Math.max(...xs) - minX, 0.01);
    const spanY = Math.max(Math.max(...ys) - minY, 0.01);
    const pad = 0.04 * Math.max(spanX, spanY);
    const svg = s('svg', { class: 'map', 'data-testid': 'map', viewBox: `${minX - pad} ${minY - pad} ${spanX + 2 * pad} ${spanY + 2 * pad}`, preserveAspectRatio: 'xMidYMid meet', role: 'img', 'aria-label': t('viewMap') });
    const r = Math.max(spanX, spanY) / 90;
    placed.forEach((x, i) => {
      const g = s('g', { class: `point st-${x.state}`, 'data-slug': x.slug, 'data-state': x.state });
      const c = s('circle', { cx: xs[i] ?? 0, cy: ys[i] ?? 0, r });
      const title = s('title');
      title.textContent = `${x.name}: ${WORDS[x.state][currentLang()]}`;
      c.append(title);
      const sign = s('text', { x: xs[i] ?? 0, y: (ys[i] ?? 0) + r * 0.38, 'font-size': r * 1.1, 'text-anchor': 'middle' });
      sign.textContent = ICON[x.state];
      g.append(c, sign);
      svg.append(g);
    });
    wrap.append(svg);
  }
  const side = h('aside', { class: 'unplaced', 'data-testid': 'unplaced' }, h('h2', {}, `${t('noCoords')}: ${unplaced.length}`));
  const list = h('ul', {});
  for (const x of unplaced) list.append(h('li', { class: `st-${x.state}`, 'data-slug': x.slug, 'data-state': x.state }, h('span', { class: 'icon', 'aria-hidden': 'true' }, ICON[x.state]), ` ${x.name}`));
  side.append(list);
  box.append(h('div', { class: unplaced.length === 0 ? 'map-view full' : 'map-view' }, wrap, unplaced.length === 0 ? null : side));
}

function incidentsView(d: WallData, box: HTMLElement): void {
  if (d.incidents.length === 0) {
    box.append(h('p', { class: 'no-incident', 'data-testid': 'incidents' }, `✓ ${t('noIncident')}`));
    return;
  }
  const list = h('ol', { class: 'incidents', 'data-testid': 'incidents' });
  for (const i of d.incidents) {
    const sev = i.severity === 'critical' || i.severity === 'warning' || i.severity === 'info' ? i.severity : 'info';
    list.append(
      h(
        'li',
        { class: `incident sev-${sev}`, 'data-id': i.id },
        h('span', { class: 'sev' }, t(sev)),
        h('span', { class: 'where' }, i.sites.length > 1 ? `${i.siteName} (${i.sites.length})` : i.siteName),
        h('span', { class: 'what' }, currentLang() === 'vi' ? i.summary.vi : i.summary.en),
        h('span', { class: 'when' }, `${t('since')} ${clock(i.since).slice(0, 5)}`),
      ),
    );
  }
  box.append(list);
}

function render(): void {
  document.documentElement.lang = currentLang();
  const d = wall.data;
  const main = h('main', { class: 'wall-main', 'data-view': wall.view });
  root.replaceChildren(header(), banner() ?? '', d === undefined ? '' : figures(d), d === undefined ? '' : legend(d), main);
  if (d === undefined) return;
  if (wall.view === 'tiles') tilesView(d, main);
  else if (wall.view === 'map') mapView(d, main);
  else incidentsView(d, main);
}

function nextView(): void {
  const i = VIEWS.indexOf(wall.view);
  wall.view = VIEWS[(i + 1) % VIEWS.length] ?? 'tiles';
  render();
}

async function poll(): Promise<void> {
  await loadWall();
  setTimeout(() => void poll(), POLL_MS);
}

const lang = params.get('lang');
setLang(lang === 'en' || lang === 'vi' ? lang : currentLang());
render();
void poll();
let pushed: Promise<void> | undefined;
live.on('sites', () => {
  // At most one read in flight for pushes: a burst of events is one fetch (the hub sends at most one a second).
  pushed ??= loadWall().finally(() => {
    pushed = undefined;
  });
});
live.start();
if (ROTATE_MS > 0) setInterval(nextView, ROTATE_MS);
let resizing: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = window.setTimeout(render, 150);
});
