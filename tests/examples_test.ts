/**
 * The examples parse, use the same image everywhere they should, and the two
 * SageMaker contexts that bypass the image ENTRYPOINT name /opt/entrypoint.
 */
import { deepEqual, equal, ok } from "@std/assert";
import { parseAllDocuments } from "@std/yaml";
import { toImageConfig } from "../config.ts";
import { validateConfig } from "../config_schema.ts";
import type { Plan } from "../types.ts";
import { fixture, planFixture, ROOT } from "./helpers.ts";

const EX = `${ROOT}/examples`;

function files(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory
      ? files(`${dir}/${e.name}`)
      : /\.(ya?ml|json)$/.test(e.name)
      ? [`${dir}/${e.name}`]
      : []
  );
}

Deno.test("every example parses as JSON or YAML without errors", () => {
  const all = files(EX);
  ok(all.length >= 12, `${all.length} examples`);
  for (const f of all) {
    if (f.endsWith(".json")) JSON.parse(Deno.readTextFileSync(f));
    else for (const d of parseAllDocuments(Deno.readTextFileSync(f))) equal(d.errors.length, 0, f);
  }
});

Deno.test("SageMaker processing and Studio examples route through /opt/entrypoint, as the APIs take them", () => {
  const proc = JSON.parse(Deno.readTextFileSync(`${EX}/sagemaker/create-processing-job.json`));
  ok(proc.AppSpecification.ContainerEntrypoint.includes("/opt/entrypoint"));
  const studio = JSON.parse(Deno.readTextFileSync(`${EX}/sagemaker/studio-app-image-config.json`));
  const lab = studio.JupyterLabAppImageConfig;
  // ContainerConfig.ContainerEntrypoint takes one item at most (API_ContainerConfig): without
  // one the image's ENTRYPOINT (tini -- /opt/entrypoint) gets the arguments.
  equal(lab.ContainerConfig.ContainerEntrypoint, undefined);
  deepEqual(lab.ContainerConfig.ContainerArguments, ["notebook"]);
  // "The FileSystemConfig object is not supported" for JupyterLab (API_JupyterLabAppImageConfig).
  equal(lab.FileSystemConfig, undefined);
});

Deno.test("the Kubernetes Deployment probes the port the entrypoint gives the server (ML_PORT 8080)", () => {
  const [d] = parseAllDocuments(Deno.readTextFileSync(`${EX}/kubernetes/deployment.yaml`)).map((
    x,
  ) => x.toJS());
  const c = d.spec.template.spec.containers[0];
  equal(c.ports[0].containerPort, 8080);
  equal(c.readinessProbe.httpGet.port, "http");
  ok(c.env.some((e: { name: string }) => e.name === "HOST_IP"));
});

Deno.test("the ml config's server listens on ML_PORT: an inference pipeline member's SAGEMAKER_BIND_TO_PORT", async () => {
  const config = toImageConfig(
    validateConfig("ml.yaml", Deno.readTextFileSync(`${EX}/config/ml.yaml`)),
  );
  const p = planFixture("sagemaker-serving/pipeline-member", undefined, config);
  const port = p.env["ML_PORT"]!;
  ok(port !== "8080", "the fixture's own port");
  // The command as /bin/sh runs it, with uvicorn swapped for echo.
  const argv = p.command!.map((w) => w.replace("exec python3 -m uvicorn", "echo"));
  const out = await new Deno.Command(argv[0]!, { args: argv.slice(1), env: p.env }).output();
  equal(
    new TextDecoder().decode(out.stdout).trim(),
    `app:api --host 0.0.0.0 --port ${port}`,
  );
});

/** What a configured shell command passes: argv with `from` swapped for `echo`, run by /bin/sh. */
async function echoed(p: Plan, env: Record<string, string>, from: string): Promise<string> {
  const argv = p.command!.map((w) => w.replace(from, "echo"));
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: { PATH: "/usr/bin:/bin", ...env, ...p.env },
    clearEnv: true,
  }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("the dl config's torchrun starts one process per GPU, on a single node too (where no PET_* is filled)", async () => {
  const config = toImageConfig(
    validateConfig("dl.yaml", Deno.readTextFileSync(`${EX}/config/dl.yaml`)),
  );
  const train = "/opt/program/train.py";
  const cases: [string, string][] = [
    // One host with 4 GPUs: no PET_NPROC_PER_NODE; torchrun alone would start one process.
    ["sagemaker-training/single-host", `--nproc-per-node=4 ${train}`],
    // A CPU-only laptop `train --epochs 3`: one process, the arguments for the program.
    ["local-training/argv-train", `--nproc-per-node=1 ${train} --epochs 3`],
    // Multi-node: the filled PET_NPROC_PER_NODE (4 GPUs), and an operator's own value.
    ["sagemaker-training/multi-host", `--nproc-per-node=4 ${train}`],
    ["kubernetes-training/trainer-v2", `--nproc-per-node=auto ${train}`],
  ];
  for (const [id, want] of cases) {
    const p = planFixture(id, undefined, config);
    equal(await echoed(p, fixture(id).env, "exec torchrun"), want, id);
  }
});

Deno.test("each variant's JupyterLab in a Studio space serves the space's volume, not the image's WORKDIR", () => {
  // Studio mounts the space's EBS volume at /home/sagemaker-user and nowhere else
  // (studio-updated-byoi-specs): JupyterLab's root is its working folder, and
  // notebooks saved under the image's WORKDIR (/home/ml) are gone when the space stops.
  for (const variant of ["ml", "spark", "dl"]) {
    const config = toImageConfig(
      validateConfig(`${variant}.yaml`, Deno.readTextFileSync(`${EX}/config/${variant}.yaml`)),
    );
    const studio = planFixture("sagemaker-notebook/jupyterlab", undefined, config);
    equal(studio.cwd, "/home/sagemaker-user", variant);
    ok(fixture("sagemaker-notebook/jupyterlab").dirs.includes("/home/sagemaker-user"));
    // Elsewhere the notebook keeps the image's working folder.
    equal(planFixture("local-notebook/argv-notebook", undefined, config).cwd, null, variant);
  }
});
