// Why frames are unnamed, purely: which file or JIT region each hex frame falls in, the notes and
// their order, the perf map, CPython, and /proc/PID/maps' executable mappings.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {frameNotes, isPython, type FrameFacts} from '../source/model/frame-notes.js';
import {parseCodeMappings} from '../source/system/frame-facts.js';
import {stackText, stacksJson} from '../source/model/batch-output.js';
import type {TracerStackSnapshot} from '../source/types.js';

const MAPS = [
  '55d0a0000000-55d0a0001000 r--p 00000000 fe:00 1001 /opt/app/stripped',
  '55d0a0001000-55d0a0002000 r-xp 00001000 fe:00 1001 /opt/app/stripped',
  '7f0000000000-7f0000100000 rwxp 00000000 00:00 0 ',
  '7f1000000000-7f1000200000 r-xp 00026000 fe:00 2002 /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f2000000000-7f2000001000 r-xp 00000000 fe:00 3003 /usr/bin/app (deleted)',
  '7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]',
  '7fffffffe000-7ffffffff000 --xp 00000000 00:00 0 [uprobes]',
].join('\n');

function facts(overrides: Partial<FrameFacts> = {}): FrameFacts {
  return {
    code: parseCodeMappings(MAPS),
    hasSymbols: file => file !== '/opt/app/stripped',
    exe: '/opt/app/stripped',
    ...overrides,
  };
}

describe('parseCodeMappings', () => {
  it('keeps executable mappings: files with their device:inode, anonymous ones as JIT code; not [vdso] or non-executable ones', () => {
    assert.deepEqual(parseCodeMappings(MAPS), [
      {low: 0x55d0a0001000n, high: 0x55d0a0002000n, file: '/opt/app/stripped', id: 'fe:00:1001'},
      {low: 0x7f0000000000n, high: 0x7f0000100000n},
      {low: 0x7f1000000000n, high: 0x7f1000200000n, file: '/usr/lib/x86_64-linux-gnu/libc.so.6', id: 'fe:00:2002'},
      {low: 0x7f2000000000n, high: 0x7f2000001000n, file: '/usr/bin/app', id: 'fe:00:3003'},
    ]);
  });
});

describe('frameNotes', () => {
  it('says a stripped file has no symbols, counting each unnamed address once', () => {
    const stacks = [
      {frames: ['malloc', '0x55d0a0001010', '0x55d0a0001020', 'main']},
      {frames: ['malloc', '0x55d0a0001010', '__libc_start_call_main']},
    ];
    const notes = frameNotes('malloc', stacks, facts());
    assert.equal(notes.length, 1);
    assert.deepEqual({...notes[0], text: undefined}, {reason: 'no-symbols', file: '/opt/app/stripped', frames: 2, text: undefined});
    assert.match(notes[0]!.text, /^2 frames unnamed in \/opt\/app\/stripped: it has no symbols \(stripped\)/);
  });

  it('says nothing when every frame is named', () => {
    assert.deepEqual(frameNotes('brk', [{frames: ['brk', 'sbrk', 'main']}], facts()), []);
  });

  it('a frame in a file with symbols that the tracer still left unnamed is "unresolved"', () => {
    const [note] = frameNotes('malloc', [{frames: ['0x7f1000000100']}], facts());
    assert.equal(note!.reason, 'unresolved');
    assert.match(note!.text, /^1 frame unnamed in \/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6, which has symbols/);
  });

  it('a file it cannot read gets no note; an address in no executable mapping gets none either', () => {
    assert.deepEqual(frameNotes('malloc', [{frames: ['0x55d0a0001010', '0x10000', 'main']}], facts({hasSymbols: () => undefined})), []);
  });

  it('JIT code: node is told about --perf-basic-prof, another runtime about the perf map convention', () => {
    const stacks = [{frames: ['malloc', '0x7f0000000010', '0x7f0000000020']}];
    const [node] = frameNotes('malloc', stacks, facts({exe: '/usr/bin/node'}));
    assert.deepEqual({reason: node!.reason, frames: node!.frames}, {reason: 'jit', frames: 2});
    assert.match(node!.text, /start node with --perf-basic-prof/);
    const [other] = frameNotes('malloc', stacks, facts({exe: '/usr/lib/jvm/bin/java'}));
    assert.match(other!.text, /writes \/tmp\/perf-PID\.map \(the perf map convention/);
  });

  it('with a perf map, says the JIT frames are named from it, and how many are not in it', () => {
    const named = frameNotes('malloc', [{frames: ['JS:^leak /app.js:2:17', 'node::Start(int, char**)', '__libc_start_call_main']}], facts({exe: '/usr/bin/node', perfMap: '/tmp/perf-7.map'}));
    assert.deepEqual(named, [{reason: 'perf-map', file: '/tmp/perf-7.map', text: "JIT frames are named from the process's perf map, /tmp/perf-7.map"}]);
    const [note] = frameNotes('malloc', [{frames: ['0x7f0000000010', 'main']}], facts({exe: '/usr/bin/node', perfMap: '/tmp/perf-7.map'}));
    assert.match(note!.text, /\(1 frame not in it yet\)$/);
  });

  it('most events\' stacks ending before main or a thread\'s start: frame pointers, naming the frame most end at', () => {
    const stacks = [
      {count: 60, frames: ['malloc', '_PyObject_Malloc']},
      {count: 10, frames: ['malloc', 'PyMem_RawMalloc']},
      {count: 30, frames: ['malloc', 'wl_leaf', 'main', '__libc_start_call_main']},
    ];
    const [note] = frameNotes('malloc', stacks, facts());
    assert.deepEqual({reason: note!.reason, frame: note!.frame}, {reason: 'short-stacks', frame: '_PyObject_Malloc'});
    assert.match(note!.text, /^70% of stacks end before main or a thread's start, most with _PyObject_Malloc as their outermost frame: code built without frame pointers/);
    // Under half the events: no note; a thread's stacks and Go's end at their roots; a stack as deep as the tracer's limit is not short.
    assert.deepEqual(frameNotes('malloc', [{count: 40, frames: ['malloc', 'f']}, {count: 60, frames: ['malloc', 'main']}], facts()), []);
    assert.deepEqual(frameNotes('malloc', [{frames: ['malloc', 'worker', 'start_thread', 'clone3']}, {frames: ['runtime.mallocgc', 'main.main', 'runtime.main', 'runtime.goexit.abi0']}], facts()), []);
    assert.deepEqual(frameNotes('malloc', [{frames: Array.from({length: 127}, (_, index) => `f${index}`)}], facts()), []);
  });

  it('CPython on the malloc tab: its pools, PYTHONMALLOC and the growth tab; not on other tabs', () => {
    const stacks = [{frames: ['malloc', 'main']}];
    const [note] = frameNotes('malloc', stacks, facts({exe: '/usr/bin/python3.11'}));
    assert.equal(note!.reason, 'python');
    assert.match(note!.text, /512 bytes or less.*PYTHONMALLOC=malloc.*growth tab \(8\)/);
    assert.deepEqual(frameNotes('majfault', stacks, facts({exe: '/usr/bin/python3.11'})), []);
    assert.deepEqual(['python3', 'python3.13', 'python3.13d', 'python', 'pythonista', 'mypython3'].map(name => isPython(`/usr/bin/${name}`)), [true, true, true, true, false, false]);
  });

  it('a file name with control characters reaches the text as ?', () => {
    const maps = '55d0a0001000-55d0a0002000 r-xp 00001000 fe:00 1001 /tmp/\u001b[2Jevil';
    const [note] = frameNotes('malloc', [{frames: ['0x55d0a0001010']}], {code: parseCodeMappings(maps), hasSymbols: () => false});
    assert.equal(note!.file, '/tmp/\u001b[2Jevil');
    assert.doesNotMatch(note!.text, /\u001b/);
  });
});

describe('batch output of frame notes', () => {
  const snapshot: TracerStackSnapshot = {
    tab: 'malloc',
    backend: 'bpftrace',
    probe: 'uprobe:malloc',
    pid: 42,
    time: '2026-12-06T00:00:00.000Z',
    elapsedMs: 1000,
    stacks: [{count: 3, bytes: 96, frames: ['malloc', '0x55d0a0001010']}],
    frameNotes: [{reason: 'no-symbols', file: '/opt/app/stripped', frames: 1, text: '1 frame unnamed in /opt/app/stripped: it has no symbols (stripped)'}],
  };

  it('text has a note line before the stacks; JSON has the notes', () => {
    const text = stackText(snapshot, 'app', 10, 0);
    const lines = text.split('\n');
    assert.ok(lines.indexOf('note: 1 frame unnamed in /opt/app/stripped: it has no symbols (stripped)') < lines.indexOf('    0x55d0a0001010'), text);
    assert.deepEqual(stacksJson(snapshot, {pid: 42, comm: 'app'}, 10, 0).frameNotes, snapshot.frameNotes);
  });
});
