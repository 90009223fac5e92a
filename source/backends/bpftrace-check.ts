// --check's compiler: every script each view would run here, compiled by the installed bpftrace
// without attaching a probe.
import {execa} from 'execa';
import {rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {drillView, TABS, TAB_IDS, type ScriptChoice} from '../registry.js';
import {DEFAULT_SAMPLE_BYTES} from '../types.js';
import {bpftracePath, bpftraceVersion, chooseScript, explainBpftraceFailure, firstUsable, keysMaxFor, BPFTRACE_NOISE, scriptArgs, stackScript} from './bpftrace.js';
import {compileOnlyArgs, mapKeysEnv, type BpftraceVersion} from './bpftrace-version.js';
import {probeScript} from './probe-files.js';

/** Whether one script compiles with this bpftrace, and bpftrace's reason when it does not. */
export interface CompileResult {
  /** What the script is for: "malloc", "slab by cache", "malloc stacks". */
  view: string;
  script: string;
  ok: boolean;
  /** bpftrace's own reason, one line. */
  reason?: string;
}

/** Compile one script for this version without attaching any probe. */
async function compileScript(bpftrace: string, version: BpftraceVersion, choice: ScriptChoice, target: {pid: number} | {cache: string}, view: string): Promise<CompileResult> {
  const elf = path.join(os.tmpdir(), `memtop-check-${process.pid}-${choice.file}.o`);
  try {
    const args = [...compileOnlyArgs(version, elf), probeScript('bpftrace', choice.file), ...scriptArgs(choice, 1000, target, DEFAULT_SAMPLE_BYTES)];
    const result = await execa(bpftrace, args, {reject: false, timeout: 60_000, env: mapKeysEnv(keysMaxFor(choice))});
    if (result.exitCode === 0) return {view, script: choice.file, ok: true};
    const failure = explainBpftraceFailure(result.stderr.split('\n').filter(line => !BPFTRACE_NOISE.test(line)).join('\n'), result.exitCode);
    return {view, script: choice.file, ok: false, reason: failure.message.replace(/^bpftrace: /, '')};
  } catch (error) {
    return {view, script: choice.file, ok: false, reason: error instanceof Error ? error.message.split('\n')[0] : String(error)};
  } finally {
    rmSync(elf, {force: true});
  }
}

/**
 * Compile, without attaching, the script every view would run here (each view of each tab, and
 * each drill-down) with the installed bpftrace, two at a time.
 */
export async function compileEveryScript(): Promise<CompileResult[]> {
  const bpftrace = bpftracePath();
  if (!bpftrace) return [];
  const version = await bpftraceVersion();
  const jobs: (() => Promise<CompileResult>)[] = [];
  const add = (view: string, pick: () => ScriptChoice, target: {pid: number} | {cache: string}) =>
    jobs.push(async () => {
      let choice: ScriptChoice;
      try {
        choice = pick();
      } catch (error) {
        return {view, script: '-', ok: false, reason: error instanceof Error ? error.message : String(error)};
      }
      return compileScript(bpftrace, version, choice, target, view);
    });
  for (const tab of TAB_IDS) {
    TABS[tab].views.forEach((view, index) => add(index === 0 ? tab : `${tab} ${view.label}`, () => chooseScript(tab, view.id, version), {pid: 0}));
    add(`${tab} stacks`, () => stackScript(tab, undefined, version), {pid: process.pid});
    for (const view of TABS[tab].views) {
      const own = drillView(tab, view.id);
      if (own) add(`${tab} ${view.label} stacks`, () => stackScript(tab, own, version), {pid: process.pid});
    }
    const cacheStacks = TABS[tab].bpftrace.cacheStacks;
    if (cacheStacks) add(`${tab} cache stacks`, () => firstUsable(cacheStacks.scripts, version, `${tab} cache stacks`), {cache: 'filp'});
  }
  const results: CompileResult[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

