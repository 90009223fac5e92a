// Appends a session to a recording file, one whole line per synchronous write, so a crash or
// SIGKILL at any moment leaves a file that replays up to its last complete line.
import {closeSync, constants, lstatSync, openSync, readSync, writeSync} from 'node:fs';
import {toLine, looksLikeHeader, type RecordingHeader} from './format.js';
import type {TracerSnapshot, TracerStackSnapshot} from '../types.js';

/** A recording file that cannot be opened or written: the message is the one line to show. */
export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordError';
  }
}

export interface RecorderOptions {
  /** Replace the file when it already holds a memtop recording (never any other file). */
  overwrite?: boolean;
  /** Called once with the first write failure (disk full, ...); later records are dropped. */
  onError?: (error: RecordError) => void;
}

/** The first bytes of a file, enough for a header line. */
function firstLine(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('utf8');
    const end = text.indexOf('\n');
    return end === -1 ? text : text.slice(0, end);
  } finally {
    closeSync(fd);
  }
}

function holdsRecording(path: string): boolean {
  try {
    return looksLikeHeader(JSON.parse(firstLine(path)));
  } catch {
    return false;
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'its directory does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EROFS') return 'the file system is read-only';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * Open (creating or, for a recording with `overwrite`, truncating) the file for appending.
 * Policy: a new file is created with O_EXCL; an empty file is used as it is; an existing
 * recording is replaced only with `overwrite`; any other existing file, a directory or a
 * symbolic link is refused, so memtop running as root never clobbers a file it did not make.
 */
function openForRecording(path: string, overwrite: boolean): number {
  const append = constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW;
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new RecordError(`cannot record to ${path}: ${reason(error)}`);
  }
  try {
    if (!stat) return openSync(path, append | constants.O_CREAT | constants.O_EXCL, 0o644);
    if (stat.isSymbolicLink()) throw new RecordError(`cannot record to ${path}: it is a symbolic link; give the path of a regular file`);
    if (stat.isDirectory()) throw new RecordError(`cannot record to ${path}: it is a directory; give a file name inside it`);
    if (!stat.isFile()) throw new RecordError(`cannot record to ${path}: it is not a regular file; give a new file name`);
    if (stat.size === 0) return openSync(path, append);
    if (!holdsRecording(path)) throw new RecordError(`${path} exists and is not a memtop recording: choose another name (memtop never overwrites other files)`);
    if (!overwrite) throw new RecordError(`${path} already holds a memtop recording: choose another name, or add --overwrite to replace it`);
    return openSync(path, append | constants.O_TRUNC);
  } catch (error) {
    if (error instanceof RecordError) throw error;
    throw new RecordError(`cannot record to ${path}: ${reason(error)}`);
  }
}

/**
 * Records one memtop session. The constructor opens the file and writes the header (throwing
 * RecordError with one line to show); each record call appends one line with one synchronous
 * write. Write failures never throw: the first is reported through `onError` and kept in
 * `error`, and recording stops.
 */
export class Recorder {
  private fd: number | undefined;
  private failure: RecordError | undefined;
  private written = 0;

  constructor(readonly path: string, header: RecordingHeader, private readonly options: RecorderOptions = {}) {
    this.fd = openForRecording(path, options.overwrite ?? false);
    try {
      this.writeLine(toLine(header));
    } catch (error) {
      this.close();
      throw new RecordError(`cannot record to ${path}: ${reason(error)}`);
    }
  }

  /** Events written so far (the header not counted). */
  get events(): number {
    return this.written;
  }

  /** The write failure that stopped recording, if any. */
  get error(): RecordError | undefined {
    return this.failure;
  }

  /**
   * Append one interval of a tab. `cgroups` maps pids of its rows to their cgroup paths, so
   * a replay on another machine shows this machine's containers. Returns whether it was written.
   */
  recordTable(snapshot: TracerSnapshot, cgroups?: Record<string, string>): boolean {
    return this.append(toLine({kind: 'table', tab: snapshot.tab, snapshot, ...(cgroups && Object.keys(cgroups).length > 0 ? {cgroups} : {})}));
  }

  /** Append one interval of a drill-down. Returns whether it was written. */
  recordStacks(snapshot: TracerStackSnapshot): boolean {
    return this.append(toLine({kind: 'stacks', snapshot}));
  }

  /** Close the file; later records are ignored. Safe to call more than once. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Everything was written synchronously already; a failing close loses nothing.
    }
  }

  /** One write per line; the loop only matters if the kernel ever writes part of one. */
  private writeLine(line: string): void {
    const buffer = Buffer.from(line, 'utf8');
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(this.fd!, buffer, offset, buffer.length - offset);
  }

  private append(line: string): boolean {
    if (this.fd === undefined) return false;
    try {
      this.writeLine(line);
      this.written++;
      return true;
    } catch (error) {
      this.failure = new RecordError(`recording to ${this.path} stopped: ${reason(error)}`);
      this.close();
      this.options.onError?.(this.failure);
      return false;
    }
  }
}
