// The wall screens' rotation: every province-level dashboard, one minute each.
import * as playlist from '@grafana/grafana-foundation-sdk/playlistv1';
import { DASHBOARDS } from './common.ts';

export function wallPlaylist(): playlist.Playlist {
  const items = [DASHBOARDS.wall, DASHBOARDS.connectivity, DASHBOARDS.queues, DASHBOARDS.equipment, DASHBOARDS.alerts];
  return new playlist.PlaylistBuilder('Tường IOC / IOC wall rotation')
    .interval('1m')
    .items(items.map((d) => new playlist.ItemBuilder().type('dashboard_by_uid').value(d.uid)))
    .build();
}
