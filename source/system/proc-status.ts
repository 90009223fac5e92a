// A process's memory as /proc/PID/status states it at the moment it is read (RssAnon, VmData...),
// in bytes: what a measure declared with `procStatus` (tabs/types.ts) is made of.
import {procText} from './proc-file.js';
import {statusBytes} from '../parse/proc-status.js';

/**
 * A process's status fields in bytes; 'gone' when it has exited (its memory is 0: no such pid, or
 * a zombie whose status has no memory fields left); undefined when /proc cannot say (a /proc
 * without it, no permission).
 */
export function readStatusBytes(pid: number, proc = '/proc'): Record<string, number> | 'gone' | undefined {
  try {
    const text = procText(pid, 'status', proc);
    if (text === undefined) return 'gone';
    const fields = statusBytes(text);
    return 'VmRSS' in fields ? fields : 'gone';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESRCH' ? 'gone' : undefined;
  }
}
