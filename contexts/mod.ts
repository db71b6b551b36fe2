/**
 * Context detection: every platform table is evaluated (for `--explain`), the
 * first match in the order of {@linkcode DETECTORS} wins, and the workload is
 * decided in the order of design section 2. Pure over the snapshot.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import {
  type ContextSource,
  type Detection,
  type Platform,
  PLATFORMS,
  type Workload,
  WORKLOADS,
} from "../types.ts";
import type { World } from "../world.ts";
import { type PlatformTable, runTable, type TableRun } from "./_signals.ts";
import { awsBatch } from "./aws_batch.ts";
import { azureMl } from "./azure_ml.ts";
import { colab } from "./colab.ts";
import { databricks } from "./databricks.ts";
import { ecs } from "./ecs.ts";
import { computeFacts } from "./facts.ts";
import { kubernetes } from "./kubernetes.ts";
import { local } from "./local.ts";
import { modal } from "./modal.ts";
import { sagemaker } from "./sagemaker.ts";
import { slurm } from "./slurm.ts";
import { vertexAi } from "./vertex_ai.ts";

export type { PlatformTable, Signal, WorkloadRule } from "./_signals.ts";

/**
 * The detectors in precedence order: the order IS the precedence.
 * Most specific first, because signals overlap (reference/platforms.md section 0.1).
 */
export const DETECTORS: readonly PlatformTable[] = [
  // AWS Batch runs on ECS (and EKS): its reserved AWS_BATCH_* variables come
  // before the ECS metadata URI and KUBERNETES_SERVICE_HOST it also has.
  awsBatch,
  // Vertex AI training runs on GKE, so it must beat the generic kubernetes row.
  vertexAi,
  // Azure ML, Databricks, Modal: platform-specific variables, never set by
  // anything else; before the generic rows for the same reason.
  azureMl,
  databricks,
  modal,
  // Slurm jobs may run containers (pyxis/enroot) on nodes that have nothing
  // else; SLURM_JOB_ID plus SLURM_NTASKS (or SLURM_JOB_NUM_NODES) marks a real job.
  slurm,
  // SageMaker before kubernetes: SageMaker HyperPod and Studio-on-EKS pods
  // also see KUBERNETES_SERVICE_HOST, but the /opt/ml contract is the one the
  // program must follow.
  sagemaker,
  // Plain Kubernetes (Knative/KServe/Kubeflow are its workloads): after every
  // managed platform that runs on it.
  kubernetes,
  // ECS after Batch (Batch on ECS has both) and after Kubernetes (an ECS
  // variable leaking into a pod is less specific than the pod itself).
  ecs,
  // Colab's variables are community conventions: weak, so late.
  colab,
  // The fallback: always matches.
  local,
];

/** Words that select a workload as the first argument (design section 2 step 2). */
export const WORKLOAD_WORDS: Readonly<Record<string, Workload>> = {
  train: "training",
  serve: "serving",
  process: "processing",
  notebook: "notebook",
};

/** What the caller forces and what the image config defaults to. */
export interface DetectInputs {
  /** `--context` (a full id or a platform alone). */
  readonly context?: string | undefined;
  /** `--workload`. */
  readonly workload?: string | undefined;
  /** The image config's default workload for a platform (design section 2 step 4). */
  readonly defaultWorkload?: (platform: Platform) => Workload | undefined;
  /** The detector list (tests inject failing detectors). */
  readonly detectors?: readonly PlatformTable[];
}

/** A context id split into its platform and workload. */
export interface ContextId {
  readonly platform: Platform;
  readonly workload?: Workload;
}

/** Parses `<platform>` or `<platform>-<workload>`; `what` names the option for errors. */
export function parseContextId(id: string, what: string): ContextId {
  const platform = [...PLATFORMS].sort((a, b) => b.length - a.length).find((p) =>
    id === p || id.startsWith(p + "-")
  );
  if (platform === undefined) {
    throw new UsageError(
      `${what} ${JSON.stringify(id)}: unknown platform (expected one of ${PLATFORMS.join(", ")})`,
    );
  }
  if (id === platform) return { platform };
  const workload = parseWorkload(id.slice(platform.length + 1), what, id);
  return { platform, workload };
}

/** Parses a workload name; `what` names the option for errors. */
export function parseWorkload(value: string, what: string, shown = value): Workload {
  if ((WORKLOADS as readonly string[]).includes(value)) return value as Workload;
  throw new UsageError(
    `${what} ${JSON.stringify(shown)}: unknown workload (expected one of ${WORKLOADS.join(", ")})`,
  );
}

/** What a forcing option pair names (either half may be absent). */
export interface Forced {
  platform?: Platform;
  workload?: Workload;
}

/** Combines one option pair (`--context`/`--workload`, or the env pair), checking they agree. */
function forcedFrom(
  context: string | undefined,
  workload: string | undefined,
  names: [string, string],
): Forced {
  const out: Forced = {};
  if (context !== undefined && context !== "") {
    const id = parseContextId(context, names[0]);
    out.platform = id.platform;
    if (id.workload !== undefined) out.workload = id.workload;
  }
  if (workload !== undefined && workload !== "") {
    const w = parseWorkload(workload, names[1]);
    if (out.workload !== undefined && out.workload !== w) {
      throw new UsageError(
        `${names[0]} ${JSON.stringify(context)} and ${names[1]} ${
          JSON.stringify(workload)
        } disagree: give one of them`,
      );
    }
    out.workload = w;
  }
  return out;
}

/**
 * Runs one table so that nothing it throws escapes detect(). runTable reads
 * every workload rule inside this isolation, so detect() needs nothing from the
 * table afterwards. A table that throws counts as not matched and its rules give
 * nothing, whichever part threw.
 */
function runIsolated(table: PlatformTable, world: World): TableRun {
  try {
    return runTable(table, world);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return {
      result: { platform: table.platform, matched: false, evidence: [], error },
      holding: [],
    };
  }
}

/** What CHAMELEON_CONTEXT and CHAMELEON_WORKLOAD force; a bad value is a usage error (exit 2). */
export function forcedByEnv(world: World): Forced {
  return forcedFrom(world.env("CHAMELEON_CONTEXT"), world.env("CHAMELEON_WORKLOAD"), [
    "CHAMELEON_CONTEXT",
    "CHAMELEON_WORKLOAD",
  ]);
}

/** The forcing options of the command line: `--context` and `--workload`. */
export type CliForcing = Pick<DetectInputs, "context" | "workload">;

/**
 * What the command line and the env force together, as detect() decides it:
 * each half from the command line, else from the env (design section 2, step
 * 1). A bad value is a usage error (exit 2).
 */
export function forcedOf(world: World, cli: CliForcing = {}): Forced {
  const given = forcedFrom(cli.context, cli.workload, ["--context", "--workload"]);
  const fromEnv = forcedByEnv(world);
  const platform = given.platform ?? fromEnv.platform;
  const workload = given.workload ?? fromEnv.workload;
  return {
    ...(platform === undefined ? {} : { platform }),
    ...(workload === undefined ? {} : { workload }),
  };
}

/** Detects the context and facts from a snapshot (design section 2). */
export function detect(world: World, inputs: DetectInputs = {}): Detection {
  const tables = inputs.detectors ?? DETECTORS;
  const { platform: forcedPlatform, workload: forcedWorkload } = forcedOf(world, inputs);

  const runs = tables.map((t) => runIsolated(t, world));
  const detectors = runs.map((r) => r.result);
  const platform = forcedPlatform ?? detectors.find((d) => d.matched)?.platform ?? "local";
  // A forced platform whose detector failed has no holding rules, so its
  // workload falls back (config, then unknown) as when its signals say nothing.
  const holding = runs.find((r) => r.result.platform === platform)?.holding ?? [];

  let workload: Workload;
  let source: ContextSource;
  const word = world.snapshot.argv[0];
  const signalled = holding.find((r) => r.workload !== "unknown");
  const configured = inputs.defaultWorkload?.(platform);
  if (forcedWorkload !== undefined) [workload, source] = [forcedWorkload, "forced"];
  else if (word !== undefined && Object.hasOwn(WORKLOAD_WORDS, word)) {
    [workload, source] = [WORKLOAD_WORDS[word]!, "argv"];
  } else if (signalled !== undefined) [workload, source] = [signalled.workload, "detected"];
  else if (configured !== undefined) [workload, source] = [configured, "config"];
  else [workload, source] = ["unknown", "detected"];

  const forced: ("platform" | "workload")[] = [];
  if (forcedPlatform !== undefined) forced.push("platform");
  if (forcedWorkload !== undefined) forced.push("workload");
  if (forced.length > 0) source = "forced";

  const variant = holding.find((r) => r.workload === workload)?.variant ?? null;

  return {
    context: { id: `${platform}-${workload}`, platform, workload, source, variant, forced },
    facts: computeFacts(world, platform),
    detectors,
  };
}
