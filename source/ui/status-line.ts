// The status line's text, purely: its fields ordered by importance, each with a shorter form, so
// that a narrow terminal shortens the least important first, then drops them, and never loses an
// error, the replay position or the recording.
import {clockTime, fit, humanCount, sanitize, textWidth, toFixed} from '../format.js';
import {sparkline} from '../model/sparkline.js';
import {SAMPLED_GROWTH_SECONDS, type TableState} from '../model/table.js';
import {isGaugeView, TABS, viewOf} from '../registry.js';
import type {UiState} from '../state/reducer.js';
import type {AllocatorSummary} from '../types.js';
import {coverageFields} from '../model/allocators.js';
import type {Source} from './use-source.js';
import type {CommandPhase} from '../command/command-tui.js';
import type {TracerStatus} from './use-tracer.js';

/** One field of the status line. */
export interface StatusField {
  text: string;
  /** A shorter form tried before the field is dropped. */
  short?: string;
  /** Never dropped (an error, the replay position, a recording): cut only when nothing else is left. */
  keep?: boolean;
}

/** What the status line can say, most important first when it is laid out. */
export interface StatusInput {
  /** A tracer failure: what, the retry, and the fix. */
  error?: {message: string; hint?: string; retryInMs?: number};
  replay?: {time?: string; index: number; length: number; speed: number; atEnd: boolean};
  recordingTo?: string;
  /** The drill-down on screen: a process's (pid, comm) or a cache's. */
  drill?: {pid?: number; comm?: string; cache?: string; tab: string; probe?: string; exited: boolean};
  /** The table on screen. */
  table?: {probe?: string; backend?: string; view?: string; capped: boolean; skippedLines: number; skippedSample?: string; since?: string; untracked?: number; sampled?: number; gauges?: boolean; stale?: {time: string; reason: string}; allocators?: AllocatorSummary};
  cumulative: boolean;
  filter: string;
  cgroupFilter: string;
  filtering: false | 'name' | 'cgroup';
  intervalMs: number;
  notice?: string;
  /** The machine-wide trend, already drawn. */
  trend?: string;
  /** With -- COMMAND: COMMAND, where it is and where its output goes. */
  command?: CommandStatus;
}

/** What the status line says of -- COMMAND. */
export interface CommandStatus {
  command: string[];
  pid: number;
  phase: CommandPhase;
  exitStatus?: number;
  output: string;
  /** --pprof: where the profile at exit went, or why it did not. */
  profile?: {file: string; error?: string};
}

/** The -- COMMAND field: never dropped, as it says what the table is of and how it ends. */
export function commandField(command: CommandStatus): StatusField {
  const name = fit(sanitize(command.command.join(' ')), 32).trimEnd();
  switch (command.phase) {
    case 'running':
      return {text: `COMMAND ${name} (PID ${command.pid}) · its output to ${sanitize(command.output)}`, short: `COMMAND PID ${command.pid}`, keep: true};
    case 'ending':
      return {text: `ending ${name}: SIGTERM sent, SIGKILL in 5 s`, short: 'ending COMMAND', keep: true};
    case 'exited':
      return {text: `${name} exited with status ${command.exitStatus}: taking its last figures…`, short: `exit ${command.exitStatus}…`, keep: true};
    case 'summary': {
      const profile = command.profile ? (command.profile.error ? ` · no profile: ${sanitize(command.profile.error)}` : ` · profile in ${sanitize(command.profile.file)}`) : '';
      return {text: `${name} exited with status ${command.exitStatus}${profile} · q quits`, short: `exit ${command.exitStatus}${command.profile ? (command.profile.error ? ' · no profile' : ' · profile written') : ''} · q quits`, keep: true};
    }
  }
}

const SEPARATOR = ' · ';

/** The fields, most important first. */
export function statusFields(input: StatusInput): StatusField[] {
  const fields: StatusField[] = [];
  if (input.command) fields.push(commandField(input.command));
  // COMMAND's summary replaces the table: nothing else on the line is of what is on screen.
  if (input.command?.phase === 'summary') return fields;
  if (input.replay) {
    const {replay} = input;
    fields.push({text: `REPLAY ${replay.time ?? ''} ${replay.index + 1}/${replay.length} ×${replay.speed}${replay.atEnd ? ' (end)' : ''}`, short: `REPLAY ${replay.index + 1}/${replay.length}${replay.atEnd ? ' end' : ''}`, keep: true});
  }
  if (input.recordingTo) fields.push({text: `REC ${sanitize(input.recordingTo)}`, short: 'REC', keep: true});
  if (input.error) {
    const {message, hint, retryInMs} = input.error;
    const retry = retryInMs ? ` (retrying in ${Math.round(retryInMs / 1000)}s)` : '';
    // The retry note before the hint, so a narrow line still shows that memtop is on it.
    fields.push({text: `${sanitize(message)}${retry}${hint ? `: ${sanitize(hint)}` : ''}`, short: `${sanitize(message)}${retry}`, keep: true});
  }
  if (input.notice) fields.push({text: sanitize(input.notice)});
  if (input.drill) {
    const {drill} = input;
    if (drill.cache !== undefined) fields.push({text: `kernel paths into cache ${sanitize(drill.cache)} · ${drill.tab}`, short: `cache ${sanitize(drill.cache)}`, keep: true});
    else fields.push({text: `stacks of PID ${drill.pid} (${sanitize(drill.comm ?? '')}) · ${drill.tab}`, short: `PID ${drill.pid}`, keep: true});
    if (drill.exited) fields.push({text: 'process exited: showing its last data', short: 'exited', keep: true});
    if (drill.probe) fields.push({text: drill.probe});
  } else if (input.table) {
    const {table} = input;
    if (table.stale) fields.push({text: `STALE: rows from ${clockTime(table.stale.time)}, ${table.stale.reason}`, short: `STALE ${clockTime(table.stale.time)}`, keep: true});
    if (table.untracked) fields.push({text: `CAPPED: ${humanCount(table.untracked)} not tracked (shared table full; ≥ floor, ? unknown)`, short: 'CAPPED', keep: true});
    else if (table.capped) fields.push({text: 'CAPPED: map full, some keys dropped', short: 'CAPPED', keep: true});
    if (table.sampled) fields.push({text: `sampled 1/${table.sampled}: ~ figures are estimates, growth over up to ${SAMPLED_GROWTH_SECONDS}s`, short: `sampled 1/${table.sampled}`, keep: true});
    if (table.skippedLines) fields.push({text: `${table.skippedLines} lines skipped`, short: `${table.skippedLines} skipped`, keep: true});
    // Since when a live view counts is what its numbers mean: kept, before the probe's name.
    if (table.view && table.since) fields.push({text: `${table.view} since ${clockTime(table.since)}`, keep: true});
    if (table.probe) fields.push({text: `probe ${table.probe}`});
    else if (!input.error) fields.push({text: 'starting tracer…', short: 'starting…'});
    // What allocator probes cover: the files by kind, and (never dropped) what they miss.
    if (table.allocators) fields.push(...coverageFields(table.allocators));
    if (table.backend) fields.push({text: table.backend});
  }
  if (input.filter || input.filtering === 'name') fields.push({text: `filter: ${sanitize(input.filter)}${input.filtering === 'name' ? '_' : ''}`, keep: input.filtering === 'name'});
  if (input.cgroupFilter || input.filtering === 'cgroup') fields.push({text: `cgroup: ${sanitize(input.cgroupFilter)}${input.filtering === 'cgroup' ? '_' : ''}`, keep: input.filtering === 'cgroup'});
  if (!input.drill && input.table?.view && !input.table.since) fields.push({text: input.table.view});
  // A gauge is the value now: `c` ranks by its peak instead.
  if (!input.drill && input.table?.gauges) fields.push({text: input.cumulative ? 'by peak' : 'now', short: input.cumulative ? 'peak' : ''});
  else if (!input.drill) fields.push({text: input.cumulative ? 'cumulative' : 'per interval', short: input.cumulative ? 'cumul' : ''});
  if (!input.replay) fields.push({text: `every ${toFixed(input.intervalMs / 1000, 1)}s`, short: `${toFixed(input.intervalMs / 1000, 1)}s`});
  if (input.trend) fields.push({text: `all ${input.trend}`});
  // What the skipped lines said: the least important, as it can be long.
  if (!input.drill && input.table?.skippedLines && input.table.skippedSample) fields.push({text: `last skipped: ${sanitize(input.table.skippedSample)}`});
  return fields;
}

/**
 * The fields laid out in `width` terminal cells. While they do not fit, the least important
 * field left takes its short form, and if that is not enough (and it may go) it is dropped; only
 * then does the next more important field shorten. What is left is cut only when the fields
 * that must stay are too wide on their own.
 */
export function layoutStatus(fields: readonly StatusField[], width: number): string {
  const shown: (string | undefined)[] = fields.map(field => field.text);
  const text = () => shown.filter((part): part is string => part !== undefined && part !== '').join(SEPARATOR);
  for (let index = fields.length - 1; index >= 0 && textWidth(text()) > width; index--) {
    const field = fields[index]!;
    if (field.short !== undefined) shown[index] = field.short;
    if (textWidth(text()) > width && !field.keep) shown[index] = undefined;
  }
  return textWidth(text()) > width ? fit(text(), width) : text();
}

/** The status line of a frame: what the state, the source and the table on screen say, laid out in `width`. */
export function statusLine(frame: {
  state: UiState;
  source: Source;
  table: TableState;
  status: TracerStatus | undefined;
  /** The table's rows are from an earlier run of its tracer (or, replaying, were not recorded since). */
  stale?: boolean;
  recordingTo?: string;
  notice?: string;
  command?: CommandStatus;
  width: number;
  ascii: boolean;
}): string {
  const {state, source, table, status} = frame;
  const drill = state.drill;
  return layoutStatus(
    statusFields({
      error: status?.error ? {message: status.error, hint: status.hint, retryInMs: status.retryInMs} : undefined,
      replay: source.replay,
      recordingTo: frame.recordingTo,
      drill: drill ? {pid: drill.pid, comm: drill.comm, cache: drill.cache, tab: `${TABS[drill.tab].title}${drill.view ? ` ${viewOf(drill.tab, drill.view).label}` : ''}`, probe: source.drill.snapshot?.probe, exited: source.drill.exited} : undefined,
      table: {
        probe: table.probe || undefined,
        backend: table.backend || undefined,
        view: TABS[state.tab].views.length > 1 ? viewOf(state.tab, state.view).label : undefined,
        capped: table.capped,
        skippedLines: table.skippedLines,
        skippedSample: table.skippedSample,
        since: table.since,
        untracked: table.untracked,
        ...(table.sampled !== undefined ? {sampled: table.sampled} : {}),
        ...(table.allocators ? {allocators: table.allocators} : {}),
        gauges: isGaugeView(viewOf(state.tab, state.view)),
        ...(frame.stale ? {stale: {time: table.time, reason: source.staleReason}} : {}),
      },
      cumulative: state.cumulative,
      filter: state.filter,
      cgroupFilter: state.cgroupFilter,
      filtering: state.filtering,
      intervalMs: state.intervalMs,
      notice: frame.notice,
      trend: !drill && table.totalRateHistory.length > 1 ? sparkline(table.totalRateHistory, 16, frame.ascii) : undefined,
      ...(frame.command ? {command: frame.command} : {}),
    }),
    frame.width,
  );
}
