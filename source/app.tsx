// The memtop TUI: tab bar, status line, the active view's top-N table or a process's stacks, and
// a footer made from the key table. It only draws: keys go through state/app-reducer.ts, the status
// line's text comes from ui/status-line.ts, and the data from ui/use-source.ts. Props only;
// cli.tsx wires it up.
import React, {useRef, useSyncExternalStore} from 'react';
import {Box, Text, useApp} from 'ink';
import type {Backend, TabId, TracerStackSnapshot, ViewId} from './types.js';
import {viewOf} from './registry.js';
import {columnHelp, columnsFor} from './model/columns.js';
import {selectRows} from './model/select-rows.js';
import {viewTable} from './model/table.js';
import {stackRankFor, topStacks} from './model/stacks.js';
import {stacksFolded} from './model/batch-output.js';
import {supportsUnicode} from './model/sparkline.js';
import {initialState, type DrillTarget} from './state/reducer.js';
import {bindingsFor, footerText} from './state/keys.js';
import type {AppState} from './state/app-reducer.js';
import {useAppState, type AppStateHandle} from './ui/use-app-state.js';
import {useKeys} from './ui/use-keys.js';
import {fit, humanAge} from './format.js';
import {TableView} from './ui/table-view.js';
import {StackView} from './ui/stack-view.js';
import {TabBar} from './ui/tab-bar.js';
import {statusLine} from './ui/status-line.js';
import {useLiveSource, useReplaySource, type Source} from './ui/use-source.js';
import {useTerminalSize} from './ui/use-terminal-size.js';
import type {ReplayTimeline} from './record/replay.js';
import {writeFoldedFile} from './system/folded-file.js';
import type {CommandSession, CommandView} from './command/command-tui.js';
import {summaryText} from './model/command-summary.js';

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
  /** -- COMMAND: only its processes are shown, and its summary once it has exited. */
  command?: CommandSession;
}

/** Frames of each stack the summary shows on screen (the allocating function first). */
const SUMMARY_FRAMES = 4;

const NO_COMMAND = () => () => undefined;

/** -- COMMAND's view, re-rendered on each change; undefined without -- COMMAND. */
function useCommand(session: CommandSession | undefined): CommandView | undefined {
  return useSyncExternalStore(session?.subscribe ?? NO_COMMAND, () => session?.view());
}

/** Whether COMMAND has exited: its tracers' work is done (no tracer outlives COMMAND). */
function commandOver(command: CommandView | undefined): boolean {
  return command?.phase === 'exited' || command?.phase === 'summary';
}

const UNICODE = supportsUnicode(process.env);

const MIN_COLUMNS = 30;
const MIN_ROWS = 6;

/** The TUI: a live app over tracers, or a replay app over a recording (--replay). */
export function App(props: AppProps) {
  return props.replay ? <ReplayApp {...props} replay={props.replay} /> : <LiveApp {...props} />;
}

function initialAppState(props: AppProps): () => AppState {
  return () => ({ui: initialState({tab: props.tab, view: props.view, intervalMs: props.intervalMs, filter: props.comm, cgroupFilter: props.cgroup, minAge: props.minAge})});
}

function LiveApp(props: AppProps) {
  const app = useAppState(initialAppState(props));
  const command = useCommand(props.command);
  const source = useLiveSource(props.backend, app.state.ui, {pid: props.pid, cgroupOf: props.cgroupOf, sampleBytes: props.sampleBytes, stopped: commandOver(command)});
  return <Screen props={props} app={app} source={source} command={command} />;
}

function ReplayApp(props: AppProps & {replay: ReplayTimeline}) {
  const app = useAppState(initialAppState(props));
  const source = useReplaySource(props.replay, app.state.ui, props.replaySpeed);
  return <Screen props={props} app={app} source={source} />;
}

/** What `w` writes of a drill-down: its folded stacks, or why there is nothing to write. */
function writeFolded(drill: DrillTarget, snapshot: TracerStackSnapshot, minAge: number, dir: string): string {
  const text = stacksFolded(snapshot, minAge);
  if (text === '') return `nothing to write: ${snapshot.live ? (minAge > 0 ? `no allocation older than ${humanAge(minAge)} is outstanding` : 'no allocation is outstanding') : 'no stacks in this interval'}`;
  try {
    const target = drill.cache !== undefined ? {cache: drill.cache} : {pid: drill.pid};
    return `wrote ${writeFoldedFile(dir, target, drill.tab, text, {view: drill.view})}`;
  } catch (error) {
    return `could not write folded stacks: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}

/** The frame both apps draw, and the one place keys are read and their effects run. */
function Screen({props, app, source, command}: {props: AppProps; app: AppStateHandle; source: Source; command?: CommandView}) {
  const {exit} = useApp();
  const size = useTerminalSize(props.size);
  const {ui: state, notice} = app.state;
  const limit = props.limit ?? 10;
  const drilling = state.drill !== undefined;
  const replaying = source.replay !== undefined;
  const {drill} = source;

  const table = viewTable(source.data[state.tab], state.view);
  const view = viewOf(state.tab, state.view);
  // Where allocator probes count the rows, each process's allocator: as recorded, else as /proc says.
  const allocatorOf = table.allocators ? (pid: number) => table.rowAllocators?.[String(pid)] ?? source.allocatorOf?.(pid) : undefined;
  const columns = columnsFor(view, {cgroupOf: source.cgroupOf, trend: {ascii: !UNICODE}, ...(allocatorOf ? {allocatorOf} : {}), ...(table.untrackedPids ? {untrackedPids: table.untrackedPids, ascii: !UNICODE} : {}), ...(table.sampledPids ? {sampledPids: table.sampledPids} : {}), ...(table.unmeasured ? {unmeasured: table.unmeasured} : {})});
  // Lines around the table: tab bar, status, header, footer; the rest is for rows.
  const tableRows = Math.max(1, Math.min(limit, size.rows - 5));
  const rows = selectRows(table.rows.values(), columns, {
    view,
    sortColumn: state.sortColumn,
    descending: state.descending,
    cumulative: state.cumulative,
    filter: state.filter,
    limit: tableRows,
    cgroup: state.cgroupFilter && source.cgroupOf ? {pattern: state.cgroupFilter, cgroupOf: source.cgroupOf} : undefined,
    nameOf: source.nameOf,
    ...(command ? {pids: command.pids} : {}),
  });
  const selected = Math.min(state.selected, Math.max(0, rows.length - 1));
  const stale = table.intervals > 0 && !source.isCurrent(state.tab, state.view);

  // What a key acts on is what this frame shows; its effects run here, as the key is read.
  const screen = useRef({rows, replaying, hasStacks: false});
  screen.current = {rows, replaying, hasStacks: drill.snapshot !== undefined};
  const phase = useRef(command?.phase);
  phase.current = command?.phase;
  const session = props.command;
  useKeys(presses => {
    const {state: after, effects} = app.applyKeys(presses, screen.current);
    for (const effect of effects) {
      if (effect.kind === 'quit') {
        // With COMMAND running, q ends it (memtop leaves once it has exited) and Ctrl-C interrupts it.
        if (!session || phase.current === 'exited' || phase.current === 'summary') exit();
        else if (effect.interrupt) session.interrupt();
        else void session.end().then(() => exit());
      }
      else if (effect.kind === 'replay-step') source.replay?.[effect.direction === 1 ? 'stepForward' : 'stepBack']();
      else if (effect.kind === 'replay-speed') source.replay?.cycleSpeed();
      else if (effect.kind === 'write-folded' && after.ui.drill && drill.snapshot) app.setNotice(writeFolded(after.ui.drill, drill.snapshot, after.ui.minAge, props.foldedDir ?? process.cwd()));
    }
  });

  const width = Math.max(1, size.columns);
  if (size.columns < MIN_COLUMNS || size.rows < MIN_ROWS) {
    return <Text>{fit(`terminal too small (${size.columns}x${size.rows}); memtop needs ${MIN_COLUMNS}x${MIN_ROWS}`, width)}</Text>;
  }

  const status = drilling ? drill.status : source.status[state.tab];
  const commandStatus = session && command ? {command: session.command, pid: session.pid, phase: command.phase, output: session.output, ...(command.exitStatus !== undefined ? {exitStatus: command.exitStatus} : {}), ...(command.profile ? {profile: command.profile} : {})} : undefined;
  const statusText = statusLine({state, source, table, status, stale, recordingTo: props.recordingTo, notice, ...(commandStatus ? {command: commandStatus} : {}), width: width - (state.paused ? 8 : 0), ascii: !UNICODE});

  const bodyHeight = Math.max(1, size.rows - 4);
  const keys = {mode: drilling ? ('drill' as const) : ('table' as const), replaying, tab: state.tab, view: state.view, ...(state.drill?.view ? {drill: state.drill.view} : {})};
  let body: React.ReactNode;
  const summary = command?.summary;
  if (summary && !state.help) {
    // COMMAND has exited: its summary in place of the table until q, the stacks not freed before
    // each process's figures so that a short screen keeps them.
    body = (
      <Box flexDirection="column">
        {summaryText(summary, {limit, frames: SUMMARY_FRAMES, stacksFirst: true})
          .slice(0, bodyHeight)
          .map((line, index) => (
            <Text key={index}>{fit(line, width)}</Text>
          ))}
      </Box>
    );
  } else if (state.help) {
    // The keys, then what each column of the table on screen shows.
    const helpLines = [
      ...bindingsFor(keys).map(binding => `${fit(binding.keys.join(' '), 16)} ${binding.description}`),
      ...(drilling ? [] : ['', 'columns:', ...columnHelp(view, columns).map(column => `${fit(column.title, 16)} ${column.text}`)]),
    ];
    body = (
      <Box flexDirection="column">
        {helpLines.slice(0, bodyHeight).map((line, index) => (
          <Text key={index}>{fit(line, width)}</Text>
        ))}
      </Box>
    );
  } else if (drilling) {
    body = <StackView data={drill.snapshot ? topStacks(drill.snapshot, limit, state.minAge, stackRankFor(state.sortColumn)) : undefined} snapshot={drill.snapshot} exited={drill.exited} width={width} height={bodyHeight} />;
  } else {
    body = (
      <TableView
        columns={columns}
        rows={rows}
        selected={selected}
        sortColumn={state.sortColumn}
        descending={state.descending}
        cumulative={state.cumulative}
        view={view}
        width={width}
        stale={stale}
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
      <Text dimColor>{fit(summary ? 'q quit' : footerText(keys), width)}</Text>
    </Box>
  );
}
