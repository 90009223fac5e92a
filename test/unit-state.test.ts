// Unit tests for the reducer, the key table, flag parsing and formatting.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {clampInterval, initialState, reducer} from '../source/state/reducer.js';
import {TAB_IDS} from '../source/registry.js';
import {bindingsFor, commandFor, footerText, KEY_BINDINGS, type KeyContext} from '../source/state/keys.js';
import {parseFlags, UsageError} from '../source/flags.js';
import stringWidth from 'string-width';
import {fit, humanBytes, humanCount, ONE_CELL_EACH, sanitize, textWidth, toFixed} from '../source/format.js';
import {UNICODE_LEVELS} from '../source/model/sparkline.js';
import {key} from './helpers/ink-key.js';


test('tabs cycle both ways and by number; switching clears the drill-down and selection', () => {
  let state = initialState();
  state = reducer(state, {type: 'tab-prev'});
  assert.equal(state.tab, TAB_IDS.at(-1));
  state = reducer(state, {type: 'tab-next'});
  assert.equal(state.tab, 'malloc');
  state = reducer({...state, selected: 3, drill: {tab: 'malloc', pid: 1, comm: 'x'}}, {type: 'tab', tab: 'slab'});
  assert.equal(state.tab, 'slab');
  assert.equal(state.selected, 0);
  assert.equal(state.drill, undefined);
});

test('selection stays within the rows', () => {
  let state = initialState();
  state = reducer(state, {type: 'select', delta: -1, rowCount: 5});
  assert.equal(state.selected, 0);
  state = reducer(state, {type: 'select', delta: 10, rowCount: 5});
  assert.equal(state.selected, 4);
});

test('sort column moves left and right through the tab columns with their default direction', () => {
  let state = initialState({tab: 'anonpgin'});
  state = reducer(state, {type: 'sort-next'});
  assert.equal(state.sortColumn, 'rate');
  assert.equal(state.descending, true);
  state = reducer(state, {type: 'sort-prev'});
  state = reducer(state, {type: 'sort-prev'});
  assert.equal(state.sortColumn, 'comm');
  assert.equal(state.descending, false);
  state = reducer(state, {type: 'reverse'});
  assert.equal(state.descending, true);
});

test('a view key cycles only the tab it belongs to, and a sort column the other view lacks falls back', () => {
  assert.equal(reducer(initialState({tab: 'brk'}), {type: 'view-next', key: 'g'}).view, 'process');
  assert.equal(reducer(initialState({tab: 'slab'}), {type: 'view-next', key: 'x'}).view, 'process');
  let state = reducer(initialState({tab: 'slab'}), {type: 'sort-prev'});
  state = reducer(state, {type: 'sort-prev'});
  assert.equal(state.sortColumn, 'pid');
  state = reducer(state, {type: 'view-next', key: 'g'});
  assert.equal(state.view, 'cache');
  assert.equal(state.sortColumn, 'count');
  state = reducer(state, {type: 'tab', tab: 'malloc'});
  assert.equal(state.view, 'process', 'a tab without that view shows its own first view');
  state = reducer(state, {type: 'view-next', key: 'g'});
  assert.equal(state.view, 'process');
});

test('pause, help, cumulative toggle; back closes help, then the drill-down, then the filter', () => {
  let state = initialState();
  state = reducer(state, {type: 'pause'});
  assert.equal(state.paused, true);
  state = reducer(state, {type: 'cumulative'});
  assert.equal(state.cumulative, true);
  state = {...state, filter: 'x', drill: {tab: 'malloc', pid: 3, comm: 'c'}, help: true};
  state = reducer(state, {type: 'back'});
  assert.equal(state.help, false);
  assert.ok(state.drill);
  state = reducer(state, {type: 'back'});
  assert.equal(state.drill, undefined);
  assert.equal(state.filter, 'x');
  state = reducer(state, {type: 'back'});
  assert.equal(state.filter, '');
});

test('filter typing drops control characters; erase removes one character', () => {
  let state = reducer(initialState(), {type: 'filter-start'});
  state = reducer(state, {type: 'filter-type', text: 'ng\u001bx'});
  assert.equal(state.filter, 'ngx');
  state = reducer(state, {type: 'filter-erase'});
  assert.equal(state.filter, 'ng');
  state = reducer(state, {type: 'filter-clear'});
  assert.equal(state.filter, '');
  assert.equal(state.filtering, false);
});

test('interval steps double and halve within 100 ms .. 60 s', () => {
  assert.equal(reducer(initialState(), {type: 'interval', factor: 2}).intervalMs, 2000);
  assert.equal(reducer(initialState({intervalMs: 100}), {type: 'interval', factor: 0.5}).intervalMs, 100);
  assert.equal(clampInterval(999_999), 60_000);
  assert.equal(clampInterval(149), 100);
});

const table: KeyContext = {mode: 'table', replaying: false, tab: 'malloc', view: 'process'};
const drill: KeyContext = {...table, mode: 'drill'};

test('the key table maps keys to commands per mode', () => {
  assert.deepEqual(commandFor('', key({tab: true}), table), {kind: 'action', action: {type: 'tab-next'}});
  assert.deepEqual(commandFor('', key({tab: true, shift: true}), table), {kind: 'action', action: {type: 'tab-prev'}});
  assert.deepEqual(commandFor('3', key(), table), {kind: 'action', action: {type: 'tab', tab: 'slab'}});
  assert.deepEqual(commandFor('<', key(), table), {kind: 'action', action: {type: 'sort-prev'}});
  assert.deepEqual(commandFor('>', key(), table), {kind: 'action', action: {type: 'sort-next'}});
  assert.deepEqual(commandFor('j', key(), table), {kind: 'select', delta: 1});
  assert.deepEqual(commandFor('c', key({ctrl: true}), drill), {kind: 'quit', interrupt: true});
  assert.deepEqual(commandFor('c', key({ctrl: true}), table), {kind: 'quit', interrupt: true}, "Ctrl-C quits (with -- COMMAND, interrupts it); it is not the 'c' key");
  assert.deepEqual(commandFor('q', key(), table), {kind: 'quit'});
  assert.equal(commandFor('r', key({ctrl: true}), table), undefined);
  assert.equal(commandFor('j', key(), drill), undefined, 'selection keys do nothing in the stack view');
  assert.ok(footerText(table).includes('q quit'));
  assert.ok(KEY_BINDINGS.every(binding => binding.description.length > 0));
});

test('flags: defaults, validation and one-line errors', () => {
  const defaults = parseFlags([]);
  assert.equal(defaults.tab, 'malloc');
  assert.equal(defaults.intervalMs, 1000);
  assert.equal(defaults.limit, 10);
  const bad: [string[], RegExp][] = [
    [['--tab', 'heap'], /unknown tab "heap": use one of/],
    [['--backend', 'perf'], /unknown backend "perf"/],
    [['--interval', '5'], /--interval 5 is out of range/],
    [['--interval', '1e3'], /--interval must be a whole number/],
    [['--limit', '0'], /--limit 0 is out of range/],
    [['--pid', 'abc'], /--pid must be a whole number/],
    [['--batch', '--stacks'], /--stacks needs --pid/],
    [['--comm', ''], /--comm needs a process name/],
    [['--comm', 'a\nb'], /control characters/],
    [['--frobnicate'], /unknown flag --frobnicate/],
  ];
  for (const [argv, message] of bad) {
    assert.throws(() => parseFlags(argv), (error: unknown) => error instanceof UsageError && message.test(error.message) && !error.message.includes('\n'), argv.join(' '));
  }
});

test('formatting: human numbers, bytes with sign, fitting with an ellipsis, sanitising', () => {
  assert.equal(humanCount(999), '999');
  assert.equal(humanCount(1_234_567), '1.2M');
  assert.equal(humanBytes(1536), '1.5K');
  assert.equal(humanBytes(-4096), '-4.0K');
  assert.equal(fit('abcdef', 4), 'abc…');
  assert.equal(fit('ab', 4, 'right'), '  ab');
  assert.equal(sanitize('a\u001b]0;title\u0007b\u009bc'), 'a?]0;title?b?c');
});

test('toFixed writes what Number.prototype.toFixed writes, away from rounding ties', () => {
  for (const [value, digits, text] of [[0, 1, '0.0'], [-0, 1, '0.0'], [-0.04, 1, '-0.0'], [9.96, 1, '10.0'], [1536 / 1024, 1, '1.5'], [99.5, 0, '100'], [0.007, 2, '0.01'], [1e13, 1, '10000000000000.0'], [Number.NaN, 1, 'NaN']] as const) {
    assert.equal(toFixed(value, digits), text, `${value} to ${digits}`);
  }
  // Random values over every magnitude formatting meets, each checked against the builtin.
  let seed = 1;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let index = 0; index < 20_000; index++) {
    const value = (random() - 0.3) * 10 ** Math.floor(random() * 12);
    for (const digits of [0, 1, 2, 3] as const) {
      const scaled = Math.abs(value) * 10 ** digits;
      if (Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-6) continue; // a tie: the two may round apart
      assert.equal(toFixed(value, digits), value.toFixed(digits), `${value} to ${digits}`);
    }
  }
});

test('the characters memtop draws itself take one cell each, as string-width measures them, and cut between any two', () => {
  const own = ['·', '×', '…', '←', '↑', '→', '↓', ...UNICODE_LEVELS.slice(1), '▲', '▼'];
  for (const character of own) {
    assert.ok(ONE_CELL_EACH.test(character), character);
    assert.equal(stringWidth(character), 1, character);
    assert.equal(textWidth(`a${character}b`), stringWidth(`a${character}b`), character);
  }
  assert.equal(fit('12 ▁▂▃▄▅▆▇█ 34', 6), '12 ▁▂…');
  // Anything else still goes to string-width: a wide name, a combining mark.
  assert.ok(!ONE_CELL_EACH.test('测'));
  assert.equal(textWidth('a测b'), 4);
  assert.equal(textWidth('e\u0301'), 1);
});

test('keys are offered only where they do something', () => {
  const keysOf = (context: KeyContext) => new Set(bindingsFor(context).flatMap(binding => binding.keys));
  const slabByProcess = keysOf({...table, tab: 'slab', view: 'process'});
  const slabByCache = keysOf({...table, tab: 'slab', view: 'cache'});
  const malloc = keysOf(table);
  assert.ok(slabByProcess.has('g') && slabByCache.has('g'), 'g switches slab between its views');
  assert.ok(!malloc.has('g'), 'malloc has one view');
  assert.ok(slabByProcess.has('C') && !slabByCache.has('C'), 'a cache row has no cgroup');
  assert.ok(slabByCache.has('Enter'), 'a cache row drills into its kernel paths');
  for (const tab of ['malloc', 'brk', 'majfault', 'anonpgin'] as const) assert.ok(keysOf({...table, tab}).has('Enter'));
  assert.ok(!keysOf(drill).has('C') && !keysOf(drill).has('Enter'));
  assert.ok(!footerText({...table, tab: 'slab', view: 'cache'}).includes('cgroup'));
});

test('a sort left at its default follows each tab\'s default; a chosen one is kept where it can be', () => {
  let state = reducer(initialState(), {type: 'tab', tab: 'reclaim'});
  assert.equal(state.sortColumn, 'stallMs', 'reclaim ranks by stall time');
  state = reducer(state, {type: 'tab', tab: 'brk'});
  assert.equal(state.sortColumn, 'count');
  state = reducer(state, {type: 'sort-next'});
  assert.equal(state.sortColumn, 'bytes');
  state = reducer(state, {type: 'tab', tab: 'malloc'});
  assert.equal(state.sortColumn, 'bytes', 'malloc has bytes too: the choice is kept');
  state = reducer(state, {type: 'tab', tab: 'reclaim'});
  assert.equal(state.sortColumn, 'stallMs', 'reclaim has no bytes: its default');
});

test('a live table keeps tracking while its stacks are open only when it traces one process', async () => {
  const {tableRunsWhileDrilling} = await import('../source/ui/use-source.js');
  const drilling = {tab: 'malloc', view: 'live', drill: {tab: 'malloc', pid: 101, comm: 'leaky', view: 'live'}} as const;
  assert.equal(tableRunsWhileDrilling(drilling, 101), true);
  assert.equal(tableRunsWhileDrilling(drilling), false, 'machine-wide: its probes would trap the drill-down tracer\'s own compile');
  assert.equal(tableRunsWhileDrilling({tab: 'malloc', view: 'process', drill: {tab: 'malloc', pid: 101, comm: 'leaky'}}, 101), false);
  assert.equal(tableRunsWhileDrilling({tab: 'malloc', view: 'live', drill: undefined}), true);
});
