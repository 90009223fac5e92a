// The SystemTap and DTrace backends around their parsers: argument checks, paths handed to the
// tracer, failure explanations, and the wiring from a tracer's stdout to snapshots. Neither
// tracer can run a probe on the CI machine (stap cannot build modules, there is no DTrace), so
// the wiring is driven by stand-in executables named stap and dtrace that print a recorded
// output and write down the arguments they were given.
import assert from 'node:assert/strict';
import {chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, test} from 'node:test';
import {TracerError, type TracerSnapshot, type TracerStackSnapshot} from '../source/types.js';
import {explainStapFailure, isPlainAbsolutePath, stapLibc, systemtapBackend} from '../source/backends/systemtap.js';
import {mappedFile} from '../source/system/processes.js';
import {positionalArguments} from '../source/backends/tracer-process.js';
import {dtraceBackend, explainDtraceFailure} from '../source/backends/dtrace.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'memtop-stap-dtrace-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

const fixture = (dir: string, name: string) => fileURLToPath(new URL(`fixtures/${dir}/${name}`, import.meta.url));
const PROBES = fileURLToPath(new URL('../probes/', import.meta.url));

/**
 * Put a stand-in `name` first on PATH: it records its arguments, prints `output`, then waits
 * to be killed, as a tracer does. Returns where the arguments are written.
 */
function standIn(name: string, output: string): {argsFile: string; restore: () => void} {
  const bin = mkdtempSync(path.join(scratch, 'bin-'));
  const argsFile = path.join(bin, 'args');
  writeFileSync(
    path.join(bin, name),
    `#!/bin/sh\nfor arg in "$@"; do printf '%s\\n' "$arg"; done > '${argsFile}'\ncat '${output}'\nexec sleep 60\n`,
  );
  chmodSync(path.join(bin, name), 0o755);
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath ?? ''}`;
  return {argsFile, restore: () => (process.env.PATH = savedPath)};
}

/** The first `count` items, then stop the tracer the way memtop does: abort, then stop iterating. */
async function take<T>(iterable: AsyncIterable<T>, count: number, controller: AbortController): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) {
    items.push(item);
    if (items.length === count) {
      controller.abort();
      break;
    }
  }
  return items;
}

test('positional arguments are checked numbers, never free text', () => {
  assert.deepEqual(positionalArguments(1000, 0, false), ['1000', '0']);
  assert.deepEqual(positionalArguments(250, 4242, true), ['250', '4242']);
  for (const bad of [
    () => positionalArguments(0, 0, false),
    () => positionalArguments(1.5, 0, false),
    () => positionalArguments(Number.NaN, 0, false),
    () => positionalArguments(1000, -3, false),
    () => positionalArguments(1000, 0, true),
    () => positionalArguments(1000, 2 ** 31, false),
  ]) {
    assert.throws(bad, TracerError);
  }
});

test('only plain absolute paths reach stap', () => {
  assert.ok(isPlainAbsolutePath('/lib/x86_64-linux-gnu/libc.so.6'));
  assert.ok(isPlainAbsolutePath('/proc/4242/root/usr/lib/libc.so.6'));
  assert.ok(isPlainAbsolutePath('/usr/lib/libstdc++.so.6'));
  for (const bad of ['libc.so.6', '/lib/../etc/passwd', '/lib/./libc.so.6', '/lib/libc "x".so', '/lib/a b', '/lib/$(reboot)', '/lib/x\n', '/lib/x;y', '']) {
    assert.equal(isPlainAbsolutePath(bad), false, bad);
  }
});

test('mappedFile finds a library and its inode in /proc/<pid>/maps text', () => {
  const maps = [
    '55d0c0000000-55d0c0001000 r--p 00000000 08:01 1311 /usr/bin/workload',
    '7f0000000000-7f0000028000 r--p 00000000 08:01 2049 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f0000028000-7f00001bd000 r-xp 00028000 08:01 2049 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]',
  ].join('\n');
  assert.deepEqual(mappedFile(maps, file => file.endsWith('/libc.so.6')), {path: '/usr/lib/x86_64-linux-gnu/libc.so.6', inode: 2049});
  assert.equal(mappedFile(maps, file => file.endsWith('/libm.so.6')), undefined);
});

test('the libc of a running process is a plain path stap can open', () => {
  const libc = stapLibc(process.pid);
  assert.ok(isPlainAbsolutePath(libc), libc);
  assert.ok(existsSync(libc), libc);
});

test('stap failures read as one line with a fix', () => {
  const buildTree = explainStapFailure('Checking "/lib/modules/6.8.0-1/build/.config" failed with error: No such file or directory\nTip: /usr/share/doc/systemtap/README.Debian should help you get started.\n', 1);
  assert.match(buildTree.message, /no kernel build tree .*\/lib\/modules\/6\.8\.0-1\/build\/\.config is missing/);
  assert.match(buildTree.hint!, /headers/);
  const semantic = explainStapFailure(
    "WARNING: missing x86_64 kernel/module debuginfo [man warning::debuginfo] under '/lib/modules/6.8.0-1/build'\nsemantic error: while resolving probe point: identifier 'kernel' at anonpgin.stp:40:7\nPass 2: analysis failed.  [man error::pass2]\n",
    1,
  );
  assert.match(semantic.message, /^stap: semantic error: while resolving probe point/);
  assert.match(semantic.hint!, /stap-prep/);
  assert.match(explainStapFailure('ERROR: You are trying to run systemtap as a normal user.\nYou should either be root, or be part of the group "stapusr"', 1).hint!, /root/);
  assert.match(explainStapFailure('ERROR: Couldn\'t insert module: Required key not available', 1).hint!, /Secure Boot/);
  assert.equal(explainStapFailure('', 3).message, 'stap: stap exited with code 3');
  for (const error of [buildTree, semantic]) assert.doesNotMatch(`${error.message} ${error.hint}`, /\n/);
});

test('dtrace failures read as one line with a fix', () => {
  assert.match(explainDtraceFailure('dtrace: failed to initialize dtrace: DTrace requires additional privileges\n', 1).hint!, /root/);
  assert.match(explainDtraceFailure('dtrace: system integrity protection is on, some features will not be available\ndtrace: failed to compile script malloc.d: line 30: probe description pid123::malloc:entry does not match any probes\n', 1).hint!, /System Integrity Protection/);
  assert.match(explainDtraceFailure("dtrace: failed to compile script brk.d: line 40: probe description syscall::brk:entry does not match any probes\n", 1).hint!, /illumos/);
  assert.match(explainDtraceFailure('dtrace: pid 4242 has exited\n', 0).hint!, /exited/);
});

test('availability is a one-line verdict, not a PATH hit', async () => {
  for (const backend of [systemtapBackend, dtraceBackend]) {
    const availability = await backend.available();
    if (!availability.ok) {
      assert.ok(availability.reason && availability.reason.length > 0);
      assert.doesNotMatch(availability.reason!, /\n/);
    }
  }
});

test('a stap that is installed but cannot build modules is not available, with the fix', async () => {
  const {restore} = standInFailing('stap', 'Checking "/lib/modules/6.8.0-1/build/.config" failed with error: No such file or directory', 'Systemtap translator/driver (version 4.8/0.188)');
  try {
    const availability = await systemtapBackend.available();
    assert.equal(availability.ok, false);
    assert.equal(availability.version, '4.8');
    assert.match(availability.reason!, /no kernel build tree.*install the headers/);
  } finally {
    restore();
  }
});

test('a dtrace that is SystemTap\'s SDT helper is not taken for DTrace', async () => {
  const {restore} = standInFailing('dtrace', 'usage: dtrace [--help] [-h | -G] [-C [-I<Path>]] -s File.d [-o <File>]', '');
  try {
    const availability = await dtraceBackend.available();
    assert.equal(availability.ok, false);
    assert.match(availability.reason!, /is not DTrace/);
  } finally {
    restore();
  }
});

/** A stand-in that prints `version` for --version/-V and fails every other run with `stderr`. */
function standInFailing(name: string, stderr: string, version: string): {restore: () => void} {
  const bin = mkdtempSync(path.join(scratch, 'bin-'));
  writeFileSync(
    path.join(bin, name),
    `#!/bin/sh\ncase "$1" in --version|-V) [ -n '${version}' ] && { echo '${version}'; exit 0; } ;; esac\necho '${stderr}' >&2\nexit 1\n`,
  );
  chmodSync(path.join(bin, name), 0o755);
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath ?? ''}`;
  return {restore: () => (process.env.PATH = savedPath)};
}

test('stap start: script from memtop\'s probes/, values as positional arguments, snapshots parsed', async () => {
  const {argsFile, restore} = standIn('stap', fixture('stap-output', 'malloc.txt'));
  const controller = new AbortController();
  try {
    const snapshots: TracerSnapshot[] = await take(
      systemtapBackend.start({tab: 'malloc', pid: process.pid, intervalMs: 1000, signal: controller.signal}),
      2,
      controller,
    );
    assert.equal(snapshots.length, 2);
    assert.equal(snapshots[0]!.backend, 'stap');
    assert.equal(snapshots[0]!.rows[0]!.comm, 'postgres');
    assert.match(snapshots[0]!.probe, /^process\("\/.+libc.+"\)\.function\("malloc"\)$/);
    const args = readFileSync(argsFile, 'utf8').trimEnd().split('\n');
    const script = args.indexOf(path.join(PROBES, 'stap', 'malloc.stp'));
    assert.ok(script > 0, args.join(' '));
    assert.deepEqual(args.slice(script + 1, script + 3), ['1000', String(process.pid)]);
    assert.ok(isPlainAbsolutePath(args[script + 3]!));
    assert.equal(args.length, script + 4);
    assert.equal(args[args.indexOf('-I') + 1], path.join(PROBES, 'stap', 'tapset'), 'the shared tapset');
    assert.ok(args.includes('-DMAXACTION=100000'));
  } finally {
    controller.abort();
    restore();
  }
});

test('stap drill-down: symbols of the process, stacks parsed', async () => {
  const {argsFile, restore} = standIn('stap', fixture('stap-output', 'stacks-majfault.txt'));
  const controller = new AbortController();
  try {
    const [snapshot] = (await take(
      systemtapBackend.startStacks({tab: 'majfault', pid: process.pid, intervalMs: 500, signal: controller.signal}),
      1,
      controller,
    )) as TracerStackSnapshot[];
    assert.deepEqual(snapshot!.stacks, [{count: 7, frames: ['memcpy', 'load_table', 'main']}]);
    assert.equal(snapshot!.pid, process.pid);
    const args = readFileSync(argsFile, 'utf8').trimEnd().split('\n');
    const exe = readlinkSync('/proc/self/exe');
    if (isPlainAbsolutePath(exe)) {
      assert.equal(args[args.indexOf('-d') + 1], exe);
      assert.ok(args.includes('--ldd'));
    }
    assert.deepEqual(args.slice(-3), [path.join(PROBES, 'stap', 'stacks-majfault.stp'), '500', String(process.pid)]);
  } finally {
    controller.abort();
    restore();
  }
});

test('dtrace start: -p for the malloc tab, positional arguments, snapshots parsed', async () => {
  const {argsFile, restore} = standIn('dtrace', fixture('dtrace-output', 'malloc.txt'));
  const controller = new AbortController();
  try {
    const snapshots = await take(dtraceBackend.start({tab: 'malloc', pid: 4242, intervalMs: 1000, signal: controller.signal}), 2, controller);
    assert.deepEqual(snapshots[1]!.rows, [{pid: 4242, comm: 'postgres', count: 1790, bytes: 290000}]);
    const args = readFileSync(argsFile, 'utf8').trimEnd().split('\n');
    assert.deepEqual(args, ['-p', '4242', '-s', path.join(PROBES, 'dtrace', 'malloc.d'), '1000', '4242']);
  } finally {
    controller.abort();
    restore();
  }
});

test('dtrace drill-down of malloc: -Z for missing entry points, stacks parsed', async () => {
  const {argsFile, restore} = standIn('dtrace', fixture('dtrace-output', 'stacks-malloc.txt'));
  const controller = new AbortController();
  try {
    const [snapshot] = await take(dtraceBackend.startStacks({tab: 'malloc', pid: 4242, intervalMs: 1000, signal: controller.signal}), 1, controller);
    assert.equal(snapshot!.stacks.length, 2);
    assert.equal(snapshot!.histogram!.length, 7);
    const args = readFileSync(argsFile, 'utf8').trimEnd().split('\n');
    assert.deepEqual(args, ['-Z', '-p', '4242', '-s', path.join(PROBES, 'dtrace', 'stacks-malloc.d'), '1000', '4242']);
  } finally {
    controller.abort();
    restore();
  }
});

test('dtrace: the malloc tab needs --pid, and says so', async () => {
  const controller = new AbortController();
  await assert.rejects(take(dtraceBackend.start({tab: 'malloc', intervalMs: 1000, signal: controller.signal}), 1, controller), (error: unknown) => {
    assert.ok(error instanceof TracerError);
    assert.match(error.hint!, /--pid/);
    return true;
  });
  assert.match(await dtraceBackend.probeFor('malloc'), /--pid/);
});

test('a tracer that dies is a TracerError with its reason', async () => {
  const {restore} = standInFailing('stap', 'semantic error: no match', 'Systemtap translator/driver (version 4.8/0.188)');
  const controller = new AbortController();
  try {
    await assert.rejects(take(systemtapBackend.start({tab: 'brk', intervalMs: 1000, signal: controller.signal}), 1, controller), (error: unknown) => {
      assert.ok(error instanceof TracerError);
      assert.match(error.message, /semantic error: no match/);
      return true;
    });
  } finally {
    controller.abort();
    restore();
  }
});

test('stap live view: its own script, rows of what is outstanding; its drill-down takes the sample after libc', async () => {
  const table = standIn('stap', fixture('stap-output', 'malloc-live.txt'));
  let controller = new AbortController();
  try {
    const [snapshot] = await take(systemtapBackend.start({tab: 'malloc', view: 'live', intervalMs: 1000, signal: controller.signal}), 1, controller);
    assert.equal(snapshot!.view, 'live');
    assert.equal(snapshot!.rows[0]!.bytes, 49452);
    const args = readFileSync(table.argsFile, 'utf8').trimEnd().split('\n');
    assert.ok(args.includes(path.join(PROBES, 'stap', 'malloc-live.stp')), args.join(' '));
  } finally {
    controller.abort();
    table.restore();
  }
  const stacks = standIn('stap', fixture('stap-output', 'stacks-malloc-live.txt'));
  controller = new AbortController();
  try {
    const [snapshot] = await take(systemtapBackend.startStacks({tab: 'malloc', view: 'live', pid: process.pid, sampleBytes: 524288, intervalMs: 1000, signal: controller.signal}), 1, controller);
    assert.equal(snapshot!.live?.sampleBytes, 524288);
    const args = readFileSync(stacks.argsFile, 'utf8').trimEnd().split('\n');
    const script = args.indexOf(path.join(PROBES, 'stap', 'stacks-malloc-live.stp'));
    assert.ok(script > 0, args.join(' '));
    assert.deepEqual([args[script + 1], args[script + 2], args[script + 4]], ['1000', String(process.pid), '524288']);
    assert.ok(isPlainAbsolutePath(args[script + 3]!));
  } finally {
    controller.abort();
    stacks.restore();
  }
});

test('dtrace live view: -Z -p and its own script; its drill-down takes the sample last', async () => {
  const table = standIn('dtrace', fixture('dtrace-output', 'malloc-live.txt'));
  let controller = new AbortController();
  try {
    const [snapshot] = await take(dtraceBackend.start({tab: 'malloc', view: 'live', pid: 4242, intervalMs: 1000, signal: controller.signal}), 1, controller);
    assert.deepEqual(snapshot!.rows, [{pid: 4242, comm: 'postgres', count: 15, bytes: 49452, age: 1.5}]);
    assert.deepEqual(readFileSync(table.argsFile, 'utf8').trimEnd().split('\n'), ['-Z', '-p', '4242', '-s', path.join(PROBES, 'dtrace', 'malloc-live.d'), '1000', '4242']);
  } finally {
    controller.abort();
    table.restore();
  }
  const stacks = standIn('dtrace', fixture('dtrace-output', 'stacks-malloc-live.txt'));
  controller = new AbortController();
  try {
    const [snapshot] = await take(dtraceBackend.startStacks({tab: 'malloc', view: 'live', pid: 4242, sampleBytes: 1000, intervalMs: 1000, signal: controller.signal}), 1, controller);
    assert.equal(snapshot!.live?.sampleBytes, 1000);
    assert.deepEqual(readFileSync(stacks.argsFile, 'utf8').trimEnd().split('\n'), ['-Z', '-p', '4242', '-s', path.join(PROBES, 'dtrace', 'stacks-malloc-live.d'), '1000', '4242', '1000']);
  } finally {
    controller.abort();
    stacks.restore();
  }
});
