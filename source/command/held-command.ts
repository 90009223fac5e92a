// memtop -- COMMAND: COMMAND started held before its first instruction (a shell that waits on a
// pipe, then execs it in its own pid), as the user who ran sudo or --user says, released once
// every probe is attached, and waited for; its exit status as a shell reports it.
import {spawn, type ChildProcess} from 'node:child_process';
import {accessSync, closeSync, constants, existsSync, fchownSync, openSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import {constants as osConstants} from 'node:os';
import {execaSync} from 'execa';

/** Why COMMAND cannot start: the one line a shell would print, and its exit status (127, 126). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Who COMMAND runs as: a uid and gid, and the home and name its environment gets. */
export interface RunAs {
  uid: number;
  gid: number;
  name?: string;
  home?: string;
}

/** A passwd entry by name or uid ("getent passwd"), or undefined. */
function passwd(user: string): {name: string; uid: number; gid: number; home: string} | undefined {
  const result = execaSync('getent', ['passwd', user], {reject: false});
  const fields = result.exitCode === 0 ? String(result.stdout).split('\n')[0]!.split(':') : [];
  if (fields.length < 7) return undefined;
  return {name: fields[0]!, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]!};
}

/**
 * The user COMMAND runs as: --user NAME; else, under sudo, the user who ran it (SUDO_UID and
 * SUDO_GID); else memtop's own (undefined). Throws CommandError for a user that does not exist.
 */
export function runAsUser(user: string | undefined, env: NodeJS.ProcessEnv = process.env): RunAs | undefined {
  if (user !== undefined) {
    const entry = passwd(user);
    if (!entry) throw new CommandError(`--user ${user}: no such user (see getent passwd)`, 2);
    return entry;
  }
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (process.getuid?.() !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid) || env.SUDO_UID === undefined) return undefined;
  const entry = passwd(String(uid));
  return {uid, gid, ...(entry ? {name: entry.name, home: entry.home} : {})};
}

/**
 * COMMAND's program as the shell would find it (PATH searched when it has no slash), or a
 * CommandError with the shell's line and status: 127 not found, 126 not executable.
 */
export function resolveProgram(program: string, env: NodeJS.ProcessEnv = process.env): string {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/')) {
    if (!existsSync(program)) throw new CommandError(`${program}: No such file or directory`, 127);
    if (!executable(program)) throw new CommandError(`${program}: Permission denied`, 126);
    return program;
  }
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = path.join(dir || '.', program);
    if (executable(file)) return file;
  }
  throw new CommandError(`${program}: command not found`, 127);
}

/**
 * Open --output FILE for COMMAND's stdout and stderr: created, or emptied as a shell's `>` does,
 * owned by the user COMMAND runs as; never through a symbolic link (memtop runs as root, and a
 * link planted in /tmp could point it at any file). A CommandError (status 2) when it cannot be.
 */
export function openCommandOutput(file: string, runAs?: RunAs): number {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    if (runAs) fchownSync(fd, runAs.uid, runAs.gid);
    return fd;
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ELOOP' ? 'it is a symbolic link' : code ?? (error as Error).message;
    throw new CommandError(`--output ${file}: cannot write it (${reason}): give a file in a directory memtop can write`, 2);
  }
}

/** A shell's exit status for an exit code or a signal (128 + its number). */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (osConstants.signals[signal] ?? 0);
  return code ?? 1;
}

/** The shell that holds: it reads "go" from fd 3, closes it and becomes COMMAND; EOF (memtop gone) ends it. */
const HOLD = 'read -r go <&3 && [ "$go" = go ] && exec "$@" 3<&-';

/** How long COMMAND has to end after SIGTERM before SIGKILL, when memtop ends it (q in the TUI). */
export const END_GRACE_MS = 5000;

/** COMMAND, started and held. */
export interface HeldCommand {
  /** The pid COMMAND will have (the holding shell's, which execs it). */
  pid: number;
  /** Let COMMAND run. */
  release: () => void;
  /** Resolves with COMMAND's exit status once it has exited. */
  exited: Promise<number>;
  /** Send COMMAND a signal (ignored once it has exited); `quiet`: its process group. */
  kill: (signal: NodeJS.Signals) => void;
  /** End COMMAND: SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves with its exit status. */
  end: (graceMs?: number) => Promise<number>;
  child: ChildProcess;
}

/**
 * Start COMMAND held: `setpriv` (to the user, when one is given) execs a shell that waits on a
 * pipe; resolves once that shell is waiting (so that its own exec is over before any probe).
 * `quiet`: COMMAND's stdin is /dev/null, its output goes nowhere and it runs in a session of its
 * own, with no terminal (the TUI holds it), and its signals go to its whole process group, as a
 * shell's to a job; `output`: the file its stdout and stderr go to instead (--output FILE).
 */
export async function startHeld(command: string[], options: {runAs?: RunAs; quiet: boolean; output?: string}): Promise<HeldCommand> {
  const program = resolveProgram(command[0]!);
  const outputFd = options.output !== undefined ? openCommandOutput(options.output, options.runAs) : undefined;
  const shell = existsSync('/bin/sh') ? '/bin/sh' : 'sh';
  const env = {...process.env};
  let file = shell;
  let args = ['-c', HOLD, 'memtop', program, ...command.slice(1)];
  if (options.runAs) {
    const runAs = options.runAs;
    file = existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : 'setpriv';
    args = [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, ...(runAs.name ? ['--init-groups'] : ['--clear-groups']), '--', shell, ...args];
    if (runAs.home) env.HOME = runAs.home;
    if (runAs.name) Object.assign(env, {USER: runAs.name, LOGNAME: runAs.name});
  }
  const output = outputFd ?? (options.quiet ? 'ignore' : 'inherit');
  let child: ChildProcess;
  try {
    child = spawn(file, args, {stdio: [options.quiet ? 'ignore' : 'inherit', output, output, 'pipe'], env, detached: options.quiet});
  } finally {
    // COMMAND has its own copy.
    if (outputFd !== undefined) closeSync(outputFd);
  }
  const exited = new Promise<number>(resolve => {
    child.on('exit', (code, signal) => resolve(exitStatus(code, signal)));
    child.on('error', () => resolve(127));
  });
  const pid = child.pid;
  if (pid === undefined) throw new CommandError(`${command[0]}: could not start`, 127);
  let done = false;
  void exited.then(() => {
    done = true;
  });
  // Held once the shell runs (setpriv has exec'd it): its command line says so.
  const start = Date.now();
  while (!done && Date.now() - start < 5000) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      break;
    }
    if (cmdline.startsWith(`${shell}\0-c\0${HOLD}`) || cmdline.startsWith(`sh\0-c\0${HOLD}`)) break;
    await new Promise(resolve => setTimeout(resolve, 5));
  }
  const gate = child.stdio[3] as NodeJS.WritableStream | null;
  gate?.on('error', () => undefined);
  const signal = (name: NodeJS.Signals) => {
    if (done) return;
    try {
      process.kill(options.quiet ? -pid : pid, name);
      // A stopped COMMAND (command.bt stops it at _exit while its stacks are printed) would hold
      // the signal until resumed: continued after it, as a shell's kill does for a stopped job.
      if (!['SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGCONT', 'SIGKILL'].includes(name)) process.kill(options.quiet ? -pid : pid, 'SIGCONT');
    } catch {
      // gone meanwhile
    }
  };
  return {
    pid,
    release: () => {
      gate?.end('go\n');
    },
    exited,
    kill: signal,
    end: async (graceMs = END_GRACE_MS) => {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
    child,
  };
}
