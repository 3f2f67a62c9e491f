// Errors of the alert engine and its API, each with a stable code.

export type AlertErrorCode = 'E_ALERT_NOT_FOUND' | 'E_ALERT_STATE' | 'E_SILENCE_NOT_FOUND' | 'E_ALERT_INPUT' | 'E_ALERT_STATE_FILE';

export class AlertError extends Error {
  readonly code: AlertErrorCode;
  constructor(code: AlertErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlertError';
    this.code = code;
  }
}
