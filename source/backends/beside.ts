// One stream of a main tracer's intervals with those of tracers started beside it later (for
// allocator files that appear after memtop began): each main interval comes with every side
// interval that arrived since the one before. A side that fails ends alone (its files may have
// gone with a short-lived process) and its failure goes to the caller; the main one's ends all.

/** One main interval and the side intervals that arrived since the previous one, by side. */
export interface Beside<M, S> {
  main: M;
  sides: {side: number; item: S}[];
}

type Event<M, S> = {kind: 'main'; item: M} | {kind: 'side'; side: number; item: S} | {kind: 'end'} | {kind: 'error'; error: unknown};

/**
 * Yields `main`'s items with the side items that came in between. `watch` is called once with a
 * function that starts a side stream; it returns the function that stops watching and
 * the side tracers it started; it is called when the consumer stops or `main` ends.
 */
export async function* withSides<M, S>(main: AsyncIterable<M>, watch: (add: (side: AsyncIterable<S>, failed: (error: unknown) => void) => void) => () => void): AsyncGenerator<Beside<M, S>> {
  const queue: Event<M, S>[] = [];
  let wake: (() => void) | undefined;
  let stopped = false;
  const iterators: AsyncIterator<unknown>[] = [];
  const push = (event: Event<M, S>) => {
    queue.push(event);
    wake?.();
  };
  const pump = async <T>(iterable: AsyncIterable<T>, each: (item: T) => Event<M, S>, end: boolean, failed?: (error: unknown) => void) => {
    const iterator = iterable[Symbol.asyncIterator]();
    iterators.push(iterator);
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || stopped) break;
        push(each(next.value));
      }
      if (end && !stopped) push({kind: 'end'});
    } catch (error) {
      if (stopped) return;
      if (failed) failed(error);
      else push({kind: 'error', error});
    }
  };
  let sides = 0;
  const unwatch = watch((side, failed) => {
    if (stopped) return;
    const index = sides++;
    void pump(side, item => ({kind: 'side', side: index, item}), false, failed);
  });
  void pump(main, item => ({kind: 'main', item}), true);
  let pending: {side: number; item: S}[] = [];
  try {
    for (;;) {
      const event = queue.shift();
      if (!event) {
        await new Promise<void>(resolve => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (event.kind === 'error') throw event.error;
      if (event.kind === 'end') return;
      if (event.kind === 'side') pending.push({side: event.side, item: event.item});
      else {
        const sidesNow = pending;
        pending = [];
        yield {main: event.item, sides: sidesNow};
      }
    }
  } finally {
    stopped = true;
    unwatch();
    // Not awaited: a stream waiting for its tracer's next line ends when `watch`'s stop kills it.
    for (const iterator of iterators) void iterator.return?.().catch(() => undefined);
  }
}
