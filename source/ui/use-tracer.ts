// React hooks that keep exactly the tracer the current view needs running: the active tab's
// table tracer, or the drill-down's stack tracer, never both; each stops when its view goes.
import {useEffect, useRef, useState} from 'react';
import type {ViewId} from '../registry.js';
import type {Backend, StackTarget, TabId, TracerStackSnapshot} from '../types.js';
import {applySnapshot, emptyTabData, type TabData} from '../model/table.js';
import {supervise} from '../backends/supervise.js';
import {processExists} from '../system/process-names.js';

export interface TracerStatus {
  /** What failed, in one line. */
  error?: string;
  /** What to do about it. */
  hint?: string;
  retryInMs?: number;
}

/** Data for every tab gathered so far; only `active` has a tracer running. */
export function useTableTracer(
  backend: Backend,
  active: TabId | undefined,
  options: {intervalMs: number; pid?: number; paused: boolean; view: ViewId},
) {
  const collected = useRef<Partial<Record<TabId, TabData>>>({});
  const [shown, setShown] = useState<Partial<Record<TabId, TabData>>>({});
  const [status, setStatus] = useState<Partial<Record<TabId, TracerStatus>>>({});
  const paused = useRef(options.paused);
  paused.current = options.paused;

  useEffect(() => {
    if (!options.paused) setShown({...collected.current});
  }, [options.paused]);

  useEffect(() => {
    if (!active) return undefined;
    const controller = new AbortController();
    void supervise({
      signal: controller.signal,
      start: signal => backend.start({tab: active, pid: options.pid, intervalMs: options.intervalMs, signal, view: options.view}),
      onItem: snapshot => {
        const data = applySnapshot(collected.current[active] ?? emptyTabData(), snapshot);
        collected.current = {...collected.current, [active]: data};
        setStatus(previous => (previous[active] ? {...previous, [active]: undefined} : previous));
        if (!paused.current) setShown(collected.current);
      },
      onError: (error, retryInMs) => {
        setStatus(previous => ({...previous, [active]: {error: error.message, hint: error.hint, retryInMs}}));
      },
    });
    return () => controller.abort();
  }, [backend, active, options.intervalMs, options.pid, options.view]);

  return {data: shown, status};
}

export interface DrillState {
  snapshot?: TracerStackSnapshot;
  exited: boolean;
  status: TracerStatus;
}

/** The drill-down's stack tracer for one process or cache, running only while `target` is set. */
export function useStackTracer(
  backend: Backend,
  target: ({tab: TabId; view?: ViewId} & StackTarget) | undefined,
  options: {intervalMs: number; paused: boolean; sampleBytes?: number},
): DrillState {
  const [state, setState] = useState<DrillState>({exited: false, status: {}});
  const paused = useRef(options.paused);
  paused.current = options.paused;
  const latest = useRef<TracerStackSnapshot | undefined>(undefined);

  useEffect(() => {
    if (!options.paused) setState(previous => ({...previous, snapshot: latest.current ?? previous.snapshot}));
  }, [options.paused]);

  useEffect(() => {
    latest.current = undefined;
    setState({exited: false, status: {}});
    if (!target) return undefined;
    const controller = new AbortController();
    // A process can exit; a cache does not go away.
    const gone = () => target.pid !== undefined && !processExists(target.pid);
    void supervise({
      signal: controller.signal,
      start: signal =>
        backend.startStacks(
          target.cache !== undefined
            ? {tab: target.tab, cache: target.cache, intervalMs: options.intervalMs, signal}
            : {tab: target.tab, pid: target.pid, intervalMs: options.intervalMs, signal, ...(target.view ? {view: target.view} : {}), ...(options.sampleBytes ? {sampleBytes: options.sampleBytes} : {})},
        ),
      giveUp: gone,
      onItem: snapshot => {
        latest.current = snapshot;
        if (!paused.current) setState({snapshot, exited: false, status: {}});
      },
      onError: (error, retryInMs) => {
        if (retryInMs === undefined && gone()) {
          setState(previous => ({...previous, exited: true, status: {}}));
          return;
        }
        setState(previous => ({...previous, status: {error: error.message, hint: error.hint, retryInMs}}));
      },
    });
    return () => controller.abort();
  }, [backend, target?.tab, target?.pid, target?.cache, target?.view, options.intervalMs]);

  return state;
}
