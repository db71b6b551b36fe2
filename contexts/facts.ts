/**
 * Facts reported beside the context (design section 2): PID 1, init, container
 * engine, OpenShift, CPU quota and online CPUs, memory limit, GPUs, for
 * cgroup v1 and v2. Pure over the snapshot. Sources: reference/platforms.md
 * section B.12 (docker/podman), section B.13 (cgroups), section B.14 (GPUs), section A.5 (OpenShift).
 *
 * @module
 */

import type { Facts, Platform } from "../types.ts";
import type { PathDecl } from "../paths.ts";
import type { World } from "../world.ts";
import { SA_DIR } from "./kubernetes.ts";

/** Files the facts read. */
export const FACT_PATHS = {
  pid1Comm: "/proc/1/comm",
  dockerenv: "/.dockerenv",
  containerenv: "/run/.containerenv",
  serviceCa: `${SA_DIR}/service-ca.crt`,
  cpuOnline: "/sys/devices/system/cpu/online",
  selfCgroup: "/proc/self/cgroup",
  dev: "/dev",
  nvidiaGpus: "/proc/driver/nvidia/gpus",
} as const;

/**
 * The process's own cgroup and its ancestors, per hierarchy, as
 * `/proc/self/cgroup` names them (deepest first, the root left out: the mount
 * points themselves are read anyway). Inside a container with a cgroup
 * namespace, or under runc's v1 bind mounts, these folders do not exist and the
 * mount points are the container's own cgroup. Without one (a privileged pod
 * on cgroup v2, `--cgroupns=host`, a Slurm task on the host) the mount points
 * are the host's root and the limits sit in these folders.
 */
function ownCgroups(
  world: World,
): { v2: string[]; cpu: string[]; memory: string[]; cpuset: string[] } {
  const out = {
    v2: [] as string[],
    cpu: [] as string[],
    memory: [] as string[],
    cpuset: [] as string[],
  };
  for (const line of (world.read(FACT_PATHS.selfCgroup) ?? "").split("\n")) {
    // hierarchy-ID:controller-list:cgroup-path (the path may hold ':').
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (m === null) continue;
    const dirs = ancestors(m[3]!);
    if (m[1] === "0" && m[2] === "") out.v2 = dirs;
    const controllers = m[2]!.split(",");
    for (const c of ["cpu", "memory", "cpuset"] as const) {
      if (controllers.includes(c)) out[c] = dirs;
    }
  }
  return out;
}

/** "/a/b/c" gives "/a/b/c", "/a/b", "/a"; a path with an empty, "." or ".." part gives none. */
function ancestors(path: string): string[] {
  if (path === "/") return [];
  const parts = path.slice(1).split("/");
  if (parts.length > 64 || parts.some((p) => p === "" || p === "." || p === "..")) return [];
  return parts.map((_, i) => "/" + parts.slice(0, parts.length - i).join("/"));
}

/** Where one hierarchy's limit files sit: its mount point, and the files in it. */
const LIMIT_FILES = {
  v2: { mount: "/sys/fs/cgroup", files: ["cpu.max", "memory.max", "cpuset.cpus.effective"] },
  cpu: { mount: "/sys/fs/cgroup/cpu", files: ["cpu.cfs_quota_us", "cpu.cfs_period_us"] },
  memory: { mount: "/sys/fs/cgroup/memory", files: ["memory.limit_in_bytes"] },
  cpuset: { mount: "/sys/fs/cgroup/cpuset", files: ["cpuset.effective_cpus"] },
} as const;

type Hierarchy = keyof typeof LIMIT_FILES;
type Dirs = Record<Hierarchy, readonly string[]>;
const HIERARCHIES = Object.keys(LIMIT_FILES) as Hierarchy[];

/** Every limit file in the given folders of each hierarchy. */
function limitFilesIn(dirs: Dirs): string[] {
  return HIERARCHIES.flatMap((h) =>
    dirs[h].flatMap((d) => LIMIT_FILES[h].files.map((f) => `${d}/${f}`))
  );
}

/** The folders of the process's own cgroup under each mount point (see ownCgroups). */
function ownDirs(world: World): Dirs {
  const own = ownCgroups(world);
  const under = (h: Hierarchy) => own[h].map((d) => LIMIT_FILES[h].mount + d);
  return { v2: under("v2"), cpu: under("cpu"), memory: under("memory"), cpuset: under("cpuset") };
}

/** The limit files at the mount points: read by every snapshot. */
export const MOUNT_LIMIT_PATHS: readonly string[] = limitFilesIn({
  v2: [LIMIT_FILES.v2.mount],
  cpu: [LIMIT_FILES.cpu.mount],
  memory: [LIMIT_FILES.memory.mount],
  cpuset: [LIMIT_FILES.cpuset.mount],
});

/**
 * The folders a limit may come from, per hierarchy: the mount point, then each
 * folder of the process's own cgroup. The facts take the smallest limit among
 * the files present, since a parent's limit binds its children (a Slurm job's
 * cpuset and memory limit sit above the task's cgroup).
 */
function limitDirs(world: World): Dirs {
  const own = ownDirs(world);
  const dirs = (h: Hierarchy) => [LIMIT_FILES[h].mount, ...own[h]];
  return { v2: dirs("v2"), cpu: dirs("cpu"), memory: dirs("memory"), cpuset: dirs("cpuset") };
}

/** The limit files below the mount points, declared once the first pass has read /proc/self/cgroup. */
export function cgroupPaths(world: World): PathDecl[] {
  return limitFilesIn(ownDirs(world)).map((path) => ({ kind: "read" as const, path }));
}

/** Init programs that reap and forward signals for us. */
export const KNOWN_INITS = [
  "tini",
  "docker-init",
  "dumb-init",
  "catatonit",
  "s6-svscan",
  // `podman run --init` mounts its init (catatonit unless --init-path) at /run/podman-init.
  "podman-init",
] as const;

/** A memory limit from here on is no limit (design section 2), compared exactly. */
const UNLIMITED = 2n ** 62n;

/**
 * Counts CPUs in a Linux cpu list such as "0-3,8,10-11". A CPU named twice
 * counts once (`0-3,2-5` is six), as the kernel reads a list written to
 * `cpuset.cpus`: what the kernel prints never overlaps, but a replayed file
 * is anyone's.
 */
export function countCpuList(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  const ranges: [number, number][] = [];
  for (const part of t.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    // Past 2^53 a number is not the digits given (and the count would read 1e+23).
    if (hi < lo || !Number.isSafeInteger(hi)) return null;
    ranges.push([lo, hi]);
  }
  // In order of their starts, each range counts only past the highest CPU counted so far.
  ranges.sort((a, b) => a[0] - b[0]);
  let n = 0;
  let top = -1;
  for (const [lo, hi] of ranges) {
    if (hi > top) n += hi - Math.max(lo, top + 1) + 1;
    top = Math.max(top, hi);
  }
  return n;
}

function intOf(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim();
  // Past 2^53 a number is not the digits given: a quota of 1e+23 CPUs is no quota read.
  return /^-?\d+$/.test(t) && Number.isSafeInteger(Number(t)) ? Number(t) : null;
}

/** A byte count's digits (no sign: a v1 quota may be -1, a memory limit never reads so). */
function byteCountOf(text: string): string | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? t : null;
}

/** v2 `cpu.max`'s first two fields: "max" or a quota, and a period; null for a field it cannot read. */
function cpuMax(text: string): { quota: number | "max" | null; period: number | null } {
  const [max, period] = text.trim().split(/\s+/);
  return { quota: max === "max" ? "max" : intOf(max), period: intOf(period) };
}

/** The smallest of the values, ignoring nulls; null when there is none. */
function smallest(values: readonly (number | null)[]): number | null {
  let out: number | null = null;
  for (const v of values) if (v !== null && (out === null || v < out)) out = v;
  return out;
}

/** The CPU quota: v2 `cpu.max` (first two fields), else v1 quota/period; null when none. */
function cpuQuota(world: World, dirs: Dirs): { cpus: number | null; version: "v1" | "v2" | null } {
  const v2 = dirs.v2.map((d) => world.read(`${d}/cpu.max`)).filter((t) => t !== undefined);
  if (v2.length > 0) {
    return {
      cpus: smallest(v2.map((t) => {
        const { quota: q, period: p } = cpuMax(t);
        return q === "max" || q === null || q <= 0 || p === null || p <= 0 ? null : q / p;
      })),
      version: "v2",
    };
  }
  const v1 = dirs.cpu.map((d) => ({
    quota: intOf(world.read(`${d}/cpu.cfs_quota_us`)),
    period: intOf(world.read(`${d}/cpu.cfs_period_us`)),
  })).filter((q) => q.quota !== null || q.period !== null);
  if (v1.length === 0) return { cpus: null, version: null };
  return {
    cpus: smallest(
      v1.map(({ quota, period }) =>
        quota === null || quota <= 0 || period === null || period <= 0 ? null : quota / period
      ),
    ),
    version: "v1",
  };
}

function memoryLimit(
  world: World,
  dirs: Dirs,
): { bytes: number | null; version: "v1" | "v2" | null } {
  const limit = (text: string) => {
    const digits = byteCountOf(text);
    return digits === null || BigInt(digits) >= UNLIMITED ? null : Number(digits);
  };
  const v2 = dirs.v2.map((d) => world.read(`${d}/memory.max`)).filter((t) => t !== undefined);
  if (v2.length > 0) return { bytes: smallest(v2.map(limit)), version: "v2" };
  const v1 = dirs.memory.map((d) => world.read(`${d}/memory.limit_in_bytes`))
    .filter((t) => t !== undefined);
  if (v1.length > 0) return { bytes: smallest(v1.map(limit)), version: "v1" };
  return { bytes: null, version: null };
}

/** A CPU list the readers can count (an empty cpuset means none set). */
const CPU_LIST = (t: string) => t.trim() === "" || countCpuList(t) !== null;
/** An integer, as intOf() reads it. */
const INTEGER = (t: string) => intOf(t) !== null;
/** A byte count, as byteCountOf() reads it. */
const BYTE_COUNT = (t: string) => byteCountOf(t) !== null;

/**
 * What each cgroup and CPU file must hold for the facts to use it, by file
 * name: checked with the readers' own functions, so a file is a problem
 * exactly when the reader cannot use it.
 */
const FACT_FORMS: Readonly<Record<string, [valid: (text: string) => boolean, expected: string]>> = {
  "cpu.max": [(t) => {
    const { quota, period } = cpuMax(t);
    return quota !== null && period !== null;
  }, '"max PERIOD" or "QUOTA PERIOD"'],
  "memory.max": [(t) => t.trim() === "max" || BYTE_COUNT(t), '"max" or a byte count'],
  "cpu.cfs_quota_us": [INTEGER, "an integer"],
  "cpu.cfs_period_us": [INTEGER, "an integer"],
  "memory.limit_in_bytes": [BYTE_COUNT, "a byte count"],
  "cpuset.cpus.effective": [CPU_LIST, 'a CPU list like "0-3,8"'],
  "cpuset.effective_cpus": [CPU_LIST, 'a CPU list like "0-3,8"'],
  "online": [CPU_LIST, 'a CPU list like "0-3,8"'],
};

/**
 * Fact files that are present but unreadable or malformed, each with the
 * reason: the fact then falls back as if the file said nothing.
 */
function factProblems(world: World, dirs: Dirs): string[] {
  const out: string[] = [];
  for (const path of [...limitFilesIn(dirs), FACT_PATHS.cpuOnline]) {
    const [valid, expected] = FACT_FORMS[path.slice(path.lastIndexOf("/") + 1)]!;
    const f = world.file(path);
    if (f.kind === "unreadable") out.push(`${path}: ${f.reason}`);
    else if (f.kind === "ok" && !valid(f.text)) {
      out.push(`${path}: expected ${expected}, got ${JSON.stringify(f.text.trim().slice(0, 40))}`);
    }
  }
  return out;
}

/** Online CPUs as /sys lists them (no cpuset, no quota): Python's `os.cpu_count()`. */
export function cpusOnline(world: World): number {
  return countCpuList(world.read(FACT_PATHS.cpuOnline) ?? "") ?? 1;
}

/** Online CPUs, lowered by the smallest cpuset; a cpuset alone counts when the online list is missing. */
function onlineCpus(world: World, dirs: Dirs): number {
  const count = (path: string) => countCpuList(world.read(path) ?? "");
  return smallest([
    count(FACT_PATHS.cpuOnline),
    ...dirs.v2.map((d) => count(`${d}/cpuset.cpus.effective`)),
    ...dirs.cpuset.map((d) => count(`${d}/cpuset.effective_cpus`)),
  ]) ?? 1;
}

/** GPUs: `/dev/nvidia<N>` nodes, else entries of /proc/driver/nvidia/gpus. */
export function countGpus(world: World): number {
  const nodes = world.children(FACT_PATHS.dev).filter((n) => /^nvidia\d+$/.test(n)).length;
  return nodes > 0 ? nodes : world.children(FACT_PATHS.nvidiaGpus).length;
}

/** Computes the facts for the chosen platform. */
export function computeFacts(world: World, platform: Platform): Facts {
  const snap = world.snapshot;
  const comm = world.read(FACT_PATHS.pid1Comm)?.trim() ?? "";
  const init = (KNOWN_INITS as readonly string[]).includes(comm) ? comm : null;
  let container: Facts["container"] = null;
  if (world.exists(FACT_PATHS.dockerenv)) container = "docker";
  // Before /run/.containerenv: CRI-O (OpenShift's runtime) writes that file into every pod.
  else if (platform === "kubernetes") container = "kubernetes";
  else if (world.exists(FACT_PATHS.containerenv) || world.env("container") === "podman") {
    container = "podman";
  }
  const openshift = world.exists(FACT_PATHS.serviceCa) ||
    (snap.uid >= 1_000_000_000 && snap.gid === 0 && world.user(snap.uid) === undefined);
  const dirs = limitDirs(world);
  const cpu = cpuQuota(world, dirs);
  const mem = memoryLimit(world, dirs);
  const problems = factProblems(world, dirs);
  return {
    pid1: snap.pid === 1,
    init,
    container,
    openshift,
    cpus: cpu.cpus,
    onlineCpus: onlineCpus(world, dirs),
    memoryBytes: mem.bytes,
    gpus: countGpus(world),
    cgroup: cpu.version ?? mem.version,
    ...(problems.length > 0 ? { problems } : {}),
  };
}
