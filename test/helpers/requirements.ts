// What the end-to-end tests need (root, bpftrace, a built CLI), and the rule for when it is
// missing: under CI a test that cannot run fails; elsewhere it is skipped with the reason.
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import type {TestContext} from 'node:test';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

function missing(): string | undefined {
  if (process.geteuid?.() !== 0) return 'needs root';
  if (!['/usr/bin/bpftrace', '/usr/local/bin/bpftrace', '/usr/sbin/bpftrace'].some(file => existsSync(file))) return 'needs bpftrace';
  if (!existsSync(CLI)) return 'needs a built CLI (npm run build)';
  return undefined;
}

/** Returns true when the test must stop (skipped); fails the test instead under CI. */
export function cannotRun(t: TestContext, also?: string): boolean {
  return stop(t, missing() ?? also);
}

/**
 * For tests of what memtop says before it traces anything (a bad flag, a missing recording):
 * they need the built CLI only, not root or bpftrace, and run wherever it is built.
 */
export function cannotRunCli(t: TestContext): boolean {
  return stop(t, existsSync(CLI) ? undefined : 'needs a built CLI (npm run build)');
}

function stop(t: TestContext, reason: string | undefined): boolean {
  if (!reason) return false;
  if (IN_CI) assert.fail(`cannot run under CI: ${reason}`);
  t.skip(reason);
  return true;
}
