// The memtop TUI: tab bar, status line, the active view's top-N table or a process's stacks, and
// a footer made from the key table. It only draws: keys go through state/app-reducer.ts, the status
// line's text comes from ui/status-line.ts, and the data from ui/use-source.ts. Props only;
// cli.tsx wires it up.
import React, {useEffect, useReducer, useRef} from 'react';
import {Box, Text, useApp} from 'ink';
import type {Backend, TabId, ViewId} from './types.js';
import {columnsFor} from './model/columns.js';
import {selectRows} from './model/select-rows.js';
import {viewTable} from './model/table.js';
import {topStacks} from './model/stacks.js';
import {supportsUnicode} from './model/sparkline.js';
import {initialState} from './state/reducer.js';
import {bindingsFor, footerText} from './state/keys.js';
import {appReducer} from './state/app-reducer.js';
import {useKeys} from './ui/use-keys.js';
import {fit} from './format.js';
import {TableView} from './ui/table-view.js';
import {StackView} from './ui/stack-view.js';
import {TabBar} from './ui/tab-bar.js';
import {statusLine} from './ui/status-line.js';
import {useLiveSource, useReplaySource, type Source} from './ui/use-source.js';
import {useTerminalSize} from './ui/use-terminal-size.js';
import type {ReplayTimeline} from './record/replay.js';
import {writeFoldedFile} from './system/folded-file.js';

export interface AppProps {
  backend: Backend;
  tab?: TabId;
  intervalMs?: number;
  limit?: number;
  pid?: number;
  comm?: string;
  /** Terminal size override for tests. */
  size?: {columns: number; rows: number};
  /** Initial cgroup filter (--cgroup). */
  cgroup?: string;
  /** A process's cgroup path: with it the table has a CGROUP column and the C filter works. */
  cgroupOf?: (pid: number) => string | undefined;
  /** Replay this recording instead of tracing. */
  replay?: ReplayTimeline;
  replaySpeed?: number;
  /** The file a recording goes to, for the status line. */
  recordingTo?: string;
  /** Where the w key writes folded stacks (default: the working directory). */
  foldedDir?: string;
  /** The view to open on (--live). */
  view?: ViewId;
  /** Live stacks: only allocations at least this many seconds old to begin with (--min-age). */
  minAge?: number;
  /** Live stacks: one stack per about this many bytes (--sample); absent: every allocation's. */
  sampleBytes?: number;
}

const UNICODE = supportsUnicode(process.env);

const MIN_COLUMNS = 30;
const MIN_ROWS = 6;

export function App(props: AppProps) {
  const {exit} = useApp();
  const size = useTerminalSize(props.size);
  const [{ui: state, notice, effects}, dispatch] = useReducer(appReducer, undefined, () => ({
    ui: initialState({tab: props.tab, view: props.view, intervalMs: props.intervalMs, filter: props.comm, cgroupFilter: props.cgroup, minAge: props.minAge}),
    effects: [],
  }));
  const limit = props.limit ?? 10;
  const drilling = state.drill !== undefined;
  const replaying = props.replay !== undefined;
  // Whether this App replays never changes while it is mounted: the same hook runs every frame.
  const source: Source = replaying ? useReplaySource(props.replay!, state, props.replaySpeed) : useLiveSource(props.backend, state, {pid: props.pid, cgroupOf: props.cgroupOf, sampleBytes: props.sampleBytes});
  const {drill} = source;

  const table = viewTable(source.data[state.tab], state.view);
  const columns = columnsFor(state.tab, state.view, {cgroupOf: source.cgroupOf, trend: {ascii: !UNICODE}});
  // Lines around the table: tab bar, status, header, footer; the rest is for rows.
  const tableRows = Math.max(1, Math.min(limit, size.rows - 5));
  const rows = selectRows(table.rows.values(), columns, {
    tab: state.tab,
    view: state.view,
    sortColumn: state.sortColumn,
    descending: state.descending,
    cumulative: state.cumulative,
    filter: state.filter,
    limit: tableRows,
    cgroup: state.cgroupFilter && source.cgroupOf ? {pattern: state.cgroupFilter, cgroupOf: source.cgroupOf} : undefined,
    nameOf: source.nameOf,
  });
  const selected = Math.min(state.selected, Math.max(0, rows.length - 1));

  // What a key acts on is what this frame shows.
  const screen = useRef({rows, replaying, hasStacks: false});
  screen.current = {rows, replaying, hasStacks: drill.snapshot !== undefined};
  useKeys(presses => dispatch({type: 'keys', presses, screen: screen.current}));

  // What a key asked of the app beyond the state, once each.
  useEffect(() => {
    if (effects.length === 0) return;
    for (const effect of effects) {
      if (effect.kind === 'quit') exit();
      else if (effect.kind === 'replay-step') source.replay?.[effect.direction === 1 ? 'stepForward' : 'stepBack']();
      else if (effect.kind === 'replay-speed') source.replay?.cycleSpeed();
      else if (effect.kind === 'write-folded' && state.drill && drill.snapshot) {
        try {
          const target = state.drill.cache !== undefined ? {cache: state.drill.cache} : {pid: state.drill.pid};
          // Live stacks weigh what is outstanding (bytes), of allocations as old as the view asks.
          const stacks = drill.snapshot.live ? topStacks(drill.snapshot, Number.MAX_SAFE_INTEGER, state.minAge).stacks : drill.snapshot.stacks;
          const file = writeFoldedFile(props.foldedDir ?? process.cwd(), target, state.drill.tab, stacks, {weight: drill.snapshot.live ? 'bytes' : 'count', view: state.drill.view});
          dispatch({type: 'notice', text: `wrote ${file}`});
        } catch (error) {
          dispatch({type: 'notice', text: `could not write folded stacks: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`});
        }
      }
    }
    dispatch({type: 'effects-done', count: effects.length});
  }, [effects]);

  const width = Math.max(1, size.columns);
  if (size.columns < MIN_COLUMNS || size.rows < MIN_ROWS) {
    return <Text>{fit(`terminal too small (${size.columns}x${size.rows}); memtop needs ${MIN_COLUMNS}x${MIN_ROWS}`, width)}</Text>;
  }

  const status = drilling ? drill.status : source.status[state.tab];
  const statusText = statusLine({state, source, table, status, recordingTo: props.recordingTo, notice, width: width - (state.paused ? 8 : 0), ascii: !UNICODE});

  const bodyHeight = Math.max(1, size.rows - 4);
  const keys = {mode: drilling ? ('drill' as const) : ('table' as const), replaying, tab: state.tab, view: state.view, ...(state.drill?.view ? {drill: state.drill.view} : {})};
  let body: React.ReactNode;
  if (state.help) {
    body = (
      <Box flexDirection="column">
        {bindingsFor(keys)
          .slice(0, bodyHeight)
          .map(binding => (
            <Text key={binding.keys.join()}>{fit(`${fit(binding.keys.join(' '), 16)} ${binding.description}`, width)}</Text>
          ))}
      </Box>
    );
  } else if (drilling) {
    body = <StackView data={drill.snapshot ? topStacks(drill.snapshot, limit, state.minAge) : undefined} snapshot={drill.snapshot} exited={drill.exited} width={width} height={bodyHeight} />;
  } else {
    body = (
      <TableView
        columns={columns}
        rows={rows}
        selected={selected}
        sortColumn={state.sortColumn}
        descending={state.descending}
        cumulative={state.cumulative}
        tab={state.tab}
        view={state.view}
        width={width}
      />
    );
  }

  return (
    <Box flexDirection="column" width={width}>
      <TabBar active={state.drill?.tab ?? state.tab} width={width} />
      <Box>
        {state.paused ? (
          <Text inverse color="red" bold>
            {' PAUSED '}
          </Text>
        ) : null}
        <Text color={status?.error ? 'red' : undefined}>{fit(statusText, width - (state.paused ? 8 : 0))}</Text>
      </Box>
      {body}
      <Text dimColor>{fit(footerText(keys), width)}</Text>
    </Box>
  );
}
