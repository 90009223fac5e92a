// The UI state and its pure reducer: active tab, selection, sort, filter, pause, help,
// refresh interval and the drill-down target. Tested without rendering.
import {drillView, hasView, nextView, TABS, TAB_IDS, viewOf, type TabId, type ViewId} from '../registry.js';
import {columnsFor, defaultSortColumn, type ColumnId} from '../model/columns.js';
import {withoutControlCharacters} from '../format.js';

export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 60_000;

/**
 * What a drill-down shows: a process's stacks (pid, comm), or a cache's kernel paths (cache);
 * `view` when it is a view's own drill-down (the live view's stacks of outstanding memory).
 */
export type DrillTarget = {tab: TabId; view?: ViewId} & ({pid: number; comm: string; cache?: undefined} | {cache: string; pid?: undefined; comm?: undefined});

/** The age thresholds the min-age key steps through, in seconds (0: every outstanding allocation). */
export const MIN_AGES = [0, 5, 30, 60, 300, 1800];

/** The threshold after `seconds` in MIN_AGES, back to 0 after the last. */
export function nextMinAge(seconds: number): number {
  return MIN_AGES.find(candidate => candidate > seconds) ?? 0;
}

export interface UiState {
  tab: TabId;
  selected: number;
  sortColumn: ColumnId;
  descending: boolean;
  cumulative: boolean;
  /** The active tab's view (registry.ts): kept when switching to a tab that has it. */
  view: ViewId;
  paused: boolean;
  filter: string;
  /** Case-insensitive part of a cgroup path or container id (the C key, or --cgroup). */
  cgroupFilter: string;
  /** Which filter prompt is open and takes the keys, if one is. */
  filtering: false | 'name' | 'cgroup';
  help: boolean;
  intervalMs: number;
  drill?: DrillTarget;
  /** Live stacks: only allocations at least this many seconds old (memleak's -o). */
  minAge: number;
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
  /** The key of a tab's viewKey: the next view of the active tab, when that is its key. */
  | {type: 'view-next'; key: string}
  | {type: 'pause'}
  | {type: 'filter-start'; target?: 'name' | 'cgroup'}
  | {type: 'filter-type'; text: string}
  | {type: 'filter-erase'}
  | {type: 'filter-done'}
  | {type: 'filter-clear'}
  | {type: 'interval'; factor: number}
  | {type: 'help'}
  | {type: 'drill'; pid: number; comm: string}
  | {type: 'drill-cache'; cache: string}
  | {type: 'min-age-next'}
  | {type: 'back'};

export function initialState(options: {tab?: TabId; view?: ViewId; intervalMs?: number; filter?: string; cgroupFilter?: string; minAge?: number} = {}): UiState {
  const tab = options.tab ?? TAB_IDS[0]!;
  const view = viewOf(tab, options.view).id;
  return {
    tab,
    selected: 0,
    sortColumn: defaultSortColumn(viewOf(tab, view)),
    descending: true,
    cumulative: false,
    view,
    paused: false,
    filter: options.filter ?? '',
    cgroupFilter: options.cgroupFilter ?? '',
    filtering: false,
    help: false,
    intervalMs: options.intervalMs ?? 1000,
    minAge: options.minAge ?? 0,
  };
}

/** Round an interval to the probes' 100 ms tick and keep it in range. */
export function clampInterval(ms: number): number {
  const rounded = Math.round(ms / 100) * 100;
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, rounded));
}

/**
 * The state showing `view` of `tab`. A sort the user chose is kept where that view has its
 * column; a sort left at the view's default takes the new view's default (reclaim ranks by
 * stall time, live memory by bytes, the others by their event count).
 */
function showView(state: UiState, tab: TabId, view: ViewId): UiState {
  const definition = viewOf(tab, view);
  const chosen = state.sortColumn !== defaultSortColumn(viewOf(state.tab, state.view)) || !state.descending;
  const sortable = chosen && columnsFor(definition).some(column => column.id === state.sortColumn);
  return {...state, tab, view, selected: 0, sortColumn: sortable ? state.sortColumn : defaultSortColumn(definition), descending: sortable ? state.descending : true};
}

function switchTab(state: UiState, tab: TabId): UiState {
  if (tab === state.tab) return state;
  return {...showView(state, tab, hasView(tab, state.view) ? state.view : viewOf(tab, undefined).id), drill: undefined};
}

function moveSort(state: UiState, step: number): UiState {
  const columns = columnsFor(viewOf(state.tab, state.view));
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
    case 'view-next':
      if (TABS[state.tab].viewKey?.key !== action.key) return state;
      return showView(state, state.tab, nextView(state.tab, state.view));
    case 'pause':
      return {...state, paused: !state.paused};
    case 'filter-start':
      return {...state, filtering: action.target ?? 'name'};
    case 'filter-type': {
      const field = state.filtering === 'cgroup' ? 'cgroupFilter' : 'filter';
      return {...state, [field]: state[field] + withoutControlCharacters(action.text), selected: 0};
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
    case 'drill': {
      const view = drillView(state.tab, state.view);
      return {...state, drill: {tab: state.tab, ...(view ? {view} : {}), pid: action.pid, comm: action.comm}, help: false};
    }
    case 'min-age-next':
      return {...state, minAge: nextMinAge(state.minAge)};
    case 'drill-cache':
      return {...state, drill: {tab: state.tab, cache: action.cache}, help: false};
    case 'back':
      if (state.help) return {...state, help: false};
      if (state.drill) return {...state, drill: undefined};
      if (state.filter) return {...state, filter: '', selected: 0};
      if (state.cgroupFilter) return {...state, cgroupFilter: '', selected: 0};
      return state;
  }
}
