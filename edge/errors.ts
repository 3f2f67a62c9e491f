// The edge error catalogue: every error thrown by edge code carries one of these stable codes.
import { CodedError, errorCode, errorMessage } from '../common/errors.ts';

export type EdgeErrorCode =
  | 'E_CONFIG'
  | 'E_CONFIG_READ'
  | 'E_SEQ_STORE'
  | 'E_OUTBOX'
  | 'E_LINK'
  | 'E_USAGE'
  | 'E_CREDENTIALS'
  | 'E_GPIO_UNAVAILABLE'
  | 'E_GPIO'
  | 'E_GPIO_BUSY'
  | 'E_QUEUE_LISTEN'
  | 'E_MODBUS'
  | 'E_UPDATE';

export class EdgeError extends CodedError<EdgeErrorCode> {}

export function isEdgeError(err: unknown): err is EdgeError {
  return err instanceof EdgeError;
}

export { errorCode, errorMessage };
