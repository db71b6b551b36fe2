import { deepEqual, equal, match, ok, throws } from "@std/assert";
import { DEFAULT_CONFIG } from "../config.ts";
import { detect } from "../contexts/mod.ts";
import { InputError } from "../errors.ts";
import { caught, fixture, planOf, ROOT, withEnv, withFiles, worldOf } from "../tests/helpers.ts";
import { World } from "../world.ts";
import { decodeHyperparameters, splitHyperparameters } from "./_files.ts";
import { type PyDict, PyFloat, PyInt, pyLoads, type PyValue } from "../pyjson.ts";
import {
  sagemaker,
  sagemakerInputs,
  toCmdArgs,
  toolkitEnv,
  type ToolkitInputs,
} from "./sagemaker.ts";

/** The toolkit's environment dict: what toolkitEnv() emits, collected as Python would. */
function toolkitDict(t: ToolkitInputs): Map<string, string> {
  const dict = new Map<string, string>();
  toolkitEnv(t, (name, value) => dict.set(name, value));
  return dict;
}

const FIXTURES = [
  "single-host",
  "multi-host",
  "heterogeneous",
  "raw-hyperparameters",
  "local-mode",
  "container-entrypoint",
];

// tests/golden/<fixture>.json: the SM_* list, in emitted order, that a Python transcription of
// sagemaker-training-toolkit (v4.7.0 logic, checked byte for byte against a real 2024 job log,
// plus the v5 keys is_smddprun_installed and topology) writes for the fixture's files.
for (const name of FIXTURES) {
  Deno.test(`toolkitEnv() matches the toolkit byte for byte on sagemaker-training/${name}`, () => {
    const world = worldOf(`sagemaker-training/${name}`);
    const got = [...toolkitDict(sagemakerInputs(world, detect(world).facts.gpus))];
    const want = JSON.parse(Deno.readTextFileSync(`${ROOT}/tests/golden/${name}.json`));
    deepEqual(got, want);
  });
}

/** A JSON value as `JSON.parse` gives it, converted (numbers keep JavaScript's reading). */
function fromJs(v: unknown): PyValue {
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") {
    return Number.isInteger(v) && !Object.is(v, -0) ? new PyInt(String(v)) : new PyFloat(v);
  }
  if (Array.isArray(v)) return v.map(fromJs);
  if (typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, fromJs(x)]));
  return String(v);
}

const dict = (o: Record<string, unknown>): PyDict => fromJs(o) as PyDict;
/** Toolkit inputs over defaults; hyperparameters given as one dict, split as the file's are. */
const inputs = (
  { hyperparameters, ...over }: Partial<Omit<ToolkitInputs, "hyperparameters">> & {
    hyperparameters?: PyDict;
  },
): ToolkitInputs => ({
  resourceConfig: dict({ current_host: "algo-1", hosts: ["algo-1"] }),
  inputDataConfig: new Map(),
  env: {},
  numCpus: 8,
  numGpus: 0,
  smddpmprunInstalled: false,
  smddprunInstalled: false,
  ...over,
  hyperparameters: splitHyperparameters(hyperparameters ?? new Map()),
});
const env = (t: ToolkitInputs) => Object.fromEntries(toolkitDict(t));

Deno.test("toolkitEnv() formats raw-string hyperparameters as Python does (toolkit spec §10d)", () => {
  const raw = {
    b: "1.0",
    a: "1e-05",
    big: "12345678901234567890",
    nan: "NaN",
    none: "null",
    s: "False",
    q: '"quoted"',
    u: '"¡ø"',
    nested: '{"z": 1, "a": [1, 2.5, "x"]}',
    x: "[1, [2, 3]]",
    ws: " 7 ",
    lead0: "01",
    neg0: "-0.0",
    LR: "3",
    lr: "4",
  };
  const e = env(inputs({ hyperparameters: decodeHyperparameters(dict(raw)) }));
  equal(
    e["SM_HPS"],
    '{"LR":3,"a":1e-05,"b":1.0,"big":12345678901234567890,"lead0":"01","lr":4,"nan":NaN,"neg0":-0.0,"nested":{"a":[1,2.5,"x"],"z":1},"none":null,"q":"quoted","s":"False","u":"\\u00a1\\u00f8","ws":7,"x":[1,[2,3]]}',
  );
  equal(
    e["SM_USER_ARGS"],
    '["--LR","3","-a","1e-05","-b","1.0","--big","12345678901234567890","--lead0","01","--lr","4","--nan","nan","--neg0","-0.0","--nested","a=[1, 2.5, \'x\'],z=1","--none","","-q","quoted","-s","False","-u","\\u00a1\\u00f8","--ws","7","-x","[1, [2, 3]]"]',
  );
  deepEqual(
    [
      e["SM_HP_B"],
      e["SM_HP_A"],
      e["SM_HP_BIG"],
      e["SM_HP_NAN"],
      e["SM_HP_NONE"],
      e["SM_HP_S"],
      e["SM_HP_U"],
      e["SM_HP_NESTED"],
      e["SM_HP_LR"],
    ],
    [
      "1.0",
      "1e-05",
      "12345678901234567890",
      "NaN",
      "",
      "False",
      "¡ø",
      '{"a":[1,2.5,"x"],"z":1}',
      "4",
    ],
  );
  deepEqual([
    e["SM_USER_ENTRY_POINT"],
    e["SM_MODULE_NAME"],
    e["SM_LOG_LEVEL"],
    e["SM_FRAMEWORK_MODULE"],
  ], ["", "None", "20", ""]);
});

Deno.test("a hyperparameter int over Python's 4,300 digits stays the raw string, as the toolkit keeps it", () => {
  const digits = "9".repeat(4301);
  const e = env(inputs({ hyperparameters: decodeHyperparameters(dict({ big: digits })) }));
  equal(e["SM_HPS"], `{"big":"${digits}"}`);
  equal(e["SM_HP_BIG"], digits);
  const fits = "9".repeat(4300);
  equal(
    env(inputs({ hyperparameters: decodeHyperparameters(dict({ big: fits })) }))["SM_HPS"],
    `{"big":${fits}}`,
  );
});

Deno.test("toolkitEnv() prints 1e400 as Infinity in SM_HPS and true as True in SM_USER_ARGS", () => {
  const e = env(
    inputs({
      hyperparameters: decodeHyperparameters(
        dict({ huge: "1e400", flag: "true", small: "0.0001", x: "1e16" }),
      ),
    }),
  );
  equal(e["SM_HPS"], '{"flag":true,"huge":Infinity,"small":0.0001,"x":1e+16}');
  equal(e["SM_USER_ARGS"], '["--flag","True","--huge","inf","--small","0.0001","-x","1e+16"]');
});

Deno.test("toolkitEnv() splits reserved and sagemaker_ keys and reads the toolkit test inputs (§10b)", () => {
  const hps = dict({
    batch_size: 32,
    learning_rate: 0.001,
    hosts: ["algo-1", "algo-2"],
    sagemaker_region: "us-west-2",
    default_user_module_name: "net",
    sagemaker_job_name: "sagemaker-training-job",
    sagemaker_program: "main.py",
    sagemaker_submit_directory: "imagenet",
    sagemaker_enable_cloudwatch_metrics: true,
    sagemaker_container_log_level: 30,
    _tuning_objective_metric: "loss:3.4",
    sagemaker_parameter_server_num: 2,
    sagemaker_s3_output: "s3://bucket",
  });
  const e = env(inputs({
    resourceConfig: dict({ current_host: "algo-1", hosts: ["algo-1", "algo-2", "algo-3"] }),
    inputDataConfig: dict({
      train: { TrainingInputMode: "File" },
      validation: { TrainingInputMode: "File" },
    }),
    hyperparameters: hps,
    env: { TRAINING_JOB_NAME: "training-job-42" },
    numGpus: 4,
  }));
  equal(e["SM_HPS"], '{"batch_size":32,"hosts":["algo-1","algo-2"],"learning_rate":0.001}');
  equal(e["SM_FRAMEWORK_PARAMS"], '{"sagemaker_parameter_server_num":2}');
  equal(
    e["SM_USER_ARGS"],
    `["--batch_size","32","--hosts","['algo-1', 'algo-2']","--learning_rate","0.001"]`,
  );
  deepEqual([
    e["SM_MODULE_NAME"],
    e["SM_MODULE_DIR"],
    e["SM_LOG_LEVEL"],
    e["SM_CURRENT_INSTANCE_TYPE"],
  ], ["main", "imagenet", "30", "local"]);
  deepEqual([
    e["SM_INSTANCE_GROUPS"],
    e["SM_INSTANCE_GROUPS_DICT"],
    e["SM_CURRENT_INSTANCE_GROUP_HOSTS"],
  ], ["[]", "{}", "[]"]);
  const te = JSON.parse(e["SM_TRAINING_ENV"]!);
  deepEqual([te.distribution_hosts, te.master_hostname, te.is_master, te.job_name], [
    ["algo-1", "algo-2", "algo-3"],
    "algo-1",
    true,
    "training-job-42",
  ]);
  equal(Object.keys(te).length, 37);
});

Deno.test("toolkitEnv() follows heterogeneous clusters and distribution groups (§10c)", () => {
  const rc = dict({
    current_host: "algo-1",
    hosts: ["algo-1", "algo-2", "algo-3"],
    current_group_name: "train1",
    current_instance_type: "ml.p3.16xlarge",
    instance_groups: [
      {
        instance_group_name: "train1",
        instance_type: "ml.p3.16xlarge",
        hosts: ["algo-2", "algo-1"],
      },
      { instance_group_name: "train2", instance_type: "ml.p3.8xlarge", hosts: ["algo-3"] },
    ],
    network_interface_name: "eth0",
  });
  const hps = decodeHyperparameters(
    dict({
      epochs: "10",
      sagemaker_program: '"train.py"',
      sagemaker_mpi_enabled: "true",
      sagemaker_distribution_instance_groups: '["train2"]',
    }),
  );
  const e = env(
    inputs({ resourceConfig: rc, inputDataConfig: dict({ train: {} }), hyperparameters: hps }),
  );
  equal(
    e["SM_FRAMEWORK_PARAMS"],
    '{"sagemaker_distribution_instance_groups":["train2"],"sagemaker_mpi_enabled":true}',
  );
  deepEqual([
    e["SM_CURRENT_INSTANCE_GROUP"],
    e["SM_CURRENT_INSTANCE_GROUP_HOSTS"],
    e["SM_INSTANCE_GROUPS"],
    e["SM_DISTRIBUTION_INSTANCE_GROUPS"],
    e["SM_IS_HETERO"],
  ], [
    "train1",
    '["algo-2","algo-1"]',
    '["train1","train2"]',
    '["train2"]',
    "true",
  ]);
  const te = JSON.parse(e["SM_TRAINING_ENV"]!);
  deepEqual([te.distribution_hosts, te.master_hostname, te.is_master, te.job_name], [
    ["algo-3"],
    "algo-3",
    false,
    null,
  ]);
  const flagOnly = decodeHyperparameters(dict({ sagemaker_torch_distributed_enabled: "true" }));
  const te2 = JSON.parse(
    env(inputs({ resourceConfig: rc, hyperparameters: flagOnly }))["SM_TRAINING_ENV"]!,
  );
  deepEqual([te2.distribution_instance_groups, te2.distribution_hosts, te2.master_hostname], [
    ["train1"],
    ["algo-2", "algo-1"],
    "algo-2",
  ]);
});

Deno.test("toolkitEnv() turns on distribution for the current group with any one of the toolkit's distribution flags", () => {
  for (
    const flag of [
      "sagemaker_mpi_enabled",
      "sagemaker_parameter_server_enabled",
      "sagemaker_distributed_dataparallel_enabled",
      "sagemaker_pytorch_ddp_enabled",
      "sagemaker_pytorch_xla_multi_worker_enabled",
      "sagemaker_multi_worker_mirrored_strategy_enabled",
      "sagemaker_torch_distributed_enabled",
    ]
  ) {
    const e = env(inputs({ hyperparameters: dict({ [flag]: true }) }));
    equal(e["SM_DISTRIBUTION_INSTANCE_GROUPS"], '["homogeneousCluster"]', flag);
  }
  const off = env(inputs({ hyperparameters: dict({ sagemaker_mpi_enabled: false }) }));
  equal(off["SM_DISTRIBUTION_INSTANCE_GROUPS"], "[]");
});

Deno.test("toolkitEnv() picks distribution hosts with Python's `in`: a substring of a string, a key of a dict", () => {
  const rc = dict({
    current_host: "algo-1",
    hosts: ["algo-1", "algo-2", "algo-3"],
    current_group_name: "train1",
    instance_groups: [
      { instance_group_name: "train1", hosts: ["algo-2", "algo-1"] },
      { instance_group_name: "train2", hosts: ["algo-3"] },
    ],
  });
  const distributed = (groups: string) =>
    JSON.parse(
      env(inputs({
        resourceConfig: rc,
        hyperparameters: decodeHyperparameters(
          dict({ sagemaker_distribution_instance_groups: groups }),
        ),
      }))["SM_TRAINING_ENV"]!,
    ).distribution_hosts;
  // Not JSON: json.loads fails and the raw string stays, which `in` searches.
  deepEqual(distributed("train2"), ["algo-3"]);
  deepEqual(distributed("train1,train2"), ["algo-2", "algo-1", "algo-3"]);
  deepEqual(distributed("train"), []);
  deepEqual(distributed('{"train2": 1}'), ["algo-3"]);
  deepEqual(distributed('["train1"]'), ["algo-2", "algo-1"]);
});

Deno.test("toolkitEnv() counts 64 Neuron cores on a trn2.48xlarge, as the toolkit does before asking neuron-ls", () => {
  const neurons = (type: string) =>
    env(inputs({
      resourceConfig: dict({
        current_host: "algo-1",
        hosts: ["algo-1"],
        current_instance_type: type,
      }),
    }))["SM_NUM_NEURONS"];
  equal(neurons("ml.trn2.48xlarge"), "64");
  equal(neurons("ml.trn1.32xlarge"), "0");
});

Deno.test("toolkitEnv() emits SM_TOPOLOGY only when resourceconfig.json has a topology", () => {
  const topology = [{ hostName: "algo-1", capacityUnitId: "cu-1" }];
  const e = env(inputs({
    resourceConfig: dict({ current_host: "algo-1", hosts: ["algo-1"], topology }),
  }));
  equal(e["SM_TOPOLOGY"], '[{"capacityUnitId":"cu-1","hostName":"algo-1"}]');
  equal("SM_TOPOLOGY" in env(inputs({})), false);
});

Deno.test("toolkitEnv() defaults SM_NETWORK_INTERFACE_NAME to eth0 and reports each launcher's own check", () => {
  const e = env(inputs({ smddpmprunInstalled: true, smddprunInstalled: false }));
  equal(e["SM_NETWORK_INTERFACE_NAME"], "eth0");
  const te = JSON.parse(e["SM_TRAINING_ENV"]!);
  equal(JSON.stringify([te.is_smddpmprun_installed, te.is_smddprun_installed]), "[true,false]");
  const other = JSON.parse(
    env(inputs({ smddpmprunInstalled: false, smddprunInstalled: true }))["SM_TRAINING_ENV"]!,
  );
  equal(
    JSON.stringify([other.is_smddpmprun_installed, other.is_smddprun_installed]),
    "[false,true]",
  );
});

Deno.test("toCmdArgs() matches the toolkit's mapping tests", () => {
  const args = (o: Record<string, unknown>) => toCmdArgs(dict(o));
  deepEqual(args({ "da-sh": "1", un_der: "2", "un-sh": "3", da_der: "2" }), [
    "--da-sh",
    "1",
    "--da_der",
    "2",
    "--un-sh",
    "3",
    "--un_der",
    "2",
  ]);
  deepEqual(args({ U: "1", b: "2", T: "", "": "42" }), ["", "42", "-T", "", "-U", "1", "-b", "2"]);
  deepEqual(args({ nested: ["1", ["2", "3", [["6"]]]] }), [
    "--nested",
    "['1', ['2', '3', [['6']]]]",
  ]);
  deepEqual(args({ map: { a: [1, 3, 4] }, channel_dirs: { train: "foo", eval: "bar" } }), [
    "--channel_dirs",
    "eval=bar,train=foo",
    "--map",
    "a=[1, 3, 4]",
  ]);
  deepEqual(args({ truthy: true, falsy: false }), ["--falsy", "False", "--truthy", "True"]);
  deepEqual(toCmdArgs(new Map([["floats", pyLoads("4.0")], ["int", pyLoads("2")]])), [
    "--floats",
    "4.0",
    "--int",
    "2",
  ]);
});

Deno.test("toCmdArgs() gives a one-character key one dash, counting code points as Python's len()", () => {
  deepEqual(toCmdArgs(dict({ "\u{1F600}": "1", "\u{1F600}x": "2", "é": "3" })), [
    "-é",
    "3",
    "-\u{1F600}",
    "1",
    "--\u{1F600}x",
    "2",
  ]);
  // U+FFFF is one UTF-16 unit, so U+FFFF and x are two code points.
  deepEqual(toCmdArgs(dict({ "\uffffx": "4" })), ["--\uffffx", "4"]);
});

Deno.test("toolkitEnv() takes a hyperparameter that is JSON null as None, not as missing (dict.get)", () => {
  const e = env(inputs({
    hyperparameters: dict({
      sagemaker_submit_directory: null,
      sagemaker_container_log_level: null,
      sagemaker_distribution_instance_groups: null,
      sagemaker_mpi_enabled: true, // would make the default ["homogeneousCluster"]
    }),
  }));
  equal(e["SM_MODULE_DIR"], "None");
  equal(e["SM_LOG_LEVEL"], "");
  equal(e["SM_DISTRIBUTION_INSTANCE_GROUPS"], "");
  const training = JSON.parse(e["SM_TRAINING_ENV"]!);
  equal(training.module_dir, "None");
  equal(training.log_level, null);
  equal(training.distribution_instance_groups, null);
  // Absent, each takes the toolkit's default.
  const defaults = env(inputs({ hyperparameters: dict({ sagemaker_mpi_enabled: true }) }));
  equal(defaults["SM_MODULE_DIR"], "/opt/ml/code");
  equal(defaults["SM_LOG_LEVEL"], "20");
  equal(defaults["SM_DISTRIBUTION_INSTANCE_GROUPS"], '["homogeneousCluster"]');
});

Deno.test("toolkitEnv() takes the current group from current_group_name, else current_instance_group (reference section 1.3)", () => {
  const group = (rc: Record<string, unknown>) =>
    env(inputs({ resourceConfig: dict({ current_host: "algo-1", hosts: ["algo-1"], ...rc }) }))[
      "SM_CURRENT_INSTANCE_GROUP"
    ];
  equal(group({}), "homogeneousCluster");
  equal(group({ current_instance_group: "gpu" }), "gpu");
  equal(group({ current_group_name: "cpu", current_instance_group: "gpu" }), "cpu");
});

const withFile = (id: string, path: string, text: string) =>
  worldOf(id, withFiles({ [path]: text }));

Deno.test("plan() gives hyperparameters that differ only in case one SM_HP_ variable, the later value", () => {
  const p = planOf(
    withFile(
      "sagemaker-training/single-host",
      "/opt/ml/input/config/hyperparameters.json",
      '{"lr": "0.1", "LR": "0.2", "epochs": "3"}',
    ),
  );
  equal(p.env["SM_HP_LR"], "0.2");
  equal(p.env["SM_HP_EPOCHS"], "3");
  equal(p.env["SM_HPS"], '{"LR":0.2,"epochs":3,"lr":0.1}');
});

Deno.test("plan() checks only the later value of a hyperparameter given twice, the one json.load keeps", () => {
  // Checked against the toolkit's code: json.load keeps {"x": "1"}, so SM_HP_X=1 and the script
  // runs; the earlier value, NUL or a lone surrogate, never reaches os.environ.
  for (const first of ["a\\u0000b", '\\"\\\\ud800\\"']) {
    const p = planOf(
      withFile(
        "sagemaker-training/single-host",
        "/opt/ml/input/config/hyperparameters.json",
        `{"x": "${first}", "x": "1"}`,
      ),
    );
    equal(p.env["SM_HP_X"], "1");
    equal(p.env["SM_HPS"], '{"x":1}');
  }
});

Deno.test("plan() rejects the SageMaker training files it requires when they are broken (exit 78)", () => {
  const cases: [string, string, RegExp][] = [
    [
      "/opt/ml/input/config/hyperparameters.json",
      "{broken",
      /hyperparameters\.json: not valid JSON/,
    ],
    [
      "/opt/ml/input/config/hyperparameters.json",
      "[1]",
      /hyperparameters\.json: top level: expected an object/,
    ],
    [
      "/opt/ml/input/config/resourceconfig.json",
      '{"current_host":"algo-9","hosts":["algo-1"]}',
      /current_host "algo-9": expected one of \/hosts \(algo-1\)/,
    ],
    [
      "/opt/ml/input/config/resourceconfig.json",
      '{"current_host":"algo-1"}',
      /resourceconfig\.json: \/hosts: expected an array/,
    ],
    [
      "/opt/ml/input/config/inputdataconfig.json",
      '{"../etc":{}}',
      /channel "\.\.\/etc": expected a name without/,
    ],
    ["/opt/ml/input/config/inputdataconfig.json", '{"a/b":{}}', /channel "a\/b"/],
  ];
  for (const [path, text, re] of cases) {
    const e = caught(
      () => planOf(withFile("sagemaker-training/single-host", path, text)),
      `an error for ${path}: ${text}`,
    );
    if (!(e instanceof InputError)) throw e;
    match(e.message, re);
    ok(e.message.includes(path), "names the file");
  }
});

Deno.test("script mode runs sagemaker_program from the code folder with the toolkit's arguments", () => {
  const p = planOf(worldOf("sagemaker-training/single-host"));
  deepEqual(p.command, [
    "python3",
    "train.py",
    "--epochs",
    "10",
    "--layers",
    "[64, 32]",
    "--learning-rate",
    "0.001",
    "--optimizer",
    "adam",
  ]);
  equal(p.cwd, "/opt/ml/code");
  const noArgv = planOf(worldOf("sagemaker-training/container-entrypoint"));
  equal(noArgv.command?.[0], "python3");
  // SAGEMAKER_PROGRAM beats the hyperparameter.
  const env = planOf(
    worldOf(
      "sagemaker-training/single-host",
      (s) => ({ ...s, env: { ...s.env, SAGEMAKER_PROGRAM: "other.py" } }),
    ),
  );
  equal(env.command?.[1], "other.py");
});

Deno.test("script mode refuses an s3:// submit directory it would have to download (exit 78)", () => {
  const hps = JSON.stringify({
    sagemaker_program: '"train.py"',
    sagemaker_submit_directory: '"s3://bkt/src.tar.gz"',
  });
  const w = withFile(
    "sagemaker-training/single-host",
    "/opt/ml/input/config/hyperparameters.json",
    hps,
  );
  throws(() => planOf(w), /downloading the code is not supported/);
  // With the program already in /opt/ml/code, the download is not needed.
  const baked = worldOf(
    "sagemaker-training/single-host",
    withFiles({
      "/opt/ml/input/config/hyperparameters.json": hps,
      "/opt/ml/code/train.py": "",
    }),
  );
  equal(planOf(baked).cwd, "/opt/ml/code");
});

Deno.test("script mode finds a program in a subfolder of /opt/ml/code in what a capture records (s3:// source baked in)", () => {
  // The SDK names `scripts/train.py` for an entry_point under source_dir (JSON-encoded; a raw
  // API caller's plain text too). The image bakes the code in, so the toolkit, finding
  // /opt/ml/code not empty, downloads nothing and runs it.
  const program = "/opt/ml/code/scripts/train.py";
  const source = '"sagemaker_submit_directory": "\\"s3://bkt/src.tar.gz\\""';
  for (
    const [named, text] of [
      ['"scripts/train.py"', `{"sagemaker_program": "\\"scripts/train.py\\"", ${source}}`],
      ["scripts/train.py", `{"sagemaker_program": "scripts/train.py", ${source}}`],
      // Given twice, the later value is the one json.load keeps, and the plan runs.
      [
        "twice",
        `{"sagemaker_program": "\\"old/train.py\\"", ${source}, "sagemaker_program": "\\"scripts/train.py\\""}`,
      ],
    ]
  ) {
    const full = worldOf(
      "sagemaker-training/single-host",
      withFiles({ "/opt/ml/input/config/hyperparameters.json": text!, [program]: "" }),
    );
    // A capture records the adapter's declared paths only: the code folder's own entries, and
    // what dynamicPaths adds once the first pass is known.
    const declared = [...sagemaker.paths!, ...sagemaker.dynamicPaths!(full, DEFAULT_CONFIG)];
    const recorded = (path: string) =>
      declared.some((d) =>
        d.path === path || (d.kind === "list" && path.slice(0, path.lastIndexOf("/")) === d.path)
      );
    ok(recorded(program), `the program's own path is declared (${named})`);
    const captured = worldOf("sagemaker-training/single-host", (s) => ({
      ...s,
      files: Object.fromEntries(
        Object.entries(full.snapshot.files).filter(([p]) =>
          !p.startsWith("/opt/ml/code/") || recorded(p)
        ),
      ),
    }));
    const p = planOf(captured);
    deepEqual([p.command?.slice(0, 2), p.cwd], [["python3", "scripts/train.py"], "/opt/ml/code"]);
  }
});

Deno.test("plan() sets SAGEMAKER_JOB_NAME and SAGEMAKER_REGION as the toolkit does, even when unknown", () => {
  const HPS = "/opt/ml/input/config/hyperparameters.json";
  const region = (hps: string, env: Record<string, string>) => {
    const p = planOf(worldOf("sagemaker-training/single-host", (s) => {
      const rest = Object.fromEntries(
        Object.entries(s.env).filter(([k]) => k !== "AWS_REGION" && k !== "AWS_DEFAULT_REGION"),
      );
      return { ...s, env: { ...rest, ...env }, files: { ...s.files, [HPS]: hps } };
    }));
    return [p.env["SAGEMAKER_JOB_NAME"], p.env["SAGEMAKER_REGION"]];
  };
  deepEqual(region("{}", {}), ["", ""]);
  // boto3's region: AWS_DEFAULT_REGION, which chameleon fills from AWS_REGION.
  deepEqual(region("{}", { AWS_REGION: "us-east-1" }), ["", "us-east-1"]);
  deepEqual(region("{}", { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "eu-west-1" }), [
    "",
    "eu-west-1",
  ]);
  // `sagemaker_region or ""`: a null region is "", not the session's.
  deepEqual(region('{"sagemaker_region": "null"}', { AWS_REGION: "us-east-1" }), ["", ""]);
  deepEqual(
    region('{"sagemaker_region": "\\"ap-south-1\\"", "sagemaker_job_name": "\\"job-1\\""}', {
      AWS_REGION: "us-east-1",
    }),
    ["job-1", "ap-south-1"],
  );
});

Deno.test("plan() refuses a hyperparameter whose SM_HP_ variable execve could not pass (exit 78), naming the file and the hyperparameter", () => {
  const HPS = "/opt/ml/input/config/hyperparameters.json";
  const cases: [string, RegExp][] = [
    [
      '{"a=b": "1"}',
      /^File \/opt\/ml\/input\/config\/hyperparameters\.json: hyperparameter "a=b" \(variable SM_HP_A=B\): expected a name without "="$/,
    ],
    [
      '{"x": "a\\u0000b"}',
      /^File \/opt\/ml\/input\/config\/hyperparameters\.json: hyperparameter "x" \(variable SM_HP_X\): expected a value without NUL \(execve would cut it there\)$/,
    ],
    // Not a flat object of strings: the slower reader names them the same way.
    [
      '{"a=b": 1}',
      /^File \/opt\/ml\/input\/config\/hyperparameters\.json: hyperparameter "a=b" \(variable SM_HP_A=B\): expected a name without "="/,
    ],
    // A lone surrogate has no UTF-8 form: the toolkit's os.environ raises UnicodeEncodeError on
    // SM_HP_X (checked against the toolkit's code), and execve would get U+FFFD in its place.
    [
      '{"x": "\\"\\\\ud800\\""}',
      /^File \/opt\/ml\/input\/config\/hyperparameters\.json: hyperparameter "x" \(variable SM_HP_X\): expected a value without a lone surrogate \(a \\uD800-\\uDFFF escape has no UTF-8 form\)$/,
    ],
    [
      '{"x": "a\\udc80"}',
      /^File \/opt\/ml\/input\/config\/hyperparameters\.json: hyperparameter "x" \(variable SM_HP_X\): expected a value without a lone surrogate/,
    ],
    [
      '{"\\ud800": "1"}',
      /^File \/opt\/ml\/input\/config\/hyperparameters\.json: hyperparameter "\\ud800": expected a name without a lone surrogate/,
    ],
  ];
  for (const [text, re] of cases) {
    const e = caught(() => planOf(withFile("sagemaker-training/single-host", HPS, text)), text);
    if (!(e instanceof InputError)) throw e;
    match(e.message, re);
  }
});

Deno.test("plan() refuses a variable too large for execve made from the hyperparameters by naming the file, and the hyperparameter when one alone is too large (exit 78)", () => {
  const HPS = "/opt/ml/input/config/hyperparameters.json";
  const big = (n: number) => JSON.stringify(JSON.stringify("x".repeat(n)));
  const cases: [string, RegExp][] = [
    [
      `{"big": ${big(140_000)}, "small": "1"}`,
      /^File \/opt\/ml\/input\/config\/hyperparameters\.json: hyperparameter "big" makes SM_HP_BIG 140011 bytes with its terminating NUL: larger than the 131072 bytes execve accepts$/,
    ],
    [
      `{"b": ${big(70_000)}, "c": ${big(70_000)}}`,
      /^File \/opt\/ml\/input\/config\/hyperparameters\.json: the hyperparameters make SM_HPS 140\d{3} bytes with its terminating NUL: larger than the 131072 bytes execve accepts$/,
    ],
  ];
  for (const [text, re] of cases) {
    const e = caught(() => planOf(withFile("sagemaker-training/single-host", HPS, text)), text);
    if (!(e instanceof InputError)) throw e;
    match(e.message, re);
  }
  // Fills under values the platform gave change nothing: no error for them.
  const given = ["SM_HP_BIG", "SM_HPS", "SM_TRAINING_ENV", "SM_USER_ARGS", "ML_HPS"];
  const p = planOf(
    worldOf(
      "sagemaker-training/single-host",
      (s) =>
        withEnv(Object.fromEntries(given.map((n) => [n, "{}"])))(
          withFiles({ [HPS]: `{"big": ${big(140_000)}}` })(s),
        ),
    ),
  );
  for (const name of given) equal(p.env[name], undefined, name);
  // An empty value is no value given: the fill writes SM_HP_BIG, which is then the one to name.
  const empty = caught(() =>
    planOf(
      worldOf(
        "sagemaker-training/single-host",
        (s) => withEnv({ SM_HP_BIG: "" })(withFiles({ [HPS]: `{"big": ${big(140_000)}}` })(s)),
      ),
    )
  );
  if (!(empty instanceof InputError)) throw empty;
  match(empty.message, /: hyperparameter "big" makes SM_HP_BIG 140011 bytes /);
});

Deno.test("plan() names the too large hyperparameter of two alike but for case by the one whose value SM_HP_ holds (exit 78)", () => {
  const HPS = "/opt/ml/input/config/hyperparameters.json";
  const big = JSON.stringify(JSON.stringify("x".repeat(140_000)));
  const cases: [string, RegExp][] = [
    // The later value is the one SM_HP_LR holds: "LR" is too large, not "lr".
    [`{"lr": "1", "LR": ${big}}`, /: hyperparameter "LR" makes SM_HP_LR 140010 bytes /],
    // SM_HP_LR holds "1": what is too large is SM_HPS, which holds both.
    [`{"LR": ${big}, "lr": "1"}`, /: the hyperparameters make SM_HPS 140\d{3} bytes /],
  ];
  for (const [text, re] of cases) {
    const e = caught(() => planOf(withFile("sagemaker-training/single-host", HPS, text)), text);
    if (!(e instanceof InputError)) throw e;
    match(e.message, re);
  }
});

Deno.test("plan() refuses a lone surrogate that reaches SageMaker's variables or script-mode words another way (exit 78)", () => {
  const HPS = "/opt/ml/input/config/hyperparameters.json";
  const cases: [string, RegExp][] = [
    // The toolkit writes SAGEMAKER_JOB_NAME through os.environ, which raises UnicodeEncodeError.
    [
      '{"sagemaker_job_name": "\\"j\\\\ud800\\""}',
      /^Variable SAGEMAKER_JOB_NAME: expected a value without a lone surrogate/,
    ],
    // A dict's keys reach the script's arguments as they are ("\ud800=1"); its SM_HP_D is
    // ASCII JSON, so only the word is refused.
    [
      '{"sagemaker_program": "train.py", "d": "{\\"\\\\ud800\\": 1}"}',
      /^Command word 3: expected a word without a lone surrogate/,
    ],
  ];
  for (const [text, re] of cases) {
    const e = caught(() => planOf(withFile("sagemaker-training/single-host", HPS, text)), text);
    if (!(e instanceof InputError)) throw e;
    match(e.message, re);
  }
  // In a list the toolkit prints it escaped, as Python's repr does: nothing to refuse.
  const p = planOf(withFile("sagemaker-training/single-host", HPS, '{"l": "[\\"\\\\ud800\\"]"}'));
  equal(p.env["SM_HP_L"], '["\\ud800"]');
});

Deno.test("plan() fills SM_* only when unset and never lists a value the platform already set", () => {
  const w = worldOf(
    "sagemaker-training/single-host",
    (s) => ({ ...s, env: { ...s.env, SM_NUM_GPUS: "1" } }),
  );
  const p = planOf(w);
  equal("SM_NUM_GPUS" in p.env, false);
  equal(p.env["SM_NUM_CPUS"], "8");
});

Deno.test("sagemaker.dynamicPaths looks for smddprun on PATH whenever the table says training", () => {
  const laptop = fixture("local-unknown/docker");
  const paths = (env: Record<string, string>) =>
    sagemaker.dynamicPaths!(
      new World({ ...laptop, env: { ...laptop.env, ...env } }),
      DEFAULT_CONFIG,
    )
      .map((d) => d.path);
  equal(paths({}).length, 0, "not training: nothing to look for");
  for (
    const env of [
      { TRAINING_JOB_ARN: "arn:aws:sagemaker:us-east-1:1:training-job/x" },
      { TRAINING_JOB_NAME: "x" },
      { CHAMELEON_CONTEXT: "sagemaker-training" },
      { CHAMELEON_CONTEXT: "sagemaker", CHAMELEON_WORKLOAD: "training" },
    ]
  ) ok(paths({ ...env, PATH: "/usr/bin" }).includes("/usr/bin/smddprun"), JSON.stringify(env));
  // Forced elsewhere: not training, whatever the platform's variables say.
  for (
    const env of [
      { TRAINING_JOB_NAME: "x", CHAMELEON_CONTEXT: "kubernetes" },
      { TRAINING_JOB_NAME: "x", CHAMELEON_WORKLOAD: "serving" },
    ]
  ) equal(paths({ ...env, PATH: "/usr/bin" }).length, 0, JSON.stringify(env));
});

Deno.test("a hyperparameter that is JSON text with a secret-named key is shown redacted in every copy", () => {
  const inner = JSON.stringify({ password: "json-text-canary", user: "ml" });
  const p = planOf(
    withFile(
      "sagemaker-training/single-host",
      "/opt/ml/input/config/hyperparameters.json",
      // Encoded twice: json.loads gives back the JSON text as a string, not a dict.
      JSON.stringify({ cfg: JSON.stringify(inner), sagemaker_program: '"train.py"' }),
    ),
  );
  equal(p.env["SM_HP_CFG"], inner, "the program gets it");
  const shown = JSON.stringify([p.envDisplay, p.commandDisplay]);
  equal(shown.includes("json-text-canary"), false, shown);
  ok(String(p.envDisplay["SM_HP_CFG"]).includes("<redacted>"));
  ok(p.secrets.includes("json-text-canary"));
});

Deno.test("each toolkit variable's display is its own value, redacted only where a secret is", () => {
  const p = planOf(
    withFile(
      "sagemaker-training/single-host",
      "/opt/ml/input/config/hyperparameters.json",
      JSON.stringify({ api_token: '"tok-display-canary"', lr: "0.1", sagemaker_program: '"t.py"' }),
    ),
  );
  for (const [name, value] of Object.entries(p.env)) {
    const shown = p.envDisplay[name];
    if (value.includes("tok-display-canary")) {
      ok(shown !== value && !String(shown).includes("tok-display-canary"), name);
    } else equal(shown, value, name);
  }
  ok(p.env["SM_HP_API_TOKEN"] !== undefined);
});

Deno.test("plan() takes JSON nested 512 levels deep and refuses deeper (exit 78 naming the file and key, never a stack overflow)", () => {
  const HPS = "/opt/ml/input/config/hyperparameters.json";
  const nested = (depth: number) => "[".repeat(depth) + "1" + "]".repeat(depth);
  const deepest = planOf(
    withFile("sagemaker-training/single-host", HPS, JSON.stringify({ a: nested(512) })),
  );
  equal(deepest.env["SM_HP_A"], nested(512));
  for (const depth of [513, 5000]) {
    const text = JSON.stringify({ lr: "0.1", a: nested(depth) });
    const e = caught(() => planOf(withFile("sagemaker-training/single-host", HPS, text)));
    if (!(e instanceof InputError)) throw e;
    equal(
      e.message,
      `File ${HPS}: hyperparameter "a": expected JSON nested at most 512 levels deep`,
    );
  }
  // A platform file nested too deep is not valid JSON for this reader: exit 78 naming the file.
  const rc = "/opt/ml/input/config/resourceconfig.json";
  const e = caught(() =>
    planOf(withFile(
      "sagemaker-training/single-host",
      rc,
      `{"current_host": "algo-1", "hosts": ["algo-1"], "topology": ${nested(5000)}}`,
    ))
  );
  if (!(e instanceof InputError)) throw e;
  match(
    e.message,
    /^File \/opt\/ml\/input\/config\/resourceconfig\.json: .*nested deeper than 512 levels/,
  );
});

Deno.test("toolkitEnv() passes an empty SM_HP_MP_PARAMETERS through as is_modelparallel_enabled, as Python's `and` does", () => {
  // _env.py: `mp_parameters and mp_parameters != "{}"`: "" stays "", not a boolean.
  // As JSON text: "" and false, or null and a missing key, are different values to the script.
  const enabled = (mp?: string) =>
    JSON.stringify(
      JSON.parse(
        env(inputs(mp === undefined ? {} : { env: { SM_HP_MP_PARAMETERS: mp } }))[
          "SM_TRAINING_ENV"
        ]!,
      ).is_modelparallel_enabled,
    );
  equal(enabled(""), '""');
  equal(enabled("{}"), "false");
  equal(enabled('{"partitions":2}'), "true");
  equal(enabled(), "null");
});

Deno.test("toolkitEnv() lists SM_CHANNELS sorted, whatever order inputdataconfig.json gives them in", () => {
  const e = env(inputs({ inputDataConfig: dict({ validation: {}, train: {} }) }));
  equal(e["SM_CHANNELS"], '["train","validation"]');
});

Deno.test("toolkitEnv() takes the sagemaker_program hyperparameter as entry point when SAGEMAKER_PROGRAM is empty", () => {
  // `os.environ.get("SAGEMAKER_PROGRAM") or hyperparameters["sagemaker_program"]`.
  const e = env(inputs({
    env: { SAGEMAKER_PROGRAM: "" },
    hyperparameters: dict({ sagemaker_program: "train.py" }),
  }));
  equal(e["SM_USER_ENTRY_POINT"], "train.py");
  // module_name is `os.environ.get("SAGEMAKER_PROGRAM", None)`: set, even empty, it wins.
  equal(e["SM_MODULE_NAME"], "");
});

Deno.test("script mode runs nothing for a sagemaker_program of JSON null, which the toolkit reads as str(None)", () => {
  for (const id of ["sagemaker-training/single-host", "sagemaker-training/container-entrypoint"]) {
    const p = planOf(worldOf(
      id,
      withFiles({
        "/opt/ml/input/config/hyperparameters.json": JSON.stringify({
          epochs: "10",
          sagemaker_program: "null",
        }),
      }),
    ));
    equal(p.command, null, id);
    equal(p.env["SM_MODULE_NAME"], "None", id);
  }
});

// --- Gaps found by mutation testing ---

const HPS_FILE = "/opt/ml/input/config/hyperparameters.json";
/** The single-host job's plan with these hyperparameters (values as the file holds them) and variables. */
const planWith = (hps: Record<string, string>, env: Record<string, string> = {}) =>
  planOf(worldOf("sagemaker-training/single-host", (s) => ({
    ...s,
    env: { ...s.env, ...env },
    files: { ...s.files, [HPS_FILE]: JSON.stringify(hps) },
  })));

Deno.test("plan() redacts a secret in a list, in a framework parameter and under a secret-named dict, and scrubs each (design section 8)", () => {
  const p = planWith({
    cfg: '[{"password": "list-canary"}]',
    db_password: '{"user": "ml", "pw": "nested-canary"}',
    sagemaker_program: '"train.py"',
  });
  const shown = JSON.stringify([p.envDisplay, p.commandDisplay]);
  equal(shown.includes("list-canary"), false, shown);
  ok(p.env["SM_HP_CFG"]!.includes("list-canary"), "the program gets it");
  ok(p.secrets.includes("list-canary"));
  // Every value under a secret-named key is a secret, however deep.
  ok(p.secrets.includes("nested-canary"), JSON.stringify(p.secrets));
  // Only a framework parameter holds one: SM_FRAMEWORK_PARAMS and SM_TRAINING_ENV are redacted.
  const fw = planWith({ lr: "0.1", sagemaker_api_token: '"fw-canary"' });
  ok(fw.env["SM_FRAMEWORK_PARAMS"]!.includes("fw-canary"));
  const fwShown = JSON.stringify(fw.envDisplay);
  equal(fwShown.includes("fw-canary"), false, fwShown);
  ok(fw.secrets.includes("fw-canary"), JSON.stringify(fw.secrets));
});

Deno.test("plan() sets ML_HPS with NaN and infinities as strings, standard JSON (design section 6)", () => {
  const p = planWith({ inf: "Infinity", nan: "NaN", lr: "0.1" });
  equal(p.env["ML_HPS"], '{"inf":"Infinity","lr":0.1,"nan":"NaN"}');
  equal(p.env["SM_HPS"], '{"inf":Infinity,"lr":0.1,"nan":NaN}');
});

Deno.test("plan() keeps a lone surrogate escaped in ML_HPS: the variable passes execve as UTF-8, which cannot hold one", () => {
  // json.loads gives "a\ud800b" from the escape; raw in the text, UTF-8 would make it U+FFFD.
  // In a list: a text value holding one is refused, as its SM_HP_ variable cannot pass.
  const p = planWith({ s: '["a\\ud800b\\ud83d\\ude00"]' });
  equal(p.env["ML_HPS"], '{"s":["a\\ud800b\u{1F600}"]}');
  ok(p.env["ML_HPS"]!.isWellFormed());
  equal((JSON.parse(p.env["ML_HPS"]!) as { s: string[] }).s[0], "a\ud800b\u{1F600}");
});

Deno.test("plan() fills CURRENT_HOST with resourceconfig.json's current_host, as the toolkit sets it", () => {
  equal(planOf(worldOf("sagemaker-training/multi-host")).env["CURRENT_HOST"], "algo-2");
});

Deno.test("plan() reports smddprun found on PATH in SM_TRAINING_ENV", () => {
  const withSmddprun = worldOf("sagemaker-training/single-host", (s) => ({
    ...s,
    env: { ...s.env, PATH: "/usr/local/bin:/usr/bin" },
    files: { ...s.files, "/usr/bin/smddprun": "" },
    stat: { ...s.stat, "/usr/bin/smddprun": { uid: 0, gid: 0, mode: "0755" } },
  }));
  const te = JSON.parse(planOf(withSmddprun).env["SM_TRAINING_ENV"]!);
  equal(JSON.stringify([te.is_smddprun_installed, te.is_smddpmprun_installed]), "[true,false]");
});

Deno.test("sagemaker.dynamicPaths takes --context and --workload as it takes their variables, the command line first", () => {
  const laptop = fixture("local-unknown/docker");
  const paths = (env: Record<string, string>, forcing: { context?: string; workload?: string }) =>
    sagemaker.dynamicPaths!(
      new World({ ...laptop, env: { ...laptop.env, PATH: "/usr/bin", ...env } }),
      DEFAULT_CONFIG,
      forcing,
    ).map((d) => d.path);
  ok(paths({}, { context: "sagemaker-training" }).includes("/usr/bin/smddprun"));
  ok(
    paths({ CHAMELEON_CONTEXT: "sagemaker" }, { workload: "training" }).includes(
      "/usr/bin/smddprun",
    ),
  );
  equal(paths({ TRAINING_JOB_NAME: "x" }, { context: "kubernetes" }).length, 0);
  equal(paths({ CHAMELEON_CONTEXT: "sagemaker-training" }, { workload: "serving" }).length, 0);
});

Deno.test("sagemaker.dynamicPaths looks for smddprun when only the platform is forced: argv or config may make it training", () => {
  const laptop = fixture("local-unknown/docker");
  const world = new World({
    ...laptop,
    env: { ...laptop.env, CHAMELEON_CONTEXT: "sagemaker", PATH: "/usr/bin" },
  });
  const paths = sagemaker.dynamicPaths!(world, DEFAULT_CONFIG).map((d) => d.path);
  ok(paths.includes("/usr/bin/smddprun"), paths.join());
});

Deno.test("script mode runs a program that is not a .py file as ./<name> from the code folder, as the toolkit does", () => {
  const p = planWith({ epochs: "2" }, { SAGEMAKER_PROGRAM: "train.sh" });
  deepEqual(p.command, ["./train.sh", "--epochs", "2"]);
  equal(p.cwd, "/opt/ml/code");
});

Deno.test("script mode runs sagemaker_program when SAGEMAKER_PROGRAM is empty (`os.environ.get(...) or` the hyperparameter)", () => {
  const p = planWith({ sagemaker_program: '"train.py"' }, { SAGEMAKER_PROGRAM: "" });
  deepEqual(p.command, ["python3", "train.py"]);
});

Deno.test("script mode from a local submit directory runs there and puts that folder on PYTHONPATH", () => {
  const p = planWith({
    sagemaker_program: '"train.py"',
    sagemaker_submit_directory: '"/srv/src"',
  });
  equal(p.cwd, "/srv/src");
  equal(p.env["PYTHONPATH"], "/srv/src");
});

Deno.test("sagemakerInputs() checks channel names itself, since SM_CHANNEL_<name> paths are built from them (design section 8)", () => {
  const w = withFile(
    "sagemaker-training/single-host",
    "/opt/ml/input/config/inputdataconfig.json",
    '{"../etc": {}}',
  );
  const e = caught(() => sagemakerInputs(w, 0));
  if (!(e instanceof InputError)) throw e;
  match(e.message, /channel "\.\.\/etc": expected a name without/);
});

Deno.test("script mode is SageMaker training's only: SAGEMAKER_PROGRAM elsewhere runs nothing", () => {
  const w = worldOf("local-unknown/docker", (s) => ({
    ...s,
    argv: [],
    env: { ...s.env, SAGEMAKER_PROGRAM: "train.py", CHAMELEON_WORKLOAD: "training" },
  }));
  equal(detect(w).context.id, "local-training");
  equal(planOf(w).command, null);
});

Deno.test("plan() without resourceconfig.json assumes one host, this one, and says so", () => {
  const p = planOf(worldOf("sagemaker-training/single-host", (s) => {
    const { ["/opt/ml/input/config/resourceconfig.json"]: _rc, ...files } = s.files;
    return { ...s, hostname: "ip-10-0-0-7", files };
  }));
  equal(p.env["SM_CURRENT_HOST"], "ip-10-0-0-7");
  equal(p.env["SM_HOSTS"], '["ip-10-0-0-7"]');
  ok(
    p.warnings.includes(
      "/opt/ml/input/config/resourceconfig.json is missing: SM_* assume one host named ip-10-0-0-7",
    ),
    JSON.stringify(p.warnings),
  );
});
