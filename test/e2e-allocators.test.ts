// End-to-end, issue 22: the malloc tab (real memtop CLI in batch JSON, real bpftrace, as root)
// counts every allocator's calls: programs linked against jemalloc, tcmalloc and mimalloc, a
// static musl program, a Go program, a glibc program with a libc of its own in its own mount
// namespace, Debian's redis-server under redis-benchmark, and a process and a container (a
// namespace where podman is missing) started after memtop. Each within 15% of an independent
// count of the same calls: a bpftrace one-liner on the same file for the same pid, or for Go
// runtime.MemStats.Mallocs as the program itself counts. And a process whose libc only its own
// /proc entry reaches, killed before memtop's tracer attaches: the tab goes on.
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import {after, describe, it, type TestContext} from 'node:test';
import {execa} from 'execa';
import {childTracker, descendantPids, startLineChild, stopWithDescendants, type LineChild} from './helpers/child-lines.js';
import {counterEnv, parseCounts} from './helpers/independent-count.js';
import {CLI, cannotRun} from './helpers/requirements.js';
import {startMemtopTerminal} from './helpers/memtop-terminal.js';
import {allocatorChecks, formatChecks} from '../source/check.js';
import {scanAllocators} from '../source/system/allocators.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {bpftracesOf, cmdline} from './helpers/tracer-processes.js';
import {buildGo, buildLinked, buildMuslStatic, buildOwnRoot, hasCommand, systemLabel, type LinkedAllocator} from './helpers/allocator-workloads.js';

const TOLERANCE = 0.15;
const INTERVAL_MS = 500;
/** A burst of each workload, then a linger so that memtop's last interval still shows its row. */
const RUN = {eventsPerSecond: 3000, seconds: 3, lingerSeconds: 1};
/**
 * How long after a later workload's ready line a table must be stamped to show its file found:
 * memtop looks for new processes every 250 ms (WATCH_MS in backends/bpftrace.ts), twice here.
 */
const FOUND_AFTER_MS = 500;
const SYSTEM = systemLabel();

const children = childTracker();
const track = <T extends LineChild>(child: T): T => children.track(child);
after(async () => {
  await children.stopAll();
});

/** One batch JSON table line. */
interface Snapshot {
  time: string;
  allocators?: {files: number; kinds: Record<string, number>; unprobed: number; unprobedNames?: string[]; attaching?: number};
  rows: {pid: number; comm: string; count: number; totalCount: number; allocator?: string}[];
}

const isSnapshot = (record: Record<string, unknown>) => record.tab === 'malloc' && Array.isArray(record.rows);

/** A workload the test started: how to reach it, and what counts its allocations. */
interface Target {
  name: string;
  kind: string;
  child: LineChild;
  /** Its pid as memtop sees it (the host's). */
  pid: number;
  /** The file and symbol the independent counter probes, or undefined where the program counts itself (Go). */
  probe?: {file: string; symbol: string};
  /** When it printed its ready line: its first allocation (stdout's buffer) as the program it is now. */
  readyAt: number;
  go(): void;
}

function workloadArgs(): string[] {
  return [String(RUN.eventsPerSecond), String(RUN.seconds), String(RUN.lingerSeconds)];
}

/** Start a gated workload (it waits for SIGUSR1 after its ready line). */
async function startGated(name: string, kind: string, file: string, args: string[], probe: ((pid: number) => Target['probe']) | undefined): Promise<Target> {
  const child = track(startLineChild(file, args, {what: name, env: {WL_WAIT_FOR_GO: '1'}}));
  await child.waitForRecord(record => record.phase === 'ready', `${name}'s ready line`, 60_000);
  return {name, kind, child, pid: child.pid, probe: probe?.(child.pid), readyAt: Date.now(), go: () => process.kill(child.pid, 'SIGUSR1')};
}

/** The one-liner counting each target's calls on its own file, keyed by pid; resolves once attached. */
async function startCounter(targets: readonly Target[]): Promise<LineChild> {
  const probed = targets.filter(target => target.probe);
  // The files reach the program as positional parameters, the symbols are this test's own.
  const probes = probed.map((target, index) => `uprobe:$${index + 1}:${target.probe!.symbol} { @counts[pid] = count(); @comms[pid] = comm; }`).join(' ');
  // Printed every second as well as at END: on a loaded machine detaching the uprobes can outlast
  // the stop's grace, and END's print is lost with it (seen once in CI). The last print counts.
  const program = `BEGIN { printf("counter-ready\\n"); } ${probes} interval:s:1 { print(@counts); print(@comms); } END { print(@counts); print(@comms); clear(@counts); clear(@comms); }`;
  const counter = track(startLineChild('bpftrace', ['-f', 'json', '-e', program, ...probed.map(target => target.probe!.file)], {what: 'independent allocator counter', env: await counterEnv()}));
  await counter.waitForRecord(record => record.type === 'printf' && String(record.data).startsWith('counter-ready'), 'the counter attached', 120_000);
  return counter;
}

function startMemtop(): LineChild {
  return track(startLineChild(process.execPath, [CLI, '--batch', '--json', '--tab', 'malloc', '--comm', 'wl_', '--limit', '100', '--interval', String(INTERVAL_MS), '--iterations', '1000'], {what: 'memtop --tab malloc'}));
}

/** When the targets were let go (or the benchmark began): memtop is read from its tables after then. */
let goAt = 0;

/** Let every target run, wait for them to finish, and for a memtop table stamped after the last exit. */
async function runAll(targets: readonly Target[], memtop: LineChild): Promise<Map<string, number>> {
  goAt = Date.now();
  for (const target of targets) target.go();
  const references = new Map<string, number>();
  for (const target of targets) {
    const done = await target.child.waitForRecord(record => record.phase === 'done', `${target.name}'s done line`, 120_000);
    references.set(target.name, Number(done.events));
    await target.child.exited;
  }
  const exitedAt = Date.now();
  await memtop.waitForRecord(record => isSnapshot(record) && Date.parse(String(record.time)) > exitedAt + 50, 'a table after the workloads exited', 4 * INTERVAL_MS + 10_000);
  return references;
}

/** Each target's total in memtop within the tolerance of its independent count, shown as its allocator. */
function check(t: TestContext, memtop: LineChild, targets: readonly Target[], counts: Map<number, {count: number}>, references: Map<string, number>): void {
  const snapshots = memtop.records.filter(isSnapshot) as unknown as Snapshot[];
  for (const target of targets) {
    const rows = snapshots.flatMap(snapshot => snapshot.rows.filter(row => row.pid === target.pid));
    assert.ok(rows.length > 0, `memtop never showed ${target.name} (pid ${target.pid}); last table: ${JSON.stringify(snapshots.at(-1))}`);
    // What memtop counted in its tables after the burst began (the workload allocates nothing
    // between its ready line and then): what the pid did earlier was another program's (a
    // container's first process is runc's until it execs the command; a child of this test is
    // node's until it execs), which the independent count does not see.
    const total = snapshots.filter(snapshot => Date.parse(snapshot.time) > goAt).reduce((sum, snapshot) => sum + snapshot.rows.filter(row => row.pid === target.pid).reduce((inner, row) => inner + row.count, 0), 0);
    const reference = target.probe ? counts.get(target.pid)?.count : references.get(target.name);
    assert.ok(reference !== undefined && reference > 0, `no independent count for ${target.name} (pid ${target.pid})`);
    const off = Math.abs(total - reference) / reference;
    t.diagnostic(`${target.name}: memtop ${total}, independent ${reference} (${(off * 100).toFixed(1)}% off), allocator ${rows.map(row => row.allocator).find(Boolean)}`);
    assert.ok(off <= TOLERANCE, `${target.name}: memtop counted ${total} calls, the independent count ${reference}: ${(off * 100).toFixed(1)}% off`);
    assert.ok(rows.some(row => row.allocator === target.kind), `${target.name} was never shown as ${target.kind}: ${JSON.stringify([...new Set(rows.map(row => row.allocator))])}`);
  }
  const kinds = snapshots.at(-1)?.allocators?.kinds ?? {};
  for (const target of targets) assert.ok((kinds[target.kind] ?? 0) > 0, `the table's allocator files name no ${target.kind}: ${JSON.stringify(kinds)}`);
}

/** A glibc wl_malloc chrooted into a root of its own, in a mount namespace of its own. */
async function startOwnRoot(name: string): Promise<{target: Target; cleanup: () => void}> {
  const {directory, libcInRoot} = await buildOwnRoot();
  const target = await startGated(name, 'glibc', 'unshare', ['--mount', '--propagation', 'private', 'chroot', directory, '/wl_malloc', ...workloadArgs()], pid => ({file: `/proc/${pid}/root${libcInRoot}`, symbol: 'malloc'}));
  return {target, cleanup: () => rmSync(directory, {recursive: true, force: true})};
}

/**
 * Two glibc wl_mallocs, each chrooted into an overlay of its own over one lower root, in mount
 * namespaces of their own: what two containers of one image are (podman's overlay driver), the
 * same file under two overlay devices. Counted by their own reports: a one-liner probing both
 * paths would count each call twice, which is what this checks memtop does not do.
 */
async function startOverlays(name: string, count: number): Promise<{targets: Target[]; cleanup: () => void}> {
  const {directory} = await buildOwnRoot();
  const top = mkdtempSync(path.join(os.tmpdir(), 'memtop-overlays-'));
  const targets: Target[] = [];
  const cleanup = () => {
    for (const target of targets) if (!target.child.hasExited()) process.kill(target.pid, 'SIGKILL');
    rmSync(top, {recursive: true, force: true});
    rmSync(directory, {recursive: true, force: true});
  };
  try {
    for (let index = 1; index <= count; index++) {
      const [upper, work, merged] = ['upper', 'work', 'merged'].map(part => path.join(top, `${part}${index}`));
      for (const made of [upper!, work!, merged!]) mkdirSync(made);
      // The mount is the namespace's own: it goes with the process, nothing to unmount.
      const script = 'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" && shift 4 && exec chroot "$@"';
      targets.push(await startGated(`${name} ${index}`, 'glibc', 'unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', directory, upper!, work!, merged!, merged!, '/wl_malloc', ...workloadArgs()], undefined));
    }
    return {targets, cleanup};
  } catch (error) {
    cleanup();
    throw error;
  }
}

/** A podman container of the glibc wl_malloc with its own libc (image imported from its own root); host pid. */
async function startContainer(name: string): Promise<{target: Target; cleanup: () => Promise<void>}> {
  const {directory, libcInRoot} = await buildOwnRoot();
  const image = `localhost/memtop-alloc-test:${process.pid}`;
  const container = `memtop-alloc-test-${process.pid}`;
  const cleanup = async () => {
    await execa('podman', ['rm', '-f', '-t', '0', container], {reject: false});
    await execa('podman', ['rmi', '-f', image], {reject: false});
    rmSync(directory, {recursive: true, force: true});
  };
  try {
    await execa('sh', ['-c', 'tar -C "$1" -cf - . | podman import - "$2"', 'sh', directory, image]);
    const child = track(
      startLineChild('podman', ['--runtime', 'runc', 'run', '--rm', '--name', container, '--network', 'none', ...ulimits(), '-e', 'WL_WAIT_FOR_GO=1', image, '/wl_malloc', ...workloadArgs()], {what: name}),
    );
    await child.waitForRecord(record => record.phase === 'ready', `${name}'s ready line`, 120_000);
    const readyAt = Date.now();
    const pid = await waitForValue(
      async () => {
        const inspect = await execa('podman', ['inspect', '--format', '{{.State.Pid}}', container], {reject: false});
        const value = Number(inspect.stdout.trim());
        return value > 0 ? value : undefined;
      },
      {what: `${container}'s host pid`, timeoutMs: 30_000},
    );
    return {target: {name, kind: 'glibc', child, pid, probe: {file: `/proc/${pid}/root${libcInRoot}`, symbol: 'malloc'}, readyAt, go: () => process.kill(pid, 'SIGUSR1')}, cleanup};
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** A process's maps ('' once it has gone). */
function mapsOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return '';
  }
}

const CAP_SYS_RESOURCE = 24n;

/**
 * --ulimit flags for a test that may not raise limits (no CAP_SYS_RESOURCE, as in this machine's
 * sandbox): runc fails to give a container podman's defaults then.
 */
function ulimits(): string[] {
  const effective = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  if ((effective & (1n << CAP_SYS_RESOURCE)) !== 0n) return [];
  const files = /^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '1024';
  return ['--ulimit', `nofile=${files}:${files}`, '--ulimit', 'nproc=4096:4096'];
}

async function stopEverything(parts: (LineChild | undefined)[]): Promise<void> {
  for (const part of parts) if (part && !part.hasExited()) await stopWithDescendants(part, children.descendants);
}

describe(`allocators (${SYSTEM})`, () => {
  it('counts jemalloc, tcmalloc, mimalloc, static musl, Go and a glibc of its own in a mount namespace, each within 15%', async t => {
    if (cannotRun(t)) return;
    const [linked, musl, go] = await Promise.all([
      Promise.all((['jemalloc', 'tcmalloc', 'mimalloc'] as LinkedAllocator[]).map(async allocator => [allocator, await buildLinked(allocator)] as const)),
      buildMuslStatic(),
      buildGo(),
    ]);
    const targets: Target[] = [];
    let ownRoot: {target: Target; cleanup: () => void} | undefined;
    let memtop: LineChild | undefined;
    let counter: LineChild | undefined;
    try {
      for (const [allocator, built] of linked) {
        targets.push(await startGated(`wl_malloc-${allocator}`, allocator, built.binary, workloadArgs(), () => ({file: built.library, symbol: 'malloc'})));
      }
      targets.push(await startGated('wl_malloc-musl', 'musl', musl, workloadArgs(), () => ({file: musl, symbol: 'malloc'})));
      targets.push(await startGated('wl_go', 'go', go, workloadArgs(), undefined));
      ownRoot = await startOwnRoot('wl_malloc in its own root and mount namespace');
      targets.push(ownRoot.target);
      memtop = startMemtop();
      const [, started] = await Promise.all([memtop.waitForRecord(isSnapshot, 'its first table', 120_000), startCounter(targets)]);
      counter = started;
      const references = await runAll(targets, memtop);
      await counter.stop('SIGINT', 10_000);
      check(t, memtop, targets, parseCounts(counter.records), references);
    } finally {
      await stopEverything([counter, memtop, ...targets.map(target => target.child)]);
      ownRoot?.cleanup();
    }
  });

  const container = hasCommand('podman') ? 'a podman container' : 'a process in a mount namespace with its own libc (no podman here)';
  it(`counts a jemalloc process and ${container}, both started after memtop, within 15%`, async t => {
    if (cannotRun(t)) return;
    const jemalloc = await buildLinked('jemalloc');
    let memtop: LineChild | undefined;
    let counter: LineChild | undefined;
    const targets: Target[] = [];
    const cleanups: (() => unknown)[] = [];
    try {
      memtop = startMemtop();
      await memtop.waitForRecord(isSnapshot, 'its first table', 120_000);
      // Each prints its ready line (its first allocation: stdout's buffer) and waits until memtop
      // says that the tracers of its new files have attached (how long that took is a figure,
      // printed here; the readme's table measures what a process loses meanwhile).
      targets.push(await startGated('wl_malloc-jemalloc (later)', 'jemalloc', jemalloc.binary, workloadArgs(), () => ({file: jemalloc.library, symbol: 'malloc'})));
      const contained = hasCommand('podman') ? await startContainer('wl_malloc in a podman container (later)') : await startOwnRoot('wl_malloc in its own root and mount namespace (later)');
      cleanups.push(contained.cleanup);
      targets.push(contained.target);
      counter = await startCounter(targets);
      const readyAt = Math.max(...targets.map(target => target.readyAt));
      const before = (memtop.records.find(isSnapshot) as unknown as Snapshot).allocators?.files ?? 0;
      const traced = (await memtop.waitForRecord(
        record => isSnapshot(record) && Date.parse(String(record.time)) > readyAt + FOUND_AFTER_MS && ((record as unknown as Snapshot).allocators?.attaching ?? 0) === 0,
        'a table with the new files found and no tracer still attaching',
        60_000,
      )) as unknown as Snapshot;
      assert.ok((traced.allocators?.files ?? 0) > before, `no new allocator file found: ${before} files before, ${JSON.stringify(traced.allocators)} after`);
      const attaching = memtop.records.filter(isSnapshot).some(record => ((record as unknown as Snapshot).allocators?.attaching ?? 0) > 0);
      t.diagnostic(`new files traced in the table stamped ${Date.parse(traced.time) - readyAt} ms after the last ready line (${before} files before, ${traced.allocators?.files} after; ${attaching ? 'a table said attaching meanwhile' : 'no table said attaching'})`);
      const references = await runAll(targets, memtop);
      await counter.stop('SIGINT', 10_000);
      check(t, memtop, targets, parseCounts(counter.records), references);
    } finally {
      await stopEverything([counter, memtop, ...targets.map(target => target.child)]);
      for (const cleanup of cleanups) await cleanup();
    }
  });

  it("runs its tracers on a private copy of libc, which goes with memtop however it ends, and shows no tracer as a process", async t => {
    if (cannotRun(t)) return;
    /** The private libc one of memtop's tracers maps, once one runs. */
    const privateLibc = (memtop: LineChild) =>
      waitForValue(
        () => {
          for (const pid of descendantPids(memtop.pid)) {
            const file = new RegExp(`\\s(/\\S+/memtop-libc-${memtop.pid}-[^/\\s]+/libc\\.so\\.6)$`, 'm').exec(mapsOf(pid))?.[1];
            if (file) return {pid, directory: path.dirname(file)};
          }
          return undefined;
        },
        {what: `a tracer of memtop ${memtop.pid} on a private libc`, timeoutMs: 30_000},
      );
    let first: LineChild | undefined;
    let second: LineChild | undefined;
    try {
      first = startMemtop();
      await first.waitForRecord(isSnapshot, 'its first table', 120_000);
      const tracer = await privateLibc(first);
      // Not a row, not a process memtop cannot probe: it is memtop's own.
      const scan = scanAllocators([tracer.pid]);
      assert.equal(scan.processes.size + scan.unprobed.length, 0, JSON.stringify(scan.unprobed));
      // Killed outright, memtop leaves its copy; the next memtop to start takes it away.
      process.kill(first.pid, 'SIGKILL');
      await first.exited;
      assert.ok(existsSync(tracer.directory), `${tracer.directory} is there after memtop was killed`);
      second = startMemtop();
      await second.waitForRecord(isSnapshot, 'its first table', 120_000);
      assert.equal(existsSync(tracer.directory), false, `the next memtop removed ${tracer.directory}`);
      const next = await privateLibc(second);
      await second.stop('SIGINT', 10_000);
      assert.equal(existsSync(next.directory), false, `memtop removed ${next.directory} as it ended`);
    } finally {
      await stopEverything([first, second]);
    }
  });

  it('counts two processes in overlays of one root (two containers of one image) once each: one file to a uprobe', async t => {
    if (cannotRun(t)) return;
    let overlays: {targets: Target[]; cleanup: () => void} | undefined;
    let memtop: LineChild | undefined;
    try {
      overlays = await startOverlays('wl_malloc in an overlay', 2);
      const ids = overlays.targets.map(target => readFileSync(`/proc/${target.pid}/maps`, 'utf8').split('\n').find(line => /\/libc\.so\.6$/.test(line))?.split(/\s+/).slice(3, 5).join(':'));
      t.diagnostic(`their libc as /proc/PID/maps shows it: ${ids.join(', ')}`);
      memtop = startMemtop();
      await memtop.waitForRecord(isSnapshot, 'its first table', 120_000);
      const references = await runAll(overlays.targets, memtop);
      check(t, memtop, overlays.targets, new Map(), references);
    } finally {
      await stopEverything([memtop, ...(overlays?.targets.map(target => target.child) ?? [])]);
      overlays?.cleanup();
    }
  });

  it('goes on when a process whose libc only its own /proc entry reaches exits between memtop\'s scan and its tracer\'s attach', async t => {
    if (cannotRun(t)) return;
    const {directory} = await buildOwnRoot();
    const mount = mkdtempSync(path.join(os.tmpdir(), 'memtop-alloc-tmpfs-'));
    let doomed: LineChild | undefined;
    let memtop: LineChild | undefined;
    try {
      // Its root is a tmpfs mounted in its own mount namespace: from memtop's, the path its maps
      // show names nothing, and its libc is reached only through /proc/PID (map_files), which goes with it.
      const script = 'mount -t tmpfs memtop-test "$2" && cp -a "$1/." "$2/" && exec chroot "$2" /wl_malloc 1 600 0';
      doomed = track(startLineChild('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', directory, mount], {what: 'wl_malloc on a tmpfs of its own mount namespace', env: {WL_WAIT_FOR_GO: '1'}}));
      await doomed.waitForRecord(record => record.phase === 'ready', 'its ready line', 60_000);
      const libc = readFileSync(`/proc/${doomed.pid}/maps`, 'utf8').split('\n').find(line => /\/libc\.so\.6$/.test(line))?.split(/\s+/).pop();
      assert.ok(libc && !existsSync(libc) && !existsSync(`/proc/${doomed.pid}/root${libc}`), `its libc (${libc}) is reached only through /proc/${doomed.pid}/map_files`);
      memtop = startMemtop();
      // Killed as soon as memtop's tracer is there: bpftrace has yet to read and attach the file then.
      let argv = '';
      await waitForValue(() => {
        const tracer = bpftracesOf(memtop!.pid).find(found => found.scripts.some(script => script.endsWith('.bt')));
        if (tracer) argv = cmdline(tracer.pid).join(' ');
        return tracer ? true : undefined;
      }, {timeoutMs: 60_000, intervalMs: 5, what: 'memtop\'s tracer'}, () => memtop!.describe());
      process.kill(doomed.pid, 'SIGKILL');
      t.diagnostic(`the tracer was given ${[...new Set(argv.match(/\/proc\/\d+\/\S+/g) ?? [])].join(', ')}`);
      assert.ok(argv.includes(`/proc/${doomed.pid}/map_files/`), `memtop's first tracer probes the process's libc through its map_files: ${argv.slice(0, 400)}`);
      await memtop.waitForRecord(isSnapshot, 'its first table after the process went', 120_000);
      assert.equal(memtop.hasExited(), false, memtop.describe());
    } finally {
      await stopEverything([memtop, doomed]);
      rmSync(mount, {recursive: true, force: true});
      rmSync(directory, {recursive: true, force: true});
    }
  });

  it('shows each process\'s allocator in the TUI, and the files traced by kind on its status line', async t => {
    if (cannotRun(t)) return;
    const [jemalloc, go] = await Promise.all([buildLinked('jemalloc'), buildGo()]);
    // Not gated: each allocates steadily until the test ends.
    const running = [track(startLineChild(jemalloc.binary, ['2000', '120', '0'], {what: 'wl_malloc-jemalloc'})), track(startLineChild(go, ['2000', '120', '0'], {what: 'wl_go'}))];
    const terminal = startMemtopTerminal(['--tab', 'malloc', '--comm', 'wl_', '--interval', String(INTERVAL_MS)], {columns: 160, rows: 30, env: {LANG: 'C.UTF-8'}});
    try {
      await Promise.all(running.map(child => child.waitForRecord(record => record.phase === 'start', 'its start line', 60_000)));
      const row = (pid: number, kind: string) => new RegExp(`^\\s*${pid} wl_\\S*\\s.*\\s${kind}\\s*(?:\\S+\\s*)?$`, 'm');
      const screen = await terminal.waitFor(
        text => row(running[0]!.pid, 'jemalloc').test(text) && row(running[1]!.pid, 'go').test(text) && /\d+ allocator files? \([^)]*\bjemalloc\b[^)]*\bgo\b[^)]*\)/.test(text),
        'both rows with their allocators, and the files by kind',
        60_000,
      );
      assert.match(screen.split('\n').find(line => /\bPID\b/.test(line)) ?? '', /\bALLOC\b/, screen);
      // --check's lines for the same two processes: each file under its kind, with its user count.
      const lines = formatChecks(allocatorChecks(scanAllocators(running.map(child => child.pid)))).split('\n');
      assert.ok(lines.some(line => /^pass {2}allocators \(malloc tab\) +2 allocator files \(1 jemalloc, 1 go\)/.test(line)), lines.join('\n'));
      assert.ok(lines.some(line => new RegExp(`^pass {2}allocator jemalloc +\\S*${path.basename(jemalloc.library).replace(/\./g, '\\.')} \\(1 process\\)$`).test(line)), lines.join('\n'));
      assert.ok(lines.some(line => new RegExp(`^pass {2}allocator go +\\S*${path.basename(go)} \\(1 process\\)$`).test(line)), lines.join('\n'));
    } finally {
      await terminal.close();
      await stopEverything(running);
    }
  });

  it('counts Debian\'s redis-server (jemalloc) under redis-benchmark within 15%', async t => {
    if (cannotRun(t, hasCommand('redis-server') && hasCommand('redis-benchmark') ? undefined : 'needs redis-server and redis-tools')) return;
    const port = await freePort();
    let memtop: LineChild | undefined;
    let counter: LineChild | undefined;
    const redis = track(startLineChild('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {what: 'redis-server'}));
    try {
      await waitForValue(async () => ((await execa('redis-cli', ['-p', String(port), 'ping'], {reject: false})).stdout.trim() === 'PONG' ? true : undefined), {what: 'redis to answer', timeoutMs: 30_000});
      const maps = await execa('cat', [`/proc/${redis.pid}/maps`]);
      const library = /\s(\/\S*libjemalloc\.so\.2)$/m.exec(maps.stdout)?.[1];
      assert.ok(library, `redis-server maps no libjemalloc:\n${maps.stdout}`);
      memtop = track(startLineChild(process.execPath, [CLI, '--batch', '--json', '--tab', 'malloc', '--comm', 'redis', '--limit', '100', '--interval', String(INTERVAL_MS), '--iterations', '1000'], {what: 'memtop --tab malloc'}));
      const target: Target = {name: 'redis-server', kind: 'jemalloc', child: redis, pid: redis.pid, probe: {file: `/proc/${redis.pid}/root${library}`, symbol: 'malloc'}, readyAt: Date.now(), go: () => undefined};
      const [, started] = await Promise.all([memtop.waitForRecord(isSnapshot, 'its first table', 120_000), startCounter([target])]);
      counter = started;
      goAt = Date.now();
      const benchmark = await execa('redis-benchmark', ['-p', String(port), '-n', '20000', '-c', '4', '-q', '-t', 'set,get,lpush'], {reject: false, timeout: 120_000});
      assert.equal(benchmark.exitCode, 0, `redis-benchmark failed: ${benchmark.stderr}`);
      const finishedAt = Date.now();
      await memtop.waitForRecord(record => isSnapshot(record) && Date.parse(String(record.time)) > finishedAt + 50, 'a table after the benchmark', 4 * INTERVAL_MS + 10_000);
      await counter.stop('SIGINT', 10_000);
      check(t, memtop, [target], parseCounts(counter.records), new Map());
    } finally {
      await stopEverything([counter, memtop, redis]);
    }
  });
});

/** A TCP port free on 127.0.0.1 now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
