// Following a tracer, one policy for the TUI, batch mode and the exporter: restart it with backoff
// when it dies, until the view's AbortSignal fires, the traced process has exited, a recording
// has no more, or (where no screen shows a retry) it fails before its first snapshot.
import {TracerError} from '../types.js';
import {processExists} from '../system/process-names.js';

/** How following ended, when it was not aborted. */
export type FollowEnd =
  /** The source has no more (a replay's end). */
  | {kind: 'ended'}
  /** The traced process has exited; `items` snapshots came before (0: it exited before its first). */
  | {kind: 'exited'; error: TracerError; items: number}
  /** The tracer failed before its first snapshot and `failFast` was asked. */
  | {kind: 'failed'; error: TracerError};

export interface FollowOptions<T> {
  start: (signal: AbortSignal) => AsyncIterable<T>;
  onItem: (item: T) => void;
  /** The tracer failed and starts again in `retryInMs`. */
  onRetry: (error: TracerError, retryInMs: number) => void;
  signal: AbortSignal;
  /** The traced process: following ends once it has exited (a slab cache does not go away). */
  pid?: number;
  /** End with 'failed' when the tracer fails before its first snapshot (batch mode; the TUI and the exporter retry). */
  failFast?: boolean;
  /** Whether `pid` is alive (tests). */
  exists?: (pid: number) => boolean;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

function asTracerError(error: unknown): TracerError {
  if (error instanceof TracerError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TracerError(message.split('\n')[0] ?? 'tracer failed');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, {once: true});
  });
}

/** The one line that says a tracer failed and when it starts again. */
export function restartText(error: TracerError, retryInMs: number, options: {hint?: boolean} = {}): string {
  const hint = options.hint && error.hint ? ` (${error.hint})` : '';
  return `${error.message}${hint}; restarting in ${Math.round(retryInMs / 1000)}s`;
}

/** The one line that says the traced process has exited and what of it is shown. */
export function exitedText(pid: number | undefined, what: string): string {
  return `process ${pid} has exited; ${what}`;
}

/**
 * Run the tracer until aborted (resolves undefined) or until the policy ends it (resolves how),
 * restarting it with exponential backoff when it fails.
 */
export async function follow<T>(options: FollowOptions<T>): Promise<FollowEnd | undefined> {
  const first = options.firstDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const exists = options.exists ?? processExists;
  let delay = first;
  let items = 0;
  while (!options.signal.aborted) {
    let gotItem = false;
    try {
      for await (const item of options.start(options.signal)) {
        if (options.signal.aborted) return undefined;
        gotItem = true;
        items++;
        delay = first;
        options.onItem(item);
      }
      if (options.signal.aborted) return undefined;
      throw new TracerError('the tracer stopped');
    } catch (error) {
      if (options.signal.aborted) return undefined;
      const failure = asTracerError(error);
      if (failure.ended) return {kind: 'ended'};
      if (options.pid !== undefined && !exists(options.pid)) return {kind: 'exited', error: failure, items};
      if (options.failFast && items === 0) return {kind: 'failed', error: failure};
      options.onRetry(failure, delay);
      await sleep(delay, options.signal);
      delay = gotItem ? first : Math.min(max, delay * 2);
    }
  }
  return undefined;
}
