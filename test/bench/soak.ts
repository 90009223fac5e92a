// Soak benchmark (issue 3): memtop in batch mode (or, with --tui, the TUI in a private tmux
// server's 120x40 window) for a long run (default an hour) with all five
// workloads busy and about 2,000 short-lived processes a minute churning through its top 10.
// Prints memtop's and its tracer's RSS at the start, every 10 minutes and at the end: memtop's
// memory must stay flat (totals of gone processes are bounded).
//
//   node --import tsx test/bench/soak.ts [--minutes 60] [--tab brk] [--tui] [--busy-scale 0.05] [--churn-per-minute 2000] [--memtop PATH]
//
// --memtop runs another build of memtop (a copy of dist/, beside its probes/ and package.json), so
// that rebuilding this checkout during an hour's soak does not change what is measured.
//
// Needs root, bpftrace and gcc. Everything it starts is gone when it ends, however it ends.
import {parseArgs} from 'node:util';
import {type TabId} from '../../source/types.js';
import {TAB_IDS} from '../../source/registry.js';
import {setUpSwap} from '../helpers/swap.js';
import {startBusy} from './lib/busy.js';
import {cleanupAll, installCleanupHooks, onCleanup} from './lib/cleanup.js';
import {sleep, spawnChild, statusKb} from './lib/proc.js';
import {MEMTOP_CLI, useMemtop} from './lib/tracers.js';
import {descendants} from './lib/cleanup.js';
import {openSession} from './lib/tmux.js';
import {memtopShell} from './lib/tracers.js';

const {values} = parseArgs({
  options: {
    minutes: {type: 'string', default: '60'},
    tab: {type: 'string', default: 'brk'},
    'busy-scale': {type: 'string', default: '0.05'},
    'churn-per-minute': {type: 'string', default: '2000'},
    'sample-minutes': {type: 'string', default: '10'},
    tui: {type: 'boolean', default: false},
    memtop: {type: 'string'},
  },
});
if (values.memtop) useMemtop(values.memtop);
const minutes = Number(values.minutes);
const tab = values.tab as TabId;
if (!TAB_IDS.includes(tab)) throw new Error(`--tab must be one of ${TAB_IDS.join(', ')}`);
const churnPerSecond = Number(values['churn-per-minute']) / 60;
const sampleEveryMs = Number(values['sample-minutes']) * 60_000;

installCleanupHooks();
const swap = await setUpSwap({swapMiB: 512, limitMiB: 32});
onCleanup('swap', () => void swap.tearDown());
const busy = await startBusy({scale: Number(values['busy-scale']), swapLauncher: swap.launcher});
onCleanup('workloads', () => void busy.stop());

// Short-lived processes: a shell that starts a batch of /bin/true every 100 ms. Each exec calls
// brk and allocates slab objects, so each is a new row for one interval, then gone.
const perBatch = Math.max(1, Math.round(churnPerSecond / 10));
const churn = spawnChild('churn', '/bin/sh', ['-c', `while :; do i=0; while [ $i -lt ${perBatch} ]; do /bin/true & i=$((i+1)); done; wait; sleep 0.1; done`], {stdout: 'ignore'});
onCleanup('churn', () => void churn.stop('SIGKILL'));

let snapshots = 0;
// The memtop command as users run it: dist/cli.js's own shebang line sets node's flags.
let memtopPid: number;
let memtopGone: () => string | undefined;
if (values.tui) {
  const session = openSession('soak', ['sh', '-c', `exec ${memtopShell(['--tab', tab, '--interval', '1000'])}`]);
  onCleanup('memtop TUI', () => session.kill());
  await session.waitFor(lines => lines.some(text => /^\s+\d+ /.test(text)), 'memtop first rows', 60_000);
  memtopPid = session.panePid;
  memtopGone = () => (statusKb(memtopPid, 'VmRSS') === undefined ? `the TUI exited; last screen:\n${session.capture().lines.join('\n')}` : undefined);
} else {
  const memtop = spawnChild('memtop', MEMTOP_CLI, ['--batch', '--json', '--tab', tab, '--interval', '1000'], {keepLines: 5});
  onCleanup('memtop', () => void memtop.stop('SIGKILL'));
  memtop.process.stdout?.on('data', (chunk: Buffer) => {
    snapshots += chunk.toString().split('\n').filter(line => line.startsWith('{')).length;
  });
  await memtop.waitForLine(line => line.text.startsWith('{'), 'memtop first snapshot', 60_000);
  memtopPid = memtop.pid;
  memtopGone = () => (memtop.hasExited() ? `memtop exited during the soak:\n${memtop.tail()}` : undefined);
}

const started = Date.now();
const rows: string[][] = [];
function sample(label: string): void {
  const tracer = descendants(memtopPid).find(pid => statusKb(pid, 'VmRSS') !== undefined && pid !== memtopPid);
  rows.push([
    label,
    `${((Date.now() - started) / 60_000).toFixed(1)}`,
    `${((statusKb(memtopPid, 'VmRSS') ?? 0) / 1024).toFixed(1)}`,
    `${((statusKb(memtopPid, 'VmHWM') ?? 0) / 1024).toFixed(1)}`,
    `${((tracer ? statusKb(tracer, 'VmRSS') ?? 0 : 0) / 1024).toFixed(1)}`,
    values.tui ? '-' : String(snapshots),
  ]);
  process.stderr.write(`soak: ${rows[rows.length - 1]!.join('  ')}\n`);
}

sample('start');
const end = started + minutes * 60_000;
let nextSample = started + sampleEveryMs;
while (Date.now() < end) {
  const gone = memtopGone();
  if (gone) throw new Error(gone);
  await sleep(Math.min(5000, Math.max(100, Math.min(nextSample, end) - Date.now())));
  if (Date.now() >= nextSample && Date.now() < end) {
    sample(`${+((nextSample - started) / 60_000).toFixed(1)} min`);
    nextSample += sampleEveryMs;
  }
}
sample('end');

const header = ['when', 'minutes', 'memtop RSS MB', 'memtop peak MB', 'bpftrace RSS MB', 'snapshots'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]!.length)));
const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
process.stdout.write(`\nmemtop soak: ${values.tui ? 'TUI' : '--batch'} --tab ${tab}, ${minutes} min, busy scale ${values['busy-scale']}, ~${values['churn-per-minute']} short-lived processes/min\n`);
process.stdout.write(line(header) + '\n' + rows.map(line).join('\n') + '\n');
cleanupAll();
process.exit(0);
