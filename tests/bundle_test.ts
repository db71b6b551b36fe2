/**
 * The bundle that `deno task compile` compiles (`deno task bundle`: one
 * module per chunk instead of ~55 source modules) behaves as the sources do:
 * the same explain JSON, exit codes in exec and supervise mode (the stage
 * child starts the bundle again), and YAML config validation (zod and yaml
 * are inside the bundle).
 */
import { deepEqual, equal } from "@std/assert";
import {
  entrypointArgv,
  fixturePath,
  nonAsciiLines,
  ROOT,
  runEntrypoint,
  runProcess,
  tempDir,
} from "./helpers.ts";

const BUNDLE = `${ROOT}/dist/bundle/main.js`;

async function bundled(args: readonly string[], env: Record<string, string> = {}) {
  return await runProcess([...entrypointArgv(BUNDLE), ...args], { env });
}

Deno.test("deno task bundle builds the bundle, and it explains, runs and validates as the sources do", async (t) => {
  const built = await runProcess([Deno.execPath(), "task", "--quiet", "bundle"], { cwd: ROOT });
  equal(built.code, 0, built.stderr);

  await t.step("every chunk is ASCII, as the sources are (tests/ascii_test.ts says why)", () => {
    const chunks = [...Deno.readDirSync(`${ROOT}/dist/bundle`)].map((e) => e.name);
    equal(chunks.includes("main.js"), true);
    const found = chunks.flatMap((c) =>
      nonAsciiLines(Deno.readTextFileSync(`${ROOT}/dist/bundle/${c}`)).map((l) => `${c}:${l}`)
    );
    deepEqual(found, []);
  });

  await t.step("explain JSON of replayed snapshots is byte for byte the sources'", async () => {
    for (const id of ["sagemaker-training/multi-host", "kubernetes-serving/kserve-raw"]) {
      const args = ["--explain", "--format", "json", "--snapshot", fixturePath(id)];
      const [src, bun] = [await runEntrypoint(args), await bundled(args)];
      equal(src.code, 0, src.stderr);
      equal(bun.stdout, src.stdout, id);
    }
  });

  await t.step("exit codes pass through in exec and in supervise mode", async () => {
    using tmp = tempDir();
    const supervise = `${tmp.path}/config.yaml`;
    Deno.writeTextFileSync(supervise, "mode: supervise\n");
    for (const env of [{}, { CHAMELEON_CONFIG: supervise }]) {
      const r = await bundled(["sh", "-c", "echo out; exit 7"], env);
      deepEqual([r.code, r.stdout], [7, "out\n"], r.stderr);
    }
  });

  await t.step("--check-config validates YAML and writes the same normalised JSON", async () => {
    using tmp = tempDir();
    const yaml = `${ROOT}/examples/config/ml.yaml`;
    const src = await runEntrypoint(["--check-config", yaml, "--write-json", `${tmp.path}/a`]);
    const bun = await bundled(["--check-config", yaml, "--write-json", `${tmp.path}/b`]);
    deepEqual([src.code, bun.code], [0, 0], bun.stderr);
    equal(Deno.readTextFileSync(`${tmp.path}/b`), Deno.readTextFileSync(`${tmp.path}/a`));
    Deno.writeTextFileSync(`${tmp.path}/bad.yaml`, "mode: sometimes\n");
    const bad = await bundled(["--check-config", `${tmp.path}/bad.yaml`]);
    equal(bad.code, 78, bad.stderr);
  });
});
