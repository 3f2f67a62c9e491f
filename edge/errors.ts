// The edge error catalogue: every error thrown by edge code carries one of these stable codes.

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
  | 'E_MODBUS';

export class EdgeError extends Error {
  readonly code: EdgeErrorCode;
  constructor(code: EdgeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EdgeError';
    this.code = code;
  }
}

export function isEdgeError(err: unknown): err is EdgeError {
  return err instanceof EdgeError;
}

/** The `code` property of a Node.js system error, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const { code } = err;
    if (typeof code === 'string') return code;
    if (typeof code === 'number') return String(code);
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
