// The table view: a header, then each row on one line of exactly the table's width, columns
// aligned in terminal cells whatever the names, the selected row drawn inverse.
import test from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import stringWidth from 'string-width';
import {columnsFor} from '../source/model/columns.js';
import type {TableRow} from '../source/model/table.js';
import {viewOf} from '../source/registry.js';

// Colours on, as in a terminal (Ink's chalk reads this when it is first loaded), to see the selection.
process.env.FORCE_COLOR = '1';
const {render} = await import('ink-testing-library');
const {TableView} = await import('../source/ui/table-view.js');

const row = (pid: number, comm: string, count: number, history: number[]): TableRow => ({
  key: `pid:${pid}`, pid, comm, count, bytes: count * 64, rate: count, lastSeen: 1, history, totalCount: count * 3, totalBytes: count * 192,
});

const rows = [row(101, 'alpha', 900, [1, 5, 9]), row(102, '测试进程名字', 500, [9, 5, 1]), row(103, 'charlie', 7, [])];
const ESC = '\u001b';
const plain = (text: string) => text.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

function draw(selected: number, width = 100) {
  const instance = render(
    <TableView columns={columnsFor(viewOf('malloc', 'process'), {trend: {ascii: false}})} rows={rows} selected={selected} sortColumn="count" descending cumulative={false} view={viewOf('malloc', 'process')} width={width} />,
  );
  const frame = instance.lastFrame() ?? '';
  instance.unmount();
  return frame.split('\n');
}

test('each row is one line, in order, its columns where the header says, wide names included', () => {
  const lines = draw(1);
  assert.equal(lines.length, 4);
  assert.match(plain(lines[0]!), /PID COMM\s+▼CALLS/);
  assert.deepEqual(lines.slice(1).map(line => /^\s*(\d+)/.exec(plain(line))?.[1]), ['101', '102', '103']);
  const trendAt = (line: string) => stringWidth(plain(line).slice(0, plain(line).search(/[▁-█]/)));
  assert.equal(trendAt(lines[1]!), trendAt(lines[2]!), 'the sparkline starts in the same cell after a CJK name');
  for (const line of lines) assert.ok(stringWidth(plain(line)) <= 100, line);
});

test('only the selected row is drawn inverse, across the whole width', () => {
  for (const selected of [0, 1, 2]) {
    const lines = draw(selected);
    lines.slice(1).forEach((line, index) => assert.equal(line.includes(`${ESC}[7m`), index === selected, `row ${index} with ${selected} selected: ${JSON.stringify(line)}`));
    assert.equal(stringWidth(plain(lines[selected + 1]!)), 100);
  }
});
