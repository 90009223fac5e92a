// The drill-down: one process's top user stacks for the tab's event (with their time for reclaim
// stalls, and where minor faults were), or the kernel paths into a slab cache with the processes
// behind them, frames innermost first, with malloc's request-size histogram and entry points or
// reclaim's stall lengths, sized to the lines it is given.
import React from 'react';
import {Box, Text} from 'ink';
import {fit, humanAge, humanBytes, humanCount, humanMs, sanitize, toFixed} from '../format.js';
import type {HistogramBucket, StackRow, TracerStackSnapshot} from '../types.js';
import {emptyStacksText, histogramRange, histogramUnit, liveSummary, sharedInnermost, staysSummary, type TopStack, type TopStacks} from '../model/stacks.js';

export interface StackViewProps {
  data?: TopStacks;
  /** The process has exited. */
  exited?: boolean;
  snapshot?: TracerStackSnapshot;
  width: number;
  height: number;
}

function histogramLines(snapshot: TracerStackSnapshot, width: number, maxLines: number): string[] {
  const buckets = snapshot.histogram ?? [];
  if (buckets.length === 0 || maxLines <= 0) return [];
  const peak = Math.max(...buckets.map(bucket => bucket.count), 1);
  const barWidth = Math.max(4, Math.min(40, width - 32));
  const lines = histogramShown(buckets, maxLines).map(bucket => {
    const range = histogramRange(snapshot.tab, bucket);
    const bar = '█'.repeat(Math.max(bucket.count > 0 ? 1 : 0, Math.round((bucket.count / peak) * barWidth)));
    return `${fit(range, 16, 'right')} ${fit(bar, barWidth)} ${humanCount(bucket.count)}`;
  });
  return lines;
}

/**
 * The buckets a histogram of `maxLines` lines shows: all of them when they fit; else without the
 * empty ones; else the fullest, in order, so that where the events are is never cut off.
 */
export function histogramShown(buckets: readonly HistogramBucket[], maxLines: number): HistogramBucket[] {
  if (buckets.length <= maxLines) return [...buckets];
  const full = buckets.filter(bucket => bucket.count > 0);
  if (full.length <= maxLines) return full;
  const kept = new Set([...full].sort((a, b) => b.count - a.count || a.min - b.min).slice(0, maxLines));
  return full.filter(bucket => kept.has(bucket));
}

/** Where a stack's events were, as its column shows it: the main mapping, and how many others. */
export function placeText(stack: StackRow): string {
  const [first, ...others] = stack.where ?? [];
  if (!first) return '';
  return others.length === 0 ? sanitize(first.mapping) : `${sanitize(first.mapping)} +${others.length}`;
}

const PLACE_WIDTH = 16;

/** A stack's numbers (count, bytes or time, where, share), as wide as the header's. */
function numbersOf(data: TopStacks, stack: TopStack): string {
  // Live stacks: what is outstanding first, then how many, how old the oldest, and the share.
  if (data.live) return `${fit(humanBytes(stack.bytes ?? 0), 9, 'right')} ${fit(humanCount(stack.count), 9, 'right')} ${fit(humanAge(stack.age ?? 0), 7, 'right')} ${fit(toFixed(stack.share, 1) + '%', 6, 'right')}  `;
  return (
    `${fit(humanCount(stack.count), 9, 'right')} ` +
    (data.hasBytes ? fit(humanBytes(stack.bytes ?? 0), 9, 'right') + ' ' : '') +
    (data.hasTime ? fit(humanMs(stack.ms ?? 0), 9, 'right') + ' ' : '') +
    (data.stays ? fit(humanCount(stack.stays ?? 0), 9, 'right') + ' ' + fit(humanBytes(stack.staysBytes ?? 0), 9, 'right') + ' ' : '') +
    `${fit(toFixed(stack.share, 1) + '%', 6, 'right')}  ` +
    (data.hasPlaces ? fit(placeText(stack), PLACE_WIDTH) + ' ' : '')
  );
}

/** The header over the stacks, aligned with numbersOf. */
export function stackHeader(data: TopStacks, kernel: boolean): string {
  if (data.live) return `${fit('LIVE', 9, 'right')} ${fit('ALLOCS', 9, 'right')} ${fit('OLDEST', 7, 'right')} ${fit('SHARE', 6, 'right')}  STACK AT THE ALLOCATION'S RETURN (innermost first)`;
  return (
    `${fit('COUNT', 9, 'right')} ` +
    (data.hasBytes ? fit('BYTES', 9, 'right') + ' ' : '') +
    (data.hasTime ? fit('TIME', 9, 'right') + ' ' : '') +
    (data.stays ? fit('STAYS', 9, 'right') + ' ' + fit('STAYS B', 9, 'right') + ' ' : '') +
    `${fit('SHARE', 6, 'right')}  ` +
    (data.hasPlaces ? fit('WHERE', PLACE_WIDTH) + ' ' : '') +
    `${kernel ? 'KERNEL STACK' : 'STACK'} (innermost first)`
  );
}

/**
 * The stacks in `height` lines: one frame a line while every stack fits in its share of the
 * lines. When they do not, the innermost frames all of them share are said once, and each stack
 * goes on from where it differs, its last line carrying the frames left joined by " ← ", so that
 * a short view still shows what tells the paths apart rather than the same allocator frame ten times.
 */
export function stackLines(data: TopStacks, height: number): Line[] {
  const lines: Line[] = [];
  const stacks = data.stacks;
  if (stacks.length === 0) return [{text: emptyStacksText(data), dim: true}];
  const budget = (available: number) => Math.max(1, Math.floor(available / stacks.length));
  let perStack = budget(height);
  let skip = 0;
  if (stacks.some(stack => stack.frames.length > perStack)) {
    skip = sharedInnermost(stacks);
    if (skip > 0) {
      lines.push({text: `every path starts ${stacks[0]!.frames.slice(0, skip).map(sanitize).join(' ← ')}, then:`, dim: true});
      perStack = budget(height - 1);
    }
  }
  for (const stack of stacks) {
    if (lines.length >= height) break;
    const numbers = numbersOf(data, stack);
    const indent = ' '.repeat(numbers.length);
    const frames = stack.frames.slice(skip).map(sanitize);
    const own = Math.max(1, Math.min(perStack, height - lines.length));
    const rows = frames.length <= own ? frames : [...frames.slice(0, own - 1), frames.slice(own - 1).join(' ← ')];
    rows.forEach((row, index) => lines.push(index === 0 ? {text: numbers + (row || '?'), bold: true} : {text: indent + row}));
  }
  return lines.slice(0, height);
}

interface Line {
  text: string;
  bold?: boolean;
  dim?: boolean;
}

export function StackView({data, snapshot, exited, width, height}: StackViewProps) {
  if (!data || !snapshot) {
    return <Text dimColor>{fit(exited ? 'the process exited before its first stacks: Esc goes back' : 'waiting for the first stacks…', width)}</Text>;
  }
  const lines: Line[] = [];
  if (snapshot.entryPoints && snapshot.entryPoints.length > 0) {
    lines.push({text: 'entry points: ' + snapshot.entryPoints.map(entry => `${entry.name} ${humanCount(entry.count)}`).join('  '), dim: true});
  }
  const histogramBudget = Math.min(8, Math.floor(height / 3));
  const histogram = histogramLines(snapshot, width, histogramBudget);
  if (histogram.length > 0) {
    lines.push({text: histogramUnit(snapshot.tab) === 'us' ? 'lengths:' : 'request sizes:', dim: true});
    for (const line of histogram) lines.push({text: line});
  }
  const processes = (snapshot.processes ?? []).slice(0, Math.min(5, Math.floor(height / 4)));
  if (processes.length > 0) {
    lines.push({text: `${fit('PID', 9, 'right')} ${fit('COMM', 16)} ${fit('ALLOCS', 9, 'right')} ${fit('BYTES', 9, 'right')}  (processes allocating from it)`, dim: true});
    for (const share of processes) {
      lines.push({text: `${fit(String(share.pid), 9, 'right')} ${fit(sanitize(share.comm), 16)} ${fit(humanCount(share.count), 9, 'right')} ${fit(humanBytes(share.bytes ?? 0), 9, 'right')}`});
    }
  }
  if (data.live) lines.push({text: liveSummary(data), dim: true});
  if (data.stays) lines.push({text: staysSummary(data.stays, true), dim: true});
  // Why frames are unnamed, once per view; at most two lines, so the stacks keep the screen.
  for (const note of (snapshot.frameNotes ?? []).slice(0, Math.max(1, Math.min(2, Math.floor(height / 6))))) lines.push({text: sanitize(note.text), dim: true});
  lines.push({text: stackHeader(data, snapshot.kernel === true), bold: true});
  lines.push(...stackLines(data, height - lines.length));
  return (
    <Box flexDirection="column">
      {lines.slice(0, height).map((line, index) => (
        <Text key={index} bold={line.bold} dimColor={line.dim}>
          {fit(line.text, width)}
        </Text>
      ))}
    </Box>
  );
}
