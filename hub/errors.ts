// The hub's error type: every error carries a stable code (see HubErrorCode) and, when wrapping, a cause.
import { CodedError, errorCode, errorMessage } from '../common/errors.ts';

export type HubErrorCode =
  | 'E_CONFIG'
  | 'E_REGISTRY_IO'
  | 'E_REGISTRY_CORRUPT'
  | 'E_REGISTRY_LOCKED'
  | 'E_REGISTRY_VERSION'
  | 'E_UNKNOWN_AGENT'
  | 'E_HUB_SECRET'
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
  | 'E_AUDIT'
  | 'E_ACCOUNTS'
  | 'E_RELEASE'
  | 'E_ROLLOUT'
  | 'E_CONFIG_INVALID'
  | 'E_CONFIG_SCOPE';

export class HubError extends CodedError<HubErrorCode> {}

export { errorCode, errorMessage };
