/**
 * Distributed training: one cluster picture per platform, turned into the
 * `ML_*` cluster variables (every training context that knows its cluster,
 * single node included) and, for several nodes, the torch rendezvous
 * variables (`MASTER_*`, `PET_*`), socket interfaces and a "wait until every
 * host resolves" step. Fill only: an operator's values are kept and reported.
 * Sources: design section 6 "Rendezvous"; reference/sagemaker.md sections 1.3, 1.6;
 * reference/platforms.md sections A.2, A.4, B.1, B.3, B.5, B.8.
 *
 * @module
 */

import { ELASTIC_PYTORCHJOB } from "../contexts/kubernetes.ts";
import { SM_PATHS } from "../contexts/sagemaker.ts";
import { evaluate, isLinkValue, linkWarning } from "../contexts/_signals.ts";
import { InputError } from "../errors.ts";
import { type EnvOp, execveBytes, MAX_VALUE_BYTES, type Step } from "../types.ts";
import { type Adapter, configGives, fill, type Fragment, type PlanInput } from "./_adapter.ts";
import { effectiveGpus } from "./resources.ts";
import { reachableAddress, type World } from "../world.ts";
import {
  CLUSTER_SPEC,
  hostPort,
  hostPortOf,
  intEnv,
  isIpAddress,
  jsonEnv,
  maybeHostPort,
  portEnv,
  positiveIntEnv,
  resourceConfig,
  SAGEMAKER_HOST_FILES,
  sagemakerJobHosts,
  TF_CONFIG,
  type TfTask,
} from "./_files.ts";
import { pointerToken } from "../shape.ts";

/** The default torch rendezvous port. */
const DEFAULT_MASTER_PORT = 29500;

/** What a platform tells about the cluster this process is part of. */
export interface Cluster {
  /** Every host, when the platform lists them. */
  readonly hosts?: readonly string[];
  readonly currentHost: string;
  /** Unknown for an Indexed Job (the completion count is not in the pod). */
  readonly numNodes?: number;
  /**
   * Unknown for an elastic PyTorchJob (ranks are handed out at rendezvous)
   * and for a TFJob member that is not chief, master or worker.
   */
  readonly nodeRank?: number;
  /** Whether this node is the master; by default, whether its rank is 0. */
  readonly isMaster?: boolean;
  /** Unknown for an Indexed Job pod other than index 0 without MASTER_ADDR. */
  readonly masterAddr?: string;
  readonly masterPort: number;
  /** Where the picture came from, for `--explain`. */
  readonly source: string;
  /** Network interface for NCCL/Gloo (SageMaker names it). */
  readonly ifname?: string;
  /** Host names to wait for before starting, and where each was read. */
  readonly waitFor?: WaitList;
  /** Why `hosts` is left out though the platform lists them: too many for a variable. */
  readonly hostsLeftOut?: string;
  /**
   * The processes a launcher (torchrun, DeepSpeed's) started on this node, this one among
   * them: what PET_NPROC_PER_NODE says instead of the GPUs.
   */
  readonly procsPerNode?: number;
}

/**
 * Host names to wait for, and where each was read: the wait step refuses a name no
 * resolver can look up, naming the file or variable and the field it came from.
 */
export interface WaitList {
  readonly hosts: readonly string[];
  /** Where host `i` was read, its text quoted: `File <path>: /hosts/2 "algo-3"`. */
  readonly at: (i: number) => string;
}

/** The hosts of a resourceconfig.json (training or processing path), as a {@linkcode WaitList}. */
function resourceConfigHosts(path: string, hosts: readonly string[]): WaitList {
  return { hosts, at: (i) => `File ${path}: /hosts/${i} ${JSON.stringify(hosts[i])}` };
}

/** What a Slurm host list must look like, for the error message. */
const NODELIST_FORM = "host names like gpu[07-09,12],cpu1";

/** What separates host list items besides a comma. */
const BLANK = /^[ \t]$/;

/** One Slurm host list item: literal text and bracket groups of numbers, in order. */
type NodelistPart = string | readonly { readonly lo: string; readonly hi: string }[];

/**
 * Expands a Slurm host list: `gpu[07-08],cpu1` -> gpu07, gpu08, cpu1; several
 * bracket groups multiply (`a[1-2]-b[3-4]`). Zero padding follows the range.
 * The hosts are counted before any name is built: a list of more than
 * {@linkcode MAX_DERIVED_HOSTS} is a typo (`gpu[1-99999999]` would exhaust
 * memory), and so is a bracket that is empty, unclosed or stray (exit 78).
 */
export function expandNodelist(list: string, variable = "SLURM_NODELIST"): string[] {
  const bad = (expected: string) =>
    new InputError(`Variable ${variable} ${JSON.stringify(list)}: ${expected}`);
  const items: NodelistPart[][] = [];
  let parts: NodelistPart[] = [];
  let text = "";
  let group: string | undefined; // inside brackets: the text so far
  // The last item ended at a blank, so a comma right after it separates nothing more.
  let blankEnded = false;
  const endItem = () => {
    if (text !== "") parts.push(text);
    if (parts.length === 0) throw bad(`expected ${NODELIST_FORM}`);
    items.push(parts);
    parts = [];
    text = "";
  };
  for (const ch of list) {
    if (group !== undefined) {
      if (ch === "[") throw bad(`expected ${NODELIST_FORM}`);
      if (ch !== "]") group += ch;
      else {
        if (text !== "") parts.push(text);
        parts.push(rangesOf(group, bad));
        text = "";
        group = undefined;
      }
    } else if (ch === "[") {
      group = "";
      blankEnded = false;
    } else if (ch === "]") throw bad(`expected ${NODELIST_FORM}`);
    else if (ch === ",") {
      if (blankEnded) blankEnded = false;
      else endItem();
    } else if (BLANK.test(ch)) {
      // Slurm's own parser also splits at blanks: `gpu07 gpu08`, `gpu07, gpu08`.
      if (text !== "" || parts.length > 0) {
        endItem();
        blankEnded = true;
      }
    } else {
      text += ch;
      blankEnded = false;
    }
  }
  if (group !== undefined) throw bad(`expected ${NODELIST_FORM}`);
  if (!blankEnded || text !== "" || parts.length > 0) endItem();

  let total = 0;
  for (const item of items) {
    let product = 1;
    for (const part of item) {
      if (typeof part !== "string") product *= part.reduce((n, r) => n + rangeSize(r), 0);
    }
    total += product;
  }
  if (total > MAX_DERIVED_HOSTS) {
    const got = Number.isSafeInteger(total)
      ? String(total)
      : `more than ${Number.MAX_SAFE_INTEGER}`;
    throw bad(`expected at most ${MAX_DERIVED_HOSTS} hosts, got ${got}`);
  }
  return items.flatMap((item) => {
    let names = [""];
    for (const part of item) {
      names = typeof part === "string"
        ? names.map((n) => n + part)
        : names.flatMap((n) => part.flatMap((r) => numbered(n, r)));
    }
    return names;
  });
}

/** The ranges of one bracket group (`07-09,12`), checked. */
function rangesOf(group: string, bad: (expected: string) => Error): NodelistPart {
  if (group === "") throw bad(`expected ${NODELIST_FORM}`);
  return group.split(",").map((r) => {
    if (r === "") throw bad(`expected ${NODELIST_FORM}`);
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (m === null) throw bad(`bad range ${JSON.stringify(r)}: expected N or N-M`);
    const lo = m[1]!, hi = m[2] ?? lo;
    // Beyond 2^53 the numbers would lose digits (and the names be wrong).
    if (!Number.isSafeInteger(Number(hi))) {
      throw bad(
        `bad range ${JSON.stringify(r)}: expected numbers of at most ${Number.MAX_SAFE_INTEGER}`,
      );
    }
    if (Number(hi) < Number(lo)) {
      throw bad(`range ${JSON.stringify(r)} runs backwards: expected the low end first`);
    }
    return { lo, hi };
  });
}

const rangeSize = (r: { lo: string; hi: string }) => Number(r.hi) - Number(r.lo) + 1;

/** `prefix` followed by each number of a range, padded to the width of its low end. */
function numbered(prefix: string, r: { lo: string; hi: string }): string[] {
  return Array.from(
    { length: rangeSize(r) },
    (_, i) => prefix + String(Number(r.lo) + i).padStart(r.lo.length, "0"),
  );
}

/**
 * This task's "host:port" in a whole cluster (CLUSTER_SPEC, TF_CONFIG). A task
 * of no job, or beyond its job's hosts, is exit 78, as TensorFlow's
 * `_validate_cluster_spec` refuses them: otherwise the rank and the node count
 * would disagree. `outside` is the task type that may be missing from the
 * cluster (tf.estimator wants its evaluator outside the training cluster).
 */
function ownTask(
  variable: string,
  cluster: Readonly<Record<string, readonly string[]>>,
  task: TfTask,
  outside?: string,
): string | undefined {
  // Own keys only: a task type "constructor" is no job of the cluster.
  const job = Object.hasOwn(cluster, task.type) ? cluster[task.type] : undefined;
  if (job === undefined) {
    if (task.type === outside) return undefined;
    throw new InputError(
      `Variable ${variable}: /task/type ${JSON.stringify(task.type)}: expected one of /cluster (${
        Object.keys(cluster).join(", ") || "none"
      })`,
    );
  }
  const own = job[task.index];
  if (own === undefined) {
    throw new InputError(
      `Variable ${variable}: /task/index ${task.index}: expected less than ${job.length}, the number of hosts in /cluster${
        pointerToken(task.type)
      }`,
    );
  }
  return own;
}

/**
 * The master's address an operator or the user gave: `MASTER_ADDR`, else
 * torchrun's own `PET_MASTER_ADDR` (what torchrun will use, so what is reported).
 */
function givenMasterAddr(world: World): string | undefined {
  return world.envValue("MASTER_ADDR") ?? world.envValue("PET_MASTER_ADDR");
}

/**
 * The port convention reference/platforms.md B.8 gives for Slurm (Lightning's
 * `SLURMEnvironment`; Slurm names none): 15000 plus the last four digits of `SLURM_JOB_ID`, so
 * that two jobs whose first tasks share a node do not meet on one port. The
 * same number Lightning picks itself when `MASTER_PORT` is not set.
 */
function slurmJobPort(jobId: string | undefined): number | undefined {
  const last = jobId?.slice(-4);
  return last !== undefined && /^[0-9]+$/.test(last) ? 15000 + Number(last) : undefined;
}

/** The port given (`MASTER_PORT`, else `PET_MASTER_PORT`), else the platform's, else torch's default. */
function masterPortFrom(world: World, fallback?: number): number {
  return portEnv(world, "MASTER_PORT") ?? portEnv(world, "PET_MASTER_PORT") ?? fallback ??
    DEFAULT_MASTER_PORT;
}

// Pod names the operators give, so every host can be listed from the master's
// name and the node count. PyTorchJob v1: `<job>-master-0`, then
// `<job>-worker-<i>` (training-operator v1 envvar.go genGeneralName).
const PYTORCHJOB_MASTER = /^(?<job>[a-z0-9][-a-z0-9.]*)-master-0$/;
// Trainer v2 (JobSet): `<trainjob>-node-0-<i>.<trainjob>`, one pod per node.
const TRAINJOB_NODE0 = /^(?<job>[a-z0-9][-a-z0-9]*)-node-0-0(?<domain>\.[-a-z0-9.]+)?$/;
/** More nodes than this in an env var is a typo, not a cluster: list none. */
const MAX_DERIVED_HOSTS = 100_000;

/** Every host's name from the master's, when it has the operator's shape. */
function derivedHosts(
  master: string | undefined,
  pattern: RegExp,
  numNodes: number,
  name: (groups: Record<string, string | undefined>, index: number) => string,
): { hosts?: string[] } {
  const m = master === undefined ? null : pattern.exec(master);
  if (m === null || numNodes < 1 || numNodes > MAX_DERIVED_HOSTS) return {};
  return { hosts: Array.from({ length: numNodes }, (_, i) => name(m.groups!, i)) };
}

/**
 * The cluster variables and host waits of a context that knows its cluster.
 * Its own function: V8 compiles a function whole on its first call, and most
 * starts outside training have no cluster.
 */
function clusterPlan(input: PlanInput, c: Cluster): Fragment {
  const isMaster = c.isMaster ?? (c.nodeRank === undefined ? undefined : c.nodeRank === 0);
  const env: EnvOp[] = [
    fill("ML_CURRENT_HOST", c.currentHost),
    ...(c.nodeRank === undefined ? [] : [fill("ML_NODE_RANK", String(c.nodeRank))]),
    ...(isMaster === undefined ? [] : [fill("ML_IS_MASTER", String(isMaster))]),
    ...(c.masterAddr === undefined ? [] : [fill("ML_MASTER_ADDR", c.masterAddr)]),
    fill("ML_MASTER_PORT", String(c.masterPort)),
  ];
  if (c.hosts !== undefined) env.push(fill("ML_HOSTS", JSON.stringify(c.hosts)));
  const warnings = c.hostsLeftOut === undefined ? [] : [`ML_HOSTS left unset: ${c.hostsLeftOut}`];
  if (c.numNodes !== undefined) env.push(fill("ML_NUM_NODES", String(c.numNodes)));
  const steps: Step[] = [];
  // torchrun's variables only for a node with a rank: a member with none (a parameter or
  // reduction server, an evaluator) is no torch node, and torchrun would take it as rank 0.
  if (
    c.numNodes !== undefined && c.numNodes > 1 && c.masterAddr !== undefined &&
    c.nodeRank !== undefined
  ) {
    // One process per GPU the program works with: a given ML_NUM_GPUS too, as the threads do.
    const gpus = effectiveGpus(input);
    env.push(
      fill("MASTER_ADDR", c.masterAddr),
      fill("MASTER_PORT", String(c.masterPort)),
      fill("PET_NNODES", String(c.numNodes)),
      fill("PET_NODE_RANK", String(c.nodeRank)),
      fill("PET_MASTER_ADDR", c.masterAddr),
      fill("PET_MASTER_PORT", String(c.masterPort)),
      fill("PET_NPROC_PER_NODE", String(c.procsPerNode ?? (gpus > 0 ? gpus : 1))),
    );
    if (c.ifname !== undefined) {
      env.push(fill("NCCL_SOCKET_IFNAME", c.ifname), fill("GLOO_SOCKET_IFNAME", c.ifname));
    }
    steps.push(...waitForHosts(input, c.waitFor));
  }
  const unset = unsetLinks(input, env, warnings);
  return {
    env,
    steps,
    ...(unset.length > 0 ? { unset } : {}),
    notes: { cluster: c.source },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** The ports torch's launchers (torchrun, DeepSpeed's, Lightning's) read from the environment. */
const TORCH_PORTS = ["MASTER_PORT", "PET_MASTER_PORT"];

/**
 * The torch ports that hold a Service's link variable (`MASTER_PORT=tcp://...` in a
 * namespace with a Service named `master`) and that the plan gives no value: in a
 * training context they are torch's, whose `int()` of them fails, so they go
 * (a program that wants the Service has its `_SERVICE_HOST` and `_SERVICE_PORT`).
 * One the plan fills is written over (plan.ts).
 */
function unsetLinks(input: PlanInput, env: readonly EnvOp[], warnings: string[]): string[] {
  const out: string[] = [];
  for (const name of TORCH_PORTS) {
    const value = input.world.env(name);
    if (!isLinkValue(name, value) || configGives(input, name)) continue;
    if (env.some((op) => op.name === name)) continue;
    out.push(name);
    warnings.push(linkWarning(name, value!, "unset, as torch's launchers would read it as theirs"));
  }
  return out;
}

/**
 * The cluster picture of the current context, or undefined when it has none.
 * A host list that no variable can hold (some 6,000 pod names derived from a
 * node count, or a Slurm range of as many) is left out, with the reason: as
 * `ML_HOSTS` it would end the start (exit 78), and the job runs without it.
 */
export function clusterOf(input: PlanInput): Cluster | undefined {
  // Asked by this adapter and by the compat adapter's SM_*: worked out once per plan.
  if (clusters.has(input)) return clusters.get(input);
  const c = withHostsThatFit(platformCluster(input));
  clusters.set(input, c);
  return c;
}

const clusters = new WeakMap<PlanInput, Cluster | undefined>();

function withHostsThatFit(c: Cluster | undefined): Cluster | undefined {
  if (c?.hosts === undefined) return c;
  const bytes = execveBytes("ML_HOSTS", JSON.stringify(c.hosts));
  if (bytes <= MAX_VALUE_BYTES) return c;
  const { hosts: _, ...rest } = c;
  return {
    ...rest,
    hostsLeftOut:
      `the list of ${c.hosts.length} hosts would be ${bytes} bytes, more than the ${MAX_VALUE_BYTES} execve takes for a variable`,
  };
}

function platformCluster(input: PlanInput): Cluster | undefined {
  const { world, detection } = input;
  const { platform, workload, variant } = detection.context;
  if (workload !== "training") return undefined;
  const hostname = world.snapshot.hostname;
  // One function a platform: a start compiles only its own platform's.
  switch (platform) {
    case "sagemaker":
      return sagemakerCluster(world);
    case "vertex-ai":
      return vertexCluster(world);
    case "aws-batch":
      return awsBatchCluster(world, hostname);
    case "slurm":
      return slurmCluster(world, hostname);
    case "azure-ml":
      return azureMlCluster(world, hostname);
    case "kubernetes":
      return kubernetesCluster(world, hostname, variant);
    default:
      return singleHost(world, "single node");
  }
}

/** This host alone: the cluster of a training context that names no other. */
function singleHost(world: World, source: string): Cluster {
  const hostname = world.snapshot.hostname;
  // A launcher that starts a process per rank on each node (torchrun, DeepSpeed's) gave this
  // one its node's rank and the node count: on a node other than the first it is neither rank
  // 0 nor alone.
  const launched = launcherNodes(world);
  if (launched !== undefined && launched.numNodes > 1) {
    const { source, ...nodes } = launched;
    return unlistedCluster(world, nodes, () => source);
  }
  // Open MPI started this process among ranks on other nodes as well (more processes in its
  // world than on this node: `mpirun -H`, an MPI Operator job's workers, which orted starts over
  // ssh): no lone node of rank 0 and its own master, which every node would be. The node rank
  // and count are Open MPI's (by slot, else unknown); the hosts and the master, unless given,
  // are not known.
  const size = intEnv(world, "OMPI_COMM_WORLD_SIZE");
  const perNode = positiveIntEnv(world, "OMPI_COMM_WORLD_LOCAL_SIZE");
  if (size !== undefined && perNode !== undefined && size > perNode) {
    const nodes = ompiNodes(world, size);
    return unlistedCluster(
      world,
      nodes ?? {},
      (master) =>
        `OMPI_COMM_WORLD_* (Open MPI's ranks span nodes: the hosts${
          master ? "" : " and the master"
        } are not known${
          nodes === undefined ? ", nor the node rank and count, the ranks not placed by slot" : ""
        })`,
    );
  }
  const horovod = horovodNodes(world);
  if (horovod !== undefined) {
    return unlistedCluster(
      world,
      horovod,
      (master) =>
        `HOROVOD_* (horovodrun's ranks span nodes: the hosts${
          master ? "" : " and the master"
        } are not known${
          horovod.numNodes === undefined
            ? `, nor the node count${horovod.nodeRank === undefined ? " or this node's rank" : ""}`
            : ""
        })`,
    );
  }
  const hydra = hydraNode(world);
  if (hydra !== undefined) {
    return unlistedCluster(
      world,
      hydra,
      (master) =>
        `PMI_* and MPI_LOCAL* (Hydra's ranks may span nodes: the node count${
          hydra.nodeRank === undefined ? ", this node's rank" : ""
        }, the hosts${master ? "" : " and the master"} are not known)`,
    );
  }
  return {
    hosts: [hostname],
    currentHost: hostname,
    numNodes: 1,
    nodeRank: 0,
    masterAddr: givenMasterAddr(world) ?? hostname,
    masterPort: masterPortFrom(world),
    source,
  };
}

/**
 * This host among nodes a launcher started ranks on, where the platform names no cluster:
 * what the launcher tells of the nodes, no host list, and the master only when given;
 * `source` says so, told whether a master was given.
 */
function unlistedCluster(
  world: World,
  nodes: { numNodes?: number; nodeRank?: number; procsPerNode?: number },
  source: (masterGiven: boolean) => string,
): Cluster {
  const masterAddr = givenMasterAddr(world);
  return {
    currentHost: world.snapshot.hostname,
    ...nodes,
    ...(masterAddr === undefined ? {} : { masterAddr }),
    masterPort: masterPortFrom(world),
    source: source(masterAddr !== undefined),
  };
}

/**
 * The node count and this node's rank a launcher that starts a process per rank on each node
 * gave the process, with the processes it started on this node. torchrun gives each worker
 * GROUP_RANK (its agent's rank among the nodes, from rendezvous) and GROUP_WORLD_SIZE (the
 * nodes), besides MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK and WORLD_SIZE (torch's
 * LocalElasticAgent._start_workers; TORCHELASTIC_RUN_ID marks its workers). DeepSpeed's
 * `deepspeed.launcher.launch`, which its runner starts on each node (pdsh, `--node_rank=%n`
 * in the order of the hosts, whose first is the master), gives CROSS_RANK (that node rank),
 * CROSS_SIZE (the nodes) and LOCAL_SIZE. torchrun comes first: DeepSpeed's elastic training
 * starts its workers through torch's agent, whose rendezvous hands out the node ranks.
 */
function launcherNodes(world: World):
  | { numNodes: number; nodeRank: number; procsPerNode?: number; source: string }
  | undefined {
  const l = launcherVars(world);
  if (l === undefined) return undefined;
  const numNodes = positiveIntEnv(world, l.count);
  if (numNodes === undefined) return undefined;
  const nodeRank = intEnv(world, l.rank, {
    max: numNodes - 1,
    expected: `a node rank below ${l.count} (${numNodes})`,
  });
  if (nodeRank === undefined) return undefined;
  return {
    numNodes,
    nodeRank,
    ...launcherProcs(world, l),
    source: `${l.name} (${l.rank}, ${l.count}, MASTER_ADDR)`,
  };
}

/** Where a launcher that starts a process per rank puts the node's rank and count. */
interface LauncherVars {
  readonly name: string;
  readonly rank: string;
  readonly count: string;
  /** The processes it started on this node. */
  readonly perNode: string;
}

/** The variables of the launcher that started this process (launcherNodes()), if any. */
function launcherVars(world: World): LauncherVars | undefined {
  if (world.envValue("TORCHELASTIC_RUN_ID") !== undefined) {
    return {
      name: "torchrun",
      rank: "GROUP_RANK",
      count: "GROUP_WORLD_SIZE",
      perNode: "LOCAL_WORLD_SIZE",
    };
  }
  if (world.envValue("CROSS_SIZE") !== undefined && world.envValue("LOCAL_SIZE") !== undefined) {
    return {
      name: "DeepSpeed's launcher",
      rank: "CROSS_RANK",
      count: "CROSS_SIZE",
      perNode: "LOCAL_SIZE",
    };
  }
  return undefined;
}

/** The processes a launcher started on this node, for PET_NPROC_PER_NODE. */
function launcherProcs(world: World, l: LauncherVars): { procsPerNode?: number } {
  const procsPerNode = positiveIntEnv(world, l.perNode);
  return procsPerNode === undefined ? {} : { procsPerNode };
}

/**
 * What a process that horovodrun's Gloo launcher started knows of its node, when its ranks
 * span nodes (HOROVOD_SIZE above HOROVOD_LOCAL_SIZE); undefined otherwise. horovodrun fills
 * each host's slots in host order (horovod/runner/common/util/hosts.py
 * get_host_assignments), and a process's HOROVOD_CROSS_RANK and HOROVOD_CROSS_SIZE count the
 * hosts that hold a process of its local rank: for local rank 0 every host, so they are the
 * node's rank and the node count; for another, only the hosts with more slots than it. A
 * process whose rank is its local rank is on the first host: node 0.
 */
function horovodNodes(world: World): { numNodes?: number; nodeRank?: number } | undefined {
  const size = positiveIntEnv(world, "HOROVOD_SIZE");
  const perNode = positiveIntEnv(world, "HOROVOD_LOCAL_SIZE");
  if (size === undefined || perNode === undefined || size <= perNode) return undefined;
  const rank = intEnv(world, "HOROVOD_RANK", {
    max: size - 1,
    expected: `a rank below HOROVOD_SIZE (${size})`,
  });
  const localRank = intEnv(world, "HOROVOD_LOCAL_RANK", {
    max: perNode - 1,
    expected: `a local rank below HOROVOD_LOCAL_SIZE (${perNode})`,
  });
  if (localRank === 0) {
    const numNodes = positiveIntEnv(world, "HOROVOD_CROSS_SIZE");
    const nodeRank = numNodes === undefined ? undefined : intEnv(world, "HOROVOD_CROSS_RANK", {
      max: numNodes - 1,
      expected: `a rank below HOROVOD_CROSS_SIZE (${numNodes})`,
    });
    if (numNodes !== undefined && nodeRank !== undefined) return { numNodes, nodeRank };
  }
  return rank !== undefined && rank === localRank ? { nodeRank: 0 } : {};
}

/**
 * What a process that MPICH's Hydra (`mpiexec.hydra`, Intel MPI's `mpiexec`) started knows
 * of its node, when its ranks may span nodes; undefined when Hydra did not start it (no
 * `MPI_LOCALNRANKS`) or every rank is on this node. Hydra names no node count or node: it
 * fills each host's slots in host order (one a host unless given: `-hosts a,b` deals the
 * ranks round, `-ppn 2` or `a:2` in blocks), so a rank's node cannot be told from its rank.
 * Only a node holding every rank below this one (local rank equal to the rank) holds rank
 * 0, which is on the first host: node 0. With `-pmi-port` there is no `PMI_SIZE` or
 * `PMI_RANK`, only `PMI_ID` (seen under MPICH 4.0.2): the world size is not known either.
 */
function hydraNode(world: World): { nodeRank?: number } | undefined {
  const perNode = positiveIntEnv(world, "MPI_LOCALNRANKS");
  if (perNode === undefined) return undefined;
  const size = positiveIntEnv(world, "PMI_SIZE");
  if (size !== undefined && size <= perNode) return undefined;
  const localRank = intEnv(world, "MPI_LOCALRANKID", {
    max: perNode - 1,
    expected: `a local rank below MPI_LOCALNRANKS (${perNode})`,
  });
  const rankName = world.envValue("PMI_RANK") === undefined ? "PMI_ID" : "PMI_RANK";
  const rank = intEnv(world, rankName, {
    max: (size ?? Infinity) - 1,
    expected: size === undefined ? "a non-negative integer" : `a rank below PMI_SIZE (${size})`,
  });
  return rank !== undefined && rank === localRank ? { nodeRank: 0 } : {};
}

/** SageMaker: resourceconfig.json lists every host. */
function sagemakerCluster(world: World): Cluster {
  const rc = resourceConfig(world);
  if (rc === undefined) return singleHost(world, "single host (no resourceconfig.json)");
  const hosts = rc.hosts;
  return {
    hosts,
    currentHost: rc.current_host,
    numNodes: hosts.length,
    nodeRank: hosts.indexOf(rc.current_host),
    masterAddr: givenMasterAddr(world) ?? hosts[0]!,
    masterPort: masterPortFrom(world),
    source: "resourceconfig.json",
    ifname: rc.network_interface_name ?? "eth0",
    ...(localMode(world) ? {} : { waitFor: resourceConfigHosts(SM_PATHS.resourceConfig, hosts) }),
  };
}

/** Vertex AI: CLUSTER_SPEC, pools 0 and 1 the torch nodes. */
function vertexCluster(world: World): Cluster {
  const spec = jsonEnv(world, "CLUSTER_SPEC", CLUSTER_SPEC);
  if (spec === undefined) return singleHost(world, "single worker (no CLUSTER_SPEC)");
  const pool0 = spec.cluster["workerpool0"] ?? [];
  const pool1 = spec.cluster["workerpool1"] ?? [];
  const chief = pool0[0];
  if (chief === undefined) {
    throw new InputError(
      "Variable CLUSTER_SPEC: /cluster/workerpool0: expected at least one host",
    );
  }
  // Vertex has exactly one primary replica (reference/platforms.md B.1: rank 0 is
  // workerpool0): each further host there would also take rank 0 and be the master.
  if (pool0.length > 1) {
    throw new InputError(
      `Variable CLUSTER_SPEC: /cluster/workerpool0: expected one host (the primary replica), got ${pool0.length}`,
    );
  }
  const all = [...pool0, ...pool1].map((h) => hostPort(h).host);
  const { type, index } = spec.task;
  const own = ownTask("CLUSTER_SPEC", spec.cluster, spec.task)!;
  return {
    hosts: all,
    currentHost: hostPort(own).host,
    numNodes: all.length,
    // Pools 2 and 3 (parameter or reduction servers, evaluators) are no torch
    // nodes: like a TFJob parameter server, no rank among pools 0 and 1.
    ...(type === "workerpool0"
      ? { nodeRank: 0 }
      : type === "workerpool1"
      ? { nodeRank: index + 1 }
      : { isMaster: false }),
    masterAddr: givenMasterAddr(world) ?? hostPort(chief).host,
    masterPort: masterPortFrom(world, hostPort(chief).port),
    source: "CLUSTER_SPEC",
    waitFor: {
      hosts: all,
      at: (i) => {
        const [pool, j] = i < pool0.length ? [0, i] : [1, i - pool0.length];
        const hp = (pool === 0 ? pool0 : pool1)[j];
        return `Variable CLUSTER_SPEC: /cluster/workerpool${pool}/${j} ${JSON.stringify(hp)}`;
      },
    },
  };
}

/** AWS Batch multi-node parallel jobs: node counts and the main node's address. */
function awsBatchCluster(world: World, hostname: string): Cluster {
  const env = (n: string) => world.envValue(n);
  const nodes = intEnv(world, "AWS_BATCH_JOB_NUM_NODES");
  if (nodes === undefined || nodes <= 1) return singleHost(world, "single node");
  // Batch numbers the nodes from 0 below the node count (reference/platforms.md B.5): a
  // main node beyond them would leave no rank 0, another node a rank no node has.
  const node = {
    max: nodes - 1,
    expected: `a node index below AWS_BATCH_JOB_NUM_NODES (${nodes})`,
  };
  const index = intEnv(world, "AWS_BATCH_JOB_NODE_INDEX", node) ?? 0;
  const main = intEnv(world, "AWS_BATCH_JOB_MAIN_NODE_INDEX", node) ?? 0;
  const own = reachableAddress(world);
  const mainAddr = index === main
    ? own ?? hostname
    : env("AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS");
  if (mainAddr === undefined) {
    throw new InputError(
      "Variable AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: expected on a child node of a multi-node job",
    );
  }
  return {
    currentHost: own ?? hostname,
    numNodes: nodes,
    // torch's rank 0 must be the node at MASTER_ADDR: the main node. The
    // others keep their order around it.
    nodeRank: index === main ? 0 : index < main ? index + 1 : index,
    masterAddr: givenMasterAddr(world) ?? mainAddr,
    masterPort: masterPortFrom(world),
    source: "AWS_BATCH_JOB_* (multi-node parallel)",
  };
}

/** The highest step id srun gives a step of tasks (slurm.h SLURM_MAX_NORMAL_STEP_ID). */
const MAX_NORMAL_STEP = 0xfffffff0;

/**
 * Slurm, where torchrun (or DeepSpeed's launcher) started this process: the launcher's node
 * rank and count where they are not Slurm's. A `c10d` rendezvous (`srun torchrun
 * --rdzv_backend c10d ...`) hands the node ranks out in its own order, so node 1 of the node
 * list may hold GROUP_RANK 0 and the MASTER_ADDR torchrun set; then the host list, in Slurm's
 * order, and its first host are no master's, and only the given master is kept.
 */
function slurmCluster(world: World, hostname: string): Cluster {
  const c = slurmJobCluster(world, hostname);
  const launched = launcherNodes(world);
  if (launched === undefined) return c;
  const { numNodes, nodeRank, source, ...procs } = launched;
  if (nodeRank === c.nodeRank && numNodes === c.numNodes) return { ...c, ...procs };
  const { hosts: _, waitFor: __, masterAddr: ___, ...rest } = c;
  const masterAddr = givenMasterAddr(world);
  return {
    ...rest,
    numNodes,
    nodeRank,
    ...procs,
    ...(masterAddr === undefined ? {} : { masterAddr }),
    source: `${source}, not Slurm's node order (SLURM_NODEID ${
      c.nodeRank ?? "unset"
    }): no host list`,
  };
}

/**
 * Whether this process is a task of a step srun numbered. srun gives each task its step
 * (SLURM_STEP_ID); the batch script and an salloc shell have none. Such a process runs once
 * for the whole job, on its first node (or the login host), so in a job of several nodes it
 * is no node's process: a rank there would be inherited by every task it starts with srun,
 * each node taking rank 0. salloc's shell in Slurm's interactive step
 * (`LaunchParameters=use_interactive_step`) has one of Slurm's own step ids above the ones
 * srun numbers (slurm.h: SLURM_MAX_NORMAL_STEP_ID 0xfffffff0; SLURM_INTERACTIVE_STEP
 * 0xfffffffa, 4294967290), and is such a process too.
 */
function slurmStep(world: World): boolean {
  const step = world.envValue("SLURM_STEP_ID") ?? world.envValue("SLURM_STEPID");
  return step !== undefined && !(/^[0-9]+$/.test(step) && Number(step) > MAX_NORMAL_STEP);
}

/** Slurm: the node list, count and this node's id. */
function slurmJobCluster(world: World, hostname: string): Cluster {
  const env = (n: string) => world.envValue(n);
  // Open MPI's mpirun started this process (srun never sets OMPI_COMM_WORLD_*): inside an
  // allocation it starts its daemons on the other nodes with an srun step of its own, one task
  // a node (Open MPI 4.1 plm_slurm: `srun --ntasks-per-node=1 --nodes=N-1 --nodelist=...`), so
  // there SLURM_NODEID, SLURM_NNODES and SLURM_NODELIST count that step's nodes, not the job's
  // (the second node took node rank 0 and itself as master), and the ranks on mpirun's own node
  // have the batch script's. The ranks and the node count are Open MPI's.
  if (env("OMPI_COMM_WORLD_SIZE") !== undefined) return slurmMpiCluster(world, hostname);
  const inStep = slurmStep(world);
  // srun sets SLURM_NODELIST and SLURM_NNODES to its step's nodes (SLURM_NODEID counts them);
  // outside a step, the job's list and count are the ones: the interactive step
  // (slurmStep()) has its own one node in the step's.
  const job = !inStep && env("SLURM_JOB_NODELIST") !== undefined;
  const variable = job || env("SLURM_NODELIST") === undefined
    ? "SLURM_JOB_NODELIST"
    : "SLURM_NODELIST";
  const list = env(variable);
  const count = job
    ? namedCount(world, "SLURM_JOB_NUM_NODES", "SLURM_NNODES")
    : namedCount(world, "SLURM_NNODES");
  const numNodes = count?.value;
  // Slurm's name of the node, as its node lists give it (not always the host name).
  const currentHost = env("SLURMD_NODENAME") ?? hostname;
  // No node list: this node alone is known, which names the master only of a one-node job.
  const hosts = list === undefined
    ? (numNodes ?? 1) > 1 ? undefined : [currentHost]
    : expandNodelist(list, variable);
  const masterAddr = givenMasterAddr(world) ?? hosts?.[0];
  // Slurm numbers a step's nodes from 0 below SLURM_NNODES (a heterogeneous step's
  // too, both across its components): another id would be a torch rank no node has.
  const listed = list === undefined
    ? undefined
    : { name: `the hosts of ${variable}`, value: hosts!.length, text: list };
  const nodeRank = checkedRank(
    namedInt(world, "SLURM_NODEID"),
    count ?? listed,
    "SLURM_NNODES or a node list",
  );
  const nodes = numNodes ?? hosts?.length ?? 1;
  return {
    ...(hosts === undefined ? {} : {
      hosts,
      waitFor: {
        hosts,
        at: (i) => `Variable ${variable} ${JSON.stringify(list)}: host ${JSON.stringify(hosts[i])}`,
      },
    }),
    currentHost,
    numNodes: nodes,
    ...(inStep || nodes === 1 ? { nodeRank } : {}),
    ...(masterAddr === undefined ? {} : { masterAddr }),
    masterPort: masterPortFrom(world, slurmJobPort(env("SLURM_JOB_ID"))),
    // The variables it came from: outside a step, the job's list and count, and no node rank.
    source: [
      ...(inStep || nodes === 1 ? ["SLURM_NODEID"] : []),
      count?.name ?? "SLURM_NNODES",
      variable,
      "SLURM_JOB_ID (port)",
    ].join(", "),
  };
}

/** Azure ML: its PyTorch distribution, or MPI's world and Azure Batch's master node. */
function azureMlCluster(world: World, hostname: string): Cluster {
  const env = (n: string) => world.envValue(n);
  const size = intEnv(world, "OMPI_COMM_WORLD_SIZE");
  const master = env("AZ_BATCH_MASTER_NODE");
  const nodeRank = intEnv(world, "NODE_RANK");
  // One process in all is one node: nothing is left unknown.
  const oneProcess = intEnv(world, "WORLD_SIZE") === 1;
  if ((size === undefined || master === undefined) && nodeRank !== undefined && !oneProcess) {
    // The PyTorch distribution (reference/platforms.md B.3): the node's rank and the master
    // are given; WORLD_SIZE counts processes, not nodes, so the node count stays unknown.
    const masterAddr = givenMasterAddr(world);
    return {
      currentHost: hostname,
      nodeRank,
      ...(masterAddr === undefined ? {} : { masterAddr }),
      masterPort: masterPortFrom(world),
      source: "Azure ML PyTorch distribution (NODE_RANK, MASTER_ADDR)",
    };
  }
  if (size === undefined || master === undefined) {
    return singleHost(world, "single node");
  }
  // Its port is Azure Batch's own, not one for torch to listen on: Azure's samples keep
  // their own MASTER_PORT ("do not overwrite master port with that defined in
  // AZ_BATCH_MASTER_NODE"), so the rendezvous port is the given one, else torch's default.
  const host = master.includes(":")
    ? hostPortOf(master, "Variable AZ_BATCH_MASTER_NODE").host
    : master;
  const nodes = ompiNodes(world, size);
  return {
    currentHost: reachableAddress(world) ?? hostname,
    ...(nodes ?? {}),
    masterAddr: givenMasterAddr(world) ?? host,
    masterPort: masterPortFrom(world),
    source: "OMPI_COMM_WORLD_*, AZ_BATCH_MASTER_NODE" + (nodes === undefined ? NOT_BY_SLOT : ""),
  };
}

/** What a cluster's source adds when Open MPI did not place its ranks by slot (ompiNodes()). */
const NOT_BY_SLOT =
  " (ranks not placed by slot with as many on every node: the node rank and count are not known)";

/**
 * Slurm, under Open MPI's mpirun: the node count and this node's rank from
 * OMPI_COMM_WORLD_*, the master the job's first node (`SLURM_JOB_NODELIST`, the whole
 * allocation, which srun keeps in its steps: mpirun runs on that node in the batch script,
 * and places rank 0 there, or there first from an salloc shell on the login host).
 */
function slurmMpiCluster(world: World, hostname: string): Cluster {
  const size = intEnv(world, "OMPI_COMM_WORLD_SIZE")!;
  const nodes = ompiNodes(world, size);
  const list = world.envValue("SLURM_JOB_NODELIST");
  const masterAddr = givenMasterAddr(world) ??
    (list === undefined ? undefined : expandNodelist(list, "SLURM_JOB_NODELIST")[0]);
  return {
    currentHost: world.envValue("SLURMD_NODENAME") ?? hostname,
    ...(nodes ?? {}),
    ...(masterAddr === undefined ? {} : { masterAddr }),
    masterPort: masterPortFrom(world, slurmJobPort(world.envValue("SLURM_JOB_ID"))),
    source: "OMPI_COMM_WORLD_* (mpirun), SLURM_JOB_NODELIST, SLURM_JOB_ID (port)" +
      (nodes === undefined ? NOT_BY_SLOT : ""),
  };
}

/**
 * The node count and this process's node from Open MPI's world of `size` processes
 * (OMPI_COMM_WORLD_*), or undefined when its ranks were not placed by slot with as many on
 * every node.
 */
function ompiNodes(world: World, size: number): { numNodes: number; nodeRank: number } | undefined {
  // The processes per node divide the world: 0 would make the node count infinite.
  const perNode = positiveIntEnv(world, "OMPI_COMM_WORLD_LOCAL_SIZE") ?? 1;
  // Open MPI numbers the processes from 0 below the world size: a rank beyond it would
  // name a node beyond the node count.
  const rank = intEnv(world, "OMPI_COMM_WORLD_RANK", {
    max: size - 1,
    expected: `a rank below OMPI_COMM_WORLD_SIZE (${size})`,
  }) ?? 0;
  const localRank = intEnv(world, "OMPI_COMM_WORLD_LOCAL_RANK");
  // The rank names the node only when Open MPI placed the ranks by slot, as many on every
  // node (its default, `--npernode`): node n holds ranks n*L to n*L+L-1, local rank r mod L.
  // `--map-by node` deals them round (rank 1 on the second node), and a last node with
  // fewer ranks has another L (Open MPI 4.1: -np 3 on two nodes of 2 slots gives rank 2 local
  // size 1, which would make 3 nodes): then neither the node's rank nor the count is known.
  // Open MPI 4 also names its node count (OMPI_MCA_orte_num_nodes), which must agree. A rank
  // that another placement puts where by slot would too (round robin: ranks 0 and 3 of 2x2)
  // cannot be told apart, nor one for which both agree on the local rank alone (round robin
  // on 3 nodes of 2: rank 3, local rank 1): the by-slot answer stands.
  const orteNodes = world.envValue("OMPI_MCA_orte_num_nodes");
  // (All ranks on one node leave no doubt.)
  const bySlot = size === perNode || size % perNode === 0 &&
      (localRank === undefined || rank % perNode === localRank) &&
      (orteNodes === undefined || !/^[0-9]+$/.test(orteNodes) ||
        Number(orteNodes) === size / perNode);
  return bySlot
    ? { numNodes: Math.max(1, size / perNode), nodeRank: Math.floor(rank / perNode) }
    : undefined;
}

/** Kubernetes: each training operator's variables, or an Indexed Job's index. */
function kubernetesCluster(
  world: World,
  hostname: string,
  variant: string | null,
): Cluster {
  const env = (n: string) => world.envValue(n);
  const nnodes = env("PET_NNODES");
  // In a process torchrun or DeepSpeed's launcher started, RANK and WORLD_SIZE are the
  // launcher's and count processes (rank 3 of 2 nodes of 2 would be node 3 of 4); its node's
  // rank and the node count are the launcher's own (GROUP_RANK and GROUP_WORLD_SIZE,
  // CROSS_RANK and CROSS_SIZE). Their MASTER_ADDR and RANK make any pod a PyTorchJob's.
  const launcher = launcherVars(world);
  const rankVar = launcher?.rank ?? "RANK";
  const countVar = launcher?.count ?? "WORLD_SIZE";
  // Elastic as detection defines it (contexts/kubernetes.ts), also beside a Master's
  // MASTER_ADDR and RANK: with an elastic policy that has no min and max, the operator
  // writes the worker count as PET_NNODES while RANK counts the master as well.
  if (variant === "pytorchjob" && evaluate(ELASTIC_PYTORCHJOB, world).holds) {
    // Elastic: torchrun's rendezvous decides the node count (`min:max`, or a
    // replica count it may still change) and the ranks, so neither is known
    // before it runs; an operator's
    // RANK and MASTER_ADDR (set with a Master replica) are reported.
    const rank = namedInt(world, "PET_NODE_RANK", rankVar)?.value;
    // Workers only: the rendezvous endpoint (host:port) is where they meet.
    const rdzv = maybeHostPort(env("PET_RDZV_ENDPOINT") ?? "", "Variable PET_RDZV_ENDPOINT");
    // torchrun meets there, not at PET_MASTER_*, which only a static rendezvous uses.
    const masterAddr = env("MASTER_ADDR") ?? rdzv?.host ?? env("PET_MASTER_ADDR");
    const port = portEnv(world, "MASTER_PORT") ?? rdzv?.port;
    return {
      currentHost: hostname,
      ...(rank === undefined ? {} : { nodeRank: rank }),
      ...(masterAddr === undefined ? {} : { masterAddr }),
      masterPort: port ?? masterPortFrom(world),
      source: `elastic torchrun (PET_NNODES ${nnodes}: nodes and ranks come from rendezvous)`,
    };
  }
  if (variant === "pytorchjob") {
    // PyTorchJob v1: report the operator's values as they are.
    const nodes = operatorNodes(world, hostname, {
      count: ["PET_NNODES", countVar],
      rank: ["PET_NODE_RANK", rankVar],
      master: givenMasterAddr(world),
      pattern: PYTORCHJOB_MASTER,
      name: (g, i) => i === 0 ? `${g.job}-master-0` : `${g.job}-worker-${i - 1}`,
    });
    return {
      ...nodes,
      masterAddr: givenMasterAddr(world)!,
      masterPort: masterPortFrom(world),
      ...(launcher === undefined ? {} : launcherProcs(world, launcher)),
      source: `PyTorchJob (MASTER_ADDR, ${rankVar}, ${countVar})`,
    };
  }
  if (variant === "trainer-v2") {
    const count = namedCount(world, "PET_NNODES");
    if (
      count !== undefined && count.value > 1 && namedInt(world, ...TRAINER_RANK) === undefined
    ) {
      // Trainer v2 gives every node its rank (from the completion index). Several nodes
      // and no rank is a PyTorchJob of workers only, whose operator sets neither rank nor
      // master: guessing would make every pod rank 0 and its own master.
      const masterAddr = givenMasterAddr(world);
      return {
        currentHost: hostname,
        numNodes: count.value,
        ...(masterAddr === undefined ? {} : { masterAddr }),
        masterPort: masterPortFrom(world),
        source: `PET_NNODES ${count.value} and no node rank (PET_NODE_RANK, ` +
          "JOB_COMPLETION_INDEX): the rank and master are not known",
      };
    }
    // The operator always gives the master (`<job>-node-0-0.<job>`). Without it (PET_* set by
    // hand), node 0 is the master and another node cannot know its address; nor are the
    // hosts derived from node 0's short host name, which the cluster's DNS does not resolve
    // without the `.<job>` subdomain.
    const given = givenMasterAddr(world);
    const nodes = operatorNodes(world, hostname, {
      count: ["PET_NNODES"],
      rank: TRAINER_RANK,
      master: given,
      pattern: TRAINJOB_NODE0,
      name: (g, i) => `${g.job}-node-0-${i}${g.domain ?? ""}`,
    });
    const masterAddr = given ?? (nodes.nodeRank === 0 ? hostname : undefined);
    return {
      ...nodes,
      ...(masterAddr === undefined ? {} : { masterAddr }),
      masterPort: masterPortFrom(world),
      source: "Trainer v2 (PET_*, JOB_COMPLETION_INDEX)",
    };
  }
  if (variant === "tfjob") {
    const tf = jsonEnv(world, "TF_CONFIG", TF_CONFIG)!;
    return "cluster" in tf
      ? tfCluster(world, tf.cluster, tf.task, hostname)
      : sparseTfCluster(world, tf.sparseCluster, tf.task, hostname);
  }
  const index = intEnv(world, "JOB_COMPLETION_INDEX");
  if (index !== undefined) {
    // Index 0 is the master; another pod knows its address only from MASTER_ADDR.
    const masterAddr = givenMasterAddr(world) ?? (index === 0 ? hostname : undefined);
    return {
      currentHost: hostname,
      nodeRank: index,
      ...(masterAddr === undefined ? {} : { masterAddr }),
      masterPort: masterPortFrom(world),
      source: "Indexed Job (JOB_COMPLETION_INDEX)",
    };
  }
  return singleHost(world, "single pod");
}

// TensorFlow's training members in rank order (chief first); a parameter
// server or evaluator is none of them. A TFJob has at most one chief or
// master (training-operator's validation refuses more).
const TF_MEMBERS = ["chief", "master", "worker"];
const TF_LEADERS = ["chief", "master"];

/** A TF_CONFIG with the whole cluster: every member, this task's rank among them. */
function tfCluster(
  world: World,
  cluster: Readonly<Record<string, readonly string[]>>,
  task: TfTask,
  hostname: string,
): Cluster {
  const members = TF_MEMBERS.flatMap((t) =>
    (Object.hasOwn(cluster, t) ? cluster[t]! : []).map((hp, i) => ({ t, i, hp }))
  );
  const first = members[0];
  if (first === undefined) {
    throw new InputError("Variable TF_CONFIG: /cluster: expected chief or worker hosts");
  }
  const own = ownTask("TF_CONFIG", cluster, task, "evaluator");
  const rank = members.findIndex((m) => m.t === task.type && m.i === task.index);
  const hosts = members.map((m) => hostPort(m.hp).host);
  return {
    hosts,
    currentHost: own === undefined ? hostname : hostPort(own).host,
    numNodes: members.length,
    // A parameter server or evaluator is no rank among chief and workers.
    ...(rank >= 0 ? { nodeRank: rank } : { isMaster: false }),
    masterAddr: givenMasterAddr(world) ?? hostPort(first.hp).host,
    masterPort: masterPortFrom(world, hostPort(first.hp).port),
    source: "TF_CONFIG",
    waitFor: {
      hosts,
      at: (i) => {
        const m = members[i]!;
        return `Variable TF_CONFIG: /cluster${pointerToken(m.t)}/${m.i} ${JSON.stringify(m.hp)}`;
      },
    },
  };
}

/**
 * A sparse TF_CONFIG (TFJob `enableDynamicWorker`): the operator names only
 * this task (and, for a worker, the parameter servers), so the pod knows its
 * own host and not the others, nor how many there are. As for an elastic
 * PyTorchJob, the host list, the node count and the torch variables are left
 * unset; the rank and the master's role are filled only where the task alone
 * settles them.
 */
function sparseTfCluster(
  world: World,
  sparse: Readonly<Record<string, ReadonlyMap<number, string>>>,
  task: TfTask,
  hostname: string,
): Cluster {
  const entry = (type: string, index: number) =>
    Object.hasOwn(sparse, type) ? sparse[type]!.get(index) : undefined;
  const own = entry(task.type, task.index);
  const currentHost = own === undefined ? hostname : hostPort(own).host;
  const leads = TF_LEADERS.includes(task.type);
  // The operator lists no chief; a hand-written sparse cluster may.
  const leader = leads ? own : entry("chief", 0) ?? entry("master", 0);
  const role: { nodeRank?: number; isMaster?: boolean } = leads && task.index === 0
    ? { nodeRank: 0 } // the chief comes first in the rank order
    : !TF_MEMBERS.includes(task.type) || task.index > 0 || leader !== undefined
    ? { isMaster: false }
    // Worker 0 leads when the job has no chief (TensorFlow's is_chief): unknown here.
    : {};
  const masterAddr = givenMasterAddr(world) ??
    (leads ? currentHost : leader === undefined ? undefined : hostPort(leader).host);
  return {
    currentHost,
    ...role,
    ...(masterAddr === undefined ? {} : { masterAddr }),
    masterPort: masterPortFrom(world, leader === undefined ? undefined : hostPort(leader).port),
    source: "TF_CONFIG sparseCluster (sparse: only this task's own entry, no host list or count)",
  };
}

/** A variable of a node rank or count, by the name it was read from. */
interface NamedInt {
  readonly name: string;
  readonly value: number;
  /** The variable's text, for messages. */
  readonly text: string;
}

/** The first of `names` that is set, as a non-negative integer, with its name. */
function namedInt(world: World, ...names: string[]): NamedInt | undefined {
  for (const name of names) {
    const value = intEnv(world, name);
    if (value !== undefined) return { name, value, text: world.envValue(name)! };
  }
  return undefined;
}

/**
 * The first of `names` that is set, as a node count: 0 is exit 78, since no
 * node would run the job and every rank would be out of range.
 */
function namedCount(world: World, ...names: string[]): NamedInt | undefined {
  const count = namedInt(world, ...names);
  if (count?.value === 0) {
    throw new InputError(
      `Variable ${count.name} ${JSON.stringify(count.text)}: expected a node count of at least 1`,
    );
  }
  return count;
}

/** Where Trainer v2 gives a node its rank: PET_NODE_RANK, which it fills from the completion index. */
const TRAINER_RANK: readonly string[] = ["PET_NODE_RANK", "JOB_COMPLETION_INDEX"];

/** Where an operator (PyTorchJob v1, Trainer v2) puts its node count and rank, and how it names pods. */
interface OperatorVars {
  /** Variables holding the node count, first set wins. */
  readonly count: readonly string[];
  /** Variables holding this node's rank, first set wins. */
  readonly rank: readonly string[];
  readonly master: string | undefined;
  /** The master's name when every pod's name can be derived from it. */
  readonly pattern: RegExp;
  readonly name: (groups: Record<string, string | undefined>, index: number) => string;
}

/**
 * An operator's node count (1 when none is given), its checked rank, and the
 * hosts (waited for) when the master's name has the operator's shape; the
 * current host is then this node's entry (a Trainer v2 pod's host name is short,
 * `<job>-node-0-1`, its entry carries the subdomain), so ML_HOSTS holds it.
 */
function operatorNodes(world: World, hostname: string, o: OperatorVars) {
  const count = namedCount(world, ...o.count);
  const numNodes = count?.value ?? 1;
  const nodeRank = checkedRank(namedInt(world, ...o.rank), count, o.count.join(" or "));
  const { hosts } = derivedHosts(o.master, o.pattern, numNodes, o.name);
  return {
    ...(hosts === undefined ? {} : {
      hosts,
      // (The operator's pattern keeps a NUL out of these names.)
      waitFor: {
        hosts,
        at: (i: number) =>
          `Host ${i} ${JSON.stringify(hosts[i])} named after the master ${
            JSON.stringify(o.master)
          }`,
      },
    }),
    currentHost: hosts?.[nodeRank] ?? hostname,
    numNodes,
    nodeRank,
  };
}

/**
 * The node rank (0 when none is given), which must be below the node count
 * (1 when none is given): another rank names no node, nor an entry of the
 * derived hosts, and torch would wait for a node that never comes.
 */
function checkedRank(
  rank: NamedInt | undefined,
  count: NamedInt | undefined,
  countNames: string,
): number {
  if (rank !== undefined && rank.value >= (count?.value ?? 1)) {
    const limit = count === undefined
      ? `the node count, 1 without ${countNames}`
      : `${count.name} (${count.value})`;
    throw new InputError(
      `Variable ${rank.name} ${JSON.stringify(rank.text)}: expected less than ${limit}`,
    );
  }
  return rank?.value ?? 0;
}

/**
 * SageMaker local mode (Studio): the hosts are containers on one machine, nothing to wait for.
 * The SageMaker SDK writes `SM_STUDIO_LOCAL_MODE=True`; any case of `true` counts.
 */
function localMode(world: World): boolean {
  return world.env("SM_STUDIO_LOCAL_MODE")?.toLowerCase() === "true";
}

/** What a host to wait for must be. */
const HOST_EXPECTED =
  "expected a host name or address without NUL (getaddrinfo would look up the name cut there)";

/**
 * The step that waits until every named host resolves (addresses need no wait). A
 * name with a NUL (a \u0000 in a platform's JSON or a variable) is exit 78 here, for
 * every platform: getaddrinfo would look up the name cut at the NUL, another host, so
 * sys/dns.ts never resolves it, and the start would wait out the whole timeout.
 */
function waitForHosts(input: PlanInput, list: WaitList | undefined): Step[] {
  const names: string[] = [];
  list?.hosts.forEach((h, i) => {
    if (h.includes("\0")) throw new InputError(`${list.at(i)}: ${HOST_EXPECTED}`);
    if (!isIpAddress(h)) names.push(h);
  });
  if (names.length === 0) return [];
  return [{
    step: "wait-for-hosts",
    hosts: names,
    timeoutSeconds: input.settings.hostWait.timeoutSeconds,
  }];
}

/** The distributed-training adapter. */
export const distributed: Adapter = {
  name: "distributed",
  paths: SAGEMAKER_HOST_FILES,
  plan(input) {
    const c = clusterOf(input);
    if (c === undefined) {
      // A multi-host SageMaker processing job has no torch cluster, but its
      // hosts must resolve before anything talks to them (Spark, for one).
      const job = input.detection.context.workload === "processing"
        ? sagemakerJobHosts(input)
        : undefined;
      if (job === undefined || localMode(input.world)) return {};
      return { steps: waitForHosts(input, resourceConfigHosts(job.file, job.hosts)) };
    }
    return clusterPlan(input, c);
  },
};
