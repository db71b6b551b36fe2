/**
 * Bounded file reads, listings and stat for the snapshot layer, through raw
 * system calls: Deno asks for `--allow-all` to read, list or stat anything
 * under /proc, /sys or /dev (denoland/deno#27564), and one code path for
 * every path is simpler than two.
 *
 * @module
 */

import type { FileState } from "../world.ts";
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  cString,
  ERRNO,
  errno,
  errnoText,
  O,
  S,
  SEEK,
  STAT_FIELDS,
  SYS,
  sys,
} from "./libc.ts";

/** Owner and mode of a path, and whether it is a folder. */
export interface PathStat {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly isDir: boolean;
  /** A regular file (not a folder, pipe, socket or device). */
  readonly isFile: boolean;
  /** On a read-only file system (mode bits say nothing of that, and root is refused too). */
  readonly readOnly: boolean;
}

const decoder = new TextDecoder();

const O_RDONLY_CLOEXEC = O.RDONLY | O.CLOEXEC;

function failure(code: number): Exclude<FileState, { readonly kind: "ok" }> {
  return code === ERRNO.ENOENT || code === ERRNO.ENOTDIR
    ? { kind: "missing" }
    : { kind: "unreadable", reason: errnoText(code) };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The text of bytes that are UTF-8, else undefined. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A field of /proc/self/status (`Groups`, `CapEff`, ...), trimmed; undefined when absent or unreadable. */
export function procStatusField(name: string): string | undefined {
  const r = readBounded("/proc/self/status", 64 * 1024);
  if (r.kind !== "ok") return undefined;
  const line = r.text.split("\n").find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/** A file's bytes as they are, or why there are none. */
export type BytesState =
  | { readonly kind: "ok"; readonly bytes: Uint8Array }
  | Exclude<FileState, { readonly kind: "ok" }>;

/**
 * Reads at most `limit` bytes of `path` as UTF-8 text; a larger file is
 * unreadable with a reason. All reads go through libc: one path for /proc,
 * /sys and the rest, and no per-op warm-up cost at start-up.
 */
export function readBounded(path: string, limit: number): FileState {
  const r = readBoundedBytes(path, limit);
  return r.kind === "ok" ? { kind: "ok", text: decoder.decode(r.bytes) } : r;
}

/**
 * Reads from `fd` into `buf` from `at` until it is full or the file ends: the
 * count in `buf`, or minus the errno of a failed read.
 */
function readFull(fd: number, buf: Uint8Array, at: number): number {
  while (at < buf.length) {
    const n = sys(SYS.read, fd, buf.subarray(at), buf.length - at);
    if (n < 0 && errno() === ERRNO.EINTR) continue;
    if (n < 0) return -errno();
    if (n === 0) break;
    at += n;
  }
  return at;
}

/** {@linkcode readBounded} without decoding: the bytes as they are. */
export function readBoundedBytes(path: string, limit: number): BytesState {
  const fd = sys(SYS.openat, AT_FDCWD, cString(path), O_RDONLY_CLOEXEC, 0);
  if (fd < 0) return failure(errno());
  try {
    return readOpen(fd, limit);
  } finally {
    sys(SYS.close, fd);
  }
}

/**
 * Opening for a look: a FIFO does not wait for a writer (nor a read for data),
 * and a terminal does not become the controlling one of a start without one.
 */
const O_READ_NOW = O_RDONLY_CLOEXEC | O.NONBLOCK | O.NOCTTY;

/** What {@linkcode readFileOnly} found: a file read, or `special` (never read). */
export type FileOnlyState = FileState | { readonly kind: "special" };

/**
 * Reads at most `limit` bytes of `path` as {@linkcode readBounded} does, but
 * only from a regular file that `withheld` (identities, as
 * {@linkcode pathIdentity} gives them) does not name: what is opened is asked
 * what it is before anything is read, so a FIFO, device or token put at `path`
 * after any check is `special` and never read, and the open itself does not
 * wait on a FIFO. A folder is unreadable (is a directory), as for a read.
 */
export function readFileOnly(
  path: string,
  limit: number,
  withheld: ReadonlySet<string> = new Set(),
): FileOnlyState {
  const r = readFileOnlyBytes(path, limit, withheld);
  return r.kind === "ok" ? { kind: "ok", text: decoder.decode(r.bytes) } : r;
}

/** {@linkcode readFileOnly} without decoding: the bytes as they are. */
function readFileOnlyBytes(
  path: string,
  limit: number,
  withheld: ReadonlySet<string> = new Set(),
): BytesState | { readonly kind: "special" } {
  const opened = openLook(path);
  if (opened.kind !== "open") return opened;
  try {
    const { is } = opened;
    if (is.kind === "dir") return { kind: "unreadable", reason: errnoText(ERRNO.EISDIR) };
    if (is.kind !== "file" || withheld.has(is.id)) return { kind: "special" };
    return readOpen(opened.fd, limit);
  } finally {
    sys(SYS.close, opened.fd);
  }
}

/** A file open for a look, and what its descriptor says it is (a folder, a file or special). */
export interface Looked {
  readonly kind: "open";
  readonly fd: number;
  readonly is: { readonly kind: "file" | "dir" | "special"; readonly id: string };
}

/**
 * Opens `path` for a look (a FIFO is not waited on, a terminal does not
 * become the controlling one) and asks the descriptor what it is: whatever is
 * then read from it is what was asked, however the path changes. Special when
 * it cannot be opened for being a socket (or a device node without its
 * device). The caller closes the descriptor.
 */
export function openLook(path: string): Looked | Exclude<BytesState, { kind: "ok" }> | {
  readonly kind: "special";
} {
  const fd = sys(SYS.openat, AT_FDCWD, cString(path), O_READ_NOW, 0);
  if (fd < 0) {
    const code = errno();
    return code === ERRNO.ENXIO ? { kind: "special" } : failure(code);
  }
  const is = descriptorIdentity(fd);
  if (!("id" in is)) {
    const reason = errnoText(errno());
    sys(SYS.close, fd);
    return { kind: "unreadable", reason };
  }
  return { kind: "open", fd, is };
}

/**
 * How many bytes the regular file open as `fd` holds from its offset on (a
 * descriptor handed over, such as `< file` on standard input, may stand past
 * its start), its offset left where it was; undefined when it cannot be told.
 * A size, asked before reading, refuses a huge (or sparse) file unread.
 */
export function bytesFromOffset(fd: number): number | undefined {
  const at = sys(SYS.lseek, fd, 0, SEEK.CUR);
  if (at < 0) return undefined;
  const end = sys(SYS.lseek, fd, 0, SEEK.END);
  sys(SYS.lseek, fd, at, SEEK.SET);
  return end < 0 ? undefined : Math.max(0, end - at);
}

/** Reads at most `limit` bytes from `fd`; more is unreadable with a reason. */
export function readOpen(fd: number, limit: number): BytesState {
  // Most platform files are small: grow the buffer only when needed.
  let buf = new Uint8Array(Math.min(limit + 1, 16 * 1024));
  let total = 0;
  for (;;) {
    total = readFull(fd, buf, total);
    if (total < 0) return { kind: "unreadable", reason: errnoText(-total) };
    // Not filled: the file ended. Filled at limit + 1: it is larger than the limit.
    if (total < buf.length || total > limit) break;
    const bigger = new Uint8Array(Math.min(limit + 1, buf.length * 4));
    bigger.set(buf);
    buf = bigger;
  }
  if (total > limit) return { kind: "unreadable", reason: `larger than ${limit} bytes` };
  return { kind: "ok", bytes: buf.subarray(0, total) };
}

/**
 * The first bytes of `path`, at most `count` (fewer when it is shorter);
 * undefined when it cannot be read or is no regular file (a FIFO is not waited
 * on, a device not read).
 */
export function readHead(path: string, count: number): Uint8Array | undefined {
  const fd = sys(SYS.openat, AT_FDCWD, cString(path), O_READ_NOW, 0);
  if (fd < 0) return undefined;
  try {
    if (descriptorIdentity(fd).kind !== "file") return undefined;
    const buf = new Uint8Array(count);
    const total = readFull(fd, buf, 0);
    return total < 0 ? undefined : buf.subarray(0, total);
  } finally {
    sys(SYS.close, fd);
  }
}

/**
 * Whether `path` exists and is a folder, without opening it (a device node
 * such as /dev/nvidia0 must not be opened): one statx.
 */
export function pathKind(path: string): "dir" | "file" | null {
  const st = statPath(path);
  return st === null ? null : st.isDir ? "dir" : "file";
}

// struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, then the NUL-terminated name.
const DIRENT_RECLEN = 16;
const DIRENT_NAME = 19;

/** Names in a folder (no `.`/`..`), or null when it is missing or not a folder. */
export function listDir(path: string): string[] | null {
  // O_DIRECTORY: a file or a device node fails with ENOTDIR before it is opened.
  const fd = sys(SYS.openat, AT_FDCWD, cString(path), O_RDONLY_CLOEXEC | O.DIRECTORY, 0);
  if (fd < 0) return null;
  try {
    return listOpenDir(fd);
  } finally {
    sys(SYS.close, fd);
  }
}

/**
 * Names in the folder open as `fd` (no `.`/`..`), read from its current
 * position; null (errno set) when reading fails: a listing cut short is not a
 * listing.
 */
function listOpenDir(fd: number): string[] | null {
  return listOpenDirBytes(fd)?.map((name) => decoder.decode(name.subarray(0, -1))) ?? null;
}

/**
 * {@linkcode listOpenDir} as the bytes of each name, NUL-ended for a system call: a name that
 * is not UTF-8 (Latin-1 from an old archive) decodes to U+FFFD, which names no entry.
 */
export function listOpenDirBytes(fd: number): Uint8Array<ArrayBuffer>[] | null {
  const names: Uint8Array<ArrayBuffer>[] = [];
  const buf = new Uint8Array(32 * 1024);
  const view = new DataView(buf.buffer);
  for (;;) {
    const n = sys(SYS.getdents64, fd, buf, buf.length);
    if (n < 0 && errno() === ERRNO.EINTR) continue;
    if (n < 0) return null;
    if (n === 0) return names;
    for (let at = 0; at < n; at += view.getUint16(at + DIRENT_RECLEN, true)) {
      const start = at + DIRENT_NAME;
      const end = buf.indexOf(0, start);
      const dots = end - start <= 2 && buf[start] === 0x2e &&
        (end - start === 1 || buf[start + 1] === 0x2e);
      if (!dots) names.push(buf.slice(start, end + 1));
    }
  }
}

const STATX_TYPE_MODE_UID_GID = 0x1 | 0x2 | 0x8 | 0x10;
const statxBuf = new Uint8Array(256);
const statxView = new DataView(statxBuf.buffer);

/** Owner, mode and kind of `path` (symlinks followed), or null when it does not exist. */
export function statPath(path: string): PathStat | null {
  const st = statOf(AT_FDCWD, cString(path), 0, STATX_TYPE_MODE_UID_GID);
  if (st === null) return null;
  return {
    uid: st.uid,
    gid: st.gid,
    mode: st.mode & 0o7777,
    isDir: (st.mode & S.IFMT) === S.IFDIR,
    isFile: (st.mode & S.IFMT) === S.IFREG,
    readOnly: onReadOnlyMount(path),
  };
}

/** What statx, or newfstatat where there is none, tells of a file. */
interface Stat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Device (as `major:minor`) and inode: one file's, by whatever name. */
  readonly id: string;
}

/** struct stat: 144 bytes on x86_64, 128 on aarch64. */
const statBuf = new Uint8Array(144);
const statView = new DataView(statBuf.buffer);

/**
 * Stats `path` from `at` with `flags` (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH):
 * one statx asking `mask`, or null (errno set) when it fails. Kernels before
 * 4.11, and old container seccomp profiles, have no statx: newfstatat then,
 * which every kernel has (Deno's own stat asks for `--allow-all` under /proc,
 * /sys and /dev: those would all look missing).
 */
function statOf(at: number, path: Uint8Array, flags: number, mask: number): Stat | null {
  if (sys(SYS.statx, at, path, flags, mask, statxBuf) === 0) {
    // struct statx: stx_uid at 20, stx_gid at 24, stx_mode (u16) at 28, stx_ino (u64) at 32,
    // stx_dev_major/minor (u32) at 136/140.
    return {
      mode: statxView.getUint16(28, true),
      uid: statxView.getUint32(20, true),
      gid: statxView.getUint32(24, true),
      id: `${statxView.getUint32(136, true)}:${statxView.getUint32(140, true)}:${
        statxView.getBigUint64(32, true)
      }`,
    };
  }
  const code = errno();
  if (code !== ERRNO.ENOSYS && code !== ERRNO.EPERM) return null;
  if (sys(SYS.newfstatat, at, path, statBuf, flags) !== 0) return null;
  // struct stat: st_dev (u64) at 0, st_ino (u64) at 8; st_dev's major and minor as glibc's
  // major() and minor() take them apart, so an id is the same whichever call gave it.
  const dev = statView.getBigUint64(0, true);
  const major = ((dev & 0xfff00n) >> 8n) | ((dev & 0xfffff00000000000n) >> 32n);
  const minor = (dev & 0xffn) | ((dev & 0xffffff00000n) >> 12n);
  return {
    mode: statView.getUint32(STAT_FIELDS.mode, true),
    uid: statView.getUint32(STAT_FIELDS.uid, true),
    gid: statView.getUint32(STAT_FIELDS.gid, true),
    id: `${major}:${minor}:${statView.getBigUint64(8, true)}`,
  };
}

/**
 * What a path is (links followed) and which file: its device and inode, which
 * every name of one file shares (a link, a hard link, a bind mount). Unknown
 * when it cannot be told (a folder on the way that cannot be searched): a read
 * then says why.
 */
export type PathIdentity =
  | { readonly kind: "file" | "dir" | "special"; readonly id: string }
  | { readonly kind: "missing" | "unknown" };

const STATX_TYPE_INO = 0x1 | 0x100;

/** The {@linkcode PathIdentity} of a stat's file. */
function identityOf(st: Stat): PathIdentity {
  const type = st.mode & S.IFMT;
  const kind = type === S.IFREG ? "file" : type === S.IFDIR ? "dir" : "special";
  return { kind, id: st.id };
}

/** The {@linkcode PathIdentity} of `path`: one statx, nothing opened (a FIFO would block, a device act). */
export function pathIdentity(path: string): PathIdentity {
  const st = statOf(AT_FDCWD, cString(path), 0, STATX_TYPE_INO);
  if (st !== null) return identityOf(st);
  const code = errno();
  return code === ERRNO.ENOENT || code === ERRNO.ENOTDIR
    ? { kind: "missing" }
    : { kind: "unknown" };
}

const EMPTY = cString("");

/** The {@linkcode PathIdentity} of the file open as `fd`, named as {@linkcode pathIdentity} names it. */
export function descriptorIdentity(fd: number): PathIdentity {
  const st = statOf(fd, EMPTY, AT_EMPTY_PATH, STATX_TYPE_INO);
  return st === null ? { kind: "unknown" } : identityOf(st);
}

/** Whether `path` itself is a symbolic link (not followed); false when it cannot be told. */
export function isSymlink(path: string): boolean {
  return symlinkOwner(path) !== undefined;
}

/** The owner of `path` when it is itself a symbolic link (not followed); else undefined. */
export function symlinkOwner(path: string): number | undefined {
  const st = statOf(AT_FDCWD, cString(path), AT_SYMLINK_NOFOLLOW, STATX_TYPE_MODE_UID_GID);
  return st !== null && (st.mode & S.IFMT) === S.IFLNK ? st.uid : undefined;
}

/**
 * Whether a start follows a symbolic link this uid made: only root's and its
 * own, as the kernel's protected_symlinks does in sticky folders. Another
 * uid's link (in /tmp, or in a home kept across starts) points wherever that
 * user chose, and can be turned elsewhere after any check.
 */
export function followsLinkOf(owner: number): boolean {
  return owner === 0 || owner === Deno.uid();
}

const W_OK = 2;

/** Whether writing `path` fails for its file system (EROFS comes before any permission check). */
function onReadOnlyMount(path: string): boolean {
  return sys(SYS.faccessat, AT_FDCWD, cString(path), W_OK, 0) !== 0 && errno() === ERRNO.EROFS;
}
