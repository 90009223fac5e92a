// memtop -- COMMAND's in-use-at-exit profile: the summary's stacks not freed at exit as a pprof
// Profile (inuse_objects, inuse_space, as Go names a heap profile's), every allocation traced.
import {profileTypes} from '../registry.js';
import {sanitize} from '../format.js';
import type {ProfileSource} from './pprof.js';
import type {CommandSummary} from './command-summary.js';

/**
 * The profile of what COMMAND (and the processes it started) had not freed at exit: one sample
 * per stack, blocks and bytes, the allocating function innermost; stacks equal in their frames
 * in two processes are one sample. `endMs`: when COMMAND exited (the window is its run).
 */
export function summaryProfile(summary: CommandSummary, endMs: number): ProfileSource {
  const types = profileTypes('malloc', 'live')!;
  const {inUseBytes, inUseBlocks} = summary.total;
  return {
    types,
    stacks: summary.stacks.map(stack => ({count: stack.blocks, bytes: stack.bytes, frames: stack.frames})),
    startMs: endMs - summary.ranMs,
    durationMs: summary.ranMs,
    comments: [
      `memtop -- ${sanitize(summary.command.join(' ')).slice(0, 200)} · exit status ${summary.exitStatus}`,
      `in use at exit: ${inUseBytes} bytes in ${inUseBlocks} blocks (every allocation traced)`,
      ...(summary.untracked > 0 ? [`${summary.untracked} allocations could not be tracked (the address table was full)`] : []),
    ],
  };
}
