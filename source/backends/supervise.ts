// Keeps one tracer running for a view: restarts it with backoff when it dies, keeps going
// until the view's AbortSignal fires. Shared by the TUI and batch mode.
import {TracerError} from '../types.js';

export interface SuperviseOptions<T> {
  start: (signal: AbortSignal) => AsyncIterable<T>;
  onItem: (item: T) => void;
  /** Called with the reason and the delay before the next attempt (undefined: not retrying). */
  onError: (error: TracerError, retryInMs: number | undefined) => void;
  signal: AbortSignal;
  /** Stop retrying and return when this says so (e.g. the traced process is gone). */
  giveUp?: (error: TracerError) => boolean;
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

/** Run the tracer until aborted, restarting it with exponential backoff when it fails. */
export async function supervise<T>(options: SuperviseOptions<T>): Promise<void> {
  const first = options.firstDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  let delay = first;
  while (!options.signal.aborted) {
    let gotItem = false;
    try {
      for await (const item of options.start(options.signal)) {
        if (options.signal.aborted) return;
        gotItem = true;
        delay = first;
        options.onItem(item);
      }
      if (options.signal.aborted) return;
      throw new TracerError('the tracer stopped');
    } catch (error) {
      if (options.signal.aborted) return;
      const failure = asTracerError(error);
      if (options.giveUp?.(failure)) {
        options.onError(failure, undefined);
        return;
      }
      options.onError(failure, delay);
      await sleep(delay, options.signal);
      delay = gotItem ? first : Math.min(max, delay * 2);
    }
  }
}
