// Measures and row specs that several tabs share.
import type {BpftraceRows, LiveMaps, MapMeasure} from '../parse/bpftrace-specs.js';
import type {Measure, Unit} from './types.js';

/** Events counted per interval and since start. */
export const count = (title: string, metric?: Measure['metric'], unit: Unit = 'events'): Measure => ({id: 'count', title, totalTitle: 'TOTAL', unit, kind: 'counter', ...(metric ? {metric} : {})});
/** Bytes summed per interval and since start. */
export const bytes = (title: string, metric?: Measure['metric']): Measure => ({id: 'bytes', title, totalTitle: `TOT ${title}`, unit: 'bytes', kind: 'counter', ...(metric ? {metric} : {})});

/** The maps of malloc-live.bt and stacks-malloc-live.bt. */
export const LIVE_MAPS: LiveMaps = {bytes: 'bytes', count: 'count', epochs: 'epochs', untracked: 'untracked', untrackedPids: 'untracked_pids', sampling: 'sampling', sampledPids: 'sampled_pids'};

/** Double-buffered pid-keyed rows with the names of exited processes. */
export const byPid = (measures: Record<string, MapMeasure>): BpftraceRows => ({measures, names: 'names'});
