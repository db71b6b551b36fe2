/**
 * Processes through libc: posix_spawn, waitpid (on a worker thread, so the
 * event loop keeps handling signals), kill, and the child-subreaper flag.
 * Deno's own `Deno.Command` is not used for the command: its reaper would
 * race our `waitpid(-1)`, and with uid/gid it drops supplementary groups
 * (denoland/deno#29770).
 *
 * @module
 */

import {
  cString,
  cStringArray,
  ERRNO,
  errno,
  errnoText,
  libcProcess,
  libcTty,
  O,
  sigaction,
  SYS,
  sys,
  terminalFd,
} from "./libc.ts";
import { type ForwardedSignal, onSignal, SIGNAL_NUMBERS } from "./signals.ts";
import { readNow, readSome, writeAllTo } from "./stream.ts";
import { ChameleonError, EXIT } from "../errors.ts";

/** How a process ended. */
export type Exit =
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "signaled"; readonly signal: number };

/** Decodes a Linux wait status. */
function decodeStatus(status: number): Exit {
  const sig = status & 0x7f;
  return sig === 0
    ? { kind: "exited", code: (status >> 8) & 0xff }
    : { kind: "signaled", signal: sig };
}

/** The shell convention: the code, or 128 + the signal. */
export function exitCode(e: Exit): number {
  return e.kind === "exited" ? e.code : 128 + e.signal;
}

const SIGNAL_NAMES = Object.fromEntries(Object.entries(SIGNAL_NUMBERS).map(([k, v]) => [v, k]));

/** How a process ended, in words: "exited with code 3", "was killed by signal SIGKILL (9)". */
export function exitWords(e: Exit): string {
  return e.kind === "exited"
    ? `exited with code ${e.code}`
    : `was killed by signal ${SIGNAL_NAMES[e.signal] ?? e.signal} (${e.signal})`;
}

/** A program that could not start, with the errno that said why. */
export class SpawnError extends Error {
  constructor(readonly path: string, readonly errno: number) {
    super(`${path}: ${errnoText(errno)}`);
  }

  /** Why, without the path (callers name it themselves). */
  get reason(): string {
    return errnoText(this.errno);
  }

  /** The shell's code for it: 127 when there is no such file (the program or its interpreter), else 126. */
  get exitCode(): 126 | 127 {
    return this.errno === ERRNO.ENOENT ? 127 : 126;
  }
}

/** The exit code for a program that could not start (126 unless a SpawnError says 127). */
export function startCode(e: unknown): 126 | 127 {
  return e instanceof SpawnError ? e.exitCode : 126;
}

/** Why a program could not start, without its path. */
export function startFailure(e: unknown): string {
  return e instanceof SpawnError ? e.reason : e instanceof Error ? e.message : String(e);
}

/** A started process. */
export interface Spawned {
  readonly pid: number;
  /** The read end of a pipe on the child's stderr, when asked for. */
  readonly stderr?: number;
}

/** glibc's sigset_t (1024 bits), which posix_spawnattr_t holds. */
const GLIBC_SIGSET_BYTES = 128;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETPGROUP = 0x02;

/**
 * Starts `path` with `argv` and `env` (inheriting stdin, stdout and, unless
 * `pipeStderr`, stderr). Throws with the errno text when it cannot start.
 */
export function spawn(
  path: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  opts: { pipeStderr?: boolean; newGroup?: boolean } = {},
): Spawned {
  reapOwnChildren();
  const c = libcProcess();
  const pidBuf = new Int32Array(1);
  const args = cStringArray(argv);
  const envp = cStringArray(Object.entries(env).map(([k, v]) => `${k}=${v}`));
  let actions: Uint8Array<ArrayBuffer> | null = null;
  const fds = new Int32Array(2);
  if (opts.pipeStderr) {
    if (c.pipe2(fds, O.CLOEXEC) !== 0) throw new Error(`pipe2: ${errnoText(errno())}`);
    actions = new Uint8Array(256); // posix_spawn_file_actions_t is 80 bytes on glibc
    c.posix_spawn_file_actions_init(actions);
    c.posix_spawn_file_actions_adddup2(actions, fds[1]!, 2);
  }
  // Every signal at its default and none blocked: Deno ignores SIGPIPE (and glibc's 32 and 33),
  // and an ignored signal would survive into the program (`yes | head` in a hook).
  const attr = new Uint8Array(512); // posix_spawnattr_t is 336 bytes on glibc
  c.posix_spawnattr_init(attr);
  c.posix_spawnattr_setsigdefault(attr, new Uint8Array(GLIBC_SIGSET_BYTES).fill(0xff));
  c.posix_spawnattr_setsigmask(attr, new Uint8Array(GLIBC_SIGSET_BYTES));
  // A process group of its own, whose id is its pid: a signal for it reaches what it starts.
  if (opts.newGroup) c.posix_spawnattr_setpgroup(attr, 0);
  c.posix_spawnattr_setflags(
    attr,
    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (opts.newGroup ? POSIX_SPAWN_SETPGROUP : 0),
  );
  const rc = c.posix_spawn(
    pidBuf,
    cString(path),
    actions,
    attr,
    new Uint8Array(args.pointers.buffer),
    new Uint8Array(envp.pointers.buffer),
  );
  void args.keepAlive;
  void envp.keepAlive;
  c.posix_spawnattr_destroy(attr);
  if (actions !== null) {
    c.posix_spawn_file_actions_destroy(actions);
    sys(SYS.close, fds[1]!);
  }
  if (rc !== 0) {
    if (opts.pipeStderr) sys(SYS.close, fds[0]!);
    throw new SpawnError(path, rc);
  }
  return opts.pipeStderr ? { pid: pidBuf[0]!, stderr: fds[0]! } : { pid: pidBuf[0]! };
}

/** What a wait reported: how a child ended, or (when stops are asked for) the signal that stopped it. */
export type Waited =
  | { readonly pid: number; readonly exit: Exit }
  | { readonly pid: number; readonly stopped: number };

const WNOHANG = 1;
const WUNTRACED = 2;

/**
 * Waits for any child (`pid` -1) or one child, on a worker thread. Returns
 * null when there is no child left to wait for.
 */
export async function waitAny(pid = -1): Promise<{ pid: number; exit: Exit } | null> {
  return await waitFor(pid, 0) as { pid: number; exit: Exit } | null;
}

/** Like {@linkcode waitAny} for any child, but a child that stops is reported too (job control). */
export function waitAnyOrStop(): Promise<Waited | null> {
  return waitFor(-1, WUNTRACED);
}

async function waitFor(pid: number, flags: number): Promise<Waited | null> {
  const c = libcProcess();
  const status = new Int32Array(1);
  const waited = (got: number): Waited => {
    const s = status[0]!;
    // WIFSTOPPED: the low byte is 0x7f and the signal is in the next one.
    return (s & 0xff) === 0x7f
      ? { pid: got, stopped: (s >> 8) & 0xff }
      : { pid: got, exit: decodeStatus(s) };
  };
  for (;;) {
    const got = await c.waitpidBlocking(pid, status, flags);
    if (got > 0) return waited(got);
    // errno lives on the worker thread: ask again without blocking to tell
    // "no children" (ECHILD) from an interrupted wait (EINTR).
    const again = c.waitpid(pid, status, flags | WNOHANG);
    if (again > 0) return waited(again);
    if (again < 0 && errno() === ERRNO.ECHILD) return null;
  }
}

/**
 * Reaps every child that has ended, without waiting, and returns how many:
 * orphans re-parented to a PID 1 or a subreaper. Only while nothing waits
 * for a child of its own (a waitpid for that pid would then find none).
 */
export function reapEnded(): number {
  const status = new Int32Array(1);
  let reaped = 0;
  while (libcProcess().waitpid(-1, status, WNOHANG) > 0) reaped++;
  return reaped;
}

let reaping = false;

/**
 * SIGCHLD at its default in this process, once, before its first child: an
 * ignored disposition survives execve (`env --ignore-signal=CHLD`, some
 * launchers), and with it the kernel reaps children itself, so waitpid()
 * would find none and the way a child ended would be lost.
 */
function reapOwnChildren(): void {
  if (reaping) return;
  sigaction(SIGNAL_NUMBERS["SIGCHLD"]!, "default");
  reaping = true;
}

/**
 * Starts a program and waits for it: how it ended. When it cannot start,
 * throws what `couldNotStart` makes of the reason and the exit code (126 or
 * 127); when waiting for it fails, an internal error. With `forward`, a stop
 * signal meanwhile is passed on to it (a hook) and what it started: it runs in
 * a process group of its own, unless this process is in its terminal's
 * foreground (a hook in the background would stop on reading the terminal).
 * Once it is gone the signal does what it would have done without it (by
 * default, ending the start with 128 + n): the entrypoint does not end while
 * the hook runs on. Spark's scripts are not forwarded to: the cluster phase
 * notes the signal and stops the cluster itself. With `tailBytes`, its stderr
 * is teed ({@linkcode teeStderr}) and its last bytes come back with the exit
 * (for a failure report); else it writes to ours directly.
 */
export async function runToEnd(
  path: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  couldNotStart: (reason: string, code: 126 | 127) => Error,
  { forward = false, tailBytes }: { forward?: boolean; tailBytes?: number | undefined } = {},
): Promise<{ exit: Exit; stderrTail: Uint8Array }> {
  let child: Spawned;
  const newGroup = forward && terminalForeground() !== ownGroup();
  try {
    child = spawn(path, argv, env, { newGroup, pipeStderr: tailBytes !== undefined });
  } catch (e) {
    throw couldNotStart(startFailure(e), startCode(e));
  }
  const pid = child.pid;
  const tee = child.stderr === undefined || tailBytes === undefined
    ? undefined
    : teeStderr(child.stderr, tailBytes);
  let received: ForwardedSignal | undefined;
  const previous = forward
    ? onSignal((sig) => {
      received ??= sig;
      const n = SIGNAL_NUMBERS[sig]!;
      if (!newGroup || !kill(-pid, n)) kill(pid, n);
    })
    : undefined;
  let done: Awaited<ReturnType<typeof waitAny>>;
  try {
    done = await waitAny(pid);
  } finally {
    if (previous !== undefined) onSignal(previous);
  }
  if (previous !== undefined && received !== undefined) previous(received);
  const stderrTail = tee === undefined ? new Uint8Array(0) : await tee.end();
  if (done === null) {
    throw new ChameleonError(
      `${path}: waitpid found no child (ECHILD): how it ended is not known`,
      EXIT.internal,
    );
  }
  return { exit: done.exit, stderrTail };
}

/** Resolves after `ms` milliseconds (the polling loops of apply and run). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends a signal; false when the target is gone. */
export function kill(pid: number, signal: number): boolean {
  return libcProcess().kill(pid, signal) === 0;
}

/** Puts `pid` in its own process group (ignored when it already exec'd or did it itself). */
export function setpgid(pid: number): void {
  sys(SYS.setpgid, pid, pid);
}

/** Orphans of our descendants are re-parented to us (Linux >= 3.4), as tini -s does. */
export function becomeSubreaper(): boolean {
  return libcProcess().prctl(36, /* PR_SET_CHILD_SUBREAPER */ 1n, 0n, 0n, 0n) === 0;
}

/** Reads a pipe without holding up the event loop; empty at end of file (or when it fails). */
export async function readChunk(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const n = await readSome(fd, buf);
  return n > 0 ? buf.slice(0, n) : new Uint8Array(0);
}

/** The most a drain reads: the tail only needs the end, and a descendant may write on and on. */
const DRAIN_LIMIT = 1 << 20;

/** Passes `keep` what the pipe `fd` holds now, without waiting for more. */
function drainInto(fd: number, keep: (chunk: Uint8Array) => void): void {
  const buf = new Uint8Array(64 * 1024);
  for (let read = 0; read < DRAIN_LIMIT;) {
    const n = readNow(fd, buf);
    if (n <= 0) return;
    keep(buf.subarray(0, n));
    read += n;
  }
}

/** The bytes of `chunks` (of `size` bytes in all) in one array. */
export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A child's stderr pipe copied to ours, its last bytes kept for a failure report. */
export interface StderrTee {
  /**
   * Once the child has ended: gives descendants that keep the pipe open a
   * moment, stops reading, closes the pipe and returns the last bytes.
   */
  end(): Promise<Uint8Array>;
}

/**
 * Tees the pipe `fd` (a child's stderr): everything still reaches our stderr
 * unchanged, and the last `limit` bytes are kept. A log reader that stops
 * reading holds up only the echo: what the child wrote last, the reason it
 * failed, is kept all the same (design section 7).
 */
export function teeStderr(fd: number, limit: number): StderrTee {
  // A ring of the last `limit` bytes: a chunk costs its own length, not the tail's (a report
  // that must see long secrets whole keeps their length more than the tail it shows).
  const ring = new Uint8Array(limit);
  let written = 0;
  const keep = (chunk: Uint8Array) => {
    if (limit <= 0) return;
    const part = chunk.length > limit ? chunk.subarray(chunk.length - limit) : chunk;
    const at = (written + chunk.length - part.length) % limit;
    const first = Math.min(part.length, limit - at);
    ring.set(part.subarray(0, first), at);
    ring.set(part.subarray(first), 0);
    written += chunk.length;
  };
  const tail = () => {
    if (written <= limit) return ring.slice(0, written);
    const at = written % limit;
    return concatBytes([ring.subarray(at), ring.subarray(0, at)], limit);
  };
  // Whether the tee waits on its echo (no read of the pipe is under way), and whether it must stop.
  let echoing = false;
  let stopped = false;
  const done = (async () => {
    const buf = new Uint8Array(16 * 1024);
    let echo = true;
    while (!stopped) {
      const chunk = await readChunk(fd, buf);
      if (chunk.length === 0) break;
      // Kept before it is echoed: an echo that a log reader holds up must not keep it from the report.
      keep(chunk);
      if (echo) {
        echoing = true;
        try {
          // Off the main thread: a log reader that stops reading must not hold up signals.
          await writeAllTo(2, chunk);
        } catch {
          // Our stderr is gone (a closed pipe): the child's code and its failure report still count.
          echo = false;
        }
        echoing = false;
      }
    }
  })();
  return {
    async end() {
      // Descendants may keep stderr open: give the pipe a moment, then stop reading.
      await Promise.race([done, sleep(200)]);
      // While the tee waits on its echo no read is under way: what is in the pipe goes into the
      // tail unechoed, and the order holds.
      if (echoing) drainInto(fd, keep);
      stopped = true;
      closeFd(fd);
      return tail();
    },
  };
}

/** Closes a file descriptor. */
export function closeFd(fd: number): void {
  sys(SYS.close, fd);
}

/** The foreground process group of the terminal (on stdin, stdout or stderr); null when there is none. */
export function terminalForeground(): number | null {
  const tty = terminalFd();
  if (tty === null) return null;
  const pgid = libcTty().tcgetpgrp(tty);
  return pgid > 0 ? pgid : null;
}

/** Makes `pgid` the terminal's foreground group (SIGTTOU must be ignored when we are not it); false when refused. */
export function giveTerminal(pgid: number): boolean {
  const tty = terminalFd();
  return tty !== null && libcTty().tcsetpgrp(tty, pgid) === 0;
}

/** This process's group. */
export function ownGroup(): number {
  return libcTty().getpgrp();
}

/**
 * Stops this process as Ctrl-Z would (SIGTSTP with its default action) and
 * returns once something continues it. Returns at once when the kernel
 * discards the stop: a process group with no parent in the session to
 * continue it (an orphaned group) is not stopped.
 */
export function stopSelf(): void {
  const tstp = SIGNAL_NUMBERS["SIGTSTP"]!;
  sigaction(tstp, "default");
  libcProcess().kill(Deno.pid, tstp);
}

/** Ignores a signal in this process (the supervisor must not stop on SIGTTOU/SIGTTIN). */
export function ignoreSignal(signal: number): void {
  sigaction(signal, "ignore");
}
