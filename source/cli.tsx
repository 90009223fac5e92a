#!/usr/bin/env node
// memtop's entry point: parse flags, run the preflight checks, then batch mode or the TUI, and
// make sure no tracer outlives this process however it ends.
import {existsSync, readFileSync} from 'node:fs';
import {HELP, parseFlags, UsageError, type Options} from './flags.js';
import {runBatch} from './batch.js';
import {selectBackend} from './backends/index.js';
import {killAllTracers, stopAllTracers} from './backends/tracer-process.js';
import {blockingFailure, btfCheck, formatChecks, runChecks} from './check.js';
import {TracerError} from './types.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version?: string};
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Print one line and leave with a non-zero code; tracers are killed by the exit hook. */
function fail(message: string, code = 1): never {
  process.stderr.write(`memtop: ${message}\n`);
  process.exit(code);
}

function installExitHooks(controller: AbortController): void {
  // Synchronous last resort: whatever path leads out, SIGKILL every tracer child.
  process.on('exit', killAllTracers);
  const onSignal = (signal: NodeJS.Signals) => {
    controller.abort();
    // 128 + signal number, as a shell reports a death by signal.
    const codes: Partial<Record<NodeJS.Signals, number>> = {SIGINT: 130, SIGTERM: 143, SIGHUP: 129};
    void stopAllTracers().finally(() => process.exit(codes[signal] ?? 1));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  const onCrash = (error: unknown) => {
    controller.abort();
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`memtop: internal error: ${message.split('\n')[0]}\n`);
    void stopAllTracers().finally(() => process.exit(70));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  // A reader that went away (memtop --batch | head -1) ends batch mode quietly, tracers first.
  process.stdout.on('error', error => {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') return onCrash(error);
    controller.abort();
    void stopAllTracers().finally(() => process.exit(0));
  });
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
  if (!options.batch && !(process.stdout.isTTY && process.stdin.isTTY)) {
    fail('the TUI needs a terminal; for pipes and scripts use --batch (add --json for JSON lines)', 2);
  }
  if (options.pid !== undefined && !existsSync(`/proc/${options.pid}`)) {
    fail(`no process with PID ${options.pid}: pick a running process (see ps -e)`, 2);
  }
  const blocking = blockingFailure();
  if (blocking) fail(blocking);

  const controller = new AbortController();
  installExitHooks(controller);
  // Ink and React take a while to load: only the TUI needs them, and they load while the
  // tracer is being checked.
  const tui = options.batch ? undefined : Promise.all([import('react'), import('ink'), import('./app.js')]);
  let backend;
  try {
    backend = await selectBackend(options.backend);
  } catch (error) {
    if (error instanceof TracerError) fail(error.hint ? `${error.message}; ${error.hint}` : error.message);
    throw error;
  }
  if (backend.id === 'bpftrace') {
    const btf = btfCheck();
    if (!btf.ok) fail(`BTF: ${btf.detail}; fix: ${btf.fix}`);
  }

  if (options.batch) {
    try {
      await runBatch(
        backend,
        options,
        {write: text => process.stdout.write(text), warn: text => process.stderr.write(text + '\n')},
        controller.signal,
      );
    } catch (error) {
      if (error instanceof TracerError) fail(error.hint ? `${error.message}; ${error.hint}` : error.message);
      throw error;
    }
    controller.abort();
    await stopAllTracers();
    return;
  }

  const [React, {render}, {App}] = await tui!;
  const app = render(
    React.createElement(App, {backend, tab: options.tab, intervalMs: options.intervalMs, limit: options.limit, pid: options.pid, comm: options.comm}),
    {exitOnCtrlC: false},
  );
  await app.waitUntilExit();
  controller.abort();
  await stopAllTracers();
}

main().catch(error => {
  killAllTracers();
  const message = error instanceof Error ? error.message : String(error);
  fail(`internal error: ${message.split('\n')[0]}`, 70);
});
