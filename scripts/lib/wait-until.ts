// Polling until something is ready: the one helper the demo, the benchmarks and the tests (through testkit/wait.ts) share.

/**
 * Calls `fn` every `everyMs` until it returns a value — anything but `undefined` or `false` — and returns that
 * value. A throw counts as "not yet"; when `timeoutMs` has passed, the error names `what`, the time waited and
 * the last error `fn` threw.
 */
export async function waitUntil<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err: unknown) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)${lastErr instanceof Error ? ` (last error: ${lastErr.message})` : ''}`);
}
