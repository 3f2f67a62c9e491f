// Maps network errors to the stable `result` codes written in net_probe readings.
import { errorCode } from '../errors.ts';

export type ProbeResult =
  | 'ok'
  | 'timeout'
  | 'refused'
  | 'dns_error'
  | 'unreachable'
  | 'reset'
  | 'tls_error'
  | 'bad_status'
  | 'text_mismatch'
  | 'loss'
  | 'no_ping'
  | 'error';

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

export function resultFromError(err: unknown, timedOut: boolean): ProbeResult {
  if (timedOut) return 'timeout';
  const code = errorCode(err);
  if (code === undefined) {
    if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return 'timeout';
    return 'error';
  }
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return 'dns_error';
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'unreachable';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    default:
      if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_')) return 'tls_error';
      return 'error';
  }
}
