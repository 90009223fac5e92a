// Probe placement over the real bytes of allocators' entry points (test/fixtures/functions/, each
// file naming the package it was read from): where the probe goes, that it never goes past a
// branch or a write to a register the probe reads, and the ELF reader against the files on disk.
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {test} from 'node:test';
import {placeProbe, probeSite, singleSteps, type ProbeNeeds} from '../source/model/probe-placement.js';
import {ARGUMENT_REGISTERS, decodeInstruction, RBP, RSP} from '../source/model/x86-decode.js';
import {readFunctions} from '../source/system/function-bytes.js';

interface Fixture {
  origin: string;
  file: string;
  sha256: string;
  functions: Record<string, {address: string; size: number; bytes: string}>;
}

const FIXTURES = new URL('fixtures/functions/', import.meta.url);
const fixtures = new Map<string, Fixture>(
  readdirSync(FIXTURES)
    .filter(name => name.endsWith('.json'))
    .map(name => [name.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Fixture]),
);

function fn(library: string, name: string) {
  const entry = fixtures.get(library)?.functions[name];
  assert.ok(entry, `${library} ${name} in the fixtures`);
  return {bytes: Uint8Array.from(Buffer.from(entry.bytes, 'hex')), size: entry.size};
}

/** The arguments each entry point's probes read (the C prototype's). */
const ARGUMENTS: Record<string, number> = {
  malloc: 1,
  free: 1,
  calloc: 2,
  realloc: 2,
  reallocarray: 3,
  memalign: 2,
  aligned_alloc: 2,
  posix_memalign: 3,
  valloc: 1,
  pvalloc: 1,
  free_sized: 2,
  free_aligned_sized: 3,
};

/** Expected probe sites, each checked by hand against objdump -d of the same file. */
const EXPECTED: Record<string, Record<string, string>> = {
  // Debian 12: malloc, calloc, realloc open with a push; free with test %rdi,%rdi then je.
  'glibc-2.36': {
    malloc: 'malloc',
    free: 'free+3',
    calloc: 'calloc',
    realloc: 'realloc',
    memalign: 'memalign+7',
    aligned_alloc: 'aligned_alloc+7',
    posix_memalign: 'posix_memalign+7',
    valloc: 'valloc+7',
    pvalloc: 'pvalloc+7',
    // mul %rdx writes the third argument before the first jo.
    reallocarray: 'reallocarray',
  },
  'glibc-2.41': {
    malloc: 'malloc',
    free: 'free+3',
    calloc: 'calloc',
    realloc: 'realloc',
    memalign: 'memalign+7',
    aligned_alloc: 'aligned_alloc',
    posix_memalign: 'posix_memalign+7',
    valloc: 'valloc+7',
    pvalloc: 'pvalloc+7',
    reallocarray: 'reallocarray',
  },
  // Debian unstable: malloc opens with test %rdi,%rdi and js; valloc and pvalloc load the page
  // size into %rdi before their first jump, so they stay at the entry.
  'glibc-2.43': {
    malloc: 'malloc+3',
    free: 'free+3',
    calloc: 'calloc+6',
    realloc: 'realloc+6',
    memalign: 'memalign',
    aligned_alloc: 'aligned_alloc+7',
    posix_memalign: 'posix_memalign+23',
    valloc: 'valloc',
    pvalloc: 'pvalloc',
    reallocarray: 'reallocarray',
    free_sized: 'free_sized',
    free_aligned_sized: 'free_aligned_sized',
  },
  'jemalloc-5.3.0': {malloc: 'malloc+7', free: 'free+48', calloc: 'calloc', realloc: 'realloc'},
  'tcmalloc-2.10': {malloc: 'malloc+10', free: 'free+10', calloc: 'calloc', realloc: 'realloc'},
  // mimalloc's malloc moves %rdi away and loads the heap into it before any branch.
  'mimalloc-2.0.9': {malloc: 'malloc', free: 'free+6', calloc: 'calloc', realloc: 'realloc'},
  'musl-1.2.3': {malloc: 'malloc', free: 'free', calloc: 'calloc'},
};

for (const [library, expected] of Object.entries(EXPECTED)) {
  test(`probe sites in ${library} (${fixtures.get(library)?.origin})`, () => {
    const sites = Object.fromEntries(Object.keys(expected).map(name => [name, probeSite(name, placeProbe(fn(library, name), {arguments: ARGUMENTS[name]!}))]));
    assert.deepEqual(sites, expected);
  });
}

test('glibc 2.43: malloc and free no longer single-step; valloc, pvalloc and reallocarray still do', () => {
  const steps = (name: string) => singleSteps(placeProbe(fn('glibc-2.43', name), {arguments: ARGUMENTS[name]!}));
  assert.equal(steps('malloc'), false);
  assert.equal(steps('free'), false);
  assert.equal(steps('valloc'), true);
  assert.equal(steps('pvalloc'), true);
  assert.equal(steps('reallocarray'), true);
});

test('a function with a return probe keeps its uprobe at the entry, which traps for the uretprobe anyway', () => {
  const placement = placeProbe(fn('glibc-2.43', 'malloc'), {arguments: 1, returnProbe: true});
  assert.equal(placement.offset, 0);
  assert.equal(placement.reason, 'return-probe');
  assert.equal(singleSteps(placement), true);
  assert.equal(placeProbe(fn('glibc-2.41', 'malloc'), {arguments: 1, returnProbe: true}).reason, 'entry');
});

test('a probe that reads the return address stays at the entry, where no other tracer\'s uretprobe has swapped it yet', () => {
  const placement = placeProbe(fn('glibc-2.43', 'malloc'), {arguments: 1, returnAddress: true});
  assert.equal(placement.offset, 0);
  assert.equal(placement.reason, 'return-address');
  assert.equal(placeProbe(fn('glibc-2.43', 'malloc'), {arguments: 1}).offset, 3, 'the same function moves without the need');
});

/** Every placement over every fixture and every set of needs: the path from the entry to the probe, checked instruction by instruction. */
test('a probe is never placed past a branch, a call, a return or a write to a register the probe reads', () => {
  let moved = 0;
  for (const [library, fixture] of fixtures) {
    for (const name of Object.keys(fixture.functions)) {
      const bytes = fn(library, name);
      for (let count = 0; count <= ARGUMENT_REGISTERS.length; count++) {
        const needs: ProbeNeeds = {arguments: count};
        const placement = placeProbe(bytes, needs);
        const guarded = [RSP, RBP, ...ARGUMENT_REGISTERS.slice(0, count)];
        let at = 0;
        while (at < placement.offset) {
          const instruction = decodeInstruction(bytes.bytes, at);
          assert.ok(instruction, `${library} ${name}+${at} decodes`);
          assert.equal(instruction.flow, 'next', `${library} ${name}: passes ${instruction.name} at +${at}`);
          assert.notEqual(instruction.treatment, 'emulated', `${library} ${name}: passes an emulated ${instruction.name} at +${at}`);
          for (const register of guarded) assert.equal(instruction.writes & (1 << register), 0, `${library} ${name}: ${instruction.name} at +${at} writes register ${register}`);
          at += instruction.length;
        }
        assert.equal(at, placement.offset, `${library} ${name}: the probe is on an instruction boundary`);
        if (placement.offset > 0) {
          moved += 1;
          assert.equal(decodeInstruction(bytes.bytes, placement.offset)?.treatment, 'emulated');
        }
      }
    }
  }
  assert.ok(moved > 20, `${moved} placements moved`);
});

/** Where command.bt's free probe goes with ignoresNull, each checked by hand against objdump -d of the same file. */
const PAST_NULL_CHECK: Record<string, {site: string; at: string}> = {
  // test %rdi,%rdi; je (near); push %rbp
  'glibc-2.36': {site: 'free+9', at: 'push %rbp'},
  // test %rdi,%rdi; je (near); push %r15
  'glibc-2.41': {site: 'free+9', at: 'push %r15'},
  // test %rdi,%rdi; je (near); test $0xf,%dil (single-stepped); jne to the invalid-pointer error
  'glibc-2.43': {site: 'free+13', at: 'jcc'},
};

for (const [library, expected] of Object.entries(PAST_NULL_CHECK)) {
  test(`free past its null check in ${library} (${fixtures.get(library)?.origin}): free(NULL) never reaches the probe`, () => {
    const bytes = fn(library, 'free');
    const placement = placeProbe(bytes, {arguments: 1, ignoresNull: true});
    assert.equal(probeSite('free', placement), expected.site);
    assert.equal(placement.reason, 'past-null-check');
    assert.equal(singleSteps(placement), false, 'an emulated instruction: one trap per free of a pointer');
    assert.equal(decodeInstruction(bytes.bytes, placement.offset)?.name, expected.at);
    // The opening: test %rdi,%rdi, then je whose target (free(NULL)'s way out) lies past the probe.
    assert.equal(Buffer.from(bytes.bytes.subarray(0, 3)).toString('hex'), '4885ff');
    const jump = decodeInstruction(bytes.bytes, 3);
    assert.ok(jump && jump.flow === 'conditional' && (bytes.bytes[3] === 0x74 || bytes.bytes[4] === 0x84), `${library}: je at +3`);
    assert.ok(jump.target! > placement.offset, `${library}: je's target +${jump.target} is past the probe at +${placement.offset}`);
    // From the je's fall-through to the probe: straight on, rdi, rsp and rbp untouched.
    let at = 3 + jump.length;
    while (at < placement.offset) {
      const instruction = decodeInstruction(bytes.bytes, at)!;
      assert.equal(instruction.flow, 'next', `${library}: passes ${instruction.name} at +${at}`);
      for (const register of [ARGUMENT_REGISTERS[0], RSP, RBP]) assert.equal(instruction.writes & (1 << register), 0, `${library}: ${instruction.name} at +${at} writes register ${register}`);
      at += instruction.length;
    }
    assert.equal(at, placement.offset);
    // Without the need, the rule holds: on the je itself.
    assert.equal(probeSite('free', placeProbe(bytes, {arguments: 1})), 'free+3');
  });
}

test('ignoresNull goes past nothing but an opening je on the first argument', () => {
  const place = (hex: string, needs: ProbeNeeds = {arguments: 1, ignoresNull: true}) => {
    const bytes = Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
    return placeProbe({bytes, size: bytes.length}, needs);
  };
  // test %rdi,%rdi; je +1; push %rbp; ret: on the push.
  assert.deepEqual([place('48 85 ff 74 01 55 c3').offset, place('48 85 ff 74 01 55 c3').reason], [5, 'past-null-check']);
  // jne (taken for a pointer): not a null check, on the jne as any probe.
  assert.deepEqual([place('48 85 ff 75 01 55 c3').offset, place('48 85 ff 75 01 55 c3').reason], [3, 'moved']);
  // test %rsi,%rsi: another argument.
  assert.equal(place('48 85 f6 74 01 55 c3').offset, 3);
  // A je to itself is no way out.
  assert.equal(place('48 85 ff 74 fe 55 c3').reason, 'branch-target');
  // Something jumps back to the fall-through: not past the check.
  assert.notEqual(place('48 85 ff 74 03 55 eb fd').reason, 'past-null-check');
  // Nothing emulated after the je: on the single-stepped instruction right after it.
  assert.deepEqual([place('48 85 ff 74 04 48 8b 07 c3').offset, place('48 85 ff 74 04 48 8b 07 c3').treatment], [5, 'stepped']);
  // A uretprobe's function keeps its entry.
  assert.equal(place('48 85 ff 74 01 55 c3', {arguments: 1, ignoresNull: true, returnProbe: true}).offset, 0);
});

test('synthetic openings: what stops the search, and what the kernel emulates', () => {
  const place = (hex: string, needs: ProbeNeeds = {arguments: 1}) => {
    const bytes = Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
    return placeProbe({bytes, size: bytes.length}, needs);
  };
  // test %rdi,%rdi; je: on the je.
  assert.equal(place('48 85 ff 74 05 c3').offset, 3);
  // mov %rsi,%rdi (writes the first argument) before the jump: at the entry.
  assert.deepEqual([place('48 89 f7 eb 00').offset, place('48 89 f7 eb 00').reason], [0, 'no-site']);
  // The same with a probe that reads no argument: on the jump.
  assert.equal(place('48 89 f7 eb 00', {arguments: 0}).offset, 3);
  // sub $0x10,%rsp moves the stack pointer (the return address, ustack): at the entry.
  assert.equal(place('48 83 ec 10 74 00').offset, 0);
  // ret before anything emulated: at the entry.
  assert.equal(place('48 85 ff c3 90').offset, 0);
  // mov %ah,%dh writes rdx, not rsi: allowed with two arguments, not with three.
  assert.equal(place('88 e6 74 00', {arguments: 2}).offset, 2);
  assert.equal(place('88 e6 74 00', {arguments: 3}).offset, 0);
  // With a REX prefix the same encoding names sil: rsi.
  assert.equal(place('40 88 e6 74 00', {arguments: 2}).offset, 0);
  // endbr64 then push %rbp: on the push.
  assert.equal(place('f3 0f 1e fa 55 48 89 e5').offset, 4);
  // A loop back to the candidate (je at +3 targets +3 from +5): it would fire twice, so at the entry.
  assert.equal(place('48 85 ff 74 00 74 fc').reason, 'branch-target');
  // An unknown form (an SSE move) stops the search.
  assert.equal(place('66 0f 6f c1 74 00').reason, 'no-site');
  // Kernel nops: the 5-byte nopl is emulated, another nopl encoding is single-stepped.
  assert.equal(decodeInstruction(Uint8Array.from([0x0f, 0x1f, 0x44, 0x00, 0x00]), 0)?.treatment, 'emulated');
  assert.equal(decodeInstruction(Uint8Array.from([0x0f, 0x1f, 0x44, 0x00, 0x01]), 0)?.treatment, 'stepped');
  // push: emulated bare or with REX 41; with REX 48 single-stepped.
  assert.equal(decodeInstruction(Uint8Array.from([0x41, 0x54]), 0)?.treatment, 'emulated');
  assert.equal(decodeInstruction(Uint8Array.from([0x48, 0x54]), 0)?.treatment, 'stepped');
  // A branch with an operand-size prefix, and a cs-prefixed nop: refused.
  assert.equal(decodeInstruction(Uint8Array.from([0x66, 0xe9, 0, 0, 0, 0]), 0)?.treatment, 'refused');
  assert.equal(decodeInstruction(Uint8Array.from([0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0]), 0)?.treatment, 'refused');
  assert.equal(place('2e 0f 1f 84 00 00 00 00 00').reason, 'refused');
});

/** The fixtures were read with readFunctions: where the same file is on this machine, the reader reads the same bytes. */
test('readFunctions reads the fixtures\' bytes back from the files they came from, where this machine has them', () => {
  const roots = ['/', '/var/cache/memtop-roots/trixie', '/var/cache/memtop-roots/sid'];
  let compared = 0;
  for (const fixture of fixtures.values()) {
    for (const root of roots) {
      const file = `${root.replace(/\/$/, '')}${fixture.file}`;
      if (!existsSync(file) || createHash('sha256').update(readFileSync(file)).digest('hex') !== fixture.sha256) continue;
      const read = readFunctions(file, Object.keys(fixture.functions));
      assert.ok(read, file);
      assert.equal(read.machine, 62);
      for (const [name, expected] of Object.entries(fixture.functions)) {
        const got = read.functions.get(name);
        assert.ok(got, `${file} ${name}`);
        assert.equal(`0x${got.address.toString(16)}`, expected.address);
        assert.equal(Buffer.from(got.bytes).toString('hex'), expected.bytes);
      }
      compared += 1;
    }
  }
  // The host's libc at least, on the machine the fixtures were made on and in CI's Debian 12.
  if (process.env.CI === 'true' || existsSync('/var/cache/memtop-roots/sid')) assert.ok(compared >= 1, `${compared} files compared`);
  assert.equal(readFunctions('/nonexistent/libc.so.6', ['malloc']), undefined);
  assert.equal(readFunctions('/proc/self/status', ['malloc']), undefined);
});
