// Reading memtop's TUI off a captured screen: its table rows, whether a tab shows data, whether
// the stack view shows stacks.
import type {TabId} from '../../../source/types.js';
import {chooseProbe} from '../../../source/backends/bpftrace.js';

const ROW = /^\s{0,7}\d{1,7} \S/;
/** A stack line: count, [bytes,] share, two spaces, a frame. */
const STACK_LINE = /\d%\s{2}\S/;

/** The table's row lines (below the header). */
export function tableRows(lines: string[]): string[] {
  const header = lines.findIndex(line => /\bPID\b/.test(line) || /\bCACHE\b/.test(line));
  return header === -1 ? [] : lines.slice(header + 1).filter(line => ROW.test(line));
}

/** Whether the screen shows `tab`'s data: its probe on the status line and at least one row. */
export function showsData(tab: TabId): (lines: string[]) => boolean {
  const label = `probe ${chooseProbe(tab).label}`;
  return lines => (lines[1] ?? '').includes(label) && tableRows(lines).length > 0;
}

/** Whether the stack view shows at least one stack. */
export function showsStacks(lines: string[]): boolean {
  const header = lines.findIndex(line => line.includes('STACK (innermost first)'));
  return header !== -1 && lines.slice(header + 1).some(line => STACK_LINE.test(line));
}
