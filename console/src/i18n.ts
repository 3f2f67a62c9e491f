// The console's words, Vietnamese first; English by the toggle (kept in localStorage). Times are shown in Vietnam's
// time (UTC+7) whatever the browser's zone.
export type Lang = 'vi' | 'en';

const WORDS = {
  title: { vi: 'Trung tâm IOC — Cảnh báo', en: 'IOC — Alerts' },
  login: { vi: 'Đăng nhập', en: 'Log in' },
  logout: { vi: 'Đăng xuất', en: 'Log out' },
  username: { vi: 'Tên đăng nhập', en: 'Username' },
  password: { vi: 'Mật khẩu', en: 'Password' },
  loginFailed: { vi: 'Sai tên đăng nhập hoặc mật khẩu', en: 'Wrong username or password' },
  throttled: { vi: 'Đăng nhập sai quá nhiều lần, thử lại sau', en: 'Too many failed logins, try again later' },
  incidents: { vi: 'Sự cố đang mở', en: 'Open incidents' },
  silences: { vi: 'Tạm tắt cảnh báo', en: 'Silences' },
  history: { vi: 'Lịch sử', en: 'History' },
  none: { vi: 'Không có sự cố nào đang mở', en: 'No open incident' },
  noSilence: { vi: 'Không có lệnh tạm tắt nào', en: 'No active silence' },
  noHistory: { vi: 'Chưa có cảnh báo đã kết thúc', en: 'No resolved alert yet' },
  ack: { vi: 'Xác nhận', en: 'Ack' },
  ackedBy: { vi: 'Đã xác nhận bởi', en: 'Acknowledged by' },
  since: { vi: 'Từ', en: 'Since' },
  parts: { vi: 'Gồm', en: 'Parts' },
  sitesCount: { vi: 'điểm', en: 'sites' },
  firing: { vi: 'Đang báo', en: 'Firing' },
  acknowledged: { vi: 'Đã xác nhận', en: 'Acknowledged' },
  resolved: { vi: 'Đã hết', en: 'Resolved' },
  pending: { vi: 'Chờ', en: 'Pending' },
  critical: { vi: 'Nghiêm trọng', en: 'Critical' },
  warning: { vi: 'Cảnh báo', en: 'Warning' },
  info: { vi: 'Thông tin', en: 'Info' },
  suppressed: { vi: 'Đang tạm tắt', en: 'Muted' },
  newSilence: { vi: 'Tạm tắt mới', en: 'New silence' },
  sitesField: { vi: 'Điểm (mã xã, cách nhau bởi dấu phẩy)', en: 'Sites (slugs, comma-separated)' },
  rulesField: { vi: 'Luật cảnh báo (để trống: mọi luật)', en: 'Rules (empty: every rule)' },
  duration: { vi: 'Thời gian', en: 'Duration' },
  comment: { vi: 'Ghi chú', en: 'Comment' },
  maintenance: { vi: 'Bảo trì', en: 'Maintenance' },
  create: { vi: 'Tạo', en: 'Create' },
  delete: { vi: 'Xoá', en: 'Delete' },
  until: { vi: 'Đến', en: 'Until' },
  by: { vi: 'Người tạo', en: 'By' },
  lostHub: { vi: 'Mất kết nối tới hub — dữ liệu có thể đã cũ', en: 'Lost the hub — data may be stale' },
  dataAsOf: { vi: 'Dữ liệu lúc', en: 'Data as of' },
  ended: { vi: 'Phiên đăng nhập đã hết, hãy đăng nhập lại', en: 'Your session has ended, log in again' },
  created: { vi: 'Đã tạo lệnh tạm tắt', en: 'Silence created' },
  needSite: { vi: 'Cần ít nhất một điểm hoặc một luật', en: 'Give at least one site or rule' },
  role_technician: { vi: 'kỹ thuật viên', en: 'technician' },
  role_operator: { vi: 'điều hành', en: 'operator' },
  role_admin: { vi: 'quản trị', en: 'admin' },
  hours: { vi: 'giờ', en: 'h' },
  lostHubAsOf: { vi: 'Mất kết nối tới hub — dữ liệu lúc', en: 'Lost the hub — data as of' },
  lostHubNoData: { vi: 'Mất kết nối tới hub', en: 'Lost the hub' },
} as const satisfies Record<string, Record<Lang, string>>;

export type Word = keyof typeof WORDS;

let lang: Lang = localStorage.getItem('ioc-lang') === 'en' ? 'en' : 'vi';

export function currentLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem('ioc-lang', l);
  document.documentElement.lang = l;
  document.dispatchEvent(new Event('ioc-lang')); // parts drawn apart from the page (banner.ts) follow
}

export function t(w: Word): string {
  return WORDS[w][lang];
}

/** `01/12/2026 09:05 (UTC+7)`: Vietnam's time whatever the browser's zone. */
export function localTime(ms: number): string {
  const f = new Intl.DateTimeFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
  return `${f.format(new Date(ms))} (UTC+7)`;
}
