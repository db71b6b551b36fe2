/**
 * Streams the user names on the command line: `-` (standard input or
 * output), the process's own descriptors by name (`/dev/stdout`,
 * `/dev/fd/63` from `<(...)`), a pipe, a device. The waits (open() of a pipe
 * until its other end is there, readiness to read or write) happen on worker
 * threads, so the event loop stays free for the signal listeners (SIGTERM
 * ends the wait); each read and write then runs here, where errno is
 * readable, and a descriptor someone made non-blocking is simply waited on
 * again. Through libc, because Deno asks for `--allow-all` to open anything
 * under /dev or /proc (denoland/deno#27564), `/dev/stdin` included.
 *
 * @module
 */

import type { BytesState } from "./fs.ts";
import { AT_FDCWD, cString, ERRNO, errno, errnoText, libcProcess, O, SYS, sys } from "./libc.ts";

/** `-`: standard input for a read, standard output for a write. */
export const STANDARD_STREAM = "-";

/** How an output is named in a log line. */
export function outputName(path: string): string {
  return path === STANDARD_STREAM ? "standard output" : path;
}

const STANDARD_NAMES: Readonly<Record<string, number>> = {
  "/dev/stdin": 0,
  "/dev/stdout": 1,
  "/dev/stderr": 2,
};
const FD_NAME = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d{1,9})$/;

/**
 * The descriptor a name stands for, used as it is rather than opened again:
 * opening `/dev/stdout` anew would truncate a log opened for appending,
 * write at its own offset over what stderr wrote, and fail for a socket.
 */
export function ownDescriptor(path: string, dash: number): number | undefined {
  if (path === STANDARD_STREAM) return dash;
  const m = FD_NAME.exec(path);
  return m !== null ? Number(m[1]) : STANDARD_NAMES[path];
}

const F_GETFD = 1;
const F_GETFL = 3;
const FD_CLOEXEC = 1;
const O_ACCMODE = 3;
const SOL_SOCKET = 1;
const SO_ACCEPTCONN = 30;

/**
 * Why the process's own descriptor `fd`, which the user named (`/dev/fd/N`, `-`), is not one
 * to read; undefined when it may be. One the process was not started with is its runtime's
 * (Deno's event loop, its eventfd, its signal socket): every descriptor that survives execve
 * has close-on-exec clear, and the runtime sets it on all of its own, which a read would wait
 * on forever or rob of their wake-ups. A descriptor not open for reading (a pipe's write end
 * never polls readable) and a listening socket (it gives connections, no bytes) would wait
 * forever too.
 */
export function unreadableDescriptor(fd: number): string | undefined {
  const fdFlags = sys(SYS.fcntl, fd, F_GETFD);
  if (fdFlags < 0) return errnoText(errno());
  if ((fdFlags & FD_CLOEXEC) !== 0) {
    return "not a descriptor the entrypoint was started with (its runtime opened it)";
  }
  const flags = sys(SYS.fcntl, fd, F_GETFL);
  if (flags < 0) return errnoText(errno());
  if ((flags & O_ACCMODE) === O.WRONLY || (flags & O.PATH) !== 0) {
    return "not open for reading";
  }
  // An int and its size; fails (ENOTSOCK) for anything but a socket.
  const listening = new Uint8Array(4);
  const size = new Uint8Array(new Uint32Array([4]).buffer);
  const rc = sys(SYS.getsockopt, fd, SOL_SOCKET, SO_ACCEPTCONN, listening, size);
  if (rc === 0 && listening.some((b) => b !== 0)) {
    return "a listening socket, which gives connections, not bytes";
  }
  return undefined;
}

/**
 * Opens `path` on a worker thread. errno stays on that thread: after a
 * failure the same open is made here without waiting, to learn why.
 */
async function openStream(path: string, flags: number, mode = 0): Promise<number> {
  const fd = await libcProcess().openBlocking(cString(path), flags | O.CLOEXEC, mode);
  if (fd >= 0) return fd;
  const again = sys(SYS.openat, AT_FDCWD, cString(path), flags | O.CLOEXEC | O.NONBLOCK, mode);
  if (again >= 0) {
    sys(SYS.close, again);
    throw new Error("could not be opened");
  }
  throw new Error(errnoText(errno()));
}

const POLLIN = 0x1;
const POLLOUT = 0x4;

/** A `struct pollfd` (int fd, short events, short revents) asking `events` of `fd`. */
function pollFd(fd: number, events: number): Uint8Array {
  const pollfd = new Uint8Array(8);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  return pollfd;
}

/** Waits on a worker thread until `fd` is ready (or hung up, or failed: the next call says which). */
async function ready(fd: number, events: number): Promise<void> {
  const pollfd = pollFd(fd, events);
  // Interrupted waits are asked again; a failing one often enough gives up to the call itself.
  for (let tries = 0; tries < 100; tries++) {
    if (await libcProcess().pollBlocking(pollfd, 1n, -1) > 0) return;
  }
}

/** Whether a failed read or write is only "not now" (a non-blocking descriptor, a signal). */
function again(code: number): boolean {
  return code === ERRNO.EAGAIN || code === ERRNO.EINTR;
}

/**
 * Reads what `fd` has (waiting for it on a worker thread) into `buf`: the
 * count, 0 at end of file, or minus the errno.
 */
export async function readSome(fd: number, buf: Uint8Array): Promise<number> {
  for (;;) {
    await ready(fd, POLLIN);
    const n = sys(SYS.read, fd, buf, buf.length);
    if (n >= 0) return n;
    const code = errno();
    if (!again(code)) return -code;
  }
}

/**
 * Reads what `fd` holds at this moment into `buf`, without waiting: the
 * count, 0 when there is nothing yet or at end of file, or minus the errno.
 */
export function readNow(fd: number, buf: Uint8Array): number {
  const pollfd = pollFd(fd, POLLIN);
  if (libcProcess().pollNow(pollfd, 1n, 0) <= 0) return 0;
  const n = sys(SYS.read, fd, buf, buf.length);
  return n >= 0 ? n : -errno();
}

/**
 * Reads the open `fd` to its end, at most `limit` bytes (more is unreadable
 * with a reason, as fs.ts's readBounded() says), waiting for what is to come
 * off the main thread.
 */
export async function readStreamFrom(fd: number, limit: number): Promise<BytesState> {
  let buf = new Uint8Array(64 * 1024);
  let total = 0;
  for (;;) {
    if (total === buf.length) {
      // One buffer, grown by doubling: a pipe fed in small pieces costs no more than a file.
      const bigger = new Uint8Array(Math.min(limit + 1, buf.length * 2));
      bigger.set(buf);
      buf = bigger;
    }
    const n = await readSome(fd, buf.subarray(total));
    if (n < 0) return { kind: "unreadable", reason: errnoText(-n) };
    if (n === 0) break;
    total += n;
    if (total > limit) return { kind: "unreadable", reason: `larger than ${limit} bytes` };
  }
  return { kind: "ok", bytes: buf.subarray(0, total) };
}

/** At most what a pipe that polls writable takes without blocking (PIPE_BUF). */
const WRITE_CHUNK = 4096;

/**
 * Writes `content` to `path` (standard output for `-`) in place: no
 * temporary file and rename, which would put a file where a device's name
 * or a link was. A file opened here is created (with `mode`) or truncated first,
 * as `>` does; a descriptor of our own is written where it stands. Throws
 * with the reason.
 */
export async function writeStream(path: string, content: string, mode = 0o600): Promise<void> {
  const own = ownDescriptor(path, 1);
  const fd = own ?? await openStream(path, O.WRONLY | O.CREAT | O.TRUNC, mode);
  try {
    await writeAllTo(fd, new TextEncoder().encode(content));
  } finally {
    if (own === undefined) sys(SYS.close, fd);
  }
}

/**
 * Writes `bytes` to `fd` if it takes them within about `ms` milliseconds,
 * waiting on this thread; whether it did. What is left when it stops taking
 * them (a pipe whose reader stopped reading) is dropped.
 */
export function writeWithin(fd: number, bytes: Uint8Array, ms: number): boolean {
  const pollfd = pollFd(fd, POLLOUT);
  for (let at = 0; at < bytes.length;) {
    // Writable means room for at least a page: a piece of that size does not block.
    if (libcProcess().pollNow(pollfd, 1n, ms) <= 0) return false;
    const n = sys(SYS.write, fd, bytes.subarray(at), Math.min(WRITE_CHUNK, bytes.length - at));
    if (n > 0) at += n;
    else if (n === 0 || !again(errno())) return false;
  }
  return true;
}

/**
 * Writes `bytes` to an open descriptor without ever blocking the main thread:
 * it waits on a worker thread until the descriptor takes more, then writes at
 * most what a pipe that polls writable takes. A reader that stops reading
 * holds up only this promise, not signal handling or reaping; a descriptor
 * someone made non-blocking is waited on, not given up. Throws
 * `Deno.errors.BrokenPipe` when the reader went away, else an error with the
 * reason.
 */
export async function writeAllTo(fd: number, bytes: Uint8Array): Promise<void> {
  const pollfd = pollFd(fd, POLLOUT);
  for (let at = 0; at < bytes.length;) {
    // Ask without waiting first: a reader that keeps up costs no trip to a worker thread.
    if (libcProcess().pollNow(pollfd, 1n, 0) <= 0) await ready(fd, POLLOUT);
    const n = sys(SYS.write, fd, bytes.subarray(at), Math.min(WRITE_CHUNK, bytes.length - at));
    if (n < 0) {
      const code = errno();
      if (again(code)) continue;
      // The reader went away (`| head -1`): main.ts ends quietly, as SIGPIPE would.
      if (code === ERRNO.EPIPE) throw new Deno.errors.BrokenPipe(errnoText(code));
      throw new Error(errnoText(code));
    }
    at += n;
  }
}
