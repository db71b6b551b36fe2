/**
 * Bounded file reads and listings for the snapshot layer, through libc: Deno
 * asks for `--allow-all` to read /proc and /sys (denoland/deno#27564), and
 * one code path for every file is simpler than two.
 *
 * @module
 */

import type { FileState } from "../world.ts";
import { cString, ERRNO, errno, errnoText, libcDir, libcRead } from "./libc.ts";

/** The outcome of reading one file: the same states a snapshot's files have. */
export type ReadOutcome = FileState;

/** Owner and mode of a path, and whether it is a folder. */
export interface PathStat {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly isDir: boolean;
}

const decoder = new TextDecoder();

const O_RDONLY_CLOEXEC = 0o2000000;
const O_DIRECTORY = 0o200000;
const O_PATH = 0o10000000;

function failure(code: number): ReadOutcome {
  return code === ERRNO.ENOENT || code === ERRNO.ENOTDIR
    ? { kind: "missing" }
    : { kind: "unreadable", reason: errnoText(code) };
}

/**
 * Reads at most `limit` bytes of `path`; a larger file is unreadable with a
 * reason. All reads go through libc: one path for /proc, /sys and the rest,
 * and no per-op warm-up cost at start-up.
 */
export function readBounded(path: string, limit: number): ReadOutcome {
  const c = libcRead();
  const fd = c.open(cString(path), O_RDONLY_CLOEXEC, 0);
  if (fd < 0) return failure(errno());
  try {
    // Most platform files are small: grow the buffer only when needed.
    let buf = new Uint8Array(Math.min(limit + 1, 16 * 1024));
    let total = 0;
    while (total <= limit) {
      if (total === buf.length) {
        const bigger = new Uint8Array(Math.min(limit + 1, buf.length * 4));
        bigger.set(buf);
        buf = bigger;
      }
      const n = Number(c.read(fd, buf.subarray(total), BigInt(buf.length - total)));
      if (n < 0) {
        const code = errno();
        if (code === ERRNO.EINTR) continue;
        return { kind: "unreadable", reason: errnoText(code) };
      }
      if (n === 0) break;
      total += n;
    }
    if (total > limit) return { kind: "unreadable", reason: `larger than ${limit} bytes` };
    return { kind: "ok", text: decoder.decode(buf.subarray(0, total)) };
  } finally {
    c.close(fd);
  }
}

/**
 * Whether `path` exists and is a folder, without opening it for reading (a
 * device node such as /dev/nvidia0 must not be opened).
 */
export function pathKind(path: string): "dir" | "file" | null {
  const c = libcRead();
  const p = cString(path);
  const dir = c.open(p, O_PATH | O_DIRECTORY | O_RDONLY_CLOEXEC, 0);
  if (dir >= 0) {
    c.close(dir);
    return "dir";
  }
  const any = c.open(p, O_PATH | O_RDONLY_CLOEXEC, 0);
  if (any < 0) return null;
  c.close(any);
  return "file";
}

// struct dirent64 on 64-bit Linux/glibc: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name.
const DIRENT_NAME_OFFSET = 19;

/**
 * Names in a folder (no `.`/`..`), or null when it is missing or not a folder.
 * Deno's own listing works everywhere but under /proc and /sys.
 */
export function listDir(path: string): string[] | null {
  if (!path.startsWith("/proc/") && !path.startsWith("/sys/")) {
    try {
      return [...Deno.readDirSync(path)].map((e) => e.name);
    } catch {
      return null;
    }
  }
  // opendir opens with O_DIRECTORY: a file or device node fails with ENOTDIR, unopened.
  const c = libcDir();
  const dir = c.opendir(cString(path));
  if (dir === null) return null;
  const names: string[] = [];
  try {
    for (let entry = c.readdir(dir); entry !== null; entry = c.readdir(dir)) {
      const name = new Deno.UnsafePointerView(entry).getCString(DIRENT_NAME_OFFSET);
      if (name !== "." && name !== "..") names.push(name);
    }
  } finally {
    c.closedir(dir);
  }
  return names;
}

/** Owner, mode and kind of `path`, or null when it does not exist. */
export function statPath(path: string): PathStat | null {
  try {
    const info = Deno.statSync(path);
    return {
      uid: info.uid ?? 0,
      gid: info.gid ?? 0,
      mode: (info.mode ?? 0) & 0o7777,
      isDir: info.isDirectory,
    };
  } catch {
    return null;
  }
}
