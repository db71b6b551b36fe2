/**
 * Real containers (podman, runc) from a local debootstrap base, started the
 * way each platform starts them, each with --cpus 1.5 --memory 512m: SageMaker
 * training (mounted /opt/ml, argv train), SageMaker serving (serve, port 8080),
 * Studio (--user 1000:100), Kubernetes with a random uid (--user
 * 1000650000:0), and `podman stop` delivering SIGTERM.
 */
import { equal, match, ok } from "@std/assert";
import { runProcess, tempDir, waitFor } from "./helpers.ts";
import { buildImage, PODMAN_FLAGS } from "./container/image.ts";

const image = buildImage();
const LIMITS = ["--cpus", "1.5", "--memory", "512m", "--network", "host"];

function parse(report: string): Record<string, string> {
  return Object.fromEntries(
    report.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

async function podman(args: string[]) {
  return await runProcess(["podman", ...args]);
}

async function run(args: string[]) {
  return await podman(["run", "--rm", ...PODMAN_FLAGS, ...LIMITS, ...args]);
}

/** A SageMaker training /opt/ml tree on the host, mounted into the container. */
function optMl(root: string, hyperparameters: Record<string, string>): string {
  const ml = `${root}/ml`;
  for (const d of ["input/config", "input/data/train", "model", "output", "code"]) {
    Deno.mkdirSync(`${ml}/${d}`, { recursive: true });
  }
  Deno.writeTextFileSync(
    `${ml}/input/config/resourceconfig.json`,
    '{"current_host":"algo-1","hosts":["algo-1"],"network_interface_name":"eth0"}',
  );
  Deno.writeTextFileSync(
    `${ml}/input/config/hyperparameters.json`,
    JSON.stringify(hyperparameters),
  );
  Deno.writeTextFileSync(
    `${ml}/input/config/inputdataconfig.json`,
    '{"train":{"TrainingInputMode":"File"}}',
  );
  return ml;
}

const SAGEMAKER_ENV = ["-e", "TRAINING_JOB_NAME=job-1", "-e", "AWS_REGION=us-east-1"];

Deno.test("container: SageMaker training runs as root with the limits' thread counts and the toolkit's SM_*", async () => {
  using tmp = tempDir(0o777);
  const ml = optMl(tmp.path, { mode: '"ok"' });
  const r = await run([...SAGEMAKER_ENV, "-v", `${ml}:/opt/ml`, await image, "train"]);
  equal(r.code, 0, r.stderr);
  const seen = parse(Deno.readTextFileSync(`${ml}/model/report.txt`));
  equal(seen.context, "sagemaker-training");
  equal(seen.uid, "0", "SageMaker training expects root: no switch");
  equal(seen.omp, "1", "OMP_NUM_THREADS from --cpus 1.5");
  equal(seen.ml_num_cpus, "1");
  equal(seen.sm_current_host, "algo-1");
  equal(seen.home_writable, "yes");
  equal(seen.sigpipe_ignored, "0000000000000000");
  equal([...Deno.readDirSync(`${ml}/output`)].length, 0, "no failure file on success");
});

Deno.test("container: a failing SageMaker training job keeps its exit code and writes the failure file", async () => {
  using tmp = tempDir(0o777);
  const ml = optMl(tmp.path, { mode: '"fail"' });
  const r = await run([...SAGEMAKER_ENV, "-v", `${ml}:/opt/ml`, await image, "train"]);
  equal(r.code, 3);
  match(r.stderr, /RuntimeError: loss is nan/);
  match(
    Deno.readTextFileSync(`${ml}/output/failure`),
    /^Command \/opt\/program\/train\.sh exited with code 3\nRuntimeError: loss is nan$/,
  );
});

Deno.test("container: SageMaker serving answers /ping and /invocations on port 8080", async () => {
  using tmp = tempDir(0o777);
  Deno.mkdirSync(`${tmp.path}/model`);
  Deno.writeTextFileSync(`${tmp.path}/model/model.bin`, "weights");
  const name = `chameleon-serve-${crypto.randomUUID().slice(0, 8)}`;
  const started = await podman([
    "run",
    "-d",
    "--name",
    name,
    ...PODMAN_FLAGS,
    ...LIMITS,
    "-v",
    `${tmp.path}/model:/opt/ml/model`,
    await image,
    "serve",
  ]);
  equal(started.code, 0, started.stderr);
  try {
    const ping = await waitFor("GET /ping", async () => {
      const res = await fetch("http://127.0.0.1:8080/ping");
      await res.body?.cancel();
      return res.status === 200 ? res.status : undefined;
    });
    equal(ping, 200);
    const inv = await fetch("http://127.0.0.1:8080/invocations", { method: "POST", body: "1,2,3" });
    equal(await inv.text(), "1,2,3");
    const logs = await podman(["logs", name]);
    match(logs.stderr + logs.stdout, /context sagemaker-serving \(argv, real-time\)/);
  } finally {
    await podman(["rm", "-f", "-t", "0", name]);
  }
});

Deno.test("container: a Studio notebook started as --user 1000:100 keeps its ids and a writable home", async () => {
  using tmp = tempDir(0o777);
  Deno.chownSync(tmp.path, 1000, 100);
  const r = await run([
    "--user",
    "1000:100",
    "-e",
    "SAGEMAKER_APP_TYPE=JupyterLab",
    "-e",
    "SAGEMAKER_SPACE_NAME=space-1",
    "-e",
    "HOME=/home/sagemaker-user",
    "-v",
    `${tmp.path}:/home/sagemaker-user`,
    await image,
  ]);
  equal(r.code, 0, r.stderr);
  const seen = parse(r.stdout);
  equal(seen.context, "sagemaker-notebook");
  equal(seen.uid, "1000");
  equal(seen.gid, "100");
  ok(seen.groups!.split(" ").includes("100"), seen.groups);
  equal(seen.home, "/home/sagemaker-user");
  equal(seen.home_writable, "yes");
  equal(seen.omp, "1");
});

/**
 * A Kubernetes pod under OpenShift's restricted policy: a random uid in group 0, no passwd entry
 * (podman must not add one, as Kubernetes adds none) and HOME=/.
 */
const RANDOM_UID_POD = [
  "--passwd=false",
  "--user",
  "1000650000:0",
  "-e",
  "KUBERNETES_SERVICE_HOST=10.96.0.1",
  "-e",
  "HOME=/",
];

Deno.test("container: Kubernetes with a random uid and gid 0 gets a name (nss_wrapper) and a writable HOME", async () => {
  const r = await run([
    ...RANDOM_UID_POD,
    await image,
  ]);
  equal(r.code, 0, r.stderr);
  const seen = parse(r.stdout);
  equal(seen.context, "kubernetes-unknown");
  equal(seen.uid, "1000650000");
  equal(seen.gid, "0");
  equal(seen.whoami, "user1000650000");
  equal(seen.home_writable, "yes");
  match(seen.home!, /^\/(run|tmp)\/chameleon\/home\/1000650000$/);
  equal(seen.omp, "1");
  equal(seen.ml_num_cpus, "1");
});

Deno.test("container: a read-only root file system with no writable /tmp still starts, HOME kept with a warning", async () => {
  // Kubernetes readOnlyRootFilesystem without an emptyDir: /run and /tmp are read-only too (podman
  // mounts tmpfs there for --read-only unless told not to).
  const r = await run([
    "--read-only",
    "--read-only-tmpfs=false",
    ...RANDOM_UID_POD,
    await image,
  ]);
  equal(r.code, 0, r.stderr);
  const seen = parse(r.stdout);
  equal(seen.uid, "1000650000");
  equal(seen.home, "/");
  match(
    r.stderr,
    /HOME \/ is not writable for uid 1000650000, and the runtime dir \/tmp\/chameleon is on a read-only file system/,
  );
  match(r.stderr, /uid 1000650000 has no passwd entry/);
});

Deno.test("container: a root pod with fsGroup keeps that group after the switch, and writes its volume", async () => {
  // securityContext.fsGroup without runAsUser: root, with the volume group-owned by the fsGroup.
  using tmp = tempDir(0o755);
  Deno.chownSync(tmp.path, 0, 2000);
  Deno.chmodSync(tmp.path, 0o2775);
  const r = await run([
    "--group-add",
    "2000",
    "-v",
    `${tmp.path}:/shared`,
    "-e",
    "KUBERNETES_SERVICE_HOST=10.96.0.1",
    await image,
    "sh",
    "-c",
    "id -G; touch /shared/written",
  ]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout.trim(), "100 2000");
  equal(Deno.statSync(`${tmp.path}/written`).uid, 1000);
});

async function stopCode(
  args: string[],
  ready: () => Promise<boolean>,
): Promise<{ code: number; seconds: number; logs: string }> {
  const name = `chameleon-stop-${crypto.randomUUID().slice(0, 8)}`;
  const started = await podman(["run", "-d", "--name", name, ...PODMAN_FLAGS, ...LIMITS, ...args]);
  equal(started.code, 0, started.stderr);
  try {
    await waitFor("the program to be ready", async () => ((await ready()) ? true : undefined));
    const t0 = Date.now();
    const stop = await podman(["stop", "-t", "10", name]);
    equal(stop.code, 0, stop.stderr);
    const seconds = (Date.now() - t0) / 1000;
    const code = Number(
      (await podman(["inspect", "--format", "{{.State.ExitCode}}", name])).stdout.trim(),
    );
    const logs = await podman(["logs", name]);
    return { code, seconds, logs: logs.stdout + logs.stderr };
  } finally {
    await podman(["rm", "-f", "-t", "0", name]);
  }
}

Deno.test("container: podman stop delivers SIGTERM to the program (exec mode), which exits with its own code in time", async () => {
  let name = "";
  const img = await image;
  const result = await stopCode([
    "-e",
    "KUBERNETES_SERVICE_HOST=10.96.0.1",
    img,
    "/opt/program/sleeper.sh",
  ], async () => {
    name ||= (await podman(["ps", "-q", "--latest"])).stdout.trim();
    return (await podman(["logs", name])).stdout.includes("ready");
  });
  equal(result.code, 42);
  ok(result.seconds < 10, `took ${result.seconds} s, past the grace time`);
  match(result.logs, /stopping on SIGTERM/);
});

Deno.test("container: podman stop reaches a supervised SageMaker training program through the entrypoint", async () => {
  using tmp = tempDir(0o777);
  const ml = optMl(tmp.path, { mode: '"sleep"' });
  const result = await stopCode(
    [...SAGEMAKER_ENV, "-v", `${ml}:/opt/ml`, await image, "train"],
    () => {
      try {
        Deno.statSync(`${ml}/model/ready`);
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(false);
      }
    },
  );
  equal(result.code, 42);
  ok(result.seconds < 10, `took ${result.seconds} s`);
  match(
    Deno.readTextFileSync(`${ml}/output/failure`),
    /exited with code 42\n[\s\S]*stopping on SIGTERM/,
  );
});
