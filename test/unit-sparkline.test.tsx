// Unit tests for sparklines: scaling of a rate series, zero and gaps, width, the ASCII
// fallback and the locale check; and a component test of a rendered table row fragment.
import {afterEach, test} from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import {Box, Text} from 'ink';
import {render} from 'ink-testing-library';
import {ASCII_LEVELS, sparkline, supportsUnicode, UNICODE_LEVELS} from '../source/model/sparkline.js';
import {applyRows, emptyTable, RATE_HISTORY} from '../source/model/table.js';
import {viewOf} from '../source/registry.js';

test('a rising series climbs from the lowest mark to the full block, scaled to its largest value', () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8, false), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([10, 20, 30, 40, 50, 60, 70, 80], 8, false), '▁▂▃▄▅▆▇█', 'only the shape counts');
  assert.equal(sparkline([8, 4, 2, 1], 4, false), '█▄▂▁');
  assert.equal(sparkline([5, 5, 5], 3, false), '███', 'a steady rate is a full bar');
});

test('zero is a space and any activity at least the lowest mark', () => {
  assert.equal(sparkline([0, 1000, 0, 1, 0], 5, false), ' █ ▁ ');
  assert.equal(sparkline([0, 0, 0], 3, false), '   ');
  assert.equal(sparkline([-5, Number.NaN, Infinity, 2], 4, false), '   █', 'negative and non-finite values draw nothing');
});

test('exactly width characters: the newest values on the right, short histories padded left', () => {
  const long = Array.from({length: 30}, (_, index) => index + 1);
  const line = sparkline(long, 10, false);
  assert.equal([...line].length, 10);
  assert.equal(line, '▆▆▆▆▇▇▇▇██', 'the last ten (21 to 30), scaled to the largest of them');
  assert.equal(sparkline([3], 4, false), '   █');
  assert.equal(sparkline([], 3, false), '   ');
  assert.equal(sparkline([1, 2], 0, false), '');
  assert.equal(sparkline([1, 2], -3, true), '');
});

test('the ASCII fallback has its own ten levels, space for zero', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10, true), ' .:-=+*#%@');
  assert.equal(sparkline([0, 3, 9], 3, true), ' -@');
  assert.match(sparkline(Array.from({length: 30}, (_, index) => (index * 37) % 11), 30, true), /^[ .:\-=+*#%@]{30}$/);
  assert.equal([...UNICODE_LEVELS].length, 9);
  assert.equal([...ASCII_LEVELS].length, 10);
});

test('a row\'s rate history from the model draws as its sparkline, a growing leak as a ramp', () => {
  let table = emptyTable();
  const meta = {elapsedMs: 1000, probe: 'p', backend: 'bpftrace' as const, time: 't', capped: false, skippedLines: 0};
  for (let interval = 1; interval <= 40; interval++) {
    table = applyRows(table, interval % 10 === 0 ? [] : [{pid: 7, comm: 'leaky', count: interval * 10}], meta, viewOf('majfault', 'process'));
  }
  const history = table.rows.get('pid:7')!.history;
  assert.equal(history.length, RATE_HISTORY);
  const line = sparkline(history, RATE_HISTORY, false);
  assert.equal(line, '▂▂▃▃▃▃▃▄▄ ▄▅▅▅▅▅▆▆▆ ▆▇▇▇▇▇███ ', 'rates 110 to 390 a second with a quiet interval every tenth');
  assert.equal(sparkline(table.totalRateHistory, 10, true), '##%%%%@@@ ');
});

test('supportsUnicode reads the first set of LC_ALL, LC_CTYPE, LANG for UTF-8', () => {
  assert.equal(supportsUnicode({LANG: 'en_US.UTF-8'}), true);
  assert.equal(supportsUnicode({LANG: 'de_DE.utf8'}), true);
  assert.equal(supportsUnicode({LC_CTYPE: 'C.UTF-8', LANG: 'C'}), true);
  assert.equal(supportsUnicode({LC_ALL: 'C', LC_CTYPE: 'en_US.UTF-8', LANG: 'en_US.UTF-8'}), false, 'LC_ALL wins');
  assert.equal(supportsUnicode({LC_ALL: 'POSIX'}), false);
  assert.equal(supportsUnicode({LC_ALL: '', LANG: 'fr_FR.UTF-8'}), true, 'an empty variable is not set');
  assert.equal(supportsUnicode({LANG: 'en_US.ISO-8859-1'}), false);
  assert.equal(supportsUnicode({}), false, 'nothing set is the C locale');
});

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup) done();
  cleanup = [];
});

function mount(element: React.ReactElement) {
  const instance = render(element);
  cleanup.push(() => instance.unmount());
  return instance;
}

function Row({ascii}: {ascii: boolean}) {
  return (
    <Box width={50}>
      <Text>{'    101 leaky             '}</Text>
      <Text color="cyan">{sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8, 16], 12, ascii)}</Text>
      <Text>{' 16.0'}</Text>
    </Box>
  );
}

test('a rendered row carries its sparkline in its own cells, in blocks or in ASCII', () => {
  const unicode = mount(<Row ascii={false} />);
  assert.equal(unicode.lastFrame(), '    101 leaky                ▁▁▂▂▃▃▄▄█ 16.0');
  const ascii = mount(<Row ascii />);
  assert.equal(ascii.lastFrame(), '    101 leaky                ..::--=+@ 16.0');
  const empty = mount(<Text>{sparkline([], 5, false)}</Text>);
  assert.equal(empty.lastFrame(), '');
});
