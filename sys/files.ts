/**
 * Atomic file writes (temp file in the same folder, then rename): a reader
 * never sees a half-written file, and a failed write leaves nothing behind.
 *
 * @module
 */

import { InputError } from "../errors.ts";
import { descriptorIdentity, followsLinkOf, isSymlink, statPath, symlinkOwner } from "./fs.ts";
import { AT_FDCWD, cString, ERRNO, errno, errnoText, O, SEEK, SYS, sys } from "./libc.ts";
import { LinkNotFollowed, openFolder } from "./chown.ts";
import { parentOf } from "../world.ts";
import { STANDARD_STREAM, writeStream } from "./stream.ts";

/**
 * Writes an output the user asked for (`--capture`, `--write-json`); exit 78
 * naming `what` when it fails. A new or regular file is replaced atomically,
 * and so is the regular file a link leads to (the link stays: a full disk
 * leaves the old file whole); `-` (standard output), `/dev/stdout` (a log it
 * appends to included), a pipe, a terminal or a link to none yet is written in
 * place: a rename would put a file where the name was.
 */
export async function writeOutput(
  what: string,
  path: string,
  content: string,
  mode: number,
): Promise<void> {
  try {
    if (path !== STANDARD_STREAM) refuseLinkOnTheWay(path);
    const st = path === STANDARD_STREAM ? null : statPath(path);
    if (st?.isDir) throw new Error("is a folder, expected a file");
    const linked = path !== STANDARD_STREAM && isSymlink(path);
    const end = linked ? linkEnd(path) : undefined;
    if (end?.special === false) refuseLinkOnTheWay(end.path);
    if (end?.special === false && st?.isFile) writeFileAtomic(end.path, content, mode);
    else if (path === STANDARD_STREAM || linked || (st !== null && !st.isFile)) {
      // A link to /proc/self/fd/1 is that descriptor, as /dev/stdout is: written where it stands.
      await writeStream(end?.special ? end.path : path, content, mode);
    } else writeFileAtomic(path, content, mode);
  } catch (e) {
    throw outputError(`${what} ${path}`, e);
  }
}

/**
 * Throws when a folder on the way to `path` is, or leads through, a link of
 * another uid's (a link of root's or this uid's is followed): `/tmp/out` made
 * a link by another user would take a file of root's where they chose. Any
 * other failure is left to the write, which says it.
 */
function refuseLinkOnTheWay(path: string): void {
  const slash = path.lastIndexOf("/");
  const why = linkOfAnotherOnTheWay(
    slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash),
    path,
  );
  if (why !== undefined) throw new Error(why);
}

/**
 * Why the way to `folder` (the part of it that exists, the folder itself too
 * when it does) passes a link another uid made, or a link of root's that leads
 * through one; undefined when it does not. A folder made or a file written
 * through `/shared/run -> /etc`, planted by whoever may write `/shared`,
 * would be where that user chose. Any other failure (a link to nothing, a
 * folder that may not be searched) is left to what is done there next, which
 * says it. The reason names the link, not `name` (what is made there).
 */
export function linkOfAnotherOnTheWay(folder: string, name = folder): string | undefined {
  let there: string | null = folder;
  while (there !== null && !presentOrUnknown(there)) there = parentOf(there);
  try {
    sys(SYS.close, openFolder(there ?? (folder.startsWith("/") ? "/" : "."), name));
  } catch (e) {
    if (!(e instanceof LinkNotFollowed)) return undefined;
    return withoutPath(e.message, name);
  }
  return undefined;
}

/** Whether something is at `path`, or whether it cannot be told (then the walk stops there). */
function presentOrUnknown(path: string): boolean {
  try {
    return exists(path);
  } catch {
    return true;
  }
}

/** An error message without the "`path`: " it starts with (the errors here name their path first). */
export function withoutPath(message: string, path: string): string {
  return message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
}

/**
 * Where a chain of links ends: the file it names, or the first name under
 * `/proc` or `/dev` it passes (`special`): `/dev/stdout` or a link to
 * `/proc/self/fd/1` names a descriptor (a log opened for appending, a
 * terminal), which is written where it stands, never replaced by a new file.
 */
function linkEnd(path: string): { path: string; special: boolean } | undefined {
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    const owner = symlinkOwner(p);
    // Each link of the chain, the named one first (under /dev too: /dev/shm is open to all), only
    // when it is root's or this user's.
    if (owner !== undefined && !followsLinkOf(owner)) {
      const which = hops === 0 ? "is" : `leads through ${p},`;
      throw new Error(
        `${which} a symbolic link of uid ${owner}: written through only when it is root's or this user's`,
      );
    }
    if (/^\/(?:proc|dev)\//.test(p)) return { path: p, special: true };
    if (owner === undefined) return { path: p, special: false };
    const to = Deno.readLinkSync(p);
    p = to.startsWith("/") ? to : `${parentOf(p) ?? ""}/${to}`;
  }
  return undefined;
}

/**
 * What a failed write of an output becomes: a reader that went away stays as
 * it is (main.ts ends quietly, 141); anything else (a full disk) is the
 * output's fault, not a bug: exit 78 naming `where`.
 */
export function outputError(where: string, e: unknown): unknown {
  if (e instanceof Deno.errors.BrokenPipe) return e;
  return new InputError(`${where}: ${fileErrorText(e)}`);
}

/**
 * What a failed file operation says. Deno refuses its file APIs under /proc, /sys and /dev
 * (`/dev/shm` too) without `--allow-all`, and its message asks to run again with that flag,
 * which the entrypoint's permission list leaves out on purpose (README, Permissions).
 */
export function fileErrorText(e: unknown): string {
  if (e instanceof Deno.errors.NotCapable) {
    return "under /proc, /sys or /dev, where Deno writes only with --allow-all, which this entrypoint does not take: expected a path elsewhere";
  }
  return e instanceof Error ? e.message : String(e);
}

/** Who a written file or folder belongs to. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

const encoder = new TextEncoder();

function check(result: number, what: string): void {
  if (result < 0) throw new SysError(what, errno());
}

/** Writes all of `bytes` to `fd` (a file: no waiting for a reader), again after an interrupted write. */
function writeFd(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) {
    const n = sys(SYS.write, fd, bytes.subarray(at), bytes.length - at);
    if (n < 0 && errno() === ERRNO.EINTR) continue;
    check(n, "write");
    if (n === 0) throw new SysError("write", ERRNO.ENOSPC);
    at += n;
  }
}

/** A system call that failed, with its errno (for callers that tell EACCES or EROFS apart). */
export class SysError extends Error {
  constructor(what: string, readonly errno: number) {
    super(`${what}: ${errnoText(errno)}`);
  }
}

/**
 * Appends `text` to an existing regular file whole or not at all: one
 * descriptor in append mode, and on a short or failed write the file is cut
 * back to its size before (a full disk must not leave half a line). False,
 * with nothing written, when what is opened is no regular file (a FIFO, put
 * there after any check, is not waited on for a reader, a device not written).
 * Throws a {@linkcode SysError}.
 */
export function appendWhole(path: string, text: string): boolean {
  const flags = O.WRONLY | O.APPEND | O.CLOEXEC | O.NONBLOCK | O.NOCTTY;
  const fd = sys(SYS.openat, AT_FDCWD, cString(path), flags, 0);
  // A FIFO without a reader, a socket: no regular file either.
  if (fd < 0 && errno() === ERRNO.ENXIO) return false;
  check(fd, "open");
  try {
    if (descriptorIdentity(fd).kind !== "file") return false;
    const before = sys(SYS.lseek, fd, 0, SEEK.END);
    check(before, "seek");
    try {
      writeFd(fd, encoder.encode(text));
    } catch (e) {
      sys(SYS.ftruncate, fd, before);
      throw e;
    }
    return true;
  } finally {
    sys(SYS.close, fd);
  }
}

/**
 * Creates `path` with `text` whole or not at all, unless something is there
 * already (then false: it is kept). Its folder, and any missing on the way, is
 * opened one name at a time following only links of root's or this uid's (a
 * link another uid planted on the way, as a program may in a folder it can
 * write, is refused rather than followed: root would create a file of its
 * choice where that link leads). The text goes to a new file beside `path`
 * first, which is then linked in (a link never replaces what is there); where
 * hard links are refused (some network file systems), it is written in place.
 * The mode is 0666 less the umask, as any created file's. With `replace`, the
 * new file is renamed over what is there instead (true). Throws an Error
 * naming the path on failure.
 */
export function createWholeOnce(path: string, text: string, replace = false): boolean {
  const slash = path.lastIndexOf("/");
  const name = cString(path.slice(slash + 1));
  const dir = openFolder(slash <= 0 ? "/" : path.slice(0, slash), path, 0o777);
  const temp = cString(`${path.slice(slash + 1)}.chameleon-${Deno.pid}`);
  const flags = O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW | O.CLOEXEC;
  const fail = (what: string, code = errno()) => new Error(`${path}: ${what}: ${errnoText(code)}`);
  try {
    // One a start of the same pid left (PID 1 in every container).
    if (sys(SYS.unlinkat, dir, temp, 0) !== 0 && errno() !== ERRNO.ENOENT) throw fail("remove");
    let fd = sys(SYS.openat, dir, temp, flags, 0o666);
    if (fd < 0) throw fail("create");
    try {
      try {
        writeFd(fd, encoder.encode(text));
      } finally {
        sys(SYS.close, fd);
      }
      if (replace) {
        if (sys(SYS.renameat2, dir, temp, dir, name, 0) === 0) return true;
        throw fail("replace");
      }
      if (sys(SYS.linkat, dir, temp, dir, name, 0) === 0) return true;
      const code = errno();
      if (code === ERRNO.EEXIST) return false;
      fd = sys(SYS.openat, dir, name, flags, 0o666);
      if (fd < 0) {
        if (errno() === ERRNO.EEXIST) return false;
        throw fail("create");
      }
      try {
        writeFd(fd, encoder.encode(text));
      } catch (e) {
        sys(SYS.unlinkat, dir, name, 0);
        throw e;
      } finally {
        sys(SYS.close, fd);
      }
      return true;
    } finally {
      sys(SYS.unlinkat, dir, temp, 0);
    }
  } finally {
    sys(SYS.close, dir);
  }
}

/** Sets an open file's owner, then its mode: a chown clears set-id bits a chmod before it set. */
function setOwnerAndMode(fd: number, mode: number, owner?: Owner): void {
  if (owner !== undefined) check(sys(SYS.fchown, fd, owner.uid, owner.gid), "chown");
  check(sys(SYS.fchmod, fd, mode), "chmod");
}

/** A suffix nobody can guess ahead: a shared folder must not let another user plant the temporary name. */
function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Writes `content` to `path` atomically: a new temporary file beside it,
 * created exclusively (never through a link, even as root in a folder others
 * can write), its mode (whatever the umask) and owner set on the open file,
 * then renamed over `path` (a link at `path` is replaced, not followed).
 */
export function writeFileAtomic(path: string, content: string, mode: number, owner?: Owner): void {
  const tmp = tmpBeside(path);
  const flags = O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW | O.CLOEXEC;
  const fd = sys(SYS.openat, AT_FDCWD, cString(tmp), flags, 0o600);
  check(fd, "create");
  renameOver(tmp, path, () => {
    try {
      writeFd(fd, encoder.encode(content));
      setOwnerAndMode(fd, mode, owner);
    } finally {
      sys(SYS.close, fd);
    }
  });
}

/**
 * Makes `path` a symbolic link to `target` atomically: a new link beside it,
 * under a name nobody can guess (symlink() never follows one that is there),
 * renamed over `path` (a file or link at `path` is replaced, not followed).
 */
export function linkAtomic(target: string, path: string): void {
  const tmp = tmpBeside(path);
  Deno.symlinkSync(target, tmp);
  renameOver(tmp, path);
}

/** An unguessable temporary name beside `path`, in its folder. */
function tmpBeside(path: string): string {
  return `${path}.tmp-${Deno.pid}-${randomSuffix()}`;
}

/**
 * Finishes the entry this process made at `tmp` and renames it over `path`;
 * on any failure the entry is removed and `path` stays as it was.
 */
function renameOver(tmp: string, path: string, finish?: () => void): void {
  try {
    finish?.();
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* already gone */ }
    throw e;
  }
}

/**
 * Makes a folder and its missing parents. What this creates gets its mode
 * whatever the umask: parents 0755 (the user must reach a home under them),
 * the folder `mode`. An existing folder keeps its mode and owner (a runtime
 * dir of /tmp keeps its sticky bit) unless `owner` is given: a per-user
 * folder is then made the owner's, with `mode`. Mode and owner are set
 * through a descriptor opened without following a link, so a link planted
 * where the folder goes is refused rather than followed.
 */
export function makeFolder(path: string, mode: number, owner?: Owner, guardBelow?: string): void {
  const missing: string[] = [];
  for (let p: string | null = path; p !== null && !exists(p); p = parentOf(p)) missing.unshift(p);
  if (guardBelow !== undefined) checkFolderChain(guardBelow, parentOf(missing[0] ?? path) ?? path);
  const guarded = (p: string) => guardBelow !== undefined && p.startsWith(`${guardBelow}/`);
  let made = false;
  let placed = false;
  for (const p of missing) {
    // A folder for another owner is made whole: a start killed before the chown must not leave a
    // root-owned one where the user's home goes (the next start would move HOME away from it).
    if (p === path && owner !== undefined) {
      if (placeFolder(p, mode, owner)) made = placed = true;
      // Made meanwhile: not ours to change, but below a guard it must still be safe to enter.
      else if (guarded(p)) checkFolderPart(p, owner.uid);
      continue;
    }
    // Made with its final mode (less the umask): a start killed before the chmod must not leave
    // a folder that only root can enter (a runtime dir kept as it is by the next start).
    try {
      Deno.mkdirSync(p, { mode: p === path ? mode : 0o755 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      // Made meanwhile: not ours to change, but below a guard it must still be safe to enter.
      if (guarded(p)) checkFolderPart(p, p === path ? owner?.uid : undefined);
      continue;
    }
    if (p === path) made = true;
    else setOnFolder(p, 0o755);
  }
  if (!made && guarded(path)) checkFolderPart(path, owner?.uid);
  if (!made && owner === undefined) {
    // Kept as it is, but it must be a folder (a link to one is fine here).
    const st = statPath(path);
    if (st === null) throw new Error("a link to nothing, expected a folder");
    if (!st.isDir) throw new Error("not a folder, expected one");
    return;
  }
  // Placed with its owner and mode already: opening it again would need root to read a folder
  // that is no longer its own (refused without CAP_DAC_READ_SEARCH).
  if (placed) return;
  setOnFolder(path, mode, owner);
}

/**
 * Makes `path` a folder of `owner` with `mode` whole: made under an
 * unguessable temporary name beside it, given its owner and mode, then
 * renamed into place. False when something took the name meanwhile (a
 * folder with entries, or a file: left as it is for the caller to judge).
 */
function placeFolder(path: string, mode: number, owner: Owner): boolean {
  const tmp = tmpBeside(path);
  Deno.mkdirSync(tmp, { mode: 0o700 });
  try {
    setOnFolder(tmp, mode, owner);
    Deno.renameSync(tmp, path);
    return true;
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* already gone */ }
    const taken = e instanceof Deno.errors.AlreadyExists ||
      e instanceof Deno.errors.NotADirectory ||
      (e as { code?: string }).code === "ENOTEMPTY";
    if (taken) return false;
    throw e;
  }
}

/**
 * Refuses a folder that another uid could have prepared for a root start:
 * `path` must be a real folder (not a link) owned by root or by this process,
 * or, when `planned` is given, by that uid (a per-user folder from an earlier
 * start is its user's already).
 */
export function checkFolderPart(path: string, planned?: number): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (info.isSymlink) throw new Error(`${path} is a symbolic link (not followed)`);
  if (!info.isDirectory) throw new Error(`${path} is not a folder`);
  const uid = info.uid ?? 0;
  if (uid !== 0 && uid !== Deno.uid() && uid !== planned) {
    throw new Error(`${path} belongs to uid ${uid}, which could have prepared what is in it`);
  }
}

/** {@linkcode checkFolderPart} for every existing folder below `top` down to `path`. */
export function checkFolderChain(top: string, path: string): void {
  if (!path.startsWith(`${top}/`)) return;
  const parts = path.slice(top.length + 1).split("/");
  let at = top;
  for (const part of parts) {
    at = `${at}/${part}`;
    checkFolderPart(at);
  }
}

/** Whether anything is at `path`, a dangling link included. */
function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function setOnFolder(path: string, mode: number, owner?: Owner): void {
  const flags = O.RDONLY | O.DIRECTORY | O.NOFOLLOW | O.CLOEXEC;
  const fd = sys(SYS.openat, AT_FDCWD, cString(path), flags, 0);
  if (fd < 0) {
    const code = errno();
    // With O_DIRECTORY, a link fails as "not a directory": say what it is.
    if (isSymlink(path)) throw new Error("a symbolic link (not followed), expected a folder");
    throw new Error(code === ERRNO.ENOTDIR ? "not a folder, expected one" : errnoText(code));
  }
  try {
    setOwnerAndMode(fd, mode, owner);
  } finally {
    sys(SYS.close, fd);
  }
}
