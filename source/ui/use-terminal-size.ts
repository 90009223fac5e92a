// The terminal's size, kept current on resize (or fixed, for tests).
import {useEffect, useRef, useState} from 'react';
import {useStdout} from 'ink';

const CLEAR_SCREEN = '\u001b[2J\u001b[H';

/** Columns and rows of the terminal, re-read on every resize; `override` fixes them (tests). */
export function useTerminalSize(override?: {columns: number; rows: number}): {columns: number; rows: number} {
  const {stdout, write} = useStdout();
  const [size, setSize] = useState(() => override ?? {columns: stdout.columns || 80, rows: stdout.rows || 24});
  const columns = useRef(size.columns);
  const fixed = override !== undefined;
  useEffect(() => {
    if (fixed) return undefined;
    const onResize = () => {
      const next = {columns: stdout.columns || 80, rows: stdout.rows || 24};
      if (next.columns < columns.current) {
        // Narrower: the terminal rewrapped the last frame over more rows than Ink knows of. Clear
        // it all, and do not put that frame back: the next one, at the new width, is drawn anew.
        stdout.write(CLEAR_SCREEN);
      } else {
        // Wider or taller: a terminal that grows pulls old lines back from its history above the
        // frame, where Ink does not look. Clear the screen; Ink's write puts its last frame back.
        write(CLEAR_SCREEN);
      }
      columns.current = next.columns;
      setSize(next);
    };
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, write, fixed]);
  return override ?? size;
}
