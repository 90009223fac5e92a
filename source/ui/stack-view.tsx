// The drill-down: one process's top user stacks for the tab's event, frames innermost first,
// with the malloc request-size histogram and entry points, sized to the lines it is given.
import React from 'react';
import {Box, Text} from 'ink';
import {fit, humanBytes, humanCount, sanitize} from '../format.js';
import type {TracerStackSnapshot} from '../types.js';
import type {StackView as StackData} from '../model/stacks.js';

export interface StackViewProps {
  data?: StackData;
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
  const lines = buckets.slice(0, maxLines).map(bucket => {
    const range = `[${humanBytes(bucket.min)}, ${humanBytes(bucket.max + 1)})`;
    const bar = '█'.repeat(Math.max(bucket.count > 0 ? 1 : 0, Math.round((bucket.count / peak) * barWidth)));
    return `${fit(range, 16, 'right')} ${fit(bar, barWidth)} ${humanCount(bucket.count)}`;
  });
  return lines;
}

export function StackView({data, snapshot, exited, width, height}: StackViewProps) {
  if (!data || !snapshot) {
    return <Text dimColor>{fit(exited ? 'the process exited before its first stacks: Esc goes back' : 'waiting for the first stacks…', width)}</Text>;
  }
  const lines: {text: string; bold?: boolean; dim?: boolean}[] = [];
  if (snapshot.entryPoints && snapshot.entryPoints.length > 0) {
    lines.push({text: 'entry points: ' + snapshot.entryPoints.map(entry => `${entry.name} ${humanCount(entry.count)}`).join('  '), dim: true});
  }
  const histogramBudget = Math.min(8, Math.floor(height / 3));
  const histogram = histogramLines(snapshot, width, histogramBudget);
  if (histogram.length > 0) {
    lines.push({text: 'request sizes:', dim: true});
    for (const line of histogram) lines.push({text: line});
  }
  const header = `${fit('COUNT', 9, 'right')} ${data.hasBytes ? fit('BYTES', 9, 'right') + ' ' : ''}${fit('SHARE', 6, 'right')}  STACK (innermost first)`;
  lines.push({text: header, bold: true});
  const remaining = Math.max(1, height - lines.length);
  const stacks = data.stacks;
  if (stacks.length === 0) lines.push({text: 'no stacks in this interval', dim: true});
  // Give each stack an equal share of the lines left, at least two (its numbers and one frame).
  const perStack = Math.max(2, Math.floor(remaining / Math.max(1, stacks.length)));
  for (const stack of stacks) {
    if (lines.length >= height) break;
    const numbers = `${fit(humanCount(stack.count), 9, 'right')} ${data.hasBytes ? fit(humanBytes(stack.bytes ?? 0), 9, 'right') + ' ' : ''}${fit(stack.share.toFixed(1) + '%', 6, 'right')}  `;
    const frames = stack.frames.map(sanitize);
    const frameLines = Math.max(1, Math.min(frames.length, perStack - 1, height - lines.length));
    lines.push({text: numbers + (frames[0] ?? '?'), bold: true});
    for (const frame of frames.slice(1, frameLines)) {
      if (lines.length >= height) break;
      lines.push({text: ' '.repeat(numbers.length) + frame});
    }
    if (frames.length > frameLines && lines.length < height) {
      lines[lines.length - 1] = {...lines[lines.length - 1]!, text: lines[lines.length - 1]!.text + ` … +${frames.length - frameLines}`};
    }
  }
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
