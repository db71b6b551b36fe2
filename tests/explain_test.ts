import { deepEqual, equal, match, ok } from "@std/assert";
import { sagemakerSnapshot } from "../bench/plan_inputs.ts";
import { PLATFORMS } from "../types.ts";
import {
  entrypointArgv,
  explainJson,
  fixture,
  fixturePath,
  runEntrypoint,
  runProcess,
  tempDir,
} from "./helpers.ts";

const F = fixturePath;

Deno.test("--explain --format json --snapshot prints chameleon.explain/v1 (design §5)", async () => {
  const doc = await explainJson(["--snapshot", F("sagemaker-training/multi-host")]);
  equal(doc.schema, "chameleon.explain/v1");
  deepEqual(Object.keys(doc.context).slice(0, 4), ["id", "platform", "workload", "source"]);
  equal(doc.context.id, "sagemaker-training");
  deepEqual(
    Object.keys(doc.facts).slice(0, 8),
    ["pid1", "init", "container", "openshift", "cpus", "onlineCpus", "memoryBytes", "gpus"],
  );
  equal(doc.detectors.length, 11);
  equal(doc.detectors[0].platform, "aws-batch");
  for (
    const k of [
      "env",
      "unset",
      "user",
      "files",
      "steps",
      "mode",
      "modeReason",
      "cwd",
      "command",
      "warnings",
    ]
  ) {
    ok(k in doc.plan, `plan.${k}`);
  }
  equal(doc.plan.env.CHAMELEON_CONTEXT, "sagemaker-training");
  equal(doc.plan.mode, "supervise");
});

Deno.test("chameleon.explain/v1 keeps design section 5's fields, types and meanings over several fixtures and a user change", async () => {
  using tmp = tempDir();
  const userSnap = `${tmp.path}/user.json`;
  Deno.writeTextFileSync(
    userSnap,
    JSON.stringify({
      schema: "chameleon.snapshot/v1",
      argv: ["python3"],
      env: { CHAMELEON_USER: "1000:100", HOME: "/root" },
      files: {
        "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nml:x:1000:100:ml:/home/ml:/bin/sh\n",
        "/etc/group": "root:x:0:\nusers:x:100:ml\n",
        // A device node: a files entry with empty content (design section 4), counted as a GPU.
        "/dev/nvidia0": "",
      },
      dirs: ["/home/ml"],
      stat: { "/home/ml": { uid: 1000, gid: 100, mode: "0755" } },
    }),
  );
  const cases = [
    "sagemaker-training/multi-host",
    "sagemaker-training/raw-hyperparameters",
    "kubernetes-training/pytorchjob",
    "slurm-training/batch-two-nodes",
    "vertex-ai-serving/prediction",
    "local-notebook/argv-notebook",
  ].map((f) => [F(f), fixture(f)] as const);
  const seen = { user: false, redacted: false };
  for (const [file, snap] of [...cases, [userSnap, JSON.parse(Deno.readTextFileSync(userSnap))]]) {
    const doc = await explainJson(["--snapshot", file]);
    const at = (what: string) => `${file}: ${what}`;
    equal(doc.schema, "chameleon.explain/v1");
    const c = doc.context;
    for (const k of ["id", "platform", "workload", "source"]) equal(typeof c[k], "string", at(k));
    equal(c.id, `${c.platform}-${c.workload}`, at("context.id is platform-workload"));
    const f = doc.facts;
    equal(typeof f.pid1, "boolean", at("pid1"));
    equal(f.pid1, (snap.pid ?? 1) === 1, at("pid1 means pid 1"));
    ok(f.init === null || typeof f.init === "string", at("init"));
    ok(f.container === null || typeof f.container === "string", at("container"));
    equal(typeof f.openshift, "boolean", at("openshift"));
    ok(f.cpus === null || typeof f.cpus === "number", at("cpus"));
    ok(Number.isInteger(f.onlineCpus), at("onlineCpus"));
    ok(f.memoryBytes === null || Number.isInteger(f.memoryBytes), at("memoryBytes"));
    ok(Number.isInteger(f.gpus), at("gpus"));
    // Every platform, in precedence order, each with every signal it declares.
    deepEqual(
      doc.detectors.map((d: { platform: string }) => d.platform),
      [...PLATFORMS],
      at("order"),
    );
    for (const d of doc.detectors) {
      equal(typeof d.matched, "boolean", at(`${d.platform}.matched`));
      ok(Array.isArray(d.evidence) && d.evidence.length > 0, at(`${d.platform}.evidence`));
      for (const e of d.evidence) {
        equal(typeof e.signal, "string", at(`${d.platform} signal`));
        equal(typeof e.found, "boolean", at(`${d.platform} ${e.signal} found`));
      }
    }
    ok(
      doc.detectors.some((d: { platform: string; matched: boolean }) =>
        d.matched && d.platform === c.platform
      ) || c.source !== "detected",
      at("the detected platform's detector matched"),
    );
    const p = doc.plan;
    // plan.env: what the entrypoint sets or changes, nothing it leaves untouched.
    for (const [k, v] of Object.entries(p.env)) {
      equal(typeof v, "string", at(`env ${k}`));
      ok(snap.env?.[k] !== v, at(`plan.env.${k} is what the snapshot already holds`));
    }
    if (Object.values(p.env).includes("<redacted>")) seen.redacted = true;
    ok(Array.isArray(p.unset) && p.unset.every((n: unknown) => typeof n === "string"), at("unset"));
    if (p.user === null) equal(snap.env?.CHAMELEON_USER, undefined, at("user"));
    else {
      seen.user = true;
      deepEqual(Object.keys(p.user).slice(0, 5), ["uid", "gid", "groups", "name", "home"]);
      deepEqual(p.user, { uid: 1000, gid: 100, groups: [100], name: "ml", home: "/home/ml" });
      equal(p.env.HOME, "/home/ml");
      equal(f.gpus, 1, "a device node's empty files entry is there");
    }
    ok(Array.isArray(p.files), at("files"));
    ok(
      Array.isArray(p.steps) && p.steps.every((s: { step: unknown }) => typeof s.step === "string"),
    );
    ok(["exec", "supervise"].includes(p.mode), at(`mode ${p.mode}`));
    equal(typeof p.modeReason, "string", at("modeReason"));
    ok(p.cwd === null || typeof p.cwd === "string", at("cwd"));
    ok(
      p.command === null ||
        (Array.isArray(p.command) && p.command.every((w: unknown) => typeof w === "string")),
      at("command"),
    );
    ok(Array.isArray(p.warnings) && p.warnings.every((w: unknown) => typeof w === "string"));
  }
  deepEqual(seen, { user: true, redacted: true }, "the cases include a user change and a secret");
});

Deno.test("replay without --explain explains and changes nothing", async () => {
  const r = await runEntrypoint(["--snapshot", F("local-unknown/docker")]);
  equal(r.code, 0, r.stderr);
  match(r.stdout, /local-unknown/);
});

Deno.test("--explain text has every section and no colour when not on a terminal", async () => {
  const r = await runEntrypoint([
    "--explain",
    "--snapshot",
    F("kubernetes-serving/kserve-serverless"),
  ]);
  equal(r.code, 0, r.stderr);
  for (
    const s of ["Context", "Detectors", "Facts", "Plan", "kubernetes-serving", "kserve-serverless"]
  ) {
    ok(r.stdout.includes(s), s);
  }
  equal(r.stdout.includes("\x1b["), false);
  ok(r.stdout.endsWith("\n") && !r.stdout.endsWith("\n\n"), "one newline ends it");
});

Deno.test("a malformed snapshot exits 78 with one line naming the field, nothing on stdout", async () => {
  using tmp = tempDir();
  const cases: [string, RegExp][] = [
    ["{oops", /not valid JSON/],
    [JSON.stringify({ schema: "chameleon.snapshot/v1", extra: true }), /\/extra: unknown key/],
    [
      JSON.stringify({ schema: "chameleon.snapshot/v1", env: { A: 1 } }),
      /\/env\/A: expected a string/,
    ],
    [
      '{"schema":"chameleon.snapshot/v1","argv":[],"argv":["x"]}',
      /top level: key "argv" appears twice/,
    ],
    ["null", /top level: expected an object, got null/],
    ['{"argv":[]}', /\/schema: expected "chameleon\.snapshot\/v1", got nothing/],
    ['{"schema":"chameleon.snapshot/v1","uid":1e400}', /\/uid: expected an integer from 0 to/],
    [JSON.stringify({ schema: "chameleon.snapshot/v1", gid: -1 }), /\/gid: expected an integer/],
    [
      JSON.stringify({ schema: "chameleon.snapshot/v1", stat: { "/h": { uid: 0, mode: "0755" } } }),
      /\/stat\/~1h\/gid: expected an integer from 0 to 4294967294, got nothing/,
    ],
    [
      JSON.stringify({ schema: "chameleon.snapshot/v1", dirs: ["opt/ml"] }),
      /\/dirs\/0: expected an absolute path, got "opt\/ml"/,
    ],
  ];
  for (const [text, re] of cases) {
    const f = `${tmp.path}/s.json`;
    Deno.writeTextFileSync(f, text);
    const r = await runEntrypoint(["--explain", "--snapshot", f]);
    equal(r.code, 78);
    equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    equal(lines.length, 1, r.stderr);
    match(lines[0]!, re);
    ok(lines[0]!.includes(f), "names the file");
    equal(/^\s+at /m.test(r.stderr), false, "no stack trace");
  }
});

Deno.test("--capture writes a redacted snapshot that replays to the same context", async () => {
  using tmp = tempDir();
  const out = `${tmp.path}/cap.json`;
  const env = {
    KUBERNETES_SERVICE_HOST: "10.0.0.1",
    K_SERVICE: "svc",
    HF_TOKEN: "hf_capture_canary_123",
    MY_PASSWORD: "pw-canary-456",
    // Secrets inside JSON values and their copies in other variables.
    ML_HPS: '{"epochs": 2, "api_key": "hps-canary-789"}',
    SM_USER_ARGS: '["--epochs","2","--api_key","hps-canary-789"]',
    RUN_NOTE: "key hps-canary-789 and pw-canary-456",
  };
  const cap = await runEntrypoint(
    ["--capture", out, "serve", "--port", "1", "--hf", "hf_capture_canary_123", "--token=t-canary"],
    { env },
  );
  equal(cap.code, 0, cap.stderr);
  const text = Deno.readTextFileSync(out);
  equal(
    text.includes("canary"),
    false,
    `a secret reached the capture: ${text.split("\n").find((l) => l.includes("canary"))}`,
  );
  const s = JSON.parse(text);
  equal(s.schema, "chameleon.snapshot/v1");
  deepEqual(s.argv, ["serve", "--port", "1", "--hf", "<redacted>", "--token=<redacted>"]);
  equal(s.env.HF_TOKEN, "<redacted>");
  equal(JSON.parse(s.env.ML_HPS).epochs, 2, "the non-secret fields stay");
  equal((await explainJson(["--snapshot", out])).context.id, "kubernetes-serving");
});

Deno.test("a capture replays to the live --explain when a secret-named variable holds a short number: 1024 elsewhere stays", async () => {
  using tmp = tempDir();
  const cfg = `${tmp.path}/config.json`;
  Deno.writeTextFileSync(
    cfg,
    JSON.stringify({
      schema: "chameleon.config/v1",
      paths: { model: "/srv/models/1024" },
      env: { fill: { MAX_BATCH_TOKENS: "2048" } },
    }),
  );
  // A model server's token limits: the name rule hides them, but not every 1024 and 2048.
  const env = {
    CHAMELEON_CONFIG: cfg,
    MAX_INPUT_TOKENS: "1024",
    MAX_TOTAL_TOKENS: "2048",
    KUBERNETES_SERVICE_HOST: "10.0.0.1",
    K_SERVICE: "m",
  };
  const live = await explainJson([], { env });
  equal(live.plan.env.ML_MODEL_DIR, "/srv/models/1024");
  equal(live.plan.env.MAX_BATCH_TOKENS, "<redacted>");
  const snap = `${tmp.path}/snap.json`;
  const cap = await runEntrypoint(["--capture", snap], { env });
  equal(cap.code, 0, cap.stderr);
  const captured = JSON.parse(Deno.readTextFileSync(snap));
  deepEqual(
    [captured.env.MAX_INPUT_TOKENS, JSON.parse(captured.files[cfg]).env.fill.MAX_BATCH_TOKENS],
    ["<redacted>", "<redacted>"],
  );
  const { snapshot: _, ...replayed } = await explainJson(["--snapshot", snap]);
  deepEqual(replayed, live);
});

Deno.test("live --explain works on this machine and exits 0", async () => {
  equal((await explainJson([])).schema, "chameleon.explain/v1");
});

Deno.test("usage errors exit 2, --help and --version exit 0", async () => {
  equal((await runEntrypoint(["--explian"])).code, 2);
  equal((await runEntrypoint(["--snapshot", F("local-unknown/docker"), "echo"])).code, 2);
  equal((await runEntrypoint(["--explain", "--context", "nowhere"])).code, 2);
  const h = await runEntrypoint(["--help"]);
  equal(h.code, 0);
  match(h.stdout, /--check-config/);
  match((await runEntrypoint(["--version"])).stdout, /^chameleon \d+\.\d+\.\d+\S*\n$/);
});

Deno.test("an own option where a value belongs is exit 2, and --capture writes no file named after it", async () => {
  using dir = tempDir();
  const r = await runEntrypoint(["--capture", "--explain"], { cwd: dir.path });
  equal(r.code, 2);
  match(r.stderr, /Option --capture needs a value FILE, got option "--explain"/);
  deepEqual([...Deno.readDirSync(dir.path)], []);
  equal((await runEntrypoint(["--config", "--explain"])).code, 2);
  // A config is a file: "-" is not standard input there, as it is for --snapshot.
  const stdin = await runEntrypoint(["--explain", "--config", "-"], { stdin: "{}" });
  equal(stdin.code, 2);
  match(stdin.stderr, /Option --config reads a file: "-" \(standard input\) is not one/);
});

Deno.test("--context and --workload force the decision and --explain says so", async () => {
  const c = (await explainJson([
    "--context",
    "kubernetes",
    "--workload",
    "serving",
    "--snapshot",
    F("local-unknown/docker"),
  ])).context;
  deepEqual([c.id, c.source, c.forced], ["kubernetes-serving", "forced", ["platform", "workload"]]);
  const t = await runEntrypoint([
    "--explain",
    "--workload",
    "notebook",
    "--snapshot",
    F("local-unknown/docker"),
  ]);
  match(t.stdout, /source +forced: the workload by --context/);
  const one = fixture("local-unknown/docker");
  using tmp = tempDir();
  Deno.writeTextFileSync(
    `${tmp.path}/one.json`,
    JSON.stringify({ ...one, files: { ...one.files, "/sys/devices/system/cpu/online": "0\n" } }),
  );
  const single = await runEntrypoint(["--explain", "--snapshot", `${tmp.path}/one.json`]);
  match(single.stdout, /online +1 CPU\n/);
  const unknown = await runEntrypoint(["--explain", "--snapshot", F("local-unknown/docker")]);
  match(unknown.stdout, /source +detected: no signal, argument or config default names a workload/);
});

Deno.test("CHAMELEON_DISABLE=1 runs the command untouched", async () => {
  const r = await runEntrypoint(["sh", "-c", 'echo "started=${CHAMELEON_STARTED:-none}"'], {
    // A bad value of a variable that only shapes --explain does not stop it either.
    env: { CHAMELEON_DISABLE: "1", CHAMELEON_FORMAT: "yaml" },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "started=none\n");
  // With nothing to run, the error says why nothing was adapted.
  const none = await runEntrypoint([], { env: { CHAMELEON_DISABLE: "1" } });
  equal(none.code, 2);
  match(none.stderr, /No command to run \(CHAMELEON_DISABLE=1: a real start runs the command/);
});

Deno.test("--capture under CHAMELEON_DISABLE=1 or in a nested start captures, and runs nothing", async () => {
  using tmp = tempDir();
  for (const env of [{ CHAMELEON_DISABLE: "1" }, { CHAMELEON_STARTED: "1" }]) {
    const out = `${tmp.path}/${Object.keys(env)[0]}.json`;
    const r = await runEntrypoint(["--capture", out, "sh", "-c", "echo ran"], { env });
    equal(r.code, 0, r.stderr);
    equal(r.stdout, "", JSON.stringify(env));
    deepEqual(JSON.parse(Deno.readTextFileSync(out)).argv, ["sh", "-c", "echo ran"]);
  }
});

Deno.test("errors go to the logger: json lines with CHAMELEON_LOG_FORMAT=json", async () => {
  const r = await runEntrypoint(["--explain", "--snapshot", "/nonexistent.json"], {
    env: { CHAMELEON_LOG_FORMAT: "json" },
  });
  equal(r.code, 78);
  const line = JSON.parse(r.stderr.trim());
  deepEqual([line.level, line.msg], ["error", "Snapshot /nonexistent.json: no such file"]);
});

Deno.test("a secret that equals a number in the output leaves the JSON and its numbers intact", async () => {
  using tmp = tempDir();
  const s = JSON.parse(Deno.readTextFileSync(F("aws-batch-processing/array")));
  s.env.API_TOKEN = "8589934592";
  const file = `${tmp.path}/s.json`;
  Deno.writeTextFileSync(file, JSON.stringify(s));
  const r = await runEntrypoint(["--explain", "--format", "json", "--snapshot", file]);
  equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  equal(out.facts.memoryBytes, 8589934592, "a number is not a copy of the secret string");
  equal(r.stdout.includes('"8589934592"'), false, "the secret string itself is not shown");
});

Deno.test("--explain shows a malformed fact file with the reason, in text and json", async () => {
  using tmp = tempDir();
  const base = fixture("local-unknown/docker");
  const file = `${tmp.path}/snap.json`;
  Deno.writeTextFileSync(
    file,
    JSON.stringify({ ...base, files: { ...base.files, "/sys/fs/cgroup/cpu.max": "lots\n" } }),
  );
  const text = await runEntrypoint(["--explain", "--snapshot", file]);
  equal(text.code, 0, text.stderr);
  match(text.stdout, /problem +\/sys\/fs\/cgroup\/cpu\.max: expected "max PERIOD"/);
  const json = await explainJson(["--snapshot", file]);
  deepEqual(json.facts.problems, [
    '/sys/fs/cgroup/cpu.max: expected "max PERIOD" or "QUOTA PERIOD", got "lots"',
  ]);
});

Deno.test("--explain text shows a signal that is there without holding: its value, or which half of a pair is missing", async () => {
  using tmp = tempDir();
  const batch = fixture("aws-batch-training/multi-node-main");
  const slurm = fixture("slurm-unknown/task");
  const slurmEnv = { ...slurm.env };
  delete slurmEnv["SLURM_NTASKS"];
  const cases: [unknown, RegExp][] = [
    [
      { ...batch, env: { ...batch.env, AWS_BATCH_JOB_NUM_NODES: "1" } },
      /\n +✗ env AWS_BATCH_JOB_NUM_NODES >= 2 {2}\(is 1\)\n/,
    ],
    [
      { ...slurm, env: slurmEnv },
      /\n +✗ env SLURM_JOB_ID and env SLURM_NTASKS\n +found: env SLURM_JOB_ID = \d+\n +not found: env SLURM_NTASKS\n/,
    ],
  ];
  for (const [snapshot, expected] of cases) {
    const file = `${tmp.path}/snap.json`;
    Deno.writeTextFileSync(file, JSON.stringify(snapshot));
    const text = await runEntrypoint(["--explain", "--snapshot", file]);
    equal(text.code, 0, text.stderr);
    match(text.stdout, expected);
  }
});

Deno.test("a reader that stops early (--explain | head -1, --capture -) ends the start quietly with 141, not as a bug", async () => {
  using tmp = tempDir();
  const file = `${tmp.path}/snap.json`;
  // About 200 KB of explain: more than a pipe holds, so writing meets the closed end.
  Deno.writeTextFileSync(file, JSON.stringify(sagemakerSnapshot(4, 4000, true)));
  const [cmd, ...rest] = entrypointArgv();
  for (
    const [args, env] of [
      [["--explain", "--format", "json", "--snapshot", file], {}],
      // A live capture of an environment that big.
      [["--capture", "-"], { BIG1: "x".repeat(100_000), BIG2: "y".repeat(100_000) }],
    ] as const
  ) {
    const child = new Deno.Command(cmd!, {
      args: [...rest, ...args],
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await child.stdout.cancel();
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    equal(status.code, 141, `${args.join(" ")}: ${stderr}`);
    equal(stderr, "");
  }
});

Deno.test("stdout that cannot be written (a full disk) is exit 78 naming standard output, not a bug", async () => {
  const [cmd, ...rest] = entrypointArgv();
  const cases: [string[], RegExp][] = [
    [
      ["--explain", "--format", "json"],
      /^chameleon: error: Standard output: No space left on device/m,
    ],
    [["--version"], /^chameleon: error: Standard output: No space left on device/m],
    [["--capture", "-"], /^chameleon: error: Capture -: no space left on device/mi],
  ];
  for (const [args, re] of cases) {
    const r = await runProcess(["sh", "-c", 'exec "$@" > /dev/full', "sh", cmd!, ...rest, ...args]);
    equal(r.code, 78, `${args.join(" ")}: ${r.stderr}`);
    match(r.stderr, re);
  }
});

Deno.test("a secret that is also a word of the context's vocabulary leaves the context readable, its own variable hidden", async () => {
  const doc = await explainJson([], { env: { DB_PASSWORD: "local", API_TOKEN: "unknown" } });
  equal(doc.context.id, "local-unknown");
  equal(doc.plan.env["CHAMELEON_CONTEXT"], "local-unknown");
  // A live explain shows no env it did not plan; the text view and the log line agree.
  const text = await runEntrypoint(["--explain"], {
    env: { DB_PASSWORD: "local", API_TOKEN: "unknown", NO_COLOR: "1" },
  });
  equal(text.code, 0, text.stderr);
  match(text.stdout, /^ {2}id {9}local-unknown$/m);
});

Deno.test("a JSON secret inside a variable stays out of --explain and the log, as a capture hides it", async () => {
  // A secret-named field of a JSON-valued variable is a secret (design section 8): its copy in a
  // command word is hidden, under a plain name and under a secret one alike.
  for (const name of ["APP_SETTINGS", "DB_CREDENTIALS"]) {
    const env = { [name]: '{"user": "app", "password": "p4ss-in-json-9"}', NO_COLOR: "1" };
    const doc = await explainJson(["true", "p4ss-in-json-9"], { env });
    deepEqual(doc.plan.command, ["true", "<redacted>"], name);
    const text = await runEntrypoint(["--explain", "true", "p4ss-in-json-9"], { env });
    equal(text.code, 0, text.stderr);
    equal(text.stdout.includes("p4ss-in-json-9"), false, name);
    const start = await runEntrypoint(["true", "p4ss-in-json-9"], { env });
    equal(start.code, 0, start.stderr);
    match(start.stderr, /exec true <redacted>/, name);
    equal(start.stderr.includes("p4ss-in-json-9"), false, name);
  }
});

Deno.test("a live SageMaker training start finds smddprun on PATH as an executable (SM_TRAINING_ENV), however it is forced", async () => {
  using tmp = tempDir();
  Deno.mkdirSync(`${tmp.path}/bin`);
  Deno.writeTextFileSync(`${tmp.path}/bin/smddprun`, "#!/bin/sh\n");
  Deno.chmodSync(`${tmp.path}/bin/smddprun`, 0o755);
  const path = { PATH: `${tmp.path}/bin:/usr/bin:/bin` };
  // The command line forces as the env does: the paths the plan looks at are recorded alike.
  for (
    const [args, forcing] of [
      [[], { CHAMELEON_CONTEXT: "sagemaker-training" }],
      [["--context", "sagemaker-training"], {}],
      [["--context", "sagemaker", "--workload", "training"], {}],
      [["--workload", "training"], { CHAMELEON_CONTEXT: "sagemaker" }],
      [["--context", "sagemaker"], { CHAMELEON_WORKLOAD: "training" }],
    ] as const
  ) {
    const doc = await explainJson([...args, "--", "true"], { env: { ...path, ...forcing } });
    const how = JSON.stringify([args, forcing]);
    equal(doc.context.id, "sagemaker-training", how);
    const te = JSON.parse(doc.plan.env["SM_TRAINING_ENV"]);
    deepEqual([te.is_smddprun_installed, te.is_smddpmprun_installed], [true, false], how);
  }
});

Deno.test("a capture replayed with --context sagemaker-training finds smddprun on PATH as the live start so forced does", async () => {
  using tmp = tempDir();
  Deno.mkdirSync(`${tmp.path}/bin`);
  Deno.writeTextFileSync(`${tmp.path}/bin/smddprun`, "#!/bin/sh\n");
  Deno.chmodSync(`${tmp.path}/bin/smddprun`, 0o755);
  const env = { PATH: `${tmp.path}/bin:/usr/bin:/bin` };
  const forced = ["--context", "sagemaker-training"];
  const live = await explainJson([...forced, "--", "true"], { env });
  // A capture takes no --context (README: force when replaying it).
  const capture = await runEntrypoint(["--capture", "-", "true"], { env });
  equal(capture.code, 0, capture.stderr);
  const snap = `${tmp.path}/snap.json`;
  Deno.writeTextFileSync(snap, capture.stdout);
  const replay = await explainJson([...forced, "--snapshot", snap]);
  const installed = (doc: { plan: { env: Record<string, string> } }) => {
    const te = JSON.parse(doc.plan.env["SM_TRAINING_ENV"]!);
    return [te.is_smddprun_installed, te.is_smddpmprun_installed];
  };
  deepEqual(installed(live), [true, false]);
  deepEqual(installed(replay), installed(live));
});
