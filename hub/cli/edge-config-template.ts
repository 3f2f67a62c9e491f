// The ready-to-use edge agent YAML printed by `ioc-hub enroll`.
import { stringify } from 'yaml';

export const PROVINCIAL_PORTAL = 'https://dichvucong.vinhphuc.gov.vn';

export interface EdgeConfigInput {
  site: string;
  agent: string;
  token: string;
  hubUrl: string;
  /** The hub requires a client certificate (mTLS): the config names the files the agent presents. */
  clientCertificate?: boolean;
}

/** Where the agent's TLS files go on the Pi. */
export const EDGE_TLS_DIR = '/etc/ioc-edge/tls';

export function edgeConfigYaml(input: EdgeConfigInput): string {
  const hubHost = new URL(input.hubUrl).hostname;
  const hubPort = Number(new URL(input.hubUrl).port || (input.hubUrl.startsWith('mqtts:') ? 8883 : 1883));
  const doc = {
    site: input.site,
    agent: input.agent,
    hub: {
      url: input.hubUrl,
      token: input.token,
      // A hub with a private CA: its certificate, and for mTLS this agent's (CN {site}/{agent}), signed by it.
      ...(input.hubUrl.startsWith('mqtts:') && input.clientCertificate === true
        ? { caFile: `${EDGE_TLS_DIR}/ca.crt`, certFile: `${EDGE_TLS_DIR}/agent.crt`, keyFile: `${EDGE_TLS_DIR}/agent.key` }
        : {}),
    },
    dataDir: '/var/lib/ioc-edge',
    // The default probes of a commune office: its gateway, the hub, and the provincial portal.
    collectors: [
      { type: 'icmp', name: 'gateway', host: 'gateway', intervalS: 30 },
      { type: 'icmp', name: 'hub', host: hubHost, intervalS: 30 },
      { type: 'tcp', name: 'hub-mqtt', host: hubHost, port: hubPort, intervalS: 30 },
      { type: 'http', name: 'portal', url: PROVINCIAL_PORTAL, intervalS: 60, timeoutMs: 15000 },
      { type: 'dns', name: 'dns-portal', query: new URL(PROVINCIAL_PORTAL).hostname, intervalS: 60 },
      { type: 'net_iface', intervalS: 30 },
      { type: 'uplink', intervalS: 15 },
      { type: 'host', intervalS: 30 },
    ],
  };
  // Comments and one YAML document only: `ioc-hub enroll > agent.yaml` must give a file `ioc-edge check-config` accepts.
  return [
    `# ioc-edge config for ${input.site}/${input.agent}, written by ioc-hub enroll.`,
    '# hub.token is shown only once (the hub keeps its hash): keep this file private (chmod 600).',
    stringify(doc),
  ].join('\n');
}
