// The top-N table of one tab: a header row with the sort column marked, then the rows.
import React from 'react';
import {Box, Text} from 'ink';
import {fit} from '../format.js';
import {effectiveSortColumn, type Column} from '../model/columns.js';
import type {TableRow} from '../model/table.js';
import type {ViewDefinition} from '../registry.js';

export interface TableViewProps {
  columns: Column[];
  rows: TableRow[];
  selected: number;
  sortColumn: string;
  descending: boolean;
  cumulative: boolean;
  view: ViewDefinition;
  width: number;
  /** The rows are from an earlier run of the view's tracer: drawn dim (the status line says their time). */
  stale?: boolean;
  /** Why there are no rows, said where they would be. */
  empty?: string;
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

export function TableView(props: TableViewProps) {
  const columns = visibleColumns(props.columns, props.width);
  const sortId = effectiveSortColumn(props.sortColumn, props.cumulative, props.view);
  const header = columns
    .map(column => {
      const mark = column.id === sortId ? (props.descending ? '▼' : '▲') : '';
      const title = column.align === 'right' ? mark + column.title : column.title + mark;
      return fit(title, column.width, column.align);
    })
    .join(' ');
  // The rows are one text before the selected row, the selected row, and one text after it: three
  // nodes for Yoga to lay out and React to update however many rows there are, and colour
  // escapes (which Ink then reads character by character) only in the selected row's text.
  const lines = props.rows.map(row => fit(columns.map(column => fit(column.format(row), column.width, column.align)).join(' '), props.width));
  const selected = props.selected < lines.length ? props.selected : lines.length;
  const before = lines.slice(0, selected);
  const after = lines.slice(selected + 1);
  return (
    <Box flexDirection="column">
      <Text inverse>{fit(header, props.width)}</Text>
      {before.length > 0 ? <Text dimColor={props.stale}>{before.join('\n')}</Text> : null}
      {selected < lines.length ? (
        <Text inverse color={props.stale ? 'gray' : 'cyan'}>
          {lines[selected]}
        </Text>
      ) : null}
      {after.length > 0 ? <Text dimColor={props.stale}>{after.join('\n')}</Text> : null}
      {lines.length === 0 && props.empty ? <Text dimColor>{fit(props.empty, props.width)}</Text> : null}
    </Box>
  );
}
