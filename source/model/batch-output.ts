// What batch mode prints, purely: a view's table as text or one JSON object per interval, and a
// drill-down's stacks as text, JSON or folded stacks. source/batch.ts runs the tracer and writes these.
import {TABS, totalKey, type Measure, type ViewDefinition} from '../registry.js';
import type {TracerSnapshot, TracerStackSnapshot} from '../types.js';
import {hasTotal, isUnknown, SAMPLED_GROWTH_SECONDS, valueOf, type TableRow} from './table.js';
import {columnsFor} from './columns.js';
import {histogramRange, histogramUnit, liveSummary, staysSummary, topStacks} from './stacks.js';
import {foldedInput, foldedStacks} from './folded.js';
import {coverageFields} from './allocators.js';
import {clockTime, fit, humanAge, humanBytes, humanCount, humanMs, sanitize, toFixed} from '../format.js';

/**
 * One row of batch JSON: pid/comm (or cache), each measure of the view this interval, the rate,
 * and each measure since start (count, bytes, rate, totalCount, totalBytes for malloc). In the
 * live view the measures are what is outstanding now (bytes, count, age), the rate is the live
 * bytes' growth per second and totalBytes their peak. A measure the tracer could not see for the
 * row (Measure.unknown) is null.
 */
export function rowJson(row: TableRow, view: ViewDefinition): Record<string, unknown> {
  const json: Record<string, unknown> = row.cache !== undefined ? {cache: row.cache} : {pid: row.pid, comm: row.comm ?? ''};
  // A time to the microsecond (its sum over intervals is a float); an age to the millisecond.
  const value = (measure: Measure, key: string) => (isUnknown(row, measure, key) ? null : measure.unit === 'ms' ? roundMs(valueOf(row, key)) : roundedValue(valueOf(row, key)));
  for (const measure of view.measures) json[measure.id] = value(measure, measure.id);
  json.rate = Math.round(row.rate * 100) / 100;
  for (const measure of view.measures) if (hasTotal(measure)) json[totalKey(measure.id)] = value(measure, totalKey(measure.id));
  return json;
}

/** Milliseconds to the microsecond. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Whole numbers as they are; an age in seconds to the millisecond. */
function roundedValue(value: number): number {
  return Number.isInteger(value) ? value : Math.round(value * 1000) / 1000;
}

/** A view's table of one interval as text, like top -b: a heading line, the header, the rows. */
export function tableText(snapshot: TracerSnapshot, view: ViewDefinition, rows: readonly TableRow[], allocatorOf?: (pid: number) => string | undefined): string {
  // Where allocator probes count the rows, an ALLOC column: as recorded, else as /proc says.
  const columns = columnsFor(view, {
    ...(snapshot.allocators ? {allocatorOf: (pid: number) => snapshot.rowAllocators?.[String(pid)] ?? allocatorOf?.(pid)} : {}),
    ...(snapshot.untrackedPids ? {untrackedPids: snapshot.untrackedPids} : {}),
    ...(snapshot.sampledPids ? {sampledPids: snapshot.sampledPids} : {}),
    ...(snapshot.unmeasured ? {unmeasured: snapshot.unmeasured} : {}),
  });
  const header = columns.map(column => fit(column.title, column.width, column.align)).join(' ');
  const lines = rows.map(row => columns.map(column => fit(column.format(row), column.width, column.align)).join(' '));
  const live = snapshot.since !== undefined ? ` · live since ${clockTime(snapshot.since)}${snapshot.untracked ? ` · CAPPED: ${snapshot.untracked} allocations not tracked: ≥ marks a floor, ? a growth not known` : ''}${snapshot.sampled ? ` · sampled: 1 address in ${snapshot.sampled} tracked, ~ marks an estimate (growth over up to ${SAMPLED_GROWTH_SECONDS}s)` : ''}` : '';
  const covered = snapshot.allocators ? coverageFields(snapshot.allocators).map(field => ` · ${field.text}`).join('') : '';
  return [`memtop ${TABS[snapshot.tab].title} · ${snapshot.time} · ${snapshot.backend} ${snapshot.probe} · ${toFixed(snapshot.elapsedMs / 1000, 2)}s${live}${covered}`, header, ...lines, ''].join('\n') + '\n';
}

/** A drill-down interval as text: what it is of, its summary, histogram and stacks. */
export function stackText(snapshot: TracerStackSnapshot, comm: string, limit: number, minAge: number): string {
  const view = topStacks(snapshot, limit, minAge);
  const what = snapshot.cache !== undefined ? `kernel paths into cache ${sanitize(snapshot.cache)}` : `${view.live ? 'live stacks' : 'stacks'} of PID ${snapshot.pid} (${sanitize(comm)})`;
  const lines = [`memtop ${what} · ${TABS[snapshot.tab].title} · ${snapshot.time} · ${snapshot.probe}`];
  if (view.live) lines.push(liveSummary(view));
  if (view.stays) lines.push(staysSummary(view.stays));
  for (const share of snapshot.processes ?? []) lines.push(`process ${share.pid} ${sanitize(share.comm)} ${humanCount(share.count)} ${humanBytes(share.bytes ?? 0)}`);
  if (snapshot.entryPoints?.length) lines.push('entry points: ' + snapshot.entryPoints.map(entry => `${entry.name} ${entry.count}`).join('  '));
  for (const bucket of snapshot.histogram ?? []) lines.push(`  ${histogramRange(snapshot.tab, bucket)} ${bucket.count}`);
  for (const note of snapshot.frameNotes ?? []) lines.push(`note: ${sanitize(note.text)}`);
  for (const stack of view.stacks) {
    const where = stack.where ? ` in ${stack.where.map(place => `${sanitize(place.mapping)} ${humanCount(place.count)}${place.bytes !== undefined ? ` ${humanBytes(place.bytes)}` : ''}`).join(', ')}` : '';
    if (view.live) lines.push(`${humanBytes(stack.bytes ?? 0)} ${humanCount(stack.count)} oldest ${humanAge(stack.age ?? 0)} ${toFixed(stack.share, 1)}%`);
    else lines.push(`${humanCount(stack.count)}${view.hasBytes ? ` ${humanBytes(stack.bytes ?? 0)}` : ''}${view.hasTime ? ` ${humanMs(stack.ms ?? 0)}` : ''}${view.stays ? ` stays ${humanCount(stack.stays ?? 0)} ${humanBytes(stack.staysBytes ?? 0)}` : ''} ${toFixed(stack.share, 1)}%${where}`);
    for (const frame of stack.frames) lines.push(`    ${sanitize(frame)}`);
  }
  return lines.join('\n') + '\n\n';
}

/** A view's table of one interval as one object of batch JSON. */
export function tableJson(snapshot: TracerSnapshot, view: ViewDefinition, rows: readonly TableRow[], allocatorOf?: (pid: number) => string | undefined): Record<string, unknown> {
  const json: Record<string, unknown> = {
    tab: snapshot.tab,
    ...(TABS[snapshot.tab].views.length > 1 ? {view: view.id} : {}),
    backend: snapshot.backend,
    probe: snapshot.probe,
    time: snapshot.time,
    intervalMs: Math.round(snapshot.elapsedMs),
    ...(snapshot.since !== undefined ? {since: snapshot.since, untracked: snapshot.untracked ?? 0} : {}),
    // Addresses sampled: 1 in `sampled` tracked now; a row with `sampled` is an estimate from 1 in that many.
    ...(snapshot.sampled ? {sampled: snapshot.sampled} : {}),
    ...(snapshot.allocators ? {allocators: snapshot.allocators} : {}),
    ...(snapshot.unmeasured ? {unmeasured: snapshot.unmeasured} : {}),
    // Where allocator probes count the rows: each process's allocator kind, while it runs. A live
    // row of a process with an allocation not tracked says so: its figures are a floor, its rate unknown (null).
    rows: rows.map(row => {
      const allocator = snapshot.allocators && row.pid ? (snapshot.rowAllocators?.[String(row.pid)] ?? allocatorOf?.(row.pid)) : undefined;
      const json = allocator ? {...rowJson(row, view), allocator} : rowJson(row, view);
      // What the running script cannot measure is null, not 0.
      for (const id of snapshot.unmeasured ?? []) {
        if (id in json) json[id] = null;
        if (totalKey(id) in json) json[totalKey(id)] = null;
      }
      if (row.pid !== undefined && snapshot.untrackedPids?.includes(row.pid)) return {...json, rate: null, untracked: true};
      const sampled = row.pid !== undefined ? snapshot.sampledPids?.[String(row.pid)] : undefined;
      return sampled ? {...json, sampled, ...(row.rateSeconds !== undefined ? {rateSeconds: Math.round(row.rateSeconds * 1000) / 1000} : {})} : json;
    }),
  };
  if (snapshot.capped) json.capped = true;
  if (snapshot.skippedLines) json.skippedLines = snapshot.skippedLines;
  if (snapshot.skippedLines && snapshot.skippedSample) json.skippedSample = snapshot.skippedSample;
  return json;
}

/** A drill-down interval as folded stacks: live stacks weigh what is outstanding (bytes) of allocations at least `minAge` old. */
export function stacksFolded(snapshot: TracerStackSnapshot, minAge: number): string {
  const {stacks, weight} = foldedInput(snapshot, minAge);
  return foldedStacks(stacks, weight);
}

/** A drill-down interval as one line of batch JSON. */
export function stacksJson(snapshot: TracerStackSnapshot, target: {pid?: number; comm?: string; cache?: string}, limit: number, minAge: number): Record<string, unknown> {
  const view = topStacks(snapshot, limit, minAge);
  const json: Record<string, unknown> = {
    tab: snapshot.tab,
    ...(snapshot.view ? {view: snapshot.view} : {}),
    backend: snapshot.backend,
    probe: snapshot.probe,
    ...(target.cache !== undefined ? {cache: target.cache} : {pid: target.pid, comm: target.comm}),
    time: snapshot.time,
    intervalMs: Math.round(snapshot.elapsedMs),
  };
  if (view.live) {
    // What is outstanding, of allocations made since `since` and at least `minAge` seconds old; the process's figures are exact unless its addresses were sampled (addressesSampled).
    Object.assign(json, {since: view.live.since, minAge: view.live.minAge, bytes: view.totalBytes, count: view.totalCount, age: roundedValue(view.live.oldest), untracked: view.live.untracked});
    if (view.live.sampleBytes !== undefined) Object.assign(json, {sampled: true, sampleBytes: view.live.sampleBytes});
    if (view.live.addressesSampled !== undefined) json.addressesSampled = view.live.addressesSampled;
    json.stacks = view.stacks.map(stack => ({bytes: stack.bytes ?? 0, count: stack.count, age: roundedValue(stack.age ?? 0), frames: stack.frames}));
  } else {
    json.stacks = view.stacks.map(stack => ({
      count: stack.count,
      ...(view.hasBytes ? {bytes: stack.bytes ?? 0} : {}),
      ...(view.hasTime ? {ms: roundMs(stack.ms ?? 0)} : {}),
      ...(view.stays ? {stays: stack.stays ?? 0, staysBytes: stack.staysBytes ?? 0} : {}),
      ...(stack.where ? {where: stack.where} : {}),
      frames: stack.frames,
    }));
    // What stays of the objects allocated since the drill-down began, over all its stacks.
    if (view.stays) json.stays = {since: view.stays.since, count: view.stays.count, bytes: view.stays.bytes, untracked: view.stays.untracked};
  }
  if (snapshot.histogram) {
    json.histogram = snapshot.histogram;
    json.histogramUnit = histogramUnit(snapshot.tab);
  }
  if (snapshot.allocator) json.allocator = snapshot.allocator;
  if (snapshot.entryPoints) json.entryPoints = snapshot.entryPoints;
  if (snapshot.processes) json.processes = snapshot.processes;
  if (snapshot.frameNotes) json.frameNotes = snapshot.frameNotes;
  if (snapshot.capped) json.capped = true;
  if (snapshot.skippedLines) json.skippedLines = snapshot.skippedLines;
  if (snapshot.skippedLines && snapshot.skippedSample) json.skippedSample = snapshot.skippedSample;
  return json;
}

