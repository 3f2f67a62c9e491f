// The users page, for admins: every login with its role and state; add one (a password made up by the hub is shown
// once), disable / enable, reset a password — each behind a confirmation where it ends sessions. Other roles see
// that only admins manage users (and the hub refuses them the API).
import { ApiError, type User } from './api.ts';
import { copyText, h } from './dom.ts';
import { fleetApi, type Login } from './fleet-api.ts';
import { tf } from './fleet-i18n.ts';
import { localTime, t, type Word } from './i18n.ts';
import './fleet.css';
import { startPage } from './page-session.ts';

const state = {
  users: [] as Login[],
  confirm: null as { name: string; action: 'disable' | 'reset' } | null,
};

const page = startPage({
  title: () => tf('usersTitle'),
  refreshMs: 15_000,
  body,
  refresh: async (user) => {
    if (user.role !== 'admin') return;
    try {
      state.users = (await fleetApi.users()).users;
      page.fine();
      renderList();
    } catch (err: unknown) {
      page.failed(err);
    }
  },
});

function body(user: User): HTMLElement {
  if (user.role !== 'admin') return h('main', {}, h('p', { class: 'empty', 'data-testid': 'admins-only' }, tf('adminsOnly')));
  return h('main', { class: 'users' }, h('h2', {}, tf('usersList')), h('div', { id: 'user-list', class: 'user-list' }), h('div', { id: 'issued' }), addForm());
}

const roleName = (role: Login['role']): string => t(`role_${role}` as Word);

function renderList(): void {
  document.getElementById('user-list')?.replaceChildren(...state.users.map(userRow));
}

function userRow(u: Login): HTMLElement {
  const c = state.confirm?.name === u.name ? state.confirm : null;
  const ask = (action: 'disable' | 'reset') => () => {
    state.confirm = { name: u.name, action };
    renderList();
  };
  const actions = c !== null
    ? h('div', { class: 'confirm', role: 'alertdialog' }, h('p', {}, c.action === 'disable' ? tf('confirmDisable') : tf('confirmReset')),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'danger', 'data-testid': `confirm-${c.action}`, onclick: (e: Event) => void act(u, c.action, e.currentTarget as HTMLButtonElement) }, tf('yes')),
        h('button', { type: 'button', onclick: () => { state.confirm = null; renderList(); } }, tf('cancel'))))
    : h('div', { class: 'row actions' },
      u.disabled
        ? h('button', { type: 'button', 'data-testid': 'enable', onclick: (e: Event) => void act(u, 'enable', e.currentTarget as HTMLButtonElement) }, tf('enable'))
        : h('button', { type: 'button', class: 'danger-outline', 'data-testid': 'disable', onclick: ask('disable') }, tf('disable')),
      h('button', { type: 'button', 'data-testid': 'reset', onclick: ask('reset') }, tf('resetPassword')));
  return h('article', { class: `user-row ${u.disabled ? 'disabled' : ''}`, 'data-user': u.name },
    h('div', { class: 'head' }, h('strong', {}, u.displayName), h('span', { 'data-testid': 'user-state' }, u.disabled ? tf('disabled') : tf('enabled'))),
    h('p', { class: 'meta' }, h('code', {}, u.name), ` · ${roleName(u.role)} · ${localTime(u.createdAt)}`),
    h('p', { class: 'error', role: 'alert' }),
    actions);
}

async function act(u: Login, action: 'disable' | 'enable' | 'reset', button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    if (action === 'reset') {
      const r = await fleetApi.resetPassword(u.name);
      if (r.password !== undefined) showPassword(u.name, r.password);
    } else await fleetApi.setDisabled(u.name, action === 'disable');
    state.confirm = null;
    state.users = (await fleetApi.users()).users;
    renderList();
  } catch (err: unknown) {
    button.disabled = false;
    // the hub says why (the last admin, a login gone): shown on the row
    if (err instanceof ApiError && (err.status === 409 || err.status === 404)) {
      const row = document.querySelector(`article[data-user="${CSS.escape(u.name)}"] .error`);
      if (row !== null) row.textContent = err.message;
    } else page.failed(err);
  }
}

function addForm(): HTMLElement {
  const name = h('input', { name: 'login', required: true, autocapitalize: 'none', pattern: '[a-z0-9][a-z0-9._\\-]{0,63}', 'data-testid': 'new-login' });
  const display = h('input', { name: 'display-name', 'data-testid': 'new-display-name' });
  const role = h('select', { name: 'role', 'data-testid': 'new-role' }, ...(['technician', 'operator', 'admin'] as const).map((r) => h('option', { value: r }, roleName(r))));
  const password = h('input', { name: 'new-password', type: 'password', autocomplete: 'new-password', minlength: '10' });
  const error = h('p', { class: 'error', id: 'user-error', role: 'alert' });
  return h('form', { class: 'add-user', onsubmit: (e: Event) => {
    e.preventDefault();
    void (async () => {
      try {
        const r = await fleetApi.addUser({ name: name.value.trim(), displayName: display.value.trim(), role: role.value, password: password.value });
        error.textContent = '';
        name.value = '';
        display.value = '';
        password.value = '';
        if (r.password !== undefined) showPassword(r.user.name, r.password);
        page.note(`${tf('userAdded')}: ${r.user.displayName} (${r.user.name})`);
        state.users = (await fleetApi.users()).users;
        renderList();
      } catch (err: unknown) {
        if (err instanceof ApiError && (err.status === 400 || err.status === 409)) error.textContent = err.message;
        else page.failed(err);
      }
    })();
  } },
  h('h2', {}, tf('addUser')),
  h('label', {}, tf('loginName'), name),
  h('label', {}, tf('displayName'), display),
  h('label', {}, tf('role'), role),
  h('label', {}, tf('passwordOptional'), password),
  error,
  h('button', { type: 'submit', class: 'primary', 'data-testid': 'add-user' }, tf('add')));
}

/** A password the hub made up: in the page only, until closed. */
function showPassword(name: string, password: string): void {
  const box = document.getElementById('issued');
  if (box === null) return;
  const copy = h('button', { type: 'button', onclick: () => void copyText(password).then((ok) => { copy.textContent = ok ? tf('copied') : tf('copy'); }) }, tf('copy'));
  box.replaceChildren(h('section', { class: 'issued', 'data-testid': 'issued', role: 'alert' },
    h('h2', {}, `${tf('passwordOf')} ${name}`),
    h('p', { class: 'once' }, tf('shownOnce')),
    h('div', { class: 'token-line' }, h('code', { class: 'token', 'data-testid': 'password' }, password), copy),
    h('button', { type: 'button', class: 'primary', onclick: () => box.replaceChildren() }, tf('done'))));
}
