// The memtop TUI: tab bar, status line, the active tab's top-N table or a process's stacks,
// and a footer made from the key table. Takes props only; cli.tsx wires it up.
import React, {useEffect, useReducer, useRef, useState} from 'react';
import {Box, Text, useApp, useInput, useStdout, type Key} from 'ink';
import {TAB_IDS, type Backend, type TabId, type TracerStackSnapshot} from './types.js';
import {TABS} from './tabs.js';
import {columnsFor, selectRows} from './model/columns.js';
import type {TabData} from './model/table.js';
import {stackView} from './model/stacks.js';
import {initialState, reducer} from './state/reducer.js';
import {bindingsFor, commandFor, filterCommand, footerText} from './state/keys.js';
import {fit, sanitize} from './format.js';
import {TableView} from './ui/table-view.js';
import {StackView} from './ui/stack-view.js';
import {useStackTracer, useTableTracer, type DrillState, type TracerStatus} from './ui/use-tracer.js';
import {useReplay} from './ui/use-replay.js';
import type {ReplayTimeline} from './record/replay.js';
import {sparkline, supportsUnicode} from './ui/sparkline.js';
import {writeFoldedFile} from './model/folded.js';
import type {UiState} from './state/reducer.js';

export interface AppProps {
  backend: Backend;
  tab?: TabId;
  intervalMs?: number;
  limit?: number;
  pid?: number;
  comm?: string;
  /** Called with every table snapshot and stack snapshot (the recorder). */
  onTableSnapshot?: (tab: TabId, data: TabData) => void;
  onStackSnapshot?: (snapshot: TracerStackSnapshot) => void;
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
}

/** Where the screen's data comes from: live tracers, or a recording's timeline. */
interface Source {
  data: Partial<Record<TabId, TabData>>;
  status: Partial<Record<TabId, TracerStatus>>;
  drill: DrillState;
  replay?: {index: number; length: number; speed: number; time?: string; atEnd: boolean; stepForward: () => void; stepBack: () => void; cycleSpeed: () => void};
}

function useLiveSource(props: AppProps, state: UiState): Source {
  const drilling = state.drill !== undefined;
  const table = useTableTracer(props.backend, drilling ? undefined : state.tab, {
    intervalMs: state.intervalMs,
    pid: props.pid,
    paused: state.paused,
    // Only the slab tab has groupings; elsewhere a change must not restart the tracer.
    grouping: state.tab === 'slab' ? state.grouping : undefined,
    onSnapshot: props.onTableSnapshot,
  });
  const drill = useStackTracer(props.backend, state.drill, {intervalMs: state.intervalMs, paused: state.paused, onSnapshot: props.onStackSnapshot});
  return {data: table.data, status: table.status, drill};
}

function useReplaySource(props: AppProps, state: UiState): Source {
  const replay = useReplay(props.replay!, {tab: state.tab, drill: state.drill}, {paused: state.paused, initialSpeed: props.replaySpeed});
  return {data: replay.data, status: replay.status, drill: replay.drill, replay};
}

const UNICODE = supportsUnicode(process.env);

const MIN_COLUMNS = 30;
const MIN_ROWS = 6;

function useTerminalSize(override?: {columns: number; rows: number}) {
  const {stdout, write} = useStdout();
  const read = () => override ?? {columns: stdout.columns || 80, rows: stdout.rows || 24};
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (override) return undefined;
    const onResize = () => {
      // A terminal that grows pulls old lines back from its history above the frame, where Ink
      // does not look: clear the screen (Ink's write puts its last frame back), then redraw.
      write('\u001b[2J\u001b[H');
      setSize(read());
    };
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

function TabBar({active, width}: {active: TabId; width: number}) {
  // Long names when they fit, the numbers and short names when not: never wrap to a second line.
  const long = TAB_IDS.map((tab, index) => ` ${index + 1} ${TABS[tab].title} `);
  const short = TAB_IDS.map((tab, index) => ` ${index + 1} ${tab} `);
  // Narrower still: only the active tab keeps its name, so it is always on screen.
  const compact = TAB_IDS.map((tab, index) => (tab === active ? ` ${index + 1} ${tab} ` : ` ${index + 1} `));
  const fits = (labels: string[]) => 'memtop '.length + labels.join('').length <= width;
  const labels = fits(long) ? long : fits(short) ? short : compact;
  let used = 'memtop '.length;
  return (
    <Box width={width} height={1} overflow="hidden">
      <Text bold color="green">{'memtop '.slice(0, width)}</Text>
      {TAB_IDS.map((tab, index) => {
        const label = labels[index]!;
        const room = width - used;
        used += label.length;
        if (room <= 0) return null;
        return (
          <Text key={tab} inverse={tab === active} bold={tab === active}>
            {label.slice(0, room)}
          </Text>
        );
      })}
    </Box>
  );
}

export function App(props: AppProps) {
  const {exit} = useApp();
  const size = useTerminalSize(props.size);
  const [state, dispatch] = useReducer(reducer, initialState({tab: props.tab, intervalMs: props.intervalMs, filter: props.comm, cgroupFilter: props.cgroup}));
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const limit = props.limit ?? 10;
  const drilling = state.drill !== undefined;
  const replaying = props.replay !== undefined;
  // Chosen once: whether this App replays never changes while it is mounted.
  const useSource = useRef(replaying ? useReplaySource : useLiveSource).current;
  const source = useSource(props, state);
  const drill = source.drill;

  const tabData = source.data[state.tab];
  const groupingData = tabData ? (state.grouping === 'cache' ? tabData.cache : tabData.process) : undefined;
  // A replay knows each process's cgroup as recorded at the shown point in time.
  const replayAt = source.replay?.index;
  const cgroupOf = props.replay && replayAt !== undefined ? (pid: number) => props.replay!.cgroupAt(pid, replayAt) : props.cgroupOf;
  const columns = columnsFor(state.tab, state.grouping, {cgroupOf, trend: {ascii: !UNICODE}});
  // Lines around the table: tab bar, status, header, footer; the rest is for rows.
  const tableRows = Math.max(1, Math.min(limit, size.rows - 5));
  const cgroupQuery = state.cgroupFilter && cgroupOf ? {pattern: state.cgroupFilter, cgroupOf} : undefined;
  const rows = groupingData
    ? selectRows(groupingData.rows.values(), columns, {
        sortColumn: state.sortColumn,
        descending: state.descending,
        cumulative: state.cumulative,
        filter: state.filter,
        limit: tableRows,
        cgroup: cgroupQuery,
      })
    : [];
  const selected = Math.min(state.selected, Math.max(0, rows.length - 1));
  // Key handlers read what is on screen now, not what the render that bound them saw.
  const shown = useRef({rows, selected, drill, source});
  shown.current = {rows, selected, drill, source};

  // The UI state as of the last key handled, so that several keys arriving in one chunk (typed
  // fast, pasted, or sent before the terminal was in raw mode) each see the ones before them.
  const latest = useRef(state);
  latest.current = state;

  /** Handle one key against `current`; returns the state after it. */
  const handleKey = (input: string, key: Key, current: UiState): UiState => {
    const mode = current.drill ? 'drill' : 'table';
    const command = current.filtering ? filterCommand(input, key) : commandFor(input, key, mode, replaying);
    if (!command) return current;
    switch (command.kind) {
      case 'quit':
        exit();
        return current;
      case 'select': {
        const action = {type: 'select', delta: command.delta, rowCount: shown.current.rows.length} as const;
        dispatch(action);
        return reducer(current, action);
      }
      case 'drill-selected': {
        const row = shown.current.rows[shown.current.selected];
        if (row?.pid === undefined || row.pid <= 0) return current;
        const action = {type: 'drill', pid: row.pid, comm: row.comm ?? ''} as const;
        dispatch(action);
        return reducer(current, action);
      }
      case 'write-folded': {
        const {drill: now} = shown.current;
        if (!current.drill || !now.snapshot) {
          setNotice('no stacks to write yet');
          return current;
        }
        try {
          const file = writeFoldedFile(props.foldedDir ?? process.cwd(), current.drill.pid, current.drill.tab, now.snapshot.stacks);
          setNotice(`wrote ${file}`);
        } catch (error) {
          setNotice(`could not write folded stacks: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
        }
        return current;
      }
      case 'replay-step':
        if (command.direction === 1) shown.current.source.replay?.stepForward();
        else shown.current.source.replay?.stepBack();
        return current;
      case 'replay-speed':
        shown.current.source.replay?.cycleSpeed();
        return current;
      case 'action':
        setNotice(undefined);
        dispatch(command.action);
        return reducer(current, command.action);
    }
  };

  useInput((input, key) => {
    const plain = !key.ctrl && !key.meta && !key.escape && !key.return && !key.tab && !key.backspace && !key.delete;
    // Plain characters that came together are separate key presses.
    const presses = plain && [...input].length > 1 ? [...input] : [input];
    let current = latest.current;
    for (const press of presses) current = handleKey(press, key, current);
    latest.current = current;
  });

  const width = Math.max(1, size.columns);
  if (size.columns < MIN_COLUMNS || size.rows < MIN_ROWS) {
    return <Text>{fit(`terminal too small (${size.columns}x${size.rows}); memtop needs ${MIN_COLUMNS}x${MIN_ROWS}`, width)}</Text>;
  }

  const status = drilling ? drill.status : source.status[state.tab];
  const statusParts: string[] = [];
  if (drilling && state.drill) {
    statusParts.push(`stacks of PID ${state.drill.pid} (${sanitize(state.drill.comm)}) · ${TABS[state.drill.tab].title}`);
    if (drill.snapshot) statusParts.push(drill.snapshot.probe);
    if (drill.exited) statusParts.push('process exited: showing its last data');
  } else {
    statusParts.push(groupingData?.probe ? `probe ${groupingData.probe}` : 'starting tracer…');
    if (groupingData?.backend) statusParts.push(groupingData.backend);
    if (TABS[state.tab].hasCacheGrouping) statusParts.push(`by ${state.grouping}`);
    statusParts.push(state.cumulative ? 'cumulative' : 'per interval');
    if (groupingData?.capped) statusParts.push('CAPPED: map full, some keys dropped');
    if (groupingData?.skippedLines) {
      const sample = groupingData.skippedSample;
      statusParts.push(`${groupingData.skippedLines} lines skipped${sample ? ` (last: ${sanitize(sample)})` : ''}`);
    }
  }
  if (source.replay) {
    const {replay} = source;
    statusParts.unshift(`REPLAY ${replay.time ?? ''} ${replay.index + 1}/${replay.length} ×${replay.speed}${replay.atEnd ? ' (end)' : ''}`);
  } else {
    statusParts.push(`every ${(state.intervalMs / 1000).toFixed(1)}s`);
  }
  if (props.recordingTo) statusParts.unshift(`REC ${sanitize(props.recordingTo)}`);
  if (state.filter || state.filtering === 'name') statusParts.push(`filter: ${sanitize(state.filter)}${state.filtering === 'name' ? '_' : ''}`);
  if (state.cgroupFilter || state.filtering === 'cgroup') statusParts.push(`cgroup: ${sanitize(state.cgroupFilter)}${state.filtering === 'cgroup' ? '_' : ''}`);
  if (!drilling && groupingData && groupingData.totalRateHistory.length > 1 && width >= 100) {
    statusParts.push(`all ${sparkline(groupingData.totalRateHistory, 16, !UNICODE)}`);
  }
  if (notice) statusParts.push(sanitize(notice));

  const bodyHeight = Math.max(1, size.rows - 4);
  let body: React.ReactNode;
  if (state.help) {
    const mode = drilling ? 'drill' : 'table';
    body = (
      <Box flexDirection="column">
        {bindingsFor(mode, replaying)
          .slice(0, bodyHeight)
          .map(binding => (
            <Text key={binding.keys.join()}>{fit(`${fit(binding.keys.join(' '), 16)} ${binding.description}`, width)}</Text>
          ))}
      </Box>
    );
  } else if (drilling) {
    body = <StackView data={drill.snapshot ? stackView(drill.snapshot, limit) : undefined} snapshot={drill.snapshot} exited={drill.exited} width={width} height={bodyHeight} />;
  } else {
    body = (
      <TableView
        columns={columns}
        rows={rows}
        selected={selected}
        sortColumn={state.sortColumn}
        descending={state.descending}
        cumulative={state.cumulative}
        width={width}
      />
    );
  }

  return (
    <Box flexDirection="column" width={width}>
      <TabBar active={state.drill?.tab ?? state.tab} width={width} />
      <Box>
        {state.paused ? <Text inverse color="red" bold>{' PAUSED '}</Text> : null}
        <Text color={status?.error ? 'red' : undefined}>
          {fit(
            status?.error
              ? // The retry note before the hint, so a narrow line still shows that memtop is on it.
                `${sanitize(status.error)}${status.retryInMs ? ` (retrying in ${Math.round(status.retryInMs / 1000)}s)` : ''}${status.hint ? `: ${sanitize(status.hint)}` : ''}`
              : statusParts.join(' · '),
            width - (state.paused ? 8 : 0),
          )}
        </Text>
      </Box>
      {body}
      <Text dimColor>{fit(footerText(drilling ? 'drill' : 'table', replaying), width)}</Text>
    </Box>
  );
}
