/**
 * Multi-host Spark on SageMaker, run for real with processes: three "hosts"
 * (entrypoints in their own mount namespaces, each with its /opt/ml tree and
 * an /etc/hosts naming algo-1..3 on loopback addresses) and stand-in sbin
 * scripts plus a stand-in master status endpoint that record what they were
 * called with. Spark itself cannot be installed on these machines.
 */
import { deepEqual, equal, match, ok } from "@std/assert";
import { readBounded } from "../sys/fs.ts";
import { entrypointArgv, ROOT, runProcess, shellQuote, tempDir, waitFor } from "./helpers.ts";

const HOSTS = ["algo-1", "algo-2", "algo-3"];
const ADDR: Record<string, string> = {
  "algo-1": "127.0.0.11",
  "algo-2": "127.0.0.12",
  "algo-3": "127.0.0.13",
};

function setup(dir: string, timeoutSeconds: number): void {
  Deno.chmodSync(dir, 0o755);
  const spark = `${dir}/spark/sbin`;
  Deno.mkdirSync(spark, { recursive: true });
  for (const f of ["start-master.sh", "start-worker.sh", "stop-worker.sh", "stop-master.sh"]) {
    Deno.copyFileSync(`${ROOT}/tests/spark/${f}`, `${spark}/${f}`);
    Deno.chmodSync(`${spark}/${f}`, 0o755);
  }
  for (const f of ["job.sh", "port-open", "fake_master.ts"]) {
    Deno.copyFileSync(`${ROOT}/tests/spark/${f}`, `${dir}/${f}`);
    Deno.chmodSync(`${dir}/${f}`, 0o755);
  }
  Deno.writeTextFileSync(
    `${dir}/hosts`,
    ["127.0.0.1 localhost", ...HOSTS.map((h) => `${ADDR[h]} ${h}`)].join("\n") + "\n",
  );
  Deno.writeTextFileSync(
    `${dir}/config.yaml`,
    [
      "commands:",
      `  processing: {argv: [${dir}/job.sh, --input, /opt/ml/processing/input]}`,
      "hostWait: {timeoutSeconds: 2}",
      "spark:",
      "  enabled: true",
      `  standalone: {registerTimeoutSeconds: ${timeoutSeconds}}`,
    ].join("\n") + "\n",
  );
}

/**
 * Starts one host: its own mount namespace, /etc/hosts and /opt/ml tree. With
 * `pid1`, its own PID namespace too, whose PID 1 the entrypoint is (then no
 * message file is copied out); with `dropTo`, its own network namespace too,
 * in which every packet to that address is dropped (a security group that
 * lets no traffic through between the job's instances).
 */
function host(
  dir: string,
  name: string,
  env: Record<string, string>,
  { pid1 = false, dropTo }: { pid1?: boolean; dropTo?: string } = {},
) {
  const rc = JSON.stringify({ current_host: name, hosts: HOSTS });
  const quoted = entrypointArgv().map(shellQuote).join(" ");
  const script = [
    "set -e",
    `mount --bind ${dir}/hosts /etc/hosts`,
    "mount -t tmpfs tmpfs /opt",
    ...(dropTo === undefined
      ? []
      : ["ip link set lo up", `iptables -A OUTPUT -d ${dropTo} -j DROP`]),
    "mkdir -p /opt/ml/config /opt/ml/output /opt/ml/processing/input",
    `echo '{"ProcessingJobName":"spark-prep"}' > /opt/ml/config/processingjobconfig.json`,
    `echo '${rc}' > /opt/ml/config/resourceconfig.json`,
    "set +e",
    pid1 ? `exec ${quoted}` : quoted,
    "rc=$?",
    `[ -f /opt/ml/output/message ] && cp /opt/ml/output/message ${dir}/message-${name}`,
    "exit $rc",
  ].join("\n");
  return new Deno.Command("unshare", {
    args: [
      ...(pid1 ? ["--pid", "--fork", "--mount-proc"] : ["--mount"]),
      ...(dropTo === undefined ? [] : ["--net"]),
      "sh",
      "-c",
      script,
    ],
    env: {
      FAKE_HOST: name,
      FAKE_DIR: dir,
      FAKE_DENO: Deno.execPath(),
      SPARK_HOME: `${dir}/spark`,
      CHAMELEON_CONFIG: `${dir}/config.yaml`,
      CHAMELEON_RUNTIME_DIR: `${dir}/rt-${name}`,
      CHAMELEON_LOG_LEVEL: "info",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function cluster(dir: string, extra: Record<string, Record<string, string>> = {}) {
  // Workers first: they must wait for the master, not the other way round.
  const procs = [...HOSTS].reverse().map((h) => [h, host(dir, h, extra[h] ?? {})] as const);
  const out: Record<string, { code: number; stderr: string }> = {};
  for (const [h, p] of procs) {
    const o = await p.output();
    out[h] = { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
  }
  const calls = Deno.readTextFileSync(`${dir}/calls.log`).trim().split("\n");
  return { out, calls };
}

const index = (calls: string[], re: RegExp) => calls.findIndex((c) => re.test(c));

Deno.test("spark on SageMaker: master and worker on algo-1, workers elsewhere, the command once all registered", async () => {
  using tmp = tempDir();
  setup(tmp.path, 20);
  // An image that runs Spark in the foreground elsewhere (SPARK_NO_DAEMONIZE) still gets scripts that return.
  const image = { SPARK_NO_DAEMONIZE: "true" };
  const { out, calls } = await cluster(tmp.path, {
    "algo-1": { ...image, FAKE_EXIT: "0" },
    "algo-2": image,
    "algo-3": image,
  });
  deepEqual(Object.fromEntries(Object.entries(out).map(([h, o]) => [h, o.code])), {
    "algo-3": 0,
    "algo-2": 0,
    "algo-1": 0,
  });
  // algo-1: master bound to its resolved address, then its own worker.
  equal(calls[0], "algo-1 start-master.sh --host 127.0.0.11 --port 7077 --webui-port 8080");
  for (const h of HOSTS) {
    const w = index(
      calls,
      new RegExp(
        `^${h} start-worker\\.sh spark://127\\.0\\.0\\.11:7077 --host ${
          ADDR[h]!.replace(/\./g, "\\.")
        } --cores \\d+`,
      ),
    );
    ok(w > 0, `${h} started a worker bound to its address: ${calls.join("\n")}`);
  }
  // The command ran on algo-1 only, after every worker registered, against the master.
  const command = calls.filter((c) => c.includes(" command "));
  deepEqual(command, [
    "algo-1 command master=spark://algo-1:7077 args=--input /opt/ml/processing/input",
  ]);
  const cmdAt = index(calls, / command /);
  for (const h of HOSTS) {
    ok(
      index(calls, new RegExp(`^${h} start-worker`)) < cmdAt,
      `${h} registered before the command`,
    );
  }
  // algo-1 stops the cluster after the command; the others stop their worker after the master is gone.
  const stopMaster = index(calls, /^algo-1 stop-master\.sh/);
  ok(index(calls, /^algo-1 stop-worker\.sh/) > cmdAt && stopMaster > cmdAt);
  for (const h of ["algo-2", "algo-3"]) {
    ok(
      index(calls, new RegExp(`^${h} stop-worker\\.sh`)) > stopMaster,
      `${h} waited for the master`,
    );
  }
  match(out["algo-2"]!.stderr, /the master is gone/);
});

Deno.test("spark on SageMaker: algo-1 asks the master's status page directly, not through HTTP_PROXY", async () => {
  using tmp = tempDir();
  setup(tmp.path, 5);
  // A proxy that refuses every connection: a poll through it would never see a worker.
  // (NO_PROXY emptied: the machine's own would let a poll through the proxy pass this test.)
  const proxy = {
    HTTP_PROXY: "http://127.0.0.1:9",
    http_proxy: "http://127.0.0.1:9",
    NO_PROXY: "",
    no_proxy: "",
  };
  const { out, calls } = await cluster(tmp.path, { "algo-1": { FAKE_EXIT: "0", ...proxy } });
  equal(out["algo-1"]!.code, 0, out["algo-1"]!.stderr);
  equal(calls.filter((c) => c.includes(" command ")).length, 1);
});

Deno.test("spark on SageMaker: a failing job's exit code and message file come from algo-1; workers still exit 0", async () => {
  using tmp = tempDir();
  setup(tmp.path, 20);
  const { out } = await cluster(tmp.path, { "algo-1": { FAKE_EXIT: "3" } });
  deepEqual([out["algo-1"]!.code, out["algo-2"]!.code, out["algo-3"]!.code], [3, 0, 0]);
  match(
    Deno.readTextFileSync(`${tmp.path}/message-algo-1`),
    /exited with code 3\nPy4JJavaError: job failed/,
  );
});

Deno.test("spark on SageMaker: a worker that never registers stops algo-1 with exit 69 naming it, without running the command", async () => {
  using tmp = tempDir();
  setup(tmp.path, 2);
  const { out, calls } = await cluster(tmp.path, { "algo-3": { FAKE_NEVER_REGISTER: "algo-3" } });
  equal(out["algo-1"]!.code, 69);
  match(
    out["algo-1"]!.stderr,
    /Spark: 2 of 3 hosts have a worker registered within 2 s; missing: algo-3/,
  );
  match(Deno.readTextFileSync(`${tmp.path}/message-algo-1`), /missing: algo-3 \(exit 69\)/);
  equal(calls.some((c) => c.includes(" command ")), false, "the command never ran");
  ok(index(calls, /^algo-1 stop-master\.sh/) > 0, "the cluster was stopped");
  deepEqual(
    [out["algo-2"]!.code, out["algo-3"]!.code],
    [0, 0],
    "the workers end once the master is gone",
  );
});

Deno.test("spark on SageMaker: a host registered twice (two worker instances) does not stand in for a host never registered", async () => {
  using tmp = tempDir();
  setup(tmp.path, 2);
  const { out, calls } = await cluster(tmp.path, {
    "algo-2": { FAKE_REGISTER_TWICE: "algo-2" },
    "algo-3": { FAKE_NEVER_REGISTER: "algo-3" },
  });
  equal(out["algo-1"]!.code, 69);
  // Hosts are counted, not registrations: algo-2's second worker is not a third host.
  match(
    out["algo-1"]!.stderr,
    /Spark: 2 of 3 hosts have a worker registered within 2 s; missing: algo-3/,
  );
  equal(calls.some((c) => c.includes(" command ")), false, "the command never ran");
});

Deno.test("spark on SageMaker: a worker whose master never comes up exits 69, after the primary's host wait and its own", async () => {
  using tmp = tempDir();
  setup(tmp.path, 1);
  const p = host(tmp.path, "algo-2", {});
  const o = await p.output();
  equal(o.code, 69);
  // 2 s of host wait (the primary may still be in it) and 1 s to register.
  match(
    new TextDecoder().decode(o.stderr),
    /the master algo-1 \(127\.0\.0\.11:7077\) never came up within 3 s/,
  );
  const r = await runProcess(["cat", `${tmp.path}/calls.log`]);
  equal(r.stdout, "", "no worker started");
});

/** The entrypoint's pid under a host's shell (unshare execs the shell, which starts the entrypoint). */
function entrypointOf(shellPid: number): number | undefined {
  // Deno's own API wants --allow-all for /proc: the project's reader does not.
  const r = readBounded(`/proc/${shellPid}/task/${shellPid}/children`, 4096);
  const kids = r.kind === "ok" ? r.text.trim() : "";
  return kids === "" ? undefined : Number(kids.split(/\s+/)[0]);
}

/** Kills a host's entrypoint, then its shell: an entrypoint whose shell is killed would run on. */
function killHost(p: Deno.ChildProcess): void {
  const entrypoint = entrypointOf(p.pid);
  try {
    if (entrypoint !== undefined) Deno.kill(entrypoint, "SIGKILL");
    p.kill("SIGKILL");
  } catch { /* already ended */ }
}

/**
 * Starts the cluster, sends SIGTERM to algo-1's entrypoint once `marker` is in
 * the calls log, and returns how algo-1 ended and every call made.
 */
async function sigtermWhen(dir: string, marker: string, primaryEnv: Record<string, string>) {
  const workers = ["algo-3", "algo-2"].map((h) =>
    host(dir, h, h === "algo-3" ? { FAKE_NEVER_REGISTER: "algo-3" } : {})
  );
  const primary = host(dir, "algo-1", primaryEnv);
  const calls = () => {
    try {
      return Deno.readTextFileSync(`${dir}/calls.log`);
    } catch {
      return "";
    }
  };
  const deadline = Date.now() + 20_000;
  while (!calls().includes(marker) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    const pid = entrypointOf(primary.pid);
    ok(pid !== undefined, "the primary's entrypoint");
    Deno.kill(pid!, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    // algo-1 decides; the workers are killed below (one never registers, and without
    // a master the others wait out their own patience).
    const o = await Promise.race([
      primary.output().finally(() => clearTimeout(timer)),
      new Promise<never>((_, no) => {
        timer = setTimeout(() => no(new Error("algo-1 did not end within 20 s")), 20_000);
      }),
    ]);
    return { code: o.code, stderr: new TextDecoder().decode(o.stderr), log: calls() };
  } finally {
    // Nothing of this cluster outlives the test: a stand-in master would hold the port, and
    // an entrypoint whose shell is killed would run on.
    for (const p of [primary, ...workers]) killHost(p);
    await runProcess(["pkill", "-KILL", "-f", `${dir}/fake_master.ts`]);
    for (const p of [primary, ...workers]) await p.status;
  }
}

Deno.test("spark on SageMaker: SIGTERM while algo-1 waits for workers stops the cluster it started, 143, no command", async () => {
  using tmp = tempDir();
  setup(tmp.path, 60);
  const r = await sigtermWhen(tmp.path, "algo-1 start-worker.sh", {});
  equal(r.code, 143, r.stderr);
  ok(r.log.includes("algo-1 stop-worker.sh") && r.log.includes("algo-1 stop-master.sh"), r.log);
  equal(r.log.includes(" command "), false, "the command never ran");
});

Deno.test("spark on SageMaker: SIGTERM while a start script runs lets it finish, then stops quietly, 143", async () => {
  using tmp = tempDir();
  setup(tmp.path, 60);
  const r = await sigtermWhen(tmp.path, "algo-1 start-master.sh", { FAKE_START_SLEEP: "2" });
  equal(r.code, 143, r.stderr);
  equal(/failed|error/.test(r.stderr), false, r.stderr);
  ok(r.log.includes("algo-1 stop-master.sh"), r.log);
  equal(r.log.includes(" command "), false, "the command never ran");
});

Deno.test("spark on SageMaker: an sbin script that is not executable is exit 126", async () => {
  using tmp = tempDir();
  setup(tmp.path, 5);
  Deno.chmodSync(`${tmp.path}/spark/sbin/start-master.sh`, 0o644);
  const o = await host(tmp.path, "algo-1", {}).output();
  equal(o.code, 126);
  match(
    new TextDecoder().decode(o.stderr),
    /Spark script \S+\/start-master\.sh could not start: permission denied\n$/,
  );
});

Deno.test("spark on SageMaker: a start script that fails ends algo-1 with its code, naming it, without running the command", async () => {
  using tmp = tempDir();
  setup(tmp.path, 5);
  const o = await host(tmp.path, "algo-1", { FAKE_MASTER_FAILS: "3" }).output();
  equal(o.code, 3);
  match(
    new TextDecoder().decode(o.stderr),
    /Spark script \S+\/start-master\.sh failed: exited with code 3\n$/,
  );
  const calls = Deno.readTextFileSync(`${tmp.path}/calls.log`);
  equal(calls.includes(" command "), false, "the command never ran");
  equal(calls.includes("start-worker.sh"), false, "no worker started");
});

/** A process's children, and whether each is a zombie. */
function childrenOf(pid: number): { pid: number; zombie: boolean }[] {
  const r = readBounded(`/proc/${pid}/task/${pid}/children`, 64 * 1024);
  const kids = r.kind === "ok" ? r.text.trim().split(/\s+/).filter(Boolean).map(Number) : [];
  return kids.map((k) => {
    const stat = readBounded(`/proc/${k}/stat`, 4096);
    // The state follows the command name in parentheses, which may hold blanks.
    return { pid: k, zombie: stat.kind === "ok" && /\) Z /.test(stat.text) };
  });
}

/** The pids of a process's children that are zombies. */
function zombieChildren(pid: number): number[] {
  return childrenOf(pid).filter((k) => k.zombie).map((k) => k.pid);
}

Deno.test("spark on SageMaker: a worker host's entrypoint as PID 1 reaps what the worker leaves behind while it waits for the master", async () => {
  using tmp = tempDir();
  setup(tmp.path, 5);
  // The master's port, held here: the worker host starts its worker and then waits for it to go.
  const master = Deno.listen({ hostname: ADDR["algo-1"]!, port: 7077 });
  const accepting = (async () => {
    for await (const conn of master) conn.close();
  })().catch(() => {});
  const orphans = 20;
  const p = host(tmp.path, "algo-2", { FAKE_WORKER_ORPHANS: String(orphans) }, { pid1: true });
  try {
    const ended = () => {
      try {
        return Deno.readTextFileSync(`${tmp.path}/orphans.log`).split("\n").length - 1;
      } catch {
        return 0;
      }
    };
    // Their parent ends first (it waits for none of them), then they end, each a zombie until reaped.
    await waitFor("the worker's orphans", () => Deno.statSync(`${tmp.path}/orphans-spawned`));
    const entrypoint = entrypointOf(p.pid);
    ok(entrypoint !== undefined, "the worker host's entrypoint");
    // Once their parent is gone, the orphans are the entrypoint's only living children.
    await waitFor("their parent to end", () => {
      const living = childrenOf(entrypoint!).filter((k) => !k.zombie);
      return living.length === orphans ? true : undefined;
    });
    Deno.writeTextFileSync(`${tmp.path}/orphans-go`, "");
    await waitFor("the worker's orphans to end", () => ended() === orphans ? true : undefined);
    // Reaped within the wait's next round, not when the job ends.
    await waitFor(
      "no zombie under the worker host's PID 1",
      () => zombieChildren(entrypoint!).length === 0 ? true : undefined,
      10_000,
    );
    Deno.kill(entrypoint!, "SIGTERM");
    const o = await p.output();
    equal(o.code, 143, new TextDecoder().decode(o.stderr));
  } finally {
    master.close();
    await accepting;
    // PID 1 first: killing it ends its namespace, which outlives unshare.
    killHost(p);
    await p.status;
  }
});

/** Whether the process `pid` has a TCP connection to `addr`:`port` waiting for its SYN's answer. */
function connecting(pid: number, addr: string, port: number): boolean {
  const r = readBounded(`/proc/${pid}/net/tcp`, 1 << 20);
  if (r.kind !== "ok") return false;
  // Little-endian hex address, big-endian hex port; state 02 is SYN_SENT.
  const hex = addr.split(".").reverse().map((b) => Number(b).toString(16).padStart(2, "0"))
    .join("").toUpperCase();
  const remote = `${hex}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return r.text.split("\n").some((l) => {
    const f = l.trim().split(/\s+/);
    return f[2] === remote && f[3] === "02";
  });
}

Deno.test("spark on SageMaker: a worker whose master's address drops every packet still ends on SIGTERM, and at its own deadline", async () => {
  // A connection attempt nothing answers lasts the kernel's SYN retries (about 2 minutes): the
  // worker must give each one up within seconds.
  const end = async (p: Deno.ChildProcess, what: string) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        p.output(),
        new Promise<never>((_, no) => {
          timer = setTimeout(() => no(new Error(`${what} did not end within 30 s`)), 30_000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      killHost(p);
      await p.status;
    }
  };
  {
    using tmp = tempDir();
    setup(tmp.path, 1);
    const p = host(tmp.path, "algo-2", {}, { dropTo: ADDR["algo-1"]! });
    const o = await end(p, "the worker at its deadline");
    equal(o.code, 69, new TextDecoder().decode(o.stderr));
    match(new TextDecoder().decode(o.stderr), /never came up within 3 s/);
  }
  {
    using tmp = tempDir();
    setup(tmp.path, 60);
    const p = host(tmp.path, "algo-2", {}, { dropTo: ADDR["algo-1"]! });
    const attempt = (async () => {
      // The shell's setup commands come first: wait for the connection attempt, then take its pid.
      await waitFor(
        "the worker's connection attempt to the master",
        () => connecting(p.pid, ADDR["algo-1"]!, 7077) ? true : undefined,
      );
      Deno.kill(entrypointOf(p.pid)!, "SIGTERM");
    })();
    const o = await end(p, "the worker after SIGTERM");
    await attempt;
    equal(o.code, 143, new TextDecoder().decode(o.stderr));
  }
});
