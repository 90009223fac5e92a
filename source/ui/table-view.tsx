// The top-N table of one tab: a header row with the sort column marked, then the rows.
import React from 'react';
import {Box, Text} from 'ink';
import {fit} from '../format.js';
import {effectiveSortColumn, type Column} from '../model/columns.js';
import type {TableRow} from '../model/table.js';
import type {TabId, ViewId} from '../registry.js';

export interface TableViewProps {
  columns: Column[];
  rows: TableRow[];
  selected: number;
  sortColumn: string;
  descending: boolean;
  cumulative: boolean;
  tab: TabId;
  view: ViewId;
  width: number;
}

/** Lay the columns out left to right, dropping those that do not fit the width. */
function visibleColumns(columns: Column[], width: number): Column[] {
  const shown: Column[] = [];
  let used = 0;
  for (const column of columns) {
    if (used + column.width + 1 > width && shown.length > 0) break;
    shown.push(column);
    used += column.width + 1;
  }
  return shown;
}

/**
 * A row cut where printable ASCII meets anything else (a TREND sparkline): Ink measures every
 * text it draws with string-width, which takes an ASCII string's length but walks a whole line
 * grapheme by grapheme when one block character is in it. Rows as one text each cost a third
 * more CPU per frame (test/bench/profile-app.tsx). More than 5 runs (a name full of non-ASCII)
 * stay one text.
 */
export function asciiRuns(line: string): string[] {
  const runs = line.match(/[\x20-\x7e]+|[^\x20-\x7e]+/g) ?? [line];
  return runs.length > 5 ? [line] : runs;
}

/** One table row as Text, cut into its ASCII runs (see asciiRuns). */
function Line({text, ...style}: {text: string; inverse: boolean; color?: string}) {
  const parts = asciiRuns(text);
  if (parts.length === 1) return <Text {...style}>{text}</Text>;
  return (
    <Box height={1}>
      {parts.map((part, at) => (
        <Text key={at} {...style}>
          {part}
        </Text>
      ))}
    </Box>
  );
}

export function TableView(props: TableViewProps) {
  const columns = visibleColumns(props.columns, props.width);
  const sortId = effectiveSortColumn(props.sortColumn, props.cumulative, props.tab, props.view);
  const header = columns
    .map(column => {
      const mark = column.id === sortId ? (props.descending ? '▼' : '▲') : '';
      const title = column.align === 'right' ? mark + column.title : column.title + mark;
      return fit(title, column.width, column.align);
    })
    .join(' ');
  return (
    <Box flexDirection="column">
      <Text inverse>{fit(header, props.width)}</Text>
      {props.rows.map((row, index) => (
        <Line
          key={row.key}
          text={fit(columns.map(column => fit(column.format(row), column.width, column.align)).join(' '), props.width)}
          inverse={index === props.selected}
          color={index === props.selected ? 'cyan' : undefined}
        />
      ))}
    </Box>
  );
}
