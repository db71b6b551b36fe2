/**
 * Real containers (podman, runc) from a local debootstrap base, started the
 * way each platform starts them, each with --cpus 1.5 --memory 512m: SageMaker
 * training (mounted /opt/ml, argv train), SageMaker serving (serve, port 8080),
 * Studio (--user 1000:100), Kubernetes with a random uid (--user
 * 1000650000:0), and `podman stop` delivering SIGTERM. Multi-host jobs run as
 * two containers on a podman bridge network of their own, each with its own
 * address, host name and /opt/ml tree, and an /etc/hosts both mount (the
 * cluster's DNS, which the test fills as hosts come up).
 */
import { deepEqual, equal, match, ok } from "@std/assert";
import { ROOT, runProcess, tempDir, waitFor } from "./helpers.ts";
import { buildImage, PODMAN_FLAGS } from "./container/image.ts";

const image = buildImage();
const RESOURCES = ["--cpus", "1.5", "--memory", "512m"];
const LIMITS = [...RESOURCES, "--network", "host"];

function parse(report: string): Record<string, string> {
  return Object.fromEntries(
    report.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

async function podman(args: string[]) {
  return await runProcess(["podman", ...args]);
}

async function run(args: string[]) {
  return await podman(["run", "--rm", ...PODMAN_FLAGS, ...LIMITS, ...args]);
}

/** A SageMaker training /opt/ml tree on the host, mounted into the container. */
function optMl(
  root: string,
  hyperparameters: Record<string, string>,
  cluster: { current_host: string; hosts: string[] } = {
    current_host: "algo-1",
    hosts: ["algo-1"],
  },
): string {
  const ml = `${root}/ml`;
  for (const d of ["input/config", "input/data/train", "model", "output", "code"]) {
    Deno.mkdirSync(`${ml}/${d}`, { recursive: true });
  }
  Deno.writeTextFileSync(
    `${ml}/input/config/resourceconfig.json`,
    JSON.stringify({ ...cluster, network_interface_name: "eth0" }),
  );
  Deno.writeTextFileSync(
    `${ml}/input/config/hyperparameters.json`,
    JSON.stringify(hyperparameters),
  );
  Deno.writeTextFileSync(
    `${ml}/input/config/inputdataconfig.json`,
    '{"train":{"TrainingInputMode":"File"}}',
  );
  return ml;
}

const SAGEMAKER_ENV = ["-e", "TRAINING_JOB_NAME=job-1", "-e", "AWS_REGION=us-east-1"];

Deno.test("container: SageMaker training runs as root with the limits' thread counts and the toolkit's SM_*", async () => {
  using tmp = tempDir(0o777);
  const ml = optMl(tmp.path, { mode: '"ok"' });
  const r = await run([...SAGEMAKER_ENV, "-v", `${ml}:/opt/ml`, await image, "train"]);
  equal(r.code, 0, r.stderr);
  const seen = parse(Deno.readTextFileSync(`${ml}/model/report.txt`));
  equal(seen.context, "sagemaker-training");
  equal(seen.uid, "0", "SageMaker training expects root: no switch");
  equal(seen.omp, "1", "OMP_NUM_THREADS from --cpus 1.5");
  equal(seen.ml_num_cpus, "1");
  equal(seen.sm_current_host, "algo-1");
  equal(seen.home_writable, "yes");
  equal(seen.sigpipe_ignored, "0000000000000000");
  equal([...Deno.readDirSync(`${ml}/output`)].length, 0, "no failure file on success");
});

Deno.test("container: a failing SageMaker training job keeps its exit code and writes the failure file", async () => {
  using tmp = tempDir(0o777);
  const ml = optMl(tmp.path, { mode: '"fail"' });
  const r = await run([...SAGEMAKER_ENV, "-v", `${ml}:/opt/ml`, await image, "train"]);
  equal(r.code, 3);
  match(r.stderr, /RuntimeError: loss is nan/);
  match(
    Deno.readTextFileSync(`${ml}/output/failure`),
    /^Command \/opt\/program\/train\.sh exited with code 3\nRuntimeError: loss is nan$/,
  );
});

Deno.test("container: SageMaker serving answers /ping and /invocations on port 8080", async () => {
  using tmp = tempDir(0o777);
  Deno.mkdirSync(`${tmp.path}/model`);
  Deno.writeTextFileSync(`${tmp.path}/model/model.bin`, "weights");
  const name = `chameleon-serve-${crypto.randomUUID().slice(0, 8)}`;
  const started = await podman([
    "run",
    "-d",
    "--name",
    name,
    ...PODMAN_FLAGS,
    ...LIMITS,
    "-v",
    `${tmp.path}/model:/opt/ml/model`,
    await image,
    "serve",
  ]);
  equal(started.code, 0, started.stderr);
  try {
    const ping = await waitFor("GET /ping", async () => {
      const res = await fetch("http://127.0.0.1:8080/ping");
      await res.body?.cancel();
      return res.status === 200 ? res.status : undefined;
    });
    equal(ping, 200);
    const inv = await fetch("http://127.0.0.1:8080/invocations", { method: "POST", body: "1,2,3" });
    equal(await inv.text(), "1,2,3");
    const logs = await podman(["logs", name]);
    match(logs.stderr + logs.stdout, /context sagemaker-serving \(argv, real-time\)/);
  } finally {
    await podman(["rm", "-f", "-t", "0", name]);
  }
});

Deno.test("container: a Studio notebook started as --user 1000:100 keeps its ids and a writable home", async () => {
  using tmp = tempDir(0o777);
  Deno.chownSync(tmp.path, 1000, 100);
  const r = await run([
    "--user",
    "1000:100",
    "-e",
    "SAGEMAKER_APP_TYPE=JupyterLab",
    "-e",
    "SAGEMAKER_SPACE_NAME=space-1",
    "-e",
    "HOME=/home/sagemaker-user",
    "-v",
    `${tmp.path}:/home/sagemaker-user`,
    await image,
  ]);
  equal(r.code, 0, r.stderr);
  const seen = parse(r.stdout);
  equal(seen.context, "sagemaker-notebook");
  equal(seen.uid, "1000");
  equal(seen.gid, "100");
  ok(seen.groups!.split(" ").includes("100"), seen.groups);
  equal(seen.home, "/home/sagemaker-user");
  equal(seen.home_writable, "yes");
  equal(seen.omp, "1");
});

/**
 * A Kubernetes pod under OpenShift's restricted policy: a random uid in group 0, no passwd entry
 * (podman must not add one, as Kubernetes adds none) and HOME=/.
 */
const RANDOM_UID_POD = [
  "--passwd=false",
  "--user",
  "1000650000:0",
  "-e",
  "KUBERNETES_SERVICE_HOST=10.96.0.1",
  "-e",
  "HOME=/",
];

Deno.test("container: Kubernetes with a random uid and gid 0 gets a name (nss_wrapper) and a writable HOME", async () => {
  const r = await run([
    ...RANDOM_UID_POD,
    await image,
  ]);
  equal(r.code, 0, r.stderr);
  const seen = parse(r.stdout);
  equal(seen.context, "kubernetes-unknown");
  equal(seen.uid, "1000650000");
  equal(seen.gid, "0");
  equal(seen.whoami, "user1000650000");
  equal(seen.home_writable, "yes");
  match(seen.home!, /^\/(run|tmp)\/chameleon\/home\/1000650000$/);
  equal(seen.omp, "1");
  equal(seen.ml_num_cpus, "1");
});

Deno.test("container: a read-only root file system with no writable /tmp still starts, HOME kept with a warning", async () => {
  // Kubernetes readOnlyRootFilesystem without an emptyDir: /run and /tmp are read-only too (podman
  // mounts tmpfs there for --read-only unless told not to).
  const r = await run([
    "--read-only",
    "--read-only-tmpfs=false",
    ...RANDOM_UID_POD,
    await image,
  ]);
  equal(r.code, 0, r.stderr);
  const seen = parse(r.stdout);
  equal(seen.uid, "1000650000");
  equal(seen.home, "/");
  match(
    r.stderr,
    /HOME \/ is not writable for uid 1000650000, and the runtime dir \/tmp\/chameleon is on a read-only file system/,
  );
  match(r.stderr, /uid 1000650000 has no passwd entry/);
});

Deno.test("container: a root pod with fsGroup keeps that group after the switch, and writes its volume", async () => {
  // securityContext.fsGroup without runAsUser: root, with the volume group-owned by the fsGroup.
  using tmp = tempDir(0o755);
  Deno.chownSync(tmp.path, 0, 2000);
  Deno.chmodSync(tmp.path, 0o2775);
  const r = await run([
    "--group-add",
    "2000",
    "-v",
    `${tmp.path}:/shared`,
    "-e",
    "KUBERNETES_SERVICE_HOST=10.96.0.1",
    await image,
    "sh",
    "-c",
    "id -G; touch /shared/written",
  ]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout.trim(), "100 2000");
  equal(Deno.statSync(`${tmp.path}/written`).uid, 1000);
});

async function stopCode(
  args: string[],
  ready: () => Promise<boolean>,
): Promise<{ code: number; seconds: number; logs: string }> {
  const name = `chameleon-stop-${crypto.randomUUID().slice(0, 8)}`;
  const started = await podman(["run", "-d", "--name", name, ...PODMAN_FLAGS, ...LIMITS, ...args]);
  equal(started.code, 0, started.stderr);
  try {
    await waitFor("the program to be ready", async () => ((await ready()) ? true : undefined));
    const t0 = Date.now();
    const stop = await podman(["stop", "-t", "10", name]);
    equal(stop.code, 0, stop.stderr);
    const seconds = (Date.now() - t0) / 1000;
    const code = Number(
      (await podman(["inspect", "--format", "{{.State.ExitCode}}", name])).stdout.trim(),
    );
    const logs = await podman(["logs", name]);
    return { code, seconds, logs: logs.stdout + logs.stderr };
  } finally {
    await podman(["rm", "-f", "-t", "0", name]);
  }
}

Deno.test("container: podman stop delivers SIGTERM to the program (exec mode), which exits with its own code in time", async () => {
  let name = "";
  const img = await image;
  const result = await stopCode([
    "-e",
    "KUBERNETES_SERVICE_HOST=10.96.0.1",
    img,
    "/opt/program/sleeper.sh",
  ], async () => {
    name ||= (await podman(["ps", "-q", "--latest"])).stdout.trim();
    return (await podman(["logs", name])).stdout.includes("ready");
  });
  equal(result.code, 42);
  ok(result.seconds < 10, `took ${result.seconds} s, past the grace time`);
  match(result.logs, /stopping on SIGTERM/);
});

Deno.test("container: podman stop reaches a supervised SageMaker training program through the entrypoint", async () => {
  using tmp = tempDir(0o777);
  const ml = optMl(tmp.path, { mode: '"sleep"' });
  const result = await stopCode(
    [...SAGEMAKER_ENV, "-v", `${ml}:/opt/ml`, await image, "train"],
    () => {
      try {
        Deno.statSync(`${ml}/model/ready`);
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(false);
      }
    },
  );
  equal(result.code, 42);
  ok(result.seconds < 10, `took ${result.seconds} s`);
  match(
    Deno.readTextFileSync(`${ml}/output/failure`),
    /exited with code 42\n[\s\S]*stopping on SIGTERM/,
  );
});

/**
 * A multi-host job's network: a podman bridge network of its own, on which node `i` gets the
 * address `.(11 + i)` of the network's /24 and a host name; every node mounts one /etc/hosts, the
 * cluster's DNS, which the test fills as hosts come up (in place: it is bind-mounted). Disposing
 * removes the containers, then the network.
 */
class Cluster {
  readonly #containers: string[] = [];

  private constructor(
    readonly network: string,
    readonly prefix: string,
    readonly hostsFile: string,
  ) {}

  static async create(dir: string): Promise<Cluster> {
    const network = `chameleon-net-${crypto.randomUUID().slice(0, 8)}`;
    const created = await podman(["network", "create", network]);
    equal(created.code, 0, created.stderr);
    const subnet = await podman([
      "network",
      "inspect",
      "--format",
      "{{range .Subnets}}{{.Subnet}} {{end}}",
      network,
    ]);
    const prefix = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet.stdout.trim())?.[1];
    if (prefix === undefined) {
      await podman(["network", "rm", "-f", network]);
      throw new Error(`network ${network}: expected one /24 subnet, got "${subnet.stdout.trim()}"`);
    }
    const hostsFile = `${dir}/hosts`;
    Deno.writeTextFileSync(hostsFile, "127.0.0.1 localhost\n");
    return new Cluster(network, prefix, hostsFile);
  }

  address(node: number): string {
    return `${this.prefix}.${11 + node}`;
  }

  /** From now on `host` resolves to node `node`'s address, on every node. */
  resolve(host: string, node: number): void {
    Deno.writeTextFileSync(this.hostsFile, `${this.address(node)} ${host}\n`, { append: true });
  }

  /** Starts node `node` as `host` in the background; returns the container's name. */
  async start(node: number, host: string, args: string[]): Promise<string> {
    const name = `${this.network}-${host}`;
    this.#containers.push(name);
    const started = await podman([
      "run",
      "-d",
      "--name",
      name,
      ...PODMAN_FLAGS,
      ...RESOURCES,
      "--network",
      this.network,
      "--ip",
      this.address(node),
      "--hostname",
      host,
      "-v",
      `${this.hostsFile}:/etc/hosts:ro`,
      ...args,
    ]);
    equal(started.code, 0, started.stderr);
    return name;
  }

  async logs(name: string): Promise<string> {
    const r = await podman(["logs", name]);
    return r.stdout + r.stderr;
  }

  /** Waits for the container to exit: its exit code and its logs. */
  async wait(name: string): Promise<{ code: number; logs: string }> {
    const r = await podman(["wait", name]);
    equal(r.code, 0, r.stderr);
    return { code: Number(r.stdout.trim()), logs: await this.logs(name) };
  }

  /**
   * Waits for every container to exit 0. The first that does not fails the wait at once: the
   * others would go on waiting for it.
   */
  async succeed(names: string[]): Promise<void> {
    await Promise.all(names.map(async (name) => {
      const r = await this.wait(name);
      equal(r.code, 0, `${name}: ${r.logs}`);
    }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const name of this.#containers) await podman(["rm", "-f", "-t", "0", name]);
    await podman(["network", "rm", "-f", this.network]);
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What tests/container/program/rendezvous.py saw and exchanged. */
interface Rendezvous {
  uid: number;
  env: Record<string, string | null>;
  received?: { rank: string; host: string; peer: string }[];
  answer?: { rank: string; host: string };
  masterIp?: string;
}

function rendezvous(dir: string): Rendezvous {
  return JSON.parse(Deno.readTextFileSync(`${dir}/rendezvous.json`));
}

const ALGO = ["algo-1", "algo-2"];

Deno.test("container: a 2-host SageMaker training job waits for algo-1 to resolve, then rank 1 reaches rank 0 at MASTER_ADDR:MASTER_PORT", async () => {
  using tmp = tempDir(0o777);
  await using net = await Cluster.create(tmp.path);
  const img = await image;
  const ml = ALGO.map((h) =>
    optMl(`${tmp.path}/${h}`, { mode: '"rendezvous"' }, { current_host: h, hosts: ALGO })
  );
  const node = (rank: number) => [...SAGEMAKER_ENV, "-v", `${ml[rank]}:/opt/ml`, img, "train"];
  // algo-2 comes up first: its own name resolves, algo-1 not yet.
  net.resolve("algo-2", 1);
  const second = await net.start(1, "algo-2", node(1));
  await waitFor(
    "algo-2 to say it waits for algo-1",
    async () =>
      /waiting for 1 of 2 hosts to resolve: algo-1\b/.test(await net.logs(second)) || undefined,
    60_000,
  );
  ok(!exists(`${ml[1]}/model/report.txt`), "the program started before algo-1 resolved");
  net.resolve("algo-1", 0);
  const first = await net.start(0, "algo-1", node(0));
  await net.succeed([first, second]);
  const seen = ml.map((m) => rendezvous(`${m}/model`));
  for (const [rank, host] of ALGO.entries()) {
    deepEqual(seen[rank]!.env, {
      CHAMELEON_CONTEXT: "sagemaker-training",
      ML_HOSTS: '["algo-1","algo-2"]',
      ML_CURRENT_HOST: host,
      ML_NUM_NODES: "2",
      ML_NODE_RANK: `${rank}`,
      ML_IS_MASTER: `${rank === 0}`,
      ML_MASTER_ADDR: "algo-1",
      ML_MASTER_PORT: "29500",
      MASTER_ADDR: "algo-1",
      MASTER_PORT: "29500",
      // torchrun sets these per process; the design fills none of them.
      RANK: null,
      WORLD_SIZE: null,
      NODE_RANK: null,
      PET_NNODES: "2",
      PET_NODE_RANK: `${rank}`,
      PET_MASTER_ADDR: "algo-1",
      PET_MASTER_PORT: "29500",
      PET_NPROC_PER_NODE: "1",
      SM_HOSTS: '["algo-1","algo-2"]',
      SM_CURRENT_HOST: host,
      NCCL_SOCKET_IFNAME: "eth0",
      GLOO_SOCKET_IFNAME: "eth0",
    }, host);
    equal(seen[rank]!.uid, 0, "SageMaker training runs as root");
    equal([...Deno.readDirSync(`${ml[rank]}/output`)].length, 0, "no failure file on success");
  }
  deepEqual(seen[0]!.received, [{ rank: "1", host: "algo-2", peer: net.address(1) }]);
  deepEqual(seen[1]!.answer, { rank: "0", host: "algo-1" });
  equal(seen[1]!.masterIp, net.address(0));
});

Deno.test("container: a SageMaker training host that never resolves ends the start with 69 and a failure file naming it", async () => {
  using tmp = tempDir(0o777);
  await using net = await Cluster.create(tmp.path);
  const ml = optMl(tmp.path, { mode: '"ok"' }, {
    current_host: "algo-1",
    hosts: ["algo-1", "algo-9"],
  });
  const config = `${tmp.path}/config.yaml`;
  Deno.writeTextFileSync(
    config,
    Deno.readTextFileSync(`${ROOT}/tests/container/config.yaml`) +
      "hostWait:\n  timeoutSeconds: 1\n",
  );
  net.resolve("algo-1", 0);
  const name = await net.start(0, "algo-1", [
    ...SAGEMAKER_ENV,
    "-v",
    `${config}:/etc/chameleon-test/config.yaml:ro`,
    "-e",
    "CHAMELEON_CONFIG=/etc/chameleon-test/config.yaml",
    "-v",
    `${ml}:/opt/ml`,
    await image,
    "train",
  ]);
  const r = await net.wait(name);
  equal(r.code, 69, r.logs);
  match(r.logs, /waiting up to 1 s for 2 hosts to resolve/);
  match(
    Deno.readTextFileSync(`${ml}/output/failure`),
    /^chameleon: Hosts never resolved within 1 s: algo-9 \(resolved 1 of 2\)/,
  );
  ok(!exists(`${ml}/model/report.txt`), "the program ran");
});

/**
 * Starts one container per host, each running program/rendezvous.py as the command (a Kubernetes
 * container's `command:`) with its rank's platform variables, every host resolvable from the
 * start; returns what each saw once all exited 0.
 */
async function meet(hosts: string[], platformEnv: (rank: number) => Record<string, string>) {
  using tmp = tempDir(0o777);
  await using net = await Cluster.create(tmp.path);
  const img = await image;
  hosts.forEach((host, rank) => net.resolve(host, rank));
  const out = hosts.map((host) => {
    const dir = `${tmp.path}/${host}`;
    Deno.mkdirSync(dir);
    Deno.chmodSync(dir, 0o777);
    return dir;
  });
  const names: string[] = [];
  for (const [rank, host] of hosts.entries()) {
    const env = Object.entries(platformEnv(rank)).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    names.push(
      await net.start(rank, host, [
        ...env,
        "-v",
        `${out[rank]}:/results`,
        img,
        "python3",
        "/opt/program/rendezvous.py",
        "/results",
      ]),
    );
  }
  await net.succeed(names);
  return { seen: out.map(rendezvous), addresses: hosts.map((_, rank) => net.address(rank)) };
}

/** What a torch cluster of `hosts` with its master at `hosts[0]:port` fills, beside `given`. */
function torchEnv(
  context: string,
  hosts: string[],
  rank: number,
  port: string,
  given: Record<string, string | null>,
): Record<string, string | null> {
  return {
    CHAMELEON_CONTEXT: context,
    ML_HOSTS: JSON.stringify(hosts),
    ML_CURRENT_HOST: hosts[rank]!,
    ML_NUM_NODES: `${hosts.length}`,
    ML_NODE_RANK: `${rank}`,
    ML_IS_MASTER: `${rank === 0}`,
    ML_MASTER_ADDR: hosts[0]!,
    ML_MASTER_PORT: port,
    MASTER_ADDR: hosts[0]!,
    MASTER_PORT: port,
    RANK: null,
    WORLD_SIZE: null,
    NODE_RANK: null,
    PET_NNODES: `${hosts.length}`,
    PET_NODE_RANK: `${rank}`,
    PET_MASTER_ADDR: hosts[0]!,
    PET_MASTER_PORT: port,
    PET_NPROC_PER_NODE: "1",
    SM_HOSTS: null,
    SM_CURRENT_HOST: null,
    NCCL_SOCKET_IFNAME: null,
    GLOO_SOCKET_IFNAME: null,
    ...given,
  };
}

Deno.test("container: a 2-pod Kubeflow PyTorchJob with the operator's MASTER_ADDR, RANK, WORLD_SIZE and PET_* meets at the master, as the image's user", async () => {
  const pods = ["pytorch-job-master-0", "pytorch-job-worker-0"];
  // The operator's variables (reference A.4): the port of the container port pytorchjob-port.
  const operator = (rank: number) => ({
    KUBERNETES_SERVICE_HOST: "10.96.0.1",
    MASTER_ADDR: pods[0]!,
    MASTER_PORT: "23456",
    WORLD_SIZE: "2",
    RANK: `${rank}`,
    PET_MASTER_ADDR: pods[0]!,
    PET_MASTER_PORT: "23456",
    PET_NNODES: "2",
    PET_NPROC_PER_NODE: "1",
    PET_NODE_RANK: `${rank}`,
    PYTHONUNBUFFERED: "0",
  });
  const { seen, addresses } = await meet(pods, operator);
  for (const [rank, pod] of pods.entries()) {
    deepEqual(
      seen[rank]!.env,
      torchEnv("kubernetes-training", pods, rank, "23456", { RANK: `${rank}`, WORLD_SIZE: "2" }),
      pod,
    );
    equal(seen[rank]!.uid, 1000, "a root pod switches to the image's user");
  }
  deepEqual(seen[0]!.received, [{ rank: "1", host: pods[1]!, peer: addresses[1]! }]);
  deepEqual(seen[1]!.answer, { rank: "0", host: pods[0]! });
});

Deno.test("container: a 2-replica Vertex AI job on GKE meets at CLUSTER_SPEC's workerpool0 host and port", async () => {
  const hosts = ["workerpool0-0", "workerpool1-0"];
  // reference B.1: one primary replica in workerpool0, the others in workerpool1; the job runs
  // on GKE, so the Kubernetes variables are there too (Vertex comes first).
  const vertex = (rank: number) => ({
    CLOUD_ML_JOB_ID: "1234567890",
    KUBERNETES_SERVICE_HOST: "10.96.0.1",
    CLUSTER_SPEC: JSON.stringify({
      cluster: { workerpool0: [`${hosts[0]}:2222`], workerpool1: [`${hosts[1]}:2222`] },
      environment: "cloud",
      task: { type: `workerpool${rank}`, index: 0 },
    }),
  });
  const { seen, addresses } = await meet(hosts, vertex);
  for (const [rank, host] of hosts.entries()) {
    deepEqual(seen[rank]!.env, torchEnv("vertex-ai-training", hosts, rank, "2222", {}), host);
    equal(seen[rank]!.uid, 1000);
  }
  deepEqual(seen[0]!.received, [{ rank: "1", host: hosts[1]!, peer: addresses[1]! }]);
  deepEqual(seen[1]!.answer, { rank: "0", host: hosts[0]! });
});
