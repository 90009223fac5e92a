// The NDJSON recording format: a header line, then one line per table or drill-down snapshot.
import {hostname, release} from 'node:os';
import {hasView, isTabId, TABS, TAB_IDS, type ViewId} from '../registry.js';
import type {BackendId, RawRow, TabId, TracerSnapshot, TracerStackSnapshot} from '../types.js';

/**
 * The format version this memtop writes and the newest it can read. 2: a table snapshot names
 * its view and carries other views' rows in otherViews, and the header lists the tabs and views
 * the recording's memtop had. Version 1 files (rows, cacheRows, grouping) are read too.
 */
export const RECORDING_VERSION = 2;

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
  /** Every tab and its views, as the recording's memtop had them (version 2). */
  tabs?: Record<string, string[]>;
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
    tabs: Object.fromEntries(TAB_IDS.map(tab => [tab, TABS[tab].views.map(view => view.id)])),
  };
}

/**
 * The first tab or view a header names that this memtop does not have ("minfault", "malloc live"),
 * so that a recording from a newer memtop is refused up front, by name.
 */
export function unknownTab(header: RecordingHeader): string | undefined {
  for (const [tab, views] of Object.entries(header.tabs ?? {})) {
    if (!isTabId(tab)) return tab;
    const missing = views.find(view => !hasView(tab, view as ViewId));
    if (missing) return `${tab} ${missing}`;
  }
  return undefined;
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
  if (!optional(value.tabs, inner => isObject(inner) && Object.values(inner).every(views => Array.isArray(views) && views.every(isString)))) wrong.push('tabs');
  return wrong.length > 0 ? `bad header field${wrong.length > 1 ? 's' : ''} ${wrong.join(', ')}` : undefined;
}

const isTab = (value: unknown): value is TabId => isTabId(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const optional = (value: unknown, check: (inner: unknown) => boolean) => value === undefined || check(value);
const isString = (value: unknown): value is string => typeof value === 'string';

/** A row: count, optional pid, comm or cache, and every other field a number (a measure). */
function checkRawRow(value: unknown): boolean {
  if (!isObject(value) || !isNumber(value.count)) return false;
  return Object.entries(value).every(([key, field]) => (key === 'comm' || key === 'cache' ? isString(field) : isNumber(field)));
}

function checkCommon(value: Record<string, unknown>): string | undefined {
  if (!isTab(value.tab)) return 'unknown tab';
  if (!isString(value.backend) || !isString(value.probe) || !isString(value.time)) return 'backend, probe or time missing';
  if (!isNumber(value.elapsedMs)) return 'elapsedMs is not a number';
  if (!optional(value.capped, inner => typeof inner === 'boolean')) return 'capped is not true or false';
  if (!optional(value.skippedLines, isNumber)) return 'skippedLines is not a number';
  if (!optional(value.skippedSample, isString)) return 'skippedSample is not a string';
  if (!optional(value.view, inner => isString(inner) && hasView(value.tab as TabId, inner as ViewId))) return 'unknown view';
  return undefined;
}

const isAmount = (value: unknown) => isObject(value) && isNumber(value.count) && isNumber(value.bytes);
const isAmounts = (value: unknown) => Array.isArray(value) && value.every(isAmount);

/** A live drill-down's own part: since, the age classes, the exact totals per class, sampling and untracked. */
function liveOk(value: unknown): boolean {
  if (!isObject(value) || !isString(value.since) || !isNumber(value.untracked) || !optional(value.sampleBytes, isNumber) || !optional(value.sampled, isNumber)) return false;
  const classOk = (ageClass: unknown) => isObject(ageClass) && isNumber(ageClass.oldest) && isNumber(ageClass.newest);
  return Array.isArray(value.classes) && value.classes.every(classOk) && isAmounts(value.totals) && (value.totals as unknown[]).length === value.classes.length;
}

/** Why a table snapshot is not one memtop could have written, or undefined when it is fine. */
export function checkTableSnapshot(value: unknown): string | undefined {
  if (!isObject(value)) return 'snapshot is not an object';
  const common = checkCommon(value);
  if (common) return common;
  if (!Array.isArray(value.rows) || !value.rows.every(checkRawRow)) return 'rows are malformed';
  if (!optional(value.cacheRows, inner => Array.isArray(inner) && inner.every(checkRawRow))) return 'cacheRows are malformed';
  const otherViewsOk = (inner: unknown) => isObject(inner) && Object.entries(inner).every(([view, rows]) => hasView(value.tab as TabId, view as ViewId) && Array.isArray(rows) && rows.every(checkRawRow));
  if (!optional(value.otherViews, otherViewsOk)) return 'otherViews are malformed';
  if (!optional(value.since, isString) || !optional(value.untracked, isNumber)) return 'since or untracked is malformed';
  if (!optional(value.untrackedPids, inner => Array.isArray(inner) && inner.every(isNumber))) return 'untrackedPids are malformed';
  if (!optional(value.exited, inner => Array.isArray(inner) && inner.every(isNumber))) return 'exited is malformed';
  if (!optional(value.sampled, isNumber) || !optional(value.sampledPids, inner => isObject(inner) && Object.values(inner).every(isNumber))) return 'sampled or sampledPids is malformed';
  if (!optional(value.unmeasured, inner => Array.isArray(inner) && inner.every(isString))) return 'unmeasured is malformed';
  return undefined;
}

/**
 * A table snapshot as this memtop holds it: version 1's rows, cacheRows and grouping become the
 * view's rows and otherViews (a 'cache' grouping held cache rows only).
 */
export function upgradeTableSnapshot(snapshot: TracerSnapshot & {cacheRows?: RawRow[]; grouping?: 'process' | 'cache'}): TracerSnapshot {
  const {cacheRows, grouping, ...rest} = snapshot;
  if (grouping === 'cache') return {...rest, view: 'cache', rows: cacheRows ?? []};
  if (cacheRows === undefined) return rest;
  return {...rest, view: rest.view ?? 'process', otherViews: {...rest.otherViews, cache: cacheRows}};
}

/** Why a stack snapshot is not one memtop could have written, or undefined when it is fine. */
export function checkStackSnapshot(value: unknown): string | undefined {
  if (!isObject(value)) return 'snapshot is not an object';
  const common = checkCommon(value);
  if (common) return common;
  if (isNumber(value.pid) === (value.cache !== undefined) || !optional(value.cache, isString)) return 'neither a pid nor a cache';
  if (!optional(value.comm, isString)) return 'comm is not text';
  const processOk = (share: unknown) => isObject(share) && isNumber(share.pid) && isString(share.comm) && isNumber(share.count) && optional(share.bytes, isNumber);
  if (!optional(value.processes, inner => Array.isArray(inner) && inner.every(processOk))) return 'processes are malformed';
  if (!optional(value.kernel, inner => typeof inner === 'boolean')) return 'kernel is not true or false';
  const placeOk = (place: unknown) => isObject(place) && isString(place.mapping) && isNumber(place.count);
  const stackOk = (stack: unknown) =>
    isObject(stack) &&
    isNumber(stack.count) &&
    optional(stack.bytes, isNumber) &&
    optional(stack.ms, isNumber) &&
    optional(stack.stays, isNumber) &&
    optional(stack.staysBytes, isNumber) &&
    optional(stack.where, inner => Array.isArray(inner) && inner.every(placeOk)) &&
    Array.isArray(stack.frames) &&
    stack.frames.every(isString) &&
    optional(stack.classes, isAmounts);
  if (!Array.isArray(value.stacks) || !value.stacks.every(stackOk)) return 'stacks are malformed';
  if (!optional(value.live, liveOk)) return 'live is malformed';
  if (!optional(value.stays, inner => isObject(inner) && isString(inner.since) && isNumber(inner.untracked))) return 'stays is malformed';
  const classes = isObject(value.live) && Array.isArray(value.live.classes) ? value.live.classes.length : undefined;
  if (classes !== undefined && !value.stacks.every(stack => Array.isArray((stack as {classes?: unknown}).classes) && (stack as {classes: unknown[]}).classes.length === classes)) return 'live stacks are malformed';
  const bucketOk = (bucket: unknown) => isObject(bucket) && isNumber(bucket.min) && isNumber(bucket.max) && isNumber(bucket.count);
  if (!optional(value.histogram, inner => Array.isArray(inner) && inner.every(bucketOk))) return 'histogram is malformed';
  const entryOk = (entry: unknown) => isObject(entry) && isString(entry.name) && isNumber(entry.count);
  if (!optional(value.entryPoints, inner => Array.isArray(inner) && inner.every(entryOk))) return 'entryPoints are malformed';
  const noteOk = (note: unknown) => isObject(note) && isString(note.reason) && isString(note.text) && optional(note.file, isString) && optional(note.frames, isNumber) && optional(note.frame, isString);
  if (!optional(value.frameNotes, inner => Array.isArray(inner) && inner.every(noteOk))) return 'frameNotes are malformed';
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
    const event = value as unknown as TableEvent;
    return {...event, snapshot: upgradeTableSnapshot(event.snapshot)};
  }
  if (value.kind === 'stacks') {
    const problem = checkStackSnapshot(value.snapshot);
    return problem ? {problem} : (value as unknown as StacksEvent);
  }
  return 'unknown';
}
