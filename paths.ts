/**
 * The paths a snapshot records: exactly those that detectors and adapters
 * declare. Static ones come from the platform tables and the facts; dynamic
 * ones depend on what the first pass found (HOME, PATH, the image config).
 * Pure.
 *
 * @module
 */

import { type CliForcing, DETECTORS, type Signal } from "./contexts/mod.ts";
import { FACT_PATHS, MOUNT_LIMIT_PATHS } from "./contexts/facts.ts";
import type { ImageConfig } from "./config.ts";
import type { World } from "./world.ts";

/** What the snapshot layer does with one declared path. */
export type PathDecl =
  /**
   * Read the content (size-bounded). A `secret`'s file (an opted-in VAR_FILE)
   * that is a FIFO, socket or device is recorded unreadable, not empty: a
   * value it gave as nothing would set nothing without a word.
   */
  | { readonly kind: "read"; readonly path: string; readonly secret?: true }
  /** Record existence only; never read (tokens, device nodes, folders). */
  | { readonly kind: "exists"; readonly path: string }
  /** Record owner and mode (and existence). */
  | { readonly kind: "stat"; readonly path: string }
  /** List a folder and apply `each` to the entries whose name matches. */
  | {
    readonly kind: "list";
    readonly path: string;
    readonly match?: RegExp;
    readonly each: "read" | "exists" | "stat";
  };

/** Something that declares paths: a static list and, optionally, more once the first pass is known. */
export interface PathSource {
  readonly paths?: readonly PathDecl[];
  /**
   * More paths once the first pass is known: `forcing` is what the command
   * line forces (`--context`, `--workload`), which the env in `world` does not
   * show, so that a context forced either way records the same paths.
   */
  readonly dynamicPaths?: (
    world: World,
    config: ImageConfig,
    forcing?: PathForcing,
  ) => readonly PathDecl[];
}

/**
 * What the start a snapshot is taken for is forced to: the command line's
 * `--context` and `--workload`, or `"any"` for a capture, which takes neither
 * and may be replayed forced to any context (README: force when replaying
 * it), so it records the paths each forced context looks at.
 */
export type PathForcing = CliForcing | "any";

function fromSignal(s: Signal): PathDecl[] {
  switch (s.kind) {
    case "path":
      return [{ kind: s.shape === undefined ? "exists" : "read", path: s.path }];
    case "json":
      return [{ kind: "read", path: s.path }];
    case "all":
    case "any":
      return s.of.flatMap(fromSignal);
    default:
      return [];
  }
}

/** Paths the platform tables and the facts look at. */
export function detectionPaths(): PathDecl[] {
  const out: PathDecl[] = [];
  for (const t of DETECTORS) {
    for (const s of [...t.match, ...t.workloads.map((r) => r.when), ...(t.evidence ?? [])]) {
      out.push(...fromSignal(s));
    }
  }
  out.push(
    { kind: "read", path: FACT_PATHS.pid1Comm },
    { kind: "exists", path: FACT_PATHS.dockerenv },
    { kind: "exists", path: FACT_PATHS.containerenv },
    { kind: "exists", path: FACT_PATHS.serviceCa },
    ...MOUNT_LIMIT_PATHS.map((path) => ({ kind: "read" as const, path })),
    { kind: "read", path: FACT_PATHS.cpuOnline },
    { kind: "read", path: FACT_PATHS.selfCgroup },
    { kind: "list", path: FACT_PATHS.dev, match: /^nvidia\d+$/, each: "exists" },
    { kind: "list", path: FACT_PATHS.nvidiaGpus, each: "exists" },
    { kind: "read", path: "/etc/passwd" },
    { kind: "read", path: "/etc/group" },
  );
  return out;
}

/**
 * Merges declarations so each path is handled once; "read" beats "stat" beats
 * "exists" (a read also proves existence), and a stat is kept beside a read.
 */
export function mergeDecls(decls: readonly PathDecl[]): PathDecl[] {
  const single = new Map<string, PathDecl>();
  const stats = new Map<string, PathDecl>();
  const lists = new Map<string, PathDecl>();
  const rank = { exists: 0, stat: 1, read: 2 } as const;
  for (const d of decls) {
    if (d.kind === "list") {
      lists.set(`${d.path}\0${d.match?.source ?? ""}\0${d.each}`, d);
      continue;
    }
    if (d.kind === "stat") stats.set(d.path, d);
    const prev = single.get(d.path);
    if (prev === undefined || rank[d.kind] > rank[prev.kind as keyof typeof rank]) {
      single.set(d.path, d);
    } else if (d.kind === "read" && d.secret && prev.kind === "read") {
      // One read of a path: a secret's, when any declaration reads it as one.
      single.set(d.path, d);
    }
  }
  const out = [...single.values(), ...lists.values()];
  for (const [p, d] of stats) if (single.get(p)?.kind !== "stat") out.push(d);
  return out;
}
