// The NDJSON recording format: a header line, then one line per table or drill-down snapshot.
import {hostname, release} from 'node:os';
import {TAB_IDS, type BackendId, type TabId, type TracerSnapshot, type TracerStackSnapshot} from '../types.js';

/** The format version this memtop writes and the newest it can read. */
export const RECORDING_VERSION = 1;

/** The first line of every recording. */
export interface RecordingHeader {
  memtop: 'recording';
  version: number;
  memtopVersion: string;
  backend: BackendId;
  /** The probe label each tab would attach at the start (snapshots carry the one actually used). */
  probes: Partial<Record<TabId, string>>;
  /** os.release() of the recorded machine. */
  kernel: string;
  hostname: string;
  /** ISO 8601. */
  startTime: string;
}

/**
 * One interval of a tab's table. `cgroups` (optional) maps a pid of the snapshot's rows to its
 * cgroup path as read on the recorded machine, so a replay elsewhere never asks its own /proc
 * (labels and container ids are derived from the path: model/cgroup.ts infoOfPath).
 */
export interface TableEvent {
  kind: 'table';
  tab: TabId;
  snapshot: TracerSnapshot;
  cgroups?: Record<string, string>;
}

/** One interval of a drill-down into one process's stacks. */
export interface StacksEvent {
  kind: 'stacks';
  snapshot: TracerStackSnapshot;
}

export type RecordingEvent = TableEvent | StacksEvent;

/** What the caller knows of a session; the machine facts are filled in here. */
export interface HeaderFacts {
  memtopVersion: string;
  backend: BackendId;
  probes: Partial<Record<TabId, string>>;
  /** Default: now. */
  startTime?: Date;
}

/** A header for a recording that starts now on this machine (kernel release and hostname from os). */
export function recordingHeader(facts: HeaderFacts): RecordingHeader {
  return {
    memtop: 'recording',
    version: RECORDING_VERSION,
    memtopVersion: facts.memtopVersion,
    backend: facts.backend,
    probes: facts.probes,
    kernel: release(),
    hostname: hostname(),
    startTime: (facts.startTime ?? new Date()).toISOString(),
  };
}

/**
 * One value as one line of NDJSON, newline included. JSON.stringify escapes every newline and
 * control character inside strings, so a hostile process name cannot split a line.
 */
export function toLine(value: RecordingHeader | RecordingEvent): string {
  return JSON.stringify(value) + '\n';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a parsed first line claims to be a memtop recording header (any version). */
export function looksLikeHeader(value: unknown): value is {memtop: 'recording'; version: unknown} {
  return isObject(value) && value.memtop === 'recording';
}

/** The header's fields checked for a version this memtop reads; a reason when they are not right. */
export function checkHeader(value: Record<string, unknown>): string | undefined {
  const wrong: string[] = [];
  if (typeof value.memtopVersion !== 'string') wrong.push('memtopVersion');
  if (typeof value.backend !== 'string') wrong.push('backend');
  if (!isObject(value.probes) || !Object.values(value.probes).every(label => typeof label === 'string')) wrong.push('probes');
  if (typeof value.kernel !== 'string') wrong.push('kernel');
  if (typeof value.hostname !== 'string') wrong.push('hostname');
  if (typeof value.startTime !== 'string') wrong.push('startTime');
  return wrong.length > 0 ? `bad header field${wrong.length > 1 ? 's' : ''} ${wrong.join(', ')}` : undefined;
}

const isTab = (value: unknown): value is TabId => typeof value === 'string' && (TAB_IDS as readonly string[]).includes(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const optional = (value: unknown, check: (inner: unknown) => boolean) => value === undefined || check(value);
const isString = (value: unknown): value is string => typeof value === 'string';

function checkRawRow(value: unknown): boolean {
  return isObject(value) && isNumber(value.count) && optional(value.pid, isNumber) && optional(value.comm, isString) && optional(value.cache, isString) && optional(value.bytes, isNumber);
}

function checkCommon(value: Record<string, unknown>): string | undefined {
  if (!isTab(value.tab)) return 'unknown tab';
  if (!isString(value.backend) || !isString(value.probe) || !isString(value.time)) return 'backend, probe or time missing';
  if (!isNumber(value.elapsedMs)) return 'elapsedMs is not a number';
  if (!optional(value.capped, inner => typeof inner === 'boolean')) return 'capped is not true or false';
  if (!optional(value.skippedLines, isNumber)) return 'skippedLines is not a number';
  if (!optional(value.skippedSample, isString)) return 'skippedSample is not a string';
  return undefined;
}

/** Why a table snapshot is not one memtop could have written, or undefined when it is fine. */
export function checkTableSnapshot(value: unknown): string | undefined {
  if (!isObject(value)) return 'snapshot is not an object';
  const common = checkCommon(value);
  if (common) return common;
  if (!Array.isArray(value.rows) || !value.rows.every(checkRawRow)) return 'rows are malformed';
  if (!optional(value.cacheRows, inner => Array.isArray(inner) && inner.every(checkRawRow))) return 'cacheRows are malformed';
  return undefined;
}

/** Why a stack snapshot is not one memtop could have written, or undefined when it is fine. */
export function checkStackSnapshot(value: unknown): string | undefined {
  if (!isObject(value)) return 'snapshot is not an object';
  const common = checkCommon(value);
  if (common) return common;
  if (!isNumber(value.pid)) return 'pid is not a number';
  if (!optional(value.comm, isString)) return 'comm is not text';
  const stackOk = (stack: unknown) => isObject(stack) && isNumber(stack.count) && optional(stack.bytes, isNumber) && Array.isArray(stack.frames) && stack.frames.every(isString);
  if (!Array.isArray(value.stacks) || !value.stacks.every(stackOk)) return 'stacks are malformed';
  const bucketOk = (bucket: unknown) => isObject(bucket) && isNumber(bucket.min) && isNumber(bucket.max) && isNumber(bucket.count);
  if (!optional(value.histogram, inner => Array.isArray(inner) && inner.every(bucketOk))) return 'histogram is malformed';
  const entryOk = (entry: unknown) => isObject(entry) && isString(entry.name) && isNumber(entry.count);
  if (!optional(value.entryPoints, inner => Array.isArray(inner) && inner.every(entryOk))) return 'entryPoints are malformed';
  return undefined;
}

/**
 * Check one parsed event line. Returns the event, 'unknown' for a kind this version does not
 * know (a later minor addition: skipped, not an error), or a reason it is malformed.
 */
export function checkEvent(value: unknown): RecordingEvent | 'unknown' | {problem: string} {
  if (!isObject(value) || typeof value.kind !== 'string') return {problem: 'not a memtop event'};
  if (value.kind === 'table') {
    if (!isTab(value.tab)) return {problem: 'unknown tab'};
    const problem = checkTableSnapshot(value.snapshot);
    if (problem) return {problem};
    if ((value.snapshot as TracerSnapshot).tab !== value.tab) return {problem: 'tab does not match its snapshot'};
    if (!optional(value.cgroups, inner => isObject(inner) && Object.values(inner).every(isString))) return {problem: 'cgroups are malformed'};
    return value as unknown as TableEvent;
  }
  if (value.kind === 'stacks') {
    const problem = checkStackSnapshot(value.snapshot);
    return problem ? {problem} : (value as unknown as StacksEvent);
  }
  return 'unknown';
}
