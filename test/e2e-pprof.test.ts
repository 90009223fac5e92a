// End-to-end, pprof profiles read by a reader nobody here wrote (go tool pprof): the real memtop
// and bpftrace against wl_leak, which keeps memory from wl_keep_leak while wl_churn_leak
// allocates and frees more. From the CLI (--pprof) and from --serve's /debug/pprof/ endpoints,
// the keeping function leads inuse_space, the churning one leads alloc_space, whole paths from
// main to the leaf survive, and the CLI's figures are its own JSON's for the same intervals.
import assert from 'node:assert/strict';
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, describe, it, type TestContext} from 'node:test';
import {descendantPids, isRunning, startLineChild, type LineChild} from './helpers/child-lines.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {cannotRunPprof as cannotRunGoPprof, pprof as goPprof, topRows} from './helpers/go-pprof.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {LEAK_WORKLOAD, startWorkload, type RunningWorkload} from './helpers/workloads.js';

/** How far go tool pprof's figures may be from memtop's JSON for the same intervals. */
const TOLERANCE = 0.05;
const KEEP_BYTES = 2000;
const INTERVALS = 6;

const dir = mkdtempSync(join(tmpdir(), 'memtop-e2e-pprof-'));
chmodSync(dir, 0o755);
let children: LineChild[] = [];
let workloads: RunningWorkload[] = [];
afterEach(async () => {
  for (const child of children) await child.stop('SIGKILL', 1000);
  for (const workload of workloads) await workload.process.stop('SIGKILL');
  children = [];
  workloads = [];
});
after(() => rmSync(dir, {recursive: true, force: true}));

function memtop(args: string[]): LineChild {
  const child = startLineChild(process.execPath, [CLI, ...args], {what: `memtop ${args.join(' ')}`});
  children.push(child);
  return child;
}

/** go tool pprof in this test's directory. */
const pprof = (args: string[], timeoutMs?: number) => goPprof(dir, args, timeoutMs);
const cannotRunPprof = (t: TestContext) => cannotRunGoPprof(t, dir);

/** The function leading `-top` (flat) for a sample index. */
async function leader(file: string, index: string): Promise<string> {
  const text = await pprof(['-top', `-sample_index=${index}`, file]);
  const rows = topRows(text);
  assert.ok(rows.length > 0, text);
  return rows[0]!.name;
}

/** Each sample's values as go tool pprof -raw reads them, summed: [count, bytes]. */
async function rawTotals(file: string): Promise<[number, number]> {
  const text = await pprof(['-raw', file]);
  const samples = text.slice(text.indexOf('Samples:'), text.indexOf('Locations'));
  let count = 0;
  let bytes = 0;
  for (const match of samples.matchAll(/^\s+(\d+)\s+(\d+):/gm)) {
    count += Number(match[1]);
    bytes += Number(match[2]);
  }
  return [count, bytes];
}

/** go tool pprof -traces has a trace from `leaf` through wl_outer_leak to main. */
async function assertWholePath(file: string, leaf: string): Promise<void> {
  const traces = (await pprof(['-traces', file])).split(/^-+\+-+$/m);
  const whole = traces.some(trace => new RegExp(`\\b${leaf}\\n\\s+wl_outer_leak\\n\\s+main\\b`).test(trace));
  assert.ok(whole, `a trace ${leaf} <- wl_outer_leak <- main in:\n${traces.join('---\n').slice(0, 3000)}`);
}

const within = (value: number, expected: number) => Math.abs(value - expected) <= expected * TOLERANCE;

async function leak(): Promise<RunningWorkload> {
  // Long enough to outlast the tracers' start on a loaded machine; ended by the test.
  const workload = await startWorkload(LEAK_WORKLOAD, {eventsPerSecond: 1000, seconds: 600, lingerSeconds: 0, extra: [String(KEEP_BYTES)]}, {waitForGo: true});
  workloads.push(workload);
  await workload.ready();
  return workload;
}

describe('pprof profiles of a real workload, read by go tool pprof', () => {
  it('--pprof: requests lead with the churning function, live memory with the keeping one, whole paths, figures as in the JSON', {timeout: 1_300_000}, async t => {
    if (cannotRun(t) || (await cannotRunPprof(t))) return;
    const workload = await leak();
    const requestsFile = join(dir, 'requests.pb.gz');
    const liveFile = join(dir, 'live.pb.gz');
    const common = ['--batch', '--json', '--stacks', '--pid', String(workload.pid), '--limit', '100', '--interval', '1000'];
    const requests = memtop([...common, '--pprof', requestsFile]);
    const live = memtop([...common, '--live', '--pprof', liveFile]);
    const isStacks = (record: Record<string, unknown>) => Array.isArray(record.stacks);
    await Promise.all([requests.waitForRecord(isStacks, 'first requests stacks', 180_000), live.waitForRecord(isStacks, 'first live stacks', 180_000)]);
    workload.go();
    // INTERVALS more intervals each, then memtop ends on its own (SIGTERM): the files hold what the JSON said.
    const count = (child: LineChild) => child.records.filter(isStacks).length;
    const [fromRequests, fromLive] = [count(requests), count(live)];
    await waitForValue(() => count(requests) >= fromRequests + INTERVALS && count(live) >= fromLive + INTERVALS, {timeoutMs: 180_000, what: `${INTERVALS} intervals of each drill-down`});
    for (const child of [requests, live]) {
      const tracers = descendantPids(child.pid);
      await child.stop('SIGTERM', 15_000);
      await waitForValue(() => tracers.every(pid => !isRunning(pid)), {timeoutMs: 5000, what: 'memtop\'s tracers to exit with it'});
    }
    assert.equal(await leader(requestsFile, 'alloc_space'), 'wl_churn_leak');
    assert.equal(await leader(liveFile, 'inuse_space'), 'wl_keep_leak');
    await assertWholePath(requestsFile, 'wl_churn_leak');
    await assertWholePath(requestsFile, 'wl_keep_leak');
    await assertWholePath(liveFile, 'wl_keep_leak');
    // The requests profile is every interval's stacks summed; the live one is the last interval's.
    const requestRecords = requests.records.filter(isStacks) as {stacks: {count: number; bytes: number}[]}[];
    const jsonRequests = requestRecords.flatMap(record => record.stacks).reduce(([count, bytes], stack) => [count + stack.count, bytes + stack.bytes], [0, 0]);
    const lastLive = live.records.filter(isStacks).at(-1) as {stacks: {count: number; bytes: number}[]};
    const jsonLive = lastLive.stacks.reduce(([count, bytes], stack) => [count + stack.count, bytes + stack.bytes], [0, 0]);
    const [pprofRequests, pprofLive] = [await rawTotals(requestsFile), await rawTotals(liveFile)];
    t.diagnostic(`requests: JSON ${jsonRequests.join(' calls, ')} bytes; pprof ${pprofRequests.join(', ')}. live: JSON ${jsonLive.join(' allocations, ')} bytes; pprof ${pprofLive.join(', ')}`);
    assert.ok(jsonRequests[1]! > 0 && jsonLive[1]! > 0);
    for (const [figure, expected] of [...pprofRequests.map((value, index) => [value, jsonRequests[index]!]), ...pprofLive.map((value, index) => [value, jsonLive[index]!])]) {
      assert.ok(within(figure!, expected!), `pprof ${figure} against JSON ${expected}`);
    }
  });

  it('--serve: /debug/pprof/heap and /allocs read the same way, one tracer for identical requests, a clear 400 without pid; --export live gauges in /metrics', {timeout: 1_300_000}, async t => {
    if (cannotRun(t) || (await cannotRunPprof(t))) return;
    const workload = await leak();
    const port = await freePort();
    const server = memtop(['--serve', `127.0.0.1:${port}`, '--export', 'live']);
    const url = `http://127.0.0.1:${port}`;
    await waitForValue(async () => (await fetch(`${url}/metrics`).catch(() => undefined))?.ok || undefined, {timeoutMs: 60_000, what: 'memtop to serve'});
    const missing = await fetch(`${url}/debug/pprof/heap?seconds=3`);
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /^pid is required: memtop profiles one process and does not guess which/);
    assert.equal((await fetch(`${url}/debug/pprof/heap?pid=${workload.pid}&seconds=0`)).status, 400);
    assert.equal((await fetch(`${url}/debug/pprof/allocs?pid=4194304`)).status, 404);
    const before = descendantPids(server.pid).length;
    workload.go();
    const get = async (path: string, file: string) => {
      const response = await fetch(`${url}${path}`, {signal: AbortSignal.timeout(300_000)});
      assert.equal(response.status, 200, `${path}: ${response.status}`);
      writeFileSync(join(dir, file), Buffer.from(await response.arrayBuffer()));
    };
    const heapPath = `/debug/pprof/heap?pid=${workload.pid}&seconds=4`;
    const pending = Promise.all([get(heapPath, 'heap.pb.gz'), get(heapPath, 'heap-again.pb.gz'), get(`/debug/pprof/allocs?pid=${workload.pid}&seconds=4`, 'allocs.pb.gz')]);
    // Two drill-downs for three requests: the identical heap requests share one.
    // A drill-down's script by its path or, given inline (one probe per allocator file), by the
    // generated header naming its source: the live gauges' script names stacks-malloc-live.bt in a comment.
    const stacksTracers = () => descendantPids(server.pid).filter(pid => /(?:from probes\/src\/bpftrace\/|probes\/bpftrace\/)stacks-malloc/.test(commandLine(pid)));
    // Counted once per look: a second look may see one tracer fewer or more than the first.
    const most = await waitForValue(
      () => {
        const count = stacksTracers().length;
        return count >= 2 ? count : undefined;
      },
      {timeoutMs: 120_000, what: 'the profiles\' tracers'},
    );
    assert.equal(most, 2, 'one tracer per distinct request');
    await pending;
    await waitForValue(() => stacksTracers().length === 0 || undefined, {timeoutMs: 30_000, what: 'the profiles\' tracers to end with their requests'});
    t.diagnostic(`${before} tracers before the profiles`);
    assert.equal(await leader(join(dir, 'heap.pb.gz'), 'inuse_space'), 'wl_keep_leak');
    assert.equal(await leader(join(dir, 'allocs.pb.gz'), 'alloc_space'), 'wl_churn_leak');
    await assertWholePath(join(dir, 'heap.pb.gz'), 'wl_keep_leak');
    await assertWholePath(join(dir, 'allocs.pb.gz'), 'wl_churn_leak');
    // The live gauges: the workload's outstanding bytes as a series of its own.
    const gauge = await waitForValue(
      async () => {
        const body = await (await fetch(`${url}/metrics`)).text();
        const match = /^memtop_live_bytes\{comm="wl_leak",cgroup="[^"]*"\} (\d+)/m.exec(body);
        return match && Number(match[1]) > 0 ? Number(match[1]) : undefined;
      },
      {timeoutMs: 180_000, intervalMs: 1000, what: 'memtop_live_bytes of wl_leak'},
    );
    t.diagnostic(`memtop_live_bytes{comm="wl_leak"} ${gauge}`);
  });
});

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
