// The one error base of the project: a stable `code` every caller may branch on, and the `cause` it wraps.
// Each component narrows `code` to its own catalogue (HubError, EdgeError, AlertError, JournalError, DecodeError).

export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `code` property of any error (ours, or a Node.js system error such as ENOENT); numbers as strings. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const { code } = err;
    if (typeof code === 'string') return code;
    if (typeof code === 'number') return String(code);
  }
  return undefined;
}
