// Parses every probes/stap/*.stp and the tapset they share with the real SystemTap parser (stap -p1) against the stub
// kernel build tree in test/fixtures/stap-build, so that a syntax error fails the build. Both
// sides of the scripts' kernel-version conditionals are parsed (a 6.x and a 5.x release).
// Without stap this skips, except under CI=true, where it fails.
import assert from 'node:assert/strict';
import {execa} from 'execa';
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, test} from 'node:test';
import {stapPath} from '../source/backends/systemtap.js';

const PROBES = fileURLToPath(new URL('../probes/stap/', import.meta.url));
const STUB = fileURLToPath(new URL('fixtures/stap-build/', import.meta.url));
const TAPSET = path.join(PROBES, 'tapset');
const SCRIPTS = readdirSync(PROBES).filter(file => file.endsWith('.stp')).sort();
const CI = process.env.CI === 'true';
const stap = stapPath();
const skip = stap ? false : 'stap is not installed';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'memtop-stap-syntax-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

/** The stub build tree, as given, and a copy that says it is an older kernel. */
const OLD_STUB = path.join(scratch, 'stap-build-5.10');
cpSync(STUB, OLD_STUB, {recursive: true});
writeFileSync(path.join(OLD_STUB, 'include/config/kernel.release'), '5.10.0-memtop-stub\n');
const BUILD_TREES = [STUB.replace(/\/$/, ''), OLD_STUB];

/**
 * Script arguments: $1 interval, $2 pid, and @3 a libc path where the script takes one; a cache's
 * drill-down takes @2 the cache's name and $3 its size class instead.
 */
function scriptArguments(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  if (/@2\b/.test(text)) return ['1000', 'filp', '0'];
  const args = ['1000', '1234'];
  if (/@3\b/.test(text)) args.push('/lib/x86_64-linux-gnu/libc.so.6');
  if (/\$4\b/.test(text)) args.push('0');
  return args;
}

async function parseOnly(file: string, buildTree: string, tapset = TAPSET) {
  return execa(stap!, ['-p1', '-r', buildTree, '-I', tapset, file, ...scriptArguments(file)], {reject: false, timeout: 60_000});
}

test('stap is installed (required under CI=true)', {skip: CI ? false : skip}, () => {
  assert.ok(stap, 'CI=true and stap is not installed: apt-get install -y systemtap');
});

test('there are stap scripts to check', () => {
  assert.ok(SCRIPTS.length >= 10, `expected one script per tab and drill-down, found ${SCRIPTS.join(', ')}`);
});

for (const script of SCRIPTS) {
  test(`stap -p1 parses probes/stap/${script}`, {skip: CI ? false : skip}, async () => {
    for (const buildTree of BUILD_TREES) {
      const result = await parseOnly(path.join(PROBES, script), buildTree);
      assert.equal(result.exitCode, 0, `${script} against ${path.basename(buildTree)}:\n${result.stderr}`);
      // A parse error in the tapset (probes/stap/tapset) is reported, but does not fail pass 1.
      assert.doesNotMatch(result.stderr, /parse error/, `${script} against ${path.basename(buildTree)}:\n${result.stderr}`);
      assert.match(result.stdout, /^# parse tree dump/m);
    }
  });
}

test('a syntax error in the shared tapset is caught (the check above can fail)', {skip: CI ? false : skip}, async () => {
  const tapset = path.join(scratch, 'tapset');
  cpSync(TAPSET, tapset, {recursive: true});
  const file = path.join(tapset, 'memtop.stp');
  writeFileSync(file, readFileSync(file, 'utf8').replace('function memtop_end(keys:long, capped:long) {', 'function memtop_end(keys:long, capped:long) {\n\tif (keys > {'));
  const result = await parseOnly(path.join(PROBES, 'brk.stp'), BUILD_TREES[0]!, tapset);
  assert.match(result.stderr, /parse error/);
});

test('a syntax error makes stap -p1 fail (the check above can fail)', {skip: CI ? false : skip}, async () => {
  const original = readFileSync(path.join(PROBES, 'majfault.stp'), 'utf8');
  const broken = path.join(scratch, 'broken.stp');
  writeFileSync(broken, original.replace('probe timer.ms($1) {', 'probe timer.ms($1) {\n\tif (keys > {'));
  const result = await parseOnly(broken, BUILD_TREES[0]!);
  assert.notEqual(result.exitCode, 0);
  assert.match(result.stderr, /parse error/);
});
