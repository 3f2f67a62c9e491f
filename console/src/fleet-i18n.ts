// The words of the fleet and users pages, Vietnamese first (the language is i18n.ts's: one toggle for every page),
// and "3 phút trước" for a last seen.
import { currentLang, type Lang } from './i18n.ts';

const WORDS = {
  fleetTitle: { vi: 'Trung tâm IOC — Thiết bị tại xã', en: 'IOC — Fleet' },
  usersTitle: { vi: 'Trung tâm IOC — Người dùng', en: 'IOC — Users' },
  navAlerts: { vi: 'Cảnh báo', en: 'Alerts' },
  navFleet: { vi: 'Thiết bị', en: 'Fleet' },
  navUsers: { vi: 'Người dùng', en: 'Users' },
  agents: { vi: 'Thiết bị', en: 'Agents' },
  site: { vi: 'Xã/phường', en: 'Site' },
  agent: { vi: 'Mã thiết bị', en: 'Agent id' },
  version: { vi: 'Phiên bản', en: 'Version' },
  configRev: { vi: 'Cấu hình', en: 'Config rev.' },
  system: { vi: 'Hệ điều hành / bo mạch', en: 'OS / board' },
  lastSeen: { vi: 'Lần cuối', en: 'Last seen' },
  never: { vi: 'chưa từng kết nối', en: 'never connected' },
  online: { vi: 'Trực tuyến', en: 'Online' },
  offline: { vi: 'Mất kết nối', en: 'Offline' },
  revoked: { vi: 'Đã thu hồi', en: 'Revoked' },
  search: { vi: 'Tìm (tên xã, mã)', en: 'Search (site, id)' },
  allStates: { vi: 'Mọi trạng thái', en: 'Any state' },
  allVersions: { vi: 'Mọi phiên bản', en: 'Any version' },
  allAreas: { vi: 'Mọi khu vực', en: 'Any area' },
  showRevoked: { vi: 'Hiện cả thiết bị đã thu hồi', en: 'Show revoked agents' },
  noAgents: { vi: 'Không có thiết bị nào khớp', en: 'No agent matches' },
  count: { vi: 'thiết bị', en: 'agents' },
  enrollTitle: { vi: 'Đăng ký thiết bị mới', en: 'Enroll an agent' },
  siteSearch: { vi: 'Tìm xã/phường', en: 'Find the site' },
  pickSite: { vi: 'Chọn xã/phường', en: 'Pick a site' },
  hubUrl: { vi: 'Địa chỉ MQTT của hub (để trống: mặc định)', en: 'Hub MQTT address (empty: default)' },
  enroll: { vi: 'Đăng ký', en: 'Enroll' },
  rotate: { vi: 'Cấp lại mã', en: 'Rotate token' },
  revoke: { vi: 'Thu hồi', en: 'Revoke' },
  cancel: { vi: 'Huỷ', en: 'Cancel' },
  confirmRevoke: { vi: 'Thu hồi thiết bị này? Kết nối sẽ bị ngắt ngay và mã cũ bị từ chối.', en: 'Revoke this agent? Its connection closes at once and its token is refused.' },
  confirmRotate: { vi: 'Cấp mã mới? Mã cũ bị từ chối ngay, thiết bị cần cấu hình mới.', en: 'Issue a new token? The old one is refused at once; the agent needs the new config.' },
  yesRevoke: { vi: 'Đồng ý thu hồi', en: 'Yes, revoke' },
  yesRotate: { vi: 'Đồng ý cấp lại', en: 'Yes, rotate' },
  tokenTitle: { vi: 'Mã truy cập của', en: 'Token of' },
  shownOnce: { vi: 'Chỉ hiển thị MỘT LẦN: hãy sao chép và lưu ngay. Hub chỉ giữ bản băm, không thể xem lại.', en: 'Shown ONCE: copy and keep it now. The hub keeps only its hash; it cannot be shown again.' },
  copy: { vi: 'Sao chép', en: 'Copy' },
  copied: { vi: 'Đã sao chép', en: 'Copied' },
  configSnippet: { vi: 'Cấu hình cho thiết bị (/etc/ioc-edge/agent.yaml, chmod 600)', en: 'Agent config (/etc/ioc-edge/agent.yaml, chmod 600)' },
  done: { vi: 'Tôi đã lưu — đóng', en: 'Saved — close' },
  enrolled: { vi: 'Đã đăng ký', en: 'Enrolled' },
  revokedDone: { vi: 'Đã thu hồi', en: 'Revoked' },
  readOnly: { vi: 'Vai trò của bạn chỉ được xem danh sách.', en: 'Your role may only view the list.' },
  usersList: { vi: 'Tài khoản', en: 'Logins' },
  addUser: { vi: 'Thêm người dùng', en: 'Add a user' },
  loginName: { vi: 'Tên đăng nhập', en: 'Login' },
  displayName: { vi: 'Họ và tên', en: 'Full name' },
  role: { vi: 'Vai trò', en: 'Role' },
  passwordOptional: { vi: 'Mật khẩu (để trống: hub tạo)', en: 'Password (empty: made up by the hub)' },
  add: { vi: 'Thêm', en: 'Add' },
  disable: { vi: 'Khoá', en: 'Disable' },
  enable: { vi: 'Mở khoá', en: 'Enable' },
  resetPassword: { vi: 'Đặt lại mật khẩu', en: 'Reset password' },
  confirmReset: { vi: 'Đặt mật khẩu mới? Mọi phiên đăng nhập của người này kết thúc.', en: 'Set a new password? Their sessions end.' },
  confirmDisable: { vi: 'Khoá tài khoản này? Mọi phiên đăng nhập kết thúc ngay.', en: 'Disable this login? Their sessions end at once.' },
  yes: { vi: 'Đồng ý', en: 'Yes' },
  disabled: { vi: 'Đã khoá', en: 'Disabled' },
  enabled: { vi: 'Đang dùng', en: 'Enabled' },
  passwordOf: { vi: 'Mật khẩu của', en: 'Password of' },
  adminsOnly: { vi: 'Chỉ quản trị viên được quản lý người dùng.', en: 'Only admins manage users.' },
  userAdded: { vi: 'Đã thêm', en: 'Added' },
} as const satisfies Record<string, Record<Lang, string>>;

export type FleetWord = keyof typeof WORDS;

export function tf(w: FleetWord): string {
  return WORDS[w][currentLang()];
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000], ['second', 1000]];

/** "3 phút trước" / "3 minutes ago"; "vừa xong" / "now" under 10 s. */
export function relativeTime(ms: number, now = Date.now()): string {
  const d = ms - now;
  const f = new Intl.RelativeTimeFormat(currentLang() === 'vi' ? 'vi' : 'en', { numeric: 'auto' });
  if (Math.abs(d) < 10_000) return f.format(0, 'second');
  for (const [unit, size] of UNITS) if (Math.abs(d) >= size) return f.format(Math.trunc(d / size), unit);
  return f.format(0, 'second');
}
