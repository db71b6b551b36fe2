/**
 * The Dockerfile passes dockerfilelint (npm) and pins every external base as
 * image:tag; every shell file passes shellcheck.
 */
import { deepEqual, equal, ok } from "@std/assert";
import { entrypointWrapper } from "./container/image.ts";
import { ROOT, runProcess, tempDir } from "./helpers.ts";

Deno.test("the Dockerfile passes dockerfilelint", async () => {
  const r = await runProcess(["npx", "-y", "dockerfilelint@1.8.0", `${ROOT}/Dockerfile`], {
    cwd: ROOT,
  });
  equal(r.code, 0, r.stdout + r.stderr);
  ok(r.stdout.includes("Issues: None found"), r.stdout);
});

Deno.test("every external base image in the Dockerfile is an ARG with a pinned tag", () => {
  const text = Deno.readTextFileSync(`${ROOT}/Dockerfile`);
  const args = Object.fromEntries(
    [...text.matchAll(/^ARG (\w+)=(\S*)/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const stages = new Set([...text.matchAll(/^FROM \S+ AS (\S+)/gm)].map((m) => m[1]!));
  const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
  for (const f of froms) {
    if (stages.has(f)) continue;
    const m = /^\$\{(\w+)\}:\$\{(\w+)\}$/.exec(f);
    ok(m, `FROM ${f}: expected \${X_IMAGE}:\${X_TAG}`);
    ok(args[m![1]!], `${m![1]} has a default`);
    ok(args[m![2]!] && args[m![2]!] !== "latest", `${m![2]} pins a tag`);
  }
  deepEqual([...stages].sort(), ["build", "dl", "ml", "spark"]);
  ok(
    text.includes('ENTRYPOINT ["tini", "--", "/opt/entrypoint"]'),
    "tini in front of the entrypoint",
  );
});

Deno.test("every shell file passes shellcheck", async () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/entrypoint`, entrypointWrapper());
  const files = [
    `${ROOT}/.ci/run`,
    `${ROOT}/tests/prereqs.sh`,
    `${ROOT}/image/setup.sh`,
    `${tmp.path}/entrypoint`,
  ];
  for (
    const dir of [`${ROOT}/tests/container/program`, `${ROOT}/tests/spark`, `${ROOT}/examples`]
  ) {
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.endsWith(".sh")) files.push(`${dir}/${e.name}`);
    }
  }
  ok(files.length >= 6);
  const r = await runProcess(["shellcheck", ...files]);
  equal(r.code, 0, r.stdout + r.stderr);
});

Deno.test("the build stage fails at the first image config that --check-config refuses", async () => {
  // The build stage's RUN as the builder's /bin/sh runs it (continuations joined), with
  // `deno task compile` done already and an entrypoint that refuses spark.yaml (exit 78).
  const text = Deno.readTextFileSync(`${ROOT}/Dockerfile`);
  const stage = text.slice(text.indexOf(" AS build\n"));
  const run = /^RUN ((?:.*\\\n)*.*)$/m.exec(stage.slice(0, stage.indexOf("\nFROM ")))![1]!;
  ok(run.includes("deno task compile") && run.includes("--check-config"), run);
  using tmp = tempDir();
  Deno.mkdirSync(`${tmp.path}/dist`);
  Deno.writeTextFileSync(
    `${tmp.path}/dist/entrypoint`,
    '#!/bin/sh\ncase "$2" in *spark*) echo "spark.yaml: invalid" >&2; exit 78 ;; esac\n: >"$4"\n',
  );
  Deno.chmodSync(`${tmp.path}/dist/entrypoint`, 0o755);
  const script = run.replaceAll("\\\n", "").replace("deno task compile", "true")
    .replaceAll("/out", `${tmp.path}/out`);
  const r = await runProcess(["/bin/sh", "-c", script], { cwd: tmp.path });
  equal(r.code, 78, `the RUN must fail where the check fails: ${r.stderr}`);
});
