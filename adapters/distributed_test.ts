import { deepEqual, equal, match, ok } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { InputError } from "../errors.ts";
import { caught, fixtures, planFixture, withEnv, withFiles } from "../tests/helpers.ts";
import type { Plan, Snapshot } from "../types.ts";
import { expandNodelist } from "./distributed.ts";

/** The exit-78 error a plan stops with: one line, naming what it must. */
function inputError(id: string, change: (s: Snapshot) => Snapshot): string {
  const e = caught(() => planFixture(id, change));
  if (!(e instanceof InputError)) throw new Error(`expected an InputError, got ${e}`);
  equal(e.exitCode, 78);
  equal(e.message.includes("\n"), false, "one line");
  return e.message;
}

/** The names of the cluster variables a plan fills. */
const CLUSTER_VAR = /^(ML_(HOSTS|NUM_NODES|NODE_RANK|IS_MASTER)|MASTER_|PET_)/;
const clusterVars = (p: Plan) => Object.keys(p.env).filter((n) => CLUSTER_VAR.test(n)).sort();

// --- Sparse TFJob (training-operator enableDynamicWorker) ---

/** A TFJob pod with the given TF_CONFIG object. */
const tfjob = (tfConfig: unknown, hostname = "mnist-worker-1") =>
  planFixture("kubernetes-training/tfjob-sparse", (s) => ({
    ...s,
    hostname,
    env: { ...s.env, TF_CONFIG: JSON.stringify(tfConfig) },
  }));

Deno.test("plan() fills only what a sparse TFJob worker knows: its own host", () => {
  const p = planFixture("kubernetes-training/tfjob-sparse");
  equal(p.env["ML_CURRENT_HOST"], "mnist-worker-1.ml.svc");
  // Worker 1 follows worker 0 (or the chief): never the master; its rank
  // depends on whether there is a chief, which the pod is not told.
  deepEqual(clusterVars(p), ["ML_IS_MASTER"]);
  equal(p.env["ML_IS_MASTER"], "false");
  equal(p.env["ML_MASTER_PORT"], "29500");
  equal("ML_MASTER_ADDR" in p.env, false);
  equal(p.steps.some((s) => s.step === "wait-for-hosts"), false);
  match(String(p.notes["cluster"]), /sparse/);
});

Deno.test("plan() leaves a sparse TFJob worker 0's role open unless the chief is listed", () => {
  const sparse = { worker: { "0": "mnist-worker-0.ml.svc:2222" }, ps: null };
  const alone = tfjob(
    { sparseCluster: sparse, task: { type: "worker", index: 0 } },
    "mnist-worker-0",
  );
  // Without a chief, worker 0 leads (TensorFlow's is_chief): the pod cannot tell.
  deepEqual(clusterVars(alone), []);
  equal(alone.env["ML_CURRENT_HOST"], "mnist-worker-0.ml.svc");
  const withChief = tfjob({
    sparseCluster: { ...sparse, chief: ["mnist-chief-0.ml.svc:2223"] },
    task: { type: "worker", index: 0 },
  });
  equal(withChief.env["ML_IS_MASTER"], "false");
  deepEqual(
    [withChief.env["ML_MASTER_ADDR"], withChief.env["ML_MASTER_PORT"]],
    ["mnist-chief-0.ml.svc", "2223"],
  );
  equal("ML_NUM_NODES" in withChief.env, false);
});

Deno.test("plan() makes a sparse TFJob chief rank 0 from its task alone", () => {
  // The operator gives a chief no entries at all: {"worker":{},"ps":[]}.
  const p = tfjob(
    { sparseCluster: { worker: {}, ps: [] }, task: { type: "chief", index: 0 } },
    "mnist-chief-0",
  );
  deepEqual(
    [p.env["ML_CURRENT_HOST"], p.env["ML_NODE_RANK"], p.env["ML_IS_MASTER"]],
    ["mnist-chief-0", "0", "true"],
  );
  equal(p.env["ML_MASTER_ADDR"], "mnist-chief-0");
  equal("ML_HOSTS" in p.env, false);
  equal("PET_NNODES" in p.env, false);
});

Deno.test("plan() gives a sparse TFJob parameter server no rank", () => {
  const p = tfjob(
    {
      sparseCluster: { worker: {}, ps: ["mnist-ps-0.ml.svc:2222"] },
      task: { type: "ps", index: 0 },
    },
    "mnist-ps-0",
  );
  deepEqual(clusterVars(p), ["ML_IS_MASTER"]);
  equal(p.env["ML_IS_MASTER"], "false");
  equal(p.env["ML_CURRENT_HOST"], "mnist-ps-0.ml.svc");
});

Deno.test("plan() takes a TF_CONFIG task index given as a string of digits, as TensorFlow's int() does", () => {
  const tfConfig = (index: unknown) =>
    JSON.stringify({
      cluster: { chief: ["c-0:2222"], worker: ["w-0:2222", "w-1:2222"] },
      task: { type: "worker", index },
    });
  const asNumber = planFixture("kubernetes-training/tfjob", withEnv({ TF_CONFIG: tfConfig(1) }));
  for (const index of ["1", " 1 ", "+1"]) {
    const p = planFixture("kubernetes-training/tfjob", withEnv({ TF_CONFIG: tfConfig(index) }));
    deepEqual(p.env, asNumber.env, JSON.stringify(index));
  }
  equal(asNumber.env["ML_NODE_RANK"], "2");
  for (const index of ["1.0", "one", "", "-1", "1e0"]) {
    match(
      inputError("kubernetes-training/tfjob", withEnv({ TF_CONFIG: tfConfig(index) })),
      /^Variable TF_CONFIG: \/task\/index: expected a non-negative integer/,
      JSON.stringify(index),
    );
  }
});

Deno.test("plan() rejects a TF_CONFIG without a cluster or a malformed sparse one", () => {
  match(
    inputError(
      "kubernetes-training/tfjob",
      withEnv({ TF_CONFIG: '{"task":{"type":"worker","index":0}}' }),
    ),
    /^Variable TF_CONFIG: \/cluster: expected an object \(or \/sparseCluster\), got nothing/,
  );
  match(
    inputError(
      "kubernetes-training/tfjob",
      withEnv({
        TF_CONFIG:
          '{"sparseCluster":{"worker":{"one":"w:2222"}},"task":{"type":"worker","index":1}}',
      }),
    ),
    /^Variable TF_CONFIG: \/sparseCluster\/worker\/one: expected a task index as key/,
  );
  match(
    inputError(
      "kubernetes-training/tfjob",
      withEnv({
        TF_CONFIG: '{"sparseCluster":{"worker":{"1":"w"}},"task":{"type":"worker","index":1}}',
      }),
    ),
    /^Variable TF_CONFIG: \/sparseCluster\/worker\/1: expected "host:port"/,
  );
});

Deno.test("plan() rejects a TF_CONFIG whose cluster has no chief, master or worker with exit 78", () => {
  equal(
    inputError(
      "kubernetes-training/tfjob",
      withEnv({
        TF_CONFIG: JSON.stringify({
          cluster: { ps: ["mnist-ps-0:2222"] },
          task: { type: "ps", index: 0 },
        }),
      }),
    ),
    "Variable TF_CONFIG: /cluster: expected chief or worker hosts",
  );
});

Deno.test("plan() makes a sparse TFJob master rank 0 from its task alone, as a chief", () => {
  const p = tfjob(
    { sparseCluster: { worker: {}, ps: [] }, task: { type: "master", index: 0 } },
    "mnist-master-0",
  );
  deepEqual(
    ["ML_NODE_RANK", "ML_IS_MASTER", "ML_MASTER_ADDR"].map((n) => p.env[n]),
    ["0", "true", "mnist-master-0"],
  );
});

// --- A task outside its cluster ---

Deno.test("plan() rejects a CLUSTER_SPEC task index beyond its pool or of no pool", () => {
  const spec = (task: unknown) =>
    withEnv({
      CLUSTER_SPEC: JSON.stringify({
        cluster: { workerpool0: ["chief:2222"], workerpool1: ["w0:2222", "w1:2222"] },
        task,
      }),
    });
  match(
    inputError("vertex-ai-training/multi-worker", spec({ type: "workerpool1", index: 5 })),
    /^Variable CLUSTER_SPEC: \/task\/index 5: expected less than 2, the number of hosts in \/cluster\/workerpool1$/,
  );
  match(
    inputError("vertex-ai-training/multi-worker", spec({ type: "workerpool3", index: 0 })),
    /^Variable CLUSTER_SPEC: \/task\/type "workerpool3": expected one of \/cluster \(workerpool0, workerpool1\)$/,
  );
});

Deno.test("plan() rejects a CLUSTER_SPEC whose workerpool0 lists no host with exit 78", () => {
  for (
    const cluster of [{ workerpool1: ["w0:2222"] }, { workerpool0: [], workerpool1: ["w0:2222"] }]
  ) {
    equal(
      inputError(
        "vertex-ai-training/multi-worker",
        withEnv({
          CLUSTER_SPEC: JSON.stringify({ cluster, task: { type: "workerpool1", index: 0 } }),
        }),
      ),
      "Variable CLUSTER_SPEC: /cluster/workerpool0: expected at least one host",
      JSON.stringify(cluster),
    );
  }
});

Deno.test("plan() rejects a CLUSTER_SPEC whose workerpool0 lists more than one host: Vertex has one primary replica", () => {
  // Each host of workerpool0 would take rank 0 and call itself the master.
  for (const index of [0, 1]) {
    equal(
      inputError(
        "vertex-ai-training/multi-worker",
        withEnv({
          CLUSTER_SPEC: JSON.stringify({
            cluster: { workerpool0: ["c0:2222", "c1:2222"], workerpool1: ["w0:2222"] },
            task: { type: "workerpool0", index },
          }),
        }),
      ),
      "Variable CLUSTER_SPEC: /cluster/workerpool0: expected one host (the primary replica), got 2",
      String(index),
    );
  }
});

Deno.test("plan() gives a Vertex workerpool2 or 3 member no torch rank: only pools 0 and 1 are nodes", () => {
  const p = planFixture(
    "vertex-ai-training/multi-worker",
    withEnv({
      CLUSTER_SPEC: JSON.stringify({
        cluster: {
          workerpool0: ["chief:2222"],
          workerpool1: ["w0:2222", "w1:2222"],
          workerpool2: ["rs0:2222"],
        },
        task: { type: "workerpool2", index: 0 },
      }),
    }),
  );
  equal(p.env["ML_NODE_RANK"], undefined);
  equal(p.env["PET_NODE_RANK"], undefined);
  equal(p.env["ML_IS_MASTER"], "false");
  equal(p.env["ML_NUM_NODES"], "3");
  equal(p.env["ML_CURRENT_HOST"], "rs0");
  // No torch variables at all: torchrun would take the member as rank 0 beside the chief.
  for (const n of ["MASTER_ADDR", "PET_NNODES", "PET_MASTER_ADDR", "PET_NPROC_PER_NODE"]) {
    equal(n in p.env, false, n);
  }
  deepEqual(p.steps.filter((s) => s.step === "wait-for-hosts"), []);
  // A TFJob parameter server likewise.
  const ps = planFixture(
    "kubernetes-training/tfjob",
    withEnv({
      TF_CONFIG: JSON.stringify({
        cluster: { chief: ["c:2222"], worker: ["w0:2222"], ps: ["ps0:2222"] },
        task: { type: "ps", index: 0 },
      }),
    }),
  );
  equal("PET_NNODES" in ps.env, false);
  equal(ps.env["ML_IS_MASTER"], "false");
});

Deno.test("plan() rejects a TF_CONFIG task index beyond its job or of no job", () => {
  const cluster = { chief: ["c:2222"], worker: ["w0:2222", "w1:2222"] };
  const tf = (task: unknown) => withEnv({ TF_CONFIG: JSON.stringify({ cluster, task }) });
  match(
    inputError("kubernetes-training/tfjob", tf({ type: "worker", index: 7 })),
    /^Variable TF_CONFIG: \/task\/index 7: expected less than 2, the number of hosts in \/cluster\/worker$/,
  );
  match(
    inputError("kubernetes-training/tfjob", tf({ type: "wroker", index: 0 })),
    /^Variable TF_CONFIG: \/task\/type "wroker": expected one of \/cluster \(chief, worker\)/,
  );
});

Deno.test("plan() accepts a TF_CONFIG evaluator outside the cluster, as tf.estimator wants it", () => {
  const p = planFixture(
    "kubernetes-training/tfjob",
    (s) => ({
      ...s,
      hostname: "mnist-evaluator-0",
      env: {
        ...s.env,
        TF_CONFIG: JSON.stringify({
          cluster: { chief: ["c:2222"], worker: ["w0:2222"] },
          task: { type: "evaluator", index: 0 },
        }),
      },
    }),
  );
  deepEqual([p.env["ML_CURRENT_HOST"], p.env["ML_IS_MASTER"]], ["mnist-evaluator-0", "false"]);
  equal("ML_NODE_RANK" in p.env, false);
});

// --- Slurm host lists ---

Deno.test("expandNodelist() splits at blanks as Slurm's own parser does, and still refuses an empty item", () => {
  for (const list of ["gpu07 gpu08", "gpu07, gpu08", "gpu07 ,gpu08", " gpu07\tgpu08 "]) {
    deepEqual(expandNodelist(list), ["gpu07", "gpu08"], JSON.stringify(list));
  }
  deepEqual(expandNodelist("gpu[07-08] cpu1"), ["gpu07", "gpu08", "cpu1"]);
  // An item that starts with its bracket group, after a blank, ends at its own comma.
  deepEqual(expandNodelist("gpu07 [08-09],cpu1"), ["gpu07", "08", "09", "cpu1"]);
  for (const list of ["gpu07,,gpu08", "gpu07, ,gpu08", "gpu07,", " "]) {
    const e = caught(() => expandNodelist(list), JSON.stringify(list));
    ok(e instanceof InputError, JSON.stringify(list));
  }
});

Deno.test("expandNodelist() expands up to 100,000 hosts and refuses more before building them", () => {
  equal(expandNodelist("n[1-100000]").length, 100_000);
  deepEqual(expandNodelist("a[1-2]b[08-09],c"), ["a1b08", "a1b09", "a2b08", "a2b09", "c"]);
  for (
    const list of [
      "gpu[1-99999999]", // would exhaust memory if built
      "a[1-1000]b[1-1000]", // each group is small, their product is not
      "n[1-100000],m1", // the items together
    ]
  ) {
    const e = caught(() => expandNodelist(list), list);
    if (!(e instanceof InputError)) throw new Error(`${list}: expected an InputError, got ${e}`);
    match(e.message, /^Variable SLURM_NODELIST ".*": expected at most 100000 hosts, got /, list);
  }
});

Deno.test("plan() rejects a Slurm host number that would lose digits", () => {
  match(
    inputError("slurm-training/task", withEnv({ SLURM_NODELIST: "n[1-99999999999999999999]" })),
    /^Variable SLURM_NODELIST "n\[1-99999999999999999999\]": bad range "1-99999999999999999999": expected numbers of at most 9007199254740991$/,
  );
});

Deno.test("expandNodelist() refuses a range of anything but a number or two joined by a dash", () => {
  for (const range of ["1-2x", "x1", "1-2-3", "1 - 2"]) {
    const list = `gpu[${range}]`;
    const e = caught(() => expandNodelist(list), list);
    if (!(e instanceof InputError)) throw new Error(`${list}: expected an InputError, got ${e}`);
    equal(
      e.message,
      `Variable SLURM_NODELIST ${JSON.stringify(list)}: bad range ${
        JSON.stringify(range)
      }: expected N or N-M`,
    );
  }
});

Deno.test("expandNodelist() names a host count past 2^53 without printing a number that lost digits", () => {
  const list = "a[1-99999999]b[1-99999999]";
  const e = caught(() => expandNodelist(list));
  if (!(e instanceof InputError)) throw new Error(`expected an InputError, got ${e}`);
  equal(
    e.message,
    `Variable SLURM_NODELIST "${list}": expected at most 100000 hosts, got more than 9007199254740991`,
  );
});

Deno.test("plan() counts a Slurm job's nodes from its node list when SLURM_NNODES is not set", () => {
  const p = planFixture("slurm-training/task", (s) => {
    const { SLURM_NNODES: _, ...env } = s.env;
    return { ...s, env };
  });
  deepEqual(["ML_NUM_NODES", "PET_NNODES"].map((n) => p.env[n]), ["2", "2"]);
});

Deno.test("plan() rejects an unclosed, empty or stray Slurm bracket with exit 78", () => {
  for (const list of ["gpu[07-08", "gpu[]", "gpu07-08]", "gpu[1-[2]]", "gpu[1,]", "gpu[1-2"]) {
    match(
      inputError("slurm-training/task", withEnv({ SLURM_NODELIST: list })),
      /^Variable SLURM_NODELIST ".*": expected host names like gpu\[07-09,12\],cpu1/,
      list,
    );
  }
  match(
    inputError("slurm-training/task", withEnv({ SLURM_NODELIST: "gpu[1-99999999]" })),
    /^Variable SLURM_NODELIST "gpu\[1-99999999\]": expected at most 100000 hosts, got 99999999$/,
  );
});

Deno.test("plan() leaves out a host list too long for a variable, with a warning, and still runs the job", () => {
  // 7,000 PyTorchJob pods (bert-ft-master-0, bert-ft-worker-<i>): some 150 KB of names.
  const pods = planFixture(
    "kubernetes-training/pytorchjob-worker",
    withEnv({ PET_NNODES: "7000" }),
  );
  equal(pods.env["ML_HOSTS"], undefined);
  deepEqual(["ML_NUM_NODES", "ML_NODE_RANK"].map((n) => pods.env[n]), ["7000", "2"]);
  deepEqual(pods.warnings.filter((w) => w.startsWith("ML_HOSTS")), [
    "ML_HOSTS left unset: the list of 7000 hosts would be 152898 bytes, more than the 131072 execve takes for a variable",
  ]);
  // A Slurm range of as many nodes: the same.
  const slurm = planFixture("slurm-training/task", (s) => {
    const { SLURM_NNODES: _, ...env } = s.env;
    return { ...s, env: { ...env, SLURM_NODELIST: "gpu[00001-20000]", SLURM_NODEID: "0" } };
  });
  equal(slurm.env["ML_HOSTS"], undefined);
  equal(slurm.env["ML_NUM_NODES"], "20000");
  ok(slurm.warnings.some((w) => w.startsWith("ML_HOSTS left unset: the list of 20000 hosts")));
  // 1,024 hosts fit: listed as before.
  const fits = planFixture(
    "kubernetes-training/pytorchjob-worker",
    withEnv({ PET_NNODES: "1024" }),
  );
  equal(JSON.parse(fits.env["ML_HOSTS"]!).length, 1024);
  deepEqual(fits.warnings.filter((w) => w.startsWith("ML_HOSTS")), []);
});

Deno.test("plan() names SLURM_JOB_NODELIST when that is the host list it read", () => {
  const e = inputError("slurm-training/task", (s) => {
    const { SLURM_NODELIST: _, ...env } = s.env;
    return { ...s, env: { ...env, SLURM_JOB_NODELIST: "gpu[]" } };
  });
  match(e, /^Variable SLURM_JOB_NODELIST "gpu\[\]"/);
});

// --- The current host is among the hosts ---

Deno.test("plan() makes a TrainJob node's current host its ML_HOSTS entry", () => {
  const p = planFixture("kubernetes-training/trainer-v2");
  equal(p.env["ML_CURRENT_HOST"], "llama-ft-node-0-1.llama-ft");
});

Deno.test("plan() takes a TrainJob node's rank from JOB_COMPLETION_INDEX without PET_NODE_RANK, and fills PET_NODE_RANK", () => {
  // reference/platforms.md A.4: Trainer v2 fills PET_NODE_RANK from JOB_COMPLETION_INDEX.
  const p = planFixture("kubernetes-training/trainer-v2", (s) => {
    const { PET_NODE_RANK: _, ...env } = s.env;
    return { ...s, env };
  });
  deepEqual(
    ["ML_NODE_RANK", "ML_IS_MASTER", "PET_NODE_RANK", "ML_CURRENT_HOST"].map((n) => p.env[n]),
    ["1", "false", "1", "llama-ft-node-0-1.llama-ft"],
  );
});

Deno.test("plan() lists the current host among ML_HOSTS, at its rank, on every training fixture", () => {
  const training = fixtures().filter((f) => f.contextId.endsWith("-training"));
  ok(training.length >= 10);
  for (const f of training) {
    const env = planFixture(f.id).env;
    const current = env["ML_CURRENT_HOST"];
    if (current === undefined) throw new Error(`${f.id}: no ML_CURRENT_HOST`);
    if (env["ML_HOSTS"] === undefined) continue;
    const hosts = JSON.parse(env["ML_HOSTS"]) as string[];
    ok(hosts.includes(current), `${f.id}: ${current} not in ${env["ML_HOSTS"]}`);
    if (env["ML_NODE_RANK"] !== undefined) equal(hosts[Number(env["ML_NODE_RANK"])], current, f.id);
  }
});

Deno.test("plan() rejects a node rank at or beyond the node count", () => {
  match(
    inputError("kubernetes-training/trainer-v2", withEnv({ PET_NODE_RANK: "2" })),
    /^Variable PET_NODE_RANK "2": expected less than PET_NNODES \(2\)$/,
  );
  match(
    inputError("kubernetes-training/pytorchjob-worker", withEnv({ PET_NODE_RANK: "3" })),
    /^Variable PET_NODE_RANK "3": expected less than PET_NNODES \(3\)$/,
  );
  match(
    inputError("kubernetes-training/pytorchjob-worker", (s) => {
      const { PET_NNODES: _, WORLD_SIZE: __, PET_NODE_RANK: ___, ...env } = s.env;
      return { ...s, env };
    }),
    /^Variable RANK "2": expected less than the node count, 1 without PET_NNODES or WORLD_SIZE$/,
  );
});

Deno.test("plan() rejects a node count of 0 from an operator: no node would run the job", () => {
  match(
    inputError("kubernetes-training/trainer-v2", withEnv({ PET_NNODES: "0" })),
    /^Variable PET_NNODES "0": expected a node count of at least 1$/,
  );
  match(
    inputError("kubernetes-training/pytorchjob-worker", (s) => {
      const { PET_NNODES: _, ...env } = s.env;
      return { ...s, env: { ...env, WORLD_SIZE: "0" } };
    }),
    /^Variable WORLD_SIZE "0": expected a node count of at least 1$/,
  );
});

Deno.test("plan() quotes a node rank beyond the node count as it was written", () => {
  match(
    inputError("kubernetes-training/trainer-v2", withEnv({ PET_NODE_RANK: "02" })),
    /^Variable PET_NODE_RANK "02": expected less than PET_NNODES \(2\)$/,
  );
});

// --- Host names no resolver can look up ---

Deno.test("plan() refuses a host with a NUL among the hosts to wait for, naming where it was read", () => {
  // getaddrinfo would look up the name cut at the NUL: the wait would last its whole timeout.
  const expected =
    "expected a host name or address without NUL (getaddrinfo would look up the name cut there)";
  const rc = (hosts: string[], current: string) => JSON.stringify({ current_host: current, hosts });
  const cases: [string, (s: Snapshot) => Snapshot, string][] = [
    [
      "sagemaker-training/multi-host",
      withFiles({
        "/opt/ml/input/config/resourceconfig.json": rc(
          ["algo-1", "algo-2", "algo-3", "algo-4\0x"],
          "algo-2",
        ),
      }),
      'File /opt/ml/input/config/resourceconfig.json: /hosts/3 "algo-4\\u0000x"',
    ],
    [
      "sagemaker-processing/processing-job",
      withFiles({ "/opt/ml/config/resourceconfig.json": rc(["algo-1", "algo-2\0x"], "algo-1") }),
      'File /opt/ml/config/resourceconfig.json: /hosts/1 "algo-2\\u0000x"',
    ],
    [
      "vertex-ai-training/multi-worker",
      withEnv({
        CLUSTER_SPEC: JSON.stringify({
          cluster: { workerpool0: ["chief:2222"], workerpool1: ["w0\0x:2222", "w1:2222"] },
          task: { type: "workerpool1", index: 1 },
        }),
      }),
      'Variable CLUSTER_SPEC: /cluster/workerpool1/0 "w0\\u0000x:2222"',
    ],
    [
      "kubernetes-training/tfjob",
      withEnv({
        TF_CONFIG: JSON.stringify({
          cluster: { chief: ["c.ml.svc:2222"], worker: ["w0\0x.ml.svc:2222", "w1.ml.svc:2222"] },
          task: { type: "worker", index: 1 },
        }),
      }),
      'Variable TF_CONFIG: /cluster/worker/0 "w0\\u0000x.ml.svc:2222"',
    ],
    [
      "slurm-training/task",
      withEnv({ SLURM_NODELIST: "gpu07\0x,gpu08" }),
      'Variable SLURM_NODELIST "gpu07\\u0000x,gpu08": host "gpu07\\u0000x"',
    ],
  ];
  for (const [id, change, where] of cases) {
    equal(inputError(id, change), `${where}: ${expected}`, id);
  }
});

// --- Azure ML ---

Deno.test("plan() rejects an Azure ML MPI local size of 0 with exit 78", () => {
  match(
    inputError("azure-ml-training/mpi-job", withEnv({ OMPI_COMM_WORLD_LOCAL_SIZE: "0" })),
    /^Variable OMPI_COMM_WORLD_LOCAL_SIZE "0": expected a positive integer$/,
  );
  const p = planFixture("azure-ml-training/mpi-job", withEnv({ OMPI_COMM_WORLD_LOCAL_SIZE: "1" }));
  equal(p.env["ML_NUM_NODES"], "2");
});

Deno.test("plan() rejects an Azure ML MPI world rank at or beyond the world size with exit 78", () => {
  // Open MPI numbers the processes 0 to OMPI_COMM_WORLD_SIZE - 1: rank 8 of 4 processes
  // on 2 nodes gave node rank 4 beside 2 nodes.
  const world = (rank: string) =>
    withEnv({
      OMPI_COMM_WORLD_SIZE: "4",
      OMPI_COMM_WORLD_LOCAL_SIZE: "2",
      OMPI_COMM_WORLD_RANK: rank,
    });
  for (const rank of ["4", "8"]) {
    equal(
      inputError("azure-ml-training/mpi-job", world(rank)),
      `Variable OMPI_COMM_WORLD_RANK "${rank}": expected a rank below OMPI_COMM_WORLD_SIZE (4)`,
    );
  }
  const p = planFixture(
    "azure-ml-training/mpi-job",
    (s) => world("3")(withEnv({ OMPI_COMM_WORLD_LOCAL_RANK: "1" })(s)),
  );
  deepEqual(["PET_NNODES", "PET_NODE_RANK"].map((n) => p.env[n]), ["2", "1"]);
});

Deno.test("plan() leaves an Azure ML MPI node rank and count unknown when Open MPI did not place the ranks by slot", () => {
  // What Open MPI 4.1.4's mpirun gave on two hosts of 2 slots each.
  const rankOf = (env: Record<string, string>) => {
    const p = planFixture("azure-ml-training/mpi-job", withEnv(env));
    return ["ML_NODE_RANK", "ML_NUM_NODES", "PET_NODE_RANK", "PET_NNODES"].map((n) => p.env[n]);
  };
  const four = {
    OMPI_COMM_WORLD_SIZE: "4",
    OMPI_COMM_WORLD_LOCAL_SIZE: "2",
    OMPI_MCA_orte_num_nodes: "2",
  };
  const none = [undefined, undefined, undefined, undefined];
  // -np 4 (by slot, the default, as --npernode 2): rank 2 is the second node's local rank 0.
  deepEqual(rankOf({ ...four, OMPI_COMM_WORLD_RANK: "2", OMPI_COMM_WORLD_LOCAL_RANK: "0" }), [
    "1",
    "2",
    "1",
    "2",
  ]);
  // -np 4 --map-by node: rank 1 is the second node's local rank 0, rank 2 the first's 1.
  deepEqual(rankOf({ ...four, OMPI_COMM_WORLD_RANK: "1", OMPI_COMM_WORLD_LOCAL_RANK: "0" }), none);
  deepEqual(rankOf({ ...four, OMPI_COMM_WORLD_RANK: "2", OMPI_COMM_WORLD_LOCAL_RANK: "1" }), none);
  // -np 3: the first node holds ranks 0 and 1 (local size 2), the second rank 2 alone.
  const three = { OMPI_COMM_WORLD_SIZE: "3", OMPI_MCA_orte_num_nodes: "2" };
  deepEqual(
    rankOf({
      ...three,
      OMPI_COMM_WORLD_RANK: "1",
      OMPI_COMM_WORLD_LOCAL_RANK: "1",
      OMPI_COMM_WORLD_LOCAL_SIZE: "2",
    }),
    none,
  );
  deepEqual(
    rankOf({
      ...three,
      OMPI_COMM_WORLD_RANK: "2",
      OMPI_COMM_WORLD_LOCAL_RANK: "0",
      OMPI_COMM_WORLD_LOCAL_SIZE: "1",
    }),
    none,
  );
});

Deno.test("plan() reports a master torchrun was given (PET_MASTER_*) as the effective one", () => {
  const p = planFixture(
    "sagemaker-training/multi-host",
    withEnv({ PET_MASTER_ADDR: "algo-4", PET_MASTER_PORT: "1234" }),
  );
  deepEqual(
    ["ML_MASTER_ADDR", "ML_MASTER_PORT", "MASTER_ADDR", "MASTER_PORT"].map((n) => p.env[n]),
    ["algo-4", "1234", "algo-4", "1234"],
  );
  // The user's own are fills under values already given: not listed.
  equal("PET_MASTER_ADDR" in p.env, false);
  // MASTER_ADDR, when given too, comes first (design section 6: an operator's MASTER_ADDR as is).
  const both = planFixture(
    "sagemaker-training/multi-host",
    withEnv({ MASTER_ADDR: "algo-2", PET_MASTER_ADDR: "algo-4" }),
  );
  equal(both.env["ML_MASTER_ADDR"], "algo-2");
});

Deno.test("plan() refuses a master port outside 1 to 65535 with exit 78", () => {
  for (const [name, value] of [["MASTER_PORT", "70000"], ["PET_MASTER_PORT", "0"]]) {
    equal(
      inputError("sagemaker-training/multi-host", withEnv({ [name!]: value! })),
      `Variable ${name} "${value}": expected a port from 1 to 65535`,
    );
  }
});

Deno.test("plan() refuses a host:port whose port is outside 1 to 65535 wherever a platform gives one", () => {
  const vertexSpec = (port: string) =>
    JSON.stringify({
      cluster: { workerpool0: [`chief:${port}`], workerpool1: ["w0:2222"] },
      task: { type: "workerpool1", index: 0 },
    });
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "vertex-ai-training/multi-worker",
      { CLUSTER_SPEC: vertexSpec("99999") },
      /^Variable CLUSTER_SPEC: \/cluster\/workerpool0\/0: expected "host:port" with a port from 1 to 65535/,
    ],
    [
      "vertex-ai-training/multi-worker",
      { CLUSTER_SPEC: vertexSpec("0") },
      /^Variable CLUSTER_SPEC: \/cluster\/workerpool0\/0: expected "host:port" with a port/,
    ],
    [
      "kubernetes-training/tfjob",
      {
        TF_CONFIG: JSON.stringify({
          cluster: { chief: ["c:70000"], worker: ["w0:2222", "w1:2222"] },
          task: { type: "worker", index: 1 },
        }),
      },
      /^Variable TF_CONFIG: \/cluster\/chief\/0: expected "host:port" with a port from 1 to 65535/,
    ],
    [
      "azure-ml-training/mpi-job",
      { AZ_BATCH_MASTER_NODE: "10.0.0.4:99999" },
      /^Variable AZ_BATCH_MASTER_NODE "10\.0\.0\.4:99999": expected "host:port" with a port from 1 to 65535$/,
    ],
    [
      "kubernetes-training/pytorchjob-worker",
      { PET_NNODES: "2:4", PET_RDZV_ENDPOINT: "bert-ft-worker-0:99999" },
      /^Variable PET_RDZV_ENDPOINT "bert-ft-worker-0:99999": expected "host:port" with a port/,
    ],
  ];
  for (const [fixture, env, want] of cases) {
    const message = inputError(fixture, withEnv(env));
    ok(want.test(message), `${fixture} ${JSON.stringify(env)}: ${message}`);
  }
});

Deno.test("plan() takes an Azure ML PyTorch job's node rank and master as given, and no node count", () => {
  const pytorch = {
    MASTER_ADDR: "10.0.0.4",
    MASTER_PORT: "6105",
    WORLD_SIZE: "8",
    RANK: "5",
    NODE_RANK: "1",
    LOCAL_RANK: "1",
    CHAMELEON_WORKLOAD: "training",
  };
  const p = planFixture("azure-ml-unknown/command-job", withEnv(pytorch));
  deepEqual(
    ["ML_NODE_RANK", "ML_IS_MASTER", "ML_MASTER_ADDR", "ML_MASTER_PORT"].map((n) => p.env[n]),
    ["1", "false", "10.0.0.4", "6105"],
  );
  // WORLD_SIZE counts processes, not nodes: no node count, host list or torch fills.
  for (const n of ["ML_NUM_NODES", "ML_HOSTS", "PET_NNODES"]) equal(n in p.env, false, n);
  match(String(p.notes["cluster"]), /PyTorch distribution/);
  // One process in all: a single node, counted.
  const one = planFixture(
    "azure-ml-unknown/command-job",
    withEnv({ ...pytorch, WORLD_SIZE: "1", RANK: "0", NODE_RANK: "0" }),
  );
  deepEqual([one.env["ML_NUM_NODES"], one.env["ML_IS_MASTER"]], ["1", "true"]);
});

Deno.test("plan() warns when a SageMaker job's distribution groups leave hosts out of design section 6's torch cluster", () => {
  const p = planFixture("sagemaker-training/heterogeneous");
  const training = JSON.parse(p.env["SM_TRAINING_ENV"]!);
  // The torch variables follow design section 6: every host, hosts[0] the master.
  equal(p.env["PET_NNODES"], "3");
  equal(p.env["MASTER_ADDR"], "algo-1");
  const w = p.warnings.filter((x) => x.startsWith("SageMaker instance groups"));
  equal(w.length, 1, JSON.stringify(p.warnings));
  ok(w[0]!.includes(`distributes over ${training.distribution_hosts.join(", ")}`), w[0]);
  ok(w[0]!.includes(`(master ${training.master_hostname})`), w[0]);
  // Every host distributing, in whatever order its group lists them: no warning.
  const groupWarnings = (p: Plan) =>
    p.warnings.filter((x) => x.startsWith("SageMaker instance groups"));
  deepEqual(groupWarnings(planFixture("sagemaker-training/multi-host")), []);
  const reordered = planFixture("sagemaker-training/multi-host", (s) => {
    const path = "/opt/ml/input/config/resourceconfig.json";
    const rc = JSON.parse(s.files[path]!);
    rc.instance_groups = [{
      instance_group_name: "homogeneousCluster",
      hosts: [...rc.hosts].reverse(),
    }];
    const hp = "/opt/ml/input/config/hyperparameters.json";
    const hps = { ...JSON.parse(s.files[hp] ?? "{}"), sagemaker_torch_distributed_enabled: "true" };
    return { ...s, files: { ...s.files, [path]: JSON.stringify(rc), [hp]: JSON.stringify(hps) } };
  });
  deepEqual(groupWarnings(reordered), []);
});

Deno.test("plan() gives Slurm and Azure ML jobs of workload unknown no cluster: design section 6 fills torch variables for training only", () => {
  const cluster = [
    "ML_HOSTS",
    "ML_NUM_NODES",
    "ML_NODE_RANK",
    "ML_MASTER_ADDR",
    "MASTER_ADDR",
    "PET_NNODES",
    "PET_NPROC_PER_NODE",
  ];
  for (const id of ["slurm-unknown/task", "azure-ml-unknown/mpi-job"]) {
    const p = planFixture(id);
    deepEqual(cluster.filter((n) => n in p.env), [], id);
    deepEqual(p.steps.filter((s) => s.step === "wait-for-hosts"), [], id);
    // The same job asked to train (`train`, --workload or the image config's default) gets them.
    const training = planFixture(id, withEnv({ CHAMELEON_WORKLOAD: "training" }));
    // (Azure ML MPI names no host list: ML_HOSTS stays unknown.)
    deepEqual(cluster.filter((n) => !(n in training.env) && n !== "ML_HOSTS"), [], id);
  }
});

Deno.test("plan() leaves a multi-node Slurm job's master unknown without a node list, unless MASTER_ADDR is given", () => {
  const noList = (env: Record<string, string>) => (s: Snapshot): Snapshot => {
    const { SLURM_NODELIST: _a, SLURM_JOB_NODELIST: _b, ...rest } = s.env;
    return { ...s, env: { ...rest, SLURM_NNODES: "2", SLURM_NODEID: "1", ...env } };
  };
  const p = planFixture("slurm-training/task", noList({}));
  for (const n of ["ML_MASTER_ADDR", "ML_HOSTS", "MASTER_ADDR", "PET_NNODES"]) {
    equal(n in p.env, false, n);
  }
  deepEqual(p.steps.filter((s) => s.step === "wait-for-hosts"), []);
  equal(p.env["ML_NUM_NODES"], "2");
  const given = planFixture("slurm-training/task", noList({ MASTER_ADDR: "gpu07" }));
  deepEqual([given.env["ML_MASTER_ADDR"], given.env["PET_NODE_RANK"]], ["gpu07", "1"]);
});

Deno.test("plan() gives the batch script of a multi-node Slurm job no node rank: srun's tasks would inherit rank 0", () => {
  // tests/fixtures/slurm-training/batch-step.json is sbatch's batch step as Slurm 22.05 starts
  // it (no SLURM_STEP_ID), on one node; here its job spans two.
  const twoNodes = {
    SLURM_NNODES: "2",
    SLURM_JOB_NUM_NODES: "2",
    SLURM_NODELIST: "cn[01-02]",
    SLURM_JOB_NODELIST: "cn[01-02]",
  };
  const batch = planFixture("slurm-training/batch-step", withEnv(twoNodes));
  for (const n of ["ML_NODE_RANK", "ML_IS_MASTER", "MASTER_ADDR", "PET_NODE_RANK", "PET_NNODES"]) {
    equal(n in batch.env, false, n);
  }
  deepEqual(
    [batch.env["ML_NUM_NODES"], batch.env["ML_HOSTS"], batch.env["ML_MASTER_ADDR"]],
    ["2", '["cn01","cn02"]', "cn01"],
  );
  // A task of a step (srun) on the same node has its rank, and the torch variables.
  const task = planFixture(
    "slurm-training/batch-step",
    withEnv({ ...twoNodes, SLURM_STEP_ID: "0", SLURM_STEPID: "0" }),
  );
  deepEqual([task.env["ML_NODE_RANK"], task.env["PET_NODE_RANK"]], ["0", "0"]);
  // salloc's shell (tests/fixtures/slurm-unknown/salloc-shell.json, on the login host) neither.
  const shell = planFixture(
    "slurm-unknown/salloc-shell",
    withEnv({ ...twoNodes, CHAMELEON_WORKLOAD: "training" }),
  );
  deepEqual([shell.env["ML_NODE_RANK"], shell.env["PET_NODE_RANK"]], [undefined, undefined]);
  equal(shell.env["ML_MASTER_ADDR"], "cn01");
  // A job of one node: the batch script runs on that node, rank 0 as for its tasks.
  const one = planFixture("slurm-training/batch-step");
  deepEqual([one.env["ML_NODE_RANK"], one.env["ML_NUM_NODES"]], ["0", "1"]);
});

Deno.test("plan() knows the batch script of `sbatch -N2` without -n as the Slurm job it is", () => {
  // tests/fixtures/slurm-training/batch-two-nodes.json: Slurm sets no SLURM_NTASKS (nor
  // SLURM_NPROCS) in a batch script whose job asked for no task count.
  const p = planFixture("slurm-training/batch-two-nodes");
  equal(p.env["CHAMELEON_CONTEXT"], "slurm-training");
  deepEqual(
    [p.env["ML_NUM_NODES"], p.env["ML_HOSTS"], p.env["ML_MASTER_ADDR"], p.env["ML_MASTER_PORT"]],
    ["2", '["cn01","cn02"]', "cn01", "15016"],
  );
  // Outside any step: no node rank, which the tasks it starts with srun would inherit.
  for (const n of ["ML_NODE_RANK", "ML_IS_MASTER", "PET_NODE_RANK", "MASTER_ADDR"]) {
    equal(n in p.env, false, n);
  }
  // --explain names the variables the cluster came from: the job's, and no SLURM_NODEID.
  equal(p.notes["cluster"], "SLURM_JOB_NUM_NODES, SLURM_JOB_NODELIST, SLURM_JOB_ID (port)");
});

Deno.test("plan() takes the ranks of a process mpirun started in a Slurm job from Open MPI, not from the daemons' srun step", () => {
  // tests/fixtures/slurm-training/mpirun-rank.json: rank 3 of `mpirun -np 4` in the batch script
  // of `sbatch -N2 --ntasks-per-node=2`, on cn02, where Open MPI 4.1 started its daemon with an
  // srun step of one node (SLURM_NODEID=0, SLURM_NNODES=1, SLURM_NODELIST=cn02).
  const p = planFixture("slurm-training/mpirun-rank");
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "MASTER_ADDR", "MASTER_PORT", "PET_NNODES"]
      .map((n) => p.env[n]),
    ["2", "1", "false", "cn01", "15017", "2"],
  );
  equal(p.env["PET_NODE_RANK"], "1");
  // Rank 1, on cn01 beside mpirun itself: the batch script's variables (no step).
  const first = planFixture(
    "slurm-training/mpirun-rank",
    withEnv({
      SLURMD_NODENAME: "cn01",
      SLURM_NODELIST: "cn[01-02]",
      SLURM_NNODES: "2",
      SLURM_JOB_NUM_NODES: "2",
      SLURM_STEP_ID: "",
      SLURM_STEPID: "",
      OMPI_COMM_WORLD_RANK: "1",
      OMPI_COMM_WORLD_LOCAL_RANK: "1",
    }),
  );
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "MASTER_ADDR"].map((n) => first.env[n]),
    ["2", "0", "true", "cn01"],
  );
  // Ranks not placed by slot (`--map-by node`: rank 3 is local rank 1 of 2, on node 1, but
  // rank 2 is local rank 1 too): no node rank or count, as on Azure ML; the master stays.
  const round = planFixture(
    "slurm-training/mpirun-rank",
    withEnv({ OMPI_COMM_WORLD_RANK: "2", OMPI_COMM_WORLD_LOCAL_RANK: "1" }),
  );
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_MASTER_ADDR", "PET_NNODES"].map((n) => round.env[n]),
    [undefined, undefined, "cn01", undefined],
  );
});

Deno.test("plan() gives a rank Open MPI started across nodes no lone single-node cluster where the platform names none", () => {
  // tests/fixtures/local-training/mpijob-worker.json: rank 3 of 4 (2 a node) on an MPI Operator
  // worker, started by orted over ssh (no platform variable).
  const p = planFixture("local-training/mpijob-worker");
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "ML_HOSTS", "ML_MASTER_ADDR", "PET_NNODES"]
      .map((n) => p.env[n]),
    ["2", "1", "false", undefined, undefined, undefined],
  );
  // The master given: the torch variables too.
  const given = planFixture(
    "local-training/mpijob-worker",
    withEnv({ MASTER_ADDR: "pi-worker-0" }),
  );
  deepEqual(
    ["ML_MASTER_ADDR", "PET_MASTER_ADDR", "PET_NNODES", "PET_NODE_RANK"].map((n) => given.env[n]),
    ["pi-worker-0", "pi-worker-0", "2", "1"],
  );
  // Every rank on this node: one node, as before.
  const one = planFixture(
    "local-training/mpijob-worker",
    withEnv({ OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "1", OMPI_MCA_orte_num_nodes: "1" }),
  );
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "ML_HOSTS"].map((n) => one.env[n]),
    ["1", "0", "true", '["pi-worker-1"]'],
  );
});

Deno.test("plan() reads a pod's torchrun worker's node rank and count from GROUP_*, not its process RANK and WORLD_SIZE", () => {
  // tests/fixtures/kubernetes-training/torchrun-worker.json: rank 3 of torchrun's 2 nodes of 2
  // (`--node_rank 1 --master_addr trainer-0.trainer`) in a StatefulSet's pod; torchrun's
  // MASTER_ADDR and RANK detect it as a PyTorchJob.
  const vars = [
    "ML_NUM_NODES",
    "ML_NODE_RANK",
    "ML_IS_MASTER",
    "PET_NNODES",
    "PET_NODE_RANK",
    "PET_NPROC_PER_NODE",
  ];
  const p = planFixture("kubernetes-training/torchrun-worker");
  deepEqual(vars.map((n) => p.env[n]), ["2", "1", "false", "2", "1", "2"]);
  // Local rank 1 on the first node: node 0, the master.
  const first = planFixture(
    "kubernetes-training/torchrun-worker",
    withEnv({ RANK: "1", GROUP_RANK: "0", ROLE_RANK: "1" }),
  );
  deepEqual(vars.map((n) => first.env[n]), ["2", "0", "true", "2", "0", "2"]);
  // An elastic PyTorchJob's worker: the rank its agent got at rendezvous, not RANK.
  const elastic = planFixture(
    "kubernetes-training/torchrun-worker",
    withEnv({ PET_NNODES: "1:2", PET_RDZV_BACKEND: "c10d" }),
  );
  equal(elastic.env["ML_NODE_RANK"], "1");
  // The operator's PET_* come first, as before.
  const operator = planFixture(
    "kubernetes-training/torchrun-worker",
    withEnv({ PET_NNODES: "2", PET_NODE_RANK: "1", PET_NPROC_PER_NODE: "2" }),
  );
  deepEqual(["ML_NUM_NODES", "ML_NODE_RANK"].map((n) => operator.env[n]), ["2", "1"]);
});

Deno.test("plan() reads a pod's DeepSpeed launcher process's node rank and count from CROSS_*, not its process RANK and WORLD_SIZE", () => {
  // `deepspeed --num_gpus 4 --no_python entrypoint train ...` on one node, in a pod: the
  // launcher's MASTER_ADDR and RANK detect a PyTorchJob; rank 3 of 4 processes is on node 0 of 1.
  const p = planFixture("kubernetes-training/torchrun-worker", (s) => {
    const env = Object.fromEntries(
      Object.entries(s.env).filter(([n]) =>
        !/^(TORCHELASTIC_|GROUP_|ROLE_|LOCAL_WORLD_SIZE)/.test(n)
      ),
    );
    return {
      ...s,
      env: {
        ...env,
        MASTER_ADDR: "127.0.0.1",
        CROSS_RANK: "0",
        CROSS_SIZE: "1",
        LOCAL_SIZE: "4",
        LOCAL_RANK: "3",
        RANK: "3",
        WORLD_SIZE: "4",
      },
    };
  });
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "PET_NNODES"].map((n) => p.env[n]),
    ["1", "0", "true", undefined],
  );
});

/** The cluster variables of a process a launcher started, in the launcher tests below. */
const LAUNCHED = [
  "ML_NUM_NODES",
  "ML_NODE_RANK",
  "ML_IS_MASTER",
  "ML_HOSTS",
  "ML_MASTER_ADDR",
  "PET_NNODES",
  "PET_NODE_RANK",
  "PET_NPROC_PER_NODE",
];
/** What the launcher set itself, which the plan leaves as it is. */
const LAUNCHER_SET = ["MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK"];

Deno.test("plan() takes the node rank and count DeepSpeed's launcher gave a process on a node other than the first", () => {
  // tests/fixtures/local-training/deepspeed-worker.json: rank 3 of `deepspeed --hostfile ...
  // --no_python entrypoint train python train.py` on two hosts of 2 slots, as its pdsh runner
  // starts deepspeed.launcher.launch on the second (`--node_rank=%n`), which gives CROSS_RANK,
  // CROSS_SIZE and LOCAL_SIZE besides MASTER_ADDR (the first host's address), RANK and WORLD_SIZE.
  const p = planFixture("local-training/deepspeed-worker");
  deepEqual(
    LAUNCHED.map((n) => p.env[n]),
    ["2", "1", "false", undefined, "10.244.1.7", "2", "1", "2"],
  );
  for (const n of LAUNCHER_SET) {
    equal(n in p.env, false, n);
  }
  match(
    inputError("local-training/deepspeed-worker", withEnv({ CROSS_RANK: "2" })),
    /^Variable CROSS_RANK "2": expected a node rank below CROSS_SIZE \(2\)$/,
  );
});

Deno.test("plan() takes the node rank and count torchrun gave a worker on a node other than the first", () => {
  // tests/fixtures/local-training/torchrun-worker.json: rank 3 of `torchrun --nnodes 2
  // --node_rank 1 --nproc_per_node 2 --master_addr trainer-0 --no-python entrypoint train ...`
  // (torch 2.13), on the second node.
  const p = planFixture("local-training/torchrun-worker");
  deepEqual(
    LAUNCHED.map((n) => p.env[n]),
    ["2", "1", "false", undefined, "trainer-0", "2", "1", "2"],
  );
  // What torchrun set is kept.
  for (const n of LAUNCHER_SET) {
    equal(n in p.env, false, n);
  }
  // One node: as before.
  const one = planFixture(
    "local-training/torchrun-worker",
    withEnv({ GROUP_RANK: "0", GROUP_WORLD_SIZE: "1", RANK: "1", WORLD_SIZE: "2" }),
  );
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "ML_HOSTS"].map((n) => one.env[n]),
    ["1", "0", "true", '["trainer-1"]'],
  );
  // torchrun started by mpirun (one a node): torchrun, the closer, decides.
  const underMpi = planFixture(
    "local-training/torchrun-worker",
    withEnv({
      OMPI_COMM_WORLD_SIZE: "2",
      OMPI_COMM_WORLD_RANK: "0",
      OMPI_COMM_WORLD_LOCAL_SIZE: "1",
      OMPI_COMM_WORLD_LOCAL_RANK: "0",
    }),
  );
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK"].map((n) => underMpi.env[n]),
    ["2", "1"],
  );
  match(
    inputError("local-training/torchrun-worker", withEnv({ GROUP_RANK: "2" })),
    /^Variable GROUP_RANK "2": expected a node rank below GROUP_WORLD_SIZE \(2\)$/,
  );
});

Deno.test("plan() takes a Slurm torchrun worker's node rank and count from torchrun where a c10d rendezvous ordered the nodes otherwise", () => {
  // `srun torchrun --nnodes 2 --nproc_per_node 4 --rdzv_backend c10d ... --no-python entrypoint
  // train ...` on gpu[07-08]: the rendezvous gave gpu08 (SLURM_NODEID 1) group rank 0, and
  // torchrun's MASTER_ADDR is gpu08.
  const worker = (groupRank: string) =>
    withEnv({
      TORCHELASTIC_RUN_ID: "481516",
      GROUP_RANK: groupRank,
      GROUP_WORLD_SIZE: "2",
      LOCAL_WORLD_SIZE: "4",
      LOCAL_RANK: "1",
      RANK: String(Number(groupRank) * 4 + 1),
      WORLD_SIZE: "8",
      MASTER_ADDR: groupRank === "0" ? "gpu08" : "gpu07",
      MASTER_PORT: "29400",
    });
  const vars = [
    "ML_NODE_RANK",
    "ML_IS_MASTER",
    "ML_NUM_NODES",
    "ML_HOSTS",
    "ML_MASTER_ADDR",
    "PET_NODE_RANK",
    "PET_NPROC_PER_NODE",
  ];
  const p = planFixture("slurm-training/task", worker("0"));
  deepEqual(vars.map((n) => p.env[n]), ["0", "true", "2", undefined, "gpu08", "0", "4"]);
  deepEqual(p.steps.filter((s) => s.step === "wait-for-hosts"), []);
  // The rendezvous kept Slurm's order (or a static one, --node_rank $SLURM_NODEID): as before.
  const same = planFixture("slurm-training/task", worker("1"));
  deepEqual(
    vars.map((n) => same.env[n]),
    ["1", "false", "2", '["gpu07","gpu08"]', "gpu07", "1", "4"],
  );
});

Deno.test("plan() gives a process horovodrun's Gloo launcher started across nodes no lone single-node cluster", () => {
  // tests/fixtures/local-training/horovod-worker.json: rank 2 of `horovodrun --gloo -np 4 -H
  // hvd-worker-0:2,hvd-worker-1:2 entrypoint train ...`, local rank 0 on the second host, as
  // horovod/runner/gloo_run.py starts it over ssh with HOROVOD_* from get_host_assignments.
  const vars = ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "ML_HOSTS", "ML_MASTER_ADDR"];
  const p = planFixture("local-training/horovod-worker");
  deepEqual(vars.map((n) => p.env[n]), ["2", "1", "false", undefined, undefined]);
  // Local rank 1: its cross rank counts only the hosts with two slots or more.
  const second = planFixture(
    "local-training/horovod-worker",
    withEnv({ HOROVOD_RANK: "3", HOROVOD_LOCAL_RANK: "1" }),
  );
  deepEqual(clusterVars(second), []);
  // Rank 1, local rank 1: the first host's.
  const first = planFixture(
    "local-training/horovod-worker",
    withEnv({ HOROVOD_RANK: "1", HOROVOD_LOCAL_RANK: "1", HOROVOD_CROSS_RANK: "0" }),
  );
  deepEqual(vars.map((n) => first.env[n]), [undefined, "0", "true", undefined, undefined]);
  // Every process on this host: one node, as before.
  const one = planFixture(
    "local-training/horovod-worker",
    withEnv({
      HOROVOD_SIZE: "2",
      HOROVOD_RANK: "0",
      HOROVOD_CROSS_RANK: "0",
      HOROVOD_CROSS_SIZE: "1",
    }),
  );
  deepEqual(vars.slice(0, 4).map((n) => one.env[n]), ["1", "0", "true", '["hvd-worker-1"]']);
  match(
    inputError("local-training/horovod-worker", withEnv({ HOROVOD_CROSS_RANK: "2" })),
    /^Variable HOROVOD_CROSS_RANK "2": expected a rank below HOROVOD_CROSS_SIZE \(2\)$/,
  );
});

Deno.test("plan() gives a rank MPICH's Hydra started across nodes no lone single-node cluster", () => {
  // tests/fixtures/local-training/hydra-rank.json: rank 2 of `mpiexec -n 4 -ppn 2 -hosts
  // mpich-worker-0,mpich-worker-1` (MPICH 4.0.2), on the second host.
  const p = planFixture("local-training/hydra-rank");
  deepEqual(clusterVars(p), []);
  equal(p.env["ML_CURRENT_HOST"], "mpich-worker-1");
  // Hydra's default deals ranks round (`-hosts a,b`): rank 1 is on the second host with local
  // rank 0, rank 3 there with local rank 1. Neither's node is known.
  for (const [rank, local] of [["1", "0"], ["3", "1"]]) {
    const q = planFixture(
      "local-training/hydra-rank",
      withEnv({ PMI_RANK: rank!, MPI_LOCALRANKID: local! }),
    );
    deepEqual(clusterVars(q), [], `rank ${rank}`);
  }
  // A rank that every lower rank shares its node with is on node 0, the first host.
  const first = planFixture(
    "local-training/hydra-rank",
    withEnv({ PMI_RANK: "1", MPI_LOCALRANKID: "1", MASTER_ADDR: "mpich-worker-0" }),
  );
  deepEqual(
    ["ML_NODE_RANK", "ML_IS_MASTER", "ML_NUM_NODES", "ML_MASTER_ADDR", "PET_NNODES"]
      .map((n) => first.env[n]),
    ["0", "true", undefined, "mpich-worker-0", undefined],
  );
  // `-pmi-port`: PMI_ID, no PMI_RANK or PMI_SIZE; the world size is not known.
  const port = planFixture("local-training/hydra-rank", (s) => {
    const { PMI_RANK: _, PMI_SIZE: __, PMI_FD: ___, ...env } = s.env;
    return { ...s, env: { ...env, PMI_ID: "2", PMI_PORT: "mpich-worker-1:46129" } };
  });
  deepEqual(clusterVars(port), []);
  // Every rank on this node: one node, as before.
  const one = planFixture(
    "local-training/hydra-rank",
    withEnv({ PMI_SIZE: "2", PMI_RANK: "1", MPI_LOCALRANKID: "1" }),
  );
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER"].map((n) => one.env[n]),
    ["1", "0", "true"],
  );
  match(
    inputError("local-training/hydra-rank", withEnv({ PMI_RANK: "4" })),
    /^Variable PMI_RANK "4": expected a rank below PMI_SIZE \(4\)$/,
  );
});

Deno.test("plan() gives salloc's shell in Slurm's interactive step no node rank, as the batch script", () => {
  // tests/fixtures/slurm-unknown/interactive-step.json: `use_interactive_step` starts salloc's
  // shell in step 4294967290 (0xfffffffa); here its job spans two nodes and is asked to train.
  const twoNodes = withEnv({
    CHAMELEON_WORKLOAD: "training",
    SLURM_NNODES: "2",
    SLURM_JOB_NUM_NODES: "2",
    SLURM_NODELIST: "gpu[01-02]",
    SLURM_JOB_NODELIST: "gpu[01-02]",
  });
  const shell = planFixture("slurm-unknown/interactive-step", twoNodes);
  for (const n of ["ML_NODE_RANK", "ML_IS_MASTER", "MASTER_ADDR", "PET_NODE_RANK", "PET_NNODES"]) {
    equal(n in shell.env, false, n);
  }
  deepEqual([shell.env["ML_NUM_NODES"], shell.env["ML_MASTER_ADDR"]], ["2", "gpu01"]);
  // A step srun numbers (the highest one included) is a task's: its node rank stands.
  for (const id of ["0", "4294967280"]) {
    const task = planFixture(
      "slurm-unknown/interactive-step",
      (s) => withEnv({ SLURM_STEP_ID: id, SLURM_STEPID: id })(twoNodes(s)),
    );
    deepEqual([task.env["ML_NODE_RANK"], task.env["PET_NODE_RANK"]], ["0", "0"], id);
  }
});

Deno.test("plan() gives salloc's shell in Slurm's interactive step the job's hosts and node count, not its step's one node", () => {
  // The interactive step is a step of one task on the first node: srun sets SLURM_NODELIST to
  // that node (as in tests/fixtures/slurm-training/mpirun-rank.json, a one-node step of a
  // two-node job), and SLURM_NNODES to 1 unless --preserve-env kept the job's 2.
  for (const nnodes of ["1", "2"]) {
    const shell = planFixture(
      "slurm-unknown/interactive-step",
      withEnv({
        CHAMELEON_WORKLOAD: "training",
        SLURM_NNODES: nnodes,
        SLURM_JOB_NUM_NODES: "2",
        SLURM_NODELIST: "gpu01",
        SLURM_JOB_NODELIST: "gpu[01-02]",
      }),
    );
    deepEqual(
      ["ML_HOSTS", "ML_NUM_NODES", "ML_MASTER_ADDR", "ML_NODE_RANK"].map((n) => shell.env[n]),
      ['["gpu01","gpu02"]', "2", "gpu01", undefined],
      nnodes,
    );
  }
});

Deno.test("plan() gives a Slurm job the port of Slurm's convention: 15000 plus the last four digits of its id", () => {
  const port = (env: Record<string, string>) => {
    const p = planFixture("slurm-training/task", withEnv(env));
    return [p.env["ML_MASTER_PORT"], p.env["MASTER_PORT"], p.env["PET_MASTER_PORT"]];
  };
  // The fixture's job 481516: what Lightning's SLURMEnvironment picks itself.
  deepEqual(port({}), ["16516", "16516", "16516"]);
  deepEqual(port({ SLURM_JOB_ID: "42" }), ["15042", "15042", "15042"]);
  deepEqual(port({ SLURM_JOB_ID: "7000009" }), ["15009", "15009", "15009"]);
  // A port the job gives wins, and is reported as it is.
  deepEqual(port({ MASTER_PORT: "23456" }), ["23456", undefined, "23456"]);
  // An id that does not end in digits names no port: torch's default.
  deepEqual(port({ SLURM_JOB_ID: "481516_a" }), ["29500", "29500", "29500"]);
});

// --- Rendezvous details (design section 6) ---

/** A SageMaker multi-host training snapshot with its resourceconfig.json replaced. */
const withResourceConfig = (rc: Record<string, unknown>) =>
  withFiles({ "/opt/ml/input/config/resourceconfig.json": JSON.stringify(rc) });
/** The host lists of a plan's wait-for-hosts steps. */
const waitedHosts = (p: Plan) =>
  p.steps.flatMap((s) => s.step === "wait-for-hosts" ? [[...s.hosts]] : []);

Deno.test("plan() reports MASTER_PORT as the master port when PET_MASTER_PORT is given too", () => {
  const p = planFixture(
    "sagemaker-training/multi-host",
    withEnv({ MASTER_PORT: "1111", PET_MASTER_PORT: "2222" }),
  );
  equal(p.env["ML_MASTER_PORT"], "1111");
});

Deno.test("plan() reports a given PET_MASTER_PORT before the port Vertex's CLUSTER_SPEC names", () => {
  const p = planFixture("vertex-ai-training/multi-worker", withEnv({ PET_MASTER_PORT: "1234" }));
  deepEqual(["ML_MASTER_PORT", "MASTER_PORT"].map((n) => p.env[n]), ["1234", "1234"]);
});

Deno.test("plan() waits for every host of Vertex's worker pools 0 and 1", () => {
  const p = planFixture("vertex-ai-training/multi-worker");
  deepEqual(waitedHosts(p), [[
    "cmle-training-workerpool0-ab12cd34ef-0",
    "cmle-training-workerpool1-ab12cd34ef-0",
    "cmle-training-workerpool1-ab12cd34ef-1",
  ]]);
});

Deno.test("plan() ranks a SageMaker host by its place in hosts as written, the first listed being the master", () => {
  const p = planFixture(
    "sagemaker-training/multi-host",
    (s) =>
      withResourceConfig({
        current_host: "algo-1",
        hosts: ["algo-2", "algo-1"],
        network_interface_name: "eth0",
      })({ ...s, hostname: "algo-1" }),
  );
  deepEqual(
    ["ML_NODE_RANK", "ML_IS_MASTER", "ML_MASTER_ADDR", "PET_NODE_RANK", "MASTER_ADDR"].map((n) =>
      p.env[n]
    ),
    ["1", "false", "algo-2", "1", "algo-2"],
  );
});

Deno.test("plan() makes an Azure ML MPI node rank the world rank divided by the processes per node", () => {
  const p = planFixture(
    "azure-ml-training/mpi-job",
    withEnv({
      OMPI_COMM_WORLD_SIZE: "8",
      OMPI_COMM_WORLD_LOCAL_SIZE: "4",
      OMPI_COMM_WORLD_RANK: "5",
      OMPI_COMM_WORLD_LOCAL_RANK: "1",
    }),
  );
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "PET_NODE_RANK"].map((n) => p.env[n]),
    ["2", "1", "false", "1"],
  );
});

Deno.test("plan() waits for no host given as an IPv4 address, only for the named ones", () => {
  const ips = planFixture(
    "sagemaker-training/multi-host",
    withResourceConfig({ current_host: "10.0.0.2", hosts: ["10.0.0.1", "10.0.0.2"] }),
  );
  equal(ips.env["PET_NNODES"], "2");
  deepEqual(waitedHosts(ips), []);
  const mixed = planFixture(
    "sagemaker-training/multi-host",
    withResourceConfig({ current_host: "algo-2", hosts: ["10.0.0.1", "algo-2"] }),
  );
  deepEqual(waitedHosts(mixed), [["algo-2"]]);
});

Deno.test("plan() starts one torch process per node on a multi-node job without GPUs", () => {
  const cpuOnly = planFixture("sagemaker-training/multi-host", (s) => ({
    ...s,
    files: Object.fromEntries(
      Object.entries(s.files).filter(([path]) => !path.startsWith("/dev/nvidia")),
    ),
  }));
  equal(cpuOnly.env["PET_NNODES"], "4");
  equal(cpuOnly.env["PET_NPROC_PER_NODE"], "1");
  // With GPUs: one process per GPU.
  equal(planFixture("sagemaker-training/multi-host").env["PET_NPROC_PER_NODE"], "4");
  // An Azure ML MPI job on CPU nodes likewise.
  equal(planFixture("azure-ml-training/mpi-job").env["PET_NPROC_PER_NODE"], "1");
});

Deno.test("plan() starts one torch process per GPU the program works with: a given ML_NUM_GPUS too", () => {
  const given = (n: string) =>
    planFixture("sagemaker-training/multi-host", withEnv({ ML_NUM_GPUS: n })).env[
      "PET_NPROC_PER_NODE"
    ];
  equal(given("2"), "2");
  equal(given("0"), "1"); // no GPU: one process, as on a CPU node
  equal(given("two"), "4"); // no count: the devices
});

Deno.test("plan() waits for SageMaker hosts unless SM_STUDIO_LOCAL_MODE is true, in any case", () => {
  const hostsWaited = (value: string) =>
    waitedHosts(
      planFixture("sagemaker-training/multi-host", withEnv({ SM_STUDIO_LOCAL_MODE: value })),
    );
  deepEqual(hostsWaited("false"), [["algo-1", "algo-2", "algo-3", "algo-4"]]);
  deepEqual(hostsWaited("False"), [["algo-1", "algo-2", "algo-3", "algo-4"]]);
  deepEqual(hostsWaited(""), [["algo-1", "algo-2", "algo-3", "algo-4"]]);
  deepEqual(hostsWaited("1"), [["algo-1", "algo-2", "algo-3", "algo-4"]]);
  deepEqual(hostsWaited("true"), []);
  // The SageMaker SDK's Studio local mode writes "True" into each container's environment.
  deepEqual(hostsWaited("True"), []);
  deepEqual(hostsWaited("TRUE"), []);
});

Deno.test("distributed: an IPv6 endpoint in brackets is the master, and its address needs no wait", () => {
  const elastic = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ PET_NNODES: "2:4", PET_RDZV_BACKEND: "c10d", PET_RDZV_ENDPOINT: "[fd00::1]:29400" }),
  );
  deepEqual([elastic.env["ML_MASTER_ADDR"], elastic.env["ML_MASTER_PORT"]], ["fd00::1", "29400"]);
  const tf = {
    cluster: { chief: ["[fd00::1]:2222"], worker: ["[fd00::2]:2222", "w-1.svc:2222"] },
    task: { type: "worker", index: 0 },
  };
  const p = planFixture("kubernetes-training/tfjob", withEnv({ TF_CONFIG: JSON.stringify(tf) }));
  deepEqual([p.env["ML_MASTER_ADDR"], p.env["ML_MASTER_PORT"]], ["fd00::1", "2222"]);
  deepEqual(p.steps.flatMap((s) => s.step === "wait-for-hosts" ? s.hosts : []), ["w-1.svc"]);
});

// --- PyTorchJob shapes the operator writes without a full static cluster ---

/** The PyTorchJob worker fixture with `drop` removed from its environment and `add` set. */
const pytorchWorker = (add: Record<string, string>, drop: readonly string[]) =>
  planFixture("kubernetes-training/pytorchjob-worker", (s) => {
    const env = { ...s.env, ...add };
    for (const name of drop) delete env[name];
    return { ...s, env };
  });

Deno.test("plan() takes a PyTorchJob with a Master and an elastic policy without min and max as elastic", () => {
  // training-operator's elastic.go writes the worker count as PET_NNODES (2) while
  // RANK counts the master too (worker-1 is rank 2): the rendezvous decides.
  const p = pytorchWorker({
    PET_NNODES: "2",
    PET_RDZV_ENDPOINT: "bert-ft-worker-0:23456",
    PET_RDZV_BACKEND: "c10d",
  }, ["PET_MASTER_ADDR", "PET_MASTER_PORT"]);
  equal(p.env["ML_NODE_RANK"], "2");
  equal(p.env["ML_MASTER_ADDR"], "bert-ft-master-0");
  equal("ML_NUM_NODES" in p.env, false);
  equal("ML_HOSTS" in p.env, false);
  equal(p.steps.some((s) => s.step === "wait-for-hosts"), false);
  match(String(p.notes["cluster"]), /elastic/);
});

Deno.test("plan() reports an elastic PyTorchJob's own MASTER_PORT beside its MASTER_ADDR, not the rendezvous port", () => {
  const p = pytorchWorker({
    PET_NNODES: "2",
    PET_RDZV_ENDPOINT: "bert-ft-worker-0:29400",
    PET_RDZV_BACKEND: "c10d",
  }, ["PET_MASTER_ADDR", "PET_MASTER_PORT"]);
  deepEqual([p.env["ML_MASTER_ADDR"], p.env["ML_MASTER_PORT"]], ["bert-ft-master-0", "23456"]);
});

Deno.test("plan() reports an elastic PyTorchJob's PET_NODE_RANK and PET_MASTER_ADDR given without RANK or MASTER_ADDR", () => {
  const p = pytorchWorker(
    { PET_NNODES: "1:3", PET_RDZV_BACKEND: "c10d" },
    ["RANK", "MASTER_ADDR", "MASTER_PORT"],
  );
  match(String(p.notes["cluster"]), /elastic/);
  deepEqual(
    ["ML_NODE_RANK", "ML_MASTER_ADDR", "ML_MASTER_PORT"].map((n) => p.env[n]),
    ["2", "bert-ft-master-0", "23456"],
  );
});

Deno.test("plan() claims neither rank 0 nor the master for a PET_NNODES pod given no node rank", () => {
  // A PyTorchJob of workers only, not elastic: the operator sets PET_NNODES and no rank or master.
  const noRank = [
    "MASTER_ADDR",
    "MASTER_PORT",
    "RANK",
    "PET_NODE_RANK",
    "PET_MASTER_ADDR",
    "PET_MASTER_PORT",
  ];
  const p = pytorchWorker({}, noRank);
  deepEqual(clusterVars(p), ["ML_NUM_NODES"]);
  equal(p.env["ML_NUM_NODES"], "3");
  equal("ML_MASTER_ADDR" in p.env, false);
  equal(p.env["ML_CURRENT_HOST"], "bert-ft-worker-1");
  equal(p.steps.some((s) => s.step === "wait-for-hosts"), false);
  // One node needs no rank to be the master.
  const one = pytorchWorker({ PET_NNODES: "1", WORLD_SIZE: "1" }, noRank);
  equal(one.env["ML_NODE_RANK"], "0");
  equal(one.env["ML_IS_MASTER"], "true");
});

// --- Gaps found by mutation testing ---

Deno.test("expandNodelist() ends an item at a blank also when it is only a bracket group", () => {
  deepEqual(expandNodelist("gpu07 [08-09]"), ["gpu07", "08", "09"]);
  deepEqual(expandNodelist("[1-2] cpu1"), ["1", "2", "cpu1"]);
});

Deno.test("expandNodelist() refuses an empty item after a blank-ended one", () => {
  const e = caught(() => expandNodelist("gpu07 ,,gpu08"), "an error");
  if (!(e instanceof InputError)) throw new Error(`expected an InputError, got ${e}`);
  match(e.message, /^Variable SLURM_NODELIST "gpu07 ,,gpu08": expected host names like/);
});

/** The cluster variables a single node gets, and their values on host box-1. */
const SINGLE_NODE: [string, string][] = [
  ["ML_HOSTS", '["box-1"]'],
  ["ML_CURRENT_HOST", "box-1"],
  ["ML_NUM_NODES", "1"],
  ["ML_NODE_RANK", "0"],
  ["ML_IS_MASTER", "true"],
  ["ML_MASTER_ADDR", "box-1"],
];
const singleNodeOf = (env: Readonly<Record<string, string>>) =>
  SINGLE_NODE.map(([name]) => [name, env[name]]);

Deno.test("plan() fills a single-node training job's cluster with this host as the master", () => {
  const p = planFixture("local-training/argv-train", (s) => ({ ...s, hostname: "box-1" }));
  deepEqual(singleNodeOf(p.env), SINGLE_NODE);
  equal(p.env["ML_MASTER_PORT"], "29500");
  // One node: no torch rendezvous variables.
  equal("MASTER_ADDR" in p.env, false);
  equal("PET_NNODES" in p.env, false);
  // A given MASTER_ADDR is reported as it is.
  const given = planFixture("local-training/argv-train", withEnv({ MASTER_ADDR: "10.0.0.9" }));
  equal(given.env["ML_MASTER_ADDR"], "10.0.0.9");
});

Deno.test("plan() fills a single node's cluster where the platform describes none: SageMaker without resourceconfig.json, Vertex without CLUSTER_SPEC, a lone Kubernetes pod", () => {
  const without = (name: string) => (s: Snapshot): Snapshot => {
    const { [name]: _e, ...env } = s.env;
    const { [name]: _f, ...files } = s.files;
    return { ...s, env, files };
  };
  const cases: [string, (s: Snapshot) => Snapshot][] = [
    ["sagemaker-training/single-host", without("/opt/ml/input/config/resourceconfig.json")],
    ["vertex-ai-training/custom-job", without("CLUSTER_SPEC")],
    ["kubernetes-unknown/pod", withEnv({ CHAMELEON_WORKLOAD: "training" })],
  ];
  for (const [id, change] of cases) {
    const p = planFixture(id, (s) => ({ ...change(s), hostname: "box-1" }));
    deepEqual(singleNodeOf(p.env), SINGLE_NODE, id);
  }
});

Deno.test("plan() fills no cluster variables outside training contexts", () => {
  const others = fixtures().filter((f) => !f.contextId.endsWith("-training"));
  ok(others.some((f) => f.id.startsWith("vertex-ai-serving/")));
  ok(others.some((f) => f.id.startsWith("aws-batch-processing/")));
  ok(others.some((f) => f.id.startsWith("local-serving/")));
  for (const f of others) {
    const env = planFixture(f.id).env;
    for (const n of ["ML_CURRENT_HOST", "ML_NUM_NODES", "ML_NODE_RANK", "ML_MASTER_PORT"]) {
      equal(n in env, false, `${f.id}: ${n}`);
    }
  }
});

Deno.test("plan() leaves an Indexed Job's node count and hosts unknown, on index 0 too", () => {
  const p = planFixture(
    "kubernetes-processing/indexed-job",
    (s) => ({
      ...s,
      env: { ...s.env, JOB_COMPLETION_INDEX: "0", CHAMELEON_WORKLOAD: "training" },
      hostname: "shard-0-x8k2l",
    }),
  );
  deepEqual(
    ["ML_NODE_RANK", "ML_IS_MASTER", "ML_MASTER_ADDR"].map((n) => p.env[n]),
    ["0", "true", "shard-0-x8k2l"],
  );
  equal("ML_NUM_NODES" in p.env, false);
  equal("ML_HOSTS" in p.env, false);
  match(String(p.notes["cluster"]), /Indexed Job/);
});

Deno.test("plan() reports an operator's MASTER_ADDR as it is on Vertex, AWS Batch and Azure ML MPI", () => {
  for (
    const id of [
      "vertex-ai-training/multi-worker",
      "aws-batch-training/multi-node-child",
      "azure-ml-training/mpi-job",
    ]
  ) {
    const p = planFixture(id, withEnv({ MASTER_ADDR: "given-master" }));
    equal(p.env["ML_MASTER_ADDR"], "given-master", id);
    equal(p.env["PET_MASTER_ADDR"], "given-master", id);
  }
});

Deno.test("plan() takes NCCL_SOCKET_IFNAME and GLOO_SOCKET_IFNAME from SageMaker's network_interface_name", () => {
  const p = planFixture(
    "sagemaker-training/multi-host",
    withResourceConfig({
      current_host: "algo-2",
      hosts: ["algo-1", "algo-2"],
      network_interface_name: "ens5",
    }),
  );
  deepEqual([p.env["NCCL_SOCKET_IFNAME"], p.env["GLOO_SOCKET_IFNAME"]], ["ens5", "ens5"]);
});

Deno.test("plan() takes eth0 as SageMaker's network interface when resourceconfig.json names none", () => {
  // reference/sagemaker.md 1.3: the toolkit's default for a missing network_interface_name.
  const p = planFixture(
    "sagemaker-training/multi-host",
    withResourceConfig({ current_host: "algo-2", hosts: ["algo-1", "algo-2"] }),
  );
  deepEqual([p.env["NCCL_SOCKET_IFNAME"], p.env["GLOO_SOCKET_IFNAME"]], ["eth0", "eth0"]);
});

Deno.test("plan() treats an AWS Batch job of one node asked to train as a single node", () => {
  const p = planFixture(
    "aws-batch-training/multi-node-main",
    withEnv({ AWS_BATCH_JOB_NUM_NODES: "1", CHAMELEON_WORKLOAD: "training" }),
  );
  const host = "ip-10-0-1-15.us-west-2.compute.internal";
  deepEqual(
    ["ML_HOSTS", "ML_CURRENT_HOST", "ML_NUM_NODES"].map((n) => p.env[n]),
    [JSON.stringify([host]), host, "1"],
  );
  equal("PET_NNODES" in p.env, false);
});

Deno.test("plan() fills the torch variables of an AWS Batch job of two nodes", () => {
  const p = planFixture(
    "aws-batch-training/multi-node-child",
    withEnv({ AWS_BATCH_JOB_NUM_NODES: "2", AWS_BATCH_JOB_NODE_INDEX: "1" }),
  );
  deepEqual(
    ["PET_NNODES", "PET_NODE_RANK", "MASTER_ADDR"].map((n) => p.env[n]),
    ["2", "1", "10.0.1.15"],
  );
});

Deno.test("plan() ranks AWS Batch nodes before a main node other than 0 one up, those after it as they are", () => {
  const rank = (index: string) =>
    planFixture(
      "aws-batch-training/multi-node-child",
      withEnv({ AWS_BATCH_JOB_MAIN_NODE_INDEX: "2", AWS_BATCH_JOB_NODE_INDEX: index }),
    ).env["ML_NODE_RANK"];
  deepEqual(["0", "1", "3"].map(rank), ["1", "2", "3"]);
  equal(
    planFixture(
      "aws-batch-training/multi-node-main",
      withEnv({ AWS_BATCH_JOB_MAIN_NODE_INDEX: "2", AWS_BATCH_JOB_NODE_INDEX: "2" }),
    ).env["ML_NODE_RANK"],
    "0",
  );
});

Deno.test("plan() gives an AWS Batch main node its VPC address, not the ECS agent's link-local one", () => {
  // A multi-node job runs in awsvpc mode (AWS Batch mnp-ce.html); the task's namespace also
  // holds ecs-eth0, 169.254.172.0/22, for the agent's endpoints (aws/amazon-ecs-agent#1230),
  // listed before the ENI. No other node reaches a link-local address.
  const main = (addresses: string[]) =>
    planFixture("aws-batch-training/multi-node-main", (s) => ({ ...s, addresses }));
  const p = main(["169.254.172.3", "10.0.1.15"]);
  deepEqual(
    ["ML_CURRENT_HOST", "ML_MASTER_ADDR", "MASTER_ADDR", "PET_MASTER_ADDR"].map((n) => p.env[n]),
    ["10.0.1.15", "10.0.1.15", "10.0.1.15", "10.0.1.15"],
  );
  // Only a link-local address: the node's internal DNS host name, as with none.
  const host = "ip-10-0-1-15.us-west-2.compute.internal";
  deepEqual(
    [main(["169.254.172.3"]), main([])].map((q) => q.env["MASTER_ADDR"]),
    [host, host],
  );
});

Deno.test("plan() refuses an AWS Batch node index or main node index at or beyond the node count with exit 78", () => {
  // Batch numbers the nodes 0 to NUM_NODES - 1 (reference B.5). A main node index beyond
  // them left no node rank 0 (nodes 0 to 3 became ranks 1 to 4 of 4); a node index beyond
  // them gave torchrun a rank no node has.
  for (const name of ["AWS_BATCH_JOB_NODE_INDEX", "AWS_BATCH_JOB_MAIN_NODE_INDEX"]) {
    for (const value of ["4", "9"]) {
      equal(
        inputError("aws-batch-training/multi-node-child", withEnv({ [name]: value })),
        `Variable ${name} "${value}": expected a node index below AWS_BATCH_JOB_NUM_NODES (4)`,
      );
    }
  }
  equal(
    planFixture("aws-batch-training/multi-node-child", withEnv({ AWS_BATCH_JOB_NODE_INDEX: "3" }))
      .env["PET_NODE_RANK"],
    "3",
  );
});

Deno.test("plan() refuses an AWS Batch child node without the main node's address with exit 78", () => {
  match(
    inputError("aws-batch-training/multi-node-child", (s) => {
      const { AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: _, ...env } = s.env;
      return { ...s, env };
    }),
    /^Variable AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: expected on a child node/,
  );
});

Deno.test("plan() makes the current host of a master known by its address that address (AWS Batch, Azure ML MPI)", () => {
  const batch = planFixture("aws-batch-training/multi-node-main").env;
  deepEqual(
    [batch["ML_IS_MASTER"], batch["ML_CURRENT_HOST"], batch["ML_MASTER_ADDR"]],
    ["true", "10.0.1.15", "10.0.1.15"],
  );
  const azure = planFixture(
    "azure-ml-training/mpi-job",
    (s) => ({ ...withEnv({ OMPI_COMM_WORLD_RANK: "0" })(s), addresses: ["10.0.0.4"] }),
  ).env;
  deepEqual(
    [azure["ML_IS_MASTER"], azure["ML_CURRENT_HOST"], azure["ML_MASTER_ADDR"]],
    ["true", "10.0.0.4", "10.0.0.4"],
  );
});

Deno.test("plan() knows a Slurm job of one node without a node list: this host is the master", () => {
  const noList = (env: Record<string, string>) => (s: Snapshot): Snapshot => {
    const { SLURM_NODELIST: _a, SLURM_JOB_NODELIST: _b, SLURM_NNODES: _c, ...rest } = s.env;
    return { ...s, hostname: "gpu08", env: { ...rest, SLURM_NODEID: "0", ...env } };
  };
  for (const env of [{}, { SLURM_NNODES: "1" }]) {
    const p = planFixture("slurm-training/task", noList(env));
    deepEqual(
      ["ML_HOSTS", "ML_NUM_NODES", "ML_MASTER_ADDR"].map((n) => p.env[n]),
      ['["gpu08"]', "1", "gpu08"],
      JSON.stringify(env),
    );
  }
});

Deno.test("plan() rejects a Slurm node id at or beyond the node count, and a node count of 0", () => {
  // Slurm's SLURM_NODEID is below SLURM_NNODES (both count the step's nodes, or a
  // heterogeneous step's all): another would give torchrun a rank no node has.
  match(
    inputError("slurm-training/task", withEnv({ SLURM_NODEID: "2" })),
    /^Variable SLURM_NODEID "2": expected less than SLURM_NNODES \(2\)$/,
  );
  // Without SLURM_NNODES, the node list counts the nodes.
  match(
    inputError("slurm-training/task", (s) => {
      const { SLURM_NNODES: _, ...env } = s.env;
      return { ...s, env: { ...env, SLURM_NODEID: "5" } };
    }),
    /^Variable SLURM_NODEID "5": expected less than the hosts of SLURM_NODELIST \(2\)$/,
  );
  // Without either, the job is this node alone.
  match(
    inputError("slurm-training/task", (s) => {
      const { SLURM_NNODES: _, SLURM_NODELIST: __, ...env } = s.env;
      return { ...s, env };
    }),
    /^Variable SLURM_NODEID "1": expected less than the node count, 1 without SLURM_NNODES or a node list$/,
  );
  match(
    inputError("slurm-training/task", withEnv({ SLURM_NNODES: "0" })),
    /^Variable SLURM_NNODES "0": expected a node count of at least 1$/,
  );
});

Deno.test("plan() lists a one-node Slurm job without a node list under the name it gives the node", () => {
  // Slurm's node name (SLURMD_NODENAME) need not be the host name: ML_HOSTS must still hold
  // ML_CURRENT_HOST, or a script that looks itself up in the list (SM_HOSTS, SM_CURRENT_HOST)
  // does not find itself.
  const p = planFixture("slurm-training/task", (s) => {
    const { SLURM_NODELIST: _a, SLURM_NNODES: _b, ...env } = s.env;
    return {
      ...s,
      hostname: "gpu08.hpc.example",
      env: { ...env, SLURM_NODEID: "0", SLURMD_NODENAME: "gpu08" },
    };
  });
  deepEqual(
    ["ML_CURRENT_HOST", "ML_HOSTS", "ML_MASTER_ADDR", "ML_IS_MASTER"].map((n) => p.env[n]),
    ["gpu08", '["gpu08"]', "gpu08", "true"],
  );
});

Deno.test("plan() names a Slurm node by SLURMD_NODENAME before its host name", () => {
  const p = planFixture("slurm-training/task", withEnv({ SLURMD_NODENAME: "gpu08-ib" }));
  equal(p.env["ML_CURRENT_HOST"], "gpu08-ib");
});

Deno.test("plan() takes an Azure ML job's PyTorch distribution beside AZ_BATCH_MASTER_NODE, and MPI when its variables are all there", () => {
  const pytorch = planFixture("azure-ml-training/mpi-job", (s) => {
    const env = Object.fromEntries(
      Object.entries(s.env).filter(([n]) => !n.startsWith("OMPI_COMM_WORLD_")),
    );
    return { ...s, env: { ...env, NODE_RANK: "1", MASTER_ADDR: "10.0.0.4", WORLD_SIZE: "8" } };
  });
  deepEqual(
    [pytorch.env["ML_NODE_RANK"], pytorch.env["ML_MASTER_ADDR"], "ML_NUM_NODES" in pytorch.env],
    ["1", "10.0.0.4", false],
  );
  // A NODE_RANK beside a whole MPI picture: MPI's ranks and node count.
  const mpi = planFixture("azure-ml-training/mpi-job", withEnv({ NODE_RANK: "0" }));
  deepEqual([mpi.env["ML_NUM_NODES"], mpi.env["ML_NODE_RANK"]], ["2", "1"]);
});

Deno.test("plan() makes an Azure ML training job without the whole MPI picture a single node, unless Open MPI's world spans nodes", () => {
  const without = (names: string[]) => (s: Snapshot): Snapshot => {
    const env = { ...s.env };
    for (const n of names) delete env[n];
    return { ...s, env };
  };
  for (
    const drop of [
      ["OMPI_COMM_WORLD_SIZE"],
      ["OMPI_COMM_WORLD_SIZE", "AZ_BATCH_MASTER_NODE"],
    ]
  ) {
    const p = planFixture("azure-ml-training/mpi-job", without(drop));
    deepEqual([p.env["ML_NUM_NODES"], p.env["ML_NODE_RANK"]], ["1", "0"], drop.join(" "));
  }
  // Open MPI's world alone (rank 1 of 2, one a node) still spans two nodes: no lone master.
  const p = planFixture("azure-ml-training/mpi-job", without(["AZ_BATCH_MASTER_NODE"]));
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_IS_MASTER", "ML_MASTER_ADDR"].map((n) => p.env[n]),
    ["2", "1", "false", undefined],
  );
});

Deno.test("plan() counts an Azure ML MPI job whose processes all run on one node as one node", () => {
  const p = planFixture(
    "azure-ml-training/mpi-job",
    withEnv({ OMPI_COMM_WORLD_SIZE: "4", OMPI_COMM_WORLD_LOCAL_SIZE: "4" }),
  );
  deepEqual([p.env["ML_NUM_NODES"], p.env["ML_NODE_RANK"]], ["1", "0"]);
  equal("PET_NNODES" in p.env, false);
});

Deno.test("plan() leaves the rank of a two-node PET_NNODES pod with no node rank unknown, and reports a given MASTER_ADDR", () => {
  const noRank = ["RANK", "PET_NODE_RANK", "PET_MASTER_ADDR", "PET_MASTER_PORT"];
  const p = pytorchWorker({ PET_NNODES: "2", WORLD_SIZE: "2" }, [...noRank, "MASTER_ADDR"]);
  deepEqual(clusterVars(p), ["ML_NUM_NODES"]);
  equal(p.env["ML_NUM_NODES"], "2");
  const given = pytorchWorker({ PET_NNODES: "2", WORLD_SIZE: "2" }, noRank);
  equal(given.env["ML_MASTER_ADDR"], "bert-ft-master-0");
  equal("ML_NODE_RANK" in given.env, false);
});

Deno.test("plan() takes a sparse TFJob's listed master as the master", () => {
  const p = tfjob({
    sparseCluster: {
      worker: { "1": "mnist-worker-1.ml.svc:2222" },
      master: ["mnist-master-0:2224"],
    },
    task: { type: "worker", index: 1 },
  });
  deepEqual(
    [p.env["ML_IS_MASTER"], p.env["ML_MASTER_ADDR"], p.env["ML_MASTER_PORT"]],
    ["false", "mnist-master-0", "2224"],
  );
});

Deno.test("plan() counts a PyTorchJob given no node count as one node", () => {
  const p = planFixture("kubernetes-training/pytorchjob", (s) => {
    const { PET_NNODES: _, WORLD_SIZE: __, ...env } = s.env;
    return { ...s, env };
  });
  deepEqual(
    ["ML_NUM_NODES", "ML_NODE_RANK", "ML_HOSTS"].map((n) => p.env[n]),
    ["1", "0", '["bert-ft-master-0"]'],
  );
});

Deno.test("plan() rejects rank 1 of a PyTorchJob given no node count: the count is then 1", () => {
  match(
    inputError("kubernetes-training/pytorchjob-worker", (s) => {
      const { PET_NNODES: _, WORLD_SIZE: __, PET_NODE_RANK: ___, ...env } = s.env;
      return { ...s, env: { ...env, RANK: "1" } };
    }),
    /^Variable RANK "1": expected less than the node count, 1 without PET_NNODES or WORLD_SIZE$/,
  );
});

Deno.test("plan() derives a PyTorchJob's hosts only from a master address of the operator's pod shape", () => {
  const ip = planFixture("kubernetes-training/pytorchjob", withEnv({ MASTER_ADDR: "10.244.3.4" }));
  equal("ML_HOSTS" in ip.env, false);
  equal(ip.env["ML_NUM_NODES"], "3");
  deepEqual(waitedHosts(ip), []);
  const one = planFixture(
    "kubernetes-training/pytorchjob",
    withEnv({ PET_NNODES: "1", WORLD_SIZE: "1" }),
  );
  equal(one.env["ML_HOSTS"], '["bert-ft-master-0"]');
  const derived = planFixture("kubernetes-training/pytorchjob").env["ML_HOSTS"];
  equal(derived, '["bert-ft-master-0","bert-ft-worker-0","bert-ft-worker-1"]');
});

Deno.test("plan() derives no hosts from a master address that holds the operator's pod shape with more around it", () => {
  for (const master of ["bert-ft-master-0.default.svc", "Bert-ft-master-0"]) {
    const p = planFixture("kubernetes-training/pytorchjob", withEnv({ MASTER_ADDR: master }));
    equal("ML_HOSTS" in p.env, false, master);
    deepEqual(waitedHosts(p), [], master);
  }
  const trainer = planFixture(
    "kubernetes-training/trainer-v2",
    withEnv({ PET_MASTER_ADDR: "llama-ft-node-0-01.llama-ft" }),
  );
  equal("ML_HOSTS" in trainer.env, false);
  equal(trainer.env["ML_CURRENT_HOST"], "llama-ft-node-0-1");
});

Deno.test("expandNodelist() pads a range's numbers to the width of its low end", () => {
  deepEqual(expandNodelist("n[8-10]"), ["n8", "n9", "n10"]);
  deepEqual(expandNodelist("n[08-10]"), ["n08", "n09", "n10"]);
});

Deno.test("plan() rejects a TF_CONFIG task of a type every object inherits (constructor)", () => {
  const cluster = { chief: ["c:2222"], worker: ["w0:2222"] };
  match(
    inputError(
      "kubernetes-training/tfjob",
      withEnv({ TF_CONFIG: JSON.stringify({ cluster, task: { type: "constructor", index: 0 } }) }),
    ),
    /^Variable TF_CONFIG: \/task\/type "constructor": expected one of \/cluster \(chief, worker\)/,
  );
});

Deno.test("plan() waits for no host of a SageMaker processing job in local mode", () => {
  const p = planFixture(
    "sagemaker-processing/processing-job",
    withEnv({ SM_STUDIO_LOCAL_MODE: "true" }),
  );
  deepEqual(waitedHosts(p), []);
});

Deno.test("plan() gives torchrun the platform's master port (Vertex CLUSTER_SPEC) as PET_MASTER_PORT and MASTER_PORT", () => {
  const p = planFixture("vertex-ai-training/multi-worker");
  deepEqual(
    ["ML_MASTER_PORT", "MASTER_PORT", "PET_MASTER_PORT"].map((n) => p.env[n]),
    ["2222", "2222", "2222"],
  );
});

Deno.test("plan() gives a TrainJob node without a master address (PET_* set by hand) the master only on node 0, and no hosts", () => {
  const noMaster = (rank: string) => (s: Snapshot) => {
    const { PET_MASTER_ADDR: _, ...env } = s.env;
    return { ...s, hostname: `llama-ft-node-0-${rank}`, env: { ...env, PET_NODE_RANK: rank } };
  };
  // Node 0's short host name lacks the `.<job>` subdomain: the other nodes' names derived from it
  // would not resolve, and the wait for them would fail.
  const first = planFixture("kubernetes-training/trainer-v2", noMaster("0"));
  equal(first.env["ML_MASTER_ADDR"], "llama-ft-node-0-0");
  equal(first.env["ML_HOSTS"], undefined);
  deepEqual(waitedHosts(first), []);
  // Another node cannot know node 0's address: it is not its own master.
  const second = planFixture("kubernetes-training/trainer-v2", noMaster("1"));
  deepEqual(
    ["ML_NODE_RANK", "ML_IS_MASTER", "ML_MASTER_ADDR", "MASTER_ADDR"].map((n) => second.env[n]),
    ["1", "false", undefined, undefined],
  );
});

Deno.test("plan() reads Slurm's hosts from SLURM_NODELIST before SLURM_JOB_NODELIST", () => {
  const p = planFixture(
    "slurm-training/task",
    withEnv({ SLURM_NODELIST: "gpu[07-08]", SLURM_JOB_NODELIST: "cpu[1-2]" }),
  );
  equal(p.env["ML_HOSTS"], '["gpu07","gpu08"]');
});

Deno.test("plan() derives no PyTorchJob host list from a node count above 100,000", () => {
  const p = planFixture(
    "kubernetes-training/pytorchjob",
    withEnv({ PET_NNODES: "100001", WORLD_SIZE: "100001" }),
  );
  equal("ML_HOSTS" in p.env, false);
  equal(p.env["ML_NUM_NODES"], "100001");
});

// --- Service links (Kubernetes enableServiceLinks, docker --link) ---

/**
 * What the kubelet gives every container of a namespace with a Service named
 * `master` (port 29500 at 10.96.40.2), beside the `kubernetes` Service's own.
 */
const MASTER_SERVICE_LINKS = {
  MASTER_SERVICE_HOST: "10.96.40.2",
  MASTER_SERVICE_PORT: "29500",
  MASTER_SERVICE_PORT_RDZV: "29500",
  MASTER_PORT: "tcp://10.96.40.2:29500",
  MASTER_PORT_29500_TCP: "tcp://10.96.40.2:29500",
  MASTER_PORT_29500_TCP_PROTO: "tcp",
  MASTER_PORT_29500_TCP_PORT: "29500",
  MASTER_PORT_29500_TCP_ADDR: "10.96.40.2",
};

Deno.test("plan() takes a MASTER_PORT that is a Service's link variable for no port, and fills over it", () => {
  // A TFJob worker in a namespace that has a Service named master: the chief's port counts.
  const p = planFixture("kubernetes-training/tfjob", withEnv(MASTER_SERVICE_LINKS));
  equal(p.env["ML_MASTER_PORT"], "2222");
  equal(p.env["MASTER_PORT"], "2222");
  equal(p.env["PET_MASTER_PORT"], "2222");
  equal(p.env["MASTER_ADDR"], "mnist-chief-0.ml.svc");
  ok(
    p.warnings.some((w) =>
      w.startsWith('MASTER_PORT "tcp://10.96.40.2:29500" is the link variable of a Service')
    ),
    p.warnings.join("\n"),
  );
  // The operator's own MASTER_PORT (a pod's env wins over service links) is kept, as any fill's.
  const given = planFixture(
    "kubernetes-training/tfjob",
    withEnv({ ...MASTER_SERVICE_LINKS, MASTER_PORT: "23456" }),
  );
  equal(given.env["ML_MASTER_PORT"], "23456");
  equal("MASTER_PORT" in given.env, false);
});

Deno.test("plan() starts a one-pod training job in a namespace with a Service named master", () => {
  // Forced to train (`train` as the first word), the pod is a cluster of one: no exit 78 for
  // a port nobody gave, torch's default for ML_MASTER_PORT.
  const p = planFixture(
    "kubernetes-unknown/pod",
    (s) => ({ ...withEnv(MASTER_SERVICE_LINKS)(s), argv: ["train"] }),
  );
  equal(p.env["ML_MASTER_PORT"], "29500");
  equal(p.env["ML_NUM_NODES"], "1");
});

Deno.test("plan() unsets a link-variable MASTER_PORT where it fills none, in training only", () => {
  // One pod asked to train, in a namespace with a Service named master: torch's launchers and
  // Lightning read MASTER_PORT as their port (int("tcp://...") fails), and nothing fills it.
  const train = (s: Snapshot) => ({ ...withEnv(MASTER_SERVICE_LINKS)(s), argv: ["train"] });
  const p = planFixture("kubernetes-unknown/pod", train);
  ok(p.unset.includes("MASTER_PORT"), JSON.stringify(p.unset));
  equal("MASTER_PORT" in p.env, false);
  ok(
    p.warnings.some((w) =>
      w.startsWith('MASTER_PORT "tcp://10.96.40.2:29500" is the link variable') &&
      w.includes("unset")
    ),
    p.warnings.join("\n"),
  );
  // The other link variables (MASTER_PORT_29500_TCP_ADDR, ...) are the Service's: left alone.
  equal(p.unset.some((n) => n.startsWith("MASTER_PORT_") || n.startsWith("MASTER_SERVICE")), false);
  // Outside training MASTER_PORT is no variable of chameleon's: a program may use the link.
  const pod = planFixture("kubernetes-unknown/pod", withEnv(MASTER_SERVICE_LINKS));
  equal(pod.unset.includes("MASTER_PORT"), false);
  // An image config that fills MASTER_PORT writes its port over the link instead.
  const filled = planFixture(
    "kubernetes-unknown/pod",
    train,
    toImageConfig({ env: { fill: { MASTER_PORT: "23456" } } }),
  );
  equal(filled.env["MASTER_PORT"], "23456");
  equal(filled.unset.includes("MASTER_PORT"), false);
});
