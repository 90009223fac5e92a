// pprof profiles as memtop writes them, decoded with pprof-format (the library that wrote them
// cannot hide a field it never wrote: every field is checked), the drill-down profiles of
// requests and of live memory, and the ELF reader that names the binaries against a binary gcc
// built with a known build id.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, test} from 'node:test';
import {gunzipSync} from 'node:zlib';
import {execa} from 'execa';
import {Profile} from 'pprof-format';
import {buildProfile, DrillProfile, encodeProfile, StackTotals, type ProfileSource} from '../source/model/pprof.js';
import {buildIdInNotes, elfBuildId, elfFunctionNames, type ReadAt} from '../source/parse/elf-profile.js';
import {kernelBinaries, processBinaries} from '../source/system/binaries.js';
import type {TracerStackSnapshot} from '../source/types.js';

const dir = mkdtempSync(join(tmpdir(), 'memtop-unit-pprof-'));
after(() => rmSync(dir, {recursive: true, force: true}));

/** A profile decoded, with its strings and ids resolved. */
function decoded(data: Buffer) {
  const profile = Profile.decode(gunzipSync(data));
  const text = (index: number | bigint) => profile.stringTable.strings[Number(index)]!;
  const fn = (id: number | bigint) => profile.function.find(candidate => Number(candidate.id) === Number(id))!;
  const location = (id: number | bigint) => profile.location.find(candidate => Number(candidate.id) === Number(id))!;
  const stacks = profile.sample.map(sample => ({
    values: sample.value.map(Number),
    frames: sample.locationId.map(id => text(fn(location(id).line[0]!.functionId).name)),
    mappings: sample.locationId.map(id => Number(location(id).mappingId)),
  }));
  return {profile, text, stacks};
}

const SOURCE: ProfileSource = {
  types: {count: 'alloc_objects', bytes: 'alloc_space', drop: 'malloc|calloc'},
  stacks: [
    {count: 3, bytes: 300, frames: ['malloc', 'leaf', 'main']},
    {count: 1, bytes: 10, frames: ['malloc', 'other', 'main']},
    // The same stack again adds up; one with nothing in it is left out; an empty one is [unknown].
    {count: 2, bytes: 200, frames: ['malloc', 'leaf', 'main']},
    {count: 0, bytes: 0, frames: ['malloc', 'idle', 'main']},
    {count: 1, bytes: 1, frames: []},
    {count: 1.6, bytes: 2.4, frames: ['bad\u001b[31mname', 'main']},
  ],
  startMs: Date.UTC(2026, 11, 5, 8, 0, 0),
  durationMs: 2500.5,
  binaries: [
    {start: 0x1000n, limit: 0x2000n, offset: 0x1000n, file: '/usr/bin/app', buildId: 'abcdef0123'},
    {start: 0x7f00n, limit: 0x8f00n, offset: 0n, file: '/lib/libc.so.6'},
  ],
  binaryOf: frame => (frame === 'malloc' ? 1 : ['leaf', 'other', 'main'].includes(frame) ? 0 : undefined),
  comments: ['memtop test', 'second line'],
};

test('every field of a profile, decoded by pprof-format', () => {
  const {profile, text, stacks} = decoded(encodeProfile(SOURCE));
  assert.deepEqual(profile.sampleType.map(type => [text(type.type), text(type.unit)]), [['alloc_objects', 'count'], ['alloc_space', 'bytes']]);
  assert.equal(text(profile.defaultSampleType), 'alloc_space');
  assert.deepEqual([text(profile.periodType!.type), text(profile.periodType!.unit), Number(profile.period)], ['space', 'bytes', 1]);
  assert.equal(BigInt(profile.timeNanos), BigInt(SOURCE.startMs) * 1_000_000n);
  assert.equal(BigInt(profile.durationNanos), 2_500_500_000n);
  assert.equal(text(profile.dropFrames), 'malloc|calloc');
  assert.equal(Number(profile.keepFrames), 0);
  assert.deepEqual(profile.comment.map(text), ['memtop test', 'second line']);
  assert.deepEqual(
    stacks.map(stack => [stack.frames.join(';'), stack.values]),
    [
      ['malloc;leaf;main', [5, 500]],
      ['malloc;other;main', [1, 10]],
      ['[unknown]', [1, 1]],
      ['bad?[31mname;main', [2, 2]],
    ],
  );
  // Frames are in their binaries where known (mapping ids from 1), 0 where not.
  assert.deepEqual(stacks[0]!.mappings, [2, 1, 1]);
  assert.deepEqual(stacks[2]!.mappings, [0]);
  assert.deepEqual(
    profile.mapping.map(mapping => [Number(mapping.id), BigInt(mapping.memoryStart), BigInt(mapping.memoryLimit), BigInt(mapping.fileOffset), text(mapping.filename), text(mapping.buildId), mapping.hasFunctions, mapping.hasFilenames, mapping.hasLineNumbers, mapping.hasInlineFrames]),
    [
      [1, 0x1000n, 0x2000n, 0x1000n, '/usr/bin/app', 'abcdef0123', true, false, false, false],
      [2, 0x7f00n, 0x8f00n, 0n, '/lib/libc.so.6', '', true, false, false, false],
    ],
  );
  // One location per distinct frame and binary, one function per name, each named once in its system name too.
  assert.equal(profile.location.length, 6);
  assert.deepEqual(new Set(profile.location.map(location => location.line.length)), new Set([1]));
  assert.deepEqual(new Set(profile.location.map(location => Number(location.address))), new Set([0]));
  assert.deepEqual(profile.function.map(fn => text(fn.name)).sort(), ['[unknown]', 'bad?[31mname', 'leaf', 'main', 'malloc', 'other']);
  for (const fn of profile.function) assert.equal(text(fn.systemName), text(fn.name));
  assert.deepEqual(profile.location.map(location => Number(location.id)), [1, 2, 3, 4, 5, 6]);
});

test('a sampled live profile carries its rate as the period, as Go\'s heap profile does; no drop frames when none are named', () => {
  const {profile, text} = decoded(encodeProfile({...SOURCE, types: {count: 'inuse_objects', bytes: 'inuse_space'}, sampleBytes: 524288, binaries: undefined, binaryOf: undefined}));
  assert.equal(Number(profile.period), 524288);
  assert.equal(text(profile.defaultSampleType), 'inuse_space');
  assert.equal(Number(profile.dropFrames), 0);
  assert.equal(profile.mapping.length, 0);
  assert.ok(profile.location.every(location => Number(location.mappingId) === 0));
});

test('an empty profile is still a profile', () => {
  const profile = buildProfile({...SOURCE, stacks: []});
  assert.equal(Profile.decode(profile.encode()).sample.length, 0);
});

test('StackTotals adds a requests drill-down\'s intervals up by stack', () => {
  const totals = new StackTotals();
  totals.add([{count: 1, bytes: 10, frames: ['a', 'main']}], 10_000, 1000);
  totals.add([{count: 2, bytes: 20, frames: ['a', 'main']}, {count: 5, frames: ['b', 'main']}], 11_000, 1000);
  assert.equal(totals.startMs, 9000);
  assert.equal(totals.durationMs, 2000);
  assert.deepEqual(totals.stacks(), [{count: 3, bytes: 30, frames: ['a', 'main']}, {count: 5, bytes: 0, frames: ['b', 'main']}]);
});

function requests(time: string, stacks: TracerStackSnapshot['stacks']): TracerStackSnapshot {
  return {tab: 'malloc', backend: 'bpftrace', probe: 'uprobe:libc:malloc ustack', pid: 42, comm: 'app\u0007', time, elapsedMs: 1000, stacks};
}

test('DrillProfile: requests summed over every interval, live memory as of the last, older than min-age', () => {
  const profile = new DrillProfile({count: 'alloc_objects', bytes: 'alloc_space'});
  assert.equal(profile.source(), undefined);
  profile.add(requests('2026-12-05T08:00:01.000Z', [{count: 1, bytes: 100, frames: ['malloc', 'keep', 'main']}]));
  profile.add(requests('2026-12-05T08:00:02.000Z', [{count: 4, bytes: 40, frames: ['malloc', 'churn', 'main']}, {count: 1, bytes: 100, frames: ['malloc', 'keep', 'main']}]));
  const source = profile.source()!;
  assert.equal(source.startMs, Date.parse('2026-12-05T08:00:00.000Z'));
  assert.equal(source.durationMs, 2000);
  assert.deepEqual(source.stacks.map(stack => [stack.frames[1], stack.count, stack.bytes]), [['keep', 2, 200], ['churn', 4, 40]]);
  assert.match(source.comments![0]!, /^memtop malloc stacks of PID 42 \(app\?\) · uprobe:libc:malloc ustack$/);

  const live = new DrillProfile({count: 'inuse_objects', bytes: 'inuse_space'}, 5);
  live.add({
    ...requests('2026-12-05T08:00:30.000Z', [
      {count: 0, frames: ['keep', 'main'], classes: [{count: 10, bytes: 1000}, {count: 1, bytes: 100}]},
      {count: 0, frames: ['churn', 'main'], classes: [{count: 0, bytes: 0}, {count: 3, bytes: 30}]},
    ]),
    view: 'live',
    live: {since: '2026-12-05T08:00:00.000Z', classes: [{oldest: 20, newest: 10}, {oldest: 1, newest: 0}], totals: [{count: 10, bytes: 1000}, {count: 4, bytes: 130}], sampleBytes: 4096, untracked: 2},
  });
  const outstanding = live.source()!;
  assert.deepEqual(outstanding.stacks.map(stack => [stack.frames[0], stack.count, stack.bytes]), [['keep', 10, 1000]]);
  assert.equal(outstanding.sampleBytes, 4096);
  assert.equal(outstanding.durationMs, 30_000);
  assert.ok(outstanding.comments!.some(line => /1000 bytes in 10 allocations \(exact\)/.test(line) && /at least 5 s old/.test(line)));
  assert.ok(outstanding.comments!.some(line => /one per about 4096 bytes/.test(line)));
  assert.ok(outstanding.comments!.some(line => /2 allocations could not be tracked/.test(line)));
});

test('ELF: build id from the notes and the functions defined, of a binary gcc built with a known id; not ELF is nothing', async () => {
  const source = join(dir, 'known.c');
  const binary = join(dir, 'known');
  writeFileSync(source, 'static int __attribute__((noinline)) helper(int x) { return x * 3; }\nint main(int argc, char **argv) { (void)argv; return helper(argc) == 3 ? 0 : 1; }\n');
  await execa('gcc', ['-O1', '-Wl,--build-id=0x0123456789abcdef', '-o', binary, source]);
  const bytes = readFileSync(binary);
  const read: ReadAt = (offset, length) => bytes.subarray(offset, offset + length);
  assert.equal(elfBuildId(read), '0123456789abcdef');
  const names = elfFunctionNames(read);
  assert.ok(names.has('main') && names.has('helper'), [...names].join(' '));
  assert.ok(!names.has('') && !names.has('known.c'));
  const text: ReadAt = (offset, length) => Buffer.from('#!/bin/sh\necho not an ELF file, just text long enough for a header\n').subarray(offset, offset + length);
  assert.equal(elfBuildId(text), undefined);
  assert.equal(elfFunctionNames(text).size, 0);
  // A running process (this one): the program first, with its build id; malloc in libc.
  const self = processBinaries(process.pid);
  assert.match(self.binaries[0]!.file, /node/);
  assert.ok(self.binaries[0]!.start < self.binaries[0]!.limit);
  const libc = self.binaryOf('malloc');
  assert.ok(libc !== undefined && /libc\.so/.test(self.binaries[libc]!.file), `malloc in ${libc === undefined ? 'nothing' : self.binaries[libc]!.file}`);
  assert.deepEqual(processBinaries(4_194_305).binaries, [], 'a process that is not there has none');
});

test('ELF notes: a big-endian GNU build id note after another note; a cut note is nothing', () => {
  const note = (name: string, type: number, desc: Buffer) => {
    const nameBytes = Buffer.from(`${name}\0`);
    const pad = (buffer: Buffer) => Buffer.concat([buffer, Buffer.alloc((4 - (buffer.length % 4)) % 4)]);
    const head = Buffer.alloc(12);
    head.writeUInt32BE(nameBytes.length, 0);
    head.writeUInt32BE(desc.length, 4);
    head.writeUInt32BE(type, 8);
    return Buffer.concat([head, pad(nameBytes), pad(desc)]);
  };
  const notes = Buffer.concat([note('Linux', 6, Buffer.from('x')), note('GNU', 3, Buffer.from('a1b2c3', 'hex'))]);
  assert.equal(buildIdInNotes(notes, false), 'a1b2c3');
  assert.equal(buildIdInNotes(notes.subarray(0, notes.length - 4), false), undefined);
});

test('the kernel is one binary holding every kernel frame, with the build id /sys/kernel/notes says', () => {
  const kernel = kernelBinaries();
  assert.equal(kernel.binaries.length, 1);
  assert.equal(kernel.binaries[0]!.file, '[kernel.kallsyms]');
  assert.equal(kernel.binaryOf('kmem_cache_alloc_noprof'), 0);
  assert.match(kernel.binaries[0]!.buildId ?? '', /^[0-9a-f]{40}$/);
});
