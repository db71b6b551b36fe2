import { equal, ok } from "@std/assert";
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
