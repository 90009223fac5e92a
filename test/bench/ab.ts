// memtop against memtop (not part of npm run bench): several builds or Node flag sets of the TUI
// side by side in windows of one private tmux server, on the same changing rows, measured in
// the same windows of time, so that a change to the bundle or to Node's flags is judged on a
// loaded machine by its difference, not by figures from two different minutes.
//
//   node --import tsx test/bench/ab.ts [--rows 100] [--tab slab] [--seconds 20] [--windows 5] [--batch] NAME=COMMAND ...
//
// COMMAND is a memtop to start, words split on spaces, e.g.
//   base=dist/cli.js  noopt="/usr/bin/node --max-semi-space-size=1 --no-opt dist/cli.js"
// and is given --tab TAB --interval 1000 --limit ROWS. With --batch each runs as `COMMAND --batch`
// instead, its output read and dropped, as the side section runs it beside top -b. Prints each
// one's CPU (ms a second, every thread) and RSS per window, then the medians. Needs root,
// bpftrace, gcc and tmux.
import {parseArgs} from 'node:util';
import {performance} from 'node:perf_hooks';
import type {TabId} from '../../source/types.js';
import {cleanupAll, installCleanupHooks} from './lib/cleanup.js';
import {cpuSecondsPrecise, sleep, spawnChild, statusKb} from './lib/proc.js';
import {openSession} from './lib/tmux.js';
import {showsData} from './lib/screen.js';
import {buildWorkloads, startWorkload} from './lib/workloads.js';
import {fixed, median} from './lib/stats.js';
import {paceOf} from './side.js';

const {values, positionals} = parseArgs({
  allowPositionals: true,
  options: {
    rows: {type: 'string', default: '100'},
    tab: {type: 'string', default: 'slab'},
    seconds: {type: 'string', default: '20'},
    windows: {type: 'string', default: '5'},
    batch: {type: 'boolean', default: false},
  },
});
const rows = Number(values.rows);
const tab = values.tab as TabId;
const variants = positionals.map(text => {
  const match = /^([^=]+)=(.+)$/.exec(text);
  if (!match) throw new Error(`"${text}" is not NAME=COMMAND`);
  return {name: match[1]!, command: match[2]!.split(' ').filter(Boolean)};
});
if (variants.length === 0) throw new Error('name at least one NAME=COMMAND');
installCleanupHooks();
buildWorkloads();

for (let index = 0; index < rows; index++) await startWorkload(tab, {events: 0, eventsPerSecond: paceOf(tab, index, rows), waitForGo: false});
const size = {columns: 120, rows: rows >= 100 ? 110 : 40};
const memtopArgs = ['--tab', tab, '--interval', '1000', '--limit', String(rows)];
/** Each variant's memtop: its pid and a wait for its first table. */
const sessions = variants.map((variant, index) => {
  if (values.batch) {
    const child = spawnChild(`ab ${variant.name}`, variant.command[0]!, [...variant.command.slice(1), ...memtopArgs, '--batch'], {keepLines: 5});
    return {...variant, pid: child.pid, ready: () => child.waitForLine(line => line.text.startsWith('memtop '), `${variant.name}: a batch table`, 60_000)};
  }
  const session = openSession(`ab-${index}`, [...variant.command, ...memtopArgs], size);
  return {...variant, pid: session.panePid, ready: () => session.waitFor(showsData(tab), `${variant.name}: ${tab} rows`, 60_000)};
});
for (const {ready} of sessions) await ready();
// Past the first frames and the JIT's first work.
await sleep(5000);
const cpu = new Map<string, number[]>(sessions.map(({name}) => [name, []]));
const rss = new Map<string, number[]>(sessions.map(({name}) => [name, []]));
for (let window = 0; window < Number(values.windows); window++) {
  const before = sessions.map(({pid}) => cpuSecondsPrecise(pid) ?? Number.NaN);
  const started = performance.now();
  await sleep(Number(values.seconds) * 1000);
  const seconds = (performance.now() - started) / 1000;
  sessions.forEach(({name, pid}, index) => {
    cpu.get(name)!.push((((cpuSecondsPrecise(pid) ?? Number.NaN) - before[index]!) / seconds) * 1000);
    rss.get(name)!.push((statusKb(pid, 'VmRSS') ?? Number.NaN) / 1024);
  });
  process.stdout.write(`window ${window + 1}: ${sessions.map(({name}) => `${name} ${fixed(cpu.get(name)!.at(-1)!)} ms/s ${fixed(rss.get(name)!.at(-1)!, 1)} MB`).join(' · ')}\n`);
}
process.stdout.write(`\n${values.batch ? 'batch mode, ' : ''}${rows} rows on the ${tab} tab, ${values.windows} windows of ${values.seconds} s (CPU: ms a second, every thread; RSS: MB at each window's end)\n`);
for (const {name} of sessions) {
  process.stdout.write(`${name}: CPU median ${fixed(median(cpu.get(name)!))} (${cpu.get(name)!.map(value => fixed(value, 1)).join(' ')}), RSS ${rss.get(name)!.map(value => fixed(value, 1)).join(' ')}\n`);
}
cleanupAll();
process.exit(0);
