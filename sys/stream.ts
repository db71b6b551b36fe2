/**
 * Streams the user names on the command line: `-` (standard input or
 * output), a pipe (`<(...)`), `/dev/stdout`, a device. Opened, read and written
 * on worker threads: a pipe waits in open() until its other end is there, and
 * the event loop must stay free meanwhile for the signal listeners (SIGTERM
 * ends the wait). Through libc, because Deno asks for `--allow-all` to open
 * anything under /dev or /proc (denoland/deno#27564), `/dev/stdin` included.
 *
 * @module
 */

import type { FileState } from "../world.ts";
import { AT_FDCWD, cString, errno, errnoText, libcProcess, O, SYS, sys } from "./libc.ts";

/** `-`: standard input for a read, standard output for a write. */
export const STANDARD_STREAM = "-";

/** How an output is named in a log line. */
export function outputName(path: string): string {
  return path === STANDARD_STREAM ? "standard output" : path;
}

/**
 * Opens `path` on a worker thread. errno stays on that thread: after a
 * failure the same open is made here without waiting, to learn why.
 */
async function openStream(path: string, flags: number): Promise<number> {
  const fd = await libcProcess().openBlocking(cString(path), flags | O.CLOEXEC);
  if (fd >= 0) return fd;
  const again = sys(SYS.openat, AT_FDCWD, cString(path), flags | O.CLOEXEC | O.NONBLOCK, 0);
  if (again >= 0) {
    sys(SYS.close, again);
    throw new Error("could not be opened");
  }
  throw new Error(errnoText(errno()));
}

/**
 * Reads `path` (or standard input for `-`) to its end, at most `limit` bytes;
 * more is unreadable with a reason, as for {@linkcode readBounded}.
 */
export async function readStream(path: string, limit: number): Promise<FileState> {
  let fd: number;
  try {
    fd = path === STANDARD_STREAM ? 0 : await openStream(path, 0);
  } catch (e) {
    return { kind: "unreadable", reason: (e as Error).message };
  }
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(64 * 1024);
      const n = Number(await libcProcess().readBlocking(fd, buf, BigInt(buf.length)));
      if (n < 0) return { kind: "unreadable", reason: "a read failed" };
      if (n === 0) break;
      total += n;
      if (total > limit) return { kind: "unreadable", reason: `larger than ${limit} bytes` };
      chunks.push(buf.subarray(0, n));
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return { kind: "ok", text: new TextDecoder().decode(all) };
  } finally {
    if (fd !== 0) sys(SYS.close, fd);
  }
}

/**
 * Writes `content` to `path` (or standard output for `-`) as it is: no
 * temporary file and rename, which would put a file where a device's name or
 * a link was. A file behind the name is truncated first, as `>` does. Throws
 * with the reason.
 */
export async function writeStream(path: string, content: string): Promise<void> {
  const fd = path === STANDARD_STREAM ? 1 : await openStream(path, O.WRONLY | O.TRUNC);
  try {
    const bytes = new TextEncoder().encode(content);
    for (let at = 0; at < bytes.length;) {
      const n = Number(
        await libcProcess().writeBlocking(fd, bytes.subarray(at), BigInt(bytes.length - at)),
      );
      if (n <= 0) throw new Error("a write failed (the reader may be gone)");
      at += n;
    }
  } finally {
    if (fd !== 1) sys(SYS.close, fd);
  }
}
