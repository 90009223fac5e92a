// Raw terminal input to key presses, purely. A paste, a terminal over ssh or tmux send-keys
// delivers several keys in one read, and an escape sequence may arrive split across two reads:
// every key of a read is one press, in order; an escape sequence left unfinished at the end of a
// read is handed back to be completed by the next one (or, when none comes, read as Escape).
// Escape followed at once by another key is two presses: memtop binds no Alt/Meta keys.
import type {Key} from 'ink';

/** One key press: the text it typed (a letter; empty for special keys) and what it was. */
export interface Press {
  input: string;
  key: Key;
}

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

function press(input: string, key: Partial<Key> = {}): Press {
  return {input, key: {...NO_KEY, ...key}};
}

const ESC = '\u001b';

/** The key a CSI sequence's final byte (and first parameter, for "~" keys) stands for; undefined: not one memtop reads. */
function csiKey(parameters: string, final: string): Press | undefined {
  switch (final) {
    case 'A':
      return press('', {upArrow: true});
    case 'B':
      return press('', {downArrow: true});
    case 'C':
      return press('', {rightArrow: true});
    case 'D':
      return press('', {leftArrow: true});
    case 'H':
      return press('', {home: true});
    case 'F':
      return press('', {end: true});
    case 'Z':
      return press('', {tab: true, shift: true});
    case '~': {
      const code = parameters.split(';')[0];
      if (code === '1' || code === '7') return press('', {home: true});
      if (code === '4' || code === '8') return press('', {end: true});
      if (code === '3') return press('', {delete: true});
      if (code === '5') return press('', {pageUp: true});
      if (code === '6') return press('', {pageDown: true});
      return undefined;
    }
    default:
      return undefined;
  }
}

/** One character that is not part of an escape sequence, as a press (undefined: a control memtop ignores). */
function characterKey(character: string): Press | undefined {
  const code = character.codePointAt(0)!;
  if (character === '\r' || character === '\n') return press('', {return: true});
  if (character === '\t') return press('', {tab: true});
  if (code === 0x7f || code === 0x08) return press('', {backspace: true});
  if (code >= 0x01 && code <= 0x1a) return press(String.fromCharCode(code + 0x60), {ctrl: true});
  if (code < 0x20 || (code >= 0x80 && code <= 0x9f)) return undefined;
  return press(character, /^[A-Z]$/.test(character) ? {shift: true} : {});
}

/**
 * Split raw input into presses. `pending` is an escape sequence the input ends in the middle of
 * ("\x1b", "\x1b[", "\x1b[1;"): prepend it to the next input, or flushKeys() it when no more comes.
 * Escape sequences memtop does not read (focus reports, function keys) are dropped whole, never
 * typed as text.
 */
export function readKeys(text: string): {presses: Press[]; pending: string} {
  const presses: Press[] = [];
  let index = 0;
  while (index < text.length) {
    const character = String.fromCodePoint(text.codePointAt(index)!);
    if (character !== ESC) {
      // A Windows-style "\r\n" (a paste) is one Enter.
      const length = character === '\r' && text[index + 1] === '\n' ? 2 : character.length;
      const key = characterKey(character);
      if (key) presses.push(key);
      index += length;
      continue;
    }
    const next = text[index + 1];
    if (next === undefined) return {presses, pending: text.slice(index)};
    if (next === '[') {
      const match = /^([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])?/.exec(text.slice(index + 2))!;
      if (match[3] === undefined) {
        if (index + 2 + match[0].length >= text.length) return {presses, pending: text.slice(index)};
        // Not a sequence after all: Escape, then what followed.
        presses.push(press('', {escape: true}));
        index += 1;
        continue;
      }
      const key = csiKey(match[1]!, match[3]);
      if (key) presses.push(key);
      index += 2 + match[0].length;
      continue;
    }
    if (next === 'O') {
      const final = text[index + 2];
      if (final === undefined) return {presses, pending: text.slice(index)};
      const key = /[A-DHF]/.test(final) ? csiKey('', final) : undefined;
      if (key) presses.push(key);
      index += 3;
      continue;
    }
    presses.push(press('', {escape: true}));
    index += 1;
  }
  return {presses, pending: ''};
}

/** What an unfinished escape sequence means once nothing more has come: Escape, then the rest as typed. */
export function flushKeys(pending: string): Press[] {
  if (pending === '') return [];
  const rest = readKeys(pending.slice(1));
  return [press('', {escape: true}), ...rest.presses, ...flushKeys(rest.pending)];
}
