// What the SystemTap and DTrace backends share, the differences between them as parameters:
// running a script whose output is begin..end blocks of text and yielding one snapshot per block
// with the lines skipped so far, a drill-down's script, arguments and context, a tracer's stderr
// read into one error, and a trial run read into an availability.
import {drillView, TABS, tracerScripts, type DtraceDefinition, type ScriptChoice, type StapDefinition} from '../registry.js';
import {TracerError, type Availability, type StackStartOptions, type TracerSnapshot, type TracerStackSnapshot} from '../types.js';
import {BlockSnapshots, parseStackBlock, parseTableBlock, type BlockParse, type StackContext, type TextContext, type TextFormat} from '../parse/text-blocks.js';
import {cacheArguments, noCacheRows, positionalArguments, sampleBytesOf, tracerLines, type TracerProcessOptions} from './tracer-process.js';
import {frameNotesOf} from '../system/frame-facts.js';

/** A text tracer as its backend runs it. */
export interface TextTracer {
  /** Absolute path of its binary, if installed. */
  path: () => string | undefined;
  /** Why it cannot run when it is not installed, and how to install it. */
  missing: () => TracerError;
  explainFailure: TracerProcessOptions['explainFailure'];
  format: TextFormat;
}

/** How one tracer's stderr reads: the lines that tell what failed, the prefix to drop from them, and the hints by what the text says. */
export interface FailureText {
  name: string;
  telling: RegExp;
  prefix: RegExp;
  /** The first whose pattern matches the stderr gives the hint. */
  hints: readonly (readonly [pattern: RegExp, hint: string])[];
}

const CHECK_HINT = 'run `memtop --check` to see what this machine lacks';

/** A tracer's stderr as one TracerError: the first telling line as the reason (else any line, else the exit code) and the hint for what it says. */
export function explainFailure(failure: FailureText, stderr: string, exitCode: number | undefined): TracerError {
  const text = stderr.trim();
  const reason = (firstLine(text, failure.telling) ?? firstLine(text, /\S/) ?? `${failure.name} exited with code ${exitCode ?? 'unknown'}`).replace(failure.prefix, '').slice(0, 300);
  const hint = failure.hints.find(([pattern]) => pattern.test(text))?.[1] ?? CHECK_HINT;
  return new TracerError(`${failure.name}: ${reason}`, hint);
}

/** The first line of `text` (trimmed) that matches `pattern`. */
export function firstLine(text: string, pattern: RegExp): string | undefined {
  return text.split('\n').map(line => line.trim()).find(line => pattern.test(line));
}

/** What a trial run of the tracer (a trivial probe) says of its availability: usable, or why not and how to fix it. */
export function trialAvailability(tracer: TextTracer, trial: {exitCode?: number; stderr: string}, version: string): Availability {
  if (trial.exitCode === 0) return {ok: true, version};
  const failure = tracer.explainFailure(trial.stderr, trial.exitCode);
  return {ok: false, version, reason: `${failure.message} (${failure.hint})`};
}

/** Run one script and yield each block's snapshot, with skippedLines counted since it started. */
async function* textSnapshots<T extends {skippedLines?: number}>(tracer: TextTracer, args: string[], signal: AbortSignal, parse: (block: string[]) => BlockParse<T>): AsyncGenerator<T> {
  const command = tracer.path();
  if (!command) throw tracer.missing();
  const snapshots = new BlockSnapshots(tracer.format.blocks, parse);
  for await (const line of tracerLines({command, args, signal, explainFailure: tracer.explainFailure})) {
    const snapshot = snapshots.push(line);
    if (snapshot) yield snapshot;
  }
}

/** Run a table's script: one snapshot per interval. */
export async function* tableSnapshots(tracer: TextTracer, args: string[], signal: AbortSignal, context: TextContext): AsyncGenerator<TracerSnapshot> {
  const {unmeasured} = context;
  for await (const snapshot of textSnapshots(tracer, args, signal, block => parseTableBlock(tracer.format, block, context))) yield unmeasured ? {...snapshot, unmeasured} : snapshot;
}

/** Run a drill-down's script: one snapshot per interval, with why a process's frames are unnamed. */
export async function* stackSnapshots(tracer: TextTracer, args: string[], signal: AbortSignal, context: StackContext): AsyncGenerator<TracerStackSnapshot> {
  for await (const snapshot of textSnapshots(tracer, args, signal, block => parseStackBlock(tracer.format, block, context))) {
    const notes = snapshot.pid === undefined ? [] : frameNotesOf(snapshot.pid, snapshot.tab, snapshot.stacks);
    yield notes.length > 0 ? {...snapshot, frameNotes: notes} : snapshot;
  }
}

/** How one text backend starts a drill-down's script: the differences between the tracers. */
export interface StackScriptArguments {
  /** The arguments to run a cache's script with, given its positional values. */
  cache: (script: ScriptChoice, positional: string[]) => {args: string[]; probe: string};
  /** The arguments to run a process's script with, given its positional values and the sample size ([] where the script takes none). */
  process: (script: ScriptChoice, pid: number, positional: string[], sample: string[]) => {args: string[]; probe: string};
}

/** A drill-down's tracer arguments and parser context: into a cache (the tab's cacheStacks script) or a process. */
export function stackRun(options: StackStartOptions, scripts: StapDefinition | DtraceDefinition, tracer: StackScriptArguments): {args: string[]; context: StackContext} {
  if (options.cache !== undefined) {
    const script = scripts.cacheStacks;
    if (!script) throw noCacheRows(TABS[options.tab].title);
    const {args, probe} = tracer.cache(script, cacheArguments(options.intervalMs, options.cache));
    return {args, context: {tab: options.tab, probe, cache: options.cache}};
  }
  const script = tracerScripts(scripts, drillView(options.tab, options.view)).stacks;
  const sampleBytes = sampleBytesOf(script, options.sampleBytes);
  const positional = positionalArguments(options.intervalMs, options.pid, true);
  const {args, probe} = tracer.process(script, options.pid, positional, script.sample ? [String(sampleBytes)] : []);
  return {args, context: {tab: options.tab, probe, pid: options.pid, ...(sampleBytes > 0 ? {sampleBytes} : {})}};
}
