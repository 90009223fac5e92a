// Locates memtop's own probe scripts, wherever memtop is installed.
import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

/**
 * memtop's probes/ folder, resolved from this module's install location (never the cwd): next to
 * dist/ for the bundled memtop command (dist/cli.js), two levels up for source/backends/.
 */
export const PROBES_DIR =
  [new URL('../probes/', import.meta.url), new URL('../../probes/', import.meta.url)].map(url => fileURLToPath(url)).find(dir => existsSync(path.join(dir, 'bpftrace'))) ??
  fileURLToPath(new URL('../../probes/', import.meta.url));

/** The tracers whose scripts memtop ships. */
export type ScriptTracer = 'bpftrace' | 'stap' | 'dtrace';

/** Absolute path of one shipped probe script, e.g. probeScript('bpftrace', 'malloc.bt'). */
export function probeScript(tracer: ScriptTracer, file: string): string {
  if (!/^[\w.-]+$/.test(file)) throw new Error(`bad probe file name: ${file}`);
  return path.join(PROBES_DIR, tracer, file);
}
