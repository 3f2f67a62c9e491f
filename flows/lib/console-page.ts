// The technician page: active alerts in Vietnamese and English, with an acknowledge button each.
import type { AlertRecord } from '../../protocol/index.ts';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderConsolePage(alerts: readonly AlertRecord[], error?: string): string {
  const rows = alerts
    .map(
      (a) => `<tr class="${esc(a.severity)}"><td>${esc(a.severity)}</td><td>${esc(a.state)}</td><td>${esc(a.site)}</td>
<td>${esc(a.summary.vi)}<br><small>${esc(a.summary.en)}</small></td><td>${new Date(a.since).toISOString().slice(0, 16).replace('T', ' ')}</td>
<td>${a.state === 'firing' ? `<form method="post" action="alerts/${encodeURIComponent(a.id)}/ack"><input name="by" placeholder="tên / name" required><button>Xác nhận / Ack</button></form>` : esc(a.ackedBy ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta http-equiv="refresh" content="30"><title>Cảnh báo IOC / IOC alerts</title>
<style>body{font-family:sans-serif;margin:1em}td,th{padding:.3em;border-bottom:1px solid #ddd;text-align:left}.critical td:first-child{color:#b00;font-weight:bold}.warning td:first-child{color:#b60}</style></head>
<body><h1>Cảnh báo đang mở / Active alerts (${alerts.length})</h1>${error === undefined ? '' : `<p>Hub: ${esc(error)}</p>`}
<table><tr><th>Mức</th><th>Trạng thái</th><th>Điểm</th><th>Nội dung</th><th>Từ (UTC)</th><th></th></tr>
${rows}</table></body></html>`;
}
