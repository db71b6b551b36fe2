import { deepEqual, equal, match, ok, throws } from "@std/assert";
import type { Adapter } from "../adapters/mod.ts";
import { ADAPTERS } from "../adapters/mod.ts";
import { expandNodelist } from "../adapters/distributed.ts";
import { user } from "../adapters/user.ts";
import { DEFAULT_CONFIG, type ImageConfig } from "../config.ts";
import { detect } from "../contexts/mod.ts";
import { InputError } from "../errors.ts";
import { mergeEnv, plan, planPaths, utf8Length } from "../plan.ts";
import type { EnvOp, Plan, Snapshot } from "../types.ts";
import { World } from "../world.ts";
import { rng } from "./fuzz.ts";
import {
  caught,
  fixture,
  fixtures,
  ownNbEnv,
  planFixture,
  planOf,
  snap,
  withDir,
  withEnv,
  withFiles,
  worldOf,
} from "./helpers.ts";
import { configFromYaml } from "./config_yaml.ts";

/** Variables each fixture's plan must contain (design §6), by fixture. */

const EXPECTED: Record<string, Record<string, string>> = {
  "sagemaker-training/multi-host": {
    ML_MODEL_DIR: "/opt/ml/model",
    ML_OUTPUT_DIR: "/opt/ml/output/data",
    ML_INPUT_DIR: "/opt/ml/input/data",
    ML_CHECKPOINT_DIR: "/opt/ml/checkpoints",
    ML_CHANNEL_TRAIN: "/opt/ml/input/data/train",
    ML_HOSTS: '["algo-1","algo-2","algo-3","algo-4"]',
    ML_NODE_RANK: "1",
    ML_IS_MASTER: "false",
    MASTER_ADDR: "algo-1",
    MASTER_PORT: "29500",
    PET_NNODES: "4",
    PET_NPROC_PER_NODE: "4",
    NCCL_SOCKET_IFNAME: "eth0",
    AWS_DEFAULT_REGION: "us-east-1",
    ML_JOB_NAME: "pytorch-train-2025-11-20-10-00-00-123",
  },
  "sagemaker-training/single-host": {
    ML_NUM_NODES: "1",
    ML_IS_MASTER: "true",
    ML_MASTER_ADDR: "algo-1",
  },
  "sagemaker-processing/processing-job": {
    ML_OUTPUT_DIR: "/opt/ml/processing/output/clean",
    ML_INPUT_DIR: "/opt/ml/processing/input",
    ML_CHANNEL_RAW: "/opt/ml/processing/input/raw",
    ML_JOB_NAME: "prep-2025-11-20",
  },
  "sagemaker-serving/real-time": {
    ML_PORT: "8080",
    ML_HEALTH_ROUTE: "/ping",
    ML_PREDICT_ROUTE: "/invocations",
    ML_MODEL_DIR: "/opt/ml/model",
  },
  "sagemaker-serving/multi-model": { ML_MODEL_DIR: "/opt/ml/models" },
  "sagemaker-serving/pipeline-member": { ML_PORT: "8081" },
  "sagemaker-notebook/jupyterlab": {
    ML_PORT: "8888",
    ML_BASE_URL: "/jupyterlab/default",
    ML_JOB_NAME: "my-space",
  },
  "sagemaker-notebook/code-editor": { ML_PORT: "8888", ML_BASE_URL: "/codeeditor/default" },
  "sagemaker-notebook/kernel-gateway": {
    ML_PORT: "8888",
    ML_BASE_URL: "/",
    ML_JOB_NAME: "datascience--1-0-ml",
  },
  "vertex-ai-training/multi-worker": {
    ML_NODE_RANK: "2",
    ML_NUM_NODES: "3",
    MASTER_ADDR: "cmle-training-workerpool0-ab12cd34ef-0",
    MASTER_PORT: "2222",
    ML_MODEL_DIR: "gs://my-bucket/jobs/1234567890123456789/model/",
    ML_CHECKPOINT_DIR: "gs://my-bucket/jobs/1234567890123456789/checkpoints/",
  },
  "vertex-ai-training/custom-job": { ML_NUM_NODES: "1", ML_NODE_RANK: "0" },
  "vertex-ai-serving/prediction": {
    ML_PORT: "8080",
    ML_HEALTH_ROUTE: "/v1/endpoints/5550/deployedModels/7770",
    ML_PREDICT_ROUTE: "/v1/endpoints/5550/deployedModels/7770:predict",
    ML_MODEL_DIR: "gs://caip-tenant-abc/models/7770",
  },
  "aws-batch-training/multi-node-main": {
    ML_NODE_RANK: "0",
    MASTER_ADDR: "10.0.1.15",
    ML_IS_MASTER: "true",
    PET_NPROC_PER_NODE: "2",
  },
  "aws-batch-training/multi-node-child": {
    ML_NODE_RANK: "2",
    MASTER_ADDR: "10.0.1.15",
    ML_NUM_NODES: "4",
  },
  "slurm-training/task": {
    ML_HOSTS: '["gpu07","gpu08"]',
    ML_NODE_RANK: "1",
    MASTER_ADDR: "gpu07",
    // Slurm's port convention: 15000 plus the job id's last four digits (481516).
    MASTER_PORT: "16516",
    PET_NNODES: "2",
  },
  "azure-ml-training/mpi-job": {
    ML_NUM_NODES: "2",
    ML_NODE_RANK: "1",
    MASTER_ADDR: "10.0.0.4",
    // Not AZ_BATCH_MASTER_NODE's port (10.0.0.4:6105): that one is Azure Batch's.
    MASTER_PORT: "29500",
  },
  "azure-ml-unknown/command-job": { ML_MODEL_DIR: "/mnt/azureml/cr/j/abc/model" },
  "kubernetes-training/pytorchjob": {
    ML_MASTER_ADDR: "bert-ft-master-0",
    ML_MASTER_PORT: "23456",
    ML_NODE_RANK: "0",
    ML_NUM_NODES: "3",
  },
  "kubernetes-training/trainer-v2": {
    ML_NODE_RANK: "1",
    ML_MASTER_ADDR: "llama-ft-node-0-0.llama-ft",
    MASTER_ADDR: "llama-ft-node-0-0.llama-ft",
    MASTER_PORT: "29400",
  },
  "kubernetes-training/tfjob": {
    ML_NODE_RANK: "2",
    ML_NUM_NODES: "3",
    MASTER_ADDR: "mnist-chief-0.ml.svc",
    MASTER_PORT: "2222",
  },
  "kubernetes-processing/indexed-job": { ML_NUM_CPUS: "1", OMP_NUM_THREADS: "1" },
  "kubernetes-serving/knative": { ML_PORT: "8080" },
  "kubernetes-serving/kserve-serverless": {
    ML_MODEL_DIR: "/mnt/models",
    ML_HEALTH_ROUTE: "/v2/health/ready",
    ML_PREDICT_ROUTE: "/v2/models/sklearn-iris/infer",
  },
  "kubernetes-serving/kserve-raw": {
    ML_MODEL_DIR: "/mnt/models",
    ML_HEALTH_ROUTE: "/v2/health/ready",
  },
  "kubernetes-notebook/kubeflow-notebook": {
    ML_PORT: "8888",
    ML_BASE_URL: "/notebook/team-a/alice-nb",
  },
  "kubernetes-notebook/jupyterhub": { ML_PORT: "8888", ML_BASE_URL: "/user/bob/" },
  "local-unknown/cgroup-v2": {
    ML_NUM_CPUS: "1",
    OMP_NUM_THREADS: "1",
    MKL_NUM_THREADS: "1",
    OPENBLAS_NUM_THREADS: "1",
  },
  "local-unknown/gpu-workstation": { ML_NUM_GPUS: "2", ML_NUM_CPUS: "8" },
  "local-training/argv-train": { ML_NUM_NODES: "1", ML_CURRENT_HOST: "localhost" },
  "ecs-unknown/fargate": { ML_NUM_CPUS: "1" },
};

for (const f of fixtures()) {
  const id = f.id;
  Deno.test(`plan() for fixture ${id}: decided context, fill semantics, expected variables`, () => {
    const w = worldOf(id);
    const p = planOf(w);
    equal(p.env["CHAMELEON_CONTEXT"], f.contextId);
    equal(p.env["CHAMELEON_STARTED"], "1");
    for (const [name, value] of Object.entries(p.env)) {
      ok(p.envDisplay[name] !== undefined, `${name} has a display value`);
      // Nothing listed is a no-op: a variable set to the value it already has is not a change.
      if (name !== "CHAMELEON_STARTED") ok(w.env(name) !== value, `${name} listed unchanged`);
    }
    for (const [name, value] of Object.entries(EXPECTED[id] ?? {})) equal(p.env[name], value, name);
    // Single-node training sets ML_* cluster variables and no torch ones.
    if (p.env["ML_NUM_NODES"] === "1") {
      for (const n of ["MASTER_ADDR", "PET_NNODES", "NCCL_SOCKET_IFNAME"]) {
        equal(n in p.env, false, n);
      }
    }
  });
}

Deno.test("plan() never changes a fill variable the platform or user set, nor lists it", () => {
  const p = planFixture("kubernetes-training/pytorchjob");
  // The operator set MASTER_ADDR, MASTER_PORT and the PET_* variables: reported, not rewritten.
  for (
    const n of ["MASTER_ADDR", "MASTER_PORT", "PET_NNODES", "PET_NODE_RANK", "PET_MASTER_ADDR"]
  ) equal(n in p.env, false, n);
  equal(p.env["ML_MASTER_ADDR"], "bert-ft-master-0");
  const kept = planFixture(
    "local-unknown/cgroup-v2",
    withEnv({ OMP_NUM_THREADS: "4", ML_PORT: "1" }),
  );
  equal("OMP_NUM_THREADS" in kept.env, false);
  equal(kept.env["MKL_NUM_THREADS"], "1");
  // An empty value counts as unset.
  equal(
    planFixture("local-unknown/cgroup-v2", withEnv({ OMP_NUM_THREADS: "" })).env["OMP_NUM_THREADS"],
    "1",
  );
  // A given ML_NUM_CPUS is followed as written, digits kept (not a number's 1e+21).
  const many = "1000000000000000000000";
  equal(
    planFixture("local-unknown/cgroup-v2", withEnv({ ML_NUM_CPUS: many })).env["MKL_NUM_THREADS"],
    many,
  );
});

Deno.test("plan() appends NO_PROXY items after the existing ones and makes both spellings equal", () => {
  const p = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "internal.corp", no_proxy: "localhost" }),
  );
  const want =
    "internal.corp,localhost,169.254.169.254,169.254.170.2,10.96.0.1,.svc,.cluster.local";
  deepEqual([p.env["NO_PROXY"], p.env["no_proxy"]], [want, want]);
  equal("NO_PROXY" in planFixture("kubernetes-unknown/pod").env, false, "no proxy, no change");
  const done = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HTTP_PROXY: "p", NO_PROXY: want, no_proxy: want }),
  );
  equal("NO_PROXY" in done.env, false, "nothing missing, nothing listed");
  const spaced = want.replaceAll(",", ", ") + ",";
  const written = planFixture(
    "kubernetes-unknown/pod",
    withEnv({ HTTP_PROXY: "p", NO_PROXY: spaced, no_proxy: spaced }),
  );
  deepEqual(
    ["NO_PROXY" in written.env, "no_proxy" in written.env],
    [false, false],
    "spaces and a trailing comma are no missing item",
  );
  // `*` (no proxy for any host) works only alone: nothing is added to it, and the other
  // spelling, which a tool may read first, becomes `*` too.
  for (const [spelling, other] of [["NO_PROXY", "no_proxy"], ["no_proxy", "NO_PROXY"]]) {
    const all = planFixture(
      "kubernetes-unknown/pod",
      withEnv({ HTTP_PROXY: "p", [spelling!]: "*" }),
    );
    equal(spelling! in all.env, false, spelling);
    equal(all.env[other!], "*", other);
    const both = planFixture(
      "kubernetes-unknown/pod",
      withEnv({ HTTP_PROXY: "p", [spelling!]: "*", [other!]: "localhost" }),
    );
    equal(both.env[other!], "*", `${other} beside ${spelling}=*`);
  }
});

Deno.test("plan() keeps NO_PROXY's exclusions for a proxy the image config gives", () => {
  const config = configFromYaml("env:\n  fill:\n    HTTPS_PROXY: http://proxy:3128\n");
  const p = planFixture("kubernetes-unknown/pod", undefined, config);
  equal(p.env["HTTPS_PROXY"], "http://proxy:3128");
  const want = "169.254.169.254,169.254.170.2,10.96.0.1,.svc,.cluster.local";
  deepEqual([p.env["NO_PROXY"], p.env["no_proxy"]], [want, want]);
});

Deno.test("plan() leaves a route unset rather than stop a model server over a name it cannot use", () => {
  for (const name of ["", "org/iris"]) {
    const p = planFixture(
      "kubernetes-serving/kserve-raw",
      (s) => ({ ...s, argv: ["python3", "-m", "server", `--model_name=${name}`] }),
    );
    equal("ML_PREDICT_ROUTE" in p.env, false, name);
    ok(p.warnings.some((w) => w.includes("ML_PREDICT_ROUTE left unset")), p.warnings.join());
  }
});

Deno.test("detect() takes batch transform from SAGEMAKER_BATCH=true only (any value still says serving)", () => {
  const notBatch = detect(
    worldOf("sagemaker-serving/multi-model", withEnv({ SAGEMAKER_BATCH: "false" })),
  );
  equal(notBatch.context.variant, "multi-model");
  const alone = detect(
    worldOf("sagemaker-serving/batch-transform", withEnv({ SAGEMAKER_BATCH: "false" })),
  );
  deepEqual([alone.context.workload, alone.context.variant], ["serving", "real-time"]);
});

Deno.test("plan() takes the KServe model name from the configured serving command too", () => {
  const config = configFromYaml(
    "commands:\n  serving:\n    argv: [python3, -m, server, --model_name, iris]\n",
  );
  const p = planFixture("kubernetes-serving/kserve-raw", undefined, config);
  equal(p.env["ML_PREDICT_ROUTE"], "/v2/models/iris/infer");
  equal(
    planFixture("kubernetes-serving/kserve-raw", (s) => ({ ...s, argv: ["serve"] }), config)
      .env["ML_PREDICT_ROUTE"],
    "/v2/models/iris/infer",
    "serve selects the configured command",
  );
  const shell = configFromYaml(
    "commands:\n  serving:\n    argv: ['exec python3 -m server --model_name iris']\n    shell: true\n",
  );
  equal(
    planFixture("kubernetes-serving/kserve-raw", undefined, shell).env["ML_PREDICT_ROUTE"],
    "/v2/models/iris/infer",
    "inside a one-string shell script",
  );
  // The user's own command replaces the configured one: its model name is not this pod's.
  const own = planFixture(
    "kubernetes-serving/kserve-raw",
    (s) => ({ ...s, argv: ["python3", "app.py"] }),
    config,
  );
  equal("ML_PREDICT_ROUTE" in own.env, false);
});

Deno.test("plan() leaves a channel variable that two channel names map to unset, with a warning, and runs", () => {
  const p = planFixture(
    "sagemaker-training/single-host",
    withFiles({
      "/opt/ml/input/config/inputdataconfig.json":
        '{"train-data": {"TrainingInputMode": "File"}, "train_data": {"TrainingInputMode": "File"}, "test": {"TrainingInputMode": "File"}}',
    }),
  );
  equal("ML_CHANNEL_TRAIN_DATA" in p.env, false);
  equal(p.env["ML_CHANNEL_TEST"], "/opt/ml/input/data/test");
  equal(p.env["ML_CHANNELS"], '["test","train-data","train_data"]');
  ok(
    p.warnings.some((w) =>
      /"train-data" and "train_data" both map to ML_CHANNEL_TRAIN_DATA/.test(w)
    ),
  );
});

Deno.test("plan() makes an Athena or Redshift processing input (DatasetDefinition) a channel too", () => {
  const config = JSON.parse(
    fixture("sagemaker-processing/processing-job")
      .files["/opt/ml/config/processingjobconfig.json"]!,
  );
  config.ProcessingInputs.push({
    InputName: "athena-q",
    S3Input: null,
    DatasetDefinition: {
      AthenaDatasetDefinition: {
        Catalog: "AwsDataCatalog",
        Database: "db",
        QueryString: "SELECT 1",
      },
      LocalPath: "/opt/ml/processing/input/athena",
      DataDistributionType: "FullyReplicated",
      InputMode: "File",
    },
  });
  const p = planFixture(
    "sagemaker-processing/processing-job",
    withFiles({ "/opt/ml/config/processingjobconfig.json": JSON.stringify(config) }),
  );
  equal(p.env["ML_CHANNEL_ATHENA_Q"], "/opt/ml/processing/input/athena");
  ok(JSON.parse(p.env["ML_CHANNELS"]!).includes("athena-q"));
});

/** One adapter's single op on the variable X, for the mergeEnv() tests. */
const op = (adapter: string, kind: "set" | "fill" | "append", value: string) => ({
  adapter,
  ops: [{ name: "X", kind, value }],
});

Deno.test("mergeEnv() reports two adapters that disagree, and accepts agreement", () => {
  throws(
    () => mergeEnv({}, [op("a", "fill", "1"), op("b", "fill", "2")]),
    /Adapters a and b disagree on X: "1" vs "2"/,
  );
  // An append goes after what a set or fill gives (or, for a fill under a user's value, after that).
  deepEqual(mergeEnv({}, [op("a", "set", "1"), op("b", "append", "2,1")]).env, { X: "1,2" });
  deepEqual(mergeEnv({}, [op("a", "fill", "1"), op("b", "append", "2")]).env, { X: "1,2" });
  deepEqual(mergeEnv({ X: "u" }, [op("a", "fill", "1"), op("b", "append", "2")]).env, {
    X: "u,2",
  });
  deepEqual(mergeEnv({}, [op("a", "set", "1,2"), op("b", "append", "2")]).env, { X: "1,2" });
  deepEqual(mergeEnv({}, [op("a", "fill", "1"), op("b", "set", "1")]).env, { X: "1" });
  deepEqual(mergeEnv({ X: "a,b" }, [op("a", "append", "b,c"), op("b", "append", "d")]).env, {
    X: "a,b,c,d",
  });
  deepEqual(mergeEnv({ X: "keep" }, [op("a", "fill", "1")]).env, {});
});

Deno.test("mergeEnv() leaves out a fill of the empty value already there, after meeting the other ops", () => {
  deepEqual(mergeEnv({ X: "" }, [op("a", "fill", "")]).env, {});
  // An empty value counts as unset: a fill of another value writes it.
  deepEqual(mergeEnv({ X: "" }, [op("a", "fill", "1")]).env, { X: "1" });
  deepEqual(mergeEnv({}, [op("a", "fill", "")]).env, { X: "" });
  // A set is written whatever was there; fills that disagree still do.
  deepEqual(mergeEnv({ X: "" }, [op("a", "fill", ""), op("b", "set", "")]).env, { X: "" });
  throws(
    () => mergeEnv({ X: "" }, [op("a", "fill", ""), op("b", "fill", "2")]),
    /Adapters a and b disagree on X: "" vs "2"/,
  );
  deepEqual(mergeEnv({ X: "" }, [op("a", "fill", ""), op("b", "append", "2")]).env, { X: "2" });
  // Through the plan: the toolkit's empty SM_FRAMEWORK_MODULE over the user's empty one.
  const p = planFixture("sagemaker-training/single-host", withEnv({ SM_FRAMEWORK_MODULE: "" }));
  equal("SM_FRAMEWORK_MODULE" in p.env, false);
  equal("SM_FRAMEWORK_MODULE" in p.envDisplay, false);
});

Deno.test("plan() turns two adapters in conflict into exit 78 naming both", () => {
  const a: Adapter = {
    name: "first",
    plan: () => ({ env: [{ name: "Z", kind: "fill", value: "1" }] }),
  };
  const b: Adapter = {
    name: "second",
    plan: () => ({ env: [{ name: "Z", kind: "set", value: "2" }] }),
  };
  const w = worldOf("local-unknown/docker");
  const e = caught(() => plan(w, detect(w), DEFAULT_CONFIG, { adapters: [...ADAPTERS, a, b] }));
  if (!(e instanceof InputError)) throw new Error("no conflict reported");
  equal(e.exitCode, 78);
  match(e.message, /first and second disagree on Z/);
});

Deno.test("plan() rejects bad structured input with exit 78 and one line", () => {
  const cases: [string, (s: Snapshot) => Snapshot, RegExp][] = [
    [
      "vertex-ai-training/multi-worker",
      withEnv({ CLUSTER_SPEC: "{not json" }),
      /^Variable CLUSTER_SPEC: not valid JSON/,
    ],
    [
      "vertex-ai-training/multi-worker",
      withEnv({
        CLUSTER_SPEC:
          '{"cluster":{"workerpool0":["nohostport"]},"task":{"type":"workerpool0","index":0}}',
      }),
      /\/cluster\/workerpool0\/0: expected "host:port"/,
    ],
    [
      "kubernetes-training/tfjob",
      withEnv({ TF_CONFIG: '{"cluster":{},"task":{"type":"worker"}}' }),
      /^Variable TF_CONFIG: \/task\/index: expected a non-negative integer/,
    ],
    [
      "kubernetes-training/tfjob",
      withEnv({ TF_CONFIG: "[" }),
      /^Variable TF_CONFIG: not valid JSON/,
    ],
    [
      "local-unknown/docker",
      withEnv({
        CHAMELEON_SECRET_FILES: "DB_PASSWORD",
        DB_PASSWORD: "x",
        DB_PASSWORD_FILE: "/run/secrets/db",
      }),
      /^Variables DB_PASSWORD and DB_PASSWORD_FILE are both set/,
    ],
    [
      "local-unknown/docker",
      withEnv({ CHAMELEON_SECRET_FILES: "DB_PASSWORD", DB_PASSWORD_FILE: "/run/secrets/missing" }),
      /DB_PASSWORD_FILE: file \/run\/secrets\/missing: no such file/,
    ],
    [
      "aws-batch-training/multi-node-child",
      withEnv({ AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: "" }),
      /expected on a child node/,
    ],
    [
      "slurm-training/task",
      withEnv({ SLURM_NODELIST: "gpu[a-b]" }),
      /SLURM_NODELIST "gpu\[a-b\]": bad range/,
    ],
    [
      "slurm-training/task",
      withEnv({ SLURM_NODELIST: "gpu[08-07]" }),
      /SLURM_NODELIST "gpu\[08-07\]": range "08-07" runs backwards/,
    ],
    [
      "slurm-training/task",
      withEnv({ SLURM_NODELIST: "gpu1,,gpu2" }),
      /SLURM_NODELIST "gpu1,,gpu2": expected host names/,
    ],
    [
      "local-unknown/docker",
      withEnv({ CHAMELEON_USER: "ml" }),
      /^Variable CHAMELEON_USER "ml": expected uid:gid/,
    ],
    [
      "azure-ml-training/mpi-job",
      withEnv({ AZ_BATCH_MASTER_NODE: "10.0.0.4:x" }),
      /^Variable AZ_BATCH_MASTER_NODE "10.0.0.4:x": expected "host:port"/,
    ],
  ];
  for (const [id, change, re] of cases) {
    const e = caught(() => planFixture(id, change), `an error for ${id}`);
    if (!(e instanceof InputError)) throw e;
    match(e.message, re);
    equal(e.message.includes("\n"), false);
  }
});

Deno.test("plan() refuses a variable over 128 KiB, since execve would", () => {
  const withBig = (length: number) =>
    worldOf("local-unknown/docker", (s) => ({
      ...s,
      env: { ...s.env, CHAMELEON_SECRET_FILES: "BIG", BIG_FILE: "/run/secrets/big" },
      files: { ...s.files, "/run/secrets/big": "x".repeat(length) },
    }));
  // Named by the file it came from (adapters/credentials.ts), with the same limit.
  throws(
    () => planOf(withBig(128 * 1024)),
    /Variable BIG_FILE: file \/run\/secrets\/big: BIG would be 131077 bytes/,
  );
  // MAX_ARG_STRLEN counts the NUL after "BIG=value": 131,072 bytes in all is the most execve takes.
  equal(planOf(withBig(131_067)).env["BIG"]?.length, 131_067);
  throws(
    () => planOf(withBig(131_068)),
    /BIG would be 131073 bytes with its terminating NUL: larger than the 131072 bytes/,
  );
});

Deno.test("plan() refuses what execve would cut or split: '=' or NUL in a name, NUL in a value or word", () => {
  const w = worldOf("local-unknown/docker");
  const planWith = (fragment: ReturnType<Adapter["plan"]>) =>
    plan(w, detect(w), DEFAULT_CONFIG, {
      // In place of the command adapter, which would disagree on the command.
      adapters: [...ADAPTERS.filter((a) => a.name !== "command"), {
        name: "odd",
        plan: () => fragment,
      }],
    });
  const cases: [ReturnType<Adapter["plan"]>, RegExp][] = [
    [{ env: [{ name: "A=B", kind: "fill", value: "1" }] }, /^Variable "A=B": expected a name/],
    [{ env: [{ name: "A\0", kind: "set", value: "1" }] }, /^Variable "A\\u0000": expected/],
    [{ env: [{ name: "", kind: "set", value: "1" }] }, /^Variable "": expected a name that is not/],
    [
      { env: [{ name: "A", kind: "set", value: "x\0y" }] },
      /^Variable A: expected a value without NUL/,
    ],
    [
      { command: { command: ["python3", "-c", "x\0y"], cwd: null, shell: false } },
      /^Command word 2: expected a word without NUL \(execve would cut it there\)$/,
    ],
    // A lone surrogate has no UTF-8 form: the program would get U+FFFD in its place.
    [
      { env: [{ name: "A", kind: "set", value: "x\ud800y" }] },
      /^Variable A: expected a value without a lone surrogate/,
    ],
    [
      { env: [{ name: "A\udc80", kind: "set", value: "1" }] },
      /^Variable "A\\udc80": expected a name without a lone surrogate/,
    ],
    [
      { command: { command: ["python3", "-c", "x\ud800"], cwd: null, shell: false } },
      /^Command word 2: expected a word without a lone surrogate/,
    ],
    // A word execve cannot pass: exit 78 before anything is applied, not 126 at exec.
    [
      { command: { command: ["echo", "é".repeat(65_536)], cwd: null, shell: false } },
      /^Command word 1 would be 131073 bytes with its terminating NUL: larger than the 131072 bytes/,
    ],
    [
      { command: { command: ["x".repeat(131_072)], cwd: null, shell: true } },
      /^Command word 0 would be 131073 bytes/,
    ],
    // The first word that cannot pass is named, whatever the reason of a later one.
    [
      { command: { command: ["x\ud800", "a\0b"], cwd: null, shell: false } },
      /^Command word 0: expected a word without a lone surrogate/,
    ],
    // Long texts (from 1,024 units) are asked another way: the same answers.
    [
      { env: [{ name: "A", kind: "set", value: "x".repeat(5000) + "\0" }] },
      /^Variable A: expected a value without NUL/,
    ],
    [
      { env: [{ name: "A", kind: "set", value: "é".repeat(5000) + "\udc00" }] },
      /^Variable A: expected a value without a lone surrogate/,
    ],
    [
      { command: { command: ["echo", "\ud800" + "x".repeat(1023)], cwd: null, shell: false } },
      /^Command word 1: expected a word without a lone surrogate/,
    ],
  ];
  for (const [fragment, re] of cases) {
    const e = caught(() => planWith(fragment), `an error for ${JSON.stringify(fragment)}`);
    if (!(e instanceof InputError)) throw e;
    equal(e.exitCode, 78);
    match(e.message, re);
  }
  equal(planWith({ env: [{ name: "A", kind: "set", value: "x=y" }] }).env["A"], "x=y");
  const paired = "\u{1F600}".repeat(3000) + "é";
  equal(planWith({ env: [{ name: "A", kind: "set", value: paired }] }).env["A"], paired);
  // 131,071 bytes and the NUL: the most execve takes, taken.
  const longest = { command: ["echo", "x".repeat(131_071)], cwd: null, shell: false };
  equal(planWith({ command: longest }).command?.[1]?.length, 131_071);
});

Deno.test("plan() reads an opted-in VAR_FILE secret, unsets VAR_FILE, and shows it redacted", () => {
  const w = worldOf("local-unknown/docker", (s) => ({
    ...s,
    env: {
      ...s.env,
      CHAMELEON_SECRET_FILES: "DB_PASS, API_TOKEN",
      DB_PASS_FILE: "/run/secrets/db",
      SSL_CERT_FILE: "/etc/ssl/x.pem",
    },
    files: { ...s.files, "/run/secrets/db": "s3cr3t-from-file\n" },
  }));
  const p = planOf(w);
  equal(p.env["DB_PASS"], "s3cr3t-from-file");
  equal(p.envDisplay["DB_PASS"], "<redacted>");
  deepEqual(p.unset, ["DB_PASS_FILE"]);
  equal(
    "SSL_CERT_FILE" in p.env || p.unset.includes("SSL_CERT_FILE"),
    false,
    "other *_FILE variables are left alone",
  );
  ok(p.secrets.includes("s3cr3t-from-file"));
  // Not opted in: VAR_FILE is left alone.
  const off = planOf(worldOf("local-unknown/docker", withEnv({ DB_PASS_FILE: "/run/secrets/db" })));
  equal("DB_PASS" in off.env, false);
});

Deno.test("plan() switches user from CHAMELEON_USER with explicit groups, keeping the environment", () => {
  const p = planFixture("local-unknown/docker", withEnv({ CHAMELEON_USER: "1000:100:100,27" }));
  deepEqual(p.user, {
    uid: 1000,
    gid: 100,
    groups: [100, 27],
    name: "ml",
    home: "/run/chameleon/home/1000",
  });
  deepEqual([p.env["USER"], p.env["LOGNAME"]], ["ml", "ml"]);
});

Deno.test("plan() switches to the config user when root, and never as non-root", () => {
  const config: ImageConfig = {
    ...DEFAULT_CONFIG,
    user: { name: "ml", uid: 1000, gid: 100, groups: [100], home: "/home/ml" },
    settings: { ...DEFAULT_CONFIG.settings, switchUser: "when-root" },
  };
  const home = withDir("/home/ml", 1000, 100);
  const root = planOf(worldOf("local-unknown/docker", home), config);
  deepEqual(root.user, { uid: 1000, gid: 100, groups: [100], name: "ml", home: "/home/ml" });
  equal(root.env["HOME"], "/home/ml");
  equal("XDG_CACHE_HOME" in root.env, false, "a writable HOME needs no cache moves");
  const nonRoot = planOf(worldOf("local-unknown/bare-metal"), config);
  equal(nonRoot.user, null);
  // SageMaker training, processing and serving expect root: no switch by default.
  equal(planOf(worldOf("sagemaker-training/single-host", home), config).user, null);
  equal(planOf(worldOf("sagemaker-serving/real-time", home), config).user, null);
  // Slurm, Modal and Databricks launchers own the identity (reference/platforms.md B.4, B.8, B.10).
  const asRoot = (s: Snapshot): Snapshot => ({ ...home(s), uid: 0, gid: 0, groups: [0] });
  for (const id of ["slurm-unknown/task", "modal-unknown/function", "databricks-unknown/driver"]) {
    equal(planOf(worldOf(id, asRoot), config).user, null, id);
  }
  // ... unless an override for that context asks for it.
  const forced: ImageConfig = {
    ...config,
    overrides: [{ match: "sagemaker-serving", settings: { switchUser: "when-root" } }],
  };
  equal(planOf(worldOf("sagemaker-serving/real-time", home), forced).user?.uid, 1000);
});

Deno.test("plan() honours docker-stacks NB_* only for notebooks, and warns when not root", () => {
  const nb = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    (s) => ({ ...s, uid: 0, gid: 0, groups: [0], env: { ...s.env, NB_UID: "1001" } }),
  );
  deepEqual([nb.user?.uid, nb.user?.gid, nb.user?.name, nb.user?.groups], [1001, 100, "jovyan", [
    100,
  ]]);
  const notNotebook = planFixture(
    "local-unknown/docker",
    withEnv({ NB_USER: "x", NB_UID: "1001" }),
  );
  equal(notNotebook.user, null);
  const asUser = planFixture("kubernetes-notebook/kubeflow-notebook", withEnv({ NB_UID: "2000" }));
  equal(asUser.user, null);
  ok(asUser.warnings.some((w) => /not root: no user switch/.test(w)));
});

Deno.test("plan() refuses a serving port that is no port number (exit 78 naming the variable)", () => {
  const cases: [string, string, string][] = [
    ["sagemaker-serving/pipeline-member", "SAGEMAKER_BIND_TO_PORT", "abc"],
    ["vertex-ai-serving/prediction", "AIP_HTTP_PORT", "http"],
    ["kubernetes-serving/knative", "PORT", "70000"],
  ];
  for (const [id, name, value] of cases) {
    const e = caught(() => planFixture(id, withEnv({ [name]: value })));
    if (!(e instanceof InputError)) throw e;
    equal(e.message, `Variable ${name} "${value}": expected a port from 1 to 65535`);
  }
  equal(
    planFixture("kubernetes-serving/knative", withEnv({ PORT: "9000" })).env["ML_PORT"],
    "9000",
  );
  // Only Knative sets PORT: on a raw KServe pod it is somebody else's, neither used nor checked.
  for (const port of ["9000", "tcp://10.0.0.1:80"]) {
    equal(
      planFixture("kubernetes-serving/kserve-raw", withEnv({ PORT: port })).env["ML_PORT"],
      "8080",
    );
  }
});

Deno.test("plan() refuses ids beyond 2^32 - 2 (setgroups would wrap 2^32 to root's group 0)", () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ["local-unknown/docker", { CHAMELEON_USER: "1000:100:4294967296" }, /^Variable CHAMELEON_USER/],
    ["local-unknown/docker", { CHAMELEON_USER: "4294967295:0" }, /up to 4294967294$/],
    ["kubernetes-notebook/kubeflow-notebook", { NB_GID: "4294967296" }, /^Variable NB_GID/],
  ];
  for (const [id, env, re] of cases) {
    const e = caught(() => planFixture(id, (s) => ({ ...withEnv(env)(s), uid: 0, gid: 0 })));
    if (!(e instanceof InputError)) throw e;
    match(e.message, re);
  }
  equal(
    planFixture("local-unknown/docker", withEnv({ CHAMELEON_USER: "4294967294:0" })).user?.uid,
    4294967294,
  );
});

Deno.test("plan() as root switches groups alone when CHAMELEON_USER keeps the uid", () => {
  const p = planFixture("local-unknown/docker", withEnv({ CHAMELEON_USER: "0:100:100" }));
  deepEqual([p.user?.uid, p.user?.gid, p.user?.groups, p.user?.name], [0, 100, [100], "root"]);
  equal(planFixture("local-unknown/docker", withEnv({ CHAMELEON_USER: "0:0:0" })).user, null);
  // Not root: a request for other groups is a warning, not silence.
  const asUser = planFixture(
    "local-unknown/bare-metal",
    (s) => withEnv({ CHAMELEON_USER: `${s.uid}:${s.gid}:${s.gid},5` })(s),
  );
  ok(asUser.warnings.some((w) => /asks for .*,5, but .* not root/.test(w)), asUser.warnings.join());
});

Deno.test("plan() names a notebook user NB_USER with /home/NB_USER, as docker-stacks renames it", () => {
  // The image's passwd calls uid 1000 "ml" with /home/ml; the pod asks for jovyan.
  const p = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    (s) => ({ ...s, uid: 0, gid: 0, groups: [0] }),
  );
  deepEqual([p.user?.name, p.user?.home], ["jovyan", "/home/jovyan"]);
  deepEqual([p.env["USER"], p.env["HOME"]], ["jovyan", "/home/jovyan"]);
  equal(p.dirs.some((d) => d.path === "/home/ml"), false, "no new empty home");
});

Deno.test("plan() gives a docker-stacks notebook user its /etc/group memberships, as sudo -u does", () => {
  // ml (uid 1000) is listed in sudo (27) and users (100).
  const p = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    (s) => ({ ...withEnv({ NB_UID: "1000", NB_GID: "100" })(s), uid: 0, gid: 0, groups: [0] }),
  );
  deepEqual(p.user?.groups, [100, 27]);
  // A uid of its own takes no other user's groups through a default name that is not its own.
  const other = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    (s) => ({ ...ownNbEnv({ NB_UID: "1001" })(s), uid: 0, gid: 0, groups: [0] }),
  );
  deepEqual(other.user?.groups, [100]);
  // Not root, running as the notebook user: groups worked out from /etc/group ask for nothing.
  const nonRoot = planFixture("kubernetes-notebook/kubeflow-notebook");
  deepEqual(nonRoot.warnings.filter((w) => w.includes("no user switch")), []);
});

Deno.test("plan() names passwd lines as docker-stacks does, never with another uid's name", () => {
  const nb = "kubernetes-notebook/kubeflow-notebook";
  const asRoot = (env: Record<string, string>) => (s: Snapshot): Snapshot => ({
    ...ownNbEnv(env)(s),
    uid: 0,
    gid: 0,
    groups: [0],
    files: { ...s.files, "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so": "" },
  });
  const line = (p: Plan, uid: number) =>
    p.files.find((f) => f.path.endsWith("/passwd"))?.content.split("\n")
      .find((l) => l.split(":")[2] === String(uid));
  // NB_UID alone: the default name (the config's, else jovyan) unless passwd gives it to another uid.
  const config = configFromYaml("user: {name: ml, uid: 1000, gid: 100, home: /home/ml}\n");
  const renamed = planOf(new World(asRoot({ NB_UID: "1234" })(fixture(nb))), config);
  equal(renamed.user?.name, "user1234");
  ok(line(renamed, 1234)?.startsWith("user1234:x:1234:"), line(renamed, 1234));
  // NB_USER given as another uid's name: kept, as asked, with a warning.
  const asked = planFixture(nb, asRoot({ NB_UID: "1234", NB_USER: "ml" }));
  equal(asked.user?.name, "ml");
  ok(
    asked.warnings.some((w) => w.includes("NB_USER ml is another uid's name")),
    asked.warnings.join(),
  );
  // Not root, as uid 1234 without an entry, NB_USER as given.
  const asUid1234 = (nbUser: string) =>
    planFixture(nb, (s) => ({
      ...ownNbEnv({ NB_USER: nbUser })(s),
      uid: 1234,
      files: { ...s.files, "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so": "" },
    }));
  // docker-stacks appends NB_USER for it.
  const nonRoot = asUid1234("alice");
  ok(line(nonRoot, 1234)?.startsWith("alice:x:1234:"), line(nonRoot, 1234));
  // Another uid's name, asked for: kept, with the same warning as a switch gives.
  const theirs = asUid1234("ml");
  ok(
    theirs.warnings.some((w) => w.includes("NB_USER ml is another uid's name")),
    theirs.warnings.join(),
  );
  // One that cannot be a passwd name stops nothing when no switch is planned: user<uid>.
  const odd = asUid1234("a:b");
  ok(line(odd, 1234)?.startsWith("user1234:x:1234:"), line(odd, 1234));
});

Deno.test("plan() gives a passwd entry with an empty home the per-uid home, not an empty HOME", () => {
  const p = planFixture("local-unknown/docker", (s) => ({
    ...withEnv({ CHAMELEON_USER: "1500:100" })(s),
    uid: 0,
    gid: 0,
    groups: [0],
    files: {
      ...s.files,
      "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nsvc:x:1500:100:svc::/bin/sh\n",
    },
  }));
  equal(p.env["HOME"], `${p.runtimeDir}/home/1500`);
  equal(p.dirs.some((d) => d.path === ""), false);
});

Deno.test("plan() warns that CHOWN_HOME and CHOWN_EXTRA change nothing without a user switch", () => {
  const p = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    (s) => ({
      ...ownNbEnv({ CHOWN_HOME: "1", CHOWN_EXTRA: "/data" })(s),
      uid: 0,
      gid: 0,
      groups: [0],
    }),
  );
  equal(p.user, null);
  deepEqual(p.steps.filter((x) => x.step === "chown"), []);
  ok(p.warnings.some((w) => w.includes("no user switch is planned")), p.warnings.join());
});

Deno.test("plan() refuses an NB_USER that is no user name: it becomes a passwd line and a home (exit 78)", () => {
  const root = (s: Snapshot) => ({ ...s, uid: 0, gid: 0, groups: [0] });
  for (
    const bad of ["evil:x:0:0:r:/root:/bin/sh\nx", "../../etc", "a/b", "-x", "..", "a b", "#x"]
  ) {
    const e = caught(() =>
      planFixture(
        "kubernetes-notebook/kubeflow-notebook",
        (s) => withEnv({ NB_USER: bad })(root(s)),
      )
    );
    if (!(e instanceof InputError)) throw new Error(`${JSON.stringify(bad)}: ${e}`);
    match(e.message, /^Variable NB_USER ".*": expected a user name/);
    equal(e.exitCode, 78);
  }
  // What useradd and usermod take is taken (Debian takes "jane.doe").
  for (const good of ["data_sci-2", "jane.doe", "Jovyan"]) {
    const p = planFixture(
      "kubernetes-notebook/kubeflow-notebook",
      (s) => withEnv({ NB_USER: good })(root(s)),
    );
    equal(p.user?.home, `/home/${good}`);
  }
  // Not root: no switch, so the name is not used and not checked (a warning says so).
  const nonRoot = planFixture(
    "kubernetes-notebook/kubeflow-notebook",
    withEnv({ NB_USER: "a:b" }),
  );
  equal(nonRoot.user, null);
});

Deno.test("plan() uses the /run/chameleon an image prepared group-writable, in a /run the uid cannot write", () => {
  const base = fixture("kubernetes-unknown/openshift"); // a random uid in group 0
  const prepared = {
    ...base,
    dirs: [...base.dirs, "/run", "/run/chameleon"],
    stat: {
      ...base.stat,
      "/run": { uid: 0, gid: 0, mode: "0755" },
      "/run/chameleon": { uid: 0, gid: 0, mode: "0775" },
    },
  };
  equal(planOf(new World(prepared)).runtimeDir, "/run/chameleon");
  const closed = {
    ...prepared,
    stat: { ...prepared.stat, "/run/chameleon": { uid: 0, gid: 0, mode: "0755" } },
  };
  equal(planOf(new World(closed)).runtimeDir, "/tmp/chameleon");
  equal(planOf(new World(withEnv({ CHAMELEON_RUNTIME_DIR: "/rt//" })(base))).runtimeDir, "/rt");
  equal(planOf(new World(withEnv({ CHAMELEON_RUNTIME_DIR: "/" })(base))).runtimeDir, "/");
  const e = caught(() => planOf(new World(withEnv({ CHAMELEON_RUNTIME_DIR: "rel/dir" })(base))));
  if (!(e instanceof InputError)) throw new Error(`expected exit 78, got ${e}`);
  equal(
    e.message,
    'Variable CHAMELEON_RUNTIME_DIR "rel/dir": expected an absolute path (the command may run in another folder)',
  );
});

Deno.test("plan() gives a uid /tmp/chameleon-<uid> when /tmp/chameleon is another uid's (a /tmp users share)", () => {
  const base = fixture("slurm-training/task"); // uid 1000, a /run it cannot write
  const withShared = (owner: number) => ({
    ...base,
    dirs: [...base.dirs, "/tmp/chameleon"],
    stat: { ...base.stat, "/tmp/chameleon": { uid: owner, gid: owner, mode: "0755" } },
  });
  equal(planOf(new World(base)).runtimeDir, "/tmp/chameleon");
  equal(planOf(new World(withShared(1000))).runtimeDir, "/tmp/chameleon");
  equal(planOf(new World(withShared(1001))).runtimeDir, "/tmp/chameleon-1000");
  // Root's own, left by a root start on the node, is another uid's too.
  equal(planOf(new World(withShared(0))).runtimeDir, "/tmp/chameleon-1000");
  // Root gets /tmp/chameleon-0 when /run is read-only and a user has /tmp/chameleon.
  const root = { ...withShared(1000), uid: 0, gid: 0, groups: [0] };
  const readOnly = {
    ...root,
    stat: { ...root.stat, "/run": { uid: 0, gid: 0, mode: "0755", readOnly: true } },
  };
  equal(planOf(new World(readOnly)).runtimeDir, "/tmp/chameleon-0");
  equal(planOf(new World(root)).runtimeDir, "/run/chameleon");
});

Deno.test("plan() takes /run/chameleon only as a folder: a writable file there is no runtime dir", () => {
  const base = fixture("kubernetes-unknown/openshift"); // a random uid in group 0
  const file = {
    ...base,
    dirs: [...base.dirs, "/run"],
    files: { ...base.files, "/run/chameleon": "" },
    stat: {
      ...base.stat,
      "/run": { uid: 0, gid: 0, mode: "0755" },
      "/run/chameleon": { uid: 0, gid: 0, mode: "0666" },
    },
  };
  equal(planOf(new World(file)).runtimeDir, "/tmp/chameleon");
});

Deno.test("planPaths records the CHAMELEON_RUNTIME_DIR given and every folder above it, so a replay sees who can reach it", () => {
  const given = worldOf("local-unknown/docker", withEnv({ CHAMELEON_RUNTIME_DIR: "/scratch/rt/" }));
  const own = { kind: "stat", path: `/tmp/chameleon-${given.snapshot.uid}` };
  deepEqual(planPaths.dynamicPaths!(given, DEFAULT_CONFIG), [
    own,
    { kind: "stat", path: "/scratch/rt" },
    { kind: "stat", path: "/scratch" },
    { kind: "stat", path: "/" },
  ]);
  deepEqual(planPaths.dynamicPaths!(worldOf("local-unknown/docker"), DEFAULT_CONFIG), [own]);
});

Deno.test("plan() moves HOME and caches for an unwritable HOME and names an anonymous uid", () => {
  const base = fixture("kubernetes-unknown/openshift");
  const withLib = {
    ...base,
    files: { ...base.files, "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so": "" },
  };
  const p = planOf(new World(withLib));
  equal(p.env["HOME"], "/tmp/chameleon/home/1000650000");
  equal(p.env["HF_HOME"], "/tmp/chameleon/home/1000650000/.cache/huggingface");
  equal(p.env["LD_PRELOAD"], "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so");
  equal(p.env["NSS_WRAPPER_PASSWD"], "/tmp/chameleon/passwd");
  const passwd = p.files.find((f) => f.path === "/tmp/chameleon/passwd")!;
  ok(
    passwd.content.endsWith(
      "user1000650000:x:1000650000:0:user1000650000:/tmp/chameleon/home/1000650000:/bin/sh\n",
    ),
  );
  equal(p.umask, 0o002, "OpenShift keeps files group-writable");
  // Without nss_wrapper but with a group-writable /etc/passwd: a passwd entry step.
  const writable = {
    ...base,
    stat: { ...base.stat, "/etc/passwd": { uid: 0, gid: 0, mode: "0664" } },
  };
  equal(
    planOf(new World(writable)).steps.find((s) => s.step === "passwd-entry")?.step,
    "passwd-entry",
  );
  // Neither: a warning.
  ok(planOf(new World(base)).warnings.some((w) => /no passwd entry/.test(w)));
});

Deno.test("plan() keeps a HOME or cache folder the image config gives when the uid can write it, live as in replay", () => {
  const base = fixture("kubernetes-unknown/openshift");
  const config = configFromYaml("env:\n  set: {HOME: /home/ml, HF_HOME: /models/hf}\n");
  // Group 0 may write both (OpenShift's random uid runs with group 0).
  const stat = {
    ...base.stat,
    "/home/ml": { uid: 1000, gid: 0, mode: "0775" },
    "/models/hf": { uid: 1000, gid: 0, mode: "0775" },
  };
  const p = planOf(new World({ ...base, stat }), config);
  equal(p.env["HOME"], "/home/ml");
  equal(p.env["HF_HOME"], "/models/hf");
  // A live start records what the plan decides on: the config's folders are declared.
  const declared = user.dynamicPaths!(new World(base), config).map((d) => d.path);
  for (const path of ["/home/ml", "/models/hf"]) ok(declared.includes(path), path);
  // A relative value names no folder to record (a capture refuses relative paths).
  const relative = configFromYaml("env:\n  fill: {XDG_CACHE_HOME: rel/cache}\n");
  equal(user.dynamicPaths!(new World(base), relative).some((d) => d.path === "rel/cache"), false);
});

Deno.test('plan() refuses a HOME that would break or add passwd lines (":", a line break)', () => {
  const base = fixture("kubernetes-unknown/openshift");
  for (const home of ["/data/x\nevil::0:0::", "/data/a:b"]) {
    const s = {
      ...base,
      env: { ...base.env, HOME: home },
      files: { ...base.files, "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so": "" },
      stat: { ...base.stat, [home]: { uid: 1000650000, gid: 0, mode: "0755" } },
    };
    const e = caught(() => planOf(new World(s)));
    if (!(e instanceof InputError)) {
      throw new Error(`expected exit 78 for ${JSON.stringify(home)}, got ${e}`);
    }
    equal(
      e.message,
      `Variable HOME ${
        JSON.stringify(home)
      }: expected a path without ":" or line breaks (it goes into the passwd entry of uid 1000650000)`,
    );
  }
});

Deno.test("plan() moves HOME when a switched-to user's home and its folder are missing, and makes it when only the home is", () => {
  const s = fixture("local-unknown/docker");
  const withHome = (home: string) =>
    new World({
      ...s,
      env: { ...s.env, CHAMELEON_USER: "1000650000:0" },
      files: {
        ...s.files,
        "/etc/passwd": `${s.files["/etc/passwd"] ?? ""}ghost:x:1000650000:0::${home}:/bin/sh\n`,
      },
    });
  // A stale entry (its home under a temp folder that is gone): the runtime home, with a warning.
  const stale = planOf(withHome("/tmp/gone-123/home/ghost"));
  equal(stale.user?.home, "/run/chameleon/home/1000650000");
  equal(stale.env["HOME"], "/run/chameleon/home/1000650000");
  ok(stale.warnings.some((w) => /\/tmp\/gone-123\/home\/ghost .*does not exist/.test(w)));
  ok(stale.dirs.some((d) => d.path === "/run/chameleon/home/1000650000"));
  // Only the home is missing: root makes it, owned by the user.
  const fresh = planOf(withHome("/tmp/ghost"));
  equal(fresh.env["HOME"], "/tmp/ghost");
  deepEqual(fresh.dirs.find((d) => d.path === "/tmp/ghost")?.owner, { uid: 1000650000, gid: 0 });
});

Deno.test("user.dynamicPaths records the passwd home of every uid a switch can go to, and its folder", () => {
  const s = fixture("local-unknown/docker");
  const passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234::/srv/work/app:/bin/sh\n" +
    `nb:x:1000650000:0::/data/nb:/bin/sh\njov:x:1000:100::/data/jov:/bin/sh\n`;
  const config = configFromYaml("user: {name: app, uid: 1234, gid: 1234, home: /home/app}\n");
  const paths = (env: Record<string, string>, c: ImageConfig = config) =>
    user.dynamicPaths!(
      new World({ ...s, env: { ...s.env, ...env }, files: { ...s.files, "/etc/passwd": passwd } }),
      c,
    ).map((d) => d.path);
  const base = paths({});
  // The config user's passwd home (which the plan prefers to the config's), both homes' folders.
  for (const p of ["/srv/work/app", "/srv/work", "/home/app", "/home"]) ok(base.includes(p), p);
  // NB_UID's passwd home (1000 when only NB_USER is given and no config user), and CHAMELEON_USER's.
  ok(paths({ NB_UID: "1000650000" }).includes("/data/nb"));
  ok(paths({ NB_USER: "jov" }, DEFAULT_CONFIG).includes("/data/jov"));
  ok(paths({ CHAMELEON_USER: "1000650000:0" }).includes("/data/nb"));
});

Deno.test("plan() plans docker-stacks CHOWN_HOME and CHOWN_EXTRA, skipping what is owned right", () => {
  const s = fixture("local-unknown/docker");
  const w = new World({
    ...s,
    env: {
      ...s.env,
      CHAMELEON_USER: "1000:100",
      CHOWN_HOME: "yes",
      CHOWN_EXTRA: "/data,/models",
      CHOWN_EXTRA_OPTS: "-R",
    },
    dirs: [...s.dirs, "/home/ml", "/data", "/models"],
    stat: {
      ...s.stat,
      "/home/ml": { uid: 1000, gid: 100, mode: "0755" },
      "/data": { uid: 0, gid: 0, mode: "0755" },
    },
  });
  const chowns = planOf(w).steps.filter((x) => x.step === "chown");
  deepEqual(chowns.map((c) => c.step === "chown" && [c.path, c.recursive]), [["/data", true], [
    "/models",
    true,
  ]]);
  // Blanks separate paths too, as docker-stacks' start.sh splits the list.
  const blanks = new World({
    ...w.snapshot,
    env: { ...w.snapshot.env, CHOWN_EXTRA: " /data /models,\t/cache " },
  });
  deepEqual(
    planOf(blanks).steps.flatMap((x) => x.step === "chown" ? [x.path] : []),
    ["/data", "/models", "/cache"],
  );
});

Deno.test("plan() keeps a root-owned home as HOME when CHOWN_HOME makes it the user's", () => {
  const s = fixture("local-unknown/docker");
  const env = { ...s.env, CHAMELEON_USER: "1000:100" };
  const snap = withDir("/home/ml", 0, 0)({ ...s, env });
  const chowned = planOf(new World({ ...snap, env: { ...env, CHOWN_HOME: "yes" } }));
  equal(chowned.env["HOME"], "/home/ml");
  deepEqual(
    chowned.steps.filter((x) => x.step === "chown").map((c) => c.step === "chown" && c.path),
    ["/home/ml"],
  );
  equal(chowned.warnings.some((w) => w.includes("not writable")), false, chowned.warnings.join());
  // Without CHOWN_HOME, the unwritable home moves to the runtime dir.
  equal(planOf(new World(snap)).env["HOME"], "/run/chameleon/home/1000");
  // A passwd home outside /home (nobody's "/" on some images) is never chowned: it moves.
  const slash = planOf(
    new World({
      ...snap,
      env: { ...env, CHAMELEON_USER: "998:998", CHOWN_HOME: "yes" },
      files: {
        ...snap.files,
        "/etc/passwd": `${snap.files["/etc/passwd"]}svc:x:998:998::/:/bin/sh\n`,
      },
    }),
  );
  equal(slash.env["HOME"], "/run/chameleon/home/998");
  deepEqual(slash.steps.filter((x) => x.step === "chown"), []);
});

Deno.test("plan() never makes /nonexistent, Debian's home of nobody: the per-uid home instead", () => {
  const s = fixture("local-unknown/docker");
  const p = planOf(new World({ ...s, env: { ...s.env, CHAMELEON_USER: "65534:65534" } }));
  ok(s.files["/etc/passwd"]?.includes(":65534:65534:nobody:/nonexistent:"), "the fixture's nobody");
  equal(p.env["HOME"], "/run/chameleon/home/65534");
  deepEqual(p.dirs.map((d) => d.path), ["/run/chameleon/home/65534"]);
  deepEqual(p.warnings, []);
});

Deno.test("expandNodelist() expands Slurm host lists", () => {
  deepEqual(expandNodelist("gpu[07-09,12],cpu1"), ["gpu07", "gpu08", "gpu09", "gpu12", "cpu1"]);
  deepEqual(expandNodelist("a[1-2]-b[3-4]"), ["a1-b3", "a1-b4", "a2-b3", "a2-b4"]);
  deepEqual(expandNodelist("node1"), ["node1"]);
});

Deno.test("plan() waits for every host only on multi-host contexts, with the configured timeout", () => {
  deepEqual(
    planFixture("sagemaker-training/multi-host").steps.filter((s) => s.step === "wait-for-hosts"),
    [
      {
        step: "wait-for-hosts",
        hosts: ["algo-1", "algo-2", "algo-3", "algo-4"],
        timeoutSeconds: 900,
      },
    ],
  );
  equal(planFixture("sagemaker-training/single-host").steps.length, 0);
  const cfg = {
    ...DEFAULT_CONFIG,
    settings: { ...DEFAULT_CONFIG.settings, hostWait: { timeoutSeconds: 60 } },
  };
  const p = planOf(worldOf("sagemaker-training/multi-host"), cfg);
  equal(
    p.steps.find((s) => s.step === "wait-for-hosts")?.step === "wait-for-hosts" &&
      (p.steps[0] as { timeoutSeconds: number }).timeoutSeconds,
    60,
  );
  equal(
    planOf(worldOf("sagemaker-training/multi-host", withEnv({ SM_STUDIO_LOCAL_MODE: "true" })))
      .steps.length,
    0,
  );
});

Deno.test("plan() decides the run mode and failure reporting", () => {
  deepEqual([
    planFixture("sagemaker-training/single-host").mode,
    planFixture("sagemaker-training/single-host").failureReport?.path,
  ], ["supervise", "/opt/ml/output/failure"]);
  equal(
    planFixture("sagemaker-processing/processing-job").failureReport?.path,
    "/opt/ml/output/message",
  );
  equal(planFixture("local-unknown/cgroup-v2").mode, "supervise", "PID 1 without an init");
  equal(planFixture("local-unknown/docker").mode, "exec", "tini is PID 1");
  equal(planFixture("sagemaker-serving/real-time").failureReport, null);
});

Deno.test("plan() runs in the mode the image config names, a Spark cluster always supervised", () => {
  const supervise = configFromYaml("mode: supervise\n");
  const exec = configFromYaml("mode: exec\n");
  const tini = planFixture("local-unknown/docker", undefined, supervise);
  deepEqual([tini.mode, tini.modeReason], ["supervise", "image config: mode supervise"]);
  equal(planFixture("local-unknown/cgroup-v2", undefined, exec).mode, "exec", "PID 1, no init");
  match(planFixture("local-unknown/docker").modeReason, /^tini is PID 1/);
  // The Spark master host outlives the command to stop the cluster, whatever the config says.
  const w = worldOf("local-unknown/docker");
  const spark: Adapter = {
    name: "spark",
    plan: () => ({
      steps: [{
        step: "spark-cluster",
        role: "primary",
        master: "h0",
        masterPort: 7077,
        webUiPort: 8080,
        hosts: ["h0"],
        currentHost: "h0",
        sparkHome: "/opt/spark",
        timeoutSeconds: 60,
        workerCores: 1,
      }],
    }),
  };
  equal(plan(w, detect(w), exec, { adapters: [spark] }).mode, "supervise");
});

Deno.test("plan() reports failures to a file on SageMaker only: other training contexts have none", () => {
  for (const id of ["vertex-ai-training/multi-worker", "kubernetes-training/pytorchjob"]) {
    const p = planFixture(id);
    // tini is PID 1 there: nothing needs the entrypoint once the command runs.
    deepEqual([p.failureReport, p.mode], [null, "exec"], id);
  }
});

Deno.test("plan() gives the same answer for a snapshot with no files at all", () => {
  const p = planOf(new World(snap({ env: { PATH: "/usr/bin" } })));
  equal(p.env["CHAMELEON_CONTEXT"], "local-unknown");
});

Deno.test("plan() takes a config user's groups from /etc/group when the config names none", () => {
  const config = configFromYaml(
    "user: {name: ml, uid: 1000, gid: 100, home: /home/ml}\nswitchUser: when-root\n",
  );
  const sw = planOf(
    worldOf("local-unknown/docker", (s) => ({
      ...s,
      files: { ...s.files, "/etc/group": "users:x:100:\nvideo:x:44:ml\nrender:x:105:other,ml\n" },
    })),
    config,
  );
  deepEqual(sw.user?.groups, [100, 44, 105]);
});

Deno.test("mergeEnv() redacts secret names in the display only, and shows the rest as set", () => {
  const fills = (...names: string[]) => ({
    adapter: "a",
    ops: names.map((name) => ({ name, kind: "fill" as const, value: `v-${name}` })),
  });
  const secret = mergeEnv({}, [fills("API_TOKEN", "Y")]);
  deepEqual(secret.env, { API_TOKEN: "v-API_TOKEN", Y: "v-Y" });
  deepEqual(secret.display, { API_TOKEN: "<redacted>", Y: "v-Y" });
  // Names that Object.prototype also has are variables like any other.
  const plain = mergeEnv({}, [fills("toString", "constructor"), { adapter: "b", ops: [] }]);
  deepEqual(plain.env, { toString: "v-toString", constructor: "v-constructor" });
  deepEqual(plain.display, plain.env);
});

Deno.test("utf8Length() counts what TextEncoder writes, lone surrogates included", () => {
  const samples = [
    "",
    "abc",
    "café",
    "€1",
    "\u{1F600}x",
    "\ud800",
    "a\udc00b",
    "\ud83d",
    "\udbff\udfff",
  ];
  const r = rng(11);
  for (let n = 0; n < 500; n++) {
    samples.push(
      String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(r() * 0x10000))),
    );
  }
  for (const s of samples) {
    equal(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s));
  }
  // Long texts (from 1,024 units) are remembered with their counts: texts of one length but other
  // bytes one after the other (a pair, lone halves, a two-byte letter at one place), and random
  // texts of every kind of unit.
  const long: string[] = ["x".repeat(1024), "x".repeat(200_000), "é".repeat(50_000)];
  for (const at of [16_382, 16_383, 16_384, 16_385, 32_767, 32_768]) {
    for (const piece of ["\u{1F600}", "\ud83d", "\ude00", "\ude00\ud83d", "é"]) {
      long.push("a".repeat(at) + piece + "b".repeat(20_000));
    }
  }
  for (let n = 0; n < 20; n++) {
    const units = Array.from(
      { length: 1024 + Math.floor(r() * 40_000) },
      () => r() < 0.5 ? 0x61 : Math.floor(r() * 0x10000),
    );
    long.push(units.map((u) => String.fromCharCode(u)).join(""));
  }
  for (const s of long) {
    equal(utf8Length(s), new TextEncoder().encode(s).length, `${s.length} units`);
  }
});

Deno.test("mergeEnv() lets an adapter's later op on a name replace its earlier one", () => {
  const twice = (adapter: string, first: string, second: string) => ({
    adapter,
    ops: [
      { name: "X", kind: "fill" as const, value: first },
      { name: "Y", kind: "fill" as const, value: "y" },
      { name: "X", kind: "set" as const, value: second },
    ],
  });
  const once = mergeEnv({}, [twice("a", "1", "2")]);
  deepEqual(once.env, { X: "2", Y: "y" });
  deepEqual(Object.keys(once.env), ["X", "Y"], "the name keeps its first place");
  deepEqual(mergeEnv({}, [twice("a", "1", "2"), op("b", "fill", "2")]).env, { X: "2", Y: "y" });
  throws(
    () => mergeEnv({}, [twice("a", "1", "2"), op("b", "fill", "1")]),
    /Adapters a and b disagree on X: "2" vs "1"/,
  );
});

Deno.test("mergeEnv() lets fills that disagree stand aside when the user set the variable", () => {
  deepEqual(mergeEnv({ X: "mine" }, [op("a", "fill", "1"), op("b", "fill", "2")]).env, {});
  deepEqual(mergeEnv({ X: "mine" }, [op("a", "fill", "1"), op("b", "set", "2")]).env, { X: "2" });
  throws(
    () => mergeEnv({ X: "" }, [op("a", "fill", "1"), op("b", "fill", "2")]),
    /Adapters a and b disagree on X/,
    "an empty value is not a value: the fills still apply and still conflict",
  );
});

Deno.test("plan() lets other adapters see a proxy an opted-in VAR_FILE gives, and only an opted-in one", () => {
  const proxied = (env: Record<string, string>, proxy: string) =>
    planOf(worldOf("local-unknown/docker", (s) => ({
      ...s,
      env: { ...s.env, HTTPS_PROXY_FILE: "/run/secrets/proxy", ...env },
      files: { ...s.files, "/run/secrets/proxy": proxy },
    })));
  const optIn = { CHAMELEON_SECRET_FILES: "HTTPS_PROXY" };
  const p = proxied(optIn, "http://u:pw@proxy:3128\n");
  equal(p.env["HTTPS_PROXY"], "http://u:pw@proxy:3128");
  ok(p.env["NO_PROXY"]?.includes("169.254.169.254"), "the command runs behind that proxy");
  // Not opted in: no proxy, nothing to bypass it.
  equal("NO_PROXY" in proxied({}, "http://u:pw@proxy:3128\n").env, false);
  // A file holding only a line end gives no proxy either.
  equal("NO_PROXY" in proxied(optIn, "\n").env, false);
});

Deno.test("mergeEnv() takes a value read from an opted-in VAR_FILE as given: fills stand aside", () => {
  const fromFile = {
    adapter: "credentials",
    ops: [{ name: "X", kind: "set" as const, value: "s" }],
  };
  deepEqual(mergeEnv({}, [fromFile, op("config", "fill", "default")], ["X"]).env, { X: "s" });
  // Through the plan: the config's fill of the variable does not fight the file's value.
  const w = worldOf("local-unknown/docker", (s) => ({
    ...s,
    env: { ...s.env, CHAMELEON_SECRET_FILES: "DB_PASS", DB_PASS_FILE: "/run/secrets/db" },
    files: { ...s.files, "/run/secrets/db": "from-file" },
  }));
  equal(planOf(w, configFromYaml("env:\n  fill: {DB_PASS: dflt}\n")).env["DB_PASS"], "from-file");
});

Deno.test("mergeEnv() keeps an adapter's append when its later set replaces nothing of it", () => {
  const both = {
    adapter: "a",
    ops: [
      { name: "X", kind: "append" as const, value: "b" },
      { name: "X", kind: "set" as const, value: "a" },
    ],
  };
  deepEqual(mergeEnv({}, [both]).env, { X: "a,b" });
  const setFirst = {
    adapter: "a",
    ops: [
      { name: "X", kind: "set" as const, value: "a" },
      { name: "X", kind: "append" as const, value: "b" },
    ],
  };
  deepEqual(mergeEnv({ X: "mine" }, [setFirst]).env, { X: "a,b" });
});

Deno.test("mergeEnv() writes every merged name after one whose appends add nothing", () => {
  const merged = mergeEnv({ X: "a" }, [
    {
      adapter: "a",
      ops: [
        { name: "X", kind: "append", value: "a" },
        { name: "Y", kind: "set", value: "1" },
      ],
    },
    { adapter: "b", ops: [{ name: "Y", kind: "append", value: "2" }] },
  ]);
  deepEqual(merged.env, { Y: "1,2" });
});

Deno.test("plan() lists every pod of a PyTorchJob and a TrainJob from the operator's names", () => {
  const torch = planFixture("kubernetes-training/pytorchjob");
  equal(torch.env["ML_HOSTS"], '["bert-ft-master-0","bert-ft-worker-0","bert-ft-worker-1"]');
  const trainer = planFixture("kubernetes-training/trainer-v2");
  equal(
    trainer.env["ML_HOSTS"],
    '["llama-ft-node-0-0.llama-ft","llama-ft-node-0-1.llama-ft"]',
  );
  equal(trainer.env["ML_NODE_RANK"], "1");
  // A master address of another shape (a user's own Service) lists no hosts.
  const custom = planFixture(
    "kubernetes-training/pytorchjob",
    withEnv({ MASTER_ADDR: "10.1.2.3" }),
  );
  equal("ML_HOSTS" in custom.env, false);
});

Deno.test("plan() waits for every pod of a multi-node PyTorchJob and TrainJob", () => {
  for (const f of ["kubernetes-training/pytorchjob", "kubernetes-training/trainer-v2"]) {
    const p = planFixture(f);
    const wait = p.steps.find((s) => s.step === "wait-for-hosts");
    deepEqual(wait?.step === "wait-for-hosts" ? wait.hosts : [], JSON.parse(p.env["ML_HOSTS"]!), f);
  }
});

Deno.test("plan() reports an elastic PyTorchJob without inventing its node count", () => {
  // Elastic mode: PET_NNODES is min:max and torchrun's rendezvous decides the
  // nodes. With a Master replica the operator sets RANK, WORLD_SIZE and
  // PET_NODE_RANK (= RANK); a job of workers only has none of them.
  const elastic = (env: Record<string, string | undefined>) =>
    planFixture("kubernetes-training/pytorchjob", (s) => ({
      ...s,
      env: Object.fromEntries(
        Object.entries({ ...s.env, PET_NNODES: "1:3", PET_RDZV_BACKEND: "c10d", ...env })
          .filter((e): e is [string, string] => e[1] !== undefined),
      ),
    }));
  const p = elastic({ RANK: "2", PET_NODE_RANK: "2" });
  for (const n of ["ML_NUM_NODES", "ML_HOSTS", "PET_NNODES", "PET_NODE_RANK"]) {
    equal(n in p.env, false, n);
  }
  deepEqual([p.env["ML_NODE_RANK"], p.env["ML_IS_MASTER"]], ["2", "false"], "the rank as it is");
  equal(p.env["ML_MASTER_ADDR"], "bert-ft-master-0");
  equal(p.steps.some((s) => s.step === "wait-for-hosts"), false);
  match(String(p.notes["cluster"]), /elastic torchrun \(PET_NNODES 1:3/);
  equal(elastic({}).env["ML_IS_MASTER"], "true");
  // Workers only: no MASTER_ADDR, RANK, WORLD_SIZE or PET_NODE_RANK.
  const workers = elastic({
    MASTER_ADDR: undefined,
    RANK: undefined,
    WORLD_SIZE: undefined,
    PET_NODE_RANK: undefined,
    PET_MASTER_ADDR: undefined,
  });
  for (const n of ["ML_NODE_RANK", "ML_IS_MASTER", "ML_MASTER_ADDR", "ML_NUM_NODES"]) {
    equal(n in workers.env, false, n);
  }
  equal(workers.env["ML_CURRENT_HOST"], "bert-ft-master-0");
  // Their meeting point is the rendezvous endpoint.
  const rdzv = elastic({
    MASTER_ADDR: undefined,
    RANK: undefined,
    PET_NODE_RANK: undefined,
    MASTER_PORT: undefined,
    PET_RDZV_ENDPOINT: "bert-ft-worker-0:29400",
  }).env;
  deepEqual([rdzv["ML_MASTER_ADDR"], rdzv["ML_MASTER_PORT"]], ["bert-ft-worker-0", "29400"]);
  // Without min and max replicas the operator writes the count: still elastic, at the rendezvous,
  // so no pod claims rank 0 and master for itself.
  const counted = elastic({
    PET_NNODES: "3",
    MASTER_ADDR: undefined,
    RANK: undefined,
    WORLD_SIZE: undefined,
    PET_NODE_RANK: undefined,
    PET_MASTER_ADDR: undefined,
    PET_RDZV_ENDPOINT: "bert-ft-worker-0:23456",
  });
  for (const n of ["ML_NODE_RANK", "ML_IS_MASTER", "PET_NODE_RANK", "MASTER_ADDR"]) {
    equal(n in counted.env, false, n);
  }
  equal(counted.env["ML_MASTER_ADDR"], "bert-ft-worker-0");
  match(String(counted.notes["cluster"]), /elastic torchrun \(PET_NNODES 3/);
});

Deno.test("plan() gives a TFJob parameter server or evaluator no rank and never the master's role", () => {
  const tf = (type: string) =>
    planFixture(
      "kubernetes-training/tfjob",
      withEnv({
        TF_CONFIG: JSON.stringify({
          cluster: {
            chief: ["mnist-chief-0.ml.svc:2222"],
            worker: ["mnist-worker-0.ml.svc:2222"],
            ps: ["mnist-ps-0.ml.svc:2222"],
            evaluator: ["mnist-evaluator-0.ml.svc:2222"],
          },
          task: { type, index: 0 },
        }),
      }),
    ).env;
  for (const type of ["ps", "evaluator"]) {
    const env = tf(type);
    equal(env["ML_IS_MASTER"], "false", type);
    equal("ML_NODE_RANK" in env, false, type);
    equal("PET_NODE_RANK" in env, false, type);
    equal(env["ML_CURRENT_HOST"], `mnist-${type}-0.ml.svc`);
  }
  deepEqual([tf("chief")["ML_NODE_RANK"], tf("chief")["ML_IS_MASTER"]], ["0", "true"]);
  deepEqual([tf("worker")["ML_NODE_RANK"], tf("worker")["ML_IS_MASTER"]], ["1", "false"]);
});

Deno.test("plan() takes an Indexed Job's master address from MASTER_ADDR or index 0 itself", () => {
  const indexed = (index: string, extra: Record<string, string> = {}) =>
    planFixture(
      "kubernetes-processing/indexed-job",
      (s) => ({
        ...s,
        env: { ...s.env, JOB_COMPLETION_INDEX: index, CHAMELEON_WORKLOAD: "training", ...extra },
        hostname: `shard-${index}-x8k2l`,
      }),
    ).env;
  deepEqual(
    [indexed("0")["ML_NODE_RANK"], indexed("0")["ML_MASTER_ADDR"]],
    ["0", "shard-0-x8k2l"],
  );
  const third = indexed("3");
  deepEqual([third["ML_NODE_RANK"], third["ML_IS_MASTER"]], ["3", "false"]);
  equal("ML_MASTER_ADDR" in third, false, "not its own name");
  equal(indexed("3", { MASTER_ADDR: "shard-0.svc" })["ML_MASTER_ADDR"], "shard-0.svc");
});

Deno.test("plan() makes AWS Batch's main node torch rank 0 wherever it sits", () => {
  const batch = (index: string, main: string) =>
    planFixture(
      "aws-batch-training/multi-node-child",
      withEnv({ AWS_BATCH_JOB_NODE_INDEX: index, AWS_BATCH_JOB_MAIN_NODE_INDEX: main }),
    ).env;
  const mainNode = batch("2", "2");
  deepEqual([mainNode["ML_NODE_RANK"], mainNode["ML_MASTER_ADDR"]], ["0", "10.0.1.17"]);
  deepEqual(["0", "1", "3"].map((i) => batch(i, "2")["ML_NODE_RANK"]), ["1", "2", "3"]);
  equal(batch("2", "0")["ML_NODE_RANK"], "2");
});

Deno.test("plan() refuses a present but unreadable hyperparameters.json with exit 78", () => {
  const path = "/opt/ml/input/config/hyperparameters.json";
  const e = caught(() =>
    planFixture("sagemaker-training/single-host", (s) => {
      const files = { ...s.files };
      delete files[path];
      return { ...s, files, unreadable: { [path]: "larger than 16 MiB" } };
    })
  );
  if (!(e instanceof InputError)) throw new Error("an unreadable file passed as missing");
  equal(e.exitCode, 78);
  equal(e.message, `File ${path}: larger than 16 MiB`);
});

Deno.test("plan() waits for the hosts of a multi-host SageMaker processing job", () => {
  deepEqual(planFixture("sagemaker-processing/processing-job").steps, [
    { step: "wait-for-hosts", hosts: ["algo-1", "algo-2"], timeoutSeconds: 900 },
  ]);
  equal(
    planFixture(
      "sagemaker-processing/processing-job",
      withFiles({
        "/opt/ml/config/resourceconfig.json": '{"current_host":"algo-1","hosts":["algo-1"]}',
      }),
    ).steps.length,
    0,
  );
});

Deno.test("SAGEMAKER_MULTI_MODEL=false is a single-model endpoint: /opt/ml/model, real-time", () => {
  const base = fixture("sagemaker-serving/multi-model");
  for (
    const [value, variant, dir] of [
      ["true", "multi-model", "/opt/ml/models"],
      ["false", "real-time", "/opt/ml/model"],
    ] as const
  ) {
    const world = new World({ ...base, env: { ...base.env, SAGEMAKER_MULTI_MODEL: value } });
    const d = detect(world);
    deepEqual([d.context.id, d.context.variant], ["sagemaker-serving", variant]);
    equal(plan(world, d, DEFAULT_CONFIG).env["ML_MODEL_DIR"], dir);
  }
});

Deno.test("plan() keeps both NO_PROXY spellings in one order when the config gives one and the user the other, without duplicates from blanks", () => {
  const config = configFromYaml(
    "env:\n  fill:\n    HTTPS_PROXY: http://proxy:3128\n    no_proxy: 'cfg.corp, .svc,'\n",
  );
  const p = planFixture("kubernetes-unknown/pod", withEnv({ NO_PROXY: "user.corp" }), config);
  deepEqual(
    [p.env["no_proxy"], p.env["NO_PROXY"]],
    [
      // The config's value as written, then the missing items; the other spelling in that order.
      "cfg.corp, .svc,user.corp,169.254.169.254,169.254.170.2,10.96.0.1,.cluster.local",
      "cfg.corp,.svc,user.corp,169.254.169.254,169.254.170.2,10.96.0.1,.cluster.local",
    ],
  );
  deepEqual(mergeEnv({}, [op("a", "set", "a, b,"), op("b", "append", "b,c")]).env, {
    X: "a, b,c",
  });
});

Deno.test("plan() appends the proxy exclusions to a NO_PROXY the image config sets, and a config's OTEL_RESOURCE_ATTRIBUTES gets the context's", () => {
  for (const kind of ["set", "fill"]) {
    const config = configFromYaml(
      `env:\n  ${kind}:\n    HTTPS_PROXY: http://proxy:3128\n    NO_PROXY: internal.corp\n` +
        `    OTEL_RESOURCE_ATTRIBUTES: team=ml\n`,
    );
    const p = planFixture("kubernetes-unknown/pod", undefined, config);
    const want = "internal.corp,169.254.169.254,169.254.170.2,10.96.0.1,.svc,.cluster.local";
    deepEqual([p.env["NO_PROXY"], p.env["no_proxy"]], [want, want], kind);
    ok(
      p.env["OTEL_RESOURCE_ATTRIBUTES"]!.startsWith("team=ml,k8s."),
      p.env["OTEL_RESOURCE_ATTRIBUTES"],
    );
  }
});

Deno.test("plan() starts a Studio space whose resource-metadata.json is broken: nothing needs it", () => {
  const broken = (env: Record<string, string | undefined>) => (s: Snapshot): Snapshot => ({
    ...s,
    env: Object.fromEntries(
      Object.entries({ ...s.env, ...env }).filter((e): e is [string, string] => e[1] !== undefined),
    ),
    files: { ...s.files, "/opt/ml/metadata/resource-metadata.json": '{"AppType": "JupyterLab",' },
  });
  for (const env of [{}, { SAGEMAKER_SPACE_NAME: undefined }]) {
    const w = worldOf("sagemaker-notebook/jupyterlab", broken(env));
    equal(detect(w).context.id, "sagemaker-notebook");
    equal(planOf(w).env["ML_PORT"], "8888");
  }
});

Deno.test("plan() sizes the thread pools by the ML_NUM_CPUS the program gets, the user's own included", () => {
  // A quota of 4 CPUs on 8.
  const fourOf8 = (env: Record<string, string>) => (s: Snapshot): Snapshot => ({
    ...withEnv(env)(s),
    files: {
      ...s.files,
      "/sys/fs/cgroup/cpu.max": "400000 100000\n",
      "/sys/fs/cgroup/cpuset.cpus.effective": "0-7\n",
    },
  });
  const threads = (p: Plan) =>
    ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"].map((n) => p.env[n]);
  const quota = planFixture("local-unknown/cgroup-v2", fourOf8({}));
  equal(quota.env["ML_NUM_CPUS"], "4");
  deepEqual(threads(quota), ["4", "4", "4"]);
  deepEqual(threads(planFixture("local-unknown/cgroup-v2", fourOf8({ ML_NUM_CPUS: "1" }))), [
    "1",
    "1",
    "1",
  ]);
  // Not a whole number of CPUs: the quota decides.
  deepEqual(threads(planFixture("local-unknown/cgroup-v2", fourOf8({ ML_NUM_CPUS: "x" }))), [
    "4",
    "4",
    "4",
  ]);
});

Deno.test("plan() takes a GPU count the image config gives, none included", () => {
  // Two GPU devices; the image's author says how many the program should use.
  for (const count of ["0", "1"]) {
    const config = configFromYaml(`env:\n  fill: {ML_NUM_GPUS: "${count}"}\n`);
    equal(planOf(worldOf("local-unknown/gpu-workstation"), config).env["ML_NUM_GPUS"], count);
  }
});

Deno.test("plan() runs the hooks the start's own uid may execute, without dotfiles or ~ backups", () => {
  const dir = "/etc/chameleon/hooks.d/before-run";
  const hooks: Record<string, { uid: number; gid: number; mode: string }> = {
    ".hidden": { uid: 0, gid: 0, mode: "0755" },
    "10-a.sh~": { uid: 0, gid: 0, mode: "0755" },
    "20-root-only": { uid: 0, gid: 0, mode: "0744" },
    "30-all": { uid: 0, gid: 0, mode: "0755" },
    "40-group": { uid: 0, gid: 1000, mode: "0750" },
    "50-others-x": { uid: 0, gid: 0, mode: "0605" },
  };
  const change = (uid: number) => (s: Snapshot): Snapshot => ({
    ...s,
    uid,
    gid: uid,
    groups: [uid],
    dirs: [...s.dirs, "/etc/chameleon/hooks.d", dir],
    files: {
      ...s.files,
      ...Object.fromEntries(Object.keys(hooks).map((n) => [`${dir}/${n}`, ""])),
    },
    stat: {
      ...s.stat,
      ...Object.fromEntries(Object.entries(hooks).map(([n, st]) => [`${dir}/${n}`, st])),
    },
  });
  const hooksOf = (p: Plan) => p.steps.flatMap((s) => s.step === "hooks" ? s.hooks : []);
  // Root: any execute bit.
  deepEqual(hooksOf(planFixture("local-unknown/docker", change(0))), [
    "20-root-only",
    "30-all",
    "40-group",
    "50-others-x",
  ]);
  // Another uid: the owner's, group's or others' bit that applies to it.
  const user = planFixture("local-unknown/docker", change(1000));
  deepEqual(hooksOf(user), ["30-all", "40-group", "50-others-x"]);
  ok(user.warnings.some((w) => w.includes("20-root-only is not executable (for uid 1000)")));
});

Deno.test("CHAMELEON_CONTEXT, _PLATFORM and _WORKLOAD hold the decision even where an option overrode the environment's values", () => {
  const world = worldOf(
    "sagemaker-training/single-host",
    withEnv({ CHAMELEON_CONTEXT: "sagemaker-training", CHAMELEON_PLATFORM: "sagemaker" }),
  );
  const decided = (inputs: { context?: string; workload?: string }) => {
    const p = plan(world, detect(world, inputs), DEFAULT_CONFIG);
    const program = { ...world.snapshot.env, ...p.env }; // what the command gets
    return ["CHAMELEON_CONTEXT", "CHAMELEON_PLATFORM", "CHAMELEON_WORKLOAD"].map((n) => program[n]);
  };
  deepEqual(decided({ workload: "serving" }), ["sagemaker-serving", "sagemaker", "serving"]);
  deepEqual(decided({ context: "local" }), ["local-training", "local", "training"]);
  // Values that say what the decision says stay as given: a platform alone is the user's input.
  const platformOnly = worldOf(
    "sagemaker-training/single-host",
    withEnv({ CHAMELEON_CONTEXT: "sagemaker" }),
  );
  const p = plan(platformOnly, detect(platformOnly), DEFAULT_CONFIG);
  deepEqual(
    [p.env["CHAMELEON_CONTEXT"], p.env["CHAMELEON_WORKLOAD"]],
    [undefined, "training"],
    "a fill under the given value is no change to make",
  );
});

Deno.test("mergeEnv() appends with the op's own separator, after a set's value, without empty items", () => {
  const ops = (adapter: string, ...list: EnvOp[]) => ({ adapter, ops: list });
  // LD_PRELOAD is a space-separated list: ld.so reads no commas.
  deepEqual(
    mergeEnv({ LD_PRELOAD: "/opt/x.so" }, [
      ops("user", { name: "LD_PRELOAD", kind: "append", value: "/lib/w.so", separator: " " }),
    ]).env,
    { LD_PRELOAD: "/opt/x.so /lib/w.so" },
  );
  // A set wins over the user's value (design section 6), and the append goes after it.
  deepEqual(
    mergeEnv({ X: "mine" }, [op("config", "set", "a"), op("network", "append", "b")]).env,
    { X: "a,b" },
  );
  // A trailing separator, spaced or repeated, leaves no empty item between.
  for (const given of ["a, ", "a,,", "a, ,"]) {
    deepEqual(mergeEnv({ X: given }, [op("network", "append", "b")]).env, { X: "a,b" }, given);
  }
});

Deno.test("mergeEnv() adds each appended item once, drops empty ones, and shows an append after a set's display", () => {
  // Two adapters appending the same new item: it is added once.
  deepEqual(mergeEnv({ X: "a" }, [op("a", "append", "c"), op("b", "append", "c,d")]).env, {
    X: "a,c,d",
  });
  // An empty item inside an appended list is no item.
  deepEqual(mergeEnv({ X: "a" }, [op("a", "append", "b,,c")]).env, { X: "a,b,c" });
  // What is shown of a set with its own display gets the appended items too.
  const shown = mergeEnv({}, [
    { adapter: "config", ops: [{ name: "X", kind: "set", value: "real", display: "shown" }] },
    op("network", "append", "b"),
  ]);
  deepEqual([shown.env["X"], shown.display["X"]], ["real,b", "shown,b"]);
});

Deno.test("mergeEnv() hides whole only the values of secret names, and shows a merged name's own value", () => {
  const merged = mergeEnv({}, [
    { adapter: "a", ops: [{ name: "SHOWN", kind: "fill", value: "real", display: "shown" }] },
    { adapter: "b", ops: [{ name: "API_TOKEN", kind: "fill", value: "t0ken-value" }] },
  ]);
  // A display that differs without a secret name is no secret for the logs.
  deepEqual(merged.hidden, ["t0ken-value"]);
  deepEqual(merged.display, { SHOWN: "shown", API_TOKEN: "<redacted>" });
  // Two adapters agreeing on a name: what is shown is the merged op's, not the first op's display.
  const again = mergeEnv({}, [
    { adapter: "a", ops: [{ name: "Y", kind: "fill", value: "v", display: "<hidden>" }] },
    { adapter: "b", ops: [{ name: "Y", kind: "set", value: "v" }] },
  ]);
  deepEqual(again.display, { Y: "v" });
});

Deno.test("plan() turns two adapters' different users, files or set-and-unset into exit 78", () => {
  const w = worldOf("local-unknown/docker");
  const stub = (name: string, fragment: ReturnType<Adapter["plan"]>): Adapter => ({
    name,
    plan: () => fragment,
  });
  const user = (uid: number) => ({
    uid,
    gid: uid,
    groups: [uid],
    name: `u${uid}`,
    home: `/home/u${uid}`,
    why: "test",
  });
  const cases: [Adapter[], RegExp][] = [
    [
      [stub("one", { user: user(1000) as never }), stub("two", { user: user(1001) as never })],
      /Adapters one and two disagree on the user: "1000:1000" vs "1001:1001"/,
    ],
    [
      [
        stub("one", { files: [{ path: "/x", content: "a", mode: 0o644 }] as never }),
        stub("two", { files: [{ path: "/x", content: "b", mode: 0o644 }] as never }),
      ],
      /Adapters one and two disagree on file \/x: "a" vs "b"/,
    ],
    // The same content in another mode or for another owner is a conflict too.
    [
      [
        stub("one", { files: [{ path: "/x", content: "a", mode: "0600" }] }),
        stub("two", { files: [{ path: "/x", content: "a", mode: "0644" }] }),
      ],
      /Adapters one and two disagree on file \/x: "mode 0600" vs "mode 0644"/,
    ],
    [
      [
        stub("one", { dirs: [{ path: "/d", mode: "0700", owner: { uid: 1000, gid: 100 } }] }),
        stub("two", { dirs: [{ path: "/d", mode: "0700" }] }),
      ],
      /Adapters one and two disagree on folder \/d: "owner 1000:100" vs "owner unchanged"/,
    ],
    // Contents differ: shown as --explain shows them, a secret's hidden.
    [
      [
        stub("one", {
          files: [{ path: "/x", content: "k=s3cr3t", display: "k=<redacted>", mode: "0600" }],
        }),
        stub("two", { files: [{ path: "/x", content: "k=other", mode: "0600" }] }),
      ],
      /^Adapters one and two disagree on file \/x: "k=<redacted>" vs "k=other"$/,
    ],
    [
      [
        stub("one", { env: [{ name: "DB_PASS_FILE", kind: "set", value: "/run/s" }] }),
        stub("two", { unset: ["DB_PASS_FILE"] }),
      ],
      /^Variable DB_PASS_FILE is both set and unset by the plan$/,
    ],
  ];
  // Agreeing on a file or folder: it is planned once.
  const same = plan(w, detect(w), DEFAULT_CONFIG, {
    adapters: ["one", "two"].map((name) =>
      stub(name, {
        files: [{ path: "/x", content: "a", mode: "0644" }],
        dirs: [{ path: "/d", mode: "0700" }],
      })
    ),
  });
  deepEqual([same.files.length, same.dirs.length], [1, 1]);
  for (const [adapters, message] of cases) {
    const e = caught(() => plan(w, detect(w), DEFAULT_CONFIG, { adapters }));
    if (!(e instanceof InputError)) throw new Error(`no conflict reported for ${message}`);
    equal(e.exitCode, 78);
    match(e.message, message);
  }
});

Deno.test("plan() drops what the user asks to leave out, warns of the values it loses, and gives hooks the plan's", () => {
  const w = worldOf(
    "local-unknown/docker",
    withEnv({ DROPPED: "user-value", OWN_ONLY: "u", SOLO: "s0" }),
  );
  const given: Adapter = {
    name: "given",
    plan: () => ({
      env: [
        { name: "DROPPED", kind: "set", value: "plan-value", display: "plan-shown" },
        { name: "ALSO", kind: "set", value: "x" },
        { name: "KEPT", kind: "set", value: "k" },
        { name: "SOLO", kind: "set", value: "s" },
      ],
    }),
  };
  const asks = (names: string[], hooks: boolean): Adapter => ({
    name: "user",
    plan: () => ({
      drop: { names, askedBy: "JUPYTER_ENV_VARS_TO_UNSET" },
      ...(hooks
        ? { steps: [{ step: "hooks", phase: "before-run", dir: "/h", hooks: ["a"] }] }
        : {}),
    }),
  });
  const asked = ["DROPPED", "ALSO", "ABSENT", "OWN_ONLY"];
  const p = plan(w, detect(w), DEFAULT_CONFIG, { adapters: [given, asks(asked, true)] });
  deepEqual(p.env, { KEPT: "k", SOLO: "s" });
  deepEqual(p.envDisplay, { KEPT: "k", SOLO: "s" });
  deepEqual(p.unset, asked);
  deepEqual(p.warnings, [
    "DROPPED, ALSO: left out of the command's environment as JUPYTER_ENV_VARS_TO_UNSET asks, though the plan gives them values",
  ]);
  // Hooks get the value the plan gives, else the environment's; a name with neither is none.
  deepEqual(p.hookOnlyEnv, { DROPPED: "plan-value", ALSO: "x", OWN_ONLY: "u" });
  deepEqual(p.notes["unsetAfterHooks"], ["DROPPED", "ALSO", "OWN_ONLY"]);
  // One name; and no hooks step: nothing runs that would get the values.
  const one = plan(w, detect(w), DEFAULT_CONFIG, { adapters: [given, asks(["SOLO"], false)] });
  deepEqual(one.warnings, [
    "SOLO: left out of the command's environment as JUPYTER_ENV_VARS_TO_UNSET asks, though the plan gives it a value",
  ]);
  equal("unsetAfterHooks" in one.notes, false);
  // Names the plan gives no value: unset without a warning.
  const none = plan(w, detect(w), DEFAULT_CONFIG, { adapters: [given, asks(["OWN_ONLY"], false)] });
  deepEqual([none.unset, none.warnings], [["OWN_ONLY"], []]);
});

Deno.test("plan() takes the command part as the command adapter gives it, and hides every known secret in it", () => {
  const w = worldOf("local-unknown/docker");
  const stub: Adapter = {
    name: "command",
    plan: () => ({
      env: [{ name: "API_TOKEN", kind: "set", value: "plan-only-secret" }],
      command: {
        command: ["run", "--key", "k3y-val", "plan-only-secret", "frag-secret"],
        display: ["run", "--key", "<redacted>", "plan-only-secret", "frag-secret"],
        cwd: "/work",
        shell: true,
      },
      secrets: ["frag-secret"],
    }),
  };
  const p = plan(w, detect(w), DEFAULT_CONFIG, { adapters: [stub] });
  deepEqual([p.cwd, p.shell], ["/work", true]);
  deepEqual(p.command, ["run", "--key", "k3y-val", "plan-only-secret", "frag-secret"]);
  // A secret-named value the plan gives and a secret an adapter found are secrets as the world's are.
  deepEqual(p.commandDisplay, ["run", "--key", "<redacted>", "<redacted>", "<redacted>"]);
  ok(p.secrets.includes("plan-only-secret") && p.secrets.includes("frag-secret"), `${p.secrets}`);
});

Deno.test("plan() notes the overrides that apply and why there is no command; takes the config's umask as octal", () => {
  const config = configFromYaml(
    'umask: "0027"\noverrides:\n  - {match: "local-*", mode: exec}\n',
  );
  const p = planFixture("local-unknown/docker", (s) => ({ ...s, argv: [] }), config);
  deepEqual(p.notes["overrides"], ["local-*"]);
  equal(p.umask, 0o027);
  equal(p.command, null);
  equal(typeof p.notes["commandMissing"], "string");
  equal("overrides" in planFixture("local-unknown/docker").notes, false);
});

Deno.test("plan() supervises SageMaker processing for its failure report, and hides short secret command words", () => {
  const processing = planFixture("sagemaker-processing/processing-job");
  deepEqual([processing.mode, processing.modeReason], [
    "supervise",
    "SageMaker processing: failure reporting",
  ]);
  // A command word that is a secret's whole value is hidden however short; a value that is no
  // secret anywhere ("false") stays visible.
  const w = worldOf(
    "local-unknown/docker",
    withEnv({ API_TOKEN: "abc", TOKENIZERS_PARALLELISM: "false" }),
  );
  const s = { ...w.snapshot, argv: ["run", "abc", "false"] };
  const p = planOf(new World(s));
  deepEqual(p.command, ["run", "abc", "false"]);
  deepEqual(p.commandDisplay, ["run", "<redacted>", "false"]);
});

Deno.test("plan() of a root start refuses an existing runtime dir it writes in that others may write or another uid owns, as apply does: --explain fails as the start would", () => {
  const planIn = (stat: { uid: number; gid: number; mode: string }, user = "54321:54321") =>
    caught(() =>
      planOf(
        new World(snap({
          env: { CHAMELEON_RUNTIME_DIR: "/shared", CHAMELEON_USER: user },
          dirs: ["/shared"],
          stat: { "/shared": stat },
        })),
      ), "a refusal");
  const open = planIn({ uid: 0, gid: 0, mode: "0777" });
  if (!(open instanceof InputError)) throw open;
  equal(open.exitCode, 78);
  equal(
    open.message,
    "Runtime dir /shared: is writable by others (777): a start writes there only when other users cannot replace what it writes (give CHAMELEON_RUNTIME_DIR a folder of root's)",
  );
  const theirs = planIn({ uid: 2000, gid: 2000, mode: "0755" });
  if (!(theirs instanceof InputError)) throw theirs;
  match(theirs.message, /^Runtime dir \/shared: belongs to uid 2000: /);
  // Sticky (a /tmp), or nothing planned in it: as apply, no refusal.
  const world = (mode: string, env: Record<string, string>) =>
    new World(snap({ env, dirs: ["/shared"], stat: { "/shared": { uid: 0, gid: 0, mode } } }));
  ok(
    planOf(world("1777", { CHAMELEON_RUNTIME_DIR: "/shared", CHAMELEON_USER: "54321:54321" })).dirs
      .length > 0,
  );
  equal(planOf(world("0777", { CHAMELEON_RUNTIME_DIR: "/shared" })).dirs.length, 0);
});
