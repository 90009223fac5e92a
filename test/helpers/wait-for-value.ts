// Waiting on a value in tests: poll until a probe returns one or a deadline passes, never a bare sleep.

/** Options of {@link waitForValue}. */
export interface WaitForValueOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** How often to ask again (default 25 ms). */
  intervalMs?: number;
  /** What is being waited for, for the timeout error ("memtop's first snapshot"). */
  what: string;
}

/**
 * Ask `probe` until it returns something other than undefined, null or false, and return that.
 * Throws when `timeoutMs` passes first, naming `what` and, if `describe` is given, the state
 * at the time (e.g. the last lines a child printed).
 */
export async function waitForValue<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitForValueOptions,
  describe?: () => string,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 25;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline) {
      const state = describe ? `\n${describe()}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${state}`);
    }
    await new Promise(resolve => setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))));
  }
}
