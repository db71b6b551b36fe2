/**
 * `chown [-R]` for the plan's ownership steps, acting on file descriptors so
 * that no link below the top is ever followed, even one swapped in while the
 * tree is walked (a process of the same uid may write in a shared home then).
 *
 * @module
 */

import { normalizePath } from "../world.ts";
import { followsLinkOf, listOpenDirBytes, readHead } from "./fs.ts";
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  cString,
  ERRNO,
  errno,
  errnoText,
  nulEnded,
  O,
  S,
  STAT_FIELDS,
  SYS,
  sys,
} from "./libc.ts";

const EMPTY = cString("");
/** A name as shown in messages and to beforeChange (U+FFFD for bytes that are not UTF-8). */
const nameText = new TextDecoder();
const HERE = cString(".");
const ROOT = cString("/");
const statBuf = new Uint8Array(256);
const statView = new DataView(statBuf.buffer);

/**
 * Called with each entry's path once it is open and looked at, before it is
 * changed or listed: the moment a path-based chown would follow a link that
 * replaced it (tests swap entries there).
 */
export type BeforeChange = (path: string) => void;

/** The error of the last failed call on `path`. */
function failure(path: string): Error {
  return new Error(`${path}: ${errnoText(errno())}`);
}

/** A link named on its own that another uid made: not followed (chownTree's error). */
export class LinkNotFollowed extends Error {}

/**
 * Files with other hard links that chownTree() left as they are while hard links are not
 * protected: thrown once the rest is done, naming how many and the first.
 */
export class HardLinksLeft extends Error {}

/**
 * Whether the kernel protects hard links (`fs.protected_hardlinks` is 1): a user then links only
 * files it owns or may read and write, so a link in its tree gives it nothing by a chown. Anything
 * else (0, unreadable) is unprotected: a user may have linked `/etc/shadow` into its home.
 */
export function hardLinksProtected(sysctl = "/proc/sys/fs/protected_hardlinks"): boolean {
  const head = readHead(sysctl, 2);
  return head !== undefined && head[0] === 0x31 && (head.length === 1 || head[1] === 0x0a);
}

/**
 * `chown [-R] uid:gid path` as GNU chown does it: a link named on its own is
 * followed (its target changes owner), and links are never followed below or
 * with -R. Unlike GNU chown, a link named on its own is followed only when it
 * is root's or this process's: one that another uid made (a user who plants
 * `~/work -> /etc/shadow` in a home that is named) throws LinkNotFollowed, and
 * so does one in a folder on the way to the path (`~/work/data`); a
 * path ending in "/" names the folder a link leads to, with -R too, by the same
 * rule. Each entry is opened without following a link (O_PATH|O_NOFOLLOW)
 * relative to its open folder, and is looked at and changed through that
 * descriptor: a link that replaces an entry after its folder was listed is
 * itself what is found, and is skipped. An entry owned right already is left
 * alone (a chown, even to the same owner, clears setuid bits); one that is
 * gone by the time it is opened is skipped. Unless `linksProtected`, a file
 * (anything but a folder) with other hard links is left as it is, named or
 * met in the walk: its other names may be anywhere on the file system (a user
 * who links `/etc/shadow` into its home would get it), and the rest is done
 * before HardLinksLeft is thrown. Counts what changed owner; throws an Error
 * naming the path and the reason.
 */
export function chownTree(
  path: string,
  uid: number,
  gid: number,
  recursive: boolean,
  beforeChange?: BeforeChange,
  linksProtected: boolean = hardLinksProtected(),
): number {
  // The folder it is in, opened once: the entry and a link's relative target are looked up from
  // it, so a folder swapped on the way after the check is not what is followed. A trailing slash would
  // follow a link at the end before anything looks at it: the name is taken without it, and the
  // slash asks for a folder (as the kernel does: `link/` is the folder a link names, even with -R).
  const named = normalizePath(path);
  const folderAsked = named !== path;
  const slash = named.lastIndexOf("/");
  const folder = slash < 0 ? "." : slash === 0 ? "/" : named.slice(0, slash);
  const name = named === "/" ? "." : named.slice(slash + 1);
  const at = openFolder(folder, path, undefined, linksProtected);
  let fd: number;
  try {
    fd = sys(SYS.openat, at, cString(name), O.PATH | O.CLOEXEC | O.NOFOLLOW, 0);
    if (fd < 0) throw failure(path);
    if (!recursive || folderAsked) fd = followOwnLink(fd, at, path, linksProtected);
  } finally {
    sys(SYS.close, at);
  }
  if (folderAsked) {
    const isFolder = sys(SYS.newfstatat, fd, EMPTY, statBuf, AT_EMPTY_PATH) === 0 &&
      (statView.getUint32(STAT_FIELDS.mode, true) & S.IFMT) === S.IFDIR;
    if (!isFolder) {
      sys(SYS.close, fd);
      throw new Error(`${path}: ${errnoText(ERRNO.ENOTDIR)}`);
    }
  }
  // Named without the trailing slash: the entries below read `dir/name`, not `dir//name`.
  return chownOpen(fd, named, uid, gid, recursive, beforeChange, linksProtected);
}

/**
 * The folder `folder` that `path` is in, opened (O_PATH) one name at a time
 * from `/` (or the working folder): a link on the way is followed by the same
 * owner rule as a link named on its own (another uid's, such as `work` planted
 * in the user's home where `~/work/data` is named, throws LinkNotFollowed), so
 * that a planted link cannot make root chown what another folder holds.
 * With `make`, a folder missing on the way is created (that mode, less the
 * umask) and then opened as any other. `linksProtected` is
 * {@linkcode hardLinksProtected}'s answer, asked when a link needs it.
 */
export function openFolder(
  folder: string,
  path: string,
  make?: number,
  linksProtected?: boolean,
): number {
  const absolute = folder.startsWith("/");
  let at = sys(SYS.openat, AT_FDCWD, absolute ? ROOT : HERE, O.PATH | O.DIRECTORY | O.CLOEXEC, 0);
  if (at < 0) throw failure(path);
  let walked = absolute ? "" : ".";
  try {
    for (const name of folder.split("/")) {
      if (name === "" || name === ".") continue;
      walked = `${walked}/${name}`;
      let fd = sys(SYS.openat, at, cString(name), O.PATH | O.NOFOLLOW | O.CLOEXEC, 0);
      if (fd < 0 && make !== undefined && errno() === ERRNO.ENOENT) {
        // Made here, or by someone else meanwhile: either way looked at as any other.
        if (sys(SYS.mkdirat, at, cString(name), make) !== 0 && errno() !== ERRNO.EEXIST) {
          throw failure(path);
        }
        fd = sys(SYS.openat, at, cString(name), O.PATH | O.NOFOLLOW | O.CLOEXEC, 0);
      }
      if (fd < 0) throw failure(path);
      try {
        fd = followOwnLink(fd, at, walked, linksProtected);
      } catch (e) {
        if (!(e instanceof LinkNotFollowed)) throw e;
        throw new LinkNotFollowed(`${path}: on the way, ${e.message}`);
      }
      sys(SYS.close, at);
      at = fd;
    }
  } catch (e) {
    sys(SYS.close, at);
    throw e;
  }
  return at;
}

const linkBuf = new Uint8Array(4097);
/** The kernel's limit of links followed in one lookup. */
const MAX_HOPS = 40;

/**
 * The entry open as `fd` (in the folder open as `at`), or, when it is a link of
 * root's or this process's, what the link leads to: each link of a chain is
 * checked the same way (another uid's throws LinkNotFollowed), its target read
 * from its own descriptor, so a link swapped in under a name after its check
 * is not the one followed; a relative target is looked up from the folder the
 * link is in, opened once. The folders of a target are opened one name at a
 * time, each link there checked the same way: root's `/workspace ->
 * /home/u/proj/work` does not lead through `proj` turned into the user's link.
 * A link with other hard links is not followed either while hard links are not
 * protected (`linksProtected` false, or undefined and
 * {@linkcode hardLinksProtected} says so): a user may have linked root's link
 * (`/usr/lib/ssl/private -> /etc/ssl/private`) to the name asked for. `hops`
 * counts the links followed in the whole lookup, as the kernel limits them.
 * Closes `fd` when it returns another; leaves `at` open.
 */
function followOwnLink(
  fd: number,
  at: number,
  path: string,
  linksProtected?: boolean,
  hops: { left: number } = { left: MAX_HOPS },
  through = false,
): number {
  let folder = at;
  const fail = (e: Error = failure(path)) => {
    sys(SYS.close, fd);
    return e;
  };
  try {
    for (let first = !through;; first = false) {
      if (sys(SYS.newfstatat, fd, EMPTY, statBuf, AT_EMPTY_PATH) !== 0) throw fail();
      if ((statView.getUint32(STAT_FIELDS.mode, true) & S.IFMT) !== S.IFLNK) return fd;
      const how = first ? "a symbolic link" : "leads through a symbolic link";
      const owner = statView.getUint32(STAT_FIELDS.uid, true);
      if (!followsLinkOf(owner)) {
        throw fail(new LinkNotFollowed(`${path}: ${how} of uid ${owner}, not followed`));
      }
      if (
        statView.getUint32(STAT_FIELDS.nlink, true) > 1 &&
        !(linksProtected ??= hardLinksProtected())
      ) {
        throw fail(
          new LinkNotFollowed(
            `${path}: ${how} with other hard links (hard links are not protected), not followed`,
          ),
        );
      }
      if (hops.left-- === 0) throw fail(new Error(`${path}: too many levels of symbolic links`));
      const n = sys(SYS.readlinkat, fd, EMPTY, linkBuf, linkBuf.length - 1);
      if (n < 0) throw fail();
      sys(SYS.close, fd);
      if (n >= linkBuf.length - 1) throw new Error(`${path}: a link's target is too long`);
      // The target's bytes as they are (a name need not be UTF-8): its folder, then its last name.
      // A copy: the folders' own links are read into linkBuf again.
      let end = n;
      while (end > 1 && linkBuf[end - 1] === 0x2f) end--; // trailing slashes
      const target = linkBuf.slice(0, end);
      const slash = target.lastIndexOf(0x2f);
      const name = end === 1 && target[0] === 0x2f ? HERE : nulEnded(target.subarray(slash + 1));
      const next = openWay(
        folder,
        target.subarray(0, Math.max(slash, 0)),
        target[0] === 0x2f,
        path,
        {
          linksProtected,
          hops,
        },
      );
      if (folder !== at) sys(SYS.close, folder);
      folder = next;
      fd = sys(SYS.openat, folder, name, O.PATH | O.CLOEXEC | O.NOFOLLOW, 0);
      if (fd < 0) throw failure(path);
    }
  } finally {
    if (folder !== at) sys(SYS.close, folder);
  }
}

/**
 * The folder `way` (a link target's folder part, as bytes) opened from `from`, or from `/` when
 * `absolute`, one name at a time (O_PATH): each link on the way by followOwnLink's rule.
 */
function openWay(
  from: number,
  way: Uint8Array,
  absolute: boolean,
  path: string,
  opts: { linksProtected: boolean | undefined; hops: { left: number } },
): number {
  let at = sys(SYS.openat, from, absolute ? ROOT : HERE, O.PATH | O.DIRECTORY | O.CLOEXEC, 0);
  if (at < 0) throw failure(path);
  try {
    for (let i = 0; i <= way.length;) {
      let j = way.indexOf(0x2f, i);
      if (j < 0) j = way.length;
      const part = way.subarray(i, j);
      i = j + 1;
      if (part.length === 0 || (part.length === 1 && part[0] === 0x2e)) continue;
      let fd = sys(SYS.openat, at, nulEnded(part), O.PATH | O.NOFOLLOW | O.CLOEXEC, 0);
      if (fd < 0) throw failure(path);
      fd = followOwnLink(fd, at, path, opts.linksProtected, opts.hops, true);
      sys(SYS.close, at);
      at = fd;
    }
    // A folder, as the next name is looked up in it (O_PATH|O_NOFOLLOW did not ask for one).
    if (sys(SYS.newfstatat, at, EMPTY, statBuf, AT_EMPTY_PATH) !== 0) throw failure(path);
    if ((statView.getUint32(STAT_FIELDS.mode, true) & S.IFMT) !== S.IFDIR) {
      throw new Error(`${path}: ${errnoText(ERRNO.ENOTDIR)}`);
    }
  } catch (e) {
    sys(SYS.close, at);
    throw e;
  }
  return at;
}

/**
 * chownTree() of the entry open as `fd`, which it closes. The walk holds the folder being listed
 * and the entry being changed, however deep the tree: it goes down from a folder's descriptor to
 * its child's and back up through `..`, checked to be the folder it came from (device and inode),
 * so a folder moved elsewhere during the walk stops it rather than leading it astray. A descriptor
 * and a call frame per level made a tree deeper than the descriptor limit fail (EMFILE) and a far
 * deeper one overflow the stack.
 */
function chownOpen(
  fd: number,
  path: string,
  uid: number,
  gid: number,
  recursive: boolean,
  beforeChange: BeforeChange | undefined,
  linksProtected: boolean,
): number {
  let changed = 0;
  let linked = 0;
  let firstLinked = "";
  // The entry open as `fd` changed (closing it), and opened for listing when it is a folder.
  const visit = (fd: number, path: string): number | undefined => {
    try {
      if (sys(SYS.newfstatat, fd, EMPTY, statBuf, AT_EMPTY_PATH) !== 0) throw failure(path);
      const kind = statView.getUint32(STAT_FIELDS.mode, true) & S.IFMT;
      if (kind === S.IFLNK) return undefined;
      beforeChange?.(path);
      if (
        statView.getUint32(STAT_FIELDS.uid, true) !== uid ||
        statView.getUint32(STAT_FIELDS.gid, true) !== gid
      ) {
        // Another name of this file may be outside the tree: a folder has none (no hard links).
        if (
          !linksProtected && kind !== S.IFDIR && statView.getUint32(STAT_FIELDS.nlink, true) > 1
        ) {
          if (linked++ === 0) firstLinked = path;
          return undefined;
        }
        if (sys(SYS.fchownat, fd, EMPTY, uid, gid, AT_EMPTY_PATH) !== 0) throw failure(path);
        changed++;
      }
      if (!recursive || kind !== S.IFDIR) return undefined;
      // The folder this descriptor stands for, opened for listing (no path is looked up again).
      const dir = sys(SYS.openat, fd, HERE, O.RDONLY | O.DIRECTORY | O.CLOEXEC, 0);
      if (dir < 0) throw failure(path);
      return dir;
    } finally {
      sys(SYS.close, fd);
    }
  };
  const done = () => {
    if (linked === 0) return changed;
    const what = linked === 1
      ? "1 file with other hard links left as it is"
      : `${linked} files with other hard links left as they are`;
    throw new HardLinksLeft(
      `${path}: ${what} (hard links are not protected), such as ${firstLinked}`,
    );
  };
  let dir = visit(fd, path);
  if (dir === undefined) return done();
  const levels: { path: string; names: Uint8Array[]; next: number; id: string }[] = [];
  try {
    for (let down: string | undefined = path; levels.length > 0 || down !== undefined;) {
      if (down !== undefined) {
        // Names as bytes: one that is not UTF-8 would not be found again from its decoded string.
        const names = listOpenDirBytes(dir);
        if (names === null) throw failure(down);
        levels.push({ path: down, names, next: 0, id: idOf(dir, down) });
        down = undefined;
      }
      const level = levels.at(-1)!;
      const name = level.names[level.next++];
      if (name === undefined) {
        levels.pop();
        const up = levels.at(-1);
        if (up === undefined) break;
        // Back to the folder above through `..`: the one this walk came down from, or a stop.
        const parent = sys(SYS.openat, dir, cString(".."), O.RDONLY | O.DIRECTORY | O.CLOEXEC, 0);
        if (parent < 0) throw failure(up.path);
        sys(SYS.close, dir);
        dir = parent;
        if (idOf(dir, up.path) !== up.id) {
          throw new Error(`${level.path}: moved out of ${up.path} while its tree was walked`);
        }
        continue;
      }
      const child = `${level.path}/${nameText.decode(name.subarray(0, -1))}`;
      const cfd = sys(SYS.openat, dir, name, O.PATH | O.NOFOLLOW | O.CLOEXEC, 0);
      if (cfd < 0) {
        if (errno() === ERRNO.ENOENT) continue;
        throw failure(child);
      }
      const below = visit(cfd, child);
      if (below !== undefined) {
        sys(SYS.close, dir);
        dir = below;
        down = child;
      }
    }
  } finally {
    sys(SYS.close, dir);
  }
  return done();
}

const STATX_INO_BTIME = 0x100 | 0x800;
const STATX_BTIME = 0x800;
const statxBuf = new Uint8Array(256);
const statxView = new DataView(statxBuf.buffer);
/** struct statfs (120 bytes on both), f_type first. */
const statfsBuf = new Uint8Array(128);
const statfsView = new DataView(statfsBuf.buffer);
const OVERLAYFS_SUPER_MAGIC = 0x794c7630;

/**
 * The device, inode and birth time of the folder open as `fd`, as one string: an inode number
 * alone is given again to the next folder made once its folder is removed (ext4 does so at once),
 * so a user could empty and remove a folder the walk left and move the one it is in below a new
 * folder with that number, outside the tree. Birth time where the file system keeps it (statx),
 * but not on overlayfs: there a folder of the image's layer gets the birth time of its copy in
 * the upper layer when the walk's chown below it copies it up (device and inode stay). Device and
 * inode alone there, and where there is no statx.
 */
function idOf(fd: number, path: string): string {
  if (sys(SYS.statx, fd, EMPTY, AT_EMPTY_PATH, STATX_INO_BTIME, statxBuf) === 0) {
    const overlay = sys(SYS.fstatfs, fd, statfsBuf) === 0 &&
      statfsView.getUint32(0, true) === OVERLAYFS_SUPER_MAGIC;
    // struct statx: stx_mask at 0, stx_ino at 32, stx_btime (s64 s, u32 ns) at 80,
    // stx_dev_major/minor at 136/140.
    const born = !overlay && (statxView.getUint32(0, true) & STATX_BTIME) !== 0
      ? `${statxView.getBigInt64(80, true)}.${statxView.getUint32(88, true)}`
      : "";
    return `${statxView.getUint32(136, true)}:${statxView.getUint32(140, true)}:${
      statxView.getBigUint64(32, true)
    }:${born}`;
  }
  if (sys(SYS.newfstatat, fd, EMPTY, statBuf, AT_EMPTY_PATH) !== 0) throw failure(path);
  return `${statView.getBigUint64(STAT_FIELDS.dev, true)}:${
    statView.getBigUint64(STAT_FIELDS.ino, true)
  }`;
}
