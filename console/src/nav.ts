// Links between the console's pages, above each page's own frame; the users page only for an admin. Follows the
// language toggle of any page (it watches <html lang>). A page is added to PAGES with one line.
import { api } from './api.ts';
import { h } from './dom.ts';
import { tf, type FleetWord } from './fleet-i18n.ts';
import './nav.css';

interface NavPage {
  href: string;
  word: FleetWord;
  admin?: true;
}

const PAGES: NavPage[] = [
  { href: '/', word: 'navAlerts' },
  { href: '/fleet.html', word: 'navFleet' },
  { href: '/users.html', word: 'navUsers', admin: true },
];

let isAdmin = false;

function current(href: string): boolean {
  const path = location.pathname;
  return href === '/' ? path === '/' || path === '/index.html' : path === href;
}

function renderNav(): void {
  const nav = document.getElementById('pages') ?? h('nav', { id: 'pages', class: 'pages', 'aria-label': 'IOC' });
  nav.replaceChildren(...PAGES.filter((p) => p.admin !== true || isAdmin).map((p) => h('a', { href: p.href, ...(current(p.href) ? { 'aria-current': 'page' } : {}) }, tf(p.word))));
  if (nav.parentNode === null) document.body.prepend(nav);
}

/** After a login or logout on the page: shows or hides the admin's pages. */
export function refreshNav(): void {
  void api
    .session()
    .then((s) => {
      isAdmin = s.user?.role === 'admin';
      renderNav();
    })
    .catch(() => undefined);
}

renderNav();
refreshNav();
new MutationObserver(renderNav).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
