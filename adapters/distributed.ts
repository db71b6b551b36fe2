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

import { ELASTIC_NNODES } from "../contexts/kubernetes.ts";
import { InputError } from "../errors.ts";
import type { EnvOp, Step } from "../types.ts";
import { type Adapter, fill, type PlanInput } from "./_adapter.ts";
import type { World } from "../world.ts";
import {
  CLUSTER_SPEC,
  hostPort,
  hostPortOf,
  intEnv,
  jsonEnv,
  maybeHostPort,
  resourceConfig,
  SAGEMAKER_HOST_FILES,
  sagemakerJobHosts,
  TF_CONFIG,
} from "./_files.ts";

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
  /** Host names to wait for before starting. */
  readonly waitFor?: readonly string[];
}

/**
 * Expands a Slurm host list: `gpu[07-08],cpu1` -> gpu07, gpu08, cpu1; several
 * bracket groups multiply (`a[1-2]-b[3-4]`). Zero padding follows the range.
 */
export function expandNodelist(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of list) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === "," && depth === 0) {
      items.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur !== "") items.push(cur);
  const expandOne = (item: string): string[] => {
    const m = /^([^[]*)\[([^\]]+)\](.*)$/.exec(item);
    if (m === null) return [item];
    const [, prefix, ranges, rest] = m as unknown as [string, string, string, string];
    const heads: string[] = [];
    for (const r of ranges.split(",")) {
      const [lo, hi] = r.split("-") as [string, string | undefined];
      if (!/^\d+$/.test(lo) || (hi !== undefined && !/^\d+$/.test(hi))) {
        throw new InputError(
          `Variable SLURM_NODELIST ${JSON.stringify(list)}: bad range ${JSON.stringify(r)}`,
        );
      }
      const end = hi === undefined ? Number(lo) : Number(hi);
      if (end < Number(lo)) {
        throw new InputError(
          `Variable SLURM_NODELIST ${JSON.stringify(list)}: range ${
            JSON.stringify(r)
          } runs backwards`,
        );
      }
      for (let n = Number(lo); n <= end; n++) {
        heads.push(prefix + String(n).padStart(lo.length, "0"));
      }
    }
    return heads.flatMap((h) => expandOne(rest).map((t) => h + t));
  };
  return items.flatMap(expandOne);
}

/** MASTER_PORT when given, else the platform's port, else torch's default. */
function masterPortFrom(world: World, fallback?: number): number {
  return intEnv(world, "MASTER_PORT") ?? fallback ?? DEFAULT_MASTER_PORT;
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

/** The cluster picture of the current context, or undefined when it has none. */
export function clusterOf(input: PlanInput): Cluster | undefined {
  const { world, detection } = input;
  const { platform, workload, variant } = detection.context;
  const hostname = world.snapshot.hostname;
  const env = (n: string) => world.envValue(n);
  const single = (source: string): Cluster => ({
    hosts: [hostname],
    currentHost: hostname,
    numNodes: 1,
    nodeRank: 0,
    masterAddr: env("MASTER_ADDR") ?? hostname,
    masterPort: masterPortFrom(world),
    source,
  });

  switch (platform) {
    case "sagemaker": {
      if (workload !== "training") return undefined;
      const rc = resourceConfig(world);
      if (rc === undefined) return single("single host (no resourceconfig.json)");
      const hosts = rc.hosts;
      return {
        hosts,
        currentHost: rc.current_host,
        numNodes: hosts.length,
        nodeRank: hosts.indexOf(rc.current_host),
        masterAddr: env("MASTER_ADDR") ?? hosts[0]!,
        masterPort: masterPortFrom(world),
        source: "resourceconfig.json",
        ifname: rc.network_interface_name ?? "eth0",
        waitFor: localMode(world) ? [] : hosts,
      };
    }
    case "vertex-ai": {
      if (workload !== "training") return undefined;
      const spec = jsonEnv(world, "CLUSTER_SPEC", CLUSTER_SPEC);
      if (spec === undefined) return single("single worker (no CLUSTER_SPEC)");
      const pool0 = spec.cluster["workerpool0"] ?? [];
      const pool1 = spec.cluster["workerpool1"] ?? [];
      const chief = pool0[0];
      if (chief === undefined) {
        throw new InputError(
          "Variable CLUSTER_SPEC: /cluster/workerpool0: expected at least one host",
        );
      }
      const all = [...pool0, ...pool1].map((h) => hostPort(h).host);
      const { type, index } = spec.task;
      const own = spec.cluster[type]?.[index];
      return {
        hosts: all,
        currentHost: own === undefined ? hostname : hostPort(own).host,
        numNodes: all.length,
        nodeRank: type === "workerpool0" ? 0 : index + 1,
        masterAddr: env("MASTER_ADDR") ?? hostPort(chief).host,
        masterPort: masterPortFrom(world, hostPort(chief).port),
        source: "CLUSTER_SPEC",
        waitFor: all,
      };
    }
    case "aws-batch": {
      if (workload !== "training") return undefined;
      const nodes = intEnv(world, "AWS_BATCH_JOB_NUM_NODES");
      if (nodes === undefined || nodes <= 1) return single("single node");
      const index = intEnv(world, "AWS_BATCH_JOB_NODE_INDEX") ?? 0;
      const main = intEnv(world, "AWS_BATCH_JOB_MAIN_NODE_INDEX") ?? 0;
      const own = world.snapshot.addresses[0];
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
        masterAddr: env("MASTER_ADDR") ?? mainAddr,
        masterPort: masterPortFrom(world),
        source: "AWS_BATCH_JOB_* (multi-node parallel)",
      };
    }
    case "slurm": {
      if (workload !== "training" && workload !== "unknown") return undefined;
      const list = env("SLURM_NODELIST") ?? env("SLURM_JOB_NODELIST");
      const hosts = list === undefined ? [hostname] : expandNodelist(list);
      if (hosts.length === 0 || hosts.includes("")) {
        throw new InputError(
          `Variable SLURM_NODELIST ${JSON.stringify(list)}: expected host names`,
        );
      }
      return {
        hosts,
        currentHost: env("SLURMD_NODENAME") ?? hostname,
        numNodes: intEnv(world, "SLURM_NNODES") ?? hosts.length,
        nodeRank: intEnv(world, "SLURM_NODEID") ?? 0,
        masterAddr: env("MASTER_ADDR") ?? hosts[0]!,
        masterPort: masterPortFrom(world),
        source: "SLURM_NODEID, SLURM_NNODES, SLURM_NODELIST",
        waitFor: hosts,
      };
    }
    case "azure-ml": {
      if (workload !== "training" && workload !== "unknown") return undefined;
      const size = intEnv(world, "OMPI_COMM_WORLD_SIZE");
      const master = env("AZ_BATCH_MASTER_NODE");
      if (size === undefined || master === undefined) {
        return workload === "training" ? single("single node") : undefined;
      }
      const perNode = intEnv(world, "OMPI_COMM_WORLD_LOCAL_SIZE") ?? 1;
      const { host, port } = master.includes(":")
        ? hostPortOf(master, "Variable AZ_BATCH_MASTER_NODE")
        : { host: master, port: DEFAULT_MASTER_PORT };
      return {
        currentHost: world.snapshot.addresses[0] ?? hostname,
        numNodes: Math.max(1, Math.floor(size / perNode)),
        nodeRank: Math.floor((intEnv(world, "OMPI_COMM_WORLD_RANK") ?? 0) / perNode),
        masterAddr: env("MASTER_ADDR") ?? host,
        masterPort: masterPortFrom(world, port),
        source: "OMPI_COMM_WORLD_*, AZ_BATCH_MASTER_NODE",
      };
    }
    case "kubernetes": {
      if (workload !== "training") return undefined;
      const nnodes = env("PET_NNODES");
      // Detection makes an elastic PET_NNODES a PyTorchJob (see contexts/kubernetes.ts).
      if (variant === "pytorchjob" && nnodes !== undefined && ELASTIC_NNODES.test(nnodes)) {
        // Elastic (`min:max`): torchrun's rendezvous decides the node count
        // and the ranks, so neither is known before it runs; an operator's
        // RANK and MASTER_ADDR (set with a Master replica) are reported.
        const rank = intEnv(world, "PET_NODE_RANK") ?? intEnv(world, "RANK");
        // Workers only: the rendezvous endpoint (host:port) is where they meet.
        const rdzv = maybeHostPort(env("PET_RDZV_ENDPOINT") ?? "");
        const masterAddr = env("MASTER_ADDR") ?? rdzv?.host;
        return {
          currentHost: hostname,
          ...(rank === undefined ? {} : { nodeRank: rank }),
          ...(masterAddr === undefined ? {} : { masterAddr }),
          masterPort: masterPortFrom(world, rdzv?.port),
          source: `elastic torchrun (PET_NNODES ${nnodes}: nodes and ranks come from rendezvous)`,
        };
      }
      if (variant === "pytorchjob") {
        // PyTorchJob v1: report the operator's values as they are.
        const numNodes = intEnv(world, "PET_NNODES") ?? intEnv(world, "WORLD_SIZE") ?? 1;
        const { hosts } = derivedHosts(
          env("MASTER_ADDR"),
          PYTORCHJOB_MASTER,
          numNodes,
          (g, i) => i === 0 ? `${g.job}-master-0` : `${g.job}-worker-${i - 1}`,
        );
        return {
          ...(hosts === undefined ? {} : { hosts, waitFor: hosts }),
          currentHost: hostname,
          numNodes,
          nodeRank: intEnv(world, "PET_NODE_RANK") ?? intEnv(world, "RANK") ?? 0,
          masterAddr: env("MASTER_ADDR")!,
          masterPort: masterPortFrom(world),
          source: "PyTorchJob (MASTER_ADDR, RANK, WORLD_SIZE)",
        };
      }
      if (variant === "trainer-v2") {
        const rank = intEnv(world, "PET_NODE_RANK") ?? intEnv(world, "JOB_COMPLETION_INDEX") ?? 0;
        const numNodes = intEnv(world, "PET_NNODES") ?? 1;
        const masterAddr = env("MASTER_ADDR") ?? env("PET_MASTER_ADDR") ?? hostname;
        const { hosts } = derivedHosts(
          masterAddr,
          TRAINJOB_NODE0,
          numNodes,
          (g, i) => `${g.job}-node-0-${i}${g.domain ?? ""}`,
        );
        return {
          ...(hosts === undefined ? {} : { hosts, waitFor: hosts }),
          currentHost: hostname,
          numNodes,
          nodeRank: rank,
          masterAddr,
          masterPort: masterPortFrom(world, intEnv(world, "PET_MASTER_PORT")),
          source: "Trainer v2 (PET_*, JOB_COMPLETION_INDEX)",
        };
      }
      if (variant === "tfjob") {
        const tf = jsonEnv(world, "TF_CONFIG", TF_CONFIG)!;
        const order = ["chief", "master", "worker"];
        const members = order.flatMap((t) => (tf.cluster[t] ?? []).map((hp) => ({ t, hp })));
        const own = tf.cluster[tf.task.type]?.[tf.task.index];
        const rank = members.findIndex((m) => m.t === tf.task.type && m.hp === own);
        const first = members[0];
        if (first === undefined) {
          throw new InputError("Variable TF_CONFIG: /cluster: expected chief or worker hosts");
        }
        const hosts = members.map((m) => hostPort(m.hp).host);
        return {
          hosts,
          currentHost: own === undefined ? hostname : hostPort(own).host,
          numNodes: members.length,
          // A parameter server or evaluator is no rank among chief and workers.
          ...(rank >= 0 ? { nodeRank: rank } : { isMaster: false }),
          masterAddr: env("MASTER_ADDR") ?? hostPort(first.hp).host,
          masterPort: masterPortFrom(world, hostPort(first.hp).port),
          source: "TF_CONFIG",
          waitFor: hosts,
        };
      }
      const index = intEnv(world, "JOB_COMPLETION_INDEX");
      if (index !== undefined) {
        // Index 0 is the master; another pod knows its address only from MASTER_ADDR.
        const masterAddr = env("MASTER_ADDR") ?? (index === 0 ? hostname : undefined);
        return {
          currentHost: hostname,
          nodeRank: index,
          ...(masterAddr === undefined ? {} : { masterAddr }),
          masterPort: masterPortFrom(world),
          source: "Indexed Job (JOB_COMPLETION_INDEX)",
        };
      }
      return single("single pod");
    }
    default:
      return workload === "training" ? single("single node") : undefined;
  }
}

/** SageMaker local mode (Studio): the hosts are containers on one machine, nothing to wait for. */
function localMode(world: World): boolean {
  return world.env("SM_STUDIO_LOCAL_MODE") === "true";
}

/** The step that waits until every named host resolves (addresses need no wait). */
function waitForHosts(input: PlanInput, hosts: readonly string[]): Step[] {
  const names = hosts.filter((h) => !/^\d+\.\d+\.\d+\.\d+$/.test(h));
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
      return { steps: waitForHosts(input, job.hosts) };
    }
    const isMaster = c.isMaster ?? (c.nodeRank === undefined ? undefined : c.nodeRank === 0);
    const env: EnvOp[] = [
      fill("ML_CURRENT_HOST", c.currentHost),
      ...(c.nodeRank === undefined ? [] : [fill("ML_NODE_RANK", String(c.nodeRank))]),
      ...(isMaster === undefined ? [] : [fill("ML_IS_MASTER", String(isMaster))]),
      ...(c.masterAddr === undefined ? [] : [fill("ML_MASTER_ADDR", c.masterAddr)]),
      fill("ML_MASTER_PORT", String(c.masterPort)),
    ];
    if (c.hosts !== undefined) env.push(fill("ML_HOSTS", JSON.stringify(c.hosts)));
    if (c.numNodes !== undefined) env.push(fill("ML_NUM_NODES", String(c.numNodes)));
    const steps: Step[] = [];
    if (c.numNodes !== undefined && c.numNodes > 1 && c.masterAddr !== undefined) {
      const gpus = input.detection.facts.gpus;
      env.push(
        fill("MASTER_ADDR", c.masterAddr),
        fill("MASTER_PORT", String(c.masterPort)),
        fill("PET_NNODES", String(c.numNodes)),
        ...(c.nodeRank === undefined ? [] : [fill("PET_NODE_RANK", String(c.nodeRank))]),
        fill("PET_MASTER_ADDR", c.masterAddr),
        fill("PET_MASTER_PORT", String(c.masterPort)),
        fill("PET_NPROC_PER_NODE", String(gpus > 0 ? gpus : 1)),
      );
      if (c.ifname !== undefined) {
        env.push(fill("NCCL_SOCKET_IFNAME", c.ifname), fill("GLOO_SOCKET_IFNAME", c.ifname));
      }
      steps.push(...waitForHosts(input, c.waitFor ?? []));
    }
    return { env, steps, notes: { cluster: c.source } };
  },
};
