// The console's alerts page: log in, the open incidents (one row each, with their parts), acknowledge as the
// logged-in person, silences (the form's draft survives a reload: sessionStorage), history. Plain DOM, no framework;
// every text from the hub goes in through textContent.
import { h } from './dom.ts';
import { api, ApiError, resumeSession, setCsrf, type AlertView, type Incident, type Silence, type SiteView, type User } from './api.ts';
import { mountLostBanner } from './banner.ts';
import { currentLang, localTime, setLang, t, type Word } from './i18n.ts';
import { live } from './live.ts';
import './style.css';
import './nav.ts';



/** Live events (live.ts) bring changes; this slow poll is only the safety net. */
const SAFETY_POLL_MS = 60_000;
/** Events that come together (a storm) are one refetch. */
const LIVE_DEBOUNCE_MS = 250;
const DRAFT_KEY = 'ioc-silence-draft';
const TAB_KEY = 'ioc-tab';

type Tab = 'incidents' | 'silences' | 'history';

const state = {
  user: null as User | null,
  sites: new Map<string, SiteView>(),
  rules: [] as string[],
  incidents: [] as Incident[],
  silences: [] as Silence[],
  history: [] as AlertView[],
  tab: (sessionStorage.getItem(TAB_KEY) as Tab | null) ?? 'incidents',
  asOf: 0,
  lost: false,
  message: '',
};

const app = document.getElementById('app') ?? document.body;
let timer: number | undefined;
let liveRefresh: number | undefined;

/** A refetch soon, once for any number of live events meanwhile. */
function refreshSoon(): void {
  if (liveRefresh !== undefined) return;
  liveRefresh = window.setTimeout(() => {
    liveRefresh = undefined;
    void refresh();
  }, LIVE_DEBOUNCE_MS);
}

live.on('alerts', refreshSoon);
// After a hub restart the registry's names are fetched again too.
live.on('sites', (e) => {
  if (e.resync) void loadCatalog().then(refreshSoon, failed);
});
live.onStatus((s) => {
  if (!s.connected || s.asOf === null || state.user === null) return;
  state.asOf = Math.max(state.asOf, s.asOf);
  renderAsOf();
});
mountLostBanner();

/** A site's Vietnamese name from the registry (its slug while unknown: a province incident's site is the province). */
function siteName(slug: string): string {
  return state.sites.get(slug)?.name ?? slug;
}

function summary(a: AlertView): string {
  return currentLang() === 'vi' ? a.summary.vi : a.summary.en;
}

function failed(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) {
    state.user = null;
    state.message = t('ended');
    render();
    return;
  }
  state.lost = !(err instanceof ApiError);
  state.message = err instanceof ApiError ? err.message : '';
  render();
}

async function refresh(): Promise<void> {
  if (state.user === null) return;
  try {
    const [inc, sil, hist] = await Promise.all([api.incidents(), api.silences(), state.tab === 'history' ? api.history() : Promise.resolve({ alerts: state.history })]);
    state.incidents = inc.incidents;
    state.silences = sil.silences;
    state.history = hist.alerts;
    state.asOf = Date.now();
    state.lost = false;
    renderData();
  } catch (err: unknown) {
    failed(err);
  }
}

async function loadCatalog(): Promise<void> {
  const [sites, rules] = await Promise.all([api.sites(), api.rules()]);
  state.sites = new Map(sites.sites.map((s) => [s.slug, s]));
  state.rules = rules.rules;
}

async function start(): Promise<void> {
  setLang(currentLang());
  const resumed = await resumeSession();
  state.user = resumed.user;
  if (resumed.lost) state.lost = true;
  if (state.user !== null) await afterLogin();
  else render();
}

async function afterLogin(): Promise<void> {
  try {
    await loadCatalog();
  } catch (err: unknown) {
    failed(err);
    return;
  }
  render();
  await refresh();
  if (timer !== undefined) clearInterval(timer);
  timer = window.setInterval(() => void refresh(), SAFETY_POLL_MS);
  live.start();
}

// ---- rendering: the frame (header, tabs, forms) is drawn once per login or tab; the data parts on each refresh,
// so that what someone is typing is never replaced.

function header(): HTMLElement {
  const toggle = h('button', { type: 'button', class: 'lang', 'data-testid': 'lang', onclick: () => { setLang(currentLang() === 'vi' ? 'en' : 'vi'); render(); renderData(); } }, currentLang() === 'vi' ? 'English' : 'Tiếng Việt');
  const who = state.user === null ? null : h('span', { class: 'who', 'data-testid': 'who' }, `${state.user.displayName} (${t(`role_${state.user.role}` as Word)})`);
  const out = state.user === null ? null : h('button', { type: 'button', onclick: () => void logout() }, t('logout'));
  return h('header', {}, h('h1', {}, t('title')), h('div', { class: 'bar' }, who, toggle, out));
}

function render(): void {
  document.title = t('title');
  app.replaceChildren(header(), h('div', { id: 'banner', role: 'status' }), state.user === null ? loginView() : mainView());
  renderBanner();
}

function renderBanner(): void {
  const b = document.getElementById('banner');
  if (b === null) return;
  b.className = state.lost ? 'banner lost' : state.message !== '' ? 'banner note' : 'banner';
  b.textContent = state.lost ? t('lostHub') : state.message;
}

function loginView(): HTMLElement {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'login', onsubmit: (e: Event) => { e.preventDefault(); void login(user.value, pass.value); } },
    h('label', {}, t('username'), user), h('label', {}, t('password'), pass), h('button', { type: 'submit', class: 'primary' }, t('login')));
  return h('main', {}, form);
}

async function login(username: string, password: string): Promise<void> {
  try {
    const r = await api.login(username, password);
    setCsrf(r.csrf);
    state.user = r.user;
    state.message = '';
    await afterLogin();
  } catch (err: unknown) {
    state.message = err instanceof ApiError ? (err.status === 429 ? t('throttled') : t('loginFailed')) : '';
    state.lost = !(err instanceof ApiError);
    renderBanner();
  }
}

async function logout(): Promise<void> {
  try {
    await api.logout();
  } catch {
    // the session may have ended already
  }
  state.user = null;
  if (timer !== undefined) clearInterval(timer);
  live.stop();
  render();
}

function mainView(): HTMLElement {
  const tabs: Tab[] = ['incidents', 'silences', 'history'];
  const nav = h('nav', { class: 'tabs' }, ...tabs.map((tab) => h('button', { type: 'button', class: tab === state.tab ? 'tab on' : 'tab', 'aria-pressed': String(tab === state.tab), onclick: () => { state.tab = tab; sessionStorage.setItem(TAB_KEY, tab); render(); void refresh(); } }, t(tab))));
  const body = h('section', { id: 'view' });
  if (state.tab === 'silences') body.append(silenceForm(), h('div', { id: 'silence-list' }));
  else body.append(h('div', { id: state.tab === 'incidents' ? 'incident-list' : 'history-list' }));
  return h('main', {}, nav, h('p', { class: 'asof', id: 'asof' }), body);
}

function renderAsOf(): void {
  const asof = document.getElementById('asof');
  if (asof !== null) asof.textContent = state.asOf === 0 ? '' : `${t('dataAsOf')} ${localTime(state.asOf)}`;
}

function renderData(): void {
  renderBanner();
  renderAsOf();
  document.getElementById('incident-list')?.replaceChildren(...(state.incidents.length === 0 ? [h('p', { class: 'empty' }, t('none'))] : state.incidents.map(incidentRow)));
  document.getElementById('silence-list')?.replaceChildren(...(state.silences.length === 0 ? [h('p', { class: 'empty' }, t('noSilence'))] : state.silences.map(silenceRow)));
  document.getElementById('history-list')?.replaceChildren(...(state.history.length === 0 ? [h('p', { class: 'empty' }, t('noHistory'))] : state.history.map((a) => alertLine(a, true))));
}

function badge(a: AlertView): HTMLElement {
  return h('span', { class: `sev ${a.severity}` }, t(a.severity));
}

/** A registry site's name links to its page (site.html); a province incident's site is not one. */
function siteLink(slug: string, text = siteName(slug)): Node {
  return state.sites.has(slug) ? h('a', { href: `site.html?s=${encodeURIComponent(slug)}` }, text) : document.createTextNode(text);
}

function alertLine(a: AlertView, history = false): HTMLElement {
  return h('div', { class: 'line' }, badge(a), h('span', { class: 'site' }, siteLink(a.site)), h('span', { class: 'text' }, summary(a)),
    h('span', { class: 'time' }, `${t('since')} ${localTime(a.since)}${history ? ` → ${localTime(a.updatedAt)}` : ''}`),
    a.ackedBy === undefined ? null : h('span', { class: 'acked' }, `${t('ackedBy')} ${a.ackedBy}`));
}

function incidentRow(inc: Incident): HTMLElement {
  const a = inc.alert;
  const title = inc.sites.length > 1 ? `${siteName(a.site)} · ${inc.sites.length} ${t('sitesCount')}` : siteName(a.site);
  const stateText = a.state === 'acknowledged' ? `${t('ackedBy')} ${a.ackedBy ?? ''}` : t(a.state);
  const ack = a.state === 'firing' ? h('button', { type: 'button', class: 'ack primary', 'data-testid': 'ack', onclick: (e: Event) => void acknowledge(a.id, e.currentTarget as HTMLButtonElement) }, t('ack')) : null;
  const parts = inc.parts.length === 0 ? null : h('details', { class: 'parts' }, h('summary', {}, `${t('parts')}: ${inc.parts.length}`), h('ul', {}, ...inc.parts.map((p) => h('li', {}, `${siteName(p.site)} — ${summary(p)}`))));
  return h('article', { class: `incident ${a.severity} ${a.state}`, 'data-alert-id': a.id },
    h('div', { class: 'head' }, badge(a), h('strong', { class: 'site' }, siteLink(a.site, title)), ack),
    h('p', { class: 'text' }, summary(a)),
    h('p', { class: 'meta' }, h('span', { class: 'state', 'data-testid': 'state' }, stateText), ' · ', `${t('since')} ${localTime(a.since)}`, a.suppressedBy === undefined ? null : ` · ${t('suppressed')} (${a.suppressedBy})`),
    parts);
}

async function acknowledge(id: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    await api.ack(id);
    state.message = '';
    await refresh();
  } catch (err: unknown) {
    button.disabled = false;
    failed(err);
  }
}

// ---- silences

interface Draft {
  sites: string;
  rules: string;
  hours: string;
  comment: string;
  maintenance: boolean;
}

function readDraft(): Draft {
  try {
    return { sites: '', rules: '', hours: '2', comment: '', maintenance: false, ...(JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? '{}') as Partial<Draft>) };
  } catch {
    return { sites: '', rules: '', hours: '2', comment: '', maintenance: false };
  }
}

function silenceForm(): HTMLElement {
  const d = readDraft();
  const sites = h('input', { name: 'sites', list: 'site-options', value: d.sites, autocapitalize: 'none', 'data-testid': 'silence-sites' });
  const rules = h('input', { name: 'rules', list: 'rule-options', value: d.rules, autocapitalize: 'none' });
  const hours = h('select', { name: 'hours' }, ...['1', '2', '4', '8', '24', '72', '168'].map((x) => h('option', { value: x, ...(x === d.hours ? { selected: true } : {}) }, `${x} ${t('hours')}`)));
  const comment = h('textarea', { name: 'comment', rows: '2', maxlength: '1024', 'data-testid': 'silence-comment' });
  comment.value = d.comment;
  const maint = h('input', { type: 'checkbox', name: 'maintenance', ...(d.maintenance ? { checked: true } : {}) });
  const error = h('p', { class: 'error', id: 'silence-error', role: 'alert' });
  const save = (): void => sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ sites: sites.value, rules: rules.value, hours: hours.value, comment: comment.value, maintenance: maint.checked } satisfies Draft));
  const list = (v: string): string[] => v.split(/[,\s]+/).map((x) => x.trim()).filter((x) => x !== '');
  const form = h('form', { class: 'silence', oninput: save, onchange: save, onsubmit: (e: Event) => {
    e.preventDefault();
    const s = list(sites.value);
    const r = list(rules.value);
    if (s.length === 0 && r.length === 0) {
      error.textContent = t('needSite');
      return;
    }
    void (async () => {
      try {
        await api.addSilence({ ...(s.length === 0 ? {} : { sites: s }), ...(r.length === 0 ? {} : { rules: r }), endsAt: Date.now() + Number(hours.value) * 3_600_000, kind: maint.checked ? 'maintenance' : 'silence', comment: comment.value });
        error.textContent = '';
        sessionStorage.removeItem(DRAFT_KEY);
        sites.value = '';
        rules.value = '';
        comment.value = '';
        state.message = t('created');
        await refresh();
      } catch (err: unknown) {
        // The hub names what is wrong (an unknown site or rule): shown as it says it, the draft kept.
        if (err instanceof ApiError && err.status === 400) error.textContent = err.message;
        else failed(err);
      }
    })();
  } },
  h('h2', {}, t('newSilence')),
  h('label', {}, t('sitesField'), sites),
  h('datalist', { id: 'site-options' }, ...[...state.sites.values()].map((s) => h('option', { value: s.slug }, s.name))),
  h('label', {}, t('rulesField'), rules),
  h('datalist', { id: 'rule-options' }, ...state.rules.map((r) => h('option', { value: r }))),
  h('div', { class: 'row' }, h('label', {}, t('duration'), hours), h('label', { class: 'check' }, maint, t('maintenance'))),
  h('label', {}, t('comment'), comment),
  error,
  h('button', { type: 'submit', class: 'primary' }, t('create')));
  return form;
}

function silenceRow(s: Silence): HTMLElement {
  const what = [...(s.sites ?? []).map(siteName), ...(s.areas ?? []), ...(s.rules ?? [])].join(', ') || '*';
  const del = h('button', { type: 'button', onclick: () => void (async () => {
    try {
      await api.deleteSilence(s.id);
      await refresh();
    } catch (err: unknown) {
      failed(err);
    }
  })() }, t('delete'));
  return h('article', { class: 'silence-row' }, h('div', { class: 'head' }, h('strong', {}, what), del),
    h('p', { class: 'meta' }, `${s.kind === 'maintenance' ? t('maintenance') : t('silences')} · ${t('until')} ${localTime(s.endsAt)} · ${t('by')} ${s.createdBy}`),
    s.comment === '' ? null : h('p', { class: 'text' }, s.comment));
}

void start();
