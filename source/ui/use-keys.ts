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
 * machine: the rest of a Down arrow came later and was read as Escape, "[" and "B". ESCDELAY
 * (milliseconds, as ncurses and so htop read it) sets it for a slow link; a value that is not a
 * whole number from 0 to 10000 is ignored, as ncurses ignores it.
 */
export const ESCAPE_WAIT_MS = 100;

/** The escape wait for this environment: ESCDELAY when it is a usable number of milliseconds, else ESCAPE_WAIT_MS. */
export function escapeWait(env: NodeJS.ProcessEnv = process.env): number {
  const value = env['ESCDELAY'];
  if (value === undefined || !/^\d{1,5}$/.test(value.trim())) return ESCAPE_WAIT_MS;
  const ms = Number(value.trim());
  return ms <= 10_000 ? ms : ESCAPE_WAIT_MS;
}

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
    const wait = escapeWait();
    let pending = '';
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const deliver = (presses: Press[]) => {
      if (presses.length > 0) handler.current(presses);
    };
    const cancel = () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    };
    const onInput = (data: string) => {
      cancel();
      const read = readKeys(pending + data);
      pending = read.pending;
      deliver(read.presses);
      if (pending) {
        const waiting = pending;
        // The wait is up: decide only once what had arrived by then is read. A timer runs before
        // the event loop polls stdin, so on a loaded machine, where memtop gets the CPU late, the
        // rest of the sequence can be waiting unread; setImmediate runs after that poll.
        timer = setTimeout(() => {
          immediate = setImmediate(() => {
            if (pending !== waiting) return;
            pending = '';
            deliver(flushKeys(waiting));
          });
        }, wait);
      }
    };
    events.on('input', onInput);
    return () => {
      cancel();
      events.removeListener('input', onInput);
    };
  }, [events]);
}
