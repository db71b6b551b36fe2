/**
 * Bounded file reads and listings for the snapshot layer. Paths under /proc and
 * /sys go through libc because Deno asks for `--allow-all` for them
 * (denoland/deno#27564); everything else uses Deno's own API.
 *
 * @module
 */

import { cString, ERRNO, errno, errnoText, libc } from "./libc.ts";

/** The outcome of reading one file. */
export type ReadOutcome =
  | { readonly kind: "ok"; readonly text: string }
  | { readonly kind: "missing" }
  | { readonly kind: "unreadable"; readonly reason: string };

/** Owner and mode of a path, and whether it is a folder. */
export interface PathStat {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly isDir: boolean;
}

const decoder = new TextDecoder();

function isKernelPath(path: string): boolean {
  return path.startsWith("/proc/") || path.startsWith("/sys/");
}

/** Reads at most `limit` bytes of `path`; a larger file is unreadable with a reason. */
export function readBounded(path: string, limit: number): ReadOutcome {
  return isKernelPath(path) ? readKernel(path, limit) : readDeno(path, limit);
}

function readDeno(path: string, limit: number): ReadOutcome {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (e) {
    return fromDenoError(e);
  }
  try {
    const info = file.statSync();
    if (info.isDirectory) return { kind: "unreadable", reason: "is a directory" };
    const buf = new Uint8Array(limit + 1);
    let total = 0;
    while (total < buf.length) {
      const n = file.readSync(buf.subarray(total));
      if (n === null || n === 0) break;
      total += n;
    }
    if (total > limit) return { kind: "unreadable", reason: `larger than ${limit} bytes` };
    return { kind: "ok", text: decoder.decode(buf.subarray(0, total)) };
  } catch (e) {
    return fromDenoError(e);
  } finally {
    file.close();
  }
}

function fromDenoError(e: unknown): ReadOutcome {
  if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
    return { kind: "missing" };
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return { kind: "unreadable", reason: "permission denied" };
  }
  return { kind: "unreadable", reason: e instanceof Error ? e.message : String(e) };
}

const O_RDONLY_CLOEXEC = 0o2000000;
const O_DIRECTORY = 0o200000;

function readKernel(path: string, limit: number): ReadOutcome {
  const c = libc();
  const fd = c.open(cString(path), O_RDONLY_CLOEXEC, 0);
  if (fd < 0) {
    const code = errno();
    return code === ERRNO.ENOENT || code === ERRNO.ENOTDIR
      ? { kind: "missing" }
      : { kind: "unreadable", reason: errnoText(code) };
  }
  try {
    const buf = new Uint8Array(limit + 1);
    let total = 0;
    while (total < buf.length) {
      const n = Number(c.read(fd, buf.subarray(total), BigInt(buf.length - total)));
      if (n < 0) return { kind: "unreadable", reason: errnoText(errno()) };
      if (n === 0) break;
      total += n;
    }
    if (total > limit) return { kind: "unreadable", reason: `larger than ${limit} bytes` };
    return { kind: "ok", text: decoder.decode(buf.subarray(0, total)) };
  } finally {
    c.close(fd);
  }
}

/** Names in a folder (no `.`/`..`), or null when it is missing or not a folder. */
export function listDir(path: string): string[] | null {
  if (isKernelPath(path)) return listKernel(path);
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name);
  } catch {
    return null;
  }
}

// struct dirent64 on 64-bit Linux/glibc: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name.
const DIRENT_NAME_OFFSET = 19;

function listKernel(path: string): string[] | null {
  const c = libc();
  const fd = c.open(cString(path), O_RDONLY_CLOEXEC | O_DIRECTORY, 0);
  if (fd < 0) return null;
  c.close(fd);
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
