/**
 * Facts reported beside the context (design section 2): PID 1, init, container
 * engine, OpenShift, CPU quota and online CPUs, memory limit, GPUs, for
 * cgroup v1 and v2. Pure over the snapshot. Sources: reference/platforms.md
 * section B.12 (docker/podman), section B.13 (cgroups), section B.14 (GPUs), section A.5 (OpenShift).
 *
 * @module
 */

import type { Facts, Platform } from "../types.ts";
import type { World } from "../world.ts";
import { SA_DIR } from "./kubernetes.ts";

/** Files the facts read. */
export const FACT_PATHS = {
  pid1Comm: "/proc/1/comm",
  dockerenv: "/.dockerenv",
  containerenv: "/run/.containerenv",
  serviceCa: `${SA_DIR}/service-ca.crt`,
  v2CpuMax: "/sys/fs/cgroup/cpu.max",
  v2MemoryMax: "/sys/fs/cgroup/memory.max",
  v2Cpuset: "/sys/fs/cgroup/cpuset.cpus.effective",
  v1Quota: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
  v1Period: "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
  v1Memory: "/sys/fs/cgroup/memory/memory.limit_in_bytes",
  v1Cpuset: "/sys/fs/cgroup/cpuset/cpuset.effective_cpus",
  cpuOnline: "/sys/devices/system/cpu/online",
  dev: "/dev",
  nvidiaGpus: "/proc/driver/nvidia/gpus",
} as const;

/** Init programs that reap and forward signals for us. */
export const KNOWN_INITS = ["tini", "docker-init", "dumb-init", "catatonit", "s6-svscan"] as const;

const UNLIMITED = 2 ** 62;

/** Counts CPUs in a Linux cpu list such as "0-3,8,10-11". */
export function countCpuList(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  let n = 0;
  for (const part of t.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return null;
    n += hi - lo + 1;
  }
  return n;
}

function intOf(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) : null;
}

/** v2 `cpu.max`'s first two fields: "max" or a quota, and a period; null for a field it cannot read. */
function cpuMax(text: string): { quota: number | "max" | null; period: number | null } {
  const [max, period] = text.trim().split(/\s+/);
  return { quota: max === "max" ? "max" : intOf(max), period: intOf(period) };
}

/** The CPU quota: v2 `cpu.max` (first two fields), else v1 quota/period; null when none. */
function cpuQuota(world: World): { cpus: number | null; version: "v1" | "v2" | null } {
  const v2 = world.read(FACT_PATHS.v2CpuMax);
  if (v2 !== undefined) {
    const { quota: q, period: p } = cpuMax(v2);
    if (q === "max" || p === null || p <= 0) return { cpus: null, version: "v2" };
    return { cpus: q === null || q <= 0 ? null : q / p, version: "v2" };
  }
  const quota = intOf(world.read(FACT_PATHS.v1Quota));
  const period = intOf(world.read(FACT_PATHS.v1Period));
  if (quota === null && period === null) return { cpus: null, version: null };
  if (quota === null || quota <= 0 || period === null || period <= 0) {
    return { cpus: null, version: "v1" };
  }
  return { cpus: quota / period, version: "v1" };
}

function memoryLimit(world: World): { bytes: number | null; version: "v1" | "v2" | null } {
  const v2 = world.read(FACT_PATHS.v2MemoryMax);
  if (v2 !== undefined) {
    const n = intOf(v2);
    return { bytes: n === null || n >= UNLIMITED ? null : n, version: "v2" };
  }
  const v1 = world.read(FACT_PATHS.v1Memory);
  if (v1 === undefined) return { bytes: null, version: null };
  const n = intOf(v1);
  return { bytes: n === null || n >= UNLIMITED ? null : n, version: "v1" };
}

/** A CPU list the readers can count (an empty cpuset means none set). */
const CPU_LIST = (t: string) => t.trim() === "" || countCpuList(t) !== null;
/** An integer, as intOf() reads it. */
const INTEGER = (t: string) => intOf(t) !== null;

/**
 * What each cgroup and CPU file must hold for the facts to use it: checked
 * with the readers' own functions, so a file is a problem exactly when the
 * reader cannot use it.
 */
const FACT_FORMS: readonly [path: string, valid: (text: string) => boolean, expected: string][] = [
  [
    FACT_PATHS.v2CpuMax,
    (t) => {
      const { quota, period } = cpuMax(t);
      return quota !== null && period !== null;
    },
    '"max PERIOD" or "QUOTA PERIOD"',
  ],
  [FACT_PATHS.v2MemoryMax, (t) => t.trim() === "max" || INTEGER(t), '"max" or a byte count'],
  [FACT_PATHS.v1Quota, INTEGER, "an integer"],
  [FACT_PATHS.v1Period, INTEGER, "an integer"],
  [FACT_PATHS.v1Memory, INTEGER, "a byte count"],
  [FACT_PATHS.v2Cpuset, CPU_LIST, 'a CPU list like "0-3,8"'],
  [FACT_PATHS.v1Cpuset, CPU_LIST, 'a CPU list like "0-3,8"'],
  [FACT_PATHS.cpuOnline, CPU_LIST, 'a CPU list like "0-3,8"'],
];

/**
 * Fact files that are present but unreadable or malformed, each with the
 * reason: the fact then falls back as if the file said nothing.
 */
function factProblems(world: World): string[] {
  const out: string[] = [];
  for (const [path, valid, expected] of FACT_FORMS) {
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

function onlineCpus(world: World): number {
  const online = cpusOnline(world);
  const cpuset = countCpuList(
    world.read(FACT_PATHS.v2Cpuset) ?? world.read(FACT_PATHS.v1Cpuset) ?? "",
  );
  return cpuset !== null && cpuset < online ? cpuset : online;
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
  else if (world.exists(FACT_PATHS.containerenv) || world.env("container") === "podman") {
    container = "podman";
  } else if (platform === "kubernetes") container = "kubernetes";
  const openshift = world.exists(FACT_PATHS.serviceCa) ||
    (snap.uid >= 1_000_000_000 && snap.gid === 0 && world.user(snap.uid) === undefined);
  const cpu = cpuQuota(world);
  const mem = memoryLimit(world);
  const problems = factProblems(world);
  return {
    pid1: snap.pid === 1,
    init,
    container,
    openshift,
    cpus: cpu.cpus,
    onlineCpus: onlineCpus(world),
    memoryBytes: mem.bytes,
    gpus: countGpus(world),
    cgroup: cpu.version ?? mem.version,
    ...(problems.length > 0 ? { problems } : {}),
  };
}
