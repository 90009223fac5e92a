// An Ink key event for tests of the key table: every flag off but those given.
import type {Key} from 'ink';

export const key = (overrides: Partial<Key> = {}): Key => ({
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false,
  capsLock: false, numLock: false, ...overrides,
} as Key);
