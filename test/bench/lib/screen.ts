// Reading memtop's TUI off a captured screen: its table rows, whether a tab shows data, whether
// the stack view shows stacks.
import type {TabId} from '../../../source/types.js';
import {chooseScript} from '../../../source/backends/bpftrace.js';

const ROW = /^\s{0,7}\d{1,7} \S/;
/** A stack line: count, [bytes,] share, two spaces, a frame. */
const STACK_LINE = /\d%\s{2}\S/;

/** The table's row lines (below the header). */
export function tableRows(lines: string[]): string[] {
  lines = frame(lines);
  const header = lines.findIndex(line => /\bPID\b/.test(line) || /\bCACHE\b/.test(line));
  return header === -1 ? [] : lines.slice(header + 1).filter(line => ROW.test(line));
}

/**
 * memtop's frame without the lines above it: Ink draws from wherever the cursor was when it
 * started, so the frame starts at the tab bar, not necessarily at the top of the window.
 */
export function frame(lines: string[]): string[] {
  const top = lines.findIndex(line => line.startsWith('memtop '));
  return top === -1 ? [] : lines.slice(top);
}

/** The status line (under the tab bar), or ''. */
export function statusLine(lines: string[]): string {
  return frame(lines)[1] ?? '';
}

/** Whether the screen shows `tab`'s data: its probe on the status line and at least one row. */
export function showsData(tab: TabId): (lines: string[]) => boolean {
  const label = `probe ${chooseScript(tab).label}`;
  return lines => statusLine(lines).includes(label) && tableRows(frame(lines)).length > 0;
}

/** Whether the stack view shows at least one stack. */
export function showsStacks(lines: string[]): boolean {
  lines = frame(lines);
  const header = lines.findIndex(line => line.includes('STACK (innermost first)'));
  return header !== -1 && lines.slice(header + 1).some(line => STACK_LINE.test(line));
}
