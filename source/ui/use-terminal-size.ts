// The terminal's size, kept current on resize (or fixed, for tests).
import {useEffect, useState} from 'react';
import {useStdout} from 'ink';

/** Columns and rows of the terminal, re-read on every resize; `override` fixes them (tests). */
export function useTerminalSize(override?: {columns: number; rows: number}): {columns: number; rows: number} {
  const {stdout, write} = useStdout();
  const read = () => override ?? {columns: stdout.columns || 80, rows: stdout.rows || 24};
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (override) return undefined;
    const onResize = () => {
      // A terminal that grows pulls old lines back from its history above the frame, where Ink
      // does not look: clear the screen (Ink's write puts its last frame back), then redraw.
      write('\u001b[2J\u001b[H');
      setSize(read());
    };
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
