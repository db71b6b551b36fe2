/**
 * A read-only view over a {@linkcode Snapshot}: existence, contents, listings,
 * owners and writability, as design section 4 defines them. Pure.
 *
 * @module
 */

import { InputError } from "./errors.ts";
import type { PlanDir, PlanFile, Snapshot, Step } from "./types.ts";

/** One line of /etc/passwd. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** One line of /etc/group. */
export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** The state of one file in the snapshot. */
export type FileState =
  | { readonly kind: "ok"; readonly text: string }
  | { readonly kind: "missing" }
  | { readonly kind: "unreadable"; readonly reason: string };

/**
 * Why others may write a file or folder of group `gid` and `mode`, whoever owns
 * it; undefined when they may not. For a folder that files are written into
 * whole (`shared`), the sticky bit, or a group that is the start's own
 * (`ownGid`: OpenShift's group 0 is the uid's own there), still keeps others
 * out; for a hook that root runs, any group or other write is too much. Apply
 * asks it of what is there, the plan of the snapshot, in the same words.
 */
export function writableByOthers(
  gid: number,
  mode: number,
  ownGid: number,
  shared: boolean,
): string | undefined {
  const m = mode & 0o7777;
  if (!shared) {
    return (m & 0o022) === 0 ? undefined : `is writable by its group or others (${m.toString(8)})`;
  }
  const open = (m & 0o002) !== 0 || ((m & 0o020) !== 0 && gid !== ownGid);
  return (m & 0o1000) === 0 && open ? `is writable by others (${m.toString(8)})` : undefined;
}

/** Why a path of owner `uid` is another user's for a start as `ownUid` (root's and its own are not). */
export function ownedByAnother(uid: number, ownUid: number): string | undefined {
  return uid !== 0 && uid !== ownUid ? `belongs to uid ${uid}` : undefined;
}

/**
 * Why another user could change a path with these ids and mode, for a start
 * as `ownUid`:`ownGid`: it is theirs, or others may write it
 * ({@linkcode writableByOthers}); undefined when nobody else can.
 */
export function changeableByOthers(
  st: { uid: number; gid: number; mode: number },
  ownUid: number,
  ownGid: number,
  shared: boolean,
): string | undefined {
  return ownedByAnother(st.uid, ownUid) ?? writableByOthers(st.gid, st.mode, ownGid, shared);
}

/** The refusal of a hook a root start would run, `p` on its way being changeable (`why`). */
export function hookRefusal(hook: string, p: string, why: string): string {
  return `Hook ${hook}: ${p} ${why}: a root start does not run it`;
}

/** The refusal of a runtime dir others could replace what a start writes in (`why`). */
export function runtimeDirRefusal(dir: string, why: string, root: boolean): string {
  return `Runtime dir ${dir}: ${why}: a start writes there only when other users cannot replace what it writes (give CHAMELEON_RUNTIME_DIR a folder of ${
    root ? "root's" : "its own uid"
  })`;
}

/** Whether a plan's folders, files or links (`planned`) go in the runtime dir (the plan and apply ask). */
export function writesInRuntimeDir(
  runtimeDir: string,
  planned: readonly (PlanDir | PlanFile | Step)[],
): boolean {
  return planned.some((p) =>
    "path" in p && (!("step" in p) || p.step === "link") && p.path.startsWith(`${runtimeDir}/`)
  );
}

/** A path's mode and owner as messages give them: "0700, owner 0:0". */
export function modeAndOwner(st: { uid: number; gid: number; mode: number }): string {
  return `${st.mode.toString(8).padStart(4, "0")}, owner ${st.uid}:${st.gid}`;
}

/** Where the runtime dir goes when `/run` is open to the uid, and else (design section 6). */
export const RUN_RUNTIME_DIR = "/run/chameleon";
export const SHARED_RUNTIME_DIR = "/tmp/chameleon";

/**
 * The runtime dir `CHAMELEON_RUNTIME_DIR` names, as the plan knows it: without
 * a trailing slash (no "//" in the paths built on it); undefined when unset.
 */
export function givenRuntimeDir(world: World): string | undefined {
  const dir = world.env("CHAMELEON_RUNTIME_DIR");
  return dir ? normalizePath(dir) : undefined;
}

/** Every folder the runtime dir can be for this snapshot: the one given, else the defaults. */
export function runtimeDirCandidates(world: World): string[] {
  const given = givenRuntimeDir(world);
  if (given?.startsWith("/")) return [given];
  return [RUN_RUNTIME_DIR, SHARED_RUNTIME_DIR, `${SHARED_RUNTIME_DIR}-${world.snapshot.uid}`];
}

/**
 * This host's first IPv4 address another host can reach: a link-local one
 * (169.254.0.0/16) is left out. An awsvpc task's namespace on ECS, where AWS
 * Batch runs multi-node jobs, holds the agent's `ecs-eth0` (169.254.172.0/22)
 * besides the task's ENI, at a lower interface index, so listed first
 * (index 3 in aws/amazon-ecs-agent#1230; an ENI moved in keeps its host index).
 */
export function reachableAddress(world: World): string | undefined {
  return world.snapshot.addresses.find((a) => !a.startsWith("169.254."));
}

/** The folder holding `path`; null for "/" and relative paths. */
export function parentOf(path: string): string | null {
  if (path === "/" || !path.startsWith("/")) return null;
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** The folders above `path`, the closest first and "/" last (none for "/" or a relative path). */
export function foldersAbove(path: string): string[] {
  const out: string[] = [];
  for (let up = parentOf(path); up !== null; up = parentOf(up)) out.push(up);
  return out;
}

/** The text of a file that must be there, or exit 78: "<what>: no such file" or the reason. */
export function requiredText(state: FileState, what: string): string {
  if (state.kind === "missing") throw new InputError(`${what}: no such file`);
  if (state.kind === "unreadable") throw new InputError(`${what}: ${state.reason}`);
  return state.text;
}

/**
 * `path` without the slashes it ends in, its first character kept (`/` stays `/`), as
 * `/(?<=.)\/+$/` removes them: the pattern tried from each slash of a run that the path does
 * not end with read the run again (a path of 100,000 inner slashes: 1 s).
 */
export function normalizePath(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 0x2f) end--;
  return end === path.length ? path : path.slice(0, end);
}

/** The items of a comma-separated value, trimmed, empty ones dropped. */
export function listItems(text: string | undefined): string[] {
  return (text ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Query helpers over one snapshot. */
export class World {
  /** The snapshot itself. */
  readonly snapshot: Snapshot;
  readonly #dirs = new Set<string>();
  readonly #children = new Map<string, Set<string>>();
  #passwd: PasswdEntry[] | undefined;
  #group: GroupEntry[] | undefined;
  readonly #memo = new Map<string, unknown>();

  /** Indexes a snapshot. */
  constructor(snapshot: Snapshot) {
    this.snapshot = snapshot;
    const add = (path: string, isDir: boolean) => {
      let p = normalizePath(path);
      if (isDir) this.#dirs.add(p);
      for (let parent = parentOf(p); parent !== null; p = parent, parent = parentOf(p)) {
        this.#dirs.add(parent);
        let kids = this.#children.get(parent);
        if (kids === undefined) this.#children.set(parent, kids = new Set());
        kids.add(p.slice(parent === "/" ? 1 : parent.length + 1));
      }
    };
    for (const f of Object.keys(snapshot.files)) add(f, false);
    for (const f of Object.keys(snapshot.unreadable ?? {})) add(f, false);
    for (const d of snapshot.dirs) add(d, true);
  }

  /**
   * What `make` computes from this world, computed once (the parsed files the
   * adapters share). The cache lives on the world rather than in a WeakMap
   * keyed by it: V8 keeps a WeakMap's values alive through young-generation
   * collections, which promoted every parsed hyperparameters.json to the old
   * generation and doubled the cost of reading 10,000 of them.
   */
  memo<T>(key: string, make: () => T): T {
    if (!this.#memo.has(key)) this.#memo.set(key, make());
    return this.#memo.get(key) as T;
  }

  /** An environment variable, or undefined when unset. */
  env(name: string): string | undefined {
    return Object.hasOwn(this.snapshot.env, name) ? this.snapshot.env[name] : undefined;
  }

  /** An environment variable's value when it is set and not empty (the fill rule's "given"). */
  envValue(name: string): string | undefined {
    const v = this.env(name);
    return v === "" ? undefined : v;
  }

  /** A comma-separated variable's items, trimmed, empty ones dropped. */
  envList(name: string): string[] {
    return listItems(this.env(name));
  }

  /** Whether an environment variable is set and not empty. */
  hasEnv(name: string): boolean {
    return this.envValue(name) !== undefined;
  }

  /** Whether a path exists (a file, an unreadable file, a folder, or a parent of one). */
  exists(path: string): boolean {
    const p = normalizePath(path);
    return this.isDir(p) || Object.hasOwn(this.snapshot.files, p) ||
      Object.hasOwn(this.snapshot.unreadable ?? {}, p);
  }

  /** Whether a path is a folder. */
  isDir(path: string): boolean {
    return this.#dirs.has(normalizePath(path));
  }

  /** The state of a file: its text, missing, or unreadable with the reason. */
  file(path: string): FileState {
    const p = normalizePath(path);
    const all = this.snapshot.unreadable;
    const unreadable = all !== undefined && Object.hasOwn(all, p) ? all[p] : undefined;
    if (unreadable !== undefined) return { kind: "unreadable", reason: unreadable };
    const text = Object.hasOwn(this.snapshot.files, p) ? this.snapshot.files[p] : undefined;
    if (text !== undefined) return { kind: "ok", text };
    return this.isDir(p) ? { kind: "unreadable", reason: "is a directory" } : { kind: "missing" };
  }

  /** The text of a file, or undefined when it is missing or unreadable. */
  read(path: string): string | undefined {
    const f = this.file(path);
    return f.kind === "ok" ? f.text : undefined;
  }

  /** Names directly inside a folder, sorted. */
  children(path: string): string[] {
    return [...(this.#children.get(normalizePath(path)) ?? [])].sort();
  }

  /** Owner and mode of a path, with design section 4's defaults. */
  stat(path: string): { uid: number; gid: number; mode: number } {
    const p = normalizePath(path);
    const s = this.snapshot.stat[p];
    if (s !== undefined) return { uid: s.uid, gid: s.gid, mode: parseInt(s.mode, 8) };
    return { uid: 0, gid: 0, mode: this.isDir(p) ? 0o755 : 0o644 };
  }

  /**
   * Whether a process with these ids may write `path` (an existing path is
   * checked by its mode bits, a folder needing search too; a missing one by
   * its closest existing parent; nobody writes on a read-only file system).
   * Every folder above must be searchable: a home of the user's own inside
   * root's 0700 `/root` cannot be reached.
   */
  canWrite(path: string, uid: number, gid: number, groups: readonly number[]): boolean {
    const p = this.#closest(path);
    if (this.#readOnlyAt(p)) return false;
    if (uid === 0) return true;
    if (p === null || !this.canReach(p, uid, gid, groups)) return false;
    const needs = this.isDir(p) ? 0o3 : 0o2;
    return (this.#bitsFor(p, uid, gid, groups) & needs) === needs;
  }

  /**
   * Whether `path`, or the closest existing folder above a missing one, is on a
   * file system the snapshot found read-only (nobody, root included, writes there).
   */
  onReadOnly(path: string): boolean {
    return this.#readOnlyAt(this.#closest(path));
  }

  /** Whether the snapshot found `p` (an existing path, or a stat entry) on a read-only file system. */
  #readOnlyAt(p: string | null): boolean {
    return p !== null && this.snapshot.stat[p]?.readOnly === true;
  }

  /** `path` when it exists (or has a stat entry), else its closest parent that does. */
  #closest(path: string): string | null {
    let p: string | null = normalizePath(path);
    while (p !== null && !this.exists(p) && !Object.hasOwn(this.snapshot.stat, p)) {
      p = parentOf(p);
    }
    return p;
  }

  /**
   * The topmost folder on the way into `path`, `path` itself included, that a
   * process with these ids may not search: what closes everything below it to
   * that process (root: none).
   */
  closedOnTheWay(
    path: string,
    uid: number,
    gid: number,
    groups: readonly number[],
  ): string | undefined {
    const way = [normalizePath(path), ...foldersAbove(normalizePath(path))].reverse();
    return way.find((p) => !this.canReach(`${p === "/" ? "" : p}/x`, uid, gid, groups));
  }

  /**
   * Whether a process with these ids may search every folder above `path`, so
   * that it can reach `path` by name (root: always).
   */
  canReach(path: string, uid: number, gid: number, groups: readonly number[]): boolean {
    if (uid === 0) return true;
    // A folder above without a stat entry has the default 0755: searchable.
    for (let up = parentOf(normalizePath(path)); up !== null; up = parentOf(up)) {
      if (!Object.hasOwn(this.snapshot.stat, up)) continue;
      if ((this.#bitsFor(up, uid, gid, groups) & 0o1) === 0) return false;
    }
    return true;
  }

  /**
   * Whether a process with these ids may list the folder `path` and look at
   * its entries: read and search it, and reach it (root: always).
   */
  canList(path: string, uid: number, gid: number, groups: readonly number[]): boolean {
    if (uid === 0) return true;
    return this.canReach(path, uid, gid, groups) &&
      (this.#bitsFor(path, uid, gid, groups) & 0o5) === 0o5;
  }

  /** Whether a process with these ids may run the file `path` (root: any execute bit). */
  canExecute(path: string, uid: number, gid: number, groups: readonly number[]): boolean {
    if (uid === 0) return (this.stat(path).mode & 0o111) !== 0;
    return (this.#bitsFor(path, uid, gid, groups) & 0o1) !== 0;
  }

  /** The rwx bits of `path` that apply to these ids: the owner's, the group's or the others'. */
  #bitsFor(path: string, uid: number, gid: number, groups: readonly number[]): number {
    const s = this.stat(path);
    const shift = s.uid === uid ? 6 : s.gid === gid || groups.includes(s.gid) ? 3 : 0;
    return (s.mode >> shift) & 0o7;
  }

  /** Entries of /etc/passwd (malformed lines skipped). */
  passwd(): readonly PasswdEntry[] {
    this.#passwd ??= parsePasswd(this.read("/etc/passwd") ?? "");
    return this.#passwd;
  }

  /** Entries of /etc/group (malformed lines skipped). */
  groups(): readonly GroupEntry[] {
    this.#group ??= parseGroup(this.read("/etc/group") ?? "");
    return this.#group;
  }

  /** The passwd entry of a uid, if any. */
  user(uid: number): PasswdEntry | undefined {
    return this.passwd().find((e) => e.uid === uid);
  }
}

/** A uid or gid field: decimal digits of a 32-bit id. */
function isId(field: string): boolean {
  return /^\d{1,10}$/.test(field) && Number(field) <= 0xffff_ffff;
}

/** Parses /etc/passwd text; a malformed line is skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    // Digits only: Number("") is 0, and an empty uid must not read as root.
    if (!isId(f[2]!) || !isId(f[3]!) || f[0] === "") continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! });
  }
  return out;
}

/** Parses /etc/group text; a malformed line is skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#") || !isId(f[2]!) || f[0] === "") continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: f[3]! === "" ? [] : f[3]!.split(",") });
  }
  return out;
}
