// The "lost the hub" banner of every console page: fixed at the top, above the page's own content (so a page that
// redraws itself never removes it), with the hub time of the last data it had; gone as soon as the stream is back.
import { live, type Live, type LiveStatus } from './live.ts';
import { currentLang, t } from './i18n.ts';

/** HH:MM:SS in Vietnam's time (the console's times are UTC+7 whatever the browser's zone). */
export function clockTime(ms: number): string {
  return new Intl.DateTimeFormat(currentLang() === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(ms));
}

export function lostText(s: Pick<LiveStatus, 'asOf'>): string {
  return s.asOf === null ? t('lostHubNoData') : `${t('lostHubAsOf')} ${clockTime(s.asOf)}`;
}

/** Shows the banner while `source` says the hub is lost; returns a function that removes it. */
export function mountLostBanner(source: Pick<Live, 'onStatus'> = live): () => void {
  const el = document.createElement('div');
  el.className = 'lost-banner';
  el.setAttribute('role', 'alert');
  el.setAttribute('data-testid', 'lost-banner');
  el.hidden = true;
  document.body.prepend(el);
  let last: LiveStatus | undefined;
  const draw = (s: LiveStatus): void => {
    last = s;
    const lost = !s.connected && s.lostSince !== null;
    el.hidden = !lost;
    el.textContent = lost ? lostText(s) : '';
    document.body.classList.toggle('hub-lost', lost);
  };
  const off = source.onStatus(draw);
  // The language toggle redraws the page, not this: follow it.
  const onLang = (): void => {
    if (last !== undefined) draw(last);
  };
  document.addEventListener('ioc-lang', onLang);
  return () => {
    off();
    document.removeEventListener('ioc-lang', onLang);
    el.remove();
  };
}
