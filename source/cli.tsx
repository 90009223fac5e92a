#!/usr/bin/env -S node --max-semi-space-size=1 --no-opt
// memtop's entry point: parse flags, run the preflight checks, then batch mode or the TUI, and
// make sure no tracer outlives this process however it ends.
// (A 1 MiB young generation: memtop allocates a little every interval, and V8's default 16 MiB
// semi-spaces let that garbage pile up before a scavenge. No optimizing compiler: memtop does a
// little work once a second, which V8's interpreter and baseline compiler run for less CPU and
// memory than TurboFan spends compiling and keeping optimized code for it; a 10,000-process
// interval is slower to parse, still well inside the second. readme.md's Performance has the figures.)
import {closeSync, readFileSync} from 'node:fs';
import {isatty} from 'node:tty';
import {HELP, parseFlags, UsageError, type Options} from './flags.js';
import {runBatch} from './batch.js';
import {selectBackend} from './backends/index.js';
import {procStatusBackend} from './backends/proc-status.js';
import {killAllTracers, stopAllTracers} from './backends/tracer-process.js';
import {blockingFailure, btfCheck, formatChecks, runChecks} from './check.js';
import {TracerError, type Backend} from './types.js';
import {TAB_IDS} from './registry.js';
import type {ReplayTimeline} from './record/replay.js';
import {sanitize} from './format.js';
import {readRecording, replayBackend, ReplayError} from './record/replay.js';
import {Recorder, RecordError} from './record/recorder.js';
import {recordingHeader} from './record/format.js';
import {recordingBackend} from './record/recording-backend.js';
import {CgroupCache} from './system/cgroups.js';
import {processExists} from './system/process-names.js';
import {withHeadStart} from './backends/head-start.js';
import {sharedBackend} from './backends/shared-backend.js';
import {parseBpftraceVersion, versionText} from './backends/bpftrace-version.js';
import {initialState} from './state/reducer.js';
import {runCommandBatch} from './command/command-batch.js';
import {CommandError} from './command/held-command.js';
import {startCommandSession, type CommandSession} from './command/command-tui.js';
import {resumeStopped} from './backends/bpftrace-command.js';
import {exitProfileProblem} from './command/exit-profile.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version?: string};
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Write one line to stderr, made safe for the terminal; never throws (stderr may be gone). */
function say(message: string): void {
  try {
    process.stderr.write(`memtop: ${sanitize(message)}\n`);
  } catch {
    // no terminal left to say it to
  }
}

/** Print one line and leave with a non-zero code; tracers are killed by the exit hook. */
function fail(message: string, code = 1): never {
  say(message);
  process.exit(code);
}

/** The standard streams that were a terminal when memtop started. */
const STARTED_ON_TTY = [0, 1, 2].filter(fd => isatty(fd));

/**
 * Leave with `code`. A terminal that hung up (ssh gone, tmux killed) is no terminal any more:
 * Node 20 then aborts at exit trying to restore its modes (node::ResetStdio asserts on the EIO
 * from tcsetattr: nodejs/node#51519, fixed upstream by #58200 but not in Node 20), and the abort
 * dumps core. Closing those descriptors first makes Node skip them; a terminal that is still
 * there is left open and restored as usual.
 */
function leave(code: number): never {
  for (const fd of STARTED_ON_TTY) {
    if (isatty(fd)) continue;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
  process.exit(code);
}

/**
 * With -- COMMAND: a signal for memtop goes to COMMAND instead, which ends memtop in turn (with
 * the summary); returns whether it was passed on.
 */
let passSignal: ((signal: NodeJS.Signals) => boolean) | undefined;

function installExitHooks(controller: AbortController): void {
  // Synchronous last resort: whatever path leads out, SIGKILL every tracer child, and resume
  // any process the COMMAND tracer had stopped at its exit.
  process.on('exit', killAllTracers);
  process.on('exit', resumeStopped);
  const onSignal = (signal: NodeJS.Signals) => {
    if (passSignal?.(signal)) return;
    controller.abort();
    // 128 + signal number, as a shell reports a death by signal.
    const codes: Partial<Record<NodeJS.Signals, number>> = {SIGINT: 130, SIGTERM: 143, SIGHUP: 129};
    void stopAllTracers().finally(() => leave(codes[signal] ?? 1));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  let crashed = false;
  const onCrash = (error: unknown) => {
    controller.abort();
    if (crashed) {
      // A second failure while leaving (say stderr is gone too): leave now.
      killAllTracers();
      leave(70);
    }
    crashed = true;
    const message = error instanceof Error ? error.message : String(error);
    say(`internal error: ${message.split('\n')[0]}`);
    void stopAllTracers().finally(() => leave(70));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  // Writing to a reader or terminal that went away: a closed pipe (memtop --batch | head -1) or
  // a terminal that hung up (EIO) ends memtop quietly, tracers first.
  const onOutputGone = (error: Error) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPIPE' && code !== 'EIO') return onCrash(error);
    controller.abort();
    killAllTracers();
    void stopAllTracers().finally(() => leave(code === 'EPIPE' ? 0 : 129));
  };
  process.stdout.on('error', onOutputGone);
  process.stderr.on('error', onOutputGone);
  process.stdin.on('error', onOutputGone);
  // Fault injection for the lifecycle tests: an uncaught exception inside memtop, on demand.
  const crashAfter = Number(process.env.MEMTOP_TEST_CRASH_AFTER_MS);
  if (Number.isFinite(crashAfter) && crashAfter > 0) {
    setTimeout(() => {
      throw new Error('injected crash (MEMTOP_TEST_CRASH_AFTER_MS)');
    }, crashAfter);
  }
}

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseFlags(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
  if (options.help) {
    process.stdout.write(HELP.replace(/^\n/, '') + '\n');
    return;
  }
  if (options.version) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (options.check) {
    const results = await runChecks();
    process.stdout.write(formatChecks(results) + '\n');
    process.exitCode = results.some(result => !result.ok && !result.optional) ? 1 : 0;
    return;
  }
  const headless = options.batch || (options.serve !== undefined && !options.serve.tui);
  if (!headless && !(process.stdout.isTTY && process.stdin.isTTY)) {
    fail('the TUI needs a terminal; for pipes and scripts use --batch (add --json for JSON lines)', 2);
  }

  const controller = new AbortController();
  installExitHooks(controller);
  // Ink and React take a while to load: only the TUI needs them, and they load (below) once the
  // first tab's tracer is compiling, in its own process.
  // Ink draws nothing but the last frame when it sees CI or CONTINUOUS_INTEGRATION in the
  // environment (read once, when it is imported). The TUI only ever runs on a real terminal
  // (checked above), so a CI variable inherited from a build job must not blank it.
  if (!headless) {
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
    // React's development build checks and warns on every render: it doubled the CPU memtop
    // spent per frame (render section of npm run bench).
    process.env.NODE_ENV ??= 'production';
  }

  let backend: Backend;
  let timeline: ReplayTimeline | undefined;
  let cgroupOf: (pid: number) => string | undefined;
  if (options.replay) {
    let recording;
    try {
      recording = readRecording(options.replay);
    } catch (error) {
      if (error instanceof ReplayError) fail(error.message, 2);
      throw error;
    }
    if (recording.truncatedLines) say(`the last line of ${options.replay} was cut off; replaying up to it`);
    const replay = replayBackend(recording, {speed: options.batch ? 0 : options.speed, atEnd: options.batch ? 'end' : 'wait'});
    backend = replay;
    timeline = replay.timeline;
    cgroupOf = pid => replay.cgroupOf(pid);
  } else {
    if (options.pid !== undefined && !processExists(options.pid)) {
      fail(`no process with PID ${options.pid}: pick a running process (see ps -e)`, 2);
    }
    const blocking = blockingFailure();
    if (blocking) fail(blocking);
    try {
      // The growth tab's RSS and untouched bytes as /proc/PID/status says them at each interval.
      backend = procStatusBackend(await selectBackend(options.backend));
    } catch (error) {
      if (error instanceof TracerError) fail(error.hint ? `${error.message}; ${error.hint}` : error.message);
      throw error;
    }
    if (backend.id === 'bpftrace') {
      const btf = btfCheck();
      if (!btf.ok) fail(`BTF: ${btf.detail}; fix: ${btf.fix}`);
    }
    const cache = new CgroupCache();
    cgroupOf = pid => cache.info(pid)?.path;
  }

  let recorder: Recorder | undefined;
  if (options.command && options.batch) {
    const status = await runCommandBatch(options, {write: text => process.stdout.write(text), say}, controller.signal, handler => {
      passSignal = handler;
    });
    controller.abort();
    await stopAllTracers();
    process.exitCode = status;
    return;
  }
  if (options.command) {
    process.exitCode = await runCommandTui(options, backend, controller, cgroupOf);
    return;
  }

  if (options.record) {
    const live = backend;
    const probes = Object.fromEntries(
      await Promise.all(TAB_IDS.map(async tab => [tab, await live.probeFor(tab).catch(() => 'unavailable')] as const)),
    );
    try {
      recorder = new Recorder(options.record, recordingHeader({memtopVersion: version(), backend: backend.id, probes}), {
        overwrite: options.overwrite,
        onError: error => say(`recording stopped: ${error.message}`),
      });
    } catch (error) {
      if (error instanceof RecordError) fail(error.message, 2);
      throw error;
    }
    const opened = recorder;
    process.on('exit', () => opened.close());
    backend = recordingBackend(backend, recorder, {cgroupOf});
  }

  if (options.serve) {
    // One tracer per view for the exporter and the TUI together.
    const shared = sharedBackend(backend);
    backend = shared;
    const {startExporter, ServeError} = await import('./exporter/index.js');
    const availability = await shared.available();
    const bpftrace = shared.id === 'bpftrace' ? parseBpftraceVersion(availability.version ?? '') : undefined;
    try {
      const exporter = await startExporter({
        serve: options.serve,
        backend: shared,
        info: {version: version(), backend: shared.id, bpftrace: bpftrace ? versionText(bpftrace) : ''},
        pid: options.pid,
        signal: controller.signal,
        // The TUI shows its own tab's tracer failures; lines on stderr would tear its frame.
        warn: options.serve.tui ? () => undefined : text => say(text),
      });
      if (!options.serve.tui) {
        say(exporter.describe);
        await exporter.done;
        return;
      }
    } catch (error) {
      if (error instanceof ServeError) fail(error.message);
      throw error;
    }
  }

  if (options.batch) {
    try {
      await runBatch(
        backend,
        options,
        {write: text => process.stdout.write(text), warn: text => say(text.replace(/^memtop: /, ''))},
        controller.signal,
        cgroupOf,
      );
    } catch (error) {
      if (error instanceof TracerError) fail(error.hint ? `${error.message}; ${error.hint}` : error.message);
      throw error;
    }
    controller.abort();
    recorder?.close();
    await stopAllTracers();
    return;
  }

  if (!timeline) {
    // The first tab's tracer compiles and attaches while Ink and the app load; the app takes it over.
    const first = initialState({tab: options.tab, view: options.view, intervalMs: options.intervalMs});
    backend = withHeadStart(backend, {tab: first.tab, pid: options.pid, intervalMs: first.intervalMs, view: first.view});
  }
  const [React, {render}, {App}] = await Promise.all([import('react').then(module => module.default), import('ink'), import('./app.js')]);
  const app = render(
    React.createElement(App, {
      backend,
      // A replay opens on the first tab it has, unless --tab says otherwise.
      tab: timeline && !options.tabGiven ? timeline.tabs[0] ?? options.tab : options.tab,
      intervalMs: options.intervalMs,
      limit: options.limit,
      pid: options.pid,
      comm: options.comm,
      cgroup: options.cgroup,
      cgroupOf,
      replay: timeline,
      replaySpeed: options.speed,
      recordingTo: options.record,
      view: options.view,
      minAge: options.minAge,
      sampleBytes: options.sampleBytes,
    }),
    {exitOnCtrlC: false},
  );
  await app.waitUntilExit();
  controller.abort();
  recorder?.close();
  await detach();
}

/** Stop every tracer, saying why a quit that takes a while (the kernel detaching uprobes) does not look hung. */
async function detach(): Promise<void> {
  // The kernel takes uprobes down one grace period at a time (the live view's 19: 2-3.5 s here).
  const detaching = setTimeout(() => process.stdout.write('memtop: detaching probes…\n'), 500);
  await stopAllTracers().finally(() => clearTimeout(detaching));
}

/**
 * memtop -- COMMAND in the TUI: COMMAND held until its tracer and the first tab's are attached,
 * its stdin /dev/null and its output to --output FILE or /dev/null (the TUI owns the terminal);
 * the tabs show only its processes, its summary replaces the table at its exit until q. Resolves
 * with COMMAND's exit status (127, 126 when it cannot start; 1 when the tracer cannot).
 */
async function runCommandTui(options: Options, tableBackend: Backend, controller: AbortController, cgroupOf: (pid: number) => string | undefined): Promise<number> {
  let backend = tableBackend;
  let session: CommandSession;
  // Ink and React load while COMMAND is held.
  const loading = Promise.all([import('react').then(module => module.default), import('ink'), import('./app.js')]);
  loading.catch(() => undefined);
  const first = initialState({tab: options.tab, view: options.view, intervalMs: options.intervalMs});
  const problem = options.pprof === undefined ? undefined : exitProfileProblem(options.pprof);
  if (problem) {
    say(problem);
    return 2;
  }
  try {
    session = await startCommandSession({
      command: options.command!,
      user: options.user,
      ...(options.output !== undefined ? {output: options.output} : {}),
      intervalMs: Math.min(options.intervalMs, 500),
      signal: controller.signal,
      onHeld: () => say(`holding ${options.command!.join(' ')} until its probes are attached…`),
      ...(options.pprof !== undefined ? {pprof: options.pprof} : {}),
      // The first tab's tracer attaches too before COMMAND runs, to see it from its start.
      beforeRelease: () =>
        new Promise<void>(resolve => {
          backend = withHeadStart(backend, {tab: first.tab, intervalMs: first.intervalMs, view: first.view}, 15_000, resolve);
        }),
    });
  } catch (error) {
    if (error instanceof CommandError) {
      say(error.message);
      return error.status;
    }
    if (error instanceof TracerError) {
      say(error.hint ? `${error.message}; ${error.hint}` : error.message);
      return 1;
    }
    throw error;
  }
  // The TUI owns COMMAND: whatever way memtop leaves, COMMAND does not stay behind.
  process.on('exit', () => session.kill('SIGKILL'));
  // A signal sent to memtop goes to COMMAND, and memtop leaves once COMMAND has exited (nobody may be at the terminal to press q).
  const signalled = new Promise<void>(resolve => {
    passSignal = received => {
      session.kill(received);
      resolve();
      return true;
    };
  });
  const [React, {render}, {App}] = await loading;
  const app = render(
    React.createElement(App, {
      backend,
      tab: options.tab,
      intervalMs: options.intervalMs,
      limit: options.limit,
      comm: options.comm,
      cgroup: options.cgroup,
      cgroupOf,
      view: options.view,
      minAge: options.minAge,
      sampleBytes: options.sampleBytes,
      command: session,
    }),
    {exitOnCtrlC: false},
  );
  await Promise.race([app.waitUntilExit(), signalled.then(async () => session.exited)]);
  app.unmount();
  const status = await session.exited;
  passSignal = undefined;
  controller.abort();
  await detach();
  return status;
}

main().catch(error => {
  killAllTracers();
  const message = error instanceof Error ? error.message : String(error);
  fail(`internal error: ${message.split('\n')[0]}`, 70);
});
