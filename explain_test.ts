import { deepEqual, equal, match, ok } from "@std/assert";
import { DEFAULT_CONFIG, type ImageConfig } from "./config.ts";
import { detect } from "./contexts/mod.ts";
import { explainJson, explainText, type Explanation, shellWord } from "./explain.ts";
import { plan } from "./plan.ts";
import { withEnv, withFiles, worldOf } from "./tests/helpers.ts";
import type { Snapshot } from "./types.ts";
import { configFromYaml } from "./tests/config_yaml.ts";

/** The explanation a start gives for a fixture, changed first. */
function explanation(
  id: string,
  change?: (s: Snapshot) => Snapshot,
  config: ImageConfig = DEFAULT_CONFIG,
): Explanation {
  const world = worldOf(id, change);
  const detection = detect(world);
  return {
    version: "0.0.0",
    detection,
    plan: plan(world, detection, config),
    config: { file: null },
  };
}

Deno.test("explainJson() and explainText() write the umask as four octal digits", () => {
  for (const umask of ["0022", "0002"]) {
    const e = explanation("local-unknown/docker", undefined, configFromYaml(`umask: "${umask}"\n`));
    equal((explainJson(e).plan as { umask: string }).umask, umask);
    ok(explainText(e, false).includes(`  umask      ${umask}\n`), umask);
  }
});

Deno.test("explainText() keeps a blank between a long note's name and its value", () => {
  const e = explanation("local-unknown/docker");
  const text = explainText({ ...e, plan: { ...e.plan, notes: { unsetAfterHooks: ["A"] } } }, false);
  ok(text.includes(`  unsetAfterHooks ["A"]\n`), text);
});

Deno.test("shellWord() quotes an empty word, which would vanish from the command shown", () => {
  equal(shellWord(""), "''");
  equal(shellWord("--lr=0.1"), "--lr=0.1");
  equal(shellWord("it's"), `'it'\\''s'`);
  equal(shellWord("a b"), "'a b'", "a blank would split the word");
});

Deno.test("explainJson() shows a generated file's redacted view, a short secret included", () => {
  const spark = configFromYaml(
    "spark:\n  enabled: true\n  kubernetes: {serviceAccount: spark, executorImage: img:1}\n",
  );
  const e = explanation(
    "local-unknown/cgroup-v2",
    withFiles({ "/opt/spark/conf/spark-defaults.conf": "spark.hadoop.fs.s3a.secret.key k9z\n" }),
    spark,
  );
  const files = (explainJson(e).plan as { files: { path: string; content: string }[] }).files;
  const conf = files.find((f) => f.path.endsWith("/spark-defaults.conf"))!.content;
  ok(conf.includes("spark.hadoop.fs.s3a.secret.key <redacted>"), conf);
  equal(conf.includes("k9z"), false);
});

Deno.test("explainText() shows a platform file that is there without holding on its own line, with the problem", () => {
  // A notebook instance's metadata has no AppType: it is no SageMaker context, and says why.
  const e = explanation(
    "local-unknown/docker",
    withFiles({
      "/opt/ml/metadata/resource-metadata.json": '{"ResourceArn": "arn:x", "ResourceName": "nb"}',
    }),
  );
  equal(e.detection.context.platform, "local");
  const lines = explainText(e, false).split("\n").filter((l) => l.includes("resource-metadata"));
  ok(lines.some((l) => l.includes("(file present without AppType)")), lines.join("\n"));
});

Deno.test("explainText() marks no detector chosen when the platform was forced", () => {
  const forced = explainText(
    explanation("local-unknown/docker", withEnv({ CHAMELEON_CONTEXT: "kubernetes-serving" })),
    false,
  );
  equal(forced.includes("chosen"), false, forced);
  const detected = explainText(explanation("local-unknown/docker"), false);
  ok(/\u25b6 local\s+matched, chosen/.test(detected), detected);
});

/** An explanation of a SageMaker training start, with the given plan fields and context changed. */
function shaped(
  planFields: Record<string, unknown>,
  context: Record<string, unknown> = {},
  facts: Record<string, unknown> = {},
): Explanation {
  const e = explanation("sagemaker-training/multi-host");
  return {
    ...e,
    detection: {
      ...e.detection,
      context: { ...e.detection.context, ...context },
      facts: { ...e.detection.facts, ...facts },
    },
    plan: { ...e.plan, ...planFields },
  };
}

Deno.test("explainJson() carries the config, replay, bypass and failure file, and no overrides in the notes (design section 5)", () => {
  const e = {
    ...shaped({ notes: { overrides: ["sagemaker-*"], spark: { role: "primary" } } }),
    config: { file: "/etc/chameleon/config.json", validated: "digest" as const },
    snapshot: "snap.json",
    bypass: "CHAMELEON_DISABLE=1: nothing is adapted",
  };
  const doc = explainJson(e) as Record<string, Record<string, unknown>>;
  deepEqual(doc["config"], {
    file: "/etc/chameleon/config.json",
    validated: "digest",
    overrides: ["sagemaker-*"],
  });
  equal(doc["snapshot"] as unknown, "snap.json");
  equal(doc["bypass"] as unknown, "CHAMELEON_DISABLE=1: nothing is adapted");
  equal(doc["plan"]!["failureReport"], "/opt/ml/output/failure");
  deepEqual(doc["plan"]!["notes"], { spark: { role: "primary" } });
  const live = explainJson(explanation("local-unknown/docker"));
  deepEqual(["snapshot" in live, "bypass" in live], [false, false]);
  equal((live["config"] as { validated: unknown }).validated, null);
});

Deno.test("explainJson() and explainText() hide a secret and its JSON-escaped copy inside other values", () => {
  const secret = 'pa"ss-w0rd';
  const e = shaped({
    secrets: [secret],
    envDisplay: { APP_SETTINGS: JSON.stringify({ password: secret }), PLAIN: `x ${secret} y` },
  });
  const json = JSON.stringify(explainJson(e));
  const text = explainText(e, false);
  for (const out of [json, text]) {
    equal(out.includes("ss-w0rd"), false, out);
    ok(out.includes("<redacted>"));
  }
});

Deno.test("explainText() hides a command word holding a secret before quoting it", () => {
  const e = shaped({ secrets: ["it's-s3cret"], commandDisplay: ["run", "it's-s3cret", "a b"] });
  const text = explainText(e, false);
  match(text, /\n {2}command {4}run '<redacted>' 'a b'\n/);
  equal(text.includes("s3cret"), false);
});

Deno.test("explainText() shows every part of the plan and the facts, one row each", () => {
  const e = {
    ...shaped(
      {
        commandDisplay: null,
        notes: {
          overrides: ["sagemaker-*", "*-training"],
          commandMissing: "set commands.training in the image config",
          mpi: "hostfile ready",
          spark: { master: { host: "h0", port: 7077 }, hosts: ["h0", "h1"] },
        },
        cwd: "/work",
        user: { uid: 1000, gid: 100, groups: [100, 44], name: "ml", home: "/home/ml" },
        envDisplay: { ZED: "z", ALPHA: "a" },
        unset: ["DB_PASS_FILE", "OTHER"],
        dirs: [{ path: "/run/chameleon/x", mode: "0700" }],
        files: [{ path: "/run/chameleon/hosts", mode: "0644", content: "" }],
        steps: [{ step: "wait-for-hosts", hosts: ["algo-1", "algo-2"], timeoutSeconds: 900 }],
        warnings: ["something to know"],
      },
      { variant: "trainer-v2" },
      {
        pid1: true,
        init: "tini",
        cpus: 2.5,
        cgroup: "v2",
        onlineCpus: 1,
        memoryBytes: 1536,
        problems: ["/sys/fs/cgroup/cpu.max: bad"],
      },
    ),
    config: { file: "/etc/chameleon/config.json", validated: "digest" as const },
    snapshot: "snap.json",
    bypass: "a nested start",
  };
  const text = explainText(e, false);
  const lines = text.split("\n");
  for (
    const line of [
      "chameleon 0.0.0 --explain  (replaying snap.json)",
      "  note: a nested start",
      "  id         sagemaker-training  (trainer-v2)",
      "  config     /etc/chameleon/config.json (normalised by --check-config)",
      "  overrides  sagemaker-*, *-training",
      "  pid1       yes",
      "  init       tini",
      "  cpus       2.5 (quota, cgroup v2)",
      "  online     1 CPU",
      "  memory     1.5 KiB",
      "  problem    /sys/fs/cgroup/cpu.max: bad",
      "  command    none (set commands.training in the image config)",
      "  cwd        /work",
      "  user       ml (1000:100, groups 100,44, home /home/ml)",
      "  failures   reported to /opt/ml/output/failure",
      "  env",
      "    ALPHA=a",
      "    ZED=z",
      "  unset      DB_PASS_FILE, OTHER",
      "  folder     /run/chameleon/x (0700)",
      "  file       /run/chameleon/hosts (0644)",
      "  step       wait-for-hosts hosts=algo-1,algo-2 timeoutSeconds=900",
      "  mpi        hostfile ready",
      "  spark",
      "    master",
      "      host = h0",
      "      port = 7077",
      "    hosts = h0, h1",
      "  warning: something to know",
    ]
  ) {
    ok(lines.includes(line), `${JSON.stringify(line)} in\n${text}`);
  }
  equal(lines.indexOf("    ALPHA=a") + 1, lines.indexOf("    ZED=z"), "env sorted by name");
  equal(text.includes("commandMissing"), false, "the reason is on the command row only");
  // Whole units, nothing to change and no limit.
  const plainFacts = explainText(
    shaped({ envDisplay: {} }, {}, { memoryBytes: 1024, cpus: null, onlineCpus: 4 }),
    false,
  );
  for (
    const line of [
      "  memory     1 KiB",
      "  cpus       no quota",
      "  online     4 CPUs",
      "  env        (no changes)",
    ]
  ) {
    ok(plainFacts.split("\n").includes(line), `${line} in\n${plainFacts}`);
  }
  ok(
    explainText(shaped({}, {}, { memoryBytes: null }), false).includes("  memory     unlimited\n"),
  );
  ok(
    explainText(shaped({}, {}, { pid1: false, init: null }), false).includes("  init       none\n"),
  );
  ok(explainText(shaped({}, {}, { pid1: false }), false).includes("  pid1       no\n"));
  ok(explainText(e, true).includes("\x1b[1mContext\x1b[22m"), "colour when asked");
});

Deno.test("explainText() says why the context is what it is, for each source", () => {
  const why = (context: Record<string, unknown>) =>
    explainText(shaped({}, context), false).split("\n").find((l) => l.startsWith("  source"));
  equal(
    why({ source: "forced", forced: ["platform", "workload"] }),
    "  source     forced: the platform and workload by --context/--workload or CHAMELEON_CONTEXT/CHAMELEON_WORKLOAD",
  );
  equal(why({ source: "argv" }), "  source     argv: the first argument is a workload word");
  equal(
    why({ source: "config" }),
    "  source     config: the image config's default workload for the platform",
  );
  equal(
    why({ source: "detected", workload: "unknown" }),
    "  source     detected: no signal, argument or config default names a workload",
  );
  equal(why({ source: "detected" }), "  source     detected: the platform's own signals");
});

Deno.test("explainText() shows a detector's failure, a value that does not hold, a missing half, and wraps what was not found", () => {
  const base = shaped({});
  const missing = Array.from({ length: 20 }, (_, i) => ({
    signal: `env SOME_PLATFORM_SIGNAL_${i}`,
    found: false,
  }));
  const e: Explanation = {
    ...base,
    detection: {
      ...base.detection,
      detectors: [{
        platform: "slurm",
        matched: false,
        error: "boom",
        evidence: [
          { signal: "env FLAG", found: false, value: "false" },
          {
            signal: "env A and env B",
            found: false,
            parts: [{ signal: "env A", found: true, value: "1" }, {
              signal: "env B",
              found: false,
            }],
          },
          ...missing,
        ],
      }],
    },
  };
  const text = explainText(e, false);
  const lines = text.split("\n");
  for (
    const line of [
      "      detector failed: boom",
      `      \u2717 env FLAG  (is false)`,
      `      \u2717 env A and env B`,
      "          found: env A = 1",
      "          not found: env B",
    ]
  ) {
    ok(lines.includes(line), `${JSON.stringify(line)} in\n${text}`);
  }
  const notFound = lines.filter((l) => l.includes("SOME_PLATFORM_SIGNAL_"));
  ok(notFound.length > 1, text);
  ok(notFound[0]!.startsWith(`      \u2717 not found: env SOME_PLATFORM_SIGNAL_0 \u00b7 `), text);
  for (const l of notFound) ok(l.length <= 100, l);
});

Deno.test("explainText() escapes a value's control characters: a newline starts no line of its own, an ESC drives no terminal", () => {
  const name = "job\x1b[2J\r\n    LD_PRELOAD=/tmp/evil.so\x9b";
  const e = explanation(
    "sagemaker-training/single-host",
    (s) =>
      withFiles({
        // A secret-named hyperparameter whose value holds a newline: scrubbed before the escaping.
        "/opt/ml/input/config/hyperparameters.json": JSON.stringify({
          api_key: JSON.stringify("s3cr\net-value"),
        }),
      })(withEnv({ TRAINING_JOB_NAME: name })(s)),
  );
  for (const color of [false, true]) {
    const text = explainText(e, color);
    const lines = text.split("\n");
    ok(!lines.some((l) => l.trim().startsWith("LD_PRELOAD=")), text);
    ok(
      lines.includes("    ML_JOB_NAME=job\\u001b[2J\\r\\n    LD_PRELOAD=/tmp/evil.so\\u009b"),
      text,
    );
    for (const raw of ["\x1b[2J", "\r", "\x9b"]) ok(!text.includes(raw), JSON.stringify(raw));
    ok(!text.includes("s3cr") && !text.includes("et-value"), "the secret is still scrubbed");
  }
  ok(explainText(e, true).includes("\x1b[1mContext\x1b[22m"), "the view's own colours stay");
});

Deno.test("explainText() shows a value's own colour-mark characters (U+E000..U+E006) as themselves, never as colours", () => {
  const name = "job\ue000bold\ue003green\ue006\ue002";
  const e = explanation(
    "sagemaker-training/single-host",
    withEnv({ TRAINING_JOB_NAME: name }),
  );
  for (const color of [false, true]) {
    const text = explainText(e, color);
    ok(text.split("\n").includes(`    ML_JOB_NAME=${name}`), text);
    ok(!text.includes("\x1b[1mbold") && !text.includes("\x1b[32mgreen"), JSON.stringify(text));
  }
  ok(explainText(e, true).includes("\x1b[1mContext\x1b[22m"), "the view's own colours stay");
  ok(!explainText(e, false).includes("\x1b"), "no colour without colour");
});

Deno.test("explainText() hides a secret holding a colour-mark character where JSON wrote that character as an escape", () => {
  // SM_HPS and SM_USER_ARGS write U+E006 as the six characters `\ue006` (ensure_ascii).
  const secret = "ab\ue006cdefgh";
  const e = explanation(
    "sagemaker-training/single-host",
    withFiles({
      "/opt/ml/input/config/hyperparameters.json": JSON.stringify({
        api_key: secret,
        other: `pre${secret}post`,
      }),
    }),
  );
  for (const color of [false, true]) {
    const text = explainText(e, color);
    ok(text.includes("SM_HPS="), text);
    ok(!text.includes("cdefgh"), text);
  }
});

Deno.test("explainText() cuts a warning line as the log cuts it, after hiding its secrets; explainJson() keeps it whole", () => {
  const huge = `Variable HOST_IP ${JSON.stringify("x".repeat(100_000))}: expected an address`;
  const secret = "s3cret-" + "k".repeat(300); // longer than a cut value: hidden before the cut
  const e = shaped({ secrets: [secret], warnings: [huge, `HOME ${secret}\x1b[2J: not writable`] });
  for (const color of [false, true]) {
    const warnings = explainText(e, color).split("\n").filter((l) => l.includes("warning: "));
    equal(warnings.length, 2, warnings.join("\n"));
    // deno-lint-ignore no-control-regex -- the colour codes are what it takes out
    const [first, second] = warnings.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
    equal(
      first,
      `  warning: Variable HOST_IP "${
        "x".repeat(200)
      }"... (100000 characters): expected an address`,
      `color ${color}`,
    );
    equal(second, "  warning: HOME <redacted>\\u001b[2J: not writable", `color ${color}`);
  }
  deepEqual((explainJson(e).plan as { warnings: string[] }).warnings[0], huge);
});
