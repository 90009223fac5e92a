// Command-line flags: meow's help text and a pure parseFlags(argv) that validates every value
// and throws a UsageError with one line that says what is wrong and how to fix it.
import meow from 'meow';
import {hasView, profileTypes, TABS, TAB_IDS, type TabId, type ViewId} from './registry.js';
import {MAX_INTERVAL_MS, MIN_INTERVAL_MS} from './state/reducer.js';
import {hasControlCharacters, sanitize} from './format.js';
import {DEFAULT_SAMPLE_BYTES, isCacheName} from './types.js';
import {GAUGE_VIEWS} from './model/metrics.js';

import {DEFAULT_EXPORT, DEFAULT_EXPORT_INTERVAL_MS, DEFAULT_SERVE, EXPORT_ONLY_WHEN_NAMED, HELP, PROFILE_TABS, VIEW_IDS} from './help.js';

export {DEFAULT_EXPORT, DEFAULT_EXPORT_INTERVAL_MS, DEFAULT_SERVE, EXPORT_ONLY_WHEN_NAMED, HELP};

/** An address to serve on: an IP address (v4, or v6 without brackets) and a port. */
export interface ServeAddress {
  host: string;
  port: number;
}

/** What --serve and its companions asked for. */
export interface ServeOptions {
  address: ServeAddress;
  /** The tabs to export, in the registry's order. */
  tabs: TabId[];
  /** The gauge views --export named (GAUGE_VIEWS). */
  views: {tab: TabId; view: ViewId}[];
  pidLabel: boolean;
  top: number;
  /** How often the tracers print an interval, in ms (a multiple of 100). */
  intervalMs: number;
  /** Show the TUI too. */
  tui: boolean;
}

export type BackendChoice = 'auto' | 'bpftrace' | 'stap' | 'dtrace';
export const BACKEND_CHOICES: BackendChoice[] = ['auto', 'bpftrace', 'stap', 'dtrace'];

export interface Options {
  tab: TabId;
  /** Whether --tab was given (a replay otherwise opens on the first tab it recorded). */
  tabGiven?: boolean;
  intervalMs: number;
  limit: number;
  pid?: number;
  /** With --stacks: the slab cache whose kernel paths to show. */
  cache?: string;
  comm?: string;
  backend: BackendChoice;
  batch: boolean;
  iterations?: number;
  json: boolean;
  stacks: boolean;
  check: boolean;
  help: boolean;
  version: boolean;
  /** --group or --live: the view of the tab (registry.ts), when given. */
  view?: ViewId;
  /** --min-age: live stacks count only allocations at least this many seconds old. */
  minAge?: number;
  /** --sample or --sample-bytes: live stacks are taken for about one allocation per this many bytes. */
  sampleBytes?: number;
  cgroup?: string;
  record?: string;
  overwrite: boolean;
  replay?: string;
  speed: number;
  folded: boolean;
  /** --pprof: also write the drill-down (with -- COMMAND: what was in use at exit) as a pprof profile to this file. */
  pprof?: string;
  /** --serve: run as a Prometheus exporter. */
  serve?: ServeOptions;
  /** What follows `--`: the program memtop starts and follows to its exit, and its arguments. */
  command?: string[];
  /** --user: the user COMMAND runs as. */
  user?: string;
  /** --output: the file COMMAND's stdout and stderr go to (in the TUI, else nowhere). */
  output?: string;
}

/** A mistake in the command line: its message is the one line the user sees. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The flags. Every value flag is a string and every flag isMultiple, by choice: meow's number
 * type turns "fast" and "1s" into NaN (the error must quote what was typed) and takes "1e3";
 * its `choices` error is two lines long and echoes control characters the user typed; and a
 * flag given twice is counted here instead of matching the text of meow's own error.
 */
const FLAGS = {
  tab: {type: 'string', isMultiple: true},
  interval: {type: 'string', isMultiple: true},
  limit: {type: 'string', isMultiple: true},
  pid: {type: 'string', isMultiple: true},
  cache: {type: 'string', isMultiple: true},
  comm: {type: 'string', isMultiple: true},
  backend: {type: 'string', isMultiple: true},
  batch: {type: 'boolean', isMultiple: true},
  iterations: {type: 'string', isMultiple: true},
  json: {type: 'boolean', isMultiple: true},
  stacks: {type: 'boolean', isMultiple: true},
  check: {type: 'boolean', isMultiple: true},
  help: {type: 'boolean', isMultiple: true},
  version: {type: 'boolean', isMultiple: true},
  group: {type: 'string', isMultiple: true},
  cgroup: {type: 'string', isMultiple: true},
  record: {type: 'string', isMultiple: true},
  overwrite: {type: 'boolean', isMultiple: true},
  replay: {type: 'string', isMultiple: true},
  speed: {type: 'string', isMultiple: true},
  folded: {type: 'boolean', isMultiple: true},
  pprof: {type: 'string', isMultiple: true},
  live: {type: 'boolean', isMultiple: true},
  minAge: {type: 'string', isMultiple: true},
  sample: {type: 'boolean', isMultiple: true},
  sampleBytes: {type: 'string', isMultiple: true},
  serve: {type: 'string', isMultiple: true},
  tui: {type: 'boolean', isMultiple: true},
  export: {type: 'string', isMultiple: true},
  metricsPid: {type: 'boolean', isMultiple: true},
  metricsTop: {type: 'string', isMultiple: true},
  exportInterval: {type: 'string', isMultiple: true},
  user: {type: 'string', isMultiple: true},
  output: {type: 'string', isMultiple: true},
} as const;

function integer(name: string, raw: string | undefined, min: number, max: number, hint: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be a whole number, not "${printable(raw)}": ${hint}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new UsageError(`--${name} ${value} is out of range: ${hint}`);
  return value;
}

/** An interval flag (--interval, --export-interval) in ms, checked against the tracers' range. */
function intervalFlag(name: string, raw: string | undefined): number | undefined {
  return integer(name, raw, MIN_INTERVAL_MS, MAX_INTERVAL_MS, `use ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS} milliseconds`);
}

/** An interval as the tracers take it: rounded to 100 ms, at least the shortest. */
function roundedInterval(ms: number): number {
  return Math.round(ms / 100) * 100 || MIN_INTERVAL_MS;
}

/** Show user input inside an error without letting it carry control characters. */
function printable(text: string): string {
  return sanitize(text).slice(0, 60);
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Whether text is an IPv6 address (as inside brackets): hex groups, at most one ::, maybe a dotted IPv4 tail. */
function isIpv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return false;
  const groups = text.split(':');
  const last = groups.at(-1)!;
  const tail = IPV4.test(last) ? 2 : 1;
  const hex = IPV4.test(last) ? groups.slice(0, -1) : groups;
  if (!hex.every(group => group === '' || /^[0-9a-fA-F]{1,4}$/.test(group))) return false;
  const filled = hex.filter(group => group !== '').length + (tail - 1);
  return text.includes('::') ? filled < 8 : filled === 8 && !hex.includes('');
}

/**
 * The address --serve was given: '' is the default; else HOST:PORT with an IPv4 address or a
 * bracketed IPv6 one. memtop listens on that address only, so it must be written out.
 */
export function parseServeAddress(raw: string): ServeAddress {
  const text = raw.trim() === '' ? DEFAULT_SERVE : raw.trim();
  const hint = `give HOST:PORT with an IP address, e.g. ${DEFAULT_SERVE}, 0.0.0.0:9464 or [::1]:9464`;
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!match) throw new UsageError(`--serve "${printable(raw)}" is not an address: ${hint}`);
  const host = match[1] ?? match[2]!;
  if (host === '') throw new UsageError(`--serve "${printable(raw)}" has no host: ${hint}`);
  if (match[1] !== undefined ? !isIpv6(host) : !IPV4.test(host)) throw new UsageError(`--serve "${printable(raw)}": ${printable(host)} is not an IP address: ${hint}`);
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new UsageError(`--serve port ${port} is out of range: use 1 to 65535`);
  return {host, port};
}

/** The tabs and gauge views --export names, in the registry's order. */
function exportNames(raw: string): Pick<ServeOptions, 'tabs' | 'views'> {
  const names = raw.split(',').map(name => name.trim());
  const known: string[] = [...TAB_IDS, ...GAUGE_VIEWS.map(view => view.view)];
  if (names.every(name => name === '')) throw new UsageError(`--export needs tab names, e.g. --export ${[...DEFAULT_EXPORT, ...EXPORT_ONLY_WHEN_NAMED].join(',')}`);
  for (const name of names) {
    if (!known.includes(name)) throw new UsageError(`--export: unknown tab "${printable(name)}": use a comma-separated list of ${known.join(', ')}`);
  }
  return {tabs: TAB_IDS.filter(tab => names.includes(tab)), views: GAUGE_VIEWS.filter(view => names.includes(view.view))};
}

/** Parse and validate argv (without node and the script). Throws UsageError. */
export function parseFlags(allArgs: string[]): Options {
  // Everything after the first `--` is COMMAND and its arguments, never memtop's flags.
  const split = allArgs.indexOf('--');
  const argv = split === -1 ? allArgs : allArgs.slice(0, split);
  const command = split === -1 ? undefined : allArgs.slice(split + 1);
  // Help and version are printed by the caller (cli.tsx): parseFlags only parses.
  const cli = meow(HELP, {importMeta: import.meta, argv, flags: FLAGS, allowUnknownFlags: true, autoHelp: false, autoVersion: false});
  const unknown = Object.keys(cli.flags).filter(name => !(name in FLAGS));
  if (unknown.length > 0) {
    const name = unknown[0]!.replace(/[A-Z]/g, letter => `-${letter.toLowerCase()}`);
    throw new UsageError(`unknown flag --${printable(name)}: see memtop --help`);
  }
  const kebab = (name: string) => name.replace(/[A-Z]/g, letter => `-${letter.toLowerCase()}`);
  if (cli.input.length > 0) throw new UsageError(`unexpected argument "${printable(cli.input[0]!)}": see memtop --help`);
  for (const [name, values] of Object.entries(cli.flags) as [string, unknown[] | undefined][]) {
    if (values && values.length > 1) throw new UsageError(`--${kebab(name)} is given ${values.length} times: give each flag once (see memtop --help)`);
  }
  // meow drops a string flag given without a value when it isMultiple: a bare --serve (the
  // default address) is counted from argv instead.
  const serveValues = [...(cli.flags.serve ?? [])];
  const serveTokens = argv.filter(arg => arg === '--serve' || arg.startsWith('--serve=')).length;
  while (serveValues.length < serveTokens) serveValues.push('');
  if (serveValues.length > 1) throw new UsageError(`--serve is given ${serveValues.length} times: give each flag once (see memtop --help)`);
  const one = <T>(values: readonly T[] | undefined): T | undefined => values?.[0];
  const on = (values: readonly boolean[] | undefined) => values?.[0] === true;
  const raw = cli.flags;
  const flags = {
    tab: one(raw.tab),
    interval: one(raw.interval),
    limit: one(raw.limit),
    pid: one(raw.pid),
    cache: one(raw.cache),
    comm: one(raw.comm),
    backend: one(raw.backend),
    batch: on(raw.batch),
    iterations: one(raw.iterations),
    json: on(raw.json),
    stacks: on(raw.stacks),
    check: on(raw.check),
    help: on(raw.help),
    version: on(raw.version),
    group: one(raw.group),
    cgroup: one(raw.cgroup),
    record: one(raw.record),
    overwrite: on(raw.overwrite),
    replay: one(raw.replay),
    speed: one(raw.speed),
    folded: on(raw.folded),
    pprof: one(raw.pprof),
    live: on(raw.live),
    minAge: one(raw.minAge),
    sample: on(raw.sample),
    sampleBytes: one(raw.sampleBytes),
    serve: one(serveValues),
    tui: on(raw.tui),
    export: one(raw.export),
    metricsPid: on(raw.metricsPid),
    metricsTop: one(raw.metricsTop),
    exportInterval: one(raw.exportInterval),
    user: one(raw.user),
    output: one(raw.output),
  };
  commandChecks(command, flags);
  const tab = (flags.tab ?? TAB_IDS[0]) as TabId;
  if (!TAB_IDS.includes(tab)) throw new UsageError(`unknown tab "${printable(String(flags.tab))}": use one of ${TAB_IDS.join(', ')}`);
  const backend = (flags.backend ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`unknown backend "${printable(String(flags.backend))}": use one of ${BACKEND_CHOICES.join(', ')}`);
  const intervalMs = intervalFlag('interval', flags.interval) ?? 1000;
  const limit = integer('limit', flags.limit, 1, 100, 'use 1 to 100 rows') ?? 10;
  const pid = integer('pid', flags.pid, 1, 4_194_304, 'use the PID of a running process (see ps)');
  const iterations = integer('iterations', flags.iterations, 1, 1_000_000, 'use a count of 1 or more');
  let comm: string | undefined;
  if (flags.comm !== undefined) {
    comm = flags.comm;
    if (comm.trim() === '') throw new UsageError('--comm needs a process name (part of one is enough), e.g. --comm nginx');
    if (hasControlCharacters(comm)) throw new UsageError('--comm must not contain control characters: give a plain process name');
  }
  let cgroup: string | undefined;
  if (flags.cgroup !== undefined) {
    cgroup = flags.cgroup;
    if (cgroup.trim() === '') throw new UsageError('--cgroup needs a pattern (part of a cgroup path or a container id), e.g. --cgroup docker');
    if (hasControlCharacters(cgroup)) throw new UsageError('--cgroup must not contain control characters');
  }
  let view = flags.group as ViewId | undefined;
  if (view !== undefined && !VIEW_IDS.includes(view)) throw new UsageError(`unknown grouping "${printable(view)}": use ${VIEW_IDS.join(' or ')}`);
  if (flags.live) {
    if (view !== undefined && view !== 'live') throw new UsageError(`--live and --group ${view} are two views: pick one`);
    if (!hasView(tab, 'live')) throw new UsageError(`the ${TABS[tab].title} tab has no live view: use --tab ${TAB_IDS.find(id => hasView(id, 'live')) ?? 'malloc'}`);
    view = 'live';
  }
  const liveOnly = [['min-age', flags.minAge !== undefined], ['sample', flags.sample], ['sample-bytes', flags.sampleBytes !== undefined]] as const;
  const liveFlag = liveOnly.find(([, given]) => given)?.[0];
  if (liveFlag && view !== 'live') throw new UsageError(`--${liveFlag} is for live stacks: add --live`);
  const minAge = integer('min-age', flags.minAge, 0, 604_800, 'use 0 to 604800 seconds');
  const sampleBytes = integer('sample-bytes', flags.sampleBytes, 1, 1_073_741_824, 'use 1 to 1073741824 bytes (512 KiB with --sample)') ?? (flags.sample ? DEFAULT_SAMPLE_BYTES : undefined);
  const speed = flags.speed === undefined ? 1 : Number(flags.speed);
  if (![0.5, 1, 2, 4].includes(speed)) throw new UsageError(`--speed must be 0.5, 1, 2 or 4, not "${printable(String(flags.speed))}"`);
  for (const [name, value] of [['record', flags.record], ['replay', flags.replay], ['pprof', flags.pprof]] as const) {
    if (value !== undefined && (value.trim() === '' || hasControlCharacters(value))) {
      throw new UsageError(`--${name} needs a file name, e.g. --${name} memtop.ndjson`);
    }
  }
  const serve = serveOptions(
    flags,
    raw => integer('metrics-top', raw, 1, 1000, 'use 1 to 1000 label sets'),
    raw => intervalFlag('export-interval', raw) ?? (flags.tui ? intervalMs : undefined),
  );
  if (flags.record !== undefined && flags.replay !== undefined) throw new UsageError('--record and --replay do not go together: replay a recording, or record a live session');
  if (flags.replay !== undefined && flags.check) throw new UsageError('--check is for live tracing: drop --replay');
  if (flags.replay !== undefined && flags.backend !== undefined) throw new UsageError('--backend is for live tracing: a replay uses the recorded one');
  if (flags.overwrite && flags.record === undefined) throw new UsageError('--overwrite goes with --record FILE');
  if (flags.folded && !(flags.batch && flags.stacks)) throw new UsageError('--folded goes with --batch --stacks (and --pid N or --cache NAME)');
  if (flags.cache !== undefined) {
    if (!isCacheName(flags.cache)) throw new UsageError(`--cache needs a slab cache's name, not "${printable(flags.cache)}": e.g. --cache filp (memtop --batch --tab slab --group cache lists them)`);
    if (!hasView(tab, 'cache')) throw new UsageError(`--cache is for a tab grouped by cache: add --tab ${TAB_IDS.find(id => hasView(id, 'cache')) ?? 'slab'}`);
    if (pid !== undefined) throw new UsageError('--cache and --pid are two drill-downs: pick one');
    if (!flags.stacks) throw new UsageError('--cache goes with --batch --stacks: the kernel paths into that cache');
  }
  if (flags.stacks && pid === undefined && flags.cache === undefined) throw new UsageError('--stacks needs --pid N (a process\'s stacks) or --cache NAME (the kernel paths into a slab cache)');
  if (flags.stacks && !flags.batch) throw new UsageError('--stacks is for batch mode: add --batch (in the TUI press Enter on a row)');
  if (flags.pprof !== undefined && command === undefined && !(flags.batch && flags.stacks)) throw new UsageError('--pprof goes with --batch --stacks (and --pid N or --cache NAME), or with -- COMMAND');
  if (flags.pprof !== undefined && command === undefined && !profileTypes(tab, view)) throw new UsageError(`--pprof writes allocations: use --tab ${PROFILE_TABS.join(' or --tab ')}`);
  if (flags.folded && flags.json) throw new UsageError('--folded and --json are two output formats: pick one');
  if (flags.json && !flags.batch) throw new UsageError('--json is for batch mode: add --batch');
  if (iterations !== undefined && !flags.batch) throw new UsageError('--iterations is for batch mode: add --batch');
  return {
    tab,
    ...(flags.tab !== undefined ? {tabGiven: true} : {}),
    intervalMs: roundedInterval(intervalMs),
    limit,
    pid,
    ...(flags.cache !== undefined ? {cache: flags.cache} : {}),
    comm,
    backend,
    batch: flags.batch,
    iterations,
    json: flags.json,
    stacks: flags.stacks,
    check: flags.check,
    help: flags.help,
    version: flags.version,
    ...(view !== undefined ? {view} : {}),
    ...(minAge !== undefined ? {minAge} : {}),
    ...(sampleBytes !== undefined ? {sampleBytes} : {}),
    cgroup,
    record: flags.record,
    overwrite: flags.overwrite,
    replay: flags.replay,
    speed,
    folded: flags.folded,
    ...(flags.pprof !== undefined ? {pprof: flags.pprof} : {}),
    ...(serve ? {serve} : {}),
    ...(command ? {command} : {}),
    ...(flags.user !== undefined ? {user: flags.user} : {}),
    ...(flags.output !== undefined ? {output: flags.output} : {}),
  };
}

/** What -- COMMAND and --user go with, checked. */
function commandChecks(command: string[] | undefined, flags: Record<string, unknown> & {user?: string; output?: string}): void {
  if (command === undefined) {
    if (flags.user !== undefined) throw new UsageError('--user goes with -- COMMAND: memtop --user NAME -- COMMAND [ARGS...]');
    if (flags.output !== undefined) throw new UsageError('--output goes with -- COMMAND: memtop --output FILE -- COMMAND [ARGS...]');
    return;
  }
  if (flags.output !== undefined && (flags.output.trim() === '' || hasControlCharacters(flags.output))) throw new UsageError('--output needs a file name for COMMAND\'s output, e.g. --output command.log');
  if (command.length === 0 || command[0]!.trim() === '') throw new UsageError('-- needs a command after it, e.g. memtop -- python3 script.py');
  if (flags.user !== undefined && !/^[a-z_][a-z0-9_.-]*\$?$/i.test(flags.user)) throw new UsageError(`--user "${printable(flags.user)}" is not a user name: give a login name, e.g. --user alice`);
  const refused: [string, string][] = [
    ['pid', '--pid and -- COMMAND pick two different processes: drop --pid'],
    ['replay', '--replay has no program to run: drop -- COMMAND'],
    ['serve', '--serve does not run a command: drop -- COMMAND'],
    ['check', '--check does not run a command: run it on its own'],
    ['stacks', '--stacks drills into a running --pid: -- COMMAND prints its stacks in the summary at exit'],
    ['iterations', '--iterations does not go with -- COMMAND: memtop ends when COMMAND does'],
    ['record', '--record does not go with -- COMMAND yet'],
  ];
  if (flags.backend !== undefined && flags.backend !== 'bpftrace' && flags.backend !== 'auto') throw new UsageError('-- COMMAND traces with bpftrace: drop --backend');
  for (const [name, message] of refused) if (flags[name] !== undefined && flags[name] !== false) throw new UsageError(message);
}

/** The flags --serve goes with and those it does not, checked; undefined without --serve. */
function serveOptions(
  flags: {serve?: string; tui: boolean; export?: string; metricsPid: boolean; metricsTop?: string; exportInterval?: string} & Record<string, unknown>,
  top: (raw: string | undefined) => number | undefined,
  interval: (raw: string | undefined) => number | undefined,
): ServeOptions | undefined {
  if (flags.serve === undefined) {
    for (const name of ['tui', 'export', 'metricsPid', 'metricsTop', 'exportInterval'] as const) {
      if (flags[name] !== undefined && flags[name] !== false) throw new UsageError(`--${name.replace(/[A-Z]/g, letter => `-${letter.toLowerCase()}`)} goes with --serve`);
    }
    return undefined;
  }
  const refused: [string, string][] = [
    ['batch', '--serve and --batch are two ways to run: serve metrics, or print tables'],
    ['json', '--json is for batch mode; --serve speaks the Prometheus text format'],
    ['replay', '--serve traces live: a replay has no tracer to export'],
    ['stacks', '--stacks is for batch mode; --serve exports tables, not stacks'],
    ['folded', '--folded is for batch mode, not --serve'],
    ['pprof', '--pprof is for batch mode: --serve answers GET /debug/pprof/allocs and /debug/pprof/heap'],
    ['iterations', '--iterations is for batch mode: --serve runs until stopped'],
    ['check', '--check does not serve: run it on its own'],
    ['record', '--record does not go with --serve: record with the TUI or --batch'],
    ['speed', '--speed is for --replay, not --serve'],
  ];
  for (const [name, message] of refused) if (flags[name] !== undefined && flags[name] !== false) throw new UsageError(message);
  if (!flags.tui) {
    const tuiOnly: [string, string][] = [
      ['tab', '--tab picks the TUI\'s tab: add --tui, or choose what --serve exports with --export TABS'],
      ['interval', '--interval is the TUI\'s refresh: add --tui (--export-interval is the exporter\'s)'],
      ['limit', '--limit is the TUI\'s rows: add --tui, or use --metrics-top N'],
      ['comm', '--comm filters the TUI\'s table: add --tui (--serve exports every process; select in PromQL)'],
      ['cgroup', '--cgroup filters the TUI\'s table: add --tui (--serve exports every process; select in PromQL)'],
      ['group', '--group is the TUI\'s or batch grouping: --serve exports every view of a tab'],
    ];
    for (const [name, message] of tuiOnly) if (flags[name] !== undefined) throw new UsageError(message);
  }
  return {
    address: parseServeAddress(flags.serve),
    ...(flags.export === undefined ? {tabs: DEFAULT_EXPORT, views: []} : exportNames(flags.export)),
    pidLabel: flags.metricsPid,
    top: top(flags.metricsTop) ?? 20,
    intervalMs: roundedInterval(interval(flags.exportInterval) ?? DEFAULT_EXPORT_INTERVAL_MS),
    tui: flags.tui,
  };
}
