// The fleet page: every enrolled agent with its site's Vietnamese name, version, config revision, OS and board,
// last seen (UTC+7 and "3 phút trước") and whether it is connected now, with filters; for an operator or admin, the
// enroll form (a site picked from the registry by searching its name) that shows the new token once with its
// agent.yaml, and rotate / revoke behind a confirmation. The hub refuses the writes to other roles anyway.
import { ApiError, type User } from './api.ts';
import { copyText, fold, h } from './dom.ts';
import { fleetApi, type FleetAgent, type FleetSite, type IssuedToken } from './fleet-api.ts';
import { relativeTime, tf } from './fleet-i18n.ts';
import { localTime } from './i18n.ts';
import './fleet.css';
import { startPage } from './page-session.ts';

type StateFilter = 'all' | 'online' | 'offline';

const state = {
  agents: [] as FleetAgent[],
  sites: new Map<string, FleetSite>(),
  search: '',
  online: 'all' as StateFilter,
  version: '',
  area: '',
  revoked: false,
  /** The row whose rotate or revoke waits for its confirmation. */
  confirm: null as { key: string; action: 'revoke' | 'rotate' } | null,
  issued: null as (IssuedToken & { kind: 'enroll' | 'rotate' }) | null,
};

const canWrite = (u: User): boolean => u.role === 'operator' || u.role === 'admin';
const keyOf = (a: { site: string; agent: string }): string => `${a.site}/${a.agent}`;
const siteName = (slug: string): string => state.sites.get(slug)?.name ?? slug;

const page = startPage({
  title: () => tf('fleetTitle'),
  refreshMs: 5000,
  body,
  refresh: async () => {
    try {
      const [agents, sites] = await Promise.all([fleetApi.agents(state.revoked), state.sites.size === 0 ? fleetApi.sites() : Promise.resolve(undefined)]);
      if (sites !== undefined) state.sites = new Map(sites.sites.map((s) => [s.slug, s]));
      state.agents = agents.agents;
      page.fine();
      renderList();
      fillSiteOptions();
    } catch (err: unknown) {
      page.failed(err);
    }
  },
});

function body(user: User): HTMLElement {
  return h('main', { class: 'fleet' },
    filters(),
    h('p', { class: 'asof', id: 'fleet-count' }),
    h('div', { id: 'agent-list', class: 'agent-list' }),
    h('div', { id: 'issued' }, ...issuedView()),
    canWrite(user) ? enrollForm() : h('p', { class: 'empty', 'data-testid': 'read-only' }, tf('readOnly')));
}

// ---- filters and the list

function filters(): HTMLElement {
  const search = h('input', { type: 'search', name: 'search', value: state.search, placeholder: tf('search'), 'aria-label': tf('search'), 'data-testid': 'fleet-search', oninput: (e: Event) => { state.search = (e.target as HTMLInputElement).value; renderList(); } });
  const online = h('select', { name: 'online', 'aria-label': tf('allStates'), onchange: (e: Event) => { state.online = (e.target as HTMLSelectElement).value as StateFilter; renderList(); } },
    ...(['all', 'online', 'offline'] as const).map((v) => h('option', { value: v, ...(v === state.online ? { selected: true } : {}) }, v === 'all' ? tf('allStates') : tf(v))));
  const version = h('select', { name: 'version', id: 'filter-version', 'aria-label': tf('version'), onchange: (e: Event) => { state.version = (e.target as HTMLSelectElement).value; renderList(); } });
  const area = h('select', { name: 'area', id: 'filter-area', 'aria-label': tf('allAreas'), onchange: (e: Event) => { state.area = (e.target as HTMLSelectElement).value; renderList(); } });
  const revoked = h('input', { type: 'checkbox', name: 'revoked', ...(state.revoked ? { checked: true } : {}), onchange: (e: Event) => { state.revoked = (e.target as HTMLInputElement).checked; void reload(); } });
  return h('div', { class: 'filters' }, search, online, version, area, h('label', { class: 'check' }, revoked, tf('showRevoked')));
}

async function reload(): Promise<void> {
  try {
    state.agents = (await fleetApi.agents(state.revoked)).agents;
    page.fine();
    renderList();
  } catch (err: unknown) {
    page.failed(err);
  }
}

/** The choices of a filter from the data (kept as chosen when the data lacks it). */
function fillSelect(id: string, values: string[], chosen: string, all: string, label: (v: string) => string): void {
  const sel = document.getElementById(id);
  if (!(sel instanceof HTMLSelectElement)) return;
  const list = [...new Set([...values, ...(chosen === '' ? [] : [chosen])])].sort();
  sel.replaceChildren(h('option', { value: '' }, all), ...list.map((v) => h('option', { value: v, ...(v === chosen ? { selected: true } : {}) }, label(v))));
}

function visible(): FleetAgent[] {
  const q = fold(state.search.trim());
  return state.agents.filter((a) => {
    if (state.online === 'online' && !a.online) return false;
    if (state.online === 'offline' && a.online) return false;
    if (state.version !== '' && a.version !== state.version) return false;
    if (state.area !== '' && a.area !== state.area) return false;
    return q === '' || fold(`${siteName(a.site)} ${a.site} ${a.agent}`).includes(q);
  });
}

function renderList(): void {
  const list = document.getElementById('agent-list');
  if (list === null) return;
  fillSelect('filter-version', state.agents.map((a) => a.version ?? '').filter((v) => v !== ''), state.version, tf('allVersions'), (v) => v);
  const areaNames = new Map([...state.sites.values()].map((s) => [s.area, s.areaName]));
  fillSelect('filter-area', state.agents.map((a) => a.area ?? '').filter((v) => v !== ''), state.area, tf('allAreas'), (v) => areaNames.get(v) || v);
  const rows = visible();
  const count = document.getElementById('fleet-count');
  if (count !== null) count.textContent = `${rows.length} / ${state.agents.length} ${tf('count')}`;
  list.replaceChildren(...(rows.length === 0 ? [h('p', { class: 'empty' }, tf('noAgents'))] : rows.map(agentRow)));
}

function agentRow(a: FleetAgent): HTMLElement {
  const user = page.user();
  const stateText = a.revokedAt !== null ? tf('revoked') : a.online ? tf('online') : tf('offline');
  const seen = a.lastSeen === null ? tf('never') : `${relativeTime(Date.parse(a.lastSeen))} · ${localTime(Date.parse(a.lastSeen))}`;
  const system = [a.os, a.kernel, a.boardModel].filter((x) => x !== null && x !== '').join(' · ') || '—';
  const actions = user !== null && canWrite(user) && a.revokedAt === null ? rowActions(a) : null;
  return h('article', { class: `agent-row ${a.revokedAt !== null ? 'revoked' : a.online ? 'up' : 'down'}`, 'data-site': a.site, 'data-agent': a.agent },
    h('div', { class: 'head' },
      h('span', { class: `dot ${a.online ? 'up' : 'down'}`, 'aria-hidden': 'true' }),
      h('strong', { class: 'site' }, siteName(a.site)),
      h('span', { class: 'state', 'data-testid': 'online' }, stateText)),
    h('p', { class: 'meta' }, h('code', {}, keyOf(a))),
    h('dl', { class: 'facts' },
      h('dt', {}, tf('version')), h('dd', { 'data-testid': 'version' }, a.version ?? '—'),
      h('dt', {}, tf('configRev')), h('dd', {}, a.configRev ?? '—'),
      h('dt', {}, tf('system')), h('dd', {}, system),
      h('dt', {}, tf('lastSeen')), h('dd', { 'data-testid': 'last-seen' }, seen)),
    actions);
}

function rowActions(a: FleetAgent): HTMLElement {
  const key = keyOf(a);
  const c = state.confirm;
  if (c !== null && c.key === key) {
    const yes = h('button', { type: 'button', class: c.action === 'revoke' ? 'danger' : 'primary', 'data-testid': `confirm-${c.action}`, onclick: (e: Event) => void act(a, c.action, e.currentTarget as HTMLButtonElement) }, c.action === 'revoke' ? tf('yesRevoke') : tf('yesRotate'));
    const no = h('button', { type: 'button', onclick: () => { state.confirm = null; renderList(); } }, tf('cancel'));
    return h('div', { class: 'confirm', role: 'alertdialog' }, h('p', {}, c.action === 'revoke' ? tf('confirmRevoke') : tf('confirmRotate')), h('div', { class: 'row' }, yes, no));
  }
  const ask = (action: 'revoke' | 'rotate') => () => {
    state.confirm = { key, action };
    renderList();
  };
  return h('div', { class: 'row actions' },
    h('button', { type: 'button', 'data-testid': 'rotate', onclick: ask('rotate') }, tf('rotate')),
    h('button', { type: 'button', class: 'danger-outline', 'data-testid': 'revoke', onclick: ask('revoke') }, tf('revoke')));
}

async function act(a: FleetAgent, action: 'revoke' | 'rotate', button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    if (action === 'revoke') {
      await fleetApi.revoke(a.site, a.agent);
      page.note(`${tf('revokedDone')}: ${siteName(a.site)} (${keyOf(a)})`);
    } else showIssued({ ...(await fleetApi.rotate(a.site, a.agent)), kind: 'rotate' });
    state.confirm = null;
    await reload();
  } catch (err: unknown) {
    button.disabled = false;
    page.failed(err);
  }
}

// ---- enroll, and the token shown once

let siteSearch: HTMLInputElement | undefined;
let sitePick: HTMLSelectElement | undefined;

function fillSiteOptions(): void {
  if (sitePick === undefined) return;
  const q = fold((siteSearch?.value ?? '').trim());
  const chosen = sitePick.value;
  const sites = [...state.sites.values()].filter((s) => q === '' || fold(`${s.name} ${s.slug} ${s.areaName}`).includes(q)).sort((x, y) => x.name.localeCompare(y.name, 'vi'));
  sitePick.replaceChildren(...sites.slice(0, 200).map((s) => h('option', { value: s.slug, ...(s.slug === chosen ? { selected: true } : {}) }, `${s.name} (${s.slug})`)));
  if (sitePick.value === '' && sites.length === 1 && sites[0] !== undefined) sitePick.value = sites[0].slug;
}

function enrollForm(): HTMLElement {
  siteSearch = h('input', { type: 'search', name: 'site-search', autocapitalize: 'none', 'data-testid': 'site-search', oninput: fillSiteOptions });
  sitePick = h('select', { name: 'site', size: '5', required: true, 'data-testid': 'site-pick' });
  const agent = h('input', { name: 'agent', value: 'pi-1', required: true, autocapitalize: 'none', pattern: '[a-z0-9-]{1,64}', 'data-testid': 'agent-id' });
  const hubUrl = h('input', { name: 'hub-url', autocapitalize: 'none', placeholder: 'mqtts://ioc.example.gov.vn:8883' });
  const error = h('p', { class: 'error', id: 'enroll-error', role: 'alert' });
  const pick = sitePick;
  fillSiteOptions();
  return h('form', { class: 'enroll', 'data-testid': 'enroll-form', onsubmit: (e: Event) => {
    e.preventDefault();
    void (async () => {
      try {
        const issued = await fleetApi.enroll(pick.value, agent.value.trim(), hubUrl.value.trim());
        error.textContent = '';
        showIssued({ ...issued, kind: 'enroll' });
        page.note(`${tf('enrolled')}: ${siteName(issued.site)} (${keyOf(issued)})`);
        await reload();
      } catch (err: unknown) {
        // The hub names what is wrong (an unknown site, a bad id): shown as it says it, the form kept.
        if (err instanceof ApiError && err.status === 400) error.textContent = err.message;
        else page.failed(err);
      }
    })();
  } },
  h('h2', {}, tf('enrollTitle')),
  h('label', {}, tf('siteSearch'), siteSearch),
  h('label', {}, tf('pickSite'), sitePick),
  h('label', {}, tf('agent'), agent),
  h('label', {}, tf('hubUrl'), hubUrl),
  error,
  h('button', { type: 'submit', class: 'primary', 'data-testid': 'enroll' }, tf('enroll')));
}

function copyButton(text: string, testid: string): HTMLButtonElement {
  const b = h('button', { type: 'button', 'data-testid': testid, onclick: () => void copyText(text).then((ok) => { b.textContent = ok ? tf('copied') : tf('copy'); }) }, tf('copy'));
  return b;
}

/** The token and agent.yaml, in the page only (never stored): gone once closed or reloaded. */
function showIssued(issued: (IssuedToken & { kind: 'enroll' | 'rotate' }) | null): void {
  state.issued = issued;
  const box = document.getElementById('issued');
  if (box === null) return;
  box.replaceChildren(...issuedView());
  box.scrollIntoView({ block: 'nearest' });
}

function issuedView(): HTMLElement[] {
  const issued = state.issued;
  if (issued === null) return [];
  return [h('section', { class: 'issued', 'data-testid': 'issued', role: 'alert' },
    h('h2', {}, `${tf('tokenTitle')} ${siteName(issued.site)} (${keyOf(issued)})`),
    h('p', { class: 'once' }, tf('shownOnce')),
    h('div', { class: 'token-line' }, h('code', { class: 'token', 'data-testid': 'token' }, issued.token), copyButton(issued.token, 'copy-token')),
    h('h3', {}, tf('configSnippet')),
    h('pre', { class: 'snippet', 'data-testid': 'config' }, issued.config),
    h('div', { class: 'row' }, copyButton(issued.config, 'copy-config'), h('button', { type: 'button', class: 'primary', 'data-testid': 'issued-done', onclick: () => showIssued(null) }, tf('done'))))];
}
