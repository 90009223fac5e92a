// The TUI's one key listener: raw input from Ink's stdin, split into presses by
// state/key-reader.ts (not useInput, which hands a read of several keys over as one "input"
// and loses an Enter in it), with an unfinished escape sequence held briefly for the rest.
import {useEffect, useRef} from 'react';
import {useStdin} from 'ink';
import {flushKeys, readKeys, type Press} from '../state/key-reader.js';

/**
 * How long the start of an escape sequence waits for the rest (ssh and tmux can split "\x1b[A"
 * across reads); after that a lone ESC is the Escape key. Ink itself waits only one tick; vim's
 * defaults wait 100 ms (ttimeoutlen), tmux 500 ms (escape-time). 50 ms was too short on a loaded
 * machine: the rest of a Down arrow came later and was read as Escape, "[" and "B".
 */
export const ESCAPE_WAIT_MS = 100;

/** Call `onPresses` with the presses of every read, in order, for as long as the component is mounted. */
export function useKeys(onPresses: (presses: Press[]) => void): void {
  // Ink's raw input events: each read as its parser cut it (escape sequences apart, text together).
  const {setRawMode, internal_eventEmitter: events} = useStdin();
  const handler = useRef(onPresses);
  handler.current = onPresses;
  useEffect(() => {
    setRawMode(true);
    return () => setRawMode(false);
  }, [setRawMode]);
  useEffect(() => {
    let pending = '';
    let timer: NodeJS.Timeout | undefined;
    const deliver = (presses: Press[]) => {
      if (presses.length > 0) handler.current(presses);
    };
    const onInput = (data: string) => {
      clearTimeout(timer);
      const read = readKeys(pending + data);
      pending = read.pending;
      deliver(read.presses);
      if (pending) {
        timer = setTimeout(() => {
          const rest = pending;
          pending = '';
          deliver(flushKeys(rest));
        }, ESCAPE_WAIT_MS);
      }
    };
    events.on('input', onInput);
    return () => {
      clearTimeout(timer);
      events.removeListener('input', onInput);
    };
  }, [events]);
}
