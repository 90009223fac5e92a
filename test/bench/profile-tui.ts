// Where the real TUI's CPU goes (not part of npm run bench): memtop's dist/cli.js under
// --cpu-prof in a private tmux window, with one bench workload per row changing every interval (at the side section's paces),
// then its self time by module (the `// path` comments esbuild leaves in the bundle say which
// file each line came from) and by function. With --batch, memtop --batch instead, its output
// read and dropped, for as many intervals.
//
//   node --import tsx test/bench/profile-tui.ts [--rows 100] [--tab slab] [--seconds 60] [--batch] [--memtop dist/cli.js] [--keep DIR]
//
// Needs root, bpftrace, gcc and tmux.
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import type {TabId} from '../../source/types.js';
import {cleanupAll, installCleanupHooks} from './lib/cleanup.js';
import {sleep, spawnChild} from './lib/proc.js';
import {MEMTOP_CLI, useMemtop} from './lib/tracers.js';
import {openSession} from './lib/tmux.js';
import {showsData} from './lib/screen.js';
import {startWorkload, type ReadyWorkload} from './lib/workloads.js';
import {paceOf} from './side.js';

const {values} = parseArgs({
  options: {
    rows: {type: 'string', default: '100'},
    tab: {type: 'string', default: 'slab'},
    seconds: {type: 'string', default: '60'},
    memtop: {type: 'string'},
    keep: {type: 'string'},
    top: {type: 'string', default: '30'},
    batch: {type: 'boolean', default: false},
  },
});
if (values.memtop) useMemtop(values.memtop);
const rows = Number(values.rows);
const tab = values.tab as TabId;
installCleanupHooks();

/** Node's flags from the shebang line (`#!/usr/bin/env -S node FLAGS`), so the profile runs memtop as users do. */
function shebangFlags(cli: string): string[] {
  const line = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  return line.replace(/^#!\S*env -S node\s*/, '').split(/\s+/).filter(flag => flag.startsWith('--'));
}

interface ProfileNode {
  id: number;
  callFrame: {functionName: string; url: string; lineNumber: number};
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** For a bundled file, the module each line came from, from esbuild's `// path` comments. */
function moduleLines(file: string): (line: number) => string {
  const starts: [number, string][] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const match = /^\/\/ ((?:node_modules|source)\/\S+)$/.exec(text);
      if (match) starts.push([index, match[1]!.replace(/^node_modules\//, '')]);
    });
  return line => {
    let found = path.basename(file);
    for (const [start, name] of starts) {
      if (start > line) break;
      found = name;
    }
    return found;
  };
}

const directory = values.keep ?? mkdtempSync(path.join(os.tmpdir(), 'memtop-profile-'));
mkdirSync(directory, {recursive: true});
const workloads: ReadyWorkload[] = [];
for (let index = 0; index < rows; index++) {
  workloads.push(await startWorkload(tab, {events: 0, eventsPerSecond: paceOf(tab, index, rows), waitForGo: false}));
}
const launched = Date.now();
const node = ['node', ...shebangFlags(MEMTOP_CLI), '--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${directory}`, MEMTOP_CLI, '--tab', tab, '--interval', '1000', '--limit', String(rows)];
let warmUpMs: number;
if (values.batch) {
  // Batch mode ends by itself after its intervals, which writes the profile.
  const intervals = Math.ceil(Number(values.seconds)) + 5;
  const child = spawnChild('memtop --batch', node[0]!, [...node.slice(1), '--batch', '--iterations', String(intervals + 1)], {keepLines: 5});
  await child.waitForLine(line => line.stream === 'stdout' && line.text.startsWith('memtop '), 'its first table', 60_000);
  warmUpMs = Date.now() - launched + 5000;
  process.stderr.write(`profiling memtop --batch with ${rows} rows for ${values.seconds} s after a 5 s warm-up\n`);
  for (let waited = 0; waited < (intervals + 20) * 1000 && readdirSync(directory).length === 0; waited += 200) await sleep(200);
  await sleep(500);
  await child.stop('SIGKILL');
} else {
  const session = openSession('profile', node, {columns: 120, rows: rows + 10});
  await session.waitFor(showsData(tab), `${tab} rows`, 60_000);
  // Start-up (loading, compiling, the first frames) is left out: what is measured is a session left open.
  warmUpMs = Date.now() - launched + 5000;
  process.stderr.write(`profiling memtop with ${rows} rows for ${values.seconds} s after a 5 s warm-up\n`);
  await sleep(5000 + Number(values.seconds) * 1000);
  session.keys(['q']);
  for (let waited = 0; waited < 10_000 && readdirSync(directory).length === 0; waited += 200) await sleep(200);
  await sleep(500);
  session.kill();
}
await Promise.all(workloads.map(workload => workload.child.stop('SIGKILL')));

const file = readdirSync(directory).find(name => name.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${directory}`);
const profile = JSON.parse(readFileSync(path.join(directory, file), 'utf8')) as Profile;
// Self time per node over the samples taken after the warm-up and before the q that ended it.
const hits = new Map<number, number>();
let at = profile.startTime;
let first: number | undefined;
let last = at;
const stopAt = profile.startTime + (warmUpMs + Number(values.seconds) * 1000) * 1000;
profile.samples.forEach((id, index) => {
  at += profile.timeDeltas[index] ?? 0;
  if (at < profile.startTime + warmUpMs * 1000 || at > stopAt) return;
  first ??= at;
  last = at;
  hits.set(id, (hits.get(id) ?? 0) + 1);
});
const counted = [...hits.values()].reduce((sum, count) => sum + count, 0);
const seconds = (last - (first ?? last)) / 1e6;
const sampleMs = (seconds * 1000) / Math.max(1, counted);
const lookups = new Map<string, (line: number) => string>();
const moduleOf = (node: ProfileNode): string => {
  const {url, lineNumber, functionName} = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (!url.startsWith('file://') || !url.includes('/dist/')) return url.startsWith('node:') ? 'node internals' : path.basename(url);
  const local = new URL(url).pathname;
  if (!lookups.has(local)) lookups.set(local, moduleLines(local));
  return lookups.get(local)!(lineNumber);
};
const byModule = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const ms = (hits.get(node.id) ?? 0) * sampleMs;
  if (ms === 0) continue;
  const module = moduleOf(node);
  byModule.set(module, (byModule.get(module) ?? 0) + ms);
  const name = `${node.callFrame.functionName || '(anonymous)'} ${module}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
}
const busy = [...byModule].filter(([name]) => name !== '(idle)').reduce((sum, [, ms]) => sum + ms, 0);
const top = Number(values.top);
const print = (title: string, entries: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, ms] of [...entries].filter(([key]) => !key.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${(ms / seconds).toFixed(2).padStart(8)} ms/s ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${name}\n`);
  }
};
process.stdout.write(`memtop ${values.batch ? '--batch' : 'TUI'}, ${rows} rows on the ${tab} tab, ${seconds.toFixed(0)} s profiled after start-up: ${(busy / seconds).toFixed(1)} ms of CPU a second on the main thread\n`);
print('self time by module', byModule);
print('self time by function', byFunction);
if (!values.keep) rmSync(directory, {recursive: true, force: true});
cleanupAll();
process.exit(0);
