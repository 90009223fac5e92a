// Keys as data: one table from which the input handler, the help overlay and the footer are
// all made, so they cannot disagree.
import type {Key} from 'ink';
import {isGaugeView, tabKey, TABS, TAB_IDS, viewOf, type TabId, type ViewId} from '../registry.js';
import type {Action, UiState} from './reducer.js';

/** Where a binding applies: the process table, the drill-down stack view, or both. */
export type Mode = 'table' | 'drill';

/** What the screen shows when a key is pressed: the mode, and the tab and view on screen. */
export interface KeyContext {
  mode: Mode;
  replaying: boolean;
  tab: TabId;
  view: ViewId;
  /** In a drill-down: the view it is the drill-down of, when it is a view's own. */
  drill?: ViewId;
}

/** What a key does beyond the reducer: quitting, drilling, replay steps and writing files need the app. */
export type Command =
  | {kind: 'action'; action: Action}
  | {kind: 'quit'; interrupt?: boolean}
  | {kind: 'drill-selected'}
  | {kind: 'select'; delta: number}
  | {kind: 'write-folded'}
  | {kind: 'replay-step'; direction: 1 | -1}
  | {kind: 'replay-speed'};

export interface KeyBinding {
  /** Names as the help shows them. */
  keys: string[];
  description: string;
  modes: Mode[];
  /** Only when replaying a recording. */
  replayOnly?: boolean;
  /** Only where this holds (a key the screen offers must work there). */
  applies?: (context: KeyContext) => boolean;
  /** Short label for the footer, if it belongs there. */
  footer?: string;
  /** What the keys of one line of readme's key table (and --help) do: bindings with the same line share it. */
  line: string;
  matches: (input: string, key: Key) => boolean;
  command: Command;
}

const action = (value: Action): Command => ({kind: 'action', action: value});

/** One binding per key that switches a tab's views (the registry's viewKey). */
function viewKeys(): KeyBinding[] {
  const seen = new Map<string, string[]>();
  for (const tab of TAB_IDS) {
    const viewKey = TABS[tab].viewKey;
    if (viewKey) seen.set(viewKey.key, [...(seen.get(viewKey.key) ?? []), viewKey.description]);
  }
  return [...seen].map(([key, descriptions]) => ({
    keys: [key],
    description: descriptions.join('; '),
    line: descriptions.join('; '),
    modes: ['table'],
    applies: context => TABS[context.tab].viewKey?.key === key,
    matches: input => input === key,
    command: action({type: 'view-next', key}),
  }));
}

export const KEY_BINDINGS: KeyBinding[] = [
  {keys: ['Tab', '→'], description: 'next tab', line: 'switch tab', modes: ['table'], footer: 'Tab', matches: (input, key) => (key.tab && !key.shift) || key.rightArrow, command: action({type: 'tab-next'})},
  {keys: ['Shift-Tab', '←'], description: 'previous tab', line: 'switch tab', modes: ['table'], matches: (input, key) => (key.tab && key.shift) || key.leftArrow, command: action({type: 'tab-prev'})},
  ...TAB_IDS.map((tab): KeyBinding => ({
    keys: [tabKey(tab)],
    description: `${TABS[tab].title} tab`,
    line: 'switch tab',
    modes: ['table', 'drill'],
    matches: input => input === tabKey(tab),
    command: action({type: 'tab', tab}),
  })),
  {keys: ['↑', 'k'], description: 'select the row above', line: 'move the selection', modes: ['table'], matches: (input, key) => key.upArrow || input === 'k', command: {kind: 'select', delta: -1}},
  {keys: ['↓', 'j'], description: 'select the row below', line: 'move the selection', modes: ['table'], matches: (input, key) => key.downArrow || input === 'j', command: {kind: 'select', delta: 1}},
  {keys: ['Enter'], description: "drill into the selected row: a process's stacks, a cache's kernel paths", line: "drill into the selected row: a process's stacks, a slab cache's kernel paths", modes: ['table'], applies: context => viewOf(context.tab, context.view).rows === 'process' || TABS[context.tab].bpftrace.cacheStacks !== undefined, footer: 'Enter stacks', matches: (input, key) => key.return, command: {kind: 'drill-selected'}},
  {keys: ['Esc', 'Backspace'], description: 'back (close help, leave stacks, clear filter)', line: 'back: close help, leave the stack view, clear the filter', modes: ['table', 'drill'], footer: 'Esc back', matches: (input, key) => key.escape || key.backspace || key.delete, command: action({type: 'back'})},
  {keys: ['<', '>'], description: 'move the sort column left / right', line: 'move the sort column left / right', modes: ['table'], footer: '<> sort', matches: input => input === '<' || input === '>' || input === ',' || input === '.', command: action({type: 'sort-next'})},
  {keys: ['r'], description: 'reverse the sort order', line: 'reverse the sort order', modes: ['table'], matches: input => input === 'r', command: action({type: 'reverse'})},
  {keys: ['c'], description: 'rank per interval or cumulative since start', line: 'rank per interval or cumulative since start (live memory: by peak)', modes: ['table'], footer: 'c cumul', matches: input => input === 'c', command: action({type: 'cumulative'})},
  ...viewKeys(),
  {keys: ['Space', 'p'], description: 'pause (keep collecting, stop updating)', line: 'pause: keep collecting, stop updating (the screen says PAUSED)', modes: ['table', 'drill'], footer: 'p pause', matches: input => input === ' ' || input === 'p', command: action({type: 'pause'})},
  {keys: ['/'], description: 'filter by process name (Esc clears)', line: 'filter by process name (Enter keeps it, Esc clears it)', modes: ['table'], footer: '/ filter', matches: input => input === '/', command: action({type: 'filter-start', target: 'name'})},
  {keys: ['C'], description: 'filter by cgroup or container id (Esc clears)', line: 'filter by cgroup or container id (Enter keeps it, Esc clears it)', modes: ['table'], applies: context => viewOf(context.tab, context.view).rows === 'process', matches: input => input === 'C', command: action({type: 'filter-start', target: 'cgroup'})},
  {
    keys: ['o'],
    description: 'live stacks: only allocations older than 5s, 30s, 1m, 5m, 30m, or all',
    line: 'in live stacks: only allocations older than 5s, 30s, 1m, 5m, 30m, or all (as --min-age)',
    modes: ['drill'],
    applies: context => context.drill !== undefined && isGaugeView(viewOf(context.tab, context.drill)),
    footer: 'o older',
    matches: input => input === 'o',
    command: action({type: 'min-age-next'}),
  },
  {keys: ['w'], description: 'write the shown stacks as folded stacks (flame graphs)', line: 'in a stack view: write the stacks as folded stacks for flame graphs', modes: ['drill'], footer: 'w folded', matches: input => input === 'w', command: {kind: 'write-folded'}},
  {keys: ['['], description: 'replay: step back one interval', line: 'when replaying: step one interval back / forward, cycle the speed', modes: ['table', 'drill'], replayOnly: true, footer: '[ ] step', matches: input => input === '[', command: {kind: 'replay-step', direction: -1}},
  {keys: [']'], description: 'replay: step forward one interval', line: 'when replaying: step one interval back / forward, cycle the speed', modes: ['table', 'drill'], replayOnly: true, matches: input => input === ']', command: {kind: 'replay-step', direction: 1}},
  {keys: ['s'], description: 'replay: cycle speed ×0.5 ×1 ×2 ×4', line: 'when replaying: step one interval back / forward, cycle the speed', modes: ['table', 'drill'], replayOnly: true, footer: 's speed', matches: input => input === 's', command: {kind: 'replay-speed'}},
  {keys: ['+'], description: 'slower refresh (longer interval)', line: 'slower / faster refresh', modes: ['table', 'drill'], matches: input => input === '+' || input === '=', command: action({type: 'interval', factor: 2})},
  {keys: ['-'], description: 'faster refresh (shorter interval)', line: 'slower / faster refresh', modes: ['table', 'drill'], matches: input => input === '-' || input === '_', command: action({type: 'interval', factor: 0.5})},
  {keys: ['?', 'h'], description: 'this help', line: 'help (generated from the same key table the code uses)', modes: ['table', 'drill'], footer: '? help', matches: input => input === '?' || input === 'h', command: action({type: 'help'})},
  {keys: ['q'], description: 'quit (with -- COMMAND: end COMMAND first, SIGTERM)', line: 'quit (with -- COMMAND: q ends COMMAND first, Ctrl-C interrupts it)', modes: ['table', 'drill'], footer: 'q quit', matches: input => input === 'q', command: {kind: 'quit'}},
  {keys: ['Ctrl-C'], description: 'quit (with -- COMMAND: interrupt COMMAND, SIGINT)', line: 'quit (with -- COMMAND: q ends COMMAND first, Ctrl-C interrupts it)', modes: ['table', 'drill'], matches: (input, key) => key.ctrl && input === 'c', command: {kind: 'quit', interrupt: true}},
];

/** The bindings that apply on this screen (replay-only ones only when replaying). */
export function bindingsFor(context: KeyContext): KeyBinding[] {
  return KEY_BINDINGS.filter(binding => binding.modes.includes(context.mode) && (context.replaying || !binding.replayOnly) && (binding.applies?.(context) ?? true));
}

/** The first binding for this key press on this screen. `<` and `>` pick their direction here. */
export function commandFor(input: string, key: Key, context: KeyContext): Command | undefined {
  // With Ctrl held only Ctrl-C means anything: Ctrl-C must quit, not act as a plain 'c'.
  const binding = bindingsFor(context).find(candidate => (!key.ctrl || candidate.command.kind === 'quit') && candidate.matches(input, key));
  if (!binding) return undefined;
  if (binding.command.kind === 'action' && binding.command.action.type === 'sort-next' && (input === '<' || input === ',')) {
    return action({type: 'sort-prev'});
  }
  return binding.command;
}

/** Footer text for a screen, from the same table. */
export function footerText(context: KeyContext): string {
  return bindingsFor(context)
    .filter(binding => binding.footer)
    .map(binding => binding.footer)
    .join('  ');
}

/** Key handling while the filter prompt is open: typing edits the filter. */
export function filterCommand(input: string, key: Key): Command | undefined {
  if (key.escape) return action({type: 'filter-clear'});
  if (key.return) return action({type: 'filter-done'});
  if (key.backspace || key.delete) return action({type: 'filter-erase'});
  if (key.ctrl && input === 'c') return {kind: 'quit', interrupt: true};
  if (input && !key.ctrl && !key.meta) return action({type: 'filter-type', text: input});
  return undefined;
}

export type {UiState};

/** One line of the key table: its keys ("Tab, →, Shift-Tab, ←, 1-5") and what they do. */
export interface KeyLine {
  keys: string;
  description: string;
}

/** The key table by line, as readme.md and --help show it: tab numbers as one range. */
export function keyLines(): KeyLine[] {
  const lines: {keys: string[]; description: string}[] = [];
  for (const binding of KEY_BINDINGS) {
    const last = lines.at(-1);
    if (last?.description === binding.line) last.keys.push(...binding.keys);
    else lines.push({keys: [...binding.keys], description: binding.line});
  }
  const tabKeys = TAB_IDS.map(tabKey);
  return lines.map(line => {
    const keys = line.keys.filter(key => !tabKeys.includes(key));
    if (keys.length < line.keys.length) keys.push(`${tabKeys[0]}-${tabKeys.at(-1)}`);
    return {keys: keys.join(', '), description: line.description};
  });
}
