// End-to-end, the malloc tab's live view: the real memtop command and bpftrace (as root) against
// wl_leak, which keeps a known number of bytes from wl_keep_leak while wl_churn_leak allocates and
// frees far more through every libc allocator, and against a wl_leak that frees everything. What
// memtop says is outstanding must be what the workload kept (within 5%), its live stacks must
// put the keeping function on top and the freeing one nowhere, a table past a sixteenth of its cap
// must sample addresses, say so and still read the leak's growth, and the TUI must show all of it.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {chmodSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, describe, it} from 'node:test';
import {execa} from 'execa';
import {descendantPids, isRunning, startLineChild, type LineChild} from './helpers/child-lines.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {LEAK_WORKLOAD, startWorkload, type RunningWorkload} from './helpers/workloads.js';

const INTERVAL_MS = 500;
/** How far memtop's live bytes may be from what the workload kept. */
const TOLERANCE = 0.05;
/** What the keeping workload keeps every 8th event. */
const KEEP_BYTES = 4096;

interface LiveRow {
  pid: number;
  comm: string;
  bytes: number;
  count: number;
  age: number;
  rate: number | null;
  totalBytes: number;
  untracked?: true;
  /** 1 in how many addresses its coarsest tracked allocation stood for: its figures are estimates. */
  sampled?: number;
  /** With `sampled`: the seconds its rate is taken over. */
  rateSeconds?: number;
}

interface LiveTable {
  view: string;
  time: string;
  since: string;
  untracked: number;
  capped?: boolean;
  rows: LiveRow[];
}

interface LiveStacks {
  view: string;
  pid: number;
  time: string;
  since: string;
  bytes: number;
  count: number;
  untracked: number;
  stacks: {bytes: number; count: number; age: number; frames: string[]}[];
}

const dir = mkdtempSync(join(tmpdir(), 'memtop-e2e-leaks-'));
chmodSync(dir, 0o755);
let children: LineChild[] = [];
let terminals: MemtopTerminal[] = [];
let workloads: RunningWorkload[] = [];
afterEach(async () => {
  for (const terminal of terminals) await terminal.close();
  for (const child of children) await child.stop('SIGKILL', 1000);
  for (const workload of workloads) await workload.process.stop('SIGKILL');
  children = [];
  terminals = [];
  workloads = [];
});
after(() => rmSync(dir, {recursive: true, force: true}));

function memtop(args: string[], env: Record<string, string> = {}): LineChild {
  const child = startLineChild(process.execPath, [CLI, ...args], {what: `memtop ${args.join(' ')}`, env});
  children.push(child);
  return child;
}

/**
 * Stop memtop with SIGTERM and check that the tracers it started went with it. The kernel takes
 * seconds to take down the live view's 19 uprobes (longer on a loaded machine), and memtop waits
 * for that before it leaves.
 */
async function stopMemtop(child: LineChild): Promise<void> {
  const tracers = descendantPids(child.pid);
  await child.stop('SIGTERM', 15_000);
  await waitForValue(() => tracers.every(pid => !isRunning(pid)), {timeoutMs: 1000, what: `memtop's tracers (${tracers.join(', ')}) to exit with it`});
}

/** wl_leak keeping `keep` bytes every 8th of its events (0: freeing everything), set up and waiting for go. */
async function leak(keep: number, run: {eventsPerSecond: number; seconds: number; lingerSeconds: number}): Promise<RunningWorkload> {
  const workload = await startWorkload(LEAK_WORKLOAD, {...run, extra: [String(keep)]}, {waitForGo: true});
  workloads.push(workload);
  await workload.ready();
  return workload;
}

const isTable = (record: Record<string, unknown>) => record.view === 'live' && Array.isArray(record.rows);
const isStacks = (record: Record<string, unknown>) => record.view === 'live' && Array.isArray(record.stacks);
const stampedAfter = (at: number) => (record: {time?: unknown}) => Date.parse(String(record.time)) > at + 50;
const within = (value: number, expected: number) => Math.abs(value - expected) <= expected * TOLERANCE;

describe('malloc live view, real bpftrace against wl_leak', () => {
  it('live bytes are what the workload kept, the keeping function tops the live stacks and the freeing one is not there; a workload that frees everything does not grow; one that exits drops out', {timeout: 300_000}, async t => {
    if (cannotRun(t)) return;
    const run = {eventsPerSecond: 5000, seconds: 3, lingerSeconds: 60};
    const [keeper, freer] = await Promise.all([leak(KEEP_BYTES, run), leak(0, run)]);
    t.diagnostic(`keeper pid ${keeper.pid}, freer pid ${freer.pid}`);
    const interval = ['--interval', String(INTERVAL_MS)];
    const recording = join(dir, 'live-stacks.ndjson');
    // The drill-downs, then the tables: each traces one workload (--pid).
    const drill = memtop(['--batch', '--json', '--live', '--pid', String(keeper.pid), '--stacks', '--limit', '100', ...interval, '--record', recording]);
    const folded = memtop(['--batch', '--live', '--pid', String(keeper.pid), '--stacks', '--folded', ...interval]);
    const freerDrill = memtop(['--batch', '--json', '--live', '--pid', String(freer.pid), '--stacks', '--limit', '100', ...interval]);
    await Promise.all([
      drill.waitForRecord(isStacks, 'first live stacks', 60_000),
      freerDrill.waitForRecord(isStacks, 'first live stacks of the freer', 60_000),
      // Folded lines carry no marker: what its tracer printed is not seen until the keeper allocates.
      waitForValue(() => descendantPids(folded.pid).some(pid => /bpftrace/.test(commOf(pid))) || undefined, {timeoutMs: 60_000, what: 'the folded drill-down\'s tracer'}),
    ]);
    // A table per workload, by --pid: a machine-wide table shares its address cap with every
    // process on a busy machine (the TUI test below runs one). Attaching and removing uprobes
    // waits for RCU grace periods, one after another, so on a loaded machine this takes long.
    const table = memtop(['--batch', '--json', '--live', '--pid', String(keeper.pid), ...interval]);
    const freerTable = memtop(['--batch', '--json', '--live', '--pid', String(freer.pid), ...interval]);
    const tableStarted = Date.now();
    await Promise.all([table.waitForRecord(isTable, 'a first live table', 120_000), freerTable.waitForRecord(isTable, 'a first live table of the freer', 120_000)]);
    t.diagnostic(`the live tables' first intervals after ${Date.now() - tableStarted} ms`);
    // Which probes single-step, as the issue measured them per release: every glibc's free opens
    // with an instruction the kernel single-steps, which bpftrace 0.23 and later step past; 2.43's
    // malloc opens with one too, and the live view's uretprobe keeps malloc's probe at the entry.
    const glibcMinor = Number(/^glibc 2\.(\d+)/.exec(execFileSync('getconf', ['GNU_LIBC_VERSION'], {encoding: 'utf8'}))?.[1]);
    const bpftraceMinor = Number(/v?0\.(\d+)/.exec(execFileSync('bpftrace', ['--version'], {encoding: 'utf8'}))?.[1]);
    const stepping = [...(glibcMinor >= 43 ? ['malloc'] : []), ...(bpftraceMinor < 23 ? ['free'] : [])];
    const firstTable = table.records.find(isTable) as {allocators?: {singleSteps?: string[]; liveCost?: {traps: number; stepped: number; bpftrace: string; ns?: {low: number; high: number}}}};
    t.diagnostic(`glibc 2.${glibcMinor}, bpftrace 0.${bpftraceMinor}: single-stepping ${JSON.stringify(firstTable.allocators?.singleSteps ?? [])}, cost ${JSON.stringify(firstTable.allocators?.liveCost)}`);
    assert.deepEqual(firstTable.allocators?.singleSteps ?? [], stepping);
    // What the view costs an allocation with its free: its traps as they are here, and bench 5's
    // figure, which has measured each release CI runs with these very probes.
    const cost = firstTable.allocators?.liveCost;
    assert.equal(cost?.traps, 3);
    assert.equal(cost?.stepped, stepping.length);
    assert.equal(cost?.bpftrace, `0.${bpftraceMinor}`);
    assert.ok(cost?.ns && cost.ns.low >= 1000, 'a measured figure, in ns');
    // The folded drill-down's tracer compiled alongside the others: it has had as long as they.
    keeper.go();
    freer.go();
    const [kept] = await Promise.all([keeper.done(30_000), freer.done(30_000)]);
    const doneAt = Date.now();
    const keptBytes = Number(kept.kept);
    const keptBlocks = Number(kept.keptBlocks);
    t.diagnostic(`the keeper kept ${keptBytes} bytes in ${keptBlocks} blocks and churned ${String(kept.churned)}`);
    assert.ok(Number(kept.churned) > keptBytes * 5, 'the churn allocated far more than was kept');
    // On a busy machine memtop may read an interval's output late: wait until what it shows has
    // stopped changing (the keeper's growth 0, the drill-down's total twice the same) after the run.
    const settled = (await table.waitForRecord(
      record => isTable(record) && stampedAfter(doneAt)(record) && (record as unknown as LiveTable).rows.some(row => row.pid === keeper.pid && row.bytes > 0 && row.rate === 0),
      'a live table with the keeper settled after its run',
      30_000,
    )) as unknown as LiveTable;
    const steady = (records: Record<string, unknown>[]) => {
      const after = (records.filter(isStacks) as unknown as LiveStacks[]).filter(stampedAfter(doneAt));
      return after.length >= 2 && after.at(-1)!.bytes === after.at(-2)!.bytes ? after.at(-1) : undefined;
    };
    const keeperStacks = await waitForValue(() => steady(drill.records), {timeoutMs: 30_000, what: 'the keeper\'s live stacks to settle after its run'}, () => drill.describe());
    const freerStacks = await waitForValue(() => steady(freerDrill.records), {timeoutMs: 30_000, what: 'the freer\'s live stacks to settle after its run'}, () => freerDrill.describe());
    // A table of one process ends when it exits and says so (the TUI test sees a row drop out of
    // the machine-wide table); its stacks can no longer be named then.
    const foldedWhileAlive = folded.lines.length;
    await keeper.process.stop('SIGKILL');
    const tableExit = await Promise.race([table.exited, new Promise<undefined>(resolve => setTimeout(resolve, 30_000, undefined))]);
    assert.equal(tableExit?.exitCode, 0, `the keeper's table ends when the keeper has exited:\n${table.describe()}`);
    assert.match(table.stderr(), new RegExp(`process ${keeper.pid} has exited`));
    const freerSettled = (await freerTable.waitForRecord(record => isTable(record) && stampedAfter(doneAt)(record) && (record as unknown as LiveTable).rows.every(row => row.bytes === 0), 'the freer\'s live table empty after its run', 30_000)) as unknown as LiveTable;
    for (const child of [freerTable, drill, folded, freerDrill]) await stopMemtop(child);

    const tables = table.records.filter(isTable) as unknown as LiveTable[];
    assert.equal(new Set(tables.map(snapshot => snapshot.since)).size, 1, `the live tracer ran once, from one start:\n${table.describe()}`);
    const rowsOf = (pid: number, of = tables) => of.flatMap(snapshot => snapshot.rows.filter(row => row.pid === pid).map(row => ({...row, time: snapshot.time})));
    const keeperRow = settled.rows.find(row => row.pid === keeper.pid);
    assert.ok(keeperRow, `the keeper is not in the live table after its run:\n${JSON.stringify(settled)}`);
    t.diagnostic(`memtop: ${keeperRow.bytes} live bytes in ${keeperRow.count} allocations, oldest ${keeperRow.age} s, growth ${keeperRow.rate} B/s`);
    assert.equal(keeperRow.comm, LEAK_WORKLOAD.name);
    assert.ok(within(keeperRow.bytes, keptBytes), `memtop says ${keeperRow.bytes} bytes are live; the keeper kept ${keptBytes}`);
    assert.ok(within(keeperRow.count, keptBlocks), `memtop says ${keeperRow.count} allocations are live; the keeper kept ${keptBlocks}`);
    const since = Date.parse(settled.since);
    assert.ok(keeperRow.age > 2 && keeperRow.age <= (Date.parse(settled.time) - since) / 1000 + 1, `the oldest allocation is ${keeperRow.age} s old; tracking began at ${settled.since}`);
    assert.equal(Math.round(keeperRow.rate ?? NaN), 0, 'nothing grows once the keeper is done');
    assert.ok(Math.max(...rowsOf(keeper.pid).map(row => row.rate ?? NaN)) > keptBytes / run.seconds / 2, 'while it ran, its live bytes grew');
    assert.equal(settled.untracked, 0);

    // The freer's working set is steady (a ring of blocks), then all freed: it never grows past it.
    const workingSet = Number(kept.workingSet);
    const freerRows = rowsOf(freer.pid, freerTable.records.filter(isTable) as unknown as LiveTable[]);
    t.diagnostic(`the freer's live bytes: at most ${Math.max(0, ...freerRows.map(row => row.bytes))} (its working set: at most ${workingSet}) in ${freerRows.length} intervals`);
    assert.ok(freerRows.length > 0, 'the freer was tracked: its working set showed while it ran');
    for (const row of freerRows) assert.ok(row.bytes <= workingSet, `the freer, whose working set is at most ${workingSet} bytes, showed ${row.bytes} live bytes at ${row.time}`);
    assert.equal(freerSettled.untracked, 0);
    assert.ok(!freerSettled.rows.some(row => row.bytes > 0), 'after its run nothing of the freer is outstanding');

    const seen = keeperStacks.stacks.map(stack => `${stack.bytes} ${stack.count}: ${stack.frames.join(' <- ')}`).join('\n');
    assert.ok(keeperStacks.stacks.length > 0, `no live stacks:\n${drill.describe()}`);
    const top = keeperStacks.stacks[0]!;
    assert.deepEqual(top.frames.slice(0, 3), [...LEAK_WORKLOAD.chain, 'main'], `the top live stack:\n${seen}`);
    assert.ok(within(top.bytes, keptBytes), `the top live stack holds ${top.bytes} bytes; the keeper kept ${keptBytes}:\n${seen}`);
    assert.ok(!keeperStacks.stacks.some(stack => stack.frames.includes('wl_churn_leak')), `the churn, all freed, shows among the live stacks:\n${seen}`);
    assert.ok(within(keeperStacks.bytes, keptBytes), `the drill-down's total is ${keeperStacks.bytes}`);
    assert.equal(freerStacks.bytes, 0, `the freer's drill-down after its run: ${JSON.stringify(freerStacks)}`);
    assert.deepEqual(freerStacks.stacks, []);

    // Folded, the last interval's one line before the keeper was killed weighs the kept bytes.
    const foldedLines = folded.lines.slice(0, foldedWhileAlive).filter(line => line !== '');
    const last = foldedLines.at(-1) ?? '';
    assert.match(last, /(^|;)main;wl_outer_leak;wl_keep_leak (\d+)$/, `the last folded line while the keeper ran: ${last}\n${folded.lines.join('\n')}`);
    assert.ok(within(Number(last.slice(last.lastIndexOf(' ') + 1)), keptBytes), last);

    // The recorded drill-down replays, without root, to the very lines printed live.
    const live = drill.lines.filter(line => line.startsWith('{'));
    const replayed = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, CLI, '--replay', recording, '--batch', '--json', '--live', '--pid', String(keeper.pid), '--stacks', '--limit', '100'], {reject: false, timeout: 60_000, cwd: '/', env: {HOME: tmpdir()}});
    assert.equal(replayed.exitCode, 0, replayed.stderr);
    assert.deepEqual(replayed.stdout.split('\n').filter(Boolean), live);
  });

  it('past a sixteenth of its address table the live view samples addresses, says so, and reads the leak\'s growth within 10%', {timeout: 180_000}, async t => {
    if (cannotRun(t)) return;
    // A small table fills in seconds: 1,000 blocks of 1 KiB a second take it to 1 address in 64 by 16 s.
    const cap = 4096;
    const eventsPerSecond = 8000;
    const keeper = await leak(1024, {eventsPerSecond, seconds: 40, lingerSeconds: 60});
    const env = {MEMTOP_LIVE_KEYS_MAX: String(cap)};
    const table = memtop(['--batch', '--json', '--live', '--pid', String(keeper.pid), '--interval', '1000'], env);
    const terminal = startMemtopTerminal(['--live', '--pid', String(keeper.pid), '--interval', '1000'], {columns: 160, rows: 20, env: {LANG: 'C.UTF-8', ...env}});
    terminals.push(terminal);
    await Promise.all([table.waitForRecord(isTable, 'a first live table', 120_000), terminal.waitFor(screen => /live memory since/.test(screen) && /probe uprobe/.test(screen), 'the live view tracing', 120_000)]);
    keeper.go();
    await keeper.started(10_000);
    const startAt = Date.now();
    // On screen: the sampling on the status line, the process's figures and growth marked as estimates.
    const row = new RegExp(`^\\s*${keeper.pid} wl_leak\\s+~[\\d.]+[KM]\\s+~\\d+\\s+\\S+\\s+~\\+[\\d.]+[KM]`, 'm');
    const screen = await terminal.waitFor(text => /sampled 1\/\d+/.test(text) && row.test(text), 'the sampling said and the row marked', 30_000);
    t.diagnostic(screen);
    await terminal.close();
    const kept = await keeper.done(60_000);
    const doneAt = Date.now();
    const trueRate = Number(kept.kept) / ((doneAt - startAt) / 1000);
    await table.waitForRecord(record => isTable(record) && stampedAfter(doneAt)(record), 'a live table after the keeper was done', 10_000);
    await stopMemtop(table);
    // The intervals from 8 s in (the table sampled by then) to the keeper's end.
    const window = (table.records.filter(isTable) as unknown as (LiveTable & {sampled?: number})[]).filter(record => {
      const at = Date.parse(record.time);
      return at >= startAt + 8000 && at <= doneAt - 500;
    });
    const rows = window.map(record => ({record, row: record.rows.find(candidate => candidate.pid === keeper.pid)}));
    const rates = rows.map(({row}) => row?.rate ?? Number.NaN);
    const mean = rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
    const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
    const last = rows.at(-1)!;
    t.diagnostic(`true rate ${Math.round(trueRate)} B/s (paced ${(eventsPerSecond / 8) * 1024}); GROWTH/s mean ${Math.round(mean)}, median ${median}, range ${Math.min(...rates)}..${Math.max(...rates)} over ${rates.length} intervals; sampled 1/${last.record.sampled} at the end`);
    t.diagnostic(`per interval: ${rows.map(({record, row}) => `${Math.round(row?.rate ?? 0)}@1/${record.sampled ?? 1}/${row?.rateSeconds}s`).join(' ')}`);
    assert.ok(rates.length >= 20, `${rates.length} intervals in the window`);
    for (const {record, row: sampledRow} of rows) {
      assert.ok(record.sampled !== undefined && record.sampled >= 2, `every interval in the window says its sampling: ${JSON.stringify(record)}`);
      assert.ok(sampledRow?.sampled !== undefined && sampledRow.sampled >= 2, `the row says it is an estimate: ${JSON.stringify(sampledRow)}`);
      assert.equal(record.untracked, 0, 'sampling keeps room in the table: nothing goes untracked');
      assert.equal(sampledRow.untracked, undefined);
    }
    assert.ok(last.record.sampled! >= 16, `the table went on sampling more coarsely as it filled: 1/${last.record.sampled}`);
    // A sampled process's GROWTH/s is taken over up to 30 s: every interval's reads the leak.
    assert.ok(Math.abs(mean - trueRate) <= trueRate * 0.1, `GROWTH/s averaged ${Math.round(mean)} against a true ${Math.round(trueRate)}`);
    assert.ok(Math.abs(median - trueRate) <= trueRate * 0.1, `GROWTH/s's median ${median} against a true ${Math.round(trueRate)}`);
    // One interval's GROWTH/s is drawn from the blocks of its last rateSeconds, each standing for
    // its level's weight w: its relative standard error is about sqrt((w - 1) / n) for n blocks.
    // Over ~30 correlated intervals, each within 3.5 of those, never tighter than 15%.
    const blocksPerSecond = trueRate / 1024;
    for (const {record, row: sampledRow} of rows) {
      const rate = sampledRow?.rate ?? Number.NaN;
      const n = blocksPerSecond * Math.max(1, sampledRow?.rateSeconds ?? 1);
      const bound = Math.max(0.15, 3.5 * Math.sqrt(((record.sampled ?? 1) - 1) / n));
      assert.ok(Math.abs(rate - trueRate) <= trueRate * bound, `GROWTH/s read ${rate} in one interval against a true ${Math.round(trueRate)} (bound ${(bound * 100).toFixed(1)}% at 1/${record.sampled} over ${sampledRow?.rateSeconds}s)`);
    }
    // What is outstanding at the end is an estimate of what the keeper kept: of N equal blocks, each
    // kept with weight w, the estimate's relative standard error is about sqrt((w - 1) / N); with
    // w at the last level that is an upper bound. Within three of those, and never tighter than 10%.
    const blocks = Number(kept.keptBlocks ?? Number(kept.kept) / 1024);
    const bound = Math.max(0.1, 3 * Math.sqrt((last.record.sampled! - 1) / blocks));
    t.diagnostic(`live at the end ${last.row!.bytes} against ${String(kept.kept)} kept (${(((last.row!.bytes - Number(kept.kept)) / Number(kept.kept)) * 100).toFixed(1)}%; bound ${(bound * 100).toFixed(1)}% at 1/${last.record.sampled} over ${blocks} blocks)`);
    assert.ok(Math.abs(last.row!.bytes - Number(kept.kept)) <= Number(kept.kept) * bound, `${last.row!.bytes} live against ${String(kept.kept)} kept`);
  });

  it('the TUI: l shows the live view since it opened; Enter the live stacks with the keeping function; o the age threshold', {timeout: 150_000}, async t => {
    if (cannotRun(t)) return;
    // Keeping for as long as the test looks (it is killed after).
    const keeper = await leak(KEEP_BYTES, {eventsPerSecond: 2000, seconds: 120, lingerSeconds: 0});
    keeper.go();
    const terminal = startMemtopTerminal(['--comm', LEAK_WORKLOAD.name, '--interval', String(INTERVAL_MS)], {columns: 140, rows: 40, env: {LANG: 'C.UTF-8'}});
    terminals.push(terminal);
    await terminal.waitFor(screen => /probe uprobe:malloc of every allocator/.test(screen), 'the requests view tracing', 60_000);
    terminal.keys('l');
    const table = await terminal.waitFor(
      screen => /live memory since \d\d:\d\d:\d\d/.test(screen) && new RegExp(`^\\s*${keeper.pid} wl_leak\\s+~?[\\d.]+[KM]\\s`, 'm').test(screen),
      'the keeper in the live view',
      60_000,
    );
    t.diagnostic(table);
    assert.match(table, /LIVE\s+ALLOCS\s+OLDEST\s+GROWTH\/s/);
    // A machine-wide table shares its cap with every process: past a sixteenth of it, figures are estimates (~).
    assert.match(table, new RegExp(`^\\s*${keeper.pid} wl_leak\\s+\\S+\\s+~?\\d+\\s+\\S+s\\s+~?\\+`, 'm'), 'it grows');
    terminal.keys('Enter');
    const stacks = await terminal.waitFor(screen => /live since \d\d:\d\d:\d\d: /.test(screen) && /wl_keep_leak/.test(screen), 'the keeper\'s live stacks', 60_000);
    t.diagnostic(stacks);
    assert.match(stacks, /stacks of PID \d+ \(wl_leak\) · malloc live memory/);
    assert.match(stacks, /LIVE\s+ALLOCS\s+OLDEST\s+SHARE/);
    terminal.keys('o');
    await terminal.waitFor(screen => /older than 5\.0s: /.test(screen), 'the 5 s threshold', 20_000);
    // Back in the table, a process that exits drops out of the live view.
    terminal.keys('Escape');
    const keeperRow = new RegExp(`^\\s*${keeper.pid} wl_leak`, 'm');
    await terminal.waitFor(screen => /live memory since/.test(screen) && keeperRow.test(screen), 'the table again', 20_000);
    await keeper.process.stop('SIGKILL');
    await terminal.waitFor(screen => /live memory since/.test(screen) && !keeperRow.test(screen), 'the keeper gone from the live view', 20_000);
    const quitAt = Date.now();
    terminal.keys('q');
    // memtop leaves once the kernel has taken its uprobes down, seconds on a loaded machine, and
    // says so when that takes longer than half a second (the pane stays readable after its exit).
    // Each uprobe's removal waits for grace periods of its own: the live view's 19 probes took
    // 2.4 s on bpftrace 0.17 and 4.3-4.5 s on 0.23 and 0.27 by hand on a quiet machine, and
    // 7.5-8.8 s in the Debian roots in CI's runs beside other tests.
    await waitForValue(() => !terminal.alive() || undefined, {timeoutMs: 30_000, what: 'memtop to quit'});
    const quitMs = Date.now() - quitAt;
    t.diagnostic(`quit took ${quitMs} ms`);
    if (quitMs > 1500) assert.match(terminal.screen(), /memtop: detaching probes…/, `a ${quitMs} ms quit says why`);
  });
});

/** A process's comm, or '' once it has gone (a descendant may exit between the listing and the read). */
function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8');
  } catch {
    return '';
  }
}
