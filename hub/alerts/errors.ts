// Errors of the alert engine and its API, each with a stable code.
import { CodedError } from '../../common/errors.ts';

export type AlertErrorCode = 'E_ALERT_NOT_FOUND' | 'E_ALERT_STATE' | 'E_SILENCE_NOT_FOUND' | 'E_ALERT_INPUT' | 'E_ALERT_STATE_FILE';

export class AlertError extends CodedError<AlertErrorCode> {}
