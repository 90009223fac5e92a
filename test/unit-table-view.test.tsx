// Table rows are drawn as their printable-ASCII runs, so that a sparkline in a row does not
// send the whole row down string-width's grapheme-by-grapheme path.
import test from 'node:test';
import assert from 'node:assert/strict';
import {asciiRuns} from '../source/ui/table-view.js';

test('a plain ASCII row stays one run', () => {
  assert.deepEqual(asciiRuns('  1234 bash   12.3k'), ['  1234 bash   12.3k']);
});

test('a sparkline splits a row into ASCII, blocks, ASCII, and the runs join back to the row', () => {
  const row = '  1234 bash   12.3k  ▁▂█  99';
  assert.deepEqual(asciiRuns(row), ['  1234 bash   12.3k  ', '▁▂█', '  99']);
  assert.equal(asciiRuns(row).join(''), row);
});

test('more than five runs (a name full of non-ASCII) stay one text', () => {
  const row = 'a é b ü c ö d ▁ e';
  assert.deepEqual(asciiRuns(row), [row]);
});
