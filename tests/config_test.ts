import { deepEqual, equal, match, ok, throws } from "@std/assert";
import { toImageConfig } from "../config.ts";
import { validateConfig } from "../config_schema.ts";
import { detect } from "../contexts/mod.ts";
import { plan } from "../plan.ts";
import type { Snapshot } from "../types.ts";
import { World } from "../world.ts";
import { randomYaml, rng } from "./fuzz.ts";
import {
  entrypointArgv,
  explainJson,
  fixture,
  planOf,
  ROOT,
  runEntrypoint,
  runProcess,
  shellQuote,
  tempDir,
  withEnv,
} from "./helpers.ts";
import { configFromYaml } from "./config_yaml.ts";

const example = (n: string) => `${ROOT}/examples/config/${n}.yaml`;

Deno.test("every examples/config file passes --check-config and writes trusted JSON", async () => {
  using tmp = tempDir();
  for (const n of ["ml", "spark", "dl"]) {
    const out = `${tmp.path}/${n}.json`;
    const r = await runEntrypoint(["--check-config", example(n), "--write-json", out]);
    equal(r.code, 0, r.stderr);
    match(r.stderr, /is valid; normalised JSON written/);
    const again = await runEntrypoint(["--check-config", out]);
    equal(again.code, 0, again.stderr);
    // A start finds the normalised JSON first and trusts it without the validator.
    deepEqual((await explainJson(["--config", out])).config.validated, "digest");
  }
});

Deno.test("--check-config exits 78 with one line, also when there is nothing to check (design: 0 or 78)", async () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/bad.yaml`, "commands:\n  training:\n    argv: python3\n");
  const r = await runEntrypoint(["--check-config", `${tmp.path}/bad.yaml`]);
  equal(r.code, 78);
  equal(r.stderr.trim().split("\n").length, 1);
  match(r.stderr, /bad\.yaml:3:11: \/commands\/training\/argv: expected array/);
  equal((await runEntrypoint(["--check-config"])).code, 78);
  equal((await runEntrypoint(["--check-config", `${tmp.path}/missing.yaml`])).code, 78);
});

Deno.test("a dangling link at the image config's place is exit 78 naming it, not a start with the defaults", async () => {
  using tmp = tempDir(0o755);
  // /etc/chameleon of a private mount namespace holds config.json -> a file that is not there.
  const script = [
    "set -e",
    // An overlay over /etc, so that nothing is made in the machine's own.
    `mkdir ${tmp.path}/up ${tmp.path}/work`,
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${tmp.path}/up,workdir=${tmp.path}/work /etc`,
    "mkdir -p /etc/chameleon",
    `ln -sf ${tmp.path}/gone.json /etc/chameleon/config.json`,
    "set +e",
    `${
      entrypointArgv().map(shellQuote).join(" ")
    } --explain --format json > ${tmp.path}/out; echo $? > ${tmp.path}/code`,
    `${
      entrypointArgv().map(shellQuote).join(" ")
    } --check-config 2> ${tmp.path}/check; echo $? >> ${tmp.path}/code`,
  ].join("\n");
  const r = await runProcess(["unshare", "--mount", "sh", "-c", script]);
  equal(r.code, 0, r.stderr);
  deepEqual(Deno.readTextFileSync(`${tmp.path}/code`).trim().split("\n"), ["78", "78"], r.stderr);
  equal(Deno.readTextFileSync(`${tmp.path}/out`), "");
  const why = "Config /etc/chameleon/config.json: a symbolic link whose target does not exist";
  match(r.stderr, new RegExp(why));
  match(Deno.readTextFileSync(`${tmp.path}/check`), new RegExp(why));
});

Deno.test("--check-config and a start refuse a config that is not UTF-8 (exit 78), writing nothing", async () => {
  using tmp = tempDir();
  for (const name of ["bad.json", "bad.yaml"]) {
    const file = `${tmp.path}/${name}`;
    const body = name.endsWith(".json")
      ? '{"schema":"chameleon.config/v1","env":{"fill":{"A":"x\xffy"}}}'
      : "env:\n  fill:\n    A: x\xffy\n";
    Deno.writeFileSync(file, Uint8Array.from(body, (c) => c.charCodeAt(0)));
    const out = `${tmp.path}/out.json`;
    const r = await runEntrypoint(["--check-config", file, "--write-json", out]);
    equal(r.code, 78, r.stderr);
    match(r.stderr, new RegExp(`${name}: expected UTF-8 text`));
    equal(r.stderr.trim().split("\n").length, 1);
    throws(() => Deno.statSync(out), Deno.errors.NotFound);
    const explain = await runEntrypoint(["--explain", "--config", file]);
    equal(explain.code, 78, explain.stderr);
    equal(explain.stdout, "");
  }
});

Deno.test("--write-json leaves nothing half-written when it cannot write", async () => {
  using tmp = tempDir();
  const r = await runEntrypoint([
    "--check-config",
    example("ml"),
    "--write-json",
    `${tmp.path}/no/such/dir/c.json`,
  ]);
  equal(r.code, 78);
  match(r.stderr, /Config output .*c\.json/);
  deepEqual([...Deno.readDirSync(tmp.path)], []);
});

Deno.test("--write-json refuses a normalised config larger than a start reads (1 MiB), writing nothing", async () => {
  using tmp = tempDir();
  const big = `${tmp.path}/big.json`;
  const set = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`V${i}`, "x"]));
  Deno.writeTextFileSync(big, JSON.stringify({ schema: "chameleon.config/v1", env: { set } }));
  const out = `${tmp.path}/out.json`;
  const r = await runEntrypoint(["--check-config", big, "--write-json", out]);
  equal(r.code, 78, r.stderr);
  match(r.stderr, /normalised JSON would be \d+ bytes; a start reads at most 1048576\n$/);
  deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["big.json"]);
});

Deno.test("--check-config on random YAML documents exits 0 or 78, never anything else (fuzz, processes)", async () => {
  using tmp = tempDir();
  const r = rng(77);
  const codes = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const f = `${tmp.path}/f${i}.yaml`;
    Deno.writeTextFileSync(f, randomYaml(r));
    const out = await runEntrypoint(["--check-config", f]);
    ok(out.code === 0 || out.code === 78, `document ${i} exited ${out.code}: ${out.stderr}`);
    equal(/^\s+at /m.test(out.stderr), false, "a stack trace");
    codes.add(out.code);
  }
  ok(codes.has(78));
});

Deno.test("a capture of a normalised config with a secret replays as trusted by its digest, as the live start took it", async () => {
  using tmp = tempDir();
  const yaml = `${tmp.path}/config.yaml`;
  const cfg = `${tmp.path}/config.json`;
  Deno.writeTextFileSync(
    yaml,
    "env:\n  set: {API_TOKEN: tok-digest-canary, MAX_TOKENS: '512'}\n  fill: {MAX_NEW_TOKENS: '1000'}\n",
  );
  const norm = await runEntrypoint(["--check-config", yaml, "--write-json", cfg]);
  equal(norm.code, 0, norm.stderr);
  const env = { CHAMELEON_CONFIG: cfg, KUBERNETES_SERVICE_HOST: "10.0.0.1", K_SERVICE: "svc" };
  const live = await explainJson([], { env });
  equal(live.config.validated, "digest");
  const snap = `${tmp.path}/snap.json`;
  const cap = await runEntrypoint(["--capture", snap], { env });
  equal(cap.code, 0, cap.stderr);
  equal(/canary|1000/.test(JSON.parse(Deno.readTextFileSync(snap)).files[cfg]), false);
  const { snapshot: _, ...replayed } = await explainJson(["--snapshot", snap]);
  deepEqual(replayed, live);
});

Deno.test("replay reads the config from the snapshot's files, and explain names the override", async () => {
  using tmp = tempDir();
  const cfg = `${tmp.path}/config.yaml`;
  Deno.writeTextFileSync(cfg, Deno.readTextFileSync(example("ml")));
  const snap = `${tmp.path}/snap.json`;
  const cap = await runEntrypoint(["--capture", snap, "serve"], {
    env: { CHAMELEON_CONFIG: cfg, KUBERNETES_SERVICE_HOST: "10.0.0.1", K_SERVICE: "svc" },
  });
  equal(cap.code, 0, cap.stderr);
  Deno.removeSync(cfg); // replay must not read the live file
  const doc = await explainJson(["--snapshot", snap]);
  equal(doc.config.file, cfg);
  deepEqual(doc.config.overrides, ["kubernetes-serving"]);
  deepEqual(doc.plan.command.slice(0, 2), ["/bin/sh", "-c"]);
  match(doc.plan.command[2], /^exec python3 -m uvicorn .* --port "\$ML_PORT" "\$@"$/);
  equal(doc.plan.env.UVICORN_WORKERS, "2");
  const text = await runEntrypoint(["--explain", "--snapshot", snap]);
  match(text.stdout, /overrides +kubernetes-serving/);
});

/** A capture of `args` under a YAML config with `serving` as given: the config's path and the capture's text. */
async function captureUnder(
  dir: string,
  serving: string,
  args: string[],
): Promise<{ cfg: string; snap: string; text: string }> {
  const cfg = `${dir}/config.yaml`;
  Deno.writeTextFileSync(cfg, `commands:\n  serving: {argv: [${serving}]}\n`);
  const snap = `${dir}/snap.json`;
  const cap = await runEntrypoint(["--capture", snap, ...args], { env: { CHAMELEON_CONFIG: cfg } });
  equal(cap.code, 0, cap.stderr);
  return { cfg, snap, text: Deno.readTextFileSync(snap) };
}

Deno.test("--capture hides a YAML config's secrets, as --explain does", async () => {
  using tmp = tempDir();
  const { cfg, snap, text } = await captureUnder(
    tmp.path,
    "python3, serve.py, --token, yaml-canary-abc, --api-key=yaml-canary-xyz",
    ["serve"],
  );
  equal(text.includes("canary"), false, text.split("\n").find((l) => l.includes("canary")));
  const shown = await explainJson(["--snapshot", snap]);
  equal(shown.config.file, cfg, "the config is still in the capture");
});

Deno.test("--capture hides a secret-named short number of a YAML config or hyperparameters file in files' text, and not elsewhere", async () => {
  using tmp = tempDir();
  const cfg = `${tmp.path}/config.yaml`;
  const hps = `${tmp.path}/hps.yaml`;
  Deno.writeTextFileSync(
    cfg,
    `env:\n  set: {MAX_TOTAL_TOKENS: '2048'}\ncompat:\n  sagemaker:\n    hyperparametersFile: ${hps}\n`,
  );
  Deno.writeTextFileSync(hps, "db_password: 123456\nepochs: 3\n");
  const snap = `${tmp.path}/snap.json`;
  const env = { CHAMELEON_CONFIG: cfg, NOTE: "batch of 2048, 123456" };
  const cap = await runEntrypoint(["--capture", snap], { env });
  equal(cap.code, 0, cap.stderr);
  const s = JSON.parse(Deno.readTextFileSync(snap));
  ok(s.files[cfg].startsWith("env:\n  set: {MAX_TOTAL_TOKENS: '<redacted>'}\n"), s.files[cfg]);
  // A YAML number stays a number, none of its digits kept (README: a capture keeps the type).
  equal(s.files[hps], "db_password: 0\nepochs: 3\n");
  equal(s.env.NOTE, "batch of 2048, 123456");
});

Deno.test("--capture hides the secrets of a Spark conf folder it records, even when the plan does not use it", async () => {
  using tmp = tempDir();
  const confDir = `${tmp.path}/spark-conf`;
  Deno.mkdirSync(confDir);
  Deno.writeTextFileSync(
    `${confDir}/spark-defaults.conf`,
    "spark.hadoop.fs.s3a.secret.key conf-canary-1\n" +
      "spark.driver.extraJavaOptions -Ddb.password=conf-canary-2\n",
  );
  Deno.writeTextFileSync(
    `${confDir}/core-site.xml`,
    "<configuration><property><name>fs.s3a.secret.key</name><value>conf-canary-3</value>" +
      "</property></configuration>\n",
  );
  const spark = "spark: {enabled: true}\n";
  const cases: [string, string, Record<string, string>][] = [
    [
      "Spark is off for this context",
      `${spark}overrides:\n  - {match: "*", spark: {enabled: false}}\n`,
      {},
    ],
    ["the plan fails (exit 78)", spark, { CHAMELEON_USER: "not-a-uid:gid" }],
    ["the plan uses it", spark, {}],
  ];
  for (const [why, config, env] of cases) {
    const cfg = `${tmp.path}/config.yaml`;
    Deno.writeTextFileSync(cfg, config);
    const snap = `${tmp.path}/snap.json`;
    const cap = await runEntrypoint(["--capture", snap], {
      env: { CHAMELEON_CONFIG: cfg, SPARK_CONF_DIR: confDir, ...env },
    });
    equal(cap.code, 0, cap.stderr);
    const text = Deno.readTextFileSync(snap);
    ok(text.includes("core-site.xml"), `${why}: the folder is recorded`);
    equal(text.includes("canary"), false, `${why}: ${text.match(/.{60}canary.{20}/)?.[0]}`);
  }
});

Deno.test("--capture hides an argument that a configured secret flag takes, and no more", async () => {
  using tmp = tempDir();
  const args = ["serve", "hf-argv-canary-123", "-v"];
  const { cfg, text } = await captureUnder(
    tmp.path,
    "python3, -m, server, --max-new-tokens, '100000', --hf-token",
    args,
  );
  const s = JSON.parse(text);
  deepEqual(s.argv, ["serve", "<redacted>", "-v"]);
  const shown = await runEntrypoint(["--explain", ...args], { env: { CHAMELEON_CONFIG: cfg } });
  equal(shown.stdout.includes("canary"), false, shown.stdout);
  // The config's own flag value is hidden in the config's text, not in the rest of the capture.
  equal(s.files[cfg].includes("100000"), false, s.files[cfg]);
  for (const [path, file] of Object.entries<string>(s.files)) {
    if (path.startsWith("/sys/")) equal(file.includes("<redacted>"), false, path);
  }
});

const mlConfig = () =>
  toImageConfig(validateConfig("ml.yaml", Deno.readTextFileSync(example("ml"))));
const planWith = (s: Snapshot) => planOf(new World(s), mlConfig());

Deno.test("the example configs' notebook serves under the platform proxy's path, without a token only behind Studio's or Kubeflow's sign-in", async () => {
  for (const n of ["ml", "dl", "spark"]) {
    const config = toImageConfig(validateConfig(`${n}.yaml`, Deno.readTextFileSync(example(n))));
    const cases: [string, string, boolean, Record<string, string>?][] = [
      ["sagemaker-notebook/jupyterlab", "/jupyterlab/default", true],
      ["kubernetes-notebook/kubeflow-notebook", "/notebook/team-a/alice-nb", true],
      // JupyterHub's single-user servers check the hub's tokens themselves: no proxy signs in.
      ["kubernetes-notebook/jupyterhub", "/user/bob/", false],
      // Also in an image that sets NB_PREFIX itself, as Kubeflow's guide for custom images has it.
      ["kubernetes-notebook/jupyterhub", "/user/bob/", false, { NB_PREFIX: "/" }],
      ["local-notebook/argv-notebook", "/", false],
    ];
    for (const [id, base, proxied, env = {}] of cases) {
      const s = withEnv(env)(fixture(id));
      const p = planOf(new World(s), config);
      equal(p.env["ML_BASE_URL"], base, `${n} ${id}`);
      equal(p.shell, true, `${n} ${id}`);
      const script = p.command![2]!;
      match(script, /--port="\$ML_PORT" .*--ServerApp\.base_url="\$ML_BASE_URL"/, `${n} ${id}`);
      // The shell gives jupyter the planned values, in the pod's environment.
      const r = await runProcess([
        "sh",
        "-c",
        script.replace(/exec jupyter lab/, "printf '%s\\n'"),
        "sh",
      ], { env: { ...s.env, ...p.env } });
      match(r.stdout, new RegExp(`^--port=8888$`, "m"));
      match(r.stdout, new RegExp(`^--ServerApp\\.base_url=${base}$`, "m"));
      const words = r.stdout.split("\n");
      equal(words.includes("--ServerApp.token="), proxied, `${n} ${id}: ${r.stdout}`);
      equal(words.includes("--ServerApp.allow_origin=*"), proxied, `${n} ${id}: ${r.stdout}`);
    }
  }
});

Deno.test("the sagemaker compatibility layer gives SM_* on a Kubeflow PyTorchJob", () => {
  const s = fixture("kubernetes-training/pytorchjob");
  const p = planWith({
    ...s,
    env: {
      ...s.env,
      ML_HPS: '{"epochs": 3, "lr": 0.001, "layers": [64, 32], "api_key": "compat-secret-canary"}',
    },
    dirs: [...s.dirs, "/data/train", "/data/eval"],
  });
  deepEqual(
    [
      p.env["SM_MODEL_DIR"],
      p.env["SM_OUTPUT_DATA_DIR"],
      p.env["SM_CHANNELS"],
      p.env["SM_CHANNEL_TRAIN"],
      p.env["SM_CHANNEL_EVAL"],
    ],
    ["/models", "/outputs", '["eval","train"]', "/data/train", "/data/eval"],
  );
  equal(
    p.env["SM_HPS"],
    '{"api_key":"compat-secret-canary","epochs":3,"layers":[64,32],"lr":0.001}',
  );
  deepEqual([p.env["SM_HP_EPOCHS"], p.env["SM_HP_LR"], p.env["SM_HP_LAYERS"]], [
    "3",
    "0.001",
    "[64,32]",
  ]);
  deepEqual([
    p.env["SM_NUM_GPUS"],
    p.env["SM_NUM_CPUS"],
    p.env["SM_CURRENT_HOST"],
    p.env["SM_HOSTS"],
  ], [
    "4",
    "8",
    "bert-ft-master-0",
    // WORLD_SIZE 3: the master and two workers, named as the operator names its pods.
    '["bert-ft-master-0","bert-ft-worker-0","bert-ft-worker-1"]',
  ]);
  // The toolkit's script-mode arguments too (sorted keys, values through str()), shown redacted.
  equal(
    p.env["SM_USER_ARGS"],
    '["--api_key","compat-secret-canary","--epochs","3","--layers","[64, 32]","--lr","0.001"]',
  );
  equal(
    p.envDisplay["SM_USER_ARGS"],
    '["--api_key","<redacted>","--epochs","3","--layers","[64, 32]","--lr","0.001"]',
  );
  equal(p.envDisplay["SM_HP_API_KEY"], "<redacted>");
  equal(JSON.stringify(p.envDisplay).includes("canary"), false);
});

Deno.test("the sagemaker compatibility layer reads a config-named YAML hyperparameters file on a laptop", () => {
  const s = fixture("local-training/argv-train");
  const yaml =
    "# run settings\nepochs: 10\nlr: 1e-05\noptimizer: adam\nname: 'it''s'\nflags: [1, 2]\n";
  const cfg = configFromYaml(
    "compat:\n  sagemaker:\n    hyperparametersFile: /etc/job/hps.yaml\npaths:\n  model: /models\n",
  );
  const w = new World({ ...s, files: { ...s.files, "/etc/job/hps.yaml": yaml } });
  const p = plan(w, detect(w), cfg);
  equal(
    p.env["SM_HPS"],
    '{"epochs":10,"flags":[1,2],"lr":1e-05,"name":"it\'s","optimizer":"adam"}',
  );
  equal(p.env["SM_HP_OPTIMIZER"], "adam");
  equal(p.env["SM_MODEL_DIR"], "/models");
  equal(p.env["SM_CHANNELS"], "[]");
  equal(p.env["SM_HOSTS"], '["localhost"]');
});

Deno.test("the compatibility layer leaves a real SageMaker training job to the toolkit parity", () => {
  const p = planWith(fixture("sagemaker-training/single-host"));
  equal(p.env["SM_MODEL_DIR"], "/opt/ml/model");
  equal(p.env["SM_CHANNEL_TRAIN"], "/opt/ml/input/data/train");
});

Deno.test("config commands, shell mode and default workloads shape the plan", () => {
  const s = fixture("local-unknown/docker");
  const p = planWith({ ...s, argv: [] });
  equal(p.env["CHAMELEON_CONTEXT"], "local-notebook", "defaultWorkload.local");
  deepEqual(p.command?.slice(0, 2), ["/bin/sh", "-c"]);
  match(p.command![2]!, /^exec jupyter lab --ip=0\.0\.0\.0 --port="\$ML_PORT" --no-browser /);
  const flags = planWith({ ...s, argv: ["--port=9999"] });
  deepEqual(
    flags.command?.at(-1),
    "--port=9999",
    "a first flag is appended to the default command",
  );
  const cfg = configFromYaml("commands:\n  unknown: {argv: [echo, hi, '$HOME'], shell: true}\n");
  const w = new World({ ...s, argv: ["--x", "y"] });
  const sh = plan(w, detect(w), cfg);
  deepEqual(sh.command, ["/bin/sh", "-c", 'echo hi $HOME "$@"', "sh", "--x", "y"]);
  equal(sh.shell, true);
  // A workload word picks that workload's command, shell mode included.
  const word = configFromYaml("commands:\n  serving: {argv: [serve-it, '$PORT'], shell: true}\n");
  const ws = new World({ ...s, argv: ["serve", "--fast"] });
  const served = plan(ws, detect(ws), word);
  deepEqual(served.command, ["/bin/sh", "-c", 'serve-it $PORT "$@"', "sh", "--fast"]);
  equal(served.shell, true);
});

Deno.test("the sagemaker compatibility layer refuses an ML_HPS that is not a JSON object (exit 78)", () => {
  const s = fixture("kubernetes-training/pytorchjob");
  for (
    const [value, re] of [
      ["{oops", /Variable ML_HPS: not valid JSON/],
      ["[1, 2]", /Variable ML_HPS: top level: expected an object/],
    ] as const
  ) {
    throws(() => planWith({ ...s, env: { ...s.env, ML_HPS: value } }), re);
  }
});

Deno.test("--capture hides a user SPARK_CONF_DIR's secrets and never reads a service-account token in it", async () => {
  using tmp = tempDir();
  const conf = `${tmp.path}/conf`;
  const sa = `${tmp.path}/secrets/serviceaccount`;
  Deno.mkdirSync(conf);
  Deno.mkdirSync(sa, { recursive: true });
  Deno.writeTextFileSync(`${conf}/spark-env.sh`, "export AWS_SECRET_ACCESS_KEY=env-sh-canary-1\n");
  Deno.writeTextFileSync(
    `${conf}/core-site.xml`,
    "<configuration><property><name>fs.s3a.secret.key</name><value>xml-canary-2</value></property></configuration>\n",
  );
  Deno.writeTextFileSync(`${sa}/token`, "token-canary-3");
  Deno.symlinkSync(`${sa}/token`, `${conf}/token`);
  const cfg = `${tmp.path}/config.yaml`;
  Deno.writeTextFileSync(cfg, "spark: {enabled: true}\n");
  const snap = `${tmp.path}/snap.json`;
  const cap = await runEntrypoint(["--capture", snap], {
    env: { CHAMELEON_CONFIG: cfg, SPARK_CONF_DIR: conf },
  });
  equal(cap.code, 0, cap.stderr);
  const s = JSON.parse(Deno.readTextFileSync(snap));
  equal(JSON.stringify(s).includes("canary"), false);
  // Recorded, as the files they are: the secrets hidden, the token present and empty.
  ok(s.files[`${conf}/spark-env.sh`].includes("<redacted>"));
  equal(s.files[`${conf}/token`], "");
});

Deno.test("a start links the image's Spark conf files into the generated folder: a binary keystore and a private file stay as they are", async () => {
  using tmp = tempDir();
  const conf = `${tmp.path}/spark/conf`;
  Deno.mkdirSync(conf, { recursive: true });
  Deno.writeTextFileSync(`${conf}/spark-defaults.conf`, "spark.sql.shuffle.partitions 64\n");
  const keystore = Uint8Array.from({ length: 256 }, (_, i) => i);
  Deno.writeFileSync(`${conf}/spark.jks`, keystore);
  Deno.writeTextFileSync(`${conf}/core-site.xml`, "<configuration/>\n", { mode: 0o600 });
  Deno.chmodSync(`${conf}/core-site.xml`, 0o600);
  const cfg = `${tmp.path}/config.yaml`;
  Deno.writeTextFileSync(cfg, "spark: {enabled: true}\n");
  const rt = `${tmp.path}/rt`;
  const r = await runEntrypoint(["sh", "-c", 'echo "$SPARK_CONF_DIR"'], {
    env: { CHAMELEON_CONFIG: cfg, SPARK_HOME: `${tmp.path}/spark`, CHAMELEON_RUNTIME_DIR: rt },
  });
  equal(r.code, 0, r.stderr);
  const dir = `${rt}/spark-conf`;
  equal(r.stdout, `${dir}\n`);
  match(
    Deno.readTextFileSync(`${dir}/spark-defaults.conf`),
    /^spark\.sql\.shuffle\.partitions 64$/m,
  );
  for (const name of ["spark.jks", "core-site.xml"]) {
    equal(Deno.readLinkSync(`${dir}/${name}`), `${conf}/${name}`, name);
  }
  deepEqual(Deno.readFileSync(`${dir}/spark.jks`), keystore);
  equal(Deno.statSync(`${dir}/core-site.xml`).mode! & 0o777, 0o600);
  // A second start replaces the links it made.
  const again = await runEntrypoint(["true"], {
    env: { CHAMELEON_CONFIG: cfg, SPARK_HOME: `${tmp.path}/spark`, CHAMELEON_RUNTIME_DIR: rt },
  });
  equal(again.code, 0, again.stderr);
  equal(Deno.readLinkSync(`${dir}/spark.jks`), `${conf}/spark.jks`);
});

Deno.test("a config user is switched to only when switchUser asks (design section 3), with the groups it names", () => {
  const docker = fixture("local-unknown/docker");
  const user =
    "user:\n  name: ml\n  uid: 1000\n  gid: 100\n  groups: [100, 2000]\n  home: /home/ml\n";
  equal(planOf(new World(docker), configFromYaml(user)).user, null, "no user switch by default");
  const p = planOf(new World(docker), configFromYaml(user + "switchUser: when-root\n"));
  deepEqual([p.user?.uid, p.user?.gid, p.user?.groups], [1000, 100, [100, 2000]]);
});

Deno.test("a live start reads the hyperparameters file the image config names", async () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/hps.yaml`, "epochs: 7\n");
  const cfg = `${tmp.path}/config.yaml`;
  Deno.writeTextFileSync(
    cfg,
    `compat:\n  sagemaker:\n    hyperparametersFile: ${tmp.path}/hps.yaml\n`,
  );
  const doc = await explainJson(["--context", "local-unknown"], { env: { CHAMELEON_CONFIG: cfg } });
  equal(doc.plan.env.SM_HP_EPOCHS, "7");
  equal(doc.plan.env.SM_HPS, '{"epochs":7}');
});

Deno.test("a live start lists the input folder's channels and reads the hyperparameters file an override names", async () => {
  using tmp = tempDir();
  Deno.mkdirSync(`${tmp.path}/data/train`, { recursive: true });
  Deno.mkdirSync(`${tmp.path}/data/eval`);
  Deno.writeTextFileSync(`${tmp.path}/data/README.md`, "");
  Deno.writeTextFileSync(`${tmp.path}/hps.yaml`, "epochs: 7\n");
  const cfg = `${tmp.path}/config.yaml`;
  Deno.writeTextFileSync(
    cfg,
    "compat:\n  sagemaker: {}\noverrides:\n  - match: 'local-*'\n" +
      `    paths:\n      input: ${tmp.path}/data\n` +
      `    compat:\n      sagemaker:\n        hyperparametersFile: ${tmp.path}/hps.yaml\n`,
  );
  const doc = await explainJson(["--context", "local-unknown"], { env: { CHAMELEON_CONFIG: cfg } });
  equal(doc.plan.env.SM_CHANNELS, '["eval","train"]');
  equal(doc.plan.env.SM_CHANNEL_TRAIN, `${tmp.path}/data/train`);
  equal(doc.plan.env.SM_HPS, '{"epochs":7}');
});

Deno.test("--capture with --config says how to replay with it (own options are not in a snapshot)", async () => {
  using tmp = tempDir();
  const cfg = `${tmp.path}/c.yaml`;
  Deno.writeTextFileSync(cfg, "commands:\n  serving:\n    argv: [python3, /app.py]\n");
  const snap = `${tmp.path}/s.json`;
  const r = await runEntrypoint(["--config", cfg, "--capture", snap, "serve"]);
  equal(r.code, 0, r.stderr);
  ok(r.stderr.includes(`--snapshot ${snap} --config ${cfg}`), r.stderr);
  const replayed = await explainJson(["--snapshot", snap, "--config", cfg]);
  deepEqual(replayed.plan.command, ["python3", "/app.py"]);
});

Deno.test("a replay whose --config is not in the snapshot says so, not 'no such file' of a file that is there", async () => {
  using tmp = tempDir();
  const cfg = `${tmp.path}/c.yaml`;
  Deno.writeTextFileSync(cfg, "commands:\n  serving:\n    argv: [python3, /app.py]\n");
  const snap = `${tmp.path}/s.json`;
  Deno.writeTextFileSync(
    snap,
    JSON.stringify({ schema: "chameleon.snapshot/v1", argv: ["serve"] }),
  );
  const r = await runEntrypoint(["--snapshot", snap, "--config", cfg]);
  equal(r.code, 78, r.stderr);
  equal(r.stdout, "");
  equal(
    r.stderr.trim(),
    `chameleon: error: Config ${cfg}: not in snapshot ${snap} (a replay reads the config from the snapshot's files: capture with --config ${cfg})`,
  );
});
