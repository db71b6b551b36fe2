import { deepEqual, equal, match, ok, throws } from "@std/assert";
import { UsageError } from "../errors.ts";
import { fixture, snap, withFiles, worldOf } from "../tests/helpers.ts";
import { World } from "../world.ts";
import { detect, DETECTORS, parseContextId } from "./mod.ts";
import { env as signalEnv, evaluate, isLinkValue, type PlatformTable } from "./_signals.ts";
import { kubernetes } from "./kubernetes.ts";

const env = (e: Record<string, string>, extra: Parameters<typeof snap>[0] = {}) =>
  new World(snap({ env: e, ...extra }));

Deno.test("detect() prefers aws-batch over ecs", () => {
  const w = env({
    AWS_BATCH_JOB_ID: "j1",
    ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/x",
  });
  equal(detect(w).context.platform, "aws-batch");
  const ecs = detect(w).detectors.find((d) => d.platform === "ecs");
  equal(ecs?.matched, true, "ecs still matches and is reported");
});

Deno.test("detect() prefers aws-batch over kubernetes (Batch on EKS)", () => {
  equal(
    detect(env({ AWS_BATCH_JOB_ID: "j1", KUBERNETES_SERVICE_HOST: "10.0.0.1" })).context.platform,
    "aws-batch",
  );
});

Deno.test("detect() prefers vertex-ai over kubernetes", () => {
  equal(
    detect(env({ CLOUD_ML_JOB_ID: "1", KUBERNETES_SERVICE_HOST: "10.0.0.1" })).context.id,
    "vertex-ai-training",
  );
  equal(
    detect(env({ AIP_MODE: "PREDICTION", KUBERNETES_SERVICE_HOST: "10.0.0.1" })).context.id,
    "vertex-ai-serving",
  );
});

Deno.test("detect() prefers sagemaker over kubernetes", () => {
  const w = env({ TRAINING_JOB_NAME: "j", KUBERNETES_SERVICE_HOST: "10.0.0.1" });
  equal(detect(w).context.id, "sagemaker-training");
});

Deno.test("detect() prefers Knative/KServe serving over a plain pod", () => {
  const base = { KUBERNETES_SERVICE_HOST: "10.0.0.1", POD_NAME: "p" };
  equal(detect(env(base)).context.id, "kubernetes-unknown");
  equal(detect(env({ ...base, K_SERVICE: "s" })).context.id, "kubernetes-serving");
  const raw = env({ ...base, STORAGE_URI: "s3://m" }, { dirs: ["/mnt/models"] });
  equal(detect(raw).context.variant, "kserve-raw");
  // STORAGE_URI without the mount is not a KServe pod.
  equal(detect(env({ ...base, STORAGE_URI: "s3://m" })).context.id, "kubernetes-unknown");
});

Deno.test("detect() prefers serving signals over training ones inside a pod", () => {
  const w = env({ KUBERNETES_SERVICE_HOST: "h", K_SERVICE: "s", MASTER_ADDR: "m", RANK: "0" });
  equal(detect(w).context.id, "kubernetes-serving");
});

Deno.test("detect() tells PyTorchJob v1 from Trainer v2 and an Indexed Job", () => {
  const k = { KUBERNETES_SERVICE_HOST: "h" };
  equal(
    detect(env({ ...k, MASTER_ADDR: "m", RANK: "1", PET_NNODES: "2" })).context.variant,
    "pytorchjob",
  );
  equal(
    detect(env({ ...k, PET_NNODES: "2", JOB_COMPLETION_INDEX: "1" })).context.variant,
    "trainer-v2",
  );
  // An elastic PyTorchJob of workers only: rendezvous variables, no MASTER_ADDR or RANK.
  equal(
    detect(env({ ...k, PET_NNODES: "2:4", PET_RDZV_BACKEND: "c10d" })).context.variant,
    "pytorchjob",
  );
  // One whose operator wrote a replica count (no min and max): its rendezvous still tells.
  equal(
    detect(env({ ...k, PET_NNODES: "3", PET_RDZV_ENDPOINT: "w-0:23456" })).context.variant,
    "pytorchjob",
  );
  // A TrainJob stays one with rendezvous variables: its PET_NNODES is a count.
  equal(
    detect(env({ ...k, PET_NNODES: "2", PET_NODE_RANK: "1", PET_RDZV_BACKEND: "c10d" })).context
      .variant,
    "trainer-v2",
  );
  equal(detect(env({ ...k, JOB_COMPLETION_INDEX: "1" })).context.id, "kubernetes-processing");
  // MASTER_ADDR alone is not a training signal.
  equal(detect(env({ ...k, MASTER_ADDR: "m" })).context.id, "kubernetes-unknown");
});

Deno.test("detect() prefers slurm over kubernetes and local, but needs SLURM_NTASKS or SLURM_JOB_NUM_NODES", () => {
  equal(detect(env({ SLURM_JOB_ID: "1", SLURM_NTASKS: "2" })).context.platform, "slurm");
  const k8s = { KUBERNETES_SERVICE_HOST: "10.0.0.1" };
  equal(detect(env({ ...k8s, SLURM_JOB_ID: "1", SLURM_NTASKS: "2" })).context.platform, "slurm");
  equal(detect(env({ SLURM_JOB_ID: "1" })).context.platform, "local");
  equal(detect(env({ ...k8s, SLURM_JOB_ID: "1" })).context.platform, "kubernetes");
  // `sbatch -N2` without -n: its batch script (and an salloc shell) has no SLURM_NTASKS.
  equal(detect(env({ SLURM_JOB_ID: "1", SLURM_JOB_NUM_NODES: "2" })).context.id, "slurm-unknown");
  equal(detect(env({ SLURM_JOB_NUM_NODES: "2" })).context.platform, "local");
});

Deno.test("detect() prefers Azure ML, Databricks and Modal over the Kubernetes they run on", () => {
  // An Azure ML job on AKS: a pod with torch's variables, which alone read as kubernetes-training.
  const aks = {
    KUBERNETES_SERVICE_HOST: "10.0.0.1",
    MASTER_ADDR: "10.0.0.5",
    RANK: "0",
    WORLD_SIZE: "2",
  };
  equal(detect(env(aks)).context.id, "kubernetes-training");
  equal(detect(env({ ...aks, AZUREML_RUN_ID: "run-1" })).context.platform, "azure-ml");
  const pod = { KUBERNETES_SERVICE_HOST: "10.0.0.1" };
  equal(
    detect(env({ ...pod, DATABRICKS_RUNTIME_VERSION: "15.4" })).context.platform,
    "databricks",
  );
  equal(detect(env({ ...pod, MODAL_TASK_ID: "ta-1" })).context.platform, "modal");
});

Deno.test("detect() prefers kubernetes over an ECS variable leaking into a pod", () => {
  const w = env({
    KUBERNETES_SERVICE_HOST: "10.0.0.1",
    ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/x",
  });
  const d = detect(w);
  equal(d.context.platform, "kubernetes");
  equal(d.detectors.find((r) => r.platform === "ecs")?.matched, true, "ecs matches too");
  equal(detect(env({ ECS_CONTAINER_METADATA_URI_V4: "http://x" })).context.platform, "ecs");
});

Deno.test("detect() treats a SageMaker notebook instance as local", () => {
  const w = worldOf("local-unknown/notebook-instance");
  const d = detect(w);
  equal(d.context.id, "local-unknown");
  const sm = d.detectors.find((r) => r.platform === "sagemaker")!;
  const meta = sm.evidence.find((e) => e.signal.endsWith("resource-metadata.json field AppType"))!;
  equal(meta.found, false);
  match(meta.problem ?? "", /without AppType/);
});

Deno.test("detect() lets an argv word beat platform signals (source argv)", () => {
  const w = worldOf("sagemaker-training/single-host", (s) => ({ ...s, argv: ["serve"] }));
  const c = detect(w).context;
  equal(c.id, "sagemaker-serving");
  equal(c.source, "argv");
  equal(detect(env({}, { argv: ["train"] })).context.id, "local-training");
});

Deno.test("detect() lets a forced workload beat argv and platform signals", () => {
  const w = worldOf("sagemaker-training/single-host");
  const c = detect(w, { workload: "processing" }).context;
  deepEqual([c.id, c.source, c.forced], ["sagemaker-processing", "forced", ["workload"]]);
  const viaEnv = worldOf("sagemaker-training/single-host", (s) => ({
    ...s,
    env: { ...s.env, CHAMELEON_WORKLOAD: "serving" },
  }));
  equal(detect(viaEnv).context.id, "sagemaker-serving");
  // The command line beats the environment.
  equal(detect(viaEnv, { workload: "notebook" }).context.id, "sagemaker-notebook");
});

Deno.test("detect() forces a platform alone and keeps deciding the workload", () => {
  const c = detect(env({}, { argv: ["train"] }), { context: "kubernetes" }).context;
  deepEqual([c.id, c.source, c.forced], ["kubernetes-training", "forced", ["platform"]]);
  equal(detect(env({}), { context: "aws-batch-processing" }).context.id, "aws-batch-processing");
});

Deno.test("detect() uses the config default workload after platform signals", () => {
  const w = env({ KUBERNETES_SERVICE_HOST: "h" });
  const d = detect(w, { defaultWorkload: (p) => (p === "kubernetes" ? "serving" : undefined) });
  deepEqual([d.context.id, d.context.source], ["kubernetes-serving", "config"]);
  const signalled = env({ KUBERNETES_SERVICE_HOST: "h", JOB_COMPLETION_INDEX: "0" });
  equal(detect(signalled, { defaultWorkload: () => "serving" }).context.workload, "processing");
});

Deno.test("detect() rejects unknown or disagreeing forced ids (usage error)", () => {
  throws(() => detect(env({}), { context: "heroku" }), UsageError);
  throws(() => detect(env({}), { context: "sagemaker-cooking" }), UsageError);
  throws(() => detect(env({}), { context: "sagemaker-training", workload: "serving" }), /disagree/);
  throws(
    () => detect(env({ CHAMELEON_CONTEXT: "local-serving", CHAMELEON_WORKLOAD: "training" })),
    /CHAMELEON_WORKLOAD/,
  );
  // Agreeing is fine.
  equal(
    detect(env({}), { context: "sagemaker-training", workload: "training" }).context.id,
    "sagemaker-training",
  );
});

Deno.test("parseContextId() handles platforms with hyphens", () => {
  deepEqual(parseContextId("aws-batch-training", "--context"), {
    platform: "aws-batch",
    workload: "training",
  });
  deepEqual(parseContextId("vertex-ai", "--context"), { platform: "vertex-ai" });
});

Deno.test("detect() isolates a detector that throws and still runs the others", () => {
  const broken: PlatformTable = {
    platform: "modal",
    source: "test",
    match: [{ kind: "env", name: "X", atLeast: 1 }],
    workloads: [],
    get evidence(): never {
      throw new Error("boom");
    },
  };
  const tables = DETECTORS.map((t) => (t.platform === "modal" ? broken : t));
  const d = detect(env({ KUBERNETES_SERVICE_HOST: "h" }), { detectors: tables });
  equal(d.context.platform, "kubernetes");
  const m = d.detectors.find((r) => r.platform === "modal")!;
  deepEqual([m.matched, m.error], [false, "boom"]);
  ok(d.detectors.every((r) => r.platform === "modal" || r.error === undefined));
});

/** The kubernetes table broken in each way its workload rules can throw. */
const brokenKubernetes: Readonly<Record<string, PlatformTable>> = {
  "workloads getter": {
    ...kubernetes,
    get workloads(): never {
      throw new Error("boom");
    },
  },
  "workload when": {
    ...kubernetes,
    workloads: [
      {
        workload: "serving",
        variant: "broken",
        get when(): never {
          throw new Error("boom");
        },
      },
      ...kubernetes.workloads,
    ],
  },
};

const withTable = (table: PlatformTable) =>
  DETECTORS.map((t) => (t.platform === table.platform ? table : t));

Deno.test("detect() isolates a forced platform whose workload rules throw", () => {
  const pod = { KUBERNETES_SERVICE_HOST: "h" };
  for (const [how, table] of Object.entries(brokenKubernetes)) {
    const detectors = withTable(table);
    const cases: [string, () => ReturnType<typeof detect>][] = [
      ["--context", () => detect(env(pod), { context: "kubernetes", detectors })],
      [
        "CHAMELEON_CONTEXT",
        () => detect(env({ ...pod, CHAMELEON_CONTEXT: "kubernetes" }), { detectors }),
      ],
    ];
    for (const [by, run] of cases) {
      const d = run();
      const c = d.context;
      // The forcing still decides the platform; its rules give nothing, so the
      // workload falls back to unknown (design section 2 step 5).
      deepEqual(
        [c.id, c.source, c.variant, c.forced],
        ["kubernetes-unknown", "forced", null, ["platform"]],
        `${how}, forced by ${by}`,
      );
      const k = d.detectors.find((r) => r.platform === "kubernetes")!;
      deepEqual([k.matched, k.error], [false, "boom"], `${how}, forced by ${by}`);
    }
  }
});

Deno.test("detect() falls back to config or the forced workload when forced rules throw", () => {
  const detectors = withTable(brokenKubernetes["workload when"]!);
  const pod = env({ KUBERNETES_SERVICE_HOST: "h" });
  const configured = detect(pod, {
    context: "kubernetes",
    detectors,
    defaultWorkload: (p) => (p === "kubernetes" ? "notebook" : undefined),
  }).context;
  deepEqual([configured.id, configured.source], ["kubernetes-notebook", "forced"]);
  const both = detect(pod, { context: "kubernetes-serving", detectors }).context;
  deepEqual(
    [both.id, both.source, both.variant, both.forced],
    ["kubernetes-serving", "forced", null, ["platform", "workload"]],
  );
});

Deno.test("detect() isolates a workload rule that throws past the first match", () => {
  // The serving rule holds first, so only the argv word makes detect() look
  // further down the table, at the broken notebook rule.
  const table: PlatformTable = {
    ...kubernetes,
    workloads: [
      { workload: "serving", variant: "knative", when: { kind: "env", name: "K_SERVICE" } },
      {
        workload: "notebook",
        variant: "broken",
        get when(): never {
          throw new Error("boom");
        },
      },
    ],
  };
  const w = env({ KUBERNETES_SERVICE_HOST: "h", K_SERVICE: "s" }, { argv: ["notebook"] });
  const d = detect(w, { detectors: withTable(table) });
  // A detector that throws counts as not matched, whichever rule threw.
  deepEqual([d.context.id, d.context.source], ["local-notebook", "argv"]);
  const k = d.detectors.find((r) => r.platform === "kubernetes")!;
  deepEqual([k.matched, k.error], [false, "boom"]);
});

Deno.test("detect() shows a present but malformed platform file as evidence and goes on", () => {
  const w = worldOf(
    "sagemaker-training/single-host",
    withFiles({
      "/opt/ml/input/config/resourceconfig.json": '{"current_host": "algo-1", "hosts": "algo-1"}',
    }),
  );
  const d = detect(w);
  equal(d.context.id, "sagemaker-training");
  const ev = d.detectors.find((r) => r.platform === "sagemaker")!.evidence
    .find((e) => e.signal === "file /opt/ml/input/config/resourceconfig.json")!;
  deepEqual([ev.found, ev.problem], [true, '/hosts: expected an array, got string "algo-1"']);
});

Deno.test("detect() reports an unreadable platform file with its reason", () => {
  const w = new World(
    snap({ unreadable: { "/opt/ml/config/processingjobconfig.json": "permission denied" } }),
  );
  const d = detect(w);
  equal(d.context.id, "sagemaker-processing");
  const ev = d.detectors.find((r) => r.platform === "sagemaker")!.evidence
    .find((e) => e.signal === "file /opt/ml/config/processingjobconfig.json")!;
  equal(ev.problem, "permission denied");
});

Deno.test("detect() redacts secret values shown as evidence", () => {
  const d = detect(worldOf("azure-ml-unknown/command-job"));
  const text = JSON.stringify(d);
  ok(!text.includes("canary"), "AZUREML_RUN_TOKEN leaked");
});

Deno.test("detect() lists every platform in precedence order", () => {
  deepEqual(detect(env({})).detectors.map((d) => d.platform), DETECTORS.map((t) => t.platform));
  const e = new UsageError("x");
  equal(e.exitCode, 2);
});

Deno.test("a composite signal with one half missing shows which half, with the found half's value", () => {
  const base = fixture("slurm-unknown/task");
  const env = { ...base.env };
  delete env["SLURM_NTASKS"];
  delete env["SLURM_JOB_NUM_NODES"];
  const r = detect(new World({ ...base, env })).detectors.find((d) => d.platform === "slurm")!;
  equal(r.matched, false);
  const both = r.evidence.find((e) => e.signal === "env SLURM_JOB_ID and env SLURM_NTASKS")!;
  deepEqual(both.parts?.map((p) => [p.signal, p.found, p.value]), [
    ["env SLURM_JOB_ID", true, env["SLURM_JOB_ID"]],
    ["env SLURM_NTASKS", false, undefined],
  ]);
  // Fully found or fully missing composites carry no parts.
  const full = detect(new World(base)).detectors.find((d) => d.platform === "slurm")!;
  equal(full.evidence.some((e) => e.parts !== undefined), false);
});

Deno.test("detect() counts a variable set to the empty string as absent", () => {
  const d = detect(env({ KUBERNETES_SERVICE_HOST: "" }));
  equal(d.context.id, "local-unknown");
  const k = d.detectors.find((r) => r.platform === "kubernetes")!;
  equal(k.matched, false);
  equal(k.evidence.find((e) => e.signal === "env KUBERNETES_SERVICE_HOST")?.found, false);
});

Deno.test("detect() reads an AWS Batch job of two nodes as multi-node training, and one node as unknown", () => {
  const job = { AWS_BATCH_JOB_ID: "j1" };
  const two = detect(env({ ...job, AWS_BATCH_JOB_NUM_NODES: "2" })).context;
  deepEqual(
    [two.id, two.source, two.variant],
    ["aws-batch-training", "detected", "multi-node"],
  );
  equal(detect(env({ ...job, AWS_BATCH_JOB_NUM_NODES: "1" })).context.id, "aws-batch-unknown");
});

Deno.test("detect() does not take Studio metadata whose AppType is empty for SageMaker", () => {
  const w = env({}, {
    files: { "/opt/ml/metadata/resource-metadata.json": '{"AppType": "", "DomainId": "d-1"}' },
  });
  const d = detect(w);
  equal(d.context.id, "local-unknown");
  const sm = d.detectors.find((r) => r.platform === "sagemaker")!;
  equal(sm.matched, false);
  const meta = sm.evidence.find((e) => e.signal.endsWith("resource-metadata.json field AppType"))!;
  equal(meta.found, false);
  match(meta.problem ?? "", /without AppType/);
});

Deno.test("detect() never shows the value of a secret flag given as the first argument", () => {
  const d = detect(env({}, { argv: ["--hf-token=abcd1234"] }));
  ok(!JSON.stringify(d).includes("abcd1234"), "the token leaked into the detection");
  const sm = d.detectors.find((r) => r.platform === "sagemaker")!;
  const word = sm.evidence.find((e) => e.signal === "argv[0] serve")!;
  deepEqual([word.found, word.value], [false, "--hf-token=<redacted>"]);
});

Deno.test("detect() takes only its own workload words from argv, not names every object inherits", () => {
  for (const word of ["toString", "constructor", "hasOwnProperty", "__proto__"]) {
    const c = detect(env({}, { argv: [word] })).context;
    deepEqual([c.id, c.workload, c.source], ["local-unknown", "unknown", "detected"], word);
  }
});

Deno.test("detect() gives a forced workload the variant of that workload's rule, or none", () => {
  // Both a training rule and the batch-transform rule hold; training comes first in the table.
  const w = env({ TRAINING_JOB_NAME: "j", SAGEMAKER_BATCH: "true" });
  equal(detect(w).context.variant, "training-job");
  const serving = detect(w, { workload: "serving" }).context;
  deepEqual([serving.id, serving.variant], ["sagemaker-serving", "batch-transform"]);
  // No processing rule holds: a forced processing workload has no variant.
  const processing = detect(w, { workload: "processing" }).context;
  deepEqual([processing.id, processing.variant], ["sagemaker-processing", null]);
});

/** Design section 2's platforms in precedence order, each with the least that matches it. */
const DESIGN_PRECEDENCE: [string, Record<string, string>][] = [
  ["aws-batch", { AWS_BATCH_JOB_ID: "j1" }],
  ["vertex-ai", { CLOUD_ML_JOB_ID: "1" }],
  ["azure-ml", { AZUREML_RUN_ID: "run-1" }],
  ["databricks", { DATABRICKS_RUNTIME_VERSION: "15.4" }],
  ["modal", { MODAL_TASK_ID: "ta-1" }],
  ["slurm", { SLURM_JOB_ID: "1", SLURM_NTASKS: "2" }],
  ["sagemaker", { TRAINING_JOB_NAME: "j" }],
  ["kubernetes", { KUBERNETES_SERVICE_HOST: "10.0.0.1" }],
  ["ecs", { ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/x" }],
  ["colab", { COLAB_RELEASE_TAG: "release-colab_20251001" }],
];

Deno.test("detect() takes the earlier platform of design section 2 whenever two match", () => {
  equal(
    detect(env({})).detectors.map((d) => d.platform).join(" "),
    [
      ...DESIGN_PRECEDENCE.map(([p]) => p),
      "local",
    ].join(" "),
  );
  for (const [i, [first, a]] of DESIGN_PRECEDENCE.entries()) {
    for (const [later, b] of DESIGN_PRECEDENCE.slice(i + 1)) {
      equal(detect(env({ ...b, ...a })).context.platform, first, `${first} and ${later}`);
    }
  }
});

Deno.test("detect() matches each platform on each signal design section 2 names, alone", () => {
  const cases: [Record<string, string>, string, string | null][] = [
    [{ AWS_BATCH_JOB_ID: "j", AWS_BATCH_JOB_ARRAY_SIZE: "4" }, "aws-batch-processing", "array"],
    [{ AWS_BATCH_JOB_ID: "j", AWS_BATCH_JOB_ARRAY_INDEX: "0" }, "aws-batch-processing", "array"],
    [
      { AWS_BATCH_JOB_ID: "j", AWS_BATCH_JOB_KUBERNETES_NODE_UID: "u" },
      "aws-batch-unknown",
      "on-eks",
    ],
    [
      { AWS_BATCH_JOB_ID: "j", ECS_CONTAINER_METADATA_URI_V4: "http://x" },
      "aws-batch-unknown",
      "on-ecs",
    ],
    [
      { AWS_BATCH_JOB_ID: "j", ECS_CONTAINER_METADATA_URI: "http://x" },
      "aws-batch-unknown",
      "on-ecs",
    ],
    // Only AIP_MODE=PREDICTION says serving, and it outranks the job id.
    [{ AIP_MODE: "OTHER" }, "vertex-ai-unknown", null],
    [{ AIP_MODE: "PREDICTION", CLOUD_ML_JOB_ID: "1" }, "vertex-ai-serving", "prediction"],
    // Older ECS agents give only the v3 URI (reference/platforms.md section B.6).
    [{ ECS_CONTAINER_METADATA_URI: "http://x" }, "ecs-unknown", null],
    [{ COLAB_RELEASE_TAG: "r" }, "colab-notebook", "colab"],
    [{ COLAB_GPU: "1" }, "colab-notebook", "colab"],
    [{ AZUREML_RUN_ID: "r", AZ_BATCH_MASTER_NODE: "10.0.0.4:6105" }, "azure-ml-unknown", "mpi-job"],
    [{ AZUREML_RUN_ID: "r", OMPI_COMM_WORLD_SIZE: "2" }, "azure-ml-unknown", "mpi-job"],
    [
      { SLURM_JOB_ID: "1", SLURM_NTASKS: "1", SLURM_JOB_NAME: "interactive" },
      "slurm-unknown",
      "interactive",
    ],
    // Only Function containers get MODAL_IS_REMOTE (reference/platforms.md section B.10).
    [{ MODAL_TASK_ID: "ta-1" }, "modal-unknown", null],
  ];
  for (const [e, id, variant] of cases) {
    const c = detect(env(e)).context;
    deepEqual([c.id, c.variant], [id, variant], JSON.stringify(e));
  }
});

Deno.test("detect() reports the local fallback as matched, beside any other platform, with no always evidence", () => {
  for (const e of [{}, { KUBERNETES_SERVICE_HOST: "h" }]) {
    const local = detect(env(e)).detectors.find((d) => d.platform === "local")!;
    equal(local.matched, true);
    deepEqual(local.evidence.map((x) => x.signal), ["file /.dockerenv", "file /run/.containerenv"]);
  }
});

Deno.test("detect() gives a detector's workload and variant only when it matched", () => {
  const d = detect(env({ TF_CONFIG: "{}" }));
  const k = d.detectors.find((r) => r.platform === "kubernetes")!;
  deepEqual([k.matched, k.workload, k.variant], [false, undefined, undefined]);
  const pod = detect(env({ KUBERNETES_SERVICE_HOST: "h", TF_CONFIG: "{}" })).detectors
    .find((r) => r.platform === "kubernetes")!;
  deepEqual([pod.matched, pod.workload, pod.variant], [true, "training", "tfjob"]);
});

Deno.test("detect() names a signal's condition in its evidence, so a set variable shown not found reads right", () => {
  const batch = detect(env({ AWS_BATCH_JOB_ID: "j", AWS_BATCH_JOB_NUM_NODES: "1" })).detectors
    .find((r) => r.platform === "aws-batch")!;
  deepEqual(
    batch.evidence.find((e) => e.signal.startsWith("env AWS_BATCH_JOB_NUM_NODES")),
    { signal: "env AWS_BATCH_JOB_NUM_NODES >= 2", found: false, value: "1" },
  );
  const sm = detect(env({})).detectors.find((r) => r.platform === "sagemaker")!;
  ok(
    sm.evidence.some((e) =>
      e.signal === "argv[0] train|serve and (file /opt/ml/model or file /opt/ml/models)"
    ),
    JSON.stringify(sm.evidence.map((e) => e.signal)),
  );
});

Deno.test("detect() carries a part's problem up to the composite signal that holds it", () => {
  const d = detect(worldOf("local-unknown/notebook-instance"));
  const sm = d.detectors.find((r) => r.platform === "sagemaker")!;
  const studio = sm.evidence.find((e) =>
    e.signal ===
      "(file /opt/ml/metadata/resource-metadata.json field AppType or env SAGEMAKER_APP_TYPE or env SAGEMAKER_SPACE_NAME)"
  )!;
  equal(studio.found, false);
  match(studio.problem ?? "", /without AppType/);
});

Deno.test("detect() reports an unreadable JSON signal file with its reason on the field's evidence", () => {
  const w = new World(
    snap({ unreadable: { "/opt/ml/metadata/resource-metadata.json": "permission denied" } }),
  );
  const sm = detect(w).detectors.find((r) => r.platform === "sagemaker")!;
  const field = sm.evidence.find((e) =>
    e.signal === "file /opt/ml/metadata/resource-metadata.json field AppType"
  )!;
  deepEqual([field.found, field.problem], [false, "permission denied"]);
});

Deno.test("detect() lets --context beat CHAMELEON_CONTEXT", () => {
  const w = env({ CHAMELEON_CONTEXT: "kubernetes" });
  equal(detect(w).context.platform, "kubernetes");
  equal(detect(w, { context: "sagemaker" }).context.platform, "sagemaker");
});

Deno.test("detect() takes empty CHAMELEON_CONTEXT and CHAMELEON_WORKLOAD as unset", () => {
  const c = detect(env({ CHAMELEON_CONTEXT: "", CHAMELEON_WORKLOAD: "", TRAINING_JOB_NAME: "j" }))
    .context;
  deepEqual([c.id, c.source, c.forced], ["sagemaker-training", "detected", []]);
});

Deno.test("detect() decides a forced platform's workload by its own signals, even where it does not match", () => {
  // A TFJob pod's variables replayed off the cluster: no KUBERNETES_SERVICE_HOST.
  const c = detect(env({ TF_CONFIG: "{}" }), { context: "kubernetes" }).context;
  deepEqual([c.id, c.variant, c.source], ["kubernetes-training", "tfjob", "forced"]);
});

Deno.test("detect() gives the facts of the decided platform, a forced one included", () => {
  equal(detect(env({}), { context: "kubernetes" }).facts.container, "kubernetes");
  const pod = env({ KUBERNETES_SERVICE_HOST: "h" }, { files: { "/run/.containerenv": "" } });
  deepEqual(
    [detect(pod).facts.container, detect(pod, { context: "local" }).facts.container],
    ["kubernetes", "podman"],
  );
});

Deno.test("evaluate() shows a secret variable's value redacted", () => {
  const w = env({ AZUREML_RUN_TOKEN: "canary-token", AZUREML_RUN_ID: "run-1" });
  deepEqual(evaluate(signalEnv("AZUREML_RUN_TOKEN"), w).evidence, {
    signal: "env AZUREML_RUN_TOKEN",
    found: true,
    value: "<redacted>",
  });
  equal(evaluate(signalEnv("AZUREML_RUN_ID"), w).evidence.value, "run-1");
});

Deno.test("detect() takes a Service's link variable for no platform signal", () => {
  // A pod in a namespace with a Service named sagemaker-bind-to (say, a bridge to an endpoint):
  // the kubelet gives it SAGEMAKER_BIND_TO_PORT=tcp://..., which no SageMaker container has.
  const w = worldOf("kubernetes-unknown/pod", (s) => ({
    ...s,
    env: {
      ...s.env,
      SAGEMAKER_BIND_TO_SERVICE_HOST: "10.96.33.4",
      SAGEMAKER_BIND_TO_SERVICE_PORT: "8080",
      SAGEMAKER_BIND_TO_PORT: "tcp://10.96.33.4:8080",
      SAGEMAKER_BIND_TO_PORT_8080_TCP: "tcp://10.96.33.4:8080",
      SAGEMAKER_BIND_TO_PORT_8080_TCP_PROTO: "tcp",
      SAGEMAKER_BIND_TO_PORT_8080_TCP_PORT: "8080",
      SAGEMAKER_BIND_TO_PORT_8080_TCP_ADDR: "10.96.33.4",
    },
  }));
  const d = detect(w);
  equal(d.context.id, "kubernetes-unknown");
  const sm = d.detectors.find((x) => x.platform === "sagemaker")!;
  equal(sm.matched, false);
  const ev = sm.evidence.find((e) => e.signal === "env SAGEMAKER_BIND_TO_PORT")!;
  equal(ev.found, false);
  equal(ev.value, "tcp://10.96.33.4:8080");
  equal(
    ev.problem,
    "the link variable of a Service (or docker link) named sagemaker-bind-to, not a port",
  );
  // A port SageMaker gives is a signal, as before.
  const real = env({ SAGEMAKER_BIND_TO_PORT: "8081" });
  equal(detect(real).context.id, "sagemaker-serving");
});

Deno.test("isLinkValue() knows a link variable's value under a _PORT name only", () => {
  // The kubelet joins an IPv6 cluster IP in brackets; docker links give udp ports as udp://.
  for (
    const [name, value] of [
      ["MASTER_PORT", "tcp://10.96.40.2:29500"],
      ["MASTER_PORT", "tcp://[fd00:10:96::2a]:29500"],
      ["STATSD_PORT", "udp://172.17.0.5:8125"],
      ["ML_PORT", "sctp://10.96.3.4:9000"],
    ]
  ) equal(isLinkValue(name!, value), true, `${name}=${value}`);
  for (
    const [name, value] of [
      ["MASTER_PORT", "29500"],
      ["MASTER_PORT", undefined],
      ["MASTER_PORT", "tcp://10.96.40.2"],
      // Not a port's name: a URL is what it means (DogStatsD over UDP).
      ["DD_DOGSTATSD_URL", "udp://10.0.0.1:8125"],
      ["MASTER_PORT_29500_TCP", "tcp://10.96.40.2:29500"],
    ]
  ) equal(isLinkValue(name!, value), false, `${name}=${value}`);
});
