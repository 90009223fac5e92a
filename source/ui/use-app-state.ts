// The TUI's state between frames (state/app-reducer.ts) as a hook: key chunks applied in order,
// each against the state the last one left, their effects handed back to where the keys are read.
import {useCallback, useRef, useState} from 'react';
import {appKeys, type AppState, type Effect, type Press, type Screen} from '../state/app-reducer.js';

/** What the app holds and how it changes: keys (returning the effects to run now) and notes. */
export interface AppStateHandle {
  state: AppState;
  /** Apply a chunk of presses; returns the state after them and the effects to run, in order. */
  applyKeys: (presses: readonly Press[], screen: Screen) => {state: AppState; effects: Effect[]};
  /** Set (or clear) the status line's note. */
  setNotice: (text?: string) => void;
}

/** The app's state, starting from `initial()`. */
export function useAppState(initial: () => AppState): AppStateHandle {
  const [state, setState] = useState(initial);
  // Two chunks can arrive before React renders again: the second applies to what the first left.
  const latest = useRef(state);
  const applyKeys = useCallback((presses: readonly Press[], screen: Screen) => {
    const result = appKeys(latest.current, presses, screen);
    latest.current = result.state;
    setState(result.state);
    return result;
  }, []);
  const setNotice = useCallback((text?: string) => {
    const {notice: _notice, ...rest} = latest.current;
    latest.current = text === undefined ? rest : {...rest, notice: text};
    setState(latest.current);
  }, []);
  return {state, applyKeys, setNotice};
}
