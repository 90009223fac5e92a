// End-to-end, memtop's image as a node agent: builds the base image (deploy/base-image, reused
// when present) and memtop's image from this checkout (deploy/Containerfile), runs it with the
// host's pid namespace and tracefs, and checks from the host, with a real Prometheus scraping
// it and memtop on the host side by side, that a host process and a process in another container
// are counted within 15% of an independent count under the same names and container ids; that a
// drill-down from the image names the other container's frames from that container's own binary;
// and that the TUI starts from the image in a terminal.
//
// Host-only by design, hence not named e2e-*: CI runs the end-to-end tests again inside Debian
// roots (chroots without podman, where containers cannot be run); images are the host's business.
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {after, afterEach, before, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {DEFAULT_EXPORT_INTERVAL_MS} from '../source/flags.js';
import {childTracker, startLineChild, type LineChild} from './helpers/child-lines.js';
import {startIndependentCounter, type IndependentCounter} from './helpers/independent-count.js';
import {freePort, startPrometheus, type Prometheus} from './helpers/prometheus.js';
import {CLI, cannotRun} from './helpers/requirements.js';
import {startTerminal} from './helpers/tmux.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {buildWorkload, diskDirectory, startWorkload, WORKLOAD_BIN_DIR, type RunningWorkload} from './helpers/workloads.js';

const CHECKOUT = fileURLToPath(new URL('..', import.meta.url));
const BASE = 'debian:trixie-slim';
const IMAGE = 'localhost/memtop:test';
const TOLERANCE = 0.15;
const RATE = 200;
const SECONDS = 20;
/** Names of this run's containers, removed in every finally and after the file. */
const NAME = `memtop-test-${process.pid}`;
const containers = new Set<string>();

/** Why this file cannot run here beyond what every end-to-end test needs, or undefined. */
function missingTool(): string | undefined {
  for (const tool of ['podman', 'runc', 'prometheus', 'gcc', 'tmux']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool} (.ci/install installs it)`;
  }
  return undefined;
}

const CAP_SYS_RESOURCE = 24n;

/**
 * --ulimit flags where this process may not raise its limits (no CAP_SYS_RESOURCE, as in some
 * sandboxes): runc would fail to give the container podman's defaults (nofile 1048576).
 */
function ulimits(): string[] {
  const status = readFileSync('/proc/self/status', 'utf8');
  const effective = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)![1]}`);
  if ((effective & (1n << CAP_SYS_RESOURCE)) !== 0n) return [];
  const files = /^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '1024';
  return ['--ulimit', `nofile=${files}:${files}`, '--ulimit', 'nproc=4096:4096'];
}

/** `podman --runtime runc ARGS` (crun fails on hybrid cgroups); its result, never throwing. */
async function podman(args: string[], timeoutMs = 120_000) {
  return execa('podman', ['--runtime', 'runc', ...args], {reject: false, timeout: timeoutMs, stdin: 'ignore'});
}

/** `podman run` of memtop's image as the readme says to run it, with a name removed after the test. */
function agentArgs(name: string, extra: string[], memtopArgs: string[]): string[] {
  containers.add(name);
  return [
    'run', '--rm', '--name', name, '--privileged', '--pid=host', '--cgroupns=host', '--network=host',
    '-v', '/sys/kernel/tracing:/sys/kernel/tracing', ...ulimits(), ...extra, IMAGE, ...memtopArgs,
  ];
}

/** This run's containers that podman still lists (running or not). */
async function containersLeft(): Promise<string[]> {
  const listed = await execa('podman', ['ps', '-a', '--filter', `name=^${NAME}`, '--format', '{{.Names}}'], {reject: false, stdin: 'ignore'});
  return listed.stdout.split('\n').filter(name => name !== '');
}

/**
 * Remove this run's containers, and check that they are gone: a `podman rm` that meets a
 * container still being stopped by its `podman run --rm` fails, and left the --serve agent
 * running after every CI run; it is tried again until podman lists none.
 */
async function removeContainers(): Promise<void> {
  if (containers.size === 0) return;
  const names = [...containers];
  let last = '';
  await waitForValue(
    async () => {
      const removal = await podman(['rm', '-f', '-t', '0', '--ignore', ...names]);
      last = String(removal.stderr).trim();
      const left = (await containersLeft()).filter(name => names.includes(name));
      return left.length === 0 ? true : undefined;
    },
    {timeoutMs: 60_000, intervalMs: 1000, what: `podman to remove ${names.join(', ')}`},
    () => last,
  );
  containers.clear();
}

/** Builds the base image when missing and memtop's image from the checkout; returns the image's size in bytes. */
async function buildImages(): Promise<number> {
  const base = await execa(`${CHECKOUT}deploy/base-image`, [BASE], {reject: false, timeout: 1_800_000, all: true});
  assert.equal(base.exitCode, 0, `deploy/base-image: ${String(base.all).slice(-3000)}`);
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const secret = ca && existsSync(ca) ? ['--secret', `id=ca,src=${ca}`] : [];
  const imageId = async () => (await podman(['image', 'inspect', '--format', '{{.Id}}', IMAGE])).stdout.trim();
  const previous = await imageId();
  const build = await podman(['build', '--network=host', ...ulimits(), ...secret, '-f', `${CHECKOUT}deploy/Containerfile`, '-t', IMAGE, CHECKOUT], 3_600_000);
  assert.equal(build.exitCode, 0, `podman build: ${String(build.stdout).slice(-3000)}\n${String(build.stderr).slice(-3000)}`);
  // The image the tag named before this build, left untagged by it: each CI run on a machine kept
  // between runs had left one (~560 MB) in podman's store. One still in use stays.
  if (previous !== '' && previous !== (await imageId())) await podman(['rmi', previous]);
  return Number((await podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).stdout.trim());
}

/** A process's children (pids), from /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A workload in a container of its own (the base image, its binary mounted from the host): its host pid and its container's short id. */
interface ContainedWorkload {
  process: LineChild;
  pid: number;
  containerId: string;
  go(): void;
  done(): Promise<Record<string, unknown>>;
}

/**
 * wl_majflt in a container, under a shell (so that the workload is not the container's init,
 * which would drop the SIGUSR1 that lets it go); ready to go once it returns.
 */
async function startContainedWorkload(disk: string): Promise<ContainedWorkload> {
  const binary = await buildWorkload('wl_majflt');
  const name = `${NAME}-workload`;
  containers.add(name);
  const args = [String(RATE), String(SECONDS), '1', disk];
  const child = startLineChild('podman', [
    '--runtime', 'runc', 'run', '--rm', '--name', name, ...ulimits(), '-e', 'WL_WAIT_FOR_GO=1',
    '-v', `${WORKLOAD_BIN_DIR}:/wl:ro`, '-v', `${disk}:${disk}`, BASE,
    'sh', '-c', `/wl/${binary.slice(binary.lastIndexOf('/') + 1)} "$@"; exit $?`, 'sh', ...args,
  ], {what: 'wl_majflt in a container'});
  await child.waitForRecord(record => record.phase === 'ready', 'its ready line', 120_000);
  const inspect = await podman(['inspect', '--format', '{{.State.Pid}} {{.Id}}', name]);
  const [initPid, id] = inspect.stdout.trim().split(' ');
  const pid = childrenOf(Number(initPid))[0];
  assert.ok(pid, `the container's shell (${initPid}) has the workload as its child: ${inspect.stdout}${inspect.stderr}`);
  return {
    process: child,
    pid,
    containerId: id!.slice(0, 12),
    go: () => process.kill(pid, 'SIGUSR1'),
    done: async () => child.waitForRecord(record => record.phase === 'done', 'its done line', SECONDS * 1000 + 60_000),
  };
}

/** Wait until a memtop serves its majfault tracer as up. */
async function waitForTracer(memtop: LineChild, port: number): Promise<void> {
  await waitForValue(
    async () => {
      if (memtop.hasExited()) throw new Error(`${memtop.what} exited\n${memtop.describe()}`);
      const body = await fetch(`http://127.0.0.1:${port}/metrics`).then(async response => response.text(), () => '');
      return body.includes('memtop_tracer_up{tab="majfault"} 1');
    },
    {timeoutMs: 180_000, intervalMs: 500, what: `${memtop.what}'s majfault tracer to be up`},
    () => memtop.describe(),
  );
}

const children = childTracker();
const track = <T extends LineChild>(child: T): T => children.track(child);

describe('memtop\'s image as a node agent', () => {
  let prometheus: Prometheus | undefined;
  let built = false;
  const ports = {image: 0, host: 0};

  before(async () => {
    if (process.geteuid?.() !== 0 || missingTool() !== undefined) return;
    await buildWorkload('wl_majflt');
    ports.image = await freePort();
    ports.host = await freePort();
    prometheus = await startPrometheus([
      {job: 'image', port: ports.image},
      {job: 'host', port: ports.host},
    ]);
  });

  afterEach(async () => {
    await children.stopAll();
    await removeContainers();
  });

  after(async () => {
    await prometheus?.stop();
    await removeContainers();
    assert.deepEqual(await containersLeft(), [], 'containers of this run left after the tests');
    assert.deepEqual(children.killLeftovers(), [], 'processes left running after the tests (killed now)');
  });

  it('the base image and memtop\'s image build from the checkout', {timeout: 5_400_000}, async t => {
    if (cannotRun(t, missingTool())) return;
    const size = await buildImages();
    built = true;
    t.diagnostic(`${IMAGE}: ${(size / 1e6).toFixed(0)} MB`);
    const version = await podman(['run', '--rm', ...ulimits(), IMAGE, '--version']);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(`${CHECKOUT}package.json`, 'utf8')).version, version.stderr);
  });

  it(`--serve from the image: a host process and one in another container are counted within ${TOLERANCE * 100}% of an independent count, named and labelled as on the host`, {timeout: 600_000}, async t => {
    if (cannotRun(t, missingTool())) return;
    assert.ok(built && prometheus, 'the image is built and prometheus runs');
    const note = (what: string) => t.diagnostic(what);
    const serveArgs = (port: number) => ['--serve', `127.0.0.1:${port}`, '--export', 'majfault', '--metrics-pid', '--metrics-top', '100'];
    const agent = track(startLineChild('podman', ['--runtime', 'runc', ...agentArgs(`${NAME}-agent`, [], serveArgs(ports.image))], {what: 'memtop in its image'}));
    const onHost = track(startLineChild(process.execPath, [CLI, ...serveArgs(ports.host)], {what: 'memtop on the host'}));
    let counter: IndependentCounter | undefined;
    let host: RunningWorkload | undefined;
    try {
      const disk = await diskDirectory();
      const contained = await startContainedWorkload(disk);
      track(contained.process);
      host = await startWorkload('majfault', {eventsPerSecond: RATE, seconds: SECONDS, lingerSeconds: 1, extra: [disk]}, {waitForGo: true});
      track(host.process);
      await host.ready();
      await Promise.all([waitForTracer(agent, ports.image), waitForTracer(onHost, ports.host)]);
      counter = await startIndependentCounter('majfault');
      track(counter.process);
      await waitForValue(
        async () => (await prometheus!.targets()).filter(target => target.health === 'up').length === 2,
        {timeoutMs: 60_000, what: 'prometheus to scrape both memtops'},
      );
      note(`host workload ${host.pid}, contained workload ${contained.pid} in container ${contained.containerId}`);
      host.go();
      contained.go();
      await Promise.all([host.done(SECONDS * 1000 + 60_000), contained.done()]);
      const exitedAt = Date.now();
      // A scrape of each memtop one interval and more after the exits has every event.
      const settled = await waitForValue(
        async () => {
          const stamps = await prometheus!.query('timestamp(memtop_tracer_up{tab="majfault"})');
          return stamps.length === 2 && stamps.every(sample => sample.value * 1000 > exitedAt + DEFAULT_EXPORT_INTERVAL_MS + 1500) ? Date.now() : undefined;
        },
        {timeoutMs: 30_000 + DEFAULT_EXPORT_INTERVAL_MS, intervalMs: 250, what: `a scrape of both memtops ${(DEFAULT_EXPORT_INTERVAL_MS + 1500) / 1000} s after the workloads exited`},
      );
      const independent = await counter.stop();
      const failures: string[] = [];
      for (const [what, pid] of [['the host process', host.pid], ['the process in another container', contained.pid]] as const) {
        const expected = independent.get(pid)?.count ?? 0;
        assert.ok(expected > RATE * SECONDS * 0.5, `the independent counter saw ${what} (${pid}): ${expected}`);
        const series: {metric: Record<string, string>; value: number}[] = await prometheus.query(`memtop_major_faults_total{pid="${pid}"}`, settled / 1000);
        // By name as well: a fault it took as setpriv, before it exec'd, is a series of that name.
        const image = series.find(sample => sample.metric.job === 'image' && sample.metric.comm === 'wl_majflt') ?? series.find(sample => sample.metric.job === 'image');
        const onHostSample = series.find(sample => sample.metric.job === 'host' && sample.metric.comm === 'wl_majflt') ?? series.find(sample => sample.metric.job === 'host');
        note(`${what}: image ${image?.value} ${JSON.stringify(image?.metric)}; host ${onHostSample?.value}; independent ${expected}`);
        if (!image) {
          failures.push(`no series of ${what} from the image`);
          continue;
        }
        if (Math.abs(image.value - expected) / expected > TOLERANCE) failures.push(`${what}: the image counted ${image.value}, the independent count ${expected}`);
        assert.equal(image.metric.comm, 'wl_majflt', `${what}'s name`);
        assert.equal(image.metric.cgroup, onHostSample?.metric.cgroup, `${what}'s cgroup label as memtop on the host has it`);
      }
      const containedSeries = await prometheus.query(`memtop_major_faults_total{job="image",pid="${contained.pid}"}`, settled / 1000);
      assert.equal(containedSeries[0]?.metric.cgroup, contained.containerId, 'the contained workload is labelled with its container id');
      assert.deepEqual(failures, []);
    } finally {
      await counter?.process.stop('SIGKILL');
      await host?.process.stop('SIGKILL');
      await onHost.stop('SIGKILL');
      await removeContainers();
    }
  });

  it('a drill-down from the image names the frames of a process in another container from that container\'s binary', {timeout: 300_000}, async t => {
    if (cannotRun(t, missingTool())) return;
    assert.ok(built, 'the image is built');
    const disk = await diskDirectory();
    const contained = await startContainedWorkload(disk);
    track(contained.process);
    try {
      contained.go();
      const run = await podman(agentArgs(`${NAME}-stacks`, [], ['--batch', '--json', '--tab', 'majfault', '--pid', String(contained.pid), '--stacks', '--iterations', '3']), 240_000);
      assert.equal(run.exitCode, 0, `${run.stdout.slice(-2000)}\n${run.stderr}`);
      const frames = run.stdout.trim().split('\n').flatMap(line => (JSON.parse(line) as {stacks?: {frames: string[]}[]}).stacks ?? []).flatMap(stack => stack.frames);
      t.diagnostic(`frames: ${[...new Set(frames)].slice(0, 12).join(' ')}`);
      assert.ok(frames.includes('wl_leaf_majflt'), `the workload's own function, from /wl/wl_majflt in its container: ${[...new Set(frames)].join(' ')}`);
    } finally {
      await removeContainers();
    }
  });

  it('the TUI starts from the image in a terminal and q ends it', {timeout: 300_000}, async t => {
    if (cannotRun(t, missingTool())) return;
    assert.ok(built, 'the image is built');
    const name = `${NAME}-tui`;
    const terminal = startTerminal(['podman', '--runtime', 'runc', ...agentArgs(name, ['-it'], ['--tab', 'brk'])]);
    try {
      await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(screen), 'the brk tab from the image', 180_000);
      terminal.keys('q');
      await waitForValue(() => !terminal.alive(), {timeoutMs: 30_000, what: 'the container to end after q'}, () => terminal.screen());
      const left = execFileSync('podman', ['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Names}}'], {encoding: 'utf8'}).trim();
      assert.equal(left, '', 'the container is gone (--rm) once memtop quits');
    } finally {
      terminal.kill();
      await removeContainers();
    }
  });
});
