// go tool pprof, the reader nobody here wrote that memtop's profiles are checked with: run with a
// home and temporary directory of its own and no network.
import {join} from 'node:path';
import assert from 'node:assert/strict';
import type {TestContext} from 'node:test';
import {execa} from 'execa';
import {cannotRun} from './requirements.js';
import {WORKLOAD_BIN_DIR} from './workloads.js';

/** The environment go tool pprof runs with in `dir`: Go's build cache beside the workloads, per system. */
function goEnv(dir: string): Record<string, string> {
  return {HOME: join(dir, 'go-home'), PPROF_TMPDIR: join(dir, 'pprof-tmp'), GOCACHE: join(WORKLOAD_BIN_DIR, 'go-cache'), GOTOOLCHAIN: 'local', GOPROXY: 'off', GOFLAGS: ''};
}

/**
 * go tool pprof `args` in `dir`; its stdout. Go 1.24 on ships pprof as source that `go tool`
 * builds on first use (minutes on a loaded machine): cannotRunPprof builds it first.
 */
export async function pprof(dir: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const result = await execa('go', ['tool', 'pprof', ...args], {cwd: dir, env: goEnv(dir), reject: false, timeout: timeoutMs});
  assert.equal(result.exitCode, 0, `go tool pprof ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Whether go tool pprof cannot run here (then the test skips; under CI its absence fails it). */
export async function cannotRunPprof(t: TestContext, dir: string): Promise<boolean> {
  const go = await execa('go', ['version'], {reject: false});
  if (cannotRun(t, go.exitCode === 0 ? undefined : 'needs go tool pprof (apt-get install golang-go)')) return true;
  // Built (if it must be) before any tracer starts. -h exits 2 after printing its usage.
  await execa('go', ['tool', 'pprof', '-h'], {cwd: dir, env: goEnv(dir), reject: false, timeout: 900_000});
  return false;
}

/** The rows of go tool pprof -top: flat, flat%, sum%, cum, cum%, and the function's name. */
export function topRows(text: string): {flat: string; name: string}[] {
  return text
    .split('\n')
    .filter(line => /^\s*[\d.]+\w*\s+[\d.]+%/.test(line))
    .map(line => {
      const fields = line.trim().split(/\s+/);
      return {flat: fields[0]!, name: fields.at(-1)!};
    });
}
