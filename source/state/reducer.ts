// The UI state and its pure reducer: active tab, selection, sort, filter, pause, help,
// refresh interval and the drill-down target. Tested without rendering.
import {TABS} from '../tabs.js';
import {TAB_IDS, type TabId} from '../types.js';
import {columnsFor, type ColumnId} from '../model/columns.js';
import type {Grouping} from '../model/table.js';

export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 60_000;

export interface DrillTarget {
  tab: TabId;
  pid: number;
  comm: string;
}

export interface UiState {
  tab: TabId;
  selected: number;
  sortColumn: ColumnId;
  descending: boolean;
  cumulative: boolean;
  grouping: Grouping;
  paused: boolean;
  filter: string;
  /** Case-insensitive part of a cgroup path or container id (the C key, or --cgroup). */
  cgroupFilter: string;
  /** Which filter prompt is open and takes the keys, if one is. */
  filtering: false | 'name' | 'cgroup';
  help: boolean;
  intervalMs: number;
  drill?: DrillTarget;
}

export type Action =
  | {type: 'tab'; tab: TabId}
  | {type: 'tab-next'}
  | {type: 'tab-prev'}
  | {type: 'select'; delta: number; rowCount: number}
  | {type: 'sort-next'}
  | {type: 'sort-prev'}
  | {type: 'reverse'}
  | {type: 'cumulative'}
  | {type: 'grouping'}
  | {type: 'pause'}
  | {type: 'filter-start'; target?: 'name' | 'cgroup'}
  | {type: 'filter-type'; text: string}
  | {type: 'filter-erase'}
  | {type: 'filter-done'}
  | {type: 'filter-clear'}
  | {type: 'interval'; factor: number}
  | {type: 'help'}
  | {type: 'drill'; pid: number; comm: string}
  | {type: 'back'};

export function initialState(options: {tab?: TabId; intervalMs?: number; filter?: string; cgroupFilter?: string} = {}): UiState {
  return {
    tab: options.tab ?? 'malloc',
    selected: 0,
    sortColumn: 'count',
    descending: true,
    cumulative: false,
    grouping: 'process',
    paused: false,
    filter: options.filter ?? '',
    cgroupFilter: options.cgroupFilter ?? '',
    filtering: false,
    help: false,
    intervalMs: options.intervalMs ?? 1000,
  };
}

/** Round an interval to the probes' 100 ms tick and keep it in range. */
export function clampInterval(ms: number): number {
  const rounded = Math.round(ms / 100) * 100;
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, rounded));
}

function switchTab(state: UiState, tab: TabId): UiState {
  if (tab === state.tab) return state;
  const grouping = TABS[tab].hasCacheGrouping ? state.grouping : 'process';
  const sortable = columnsFor(tab, grouping).some(column => column.id === state.sortColumn);
  return {...state, tab, selected: 0, grouping, sortColumn: sortable ? state.sortColumn : 'count', drill: undefined};
}

function moveSort(state: UiState, step: number): UiState {
  const columns = columnsFor(state.tab, state.grouping);
  const index = Math.max(0, columns.findIndex(column => column.id === state.sortColumn));
  const next = columns[(index + step + columns.length) % columns.length]!;
  return {...state, sortColumn: next.id, descending: next.defaultDescending, selected: 0};
}

export function reducer(state: UiState, action: Action): UiState {
  switch (action.type) {
    case 'tab':
      return switchTab(state, action.tab);
    case 'tab-next':
      return switchTab(state, TAB_IDS[(TAB_IDS.indexOf(state.tab) + 1) % TAB_IDS.length]!);
    case 'tab-prev':
      return switchTab(state, TAB_IDS[(TAB_IDS.indexOf(state.tab) - 1 + TAB_IDS.length) % TAB_IDS.length]!);
    case 'select': {
      if (action.rowCount <= 0) return {...state, selected: 0};
      const selected = Math.min(action.rowCount - 1, Math.max(0, state.selected + action.delta));
      return {...state, selected};
    }
    case 'sort-next':
      return moveSort(state, 1);
    case 'sort-prev':
      return moveSort(state, -1);
    case 'reverse':
      return {...state, descending: !state.descending};
    case 'cumulative':
      return {...state, cumulative: !state.cumulative, selected: 0};
    case 'grouping': {
      if (!TABS[state.tab].hasCacheGrouping) return state;
      const grouping: Grouping = state.grouping === 'process' ? 'cache' : 'process';
      const sortable = columnsFor(state.tab, grouping).some(column => column.id === state.sortColumn);
      return {...state, grouping, selected: 0, sortColumn: sortable ? state.sortColumn : 'count', descending: sortable ? state.descending : true};
    }
    case 'pause':
      return {...state, paused: !state.paused};
    case 'filter-start':
      return {...state, filtering: action.target ?? 'name'};
    case 'filter-type': {
      const field = state.filtering === 'cgroup' ? 'cgroupFilter' : 'filter';
      return {...state, [field]: state[field] + action.text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ''), selected: 0};
    }
    case 'filter-erase': {
      const field = state.filtering === 'cgroup' ? 'cgroupFilter' : 'filter';
      return {...state, [field]: [...state[field]].slice(0, -1).join(''), selected: 0};
    }
    case 'filter-done':
      return {...state, filtering: false};
    case 'filter-clear': {
      const field = state.filtering === 'cgroup' ? 'cgroupFilter' : 'filter';
      return {...state, [field]: '', filtering: false, selected: 0};
    }
    case 'interval': {
      const intervalMs = clampInterval(state.intervalMs * action.factor);
      return intervalMs === state.intervalMs ? state : {...state, intervalMs};
    }
    case 'help':
      return {...state, help: !state.help};
    case 'drill':
      return {...state, drill: {tab: state.tab, pid: action.pid, comm: action.comm}, help: false};
    case 'back':
      if (state.help) return {...state, help: false};
      if (state.drill) return {...state, drill: undefined};
      if (state.filter) return {...state, filter: '', selected: 0};
      if (state.cgroupFilter) return {...state, cgroupFilter: '', selected: 0};
      return state;
  }
}
