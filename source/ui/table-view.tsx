// The top-N table of one tab: a header row with the sort column marked, then the rows.
import React from 'react';
import {Box, Text} from 'ink';
import {fit} from '../format.js';
import {effectiveSortColumn, type Column} from '../model/columns.js';
import type {TableRow} from '../model/table.js';

export interface TableViewProps {
  columns: Column[];
  rows: TableRow[];
  selected: number;
  sortColumn: string;
  descending: boolean;
  cumulative: boolean;
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
  const sortId = effectiveSortColumn(props.sortColumn as Column['id'], props.cumulative);
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
      {props.rows.map((row, index) => {
        const line = columns.map(column => fit(column.format(row), column.width, column.align)).join(' ');
        return (
          <Text key={row.key} inverse={index === props.selected} color={index === props.selected ? 'cyan' : undefined}>
            {fit(line, props.width)}
          </Text>
        );
      })}
    </Box>
  );
}
