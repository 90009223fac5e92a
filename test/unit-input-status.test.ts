// Keys and the status line as pure functions: every press of a chunk takes effect in order in
// the mode the ones before it left, effects are returned for the app to run, and the status line keeps
// what matters when the terminal is narrow.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import type {Key} from 'ink';
import {initialState} from '../source/state/reducer.js';
import {appKeys, applyPresses, type Press, type Screen} from '../source/state/app-reducer.js';
import {flushKeys, readKeys} from '../source/state/key-reader.js';
import {ESCAPE_WAIT_MS, escapeWait} from '../source/ui/use-keys.js';
import {layoutStatus, statusFields, type StatusInput} from '../source/ui/status-line.js';

const none: Key = {upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false} as Key;
const press = (input: string, key: Partial<Key> = {}): Press => ({input, key: {...none, ...key}});
const typed = (text: string): Press[] => [...text].map(char => press(char));
const screen: Screen = {rows: [{pid: 11, comm: 'a'}, {pid: 22, comm: 'b'}], replaying: false, hasStacks: false};

test('a filter typed and kept in one chunk: /, the name, Enter; then a key in table mode again', () => {
  const result = applyPresses(initialState(), [...typed('/node'), press('\r', {return: true}), press('j')], screen);
  assert.equal(result.state.filter, 'node');
  assert.equal(result.state.filtering, false);
  assert.equal(result.state.selected, 1, 'j after Enter moved the selection');
});

test('Enter drills into the selected row; in the drill-down w asks the app to write, q quits and stops the chunk', () => {
  const drilled = applyPresses(initialState(), [press('j'), press('\r', {return: true})], screen);
  assert.deepEqual(drilled.state.drill, {tab: 'malloc', pid: 22, comm: 'b'});
  const noStacks = applyPresses(drilled.state, [press('w')], screen);
  assert.deepEqual(noStacks.effects, []);
  assert.equal(noStacks.notice, 'no stacks to write yet');
  const written = applyPresses(drilled.state, [press('w'), press('q'), press('2')], {...screen, hasStacks: true});
  assert.deepEqual(written.effects, [{kind: 'write-folded'}, {kind: 'quit'}]);
  assert.equal(written.state.tab, 'malloc', 'nothing after q is applied');
});

test('replay keys are effects only while replaying; Ctrl-C quits even while typing a filter', () => {
  assert.deepEqual(applyPresses(initialState(), [press(']'), press('s')], screen).effects, []);
  assert.deepEqual(applyPresses(initialState(), [press(']'), press('['), press('s')], {...screen, replaying: true}).effects, [
    {kind: 'replay-step', direction: 1},
    {kind: 'replay-step', direction: -1},
    {kind: 'replay-speed'},
  ]);
  const typing = applyPresses(initialState(), [press('/')], screen).state;
  assert.deepEqual(applyPresses(typing, [press('c', {ctrl: true})], screen).effects, [{kind: 'quit', interrupt: true}]);
});

test('keys applied to the app state return their effects at once and keep its note until a key changes the view', () => {
  let result = appKeys({ui: initialState(), notice: 'wrote x.folded'}, [press('q')], screen);
  assert.deepEqual(result.effects, [{kind: 'quit'}]);
  assert.equal(result.state.notice, 'wrote x.folded');
  result = appKeys(result.state, [press('r')], screen);
  assert.deepEqual(result.effects, []);
  assert.equal(result.state.notice, undefined, 'a key that changes the view clears the note');
});

const table: StatusInput = {
  table: {probe: 'tracepoint:syscalls:sys_exit_brk', backend: 'bpftrace', capped: false, skippedLines: 0},
  cumulative: false,
  filter: '',
  cgroupFilter: '',
  filtering: false,
  intervalMs: 1000,
};

test('the status line in full when it fits, most important first', () => {
  assert.equal(layoutStatus(statusFields(table), 120), 'probe tracepoint:syscalls:sys_exit_brk · bpftrace · per interval · every 1.0s');
});

test('narrow: the least important go first; an error, its retry and a recording stay', () => {
  const failing: StatusInput = {...table, error: {message: 'bpftrace: tracepoint not found', hint: 'this kernel lacks it, see memtop --check', retryInMs: 2000}, recordingTo: 'slab.ndjson'};
  const wide = layoutStatus(statusFields(failing), 200);
  assert.match(wide, /^REC slab\.ndjson · bpftrace: tracepoint not found \(retrying in 2s\): this kernel lacks it, see memtop --check · probe/);
  const narrow = layoutStatus(statusFields(failing), 60);
  assert.equal(narrow, 'REC · bpftrace: tracepoint not found (retrying in 2s)');
  const skipped = layoutStatus(statusFields({...table, table: {...table.table!, skippedLines: 2, skippedSample: '{"type": "helper_error"}'}}), 70);
  assert.equal(skipped, '2 lines skipped · probe tracepoint:syscalls:sys_exit_brk · bpftrace');
  assert.equal(layoutStatus(statusFields(table), 40), 'probe tracepoint:syscalls:sys_exit_brk');
  assert.equal(layoutStatus(statusFields(failing), 12), 'REC · bpftr…', 'kept fields are cut only when nothing else is left');
});

test('a live view at its cap keeps CAPPED and since when before the probe when the line shortens', () => {
  const live: StatusInput = {...table, table: {probe: 'uprobe+uretprobe:libc:malloc,calloc,realloc,...,free', backend: 'bpftrace', view: 'live memory', since: '2026-12-05T12:13:17Z', untracked: 1_100_000, capped: true, skippedLines: 0, gauges: true}, filter: 'wl_leak'};
  const narrow = layoutStatus(statusFields(live), 110);
  assert.match(narrow, /^CAPPED: 1\.1M not tracked \(shared table full; ≥ floor, \? unknown\) · live memory since \d\d:\d\d:\d\d/);
  assert.match(layoutStatus(statusFields(live), 50), /^CAPPED · live memory since \d\d:\d\d:\d\d/);
});

test('names from the traced system are shown as text: control characters never reach the terminal', () => {
  const line = layoutStatus(statusFields({...table, drill: {pid: 7, comm: 'evil\u001b[2J\u0007', tab: 'malloc', exited: false}}), 100);
  assert.doesNotMatch(line, /[\u0000-\u001f]/);
  assert.match(line, /stacks of PID 7 \(evil\?\[2J\?\)/);
});

const names = (presses: Press[]) =>
  presses.map(({input, key}) =>
    key.upArrow ? 'up' : key.downArrow ? 'down' : key.leftArrow ? 'left' : key.rightArrow ? 'right' : key.return ? 'enter' : key.escape ? 'esc' : key.tab ? (key.shift ? 'shift-tab' : 'tab') : key.backspace ? 'backspace' : key.delete ? 'delete' : key.ctrl ? `ctrl-${input}` : input,
  );

test('a read of several keys is as many presses, in order; an Enter among them is an Enter', () => {
  assert.deepEqual(names(readKeys('/node\r').presses), ['/', 'n', 'o', 'd', 'e', 'enter']);
  assert.deepEqual(names(readKeys('\u001b[A\u001b[B\u001b[C\u001b[Dq').presses), ['up', 'down', 'right', 'left', 'q']);
  assert.deepEqual(names(readKeys('\t\u001b[Z\u007f\u001b[3~\u0003').presses), ['tab', 'shift-tab', 'backspace', 'delete', 'ctrl-c']);
  assert.deepEqual(names(readKeys('node\r\n').presses), ['n', 'o', 'd', 'e', 'enter'], 'a pasted CRLF is one Enter');
  assert.deepEqual(names(readKeys('测试😀e\u0301').presses), ['测', '试', '😀', 'e', '\u0301']);
  assert.deepEqual(readKeys('Q').presses[0]!.key.shift, true);
});

test('Escape followed at once by a key is two presses; sequences memtop does not read are dropped, not typed', () => {
  assert.deepEqual(names(readKeys('\u001bq').presses), ['esc', 'q']);
  assert.deepEqual(names(readKeys('\u001b\u001b[A').presses), ['esc', 'up']);
  assert.deepEqual(names(readKeys('\u001b[I\u001b[200~x\u001b[1;5A\u001bOB').presses), ['x', 'up', 'down']);
});

test('an escape sequence split across two reads is one key; a lone ESC with nothing after is Escape', () => {
  for (const [first, second] of [['\u001b', '[A'], ['\u001b[', 'A'], ['\u001b[1;', '2B'], ['\u001bO', 'C']] as const) {
    const start = readKeys(`x${first}`);
    assert.deepEqual(names(start.presses), ['x']);
    assert.equal(start.pending, first);
    assert.equal(names(readKeys(start.pending + second).presses).length, 1, JSON.stringify(first + second));
  }
  assert.deepEqual(names(flushKeys('\u001b')), ['esc']);
  assert.deepEqual(names(flushKeys('\u001b[')), ['esc', '[']);
  assert.deepEqual(flushKeys(''), []);
});

test('ESCDELAY sets how long a lone ESC waits, as ncurses reads it; a value it would ignore is ignored', () => {
  assert.equal(escapeWait({}), ESCAPE_WAIT_MS);
  assert.equal(escapeWait({ESCDELAY: '25'}), 25);
  assert.equal(escapeWait({ESCDELAY: '0'}), 0);
  for (const bad of ['', 'x', '-5', '1.5', '99999', '10001']) assert.equal(escapeWait({ESCDELAY: bad}), ESCAPE_WAIT_MS, bad);
});
