// memtop --help: every flag parseFlags knows is listed, once, and nothing it does not know.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {HELP, parseFlags, UsageError} from '../source/flags.js';

/** The flags the Options section lists, in order, as typed (--min-age), with repeats. */
function listedFlags(): string[] {
  const options = HELP.slice(HELP.indexOf('\n  Options\n'), HELP.indexOf('\n  Keys'));
  return [...options.matchAll(/^ {4}(--[a-z-]+)/gm)].map(match => match[1]!);
}

test('--help lists each flag once', () => {
  const listed = listedFlags();
  assert.ok(listed.length > 20, `the Options section was found: ${listed.join(' ')}`);
  const repeated = listed.filter((flag, index) => listed.indexOf(flag) !== index);
  assert.deepEqual(repeated, [], 'no flag listed twice');
});

test('every flag --help lists is one parseFlags accepts', () => {
  for (const flag of listedFlags()) {
    try {
      parseFlags([flag]);
    } catch (error) {
      assert.ok(error instanceof UsageError, `${flag}: ${String(error)}`);
      assert.doesNotMatch(error.message, /unknown flag/, `${flag} is listed but unknown`);
    }
  }
});
