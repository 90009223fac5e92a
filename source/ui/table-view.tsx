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
  // The rows are one text, the selected one a text inside it: one node for Yoga to lay out and
  // one for React to update however many rows there are, instead of one or more a row.
  const lines = props.rows.map(row => fit(columns.map(column => fit(column.format(row), column.width, column.align)).join(' '), props.width));
  const selected = props.selected < lines.length ? props.selected : -1;
  const before = selected === -1 ? lines : lines.slice(0, selected);
  const after = selected === -1 ? [] : lines.slice(selected + 1);
  return (
    <Box flexDirection="column">
      <Text inverse>{fit(header, props.width)}</Text>
      {lines.length > 0 ? (
        <Text>
          {before.length > 0 ? before.join('\n') + (selected === -1 ? '' : '\n') : null}
          {selected === -1 ? null : (
            <Text inverse color="cyan">
              {lines[selected]}
            </Text>
          )}
          {after.length > 0 ? '\n' + after.join('\n') : null}
        </Text>
      ) : null}
    </Box>
  );
}
