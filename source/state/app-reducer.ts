// The TUI's reducer and the key presses it applies, purely: each press of a chunk is looked up in
// the key table for the mode it finds the state in, applied with the UI reducer, and what the app
// must do beyond the state (quit, write a file, move a replay) is returned for it to run at once.
import {commandFor, filterCommand, type Command} from './keys.js';
import type {Press} from './key-reader.js';
import {reducer, type Action, type UiState} from './reducer.js';

export type {Press} from './key-reader.js';

/** What the screen shows that a key may act on: the table's rows, top first. */
export interface Screen {
  rows: readonly {pid?: number; comm?: string; cache?: string}[];
  replaying: boolean;
  /** Whether a drill-down has stacks to write. */
  hasStacks: boolean;
}

/** What the app does for a key, beyond the state. */
export type Effect = {kind: 'quit'; interrupt?: boolean} | {kind: 'write-folded'} | {kind: 'replay-step'; direction: 1 | -1} | {kind: 'replay-speed'};

/** The state after the presses, a note for the status line (undefined: clear it), and the effects in order. */
export interface InputResult {
  state: UiState;
  effects: Effect[];
  notice?: string | null;
}

function command(state: UiState, press: Press, replaying: boolean): Command | undefined {
  if (state.filtering) return filterCommand(press.input, press.key);
  return commandFor(press.input, press.key, {mode: state.drill ? 'drill' : 'table', replaying, tab: state.tab, view: state.view, ...(state.drill?.view ? {drill: state.drill.view} : {})});
}

/**
 * Apply presses in order, each against the state the ones before it left. `notice` is null when a
 * press asks to clear the status note, a string when one sets it, undefined when none touched it.
 */
export function applyPresses(initial: UiState, presses: readonly Press[], screen: Screen): InputResult {
  let state = initial;
  const effects: Effect[] = [];
  let notice: string | null | undefined;
  const act = (action: Action) => {
    state = reducer(state, action);
  };
  for (const press of presses) {
    const next = command(state, press, screen.replaying);
    if (!next) continue;
    switch (next.kind) {
      case 'quit':
        effects.push({kind: 'quit', ...(next.interrupt ? {interrupt: true} : {})});
        return {state, effects, notice};
      case 'select':
        act({type: 'select', delta: next.delta, rowCount: screen.rows.length});
        break;
      case 'drill-selected': {
        const row = screen.rows[Math.min(state.selected, Math.max(0, screen.rows.length - 1))];
        if (row?.cache !== undefined) act({type: 'drill-cache', cache: row.cache});
        else if (row?.pid !== undefined && row.pid > 0) act({type: 'drill', pid: row.pid, comm: row.comm ?? ''});
        break;
      }
      case 'write-folded':
        if (state.drill && screen.hasStacks) effects.push({kind: 'write-folded'});
        else notice = 'no stacks to write yet';
        break;
      case 'replay-step':
        effects.push({kind: 'replay-step', direction: next.direction});
        break;
      case 'replay-speed':
        effects.push({kind: 'replay-speed'});
        break;
      case 'action':
        notice = null;
        act(next.action);
        break;
    }
  }
  return {state, effects, notice};
}

/** Everything the TUI keeps between frames: the UI state and a note for the status line. */
export interface AppState {
  ui: UiState;
  notice?: string;
}

/** A chunk of presses applied to the app's state: the state after them and what the app must do, in order, where it read the keys. */
export function appKeys(state: AppState, presses: readonly Press[], screen: Screen): {state: AppState; effects: Effect[]} {
  const result = applyPresses(state.ui, presses, screen);
  const notice = result.notice === undefined ? state.notice : result.notice ?? undefined;
  return {state: {ui: result.state, ...(notice !== undefined ? {notice} : {})}, effects: result.effects};
}
