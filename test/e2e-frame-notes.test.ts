// End-to-end, why frames are unnamed (issue 29 item 4): the real memtop's malloc drill-down of a
// stripped copy of a workload says that file has no symbols, and names the frames of the same
// binary unstripped; node's JIT frames are hex with a note pointing at --perf-basic-prof, and are
// named from its perf map when node runs with it; CPython's drill-down says its small objects do
// not reach malloc, and why its stacks stop inside the interpreter (no frame pointers). The TUI's
// stack view shows the same notes.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {copyFileSync, mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {childTracker, startLineChild, type LineChild} from './helpers/child-lines.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {startMemtopTerminal} from './helpers/memtop-terminal.js';
import {buildWorkload} from './helpers/workloads.js';

const RUNTIMES = fileURLToPath(new URL('fixtures/runtimes/', import.meta.url));
const HEX = /^0x[0-9a-f]+$/i;

const children = childTracker();
const track = <T extends LineChild>(child: T): T => children.track(child);
const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-frame-notes-'));
after(async () => {
  await children.stopAll();
  rmSync(directory, {recursive: true, force: true});
});

interface Note {
  reason: string;
  file?: string;
  frames?: number;
  text: string;
}

interface Drill {
  pid: number;
  stacks: {count: number; frames: string[]}[];
  frameNotes?: Note[];
}

/** memtop's malloc drill-down of one process in batch JSON: its first interval with stacks (that `wanted` holds, when given). */
async function drill(pid: number, wanted: (snapshot: Drill) => boolean = () => true, what = 'an interval with stacks'): Promise<Drill> {
  const memtop = track(
    startLineChild(process.execPath, [CLI, '--batch', '--json', '--tab', 'malloc', '--pid', String(pid), '--stacks', '--interval', '1000', '--iterations', '30'], {
      what: `memtop --stacks --pid ${pid}`,
    }),
  );
  try {
    return (await memtop.waitForRecord(record => Array.isArray(record.stacks) && record.stacks.length > 0 && wanted(record as unknown as Drill), what, 60_000)) as unknown as Drill;
  } finally {
    await memtop.stop('SIGINT', 10_000);
  }
}

/** Start a program that prints a ready line; resolves once it has. */
async function startReady(file: string, args: string[], what: string, env?: Record<string, string>): Promise<LineChild> {
  const child = track(startLineChild(file, args, {what, ...(env ? {env} : {})}));
  await child.waitForRecord(record => record.phase === 'ready' || record.phase === 'start', 'its ready line', 30_000);
  return child;
}

function notesOf(snapshot: Drill, reason: string): Note[] {
  return (snapshot.frameNotes ?? []).filter(note => note.reason === reason);
}

function hexFrames(snapshot: Drill): number {
  return new Set(snapshot.stacks.flatMap(stack => stack.frames.filter(frame => HEX.test(frame)))).size;
}

/** Whether an ELF file has a .symtab section, as readelf (not memtop) reads it. */
function readelfHasSymtab(file: string): boolean {
  return /\]\s+\.symtab\s/.test(execFileSync('readelf', ['-S', '-W', file], {encoding: 'utf8'}));
}

describe('why frames are unnamed', {timeout: 300_000}, () => {
  it('a stripped binary\'s stacks say it has no symbols; the same binary unstripped is named, with no note', async t => {
    if (cannotRun(t)) return;
    const original = await buildWorkload('wl_malloc');
    const stripped = path.join(directory, 'wl_stripped');
    copyFileSync(original, stripped);
    execFileSync('strip', [stripped]);
    assert.equal(readelfHasSymtab(stripped), false, 'strip left a .symtab');

    const bare = await startReady(stripped, ['2000', '60', '0'], 'wl_stripped');
    const named = await startReady(original, ['2000', '60', '0'], 'wl_malloc');
    const [bareDrill, namedDrill] = await Promise.all([drill(bare.pid), drill(named.pid)]);

    const [note] = notesOf(bareDrill, 'no-symbols');
    assert.ok(note, `a no-symbols note: ${JSON.stringify(bareDrill.frameNotes)}`);
    assert.equal(note.file, stripped);
    assert.ok(note.frames! >= 1 && note.frames! <= hexFrames(bareDrill), `${note.frames} frames of ${hexFrames(bareDrill)} unnamed`);
    assert.match(note.text, /no symbols \(stripped\).*-dbgsym/);
    t.diagnostic(note.text);

    assert.ok(namedDrill.stacks.some(stack => stack.frames.includes('wl_leaf_malloc')), JSON.stringify(namedDrill.stacks[0]));
    assert.deepEqual(notesOf(namedDrill, 'no-symbols').filter(each => each.file === original), []);

    // The TUI's stack view says the same, under the entry points, above the stacks.
    const terminal = startMemtopTerminal(['--tab', 'malloc', '--pid', String(bare.pid), '--interval', '1000'], {columns: 180, rows: 40, env: {LANG: 'C.UTF-8'}});
    try {
      // The workload names itself wl_malloc (prctl), whichever file it runs from.
      await terminal.waitFor(screen => new RegExp(`^\\s*${bare.pid}\\s+wl_malloc\\s`, 'm').test(screen), 'the stripped process\'s row', 60_000);
      terminal.keys('Enter');
      const screen = await terminal.waitFor(text => /frames? unnamed in \S*wl_stripped: it has no symbols \(stripped\)/.test(text), 'the no-symbols note in the stack view', 60_000);
      assert.match(screen, /STACK \(innermost first\)/);
    } finally {
      await terminal.close();
    }
  });

  it('node\'s JIT frames point at --perf-basic-prof, and are named from its perf map with it', async t => {
    if (cannotRun(t)) return;
    const script = path.join(RUNTIMES, 'alloc-buffers.js');
    const plain = await startReady(process.execPath, [script, '60'], 'node alloc-buffers.js');
    const mapped = await startReady(process.execPath, ['--perf-basic-prof', script, '60'], 'node --perf-basic-prof alloc-buffers.js');
    // V8 names a function in its perf map once it compiles it (Sparkplug or TurboFan); until then
    // it runs in the interpreter, whose frames are the interpreter's own. Under load that can take
    // past the first interval, so the mapped drill-down waits for an interval with the function.
    const jsFrame = (snapshot: Drill) => snapshot.stacks.some(stack => stack.frames.some(frame => /^JS:.*alloc-buffers\.js/.test(frame)));
    const [plainDrill, mappedDrill] = await Promise.all([drill(plain.pid), drill(mapped.pid, jsFrame, 'an interval with a JS frame of alloc-buffers.js')]);

    const [jit] = notesOf(plainDrill, 'jit');
    assert.ok(jit, `a jit note: ${JSON.stringify(plainDrill.frameNotes)}`);
    assert.match(jit.text, /unnamed in JIT code: start node with --perf-basic-prof/);
    assert.ok(!plainDrill.stacks.some(stack => stack.frames.some(frame => frame.startsWith('JS:'))), 'no JS frames without the perf map');
    t.diagnostic(jit.text);

    const [perfMap] = notesOf(mappedDrill, 'perf-map');
    assert.ok(perfMap, `a perf-map note: ${JSON.stringify(mappedDrill.frameNotes)}`);
    assert.match(perfMap.file ?? '', /^\/tmp\/perf-\d+\.map$/);
    t.diagnostic(perfMap.text);
  });

  it('CPython\'s drill-down says its small objects bypass malloc, and why its stacks end early', async t => {
    if (cannotRun(t)) return;
    const python = await startReady('/usr/bin/python3', [path.join(RUNTIMES, 'alloc-bytes.py'), '60'], 'python3 alloc-bytes.py');
    const snapshot = await drill(python.pid);
    const [pools] = notesOf(snapshot, 'python');
    assert.ok(pools, `a python note: ${JSON.stringify(snapshot.frameNotes)}`);
    assert.match(pools.text, /PYTHONMALLOC=malloc/);
    // Debian's interpreter is built without frame pointers: its stacks stop inside it, before
    // main. Counted here from the frames themselves; the note must follow.
    const events = snapshot.stacks.reduce((sum, stack) => sum + stack.count, 0);
    const whole = snapshot.stacks.filter(stack => stack.frames.some(frame => /^(main|Py_BytesMain|__libc_start_call_main|_start|start_thread|clone3?)$/.test(frame))).reduce((sum, stack) => sum + stack.count, 0);
    const short = notesOf(snapshot, 'short-stacks');
    if (whole * 2 <= events) {
      assert.equal(short.length, 1, `a short-stacks note (${events - whole} of ${events} events' stacks end early): ${JSON.stringify(snapshot.frameNotes)}`);
      assert.match(short[0]!.text, /built without frame pointers/);
    } else {
      assert.deepEqual(short, []);
    }
    t.diagnostic((snapshot.frameNotes ?? []).map(note => note.text).join(' | '));
  });
});
