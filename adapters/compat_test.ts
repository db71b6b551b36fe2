import { deepEqual, equal, match, ok } from "@std/assert";
import { InputError } from "../errors.ts";
import { caught, planOf, withEnv, withFiles, worldOf } from "../tests/helpers.ts";
import type { Plan, Snapshot } from "../types.ts";
import { configFromYaml } from "../tests/config_yaml.ts";

/** The image config that turns the `sagemaker` compatibility layer on. */
const COMPAT = configFromYaml("compat:\n  sagemaker: {}\n");

/** The plan of a fixture, changed first, with the compatibility layer on. */
const compatPlan = (id: string, change?: (s: Snapshot) => Snapshot): Plan =>
  planOf(worldOf(id, change), COMPAT);

/** The plan's warnings about SM_HOSTS. */
const hostWarnings = (p: Plan) => p.warnings.filter((w) => w.includes("SM_HOSTS"));

// A one-host SM_HOSTS on a multi-node job makes every node of a SageMaker-style
// script (world size len(hosts), master hosts[0]) a lone master.
const UNKNOWN_HOSTS: [string, string, ((s: Snapshot) => Snapshot)?][] = [
  ["an AWS Batch multi-node child", "aws-batch-training/multi-node-child"],
  ["an AWS Batch multi-node main node", "aws-batch-training/multi-node-main"],
  ["an Azure ML MPI job", "azure-ml-training/mpi-job"],
  [
    "a PyTorchJob whose master is no pod name",
    "kubernetes-training/pytorchjob-worker",
    withEnv({ MASTER_ADDR: "trainer-svc", PET_MASTER_ADDR: "trainer-svc" }),
  ],
  [
    "an elastic PyTorchJob",
    "kubernetes-training/pytorchjob-worker",
    withEnv({ PET_NNODES: "2:4" }),
  ],
];

for (const [what, id, change] of UNKNOWN_HOSTS) {
  Deno.test(`the compatibility layer leaves SM_HOSTS unset, with a warning, on ${what}`, () => {
    const p = compatPlan(id, change);
    equal(p.env["SM_HOSTS"], undefined, "no one-host list for a multi-node job");
    equal(p.env["ML_HOSTS"], undefined, "as the distributed adapter leaves ML_HOSTS");
    ok(p.env["SM_CURRENT_HOST"], "the current host is known");
    const w = hostWarnings(p);
    equal(w.length, 1, JSON.stringify(p.warnings));
    match(w[0]!, /^SM_HOSTS left unset: .*cannot be known on this platform/);
  });
}

Deno.test("the compatibility layer leaves SM_HOSTS unset, with the reason, when the host list is too long for a variable", () => {
  const p = compatPlan("kubernetes-training/pytorchjob-worker", withEnv({ PET_NNODES: "7000" }));
  equal(p.env["SM_HOSTS"], undefined);
  deepEqual(hostWarnings(p), [
    "SM_HOSTS left unset: the list of 7000 hosts would be 152898 bytes, more than the 131072 execve takes for a variable",
  ]);
});

Deno.test("the compatibility layer lists a multi-host SageMaker processing job's hosts from resourceconfig.json", () => {
  const p = compatPlan("sagemaker-processing/processing-job");
  equal(p.env["SM_HOSTS"], '["algo-1","algo-2"]');
  equal(p.env["SM_CURRENT_HOST"], "algo-1");
  deepEqual(hostWarnings(p), []);
});

Deno.test("the compatibility layer lists the processing host of resourceconfig.json that runs this container", () => {
  const rc = '{"current_host": "algo-2", "hosts": ["algo-1", "algo-2", "algo-3"]}';
  const p = compatPlan(
    "sagemaker-processing/processing-job",
    withFiles({ "/opt/ml/config/resourceconfig.json": rc }),
  );
  equal(p.env["SM_HOSTS"], '["algo-1","algo-2","algo-3"]');
  equal(p.env["SM_CURRENT_HOST"], "algo-2");
});

Deno.test("the compatibility layer keeps a one-host SM_HOSTS on single-node jobs", () => {
  const laptop = compatPlan("local-training/argv-train");
  equal(laptop.env["SM_HOSTS"], '["localhost"]');
  // One node: the host list is this host, whatever the master's name.
  const ptj = compatPlan(
    "kubernetes-training/pytorchjob",
    withEnv({
      MASTER_ADDR: "trainer-svc",
      PET_MASTER_ADDR: "trainer-svc",
      PET_NNODES: "1",
      WORLD_SIZE: "1",
    }),
  );
  equal(ptj.env["SM_HOSTS"], '["bert-ft-master-0"]');
  equal(ptj.env["SM_CURRENT_HOST"], "bert-ft-master-0");
  deepEqual([...hostWarnings(laptop), ...hostWarnings(ptj)], []);
});

Deno.test("the compatibility layer keeps the derived host list of a PyTorchJob worker", () => {
  const p = compatPlan("kubernetes-training/pytorchjob-worker");
  equal(p.env["SM_HOSTS"], '["bert-ft-master-0","bert-ft-worker-0","bert-ft-worker-1"]');
  equal(p.env["SM_CURRENT_HOST"], "bert-ft-worker-1");
  deepEqual(hostWarnings(p), []);
});

/** The image config naming a YAML hyperparameters file. */
const YAML_CONFIG = configFromYaml(
  "compat:\n  sagemaker:\n    hyperparametersFile: /etc/hp.yaml\n",
);

/** The plan of a laptop whose hyperparameters file holds `yaml`. */
const yamlPlan = (yaml: string): Plan =>
  planOf(worldOf("local-training/argv-train", withFiles({ "/etc/hp.yaml": yaml })), YAML_CONFIG);

Deno.test("the flat YAML hyperparameters reader keeps a # inside quotes and inside a word", () => {
  const p = yamlPlan(
    [
      "# settings",
      'note: "see #3"',
      "single: 'a #b' # a comment",
      "both: 'it''s #1'",
      'esc: "say \\"#hi\\"\\t#"  # a comment',
      "word: a#b",
      "plain: c # d",
      'flow: ["x #y", 2] # e',
      "lr: 0.001 #f",
      "none: # nothing",
      '"quoted #key": 1',
      "--- # next",
    ].join("\n"),
  );
  equal(
    p.env["SM_HPS"],
    '{"both":"it\'s #1","esc":"say \\"#hi\\"\\t#","flow":["x #y",2],"lr":0.001,' +
      '"none":null,"note":"see #3","plain":"c","quoted #key":1,"single":"a #b","word":"a#b"}',
  );
  equal(p.env["SM_HP_NOTE"], "see #3");
  equal(p.env["SM_HP_SINGLE"], "a #b");
  equal(p.env["SM_HP_WORD"], "a#b");
  // A single-quoted string inside a flow value is no JSON: kept whole as text, its # too.
  equal(yamlPlan("sq: ['a #b', 'it''s #2'] # c").env["SM_HP_SQ"], "['a #b', 'it''s #2']");
  // An apostrophe inside a plain word opens no string: the comment after it is one.
  equal(yamlPlan("flow: [it's, b] # note").env["SM_HP_FLOW"], "[it's, b]");
});

Deno.test("the flat YAML hyperparameters reader refuses what it cannot read (exit 78, file and line)", () => {
  const cases: [string, RegExp][] = [
    ['a: 1\nnote: "see #3', /^File \/etc\/hp\.yaml:2: expected a closing " on the same line$/],
    ["note: 'see", /^File \/etc\/hp\.yaml:1: expected a closing ' on the same line$/],
    ['note: "a" b', /^File \/etc\/hp\.yaml:1: expected a comment or the end of the line/],
    ['note: "a"# b', /^File \/etc\/hp\.yaml:1: expected a comment or the end of the line/],
    ['note: "\\x41"', /^File \/etc\/hp\.yaml:1: expected only JSON escapes/],
    ["a #b: 1", /^File \/etc\/hp\.yaml:1: expected a flat "key: value" line/],
    ["nested:\n  a: 1", /^File \/etc\/hp\.yaml:2: expected a flat "key: value" line/],
  ];
  for (const [yaml, want] of cases) {
    const e = caught(() => yamlPlan(yaml), yaml);
    if (!(e instanceof InputError)) throw e;
    equal(e.exitCode, 78);
    match(e.message, want);
    equal(e.message.includes("\n"), false);
  }
});

Deno.test("the compatibility layer takes a Vertex AI job's dataset splits as channels and its model folder over the config's", () => {
  const config = configFromYaml("compat:\n  sagemaker: {}\npaths:\n  model: /models\n");
  const p = planOf(
    worldOf(
      "vertex-ai-training/custom-job",
      withEnv({
        AIP_TRAINING_DATA_URI: "gs://b/train-*.csv",
        AIP_VALIDATION_DATA_URI: "gs://b/validation-*.csv",
        AIP_TEST_DATA_URI: "gs://b/test-*.csv",
      }),
    ),
    config,
  );
  equal(p.env["SM_CHANNELS"], '["test","train","validation"]');
  deepEqual(
    [p.env["SM_CHANNEL_TRAIN"], p.env["SM_CHANNEL_VALIDATION"], p.env["SM_CHANNEL_TEST"]],
    ["gs://b/train-*.csv", "gs://b/validation-*.csv", "gs://b/test-*.csv"],
  );
  // The config's paths are for platforms that have none (design section 6).
  equal(p.env["SM_MODEL_DIR"], "gs://my-bucket/jobs/1234567890123456789/model/");
});

Deno.test("the compatibility layer takes the folders of the input folder as channels, not its files", () => {
  const config = configFromYaml("compat:\n  sagemaker: {}\npaths:\n  input: /data\n");
  const p = planOf(
    worldOf(
      "local-training/argv-train",
      (s) => ({
        ...s,
        dirs: [...s.dirs, "/data/train", "/data/eval"],
        files: { ...s.files, "/data/README.md": "", "/data/eval/part-0.csv": "" },
      }),
    ),
    config,
  );
  equal(p.env["SM_CHANNELS"], '["eval","train"]');
  deepEqual([p.env["SM_CHANNEL_EVAL"], p.env["SM_CHANNEL_README.MD"]], ["/data/eval", undefined]);
  // A volume's lost+found and hidden folders are no channels (no SageMaker channel has such a name).
  const volume = planOf(
    worldOf(
      "local-training/argv-train",
      (s) => ({
        ...s,
        dirs: [...s.dirs, "/data/train", "/data/lost+found", "/data/.snapshot", "/data/v1.2_x-y"],
      }),
    ),
    config,
  );
  equal(volume.env["SM_CHANNELS"], '["train","v1.2_x-y"]');
  equal(volume.env["SM_CHANNEL_LOST+FOUND"], undefined);
});

Deno.test("the flat YAML hyperparameters reader takes ~ as null and a .yml file as YAML", () => {
  equal(yamlPlan("a: ~\nb: 1\n").env["SM_HPS"], '{"a":null,"b":1}');
  const yml = configFromYaml("compat:\n  sagemaker:\n    hyperparametersFile: /etc/hp.yml\n");
  const p = planOf(
    worldOf("local-training/argv-train", withFiles({ "/etc/hp.yml": "epochs: 3 # three\n" })),
    yml,
  );
  equal(p.env["SM_HPS"], '{"epochs":3}');
});

Deno.test("a compat hyperparameter that cannot become its SM_HP_ variable is exit 78 naming the file or ML_HPS and the hyperparameter", () => {
  const cases: [() => Plan, RegExp][] = [
    [
      () => yamlPlan("lr: 1\na=b: 2\n"),
      /^File \/etc\/hp\.yaml: hyperparameter "a=b" \(variable SM_HP_A=B\): expected a name without "="$/,
    ],
    [
      () => yamlPlan('k: "x\\ud800"\n'),
      /^File \/etc\/hp\.yaml: hyperparameter "k" \(variable SM_HP_K\): expected a value without a lone surrogate/,
    ],
    [
      () => compatPlan("local-training/argv-train", withEnv({ ML_HPS: '{"a=b": 1}' })),
      /^Variable ML_HPS: hyperparameter "a=b" \(variable SM_HP_A=B\): expected a name without "="$/,
    ],
    [
      () => compatPlan("local-training/argv-train", withEnv({ ML_HPS: '{"k": "x\\u0000y"}' })),
      /^Variable ML_HPS: hyperparameter "k" \(variable SM_HP_K\): expected a value without NUL \(execve would cut it there\)$/,
    ],
  ];
  for (const [make, want] of cases) {
    const e = caught(make, String(want));
    if (!(e instanceof InputError)) throw e;
    equal(e.exitCode, 78);
    match(e.message, want);
  }
});

Deno.test("the flat YAML hyperparameters reader wants a space after a key's colon, as YAML does", () => {
  // `a:b` is one plain word to YAML, not a key and a value.
  const e = caught(() => yamlPlan("epochs: 3\na:b\n"));
  if (!(e instanceof InputError)) throw e;
  match(e.message, /^File \/etc\/hp\.yaml:2: expected a flat "key: value" line/);
  // A colon inside the value is the value's.
  equal(yamlPlan("url: http://host:8080/x\n").env["SM_HP_URL"], "http://host:8080/x");
});

Deno.test("the compatibility layer hands a secret nested in a hyperparameter to the log scrubber", () => {
  const p = yamlPlan('db: {"host": "h", "password": "nested-hp-canary"}\n');
  ok(p.env["SM_HP_DB"]?.includes("nested-hp-canary"), "the program gets it");
  equal(JSON.stringify(p.envDisplay).includes("nested-hp-canary"), false);
  ok(p.secrets.includes("nested-hp-canary"), "logs scrub it too");
});

Deno.test("an override with compat.sagemaker.enabled false turns the layer off for the contexts it matches", () => {
  const config = configFromYaml(
    "compat:\n  sagemaker: {}\noverrides:\n  - match: '*-notebook'\n    compat:\n      sagemaker: {enabled: false}\n",
  );
  const smVars = (p: Plan) => Object.keys(p.env).filter((n) => n.startsWith("SM_"));
  ok(smVars(planOf(worldOf("kubernetes-training/pytorchjob"), config)).includes("SM_NUM_CPUS"));
  deepEqual(smVars(planOf(worldOf("kubernetes-notebook/jupyterhub"), config)), []);
  // On by its presence; `enabled: true` is the same.
  const on = configFromYaml("compat:\n  sagemaker: {enabled: true}\n");
  ok(smVars(planOf(worldOf("kubernetes-notebook/jupyterhub"), on)).includes("SM_NUM_CPUS"));
});

Deno.test("the flat YAML hyperparameters reader keeps a # inside a flow value's quoted string only", () => {
  // A double quote after a flow mapping's colon opens a string: its `#` is no comment.
  equal(yamlPlan('m: {"k": "x #y"} # c').env["SM_HPS"], '{"m":{"k":"x #y"}}');
  // An escaped quote does not close the string.
  equal(yamlPlan('l: ["a\\" #b", 1] # c').env["SM_HPS"], '{"l":["a\\" #b",1]}');
  // A double quote inside a plain word opens no string: the comment after it is one.
  equal(yamlPlan('f: [6", 7] # inches').env["SM_HP_F"], '[6", 7]');
});

Deno.test("the flat YAML hyperparameters reader wants a quoted key's colon right after it, then a blank", () => {
  for (const yaml of ['"k" 1', '"k":1', "'k'x: 1"]) {
    const e = caught(() => yamlPlan(yaml), yaml);
    if (!(e instanceof InputError)) throw e;
    match(e.message, /^File \/etc\/hp\.yaml:1: expected a flat "key: value" line/);
  }
  equal(yamlPlan("'k': 1").env["SM_HPS"], '{"k":1}');
});

Deno.test("the flat YAML hyperparameters reader takes an upper-case .YAML file as YAML", () => {
  const config = configFromYaml("compat:\n  sagemaker:\n    hyperparametersFile: /etc/HP.YAML\n");
  const p = planOf(
    worldOf("local-training/argv-train", withFiles({ "/etc/HP.YAML": "epochs: 3 # three\n" })),
    config,
  );
  equal(p.env["SM_HPS"], '{"epochs":3}');
});

Deno.test("the compatibility layer takes a SageMaker processing job's output folder over the config's", () => {
  const config = configFromYaml("compat:\n  sagemaker: {}\npaths:\n  output: /out\n");
  const p = planOf(worldOf("sagemaker-processing/processing-job"), config);
  equal(p.env["SM_OUTPUT_DATA_DIR"], "/opt/ml/processing/output/clean");
});

Deno.test("the flat YAML hyperparameters reader skips an indented comment and reads a CRLF file", () => {
  equal(yamlPlan("a: 1\n  # an indented comment\nb: 2\n").env["SM_HPS"], '{"a":1,"b":2}');
  equal(yamlPlan("---\r\na: 1\r\nb: 'x' # c\r\n").env["SM_HPS"], '{"a":1,"b":"x"}');
});
