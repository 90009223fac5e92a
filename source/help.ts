// memtop --help: the usage text, its flags and the key table, and the defaults it states that the
// flags' parser (flags.ts) applies too.
import {TABS, TAB_IDS, type TabId} from './registry.js';
import {keyLines} from './state/keys.js';
import {MAX_INTERVAL_MS, MIN_INTERVAL_MS} from './state/reducer.js';
import {GAUGE_VIEWS} from './model/metrics.js';

/** Every view id some tab has, for --group. */
export const VIEW_IDS = [...new Set(TAB_IDS.flatMap(tab => TABS[tab].views.map(view => view.id)))];

/** The key table, one line per thing the keys do. */
function keysHelp(): string {
  return keyLines()
    .map(line => `    ${line.keys.padEnd(24)} ${line.description}`)
    .join('\n');
}

/** Where --serve listens when given no address. */
export const DEFAULT_SERVE = '127.0.0.1:9464';

/**
 * Tabs --serve exports only when --export names them: their probes fire on a hot path of every
 * process on the machine (malloc's uprobe on every call, minor faults' event on every fault).
 */
export const EXPORT_ONLY_WHEN_NAMED: readonly TabId[] = ['malloc', 'minfault'];

/**
 * How often --serve's tracers print their interval, unless --export-interval says: counters are
 * cumulative and Prometheus scrapes every 15-60 s, so a tracer printing every second and memtop
 * reading it every second cost a node CPU for freshness nobody sees (readme.md, "Fleet").
 */
export const DEFAULT_EXPORT_INTERVAL_MS = 5000;

/** What --serve exports unless --export says: every other tab. */
export const DEFAULT_EXPORT: TabId[] = TAB_IDS.filter(tab => !EXPORT_ONLY_WHEN_NAMED.includes(tab));

/** The tabs whose drill-downs --pprof writes. */
export const PROFILE_TABS = TAB_IDS.filter(tab => TABS[tab].profile);

/** memtop --help. */
export const HELP = `
  Usage
    memtop [options]               live top-10 of memory events (as root)
    memtop --batch [options]       print one table per interval, like top -b
    memtop --check                 check this machine can run memtop
    memtop --serve [ADDR]          serve Prometheus metrics on ADDR (default ${DEFAULT_SERVE}), headless
    memtop [options] -- COMMAND [ARGS...]
                                   run COMMAND from its first allocation to its exit: every tab shows
                                   it and what it starts, then a heap summary (as valgrind's)

  Options
    --tab ID          ${TAB_IDS.join(' | ')}   (default ${TAB_IDS[0]})
    --interval MS     refresh interval, ${MIN_INTERVAL_MS}-${MAX_INTERVAL_MS} ms, rounded to 100 (default 1000)
    --limit N         rows to show, 1-100 (default 10)
    --pid N           trace only this process
    --comm NAME       show only processes whose name contains NAME
    --backend NAME    auto | bpftrace | stap | dtrace (default auto)
    --batch           non-interactive output (works in pipes)
    --iterations N    with --batch: stop after N intervals (default: run until interrupted)
    --json            with --batch: one JSON object per line
    --stacks          with --batch --pid N: that process's top user stacks; with --batch
                      --tab slab --cache NAME: the kernel paths into that slab cache
    --cache NAME      with --stacks: the slab cache to drill into (e.g. filp)
    --check           print each requirement with pass or fail and the fix
    --group NAME      with --batch: the view, ${VIEW_IDS.join(' or ')} (${TAB_IDS.filter(tab => TABS[tab].views.length > 1).join(', ')})
    --cgroup PATTERN  show only processes whose cgroup or container id contains PATTERN
    --record FILE     append every snapshot and drill-down to FILE (NDJSON); --overwrite replaces
                      an older recording
    --replay FILE     replay a recording: no root or tracer needed (TUI or --batch)
    --speed X         replay speed in the TUI: 0.5, 1, 2 or 4 (default 1)
    --folded          with --batch --stacks: print folded stacks for flame graphs (live: bytes)
    --live            the malloc tab's live view: bytes and allocations not freed yet (the l key);
                      with --batch --pid N --stacks: that process's stacks of them
    --min-age S       with --live: stacks count only allocations at least S seconds old (the o key)
    --sample          with --live: take stacks for about one allocation per 512 KiB, at random,
                      instead of every one (counts and bytes stay exact, stacks are estimates)
    --sample-bytes N  with --live: as --sample, one stack per about N bytes
    --pprof FILE      with --batch --stacks (${PROFILE_TABS.join(', ')} tabs; --live too): also write the stacks
                      as a gzipped pprof profile to FILE, rewritten every interval (go tool pprof FILE);
                      with -- COMMAND: what COMMAND had not freed at exit (inuse_space), written at its exit
    --serve [ADDR]    serve GET /metrics (Prometheus) on ADDR: ${DEFAULT_SERVE}, or HOST:PORT such as
                      0.0.0.0:9464 or [::1]:9464; runs headless unless --tui is given; also
                      GET /debug/pprof/allocs?pid=N&seconds=S and /debug/pprof/heap?pid=N&seconds=S
                      (pprof profiles of one process's malloc stacks, traced only while asked)
    --tui             with --serve: show the TUI too, from the same tracers
    --export TABS     with --serve: comma-separated tabs to export (default ${DEFAULT_EXPORT.join(',')};
                      malloc and minfault cost every process on the machine per call or fault,
                      so only when named; ${GAUGE_VIEWS.map(view => view.view).join(', ')}: memtop_live_bytes and
                      memtop_live_allocations, a uprobe and a uretprobe on every allocator call
                      and a uprobe on every free, in every process, so only when named)
    --export-interval MS
                      with --serve: how often the tracers' counts reach the metrics,
                      ${MIN_INTERVAL_MS}-${MAX_INTERVAL_MS} ms, rounded to 100 (default ${DEFAULT_EXPORT_INTERVAL_MS}; with --tui,
                      the TUI's --interval, so that both read the same tracers)
    --metrics-pid     with --serve: add a pid label to process series
    --metrics-top N   with --serve: label sets per metric with series of their own, 1-1000 (default 20);
                      the rest add up in one series labelled other
    --user NAME       with -- COMMAND: run it as NAME (default: the user sudo was run by)
    --output FILE     with -- COMMAND: its stdout and stderr go to FILE (in the TUI, else to /dev/null;
                      with --batch, else to the terminal)
    --help, --version

  Keys (TUI)
${keysHelp()}
`;

