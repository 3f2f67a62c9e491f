// The frame of the fleet and users pages: header (who, language, log out), the banner (lost hub, messages), a
// login form when nobody is logged in; the page draws its body once logged in and refreshes its data.
import { api, ApiError, resumeSession, setCsrf, type User } from './api.ts';
import { h } from './dom.ts';
import { currentLang, setLang, t, type Word } from './i18n.ts';
import { refreshNav } from './nav.ts';
import './style.css';

export interface PageSpec {
  title: () => string;
  /** Draws the page's body for the logged-in user (called again on a language toggle). */
  body: (user: User) => HTMLElement;
  /** Loads and draws the data parts (every refreshMs while logged in). */
  refresh: (user: User) => Promise<void>;
  refreshMs: number;
}

export interface Page {
  user: () => User | null;
  /** An error of a call: a 401 logs out, a network failure shows the lost-hub banner, others the hub's message. */
  failed: (err: unknown) => void;
  note: (message: string) => void;
  /** The data loaded fine: clears the lost-hub banner. */
  fine: () => void;
  redraw: () => void;
}

export function startPage(spec: PageSpec): Page {
  const app = document.getElementById('app') ?? document.body;
  const state = { user: null as User | null, lost: false, message: '' };
  let timer: number | undefined;

  const banner = (): void => {
    const b = document.getElementById('banner');
    if (b === null) return;
    b.className = state.lost ? 'banner lost' : state.message !== '' ? 'banner note' : 'banner';
    b.textContent = state.lost ? t('lostHub') : state.message;
  };

  const refresh = async (): Promise<void> => {
    if (state.user !== null) await spec.refresh(state.user);
  };

  const render = (): void => {
    document.title = spec.title();
    const toggle = h('button', { type: 'button', class: 'lang', 'data-testid': 'lang', onclick: () => { setLang(currentLang() === 'vi' ? 'en' : 'vi'); render(); void refresh(); } }, currentLang() === 'vi' ? 'English' : 'Tiếng Việt');
    const u = state.user;
    const who = u === null ? null : h('span', { class: 'who', 'data-testid': 'who' }, `${u.displayName} (${t(`role_${u.role}` as Word)})`);
    const out = u === null ? null : h('button', { type: 'button', onclick: () => void logout() }, t('logout'));
    app.replaceChildren(h('header', {}, h('h1', {}, spec.title()), h('div', { class: 'bar' }, who, toggle, out)), h('div', { id: 'banner', role: 'status' }), u === null ? loginView() : spec.body(u));
    banner();
  };

  const loginView = (): HTMLElement => {
    const user = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
    const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const form = h('form', { class: 'login', onsubmit: (e: Event) => { e.preventDefault(); void login(user.value, pass.value); } },
      h('label', {}, t('username'), user), h('label', {}, t('password'), pass), h('button', { type: 'submit', class: 'primary' }, t('login')));
    return h('main', {}, form);
  };

  const loggedIn = async (): Promise<void> => {
    refreshNav();
    render();
    await refresh();
    if (timer !== undefined) clearInterval(timer);
    timer = window.setInterval(() => void refresh(), spec.refreshMs);
  };

  const login = async (username: string, password: string): Promise<void> => {
    try {
      const r = await api.login(username, password);
      setCsrf(r.csrf);
      state.user = r.user;
      state.message = '';
      state.lost = false;
      await loggedIn();
    } catch (err: unknown) {
      state.message = err instanceof ApiError ? (err.status === 429 ? t('throttled') : t('loginFailed')) : '';
      state.lost = !(err instanceof ApiError);
      banner();
    }
  };

  const logout = async (): Promise<void> => {
    try {
      await api.logout();
    } catch {
      // the session may have ended already
    }
    state.user = null;
    if (timer !== undefined) clearInterval(timer);
    refreshNav();
    render();
  };

  const page: Page = {
    user: () => state.user,
    failed(err: unknown) {
      if (err instanceof ApiError && err.status === 401) {
        state.user = null;
        state.message = t('ended');
        if (timer !== undefined) clearInterval(timer);
        render();
        return;
      }
      state.lost = !(err instanceof ApiError);
      state.message = err instanceof ApiError ? err.message : '';
      banner();
    },
    note(message: string) {
      state.message = message;
      banner();
    },
    fine() {
      if (!state.lost) return;
      state.lost = false;
      banner();
    },
    redraw: render,
  };

  void (async () => {
    setLang(currentLang());
    const resumed = await resumeSession();
    state.user = resumed.user;
    if (resumed.lost) state.lost = true;
    if (state.user !== null) await loggedIn();
    else render();
  })();
  return page;
}
