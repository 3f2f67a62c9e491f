// The hub's error type: every error carries a stable code (see HubErrorCode) and, when wrapping, a cause.

export type HubErrorCode =
  | 'E_CONFIG'
  | 'E_REGISTRY_IO'
  | 'E_REGISTRY_CORRUPT'
  | 'E_UNKNOWN_SITE'
  | 'E_BAD_SLUG'
  | 'E_CSV'
  | 'E_UNKNOWN_PROVINCE'
  | 'E_SEVERAL_PROVINCES'
  | 'E_AUTH'
  | 'E_PUBLISH_DENIED'
  | 'E_INGEST_STOPPED'
  | 'E_SINK_WRITE'
  | 'E_SINK_REJECTED'
  | 'E_SINK_SETUP'
  | 'E_SPOOL'
  | 'E_USAGE'
  | 'E_AUDIT';

export class HubError extends Error {
  readonly code: HubErrorCode;
  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
