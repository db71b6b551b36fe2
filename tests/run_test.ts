/**
 * Running, with real processes (root is available on these machines and in
 * CI): exit codes, signal forwarding with the entrypoint as PID 1, orphan
 * reaping, the privilege drop, nss_wrapper, SageMaker failure files, hooks and
 * the nested-start guard.
 */
import { deepEqual, equal, match, ok, throws } from "@std/assert";
import { readBounded } from "../sys/fs.ts";
import {
  entrypointArgv,
  freshTmpSteps,
  oneCpu,
  ROOT,
  runEntrypoint,
  runProcess,
  shellQuote,
  tempDir,
  waitFor,
} from "./helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads a /proc file (Deno's own API asks for --allow-all there; the project's reader does not). */
function procText(path: string): string {
  const r = readBounded(path, 64 * 1024);
  return r.kind === "ok" ? r.text : "";
}

function configFile(dir: string, yaml: string): string {
  const f = `${dir}/config.yaml`;
  Deno.writeTextFileSync(f, yaml);
  return f;
}

/** Runs the entrypoint with a config (in `dir`) that sets `mode`, at log level `level`. */
function runInMode(dir: string, mode: "exec" | "supervise", args: string[], level = "error") {
  return runEntrypoint(args, {
    env: { CHAMELEON_CONFIG: configFile(dir, `mode: ${mode}\n`), CHAMELEON_LOG_LEVEL: level },
  });
}

Deno.test("the command runs as an argv vector, no shell between: its words reach it as given (design section 8)", async () => {
  using tmp = tempDir(0o755);
  const words = ["$HOME", "*", "$(id -u)", "a  b", ";", "|", "`id`", "~", "'q'", '"d"', "", "\\n"];
  for (const mode of ["exec", "supervise"] as const) {
    const r = await runInMode(tmp.path, mode, ["printf", "[%s]\\n", ...words]);
    equal(r.code, 0, r.stderr);
    equal(r.stdout, words.map((w) => `[${w}]\n`).join(""), mode);
  }
  // A command line that a shell would run is one word naming no program.
  const line = await runInMode(tmp.path, "exec", ["echo a; echo b"]);
  equal(line.code, 127, line.stderr);
  equal(line.stdout, "");
});

Deno.test("a path under /dev (/dev/shm) that Deno will not write is exit 78 saying so, not 'run again with --allow-all'", async () => {
  using tmp = tempDir(0o755);
  const config = configFile(tmp.path, "{}\n");
  const runs = [
    await runEntrypoint(["--capture", "/dev/shm/chameleon-test-capture.json"]),
    await runEntrypoint(["--check-config", config, "--write-json", "/dev/shm/chameleon-test.json"]),
    // A user without a passwd entry gets one in the runtime dir.
    await runEntrypoint(["true"], {
      env: { CHAMELEON_RUNTIME_DIR: "/dev/shm/chameleon-test", CHAMELEON_USER: "4242:4242" },
    }),
  ];
  for (const r of runs) {
    equal(r.code, 78, r.stderr);
    match(r.stderr, /under \/proc, \/sys or \/dev, where Deno writes only with --allow-all/);
    equal(r.stderr.includes("run again"), false, r.stderr);
  }
});

Deno.test("exit codes 0–255 pass through unchanged in exec and supervise mode", async () => {
  using tmp = tempDir(0o755);
  const supervise = configFile(tmp.path, "mode: supervise\n");
  const codes = [0, 1, 2, 3, 42, 69, 70, 78, 100, 126, 127, 128, 129, 137, 143, 200, 254, 255];
  for (
    const [mode, env] of [["exec", {}], ["supervise", { CHAMELEON_CONFIG: supervise }]] as const
  ) {
    const got = await Promise.all(codes.map((c) =>
      runEntrypoint(["sh", "-c", `exit ${c}`], {
        env: { ...env, CHAMELEON_LOG_LEVEL: "error", CHAMELEON_RUNTIME_DIR: tmp.path },
      })
    ));
    deepEqual(got.map((r) => r.code), codes, mode);
  }
});

Deno.test("a SIGCHLD ignored by whoever started the entrypoint breaks neither the supervisor nor a hook", async () => {
  using tmp = tempDir(0o755);
  // An ignored disposition survives execve, and with SIGCHLD ignored the kernel reaps
  // children itself: waitpid() then finds none (ECHILD).
  const ignoring = (args: string[], yaml: string) =>
    runProcess(["env", "--ignore-signal=CHLD", ...entrypointArgv(), ...args], {
      env: {
        CHAMELEON_CONFIG: configFile(tmp.path, yaml),
        CHAMELEON_LOG_LEVEL: "error",
        CHAMELEON_RUNTIME_DIR: tmp.path,
      },
    });
  const supervised = await ignoring(["sh", "-c", "exit 3"], "mode: supervise\n");
  equal(supervised.code, 3, supervised.stderr);
  const hooks = `${tmp.path}/hooks`;
  Deno.mkdirSync(`${hooks}/before-run`, { recursive: true });
  Deno.writeTextFileSync(`${hooks}/before-run/10-ok`, "#!/bin/sh\nexit 0\n");
  Deno.chmodSync(`${hooks}/before-run/10-ok`, 0o755);
  const hooked = await ignoring(["true"], `hooksDir: ${hooks}\n`);
  equal(hooked.code, 0, hooked.stderr);
});

Deno.test("signals blocked by whoever started the entrypoint are not blocked in the command, in exec and supervise mode", async () => {
  using tmp = tempDir(0o755);
  for (const mode of ["exec", "supervise"]) {
    // A blocked mask survives execve; the command is no shell, as a shell clears the mask itself.
    const r = await runProcess(
      [
        "env",
        "--block-signal=USR1",
        "--block-signal=TERM",
        ...entrypointArgv(),
        "grep",
        "SigBlk",
        "/proc/self/status",
      ],
      {
        env: {
          CHAMELEON_CONFIG: configFile(tmp.path, `mode: ${mode}\n`),
          CHAMELEON_LOG_LEVEL: "error",
        },
      },
    );
    equal(r.code, 0, r.stderr);
    equal(r.stdout, "SigBlk:\t0000000000000000\n", mode);
  }
});

Deno.test("a command in a folder the final user cannot search is not executable (126), as in a shell", async () => {
  using tmp = tempDir(0o755);
  Deno.mkdirSync(`${tmp.path}/private`, { mode: 0o700 });
  const script = `${tmp.path}/private/train.sh`;
  Deno.writeTextFileSync(script, "#!/bin/sh\nexit 0\n");
  Deno.chmodSync(script, 0o755);
  for (const mode of ["exec", "supervise"]) {
    const r = await runEntrypoint([script], {
      env: {
        CHAMELEON_CONFIG: configFile(tmp.path, `mode: ${mode}\n`),
        CHAMELEON_USER: "1000:100",
        CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`,
        CHAMELEON_LOG_LEVEL: "error",
      },
    });
    equal(r.code, 126, `${mode}: ${r.stderr}`);
    match(r.stderr, /Command ".*train\.sh": not executable \(permission denied\)/, mode);
  }
});

Deno.test("a command is found on PATH as a shell finds it: folders skipped, an empty entry is the working folder, the first unrunnable one named", async () => {
  using tmp = tempDir(0o755);
  const dirs = `${tmp.path}/dirs`, a = `${tmp.path}/a`, b = `${tmp.path}/b`;
  const work = `${tmp.path}/work`;
  for (const d of [dirs, a, b, work]) Deno.mkdirSync(d);
  Deno.mkdirSync(`${dirs}/tool`); // a folder of the command's name comes first
  const tools: [string, number][] = [[a, 0o644], [b, 0o644], [work, 0o755]];
  for (const [dir, mode] of tools) {
    Deno.writeTextFileSync(`${dir}/tool`, "#!/bin/sh\necho ran\n");
    Deno.chmodSync(`${dir}/tool`, mode);
  }
  const env = { CHAMELEON_LOG_LEVEL: "error" };
  const found = await runEntrypoint(["tool"], {
    env: { ...env, PATH: `${dirs}:${a}:/usr/bin:/bin:` },
    cwd: work,
  });
  equal(found.code, 0, found.stderr);
  equal(found.stdout, "ran\n");
  const unrunnable = await runEntrypoint(["tool"], { env: { ...env, PATH: `${dirs}:${a}:${b}` } });
  equal(unrunnable.code, 126, unrunnable.stderr);
  match(unrunnable.stderr, new RegExp(`Command "tool": ${a}/tool is not executable`));
});

Deno.test("a command path: a file without x or a folder is 126, a path through a file or a missing interpreter 127, as in a shell", async () => {
  using tmp = tempDir(0o755);
  const plain = `${tmp.path}/plain`;
  Deno.writeTextFileSync(plain, "#!/bin/sh\n");
  Deno.chmodSync(plain, 0o644);
  const orphan = `${tmp.path}/orphan`;
  Deno.writeTextFileSync(orphan, "#!/nonexistent/interpreter\n");
  Deno.chmodSync(orphan, 0o755);
  const cases: [string, number, RegExp][] = [
    [plain, 126, /Command ".*\/plain": not executable \(permission denied\)/],
    // A folder: what a shell says ("Is a directory"), not execve's bare "permission denied".
    [tmp.path, 126, /Command ".*": not executable \(a folder, expected a file\)/],
    [`${plain}/x`, 127, /Command ".*\/plain\/x": not found/],
    [orphan, 127, /Command ".*\/orphan" \(.*\/orphan\): no such file or directory/],
  ];
  for (const [command, code, message] of cases) {
    const r = await runEntrypoint([command], { env: { CHAMELEON_LOG_LEVEL: "error" } });
    equal(r.code, code, `${command}: ${r.stderr}`);
    match(r.stderr, message);
  }
});

Deno.test("a command file still open for writing is 126 saying so, not a bare errno, in exec and supervise mode", async () => {
  using tmp = tempDir(0o755);
  const busy = `${tmp.path}/busy`;
  Deno.copyFileSync("/bin/true", busy);
  Deno.chmodSync(busy, 0o755);
  // Held open for writing by this process: execve answers ETXTBSY, whoever calls it.
  using _writer = Deno.openSync(busy, { write: true });
  const supervise = configFile(tmp.path, "mode: supervise\n");
  for (const config of [{}, { CHAMELEON_CONFIG: supervise }]) {
    const r = await runEntrypoint([busy], { env: { CHAMELEON_LOG_LEVEL: "error", ...config } });
    equal(r.code, 126, r.stderr);
    match(
      r.stderr,
      /^chameleon: error: Command ".*\/busy" \(.*\): text file busy \(open for writing\)\n$/,
    );
  }
});

Deno.test("an unknown log level is warned of once, in exec and supervise mode", async () => {
  using tmp = tempDir(0o755);
  const supervise = configFile(tmp.path, "mode: supervise\n");
  for (const config of [{}, { CHAMELEON_CONFIG: supervise }]) {
    const r = await runEntrypoint(["true"], { env: { CHAMELEON_LOG_LEVEL: "verbose", ...config } });
    equal(r.code, 0, r.stderr);
    equal(r.stderr.match(/CHAMELEON_LOG_LEVEL "verbose"/g)?.length, 1, r.stderr);
  }
});

Deno.test("JUPYTER_ENV_VARS_TO_UNSET: the command runs without the variables it lists, in exec and supervise mode", async () => {
  using tmp = tempDir(0o755);
  const supervise = configFile(tmp.path, "mode: supervise\n");
  for (const config of [{}, { CHAMELEON_CONFIG: supervise }]) {
    const r = await runEntrypoint(
      ["sh", "-c", 'echo "${SECRET_X-gone} ${KEEP-gone} ${JUPYTER_ENV_VARS_TO_UNSET-gone}"'],
      {
        env: { JUPYTER_ENV_VARS_TO_UNSET: "SECRET_X", SECRET_X: "s3cr3t", KEEP: "kept", ...config },
      },
    );
    equal(r.code, 0, r.stderr);
    equal(r.stdout, "gone kept gone\n");
  }
});

Deno.test("JUPYTER_ENV_VARS_TO_UNSET: hooks still get the variables it lists, as start.sh's hooks do; the command does not", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  const log = `${tmp.path}/seen`;
  for (const phase of ["before-apply", "before-run"]) {
    Deno.mkdirSync(`${hooks}/${phase}`, { recursive: true });
    Deno.writeTextFileSync(
      `${hooks}/${phase}/10-show`,
      `#!/bin/sh\necho "${phase} \${SECRET_X-gone} \${JUPYTER_ENV_VARS_TO_UNSET-gone}" >> ${log}\n`,
    );
    Deno.chmodSync(`${hooks}/${phase}/10-show`, 0o755);
  }
  const env = {
    CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${hooks}\n`),
    JUPYTER_ENV_VARS_TO_UNSET: "SECRET_X",
    SECRET_X: "s3cr3t",
  };
  const r = await runEntrypoint(["sh", "-c", `echo "command \${SECRET_X-gone}" >> ${log}`], {
    env,
  });
  equal(r.code, 0, r.stderr);
  deepEqual(Deno.readTextFileSync(log).trim().split("\n"), [
    "before-apply s3cr3t SECRET_X",
    "before-run s3cr3t SECRET_X",
    "command gone",
  ]);
  // --explain names them (not their values).
  const explained = await runEntrypoint(["--explain", "--format", "json"], { env });
  equal(explained.code, 0, explained.stderr);
  deepEqual(JSON.parse(explained.stdout).plan.notes.unsetAfterHooks, [
    "SECRET_X",
    "JUPYTER_ENV_VARS_TO_UNSET",
  ]);
  equal(explained.stdout.includes("s3cr3t"), false);
});

Deno.test("a configured shell command's shell names itself sh in its messages, not a word of the script", async () => {
  using tmp = tempDir(0o755);
  const config = configFile(
    tmp.path,
    "commands:\n  unknown: {argv: [exec, no-such-program-h7, --port, '\"$ML_PORT\"'], shell: true}\n",
  );
  const r = await runEntrypoint([], { env: { CHAMELEON_CONFIG: config } });
  equal(r.code, 127, r.stderr);
  match(r.stderr, /^sh: 1: exec: no-such-program-h7: not found$/m);
});

Deno.test("outside SageMaker a supervised command writes to the supervisor's own stderr, not through a pipe", async () => {
  using tmp = tempDir(0o755);
  // The exec stage became the command, so its parent is the supervisor.
  const script =
    'for fd in 1 2; do [ "$(readlink /proc/$$/fd/$fd)" = "$(readlink /proc/$PPID/fd/$fd)" ] ' +
    '&& echo "fd $fd: the same" || echo "fd $fd: $(readlink /proc/$$/fd/$fd)"; done';
  const r = await runInMode(tmp.path, "supervise", ["sh", "-c", script]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "fd 1: the same\nfd 2: the same\n");
});

Deno.test("a supervised child killed by a signal gives 128 + n", async () => {
  using tmp = tempDir(0o755);
  const r = await runInMode(tmp.path, "supervise", ["sh", "-c", "kill -KILL $$"]);
  equal(r.code, 137);
});

/** Starts the entrypoint as PID 1 of a new PID namespace; returns its host pid and the process. */
async function asPid1(cmd: string[], env: Record<string, string>, ready: string) {
  const child = new Deno.Command("unshare", {
    args: ["--pid", "--fork", "--mount-proc", ...entrypointArgv(), ...cmd],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await waitFor(`${ready} to appear`, () => Deno.statSync(ready), 10_000, 20);
  const kids = procText(`/proc/${child.pid}/task/${child.pid}/children`).trim();
  const entrypoint = Number(kids.split(/\s+/)[0]);
  ok(entrypoint > 0, "entrypoint pid");
  return { child, entrypoint };
}

const SIGNALS: [Deno.Signal, number][] = [
  ["SIGTERM", 15],
  ["SIGINT", 2],
  ["SIGHUP", 1],
  ["SIGQUIT", 3],
  ["SIGUSR1", 10],
  ["SIGUSR2", 12],
];

for (const [sig, n] of SIGNALS) {
  Deno.test(`${sig} to the entrypoint as PID 1 reaches the child, which exits with its own code`, async () => {
    using tmp = tempDir(0o755);
    const ready = `${tmp.path}/ready`;
    const name = sig.slice(3);
    // A signal never forwarded ends the wait after 10 s, as a failure, rather than never.
    const script = `trap 'echo got-${name}; exit ${
      100 + n
    }' ${name}; touch ${ready}; for i in $(seq 200); do sleep 0.05; done; echo no-${name}`;
    const { child, entrypoint } = await asPid1(["sh", "-c", script], {
      CHAMELEON_LOG_LEVEL: "error",
    }, ready);
    Deno.kill(entrypoint, sig);
    const out = await child.output();
    equal(new TextDecoder().decode(out.stdout).trim(), `got-${name}`);
    equal(out.code, 100 + n);
  });
}

/** What answers an inspector's HTTP request on 127.0.0.1:9229 within `ms` (empty when nothing does, or nothing listens). */
async function inspectorAnswer(ms: number): Promise<string> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port: 9229 });
  } catch {
    return "";
  }
  try {
    await conn.write(
      new TextEncoder().encode("GET /json/list HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"),
    );
    const buf = new Uint8Array(4096);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf),
      new Promise<null>((r) => timer = setTimeout(() => r(null), ms)),
    ]);
    clearTimeout(timer);
    return n === null ? "" : new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    conn.close();
  }
}

/** Whether anything listens on 127.0.0.1:9229. */
async function inspectorAddressTaken(): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port: 9229 })).close();
    return true;
  } catch {
    return false;
  }
}

for (const takenAtStart of [false, true]) {
  const when = takenAtStart
    ? ", even when 127.0.0.1:9229 was taken at its start and freed later"
    : "";
  Deno.test(`SIGUSR1 to a supervisor that has run a while reaches the child and opens no inspector${when}`, async () => {
    equal(
      await inspectorAddressTaken(),
      false,
      "something on this machine listens on 127.0.0.1:9229",
    );
    using tmp = tempDir(0o755);
    const ready = `${tmp.path}/ready`;
    const script = `trap 'echo got-USR1' USR1; touch ${ready}; while :; do sleep 0.05; done`;
    let other = takenAtStart ? Deno.listen({ hostname: "127.0.0.1", port: 9229 }) : undefined;
    const child = new Deno.Command(entrypointArgv()[0]!, {
      args: [...entrypointArgv().slice(1), "sh", "-c", script],
      env: {
        ...Deno.env.toObject(),
        CHAMELEON_CONFIG: configFile(tmp.path, "mode: supervise\n"),
        CHAMELEON_LOG_LEVEL: "debug",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      await waitFor(`${ready} to appear`, () => Deno.statSync(ready), 10_000, 20);
      other?.close();
      other = undefined;
      // Deno arms its SIGUSR1 inspector 500 ms into a process's life.
      await sleep(1000);
      Deno.kill(child.pid, "SIGUSR1");
      await sleep(500);
      // The hold never answers; an inspector would answer its target list at once.
      equal(await inspectorAnswer(500), "");
    } finally {
      other?.close();
      Deno.kill(child.pid, "SIGTERM");
    }
    const out = await child.output();
    equal(new TextDecoder().decode(out.stdout).trim(), "got-USR1");
    equal(out.code, 143);
    const stderr = new TextDecoder().decode(out.stderr);
    equal(stderr.includes("not held"), takenAtStart, stderr);
  });
}

Deno.test("the inspector address an exec-mode start holds is closed at execve: the command has no socket", async () => {
  using tmp = tempDir(0o755);
  const r = await runInMode(tmp.path, "exec", ["sh", "-c", "ls -l /proc/$$/fd"], "debug");
  equal(r.code, 0);
  ok(!r.stderr.includes("not held"), `the start held no address: ${r.stderr}`);
  ok(r.stdout.includes("->"), r.stdout);
  ok(!r.stdout.includes("socket:"), `the command got a socket: ${r.stdout}`);
});

Deno.test("the supervisor's exec stage does not run with NODE_OPTIONS the config sets for the command, which still gets it", async () => {
  using tmp = tempDir(0o755);
  const marker = `${tmp.path}/loaded-by`;
  const inject = `${tmp.path}/inject.cjs`;
  Deno.writeTextFileSync(
    inject,
    `require("fs").writeFileSync(${JSON.stringify(marker)}, "uid " + process.getuid());\n`,
  );
  const options = `--require ${inject}`;
  const r = await runEntrypoint(["sh", "-c", 'printf %s "$NODE_OPTIONS"'], {
    env: {
      CHAMELEON_CONFIG: configFile(
        tmp.path,
        `mode: supervise\nenv:\n  set:\n    NODE_OPTIONS: ${JSON.stringify(options)}\n`,
      ),
      CHAMELEON_LOG_LEVEL: "error",
    },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, options);
  let loaded = "";
  try {
    loaded = Deno.readTextFileSync(marker);
  } catch { /* not loaded: as it should be */ }
  equal(loaded, "", "the exec stage (Deno) loaded the command's NODE_OPTIONS");
});

Deno.test("the supervisor's exec stage does not start with the LD_ variables the config sets for the command, which still gets them", async () => {
  using tmp = tempDir(0o755);
  const debug = `${tmp.path}/ld`;
  const r = await runEntrypoint(["sh", "-c", 'printf %s "$LD_DEBUG"'], {
    env: {
      CHAMELEON_CONFIG: configFile(
        tmp.path,
        `mode: supervise\nenv:\n  set:\n    LD_DEBUG: libs\n    LD_DEBUG_OUTPUT: ${debug}\n`,
      ),
      CHAMELEON_LOG_LEVEL: "error",
    },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "libs");
  // The dynamic loader's log of every process that started with them: the command's, not Deno's.
  const logs = [...Deno.readDirSync(tmp.path)].filter((e) => e.name.startsWith("ld."))
    .map((e) => Deno.readTextFileSync(`${tmp.path}/${e.name}`)).join("");
  match(logs, /transferring control: /);
  equal(logs.includes(`transferring control: ${Deno.execPath()}`), false, "the stage had them");
});

Deno.test("the variables kept out of the exec stage come back as they were: large ones, empty ones, absent ones", async () => {
  using tmp = tempDir(0o755);
  // Two values that fit execve one by one but not side by side in one variable.
  const big = (c: string) => c.repeat(70_000);
  // NODE_C fills execve's 128 KiB to the byte: under a longer name it would not fit.
  const fullC = 128 * 1024 - "NODE_C=".length - 1;
  const script =
    'printf "%s %s %s [%s] %s %s" "${#NODE_A}" "${#NODE_B}" "${#NODE_C}" "$DENO_EMPTY" "$TMPDIR" "${DENO_DIR-unset}"';
  const r = await runProcess([...entrypointArgv(), "sh", "-c", script], {
    env: {
      CHAMELEON_CONFIG: configFile(tmp.path, "mode: supervise\n"),
      CHAMELEON_LOG_LEVEL: "error",
      NODE_A: big("a"),
      NODE_B: big('"'),
      NODE_C: "c".repeat(fullC),
      DENO_EMPTY: "",
      TMPDIR: `${tmp.path}/odd tmp`,
    },
  });
  equal(r.code, 0, r.stderr);
  equal(
    r.stdout,
    `70000 70000 ${fullC} [] ${tmp.path}/odd tmp ${Deno.env.get("DENO_DIR") ?? "unset"}`,
  );
});

/** execve's limit on arguments and environment together: a quarter of the stack limit (Linux). */
function argMax(): number {
  const limits = procText("/proc/self/limits");
  const soft = /^Max stack size\s+(\d+|unlimited)/m.exec(limits)?.[1];
  return soft === undefined || soft === "unlimited" ? 6 << 20 : Number(soft) / 4;
}

for (const mode of ["exec", "supervise"] as const) {
  Deno.test(`an environment that the config grows past execve's limit is exit 126 with one clear line in ${mode} mode`, async () => {
    using tmp = tempDir(0o755);
    // The entrypoint itself starts with 200 KB to spare; the config's variable takes 300 KB.
    const fill = argMax() - 200_000 - JSON.stringify(Deno.env.toObject()).length;
    const env: Record<string, string> = {
      CHAMELEON_CONFIG: configFile(
        tmp.path,
        `mode: ${mode}\nenv:\n  set:\n${
          [0, 1, 2].map((i) => `    GROWN_${i}: ${"g".repeat(100_000)}\n`).join("")
        }`,
      ),
      CHAMELEON_LOG_LEVEL: "error",
    };
    for (let i = 0; fill - i * 100_000 > 0; i++) {
      env[`FILL_${i}`] = "f".repeat(Math.min(100_000, fill - i * 100_000));
    }
    const r = await runEntrypoint(["true"], { env });
    equal(r.code, 126, r.stderr);
    match(r.stderr, /Command "true".*argument list too long/);
    // The supervisor names what made it too long (E2BIG is no argument list of the user's alone).
    if (mode === "supervise") {
      match(r.stderr, /too long \(its arguments and environment together\)$/m);
    }
    ok(!r.stderr.includes("a bug"), r.stderr);
  });
}

/**
 * Starts the entrypoint and sends it `sig` as soon as its own listener for it
 * is installed (the SigCgt bit in /proc), that is, during the start, before
 * the command runs; returns the outcome.
 */
async function signalDuringStart(
  mode: string,
  sig: Deno.Signal,
  n: number,
  options: {
    extra?: Record<string, string>;
    /** Wait for the supervisor's exec-stage child (still Deno) to listen, then signal the supervisor. */
    stageChild?: boolean;
    /** Run the entrypoint on one CPU ({@linkcode oneCpu}). */
    oneCpu?: boolean;
  } = {},
) {
  const { extra = {}, stageChild = false } = options;
  using tmp = tempDir(0o755);
  const [cmd, ...args] = [...(options.oneCpu ? oneCpu() : []), ...entrypointArgv()];
  const child = new Deno.Command(cmd!, {
    args: [...args, "sh", "-c", "sleep 1; echo NOSIGNAL; exit 7"],
    env: {
      ...Deno.env.toObject(),
      CHAMELEON_CONFIG: configFile(tmp.path, `mode: ${mode}\n`),
      CHAMELEON_LOG_LEVEL: "error",
      CHAMELEON_RUNTIME_DIR: `${tmp.path}/rt`,
      ...extra,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // "listening", or "missed" when the watched process already became the command (a busy
  // machine may not poll within the start's few milliseconds).
  const state = (pid: number | string): "listening" | "missed" | undefined => {
    const status = procText(`/proc/${pid}/status`);
    // The command is `sh -c "sleep 1; ..."`; before Deno, taskset may run (oneCpu).
    if (/^Name:\t(sh|sleep)\n/.test(status)) return "missed";
    if (!status.startsWith("Name:\tdeno")) return undefined;
    const caught = /SigCgt:\s*([0-9a-f]+)/.exec(status)?.[1];
    return caught !== undefined && (BigInt(`0x${caught}`) & (1n << BigInt(n - 1))) !== 0n
      ? "listening"
      : undefined;
  };
  const seen = await waitFor(
    `the ${stageChild ? "exec stage's" : "entrypoint's"} ${sig} listener`,
    () => {
      if (!stageChild) return state(child.pid);
      const kids = procText(`/proc/${child.pid}/task/${child.pid}/children`).trim().split(/\s+/);
      const states = kids.filter((k) => k !== "").map(state);
      return states.includes("listening") ? "listening" : states.find((x) => x !== undefined);
    },
    10_000,
    1,
  );
  if (seen === "missed") {
    Deno.kill(child.pid, "SIGKILL");
    await child.output();
    return undefined;
  }
  Deno.kill(child.pid, sig);
  const out = await child.output();
  return { code: out.code, signal: out.signal, stdout: new TextDecoder().decode(out.stdout) };
}

/**
 * {@linkcode signalDuringStart} until the signal lands during the start: a
 * start that became the command before the test saw it listen is tried again.
 */
async function signalledStart(...args: Parameters<typeof signalDuringStart>) {
  for (let tries = 0; tries < 20; tries++) {
    const r = await signalDuringStart(...args);
    if (r !== undefined) return r;
  }
  throw new Error("20 starts became the command before the test saw them listen");
}

for (const mode of ["exec", "supervise"]) {
  for (const [sig, n] of [["SIGTERM", 15], ["SIGINT", 2]] as const) {
    Deno.test(`${sig} during a start in ${mode} mode ends it with 128 + n; the command never runs on`, async () => {
      // Every other start on one CPU, where Deno's signal thread waits for the main thread.
      for (let i = 0; i < 4; i++) {
        const r = await signalledStart(mode, sig, n, { oneCpu: i % 2 === 1 });
        equal(r.stdout, "", "the command ran to its end: the signal was lost");
        ok(r.code === 128 + n || r.signal === sig, `code ${r.code}, signal ${r.signal}`);
      }
    });
  }
}

Deno.test("SIGTERM forwarded to the supervisor's exec stage before its execve is not lost", async () => {
  for (let i = 0; i < 3; i++) {
    const r = await signalledStart("supervise", "SIGTERM", 15, {
      stageChild: true,
      oneCpu: i % 2 === 1,
    });
    equal(r.stdout, "", "the command ran to its end: the stage swallowed the signal");
    equal(r.code, 143);
  }
});

Deno.test("SIGTERM during a bypassed start (CHAMELEON_DISABLE=1) is not lost either", async () => {
  const r = await signalledStart("exec", "SIGTERM", 15, {
    extra: { CHAMELEON_DISABLE: "1" },
    oneCpu: true,
  });
  equal(r.stdout, "");
  ok(r.code === 143 || r.signal === "SIGTERM", `code ${r.code}, signal ${r.signal}`);
});

Deno.test("a child that ignores SIGTERM is stopped by SIGKILL to PID 1, leaving no process behind", async () => {
  using tmp = tempDir(0o755);
  const ready = `${tmp.path}/ready`;
  const marker = `chameleon-marker-${crypto.randomUUID()}`;
  const script =
    `trap '' TERM; touch ${ready}; (exec -a ${marker} sleep 300) & exec -a ${marker} sleep 300`;
  const { child, entrypoint } = await asPid1(["bash", "-c", script], {
    CHAMELEON_LOG_LEVEL: "error",
  }, ready);
  await sleep(200);
  Deno.kill(entrypoint, "SIGTERM");
  await sleep(300);
  ok(
    procText(`/proc/${entrypoint}/status`).includes("State"),
    "still running after SIGTERM",
  );
  Deno.kill(entrypoint, "SIGKILL");
  await child.output();
  await sleep(200);
  const left = (await runProcess(["pgrep", "-f", marker])).stdout.trim();
  equal(left, "", `processes left behind: ${left}`);
});

Deno.test("a child leaving 200 orphans behind leaves no zombie under a supervising PID 1", async () => {
  using tmp = tempDir(0o755);
  const ready = `${tmp.path}/ready`;
  const report = `${tmp.path}/zombies`;
  const script = [
    "touch " + ready,
    "i=0; while [ $i -lt 200 ]; do (sleep 0.05 &); i=$((i+1)); done",
    "sleep 1.5",
    `grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l > ${report}`,
    "exit 7",
  ].join("; ");
  const { child } = await asPid1(["sh", "-c", script], { CHAMELEON_LOG_LEVEL: "error" }, ready);
  const out = await child.output();
  equal(out.code, 7);
  equal(Deno.readTextFileSync(report).trim(), "0");
});

/**
 * Starts a supervised `sh -c script` whose start is marked by `ready`; returns the process and the command's pid.
 *
 * A script that the tests stop with SIGSTOP waits for its children in the background (`sleep
 * 0.05 & wait`): dash starts a foreground command with vfork, and a stop that reaches the child
 * between vfork and exec leaves the shell waiting in vfork (state D), where it never shows as
 * stopped (T) although the group is.
 */
async function supervised(dir: string, script: string, ready: string) {
  const [cmd, ...args] = entrypointArgv();
  const child = new Deno.Command(cmd!, {
    args: [...args, "sh", "-c", script],
    env: {
      ...Deno.env.toObject(),
      CHAMELEON_CONFIG: configFile(dir, "mode: supervise\n"),
      CHAMELEON_LOG_LEVEL: "error",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await waitFor(`${ready} to appear`, () => Deno.statSync(ready), 10_000, 20);
  const command = Number(
    procText(`/proc/${child.pid}/task/${child.pid}/children`).trim().split(/\s+/)[0],
  );
  ok(command > 0, "the command's pid");
  return { child, command };
}

/** Waits for a supervised start to end; checks what its command printed and the exit code. */
async function endsWith(child: Deno.ChildProcess, stdout: string, code: number) {
  const out = await child.output();
  equal(new TextDecoder().decode(out.stdout).trim(), stdout);
  equal(out.code, code);
}

for (const sig of ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const) {
  Deno.test(`${sig} to a supervisor whose command is stopped continues the command, which then acts on it`, async () => {
    using tmp = tempDir(0o755);
    const ready = `${tmp.path}/ready`;
    const name = sig.slice(3);
    const { child, command } = await supervised(
      tmp.path,
      `trap 'echo got-${name}; exit 42' ${name}; touch ${ready}; while :; do sleep 0.05 & wait; done`,
      ready,
    );
    Deno.kill(-command, "SIGSTOP");
    await waitFor(
      "the command to stop",
      () => /State:\s+T/.test(procText(`/proc/${command}/status`)) || undefined,
    );
    Deno.kill(child.pid, sig);
    try {
      // Without the continue, the command stays stopped and the supervisor waits for good.
      await waitFor("the stopped command to go on", () => {
        const status = procText(`/proc/${command}/status`);
        return status === "" || !/State:\s+T/.test(status) ? true : undefined;
      }, 10_000);
    } finally {
      try {
        Deno.kill(-command, "SIGCONT");
      } catch { /* gone already */ }
    }
    await endsWith(child, `got-${name}`, 42);
  });
}

Deno.test("a forwarded signal reaches the whole process group the command started, not only the command", async () => {
  using tmp = tempDir(0o755);
  const ready = `${tmp.path}/ready`;
  // The shell ends on SIGTERM by default; its child in the same group says whether it got it too
  // (and ends on its own after a while when it did not).
  const inner =
    `trap 'echo got-TERM-too; exit 3' TERM; touch ${ready}; for i in $(seq 100); do sleep 0.05; done; echo no-TERM`;
  const { child } = await supervised(tmp.path, `sh -c ${shellQuote(inner)} & wait`, ready);
  Deno.kill(child.pid, "SIGTERM");
  await endsWith(child, "got-TERM-too", 143);
});

Deno.test("a stop request to a supervisor whose command's group is stopped continues the whole group", async () => {
  using tmp = tempDir(0o755);
  const ready = `${tmp.path}/ready`;
  const innerPid = `${tmp.path}/inner`;
  const inner = `echo $$ > ${innerPid}; trap 'echo got-TERM-too; exit 3' TERM; touch ${ready}; ` +
    "for i in $(seq 100); do sleep 0.05 & wait; done; echo no-TERM";
  const { child, command } = await supervised(tmp.path, `sh -c ${shellQuote(inner)} & wait`, ready);
  const pid = Number(procText(innerPid).trim());
  const stopped = (p: number) => /State:\s+T/.test(procText(`/proc/${p}/status`));
  Deno.kill(-command, "SIGSTOP");
  await waitFor("the group to stop", () => stopped(command) && stopped(pid) || undefined);
  Deno.kill(child.pid, "SIGTERM");
  try {
    // Continued, the group member acts on its SIGTERM; left stopped, it never does.
    await waitFor("the stopped group member to go on", () => !stopped(pid) || undefined, 10_000);
  } finally {
    try {
      Deno.kill(-command, "SIGCONT");
    } catch { /* gone already */ }
  }
  await endsWith(child, "got-TERM-too", 143);
});

Deno.test("no signal the supervisor does not forward (SIGALRM, SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, 34 to 64) ends it", async () => {
  using tmp = tempDir(0o755);
  const ready = `${tmp.path}/ready`;
  const { child } = await supervised(
    tmp.path,
    `touch ${ready}; sleep 0.6; echo done; exit 5`,
    ready,
  );
  // Every one of them: SIGALRM, SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
  // and 34 to 64.
  const numbers = [14, 16, 24, 25, 26, 27, 29, 30, ...Array.from({ length: 31 }, (_, i) => 34 + i)];
  const sent = await runProcess([
    "sh",
    "-c",
    `for n in ${numbers.join(" ")}; do kill -$n ${child.pid} || exit 1; done`,
  ]);
  equal(sent.code, 0, sent.stderr);
  await endsWith(child, "done", 5);
});

Deno.test("a supervisor that is not PID 1 becomes the child subreaper of orphans", async () => {
  using tmp = tempDir(0o755);
  const out = `${tmp.path}/ppid`;
  const script =
    `(sh -c 'sleep 0.3; cut -d" " -f4 /proc/$$/stat > ${out}' &); sleep 0.8; echo $PPID`;
  const r = await runInMode(tmp.path, "supervise", ["sh", "-c", script]);
  equal(r.code, 0, r.stderr);
  // The exec stage became the shell, so the shell's parent is the supervisor;
  // the orphan was re-parented to that same supervisor, not to init.
  const supervisor = r.stdout.trim();
  const orphanParent = Deno.readTextFileSync(out).trim();
  ok(orphanParent !== "1", "re-parented to init");
  equal(orphanParent, supervisor);
});

const ID_SCRIPT = [
  "echo uid=$(id -u) gid=$(id -g) groups=$(id -G)",
  "grep -E '^SigIgn' /proc/self/status",
  "if setpriv --reuid=0 true 2>/dev/null; then echo root-regained; else echo root-refused; fi",
  "echo creds=$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI keep=$KEEP_ME",
].join("; ");

for (const mode of ["exec", "supervise"]) {
  Deno.test(`privilege drop (${mode}) to 1000:100 with groups 100 and 27: exact ids, no way back, SIGPIPE default, env kept`, async () => {
    using tmp = tempDir(0o755);
    const env: Record<string, string> = {
      CHAMELEON_USER: "1000:100:100,27",
      CHAMELEON_RUNTIME_DIR: tmp.path,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc",
      KEEP_ME: "yes",
      CHAMELEON_LOG_LEVEL: "error",
    };
    if (mode === "supervise") env["CHAMELEON_CONFIG"] = configFile(tmp.path, "mode: supervise\n");
    const r = await runEntrypoint(["sh", "-c", ID_SCRIPT], { env });
    equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    equal(lines[0], "uid=1000 gid=100 groups=100 27");
    equal(lines[1], "SigIgn:\t0000000000000000");
    equal(lines[2], "root-refused");
    equal(lines[3], "creds=/v2/credentials/abc keep=yes");
  });
}

for (const mode of ["exec", "supervise"]) {
  Deno.test(`privilege drop (${mode}) empties the inheritable and ambient capabilities a runtime gave root`, async () => {
    using tmp = tempDir(0o755);
    const env: Record<string, string> = {
      CHAMELEON_USER: "1000:1000",
      CHAMELEON_RUNTIME_DIR: tmp.path,
      CHAMELEON_LOG_LEVEL: "error",
    };
    if (mode === "supervise") env["CHAMELEON_CONFIG"] = configFile(tmp.path, "mode: supervise\n");
    // As Docker before 20.10.14 started root (CVE-2022-24769): a program whose file capabilities
    // name CAP_DAC_OVERRIDE as inheritable would give it to the command's user.
    const r = await runProcess([
      "setpriv",
      "--inh-caps",
      "+dac_override",
      "--ambient-caps",
      "+dac_override",
      ...entrypointArgv(),
      "sh",
      "-c",
      "id -u; grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status",
    ], { env });
    equal(r.code, 0, r.stderr);
    equal(
      r.stdout,
      "1000\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n" +
        "CapEff:\t0000000000000000\nCapAmb:\t0000000000000000\n",
    );
  });
}

Deno.test("a passwd entry that does not fit on the disk leaves /etc/passwd as it was", async () => {
  using tmp = tempDir(0o755);
  const d = tmp.path;
  const lib = `/usr/lib/${Deno.build.arch}-linux-gnu`;
  const script = [
    "set -e",
    "mount --make-rprivate /",
    // No nss_wrapper (an overlay whiteout hides it), so the start appends to /etc/passwd ...
    `mkdir -p ${d}/up ${d}/work ${d}/fs`,
    `mknod ${d}/up/libnss_wrapper.so c 0 0`,
    `mount -t overlay overlay -o lowerdir=${lib},upperdir=${d}/up,workdir=${d}/work ${lib}`,
    // ... which sits on a full 8 KiB file system: 6 bytes free at its end.
    `mount -t tmpfs -o size=8k tmpfs ${d}/fs`,
    `cp /etc/passwd ${d}/fs/passwd`,
    `n=$(stat -c %s ${d}/fs/passwd); printf '#%*s\\n' $((4090 - n - 2)) '' | tr ' ' x >> ${d}/fs/passwd`,
    `dd if=/dev/zero of=${d}/fs/fill bs=4096 count=10 2>/dev/null || true`,
    `mount --bind ${d}/fs/passwd /etc/passwd`,
    `stat -c %s /etc/passwd > ${d}/before`,
    "set +e",
    entrypointArgv().map(shellQuote).join(" ") + " true",
    "echo $? > " + `${d}/code`,
    `stat -c %s /etc/passwd > ${d}/after`,
  ].join("\n");
  const r = await runProcess(["unshare", "--mount", "sh", "-c", script], {
    env: { HOME: "/", CHAMELEON_RUNTIME_DIR: `${d}/rt`, CHAMELEON_USER: "2000:2000" },
  });
  equal(r.code, 0, r.stderr);
  equal(Deno.readTextFileSync(`${d}/code`).trim(), "78", r.stderr);
  match(r.stderr, /File \/etc\/passwd: write: no space left on device/);
  equal(Deno.readTextFileSync(`${d}/after`), Deno.readTextFileSync(`${d}/before`));
});

Deno.test("a random uid without a passwd entry gets a name through nss_wrapper and a writable HOME", async () => {
  using tmp = tempDir(0o755);
  const r = await runEntrypoint([
    "sh",
    "-c",
    "whoami; id -un; touch $HOME/probe && echo home-writable; echo $HOME",
  ], {
    env: {
      CHAMELEON_USER: "1000650000:0",
      CHAMELEON_RUNTIME_DIR: tmp.path,
      CHAMELEON_LOG_LEVEL: "error",
      HOME: "/",
    },
  });
  equal(r.code, 0, r.stderr);
  deepEqual(r.stdout.trim().split("\n"), [
    "user1000650000",
    "user1000650000",
    "home-writable",
    `${tmp.path}/home/1000650000`,
  ]);
});

Deno.test("a CHAMELEON_RUNTIME_DIR given with a trailing slash out of the user's reach gets no HOME", async () => {
  using tmp = tempDir(0o755);
  // Root's 0700 folder, which uid 2000 cannot enter: named with a trailing slash.
  Deno.mkdirSync(`${tmp.path}/rt`, { mode: 0o700 });
  const r = await runEntrypoint(["--explain", "--format", "json", "true"], {
    env: { CHAMELEON_USER: "2000:2000", CHAMELEON_RUNTIME_DIR: `${tmp.path}/rt/`, HOME: "/" },
  });
  equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout).plan;
  deepEqual([plan.env["HOME"], plan.dirs], ["/", []]);
  match(plan.warnings.join("\n"), /rt is out of reach of uid 2000 \(.*\/rt is 0700, owner 0:0\)/);
});

Deno.test("a root start killed as it sets the runtime dir's mode leaves one the next start's user can enter", async () => {
  using tmp = tempDir(0o755);
  const env = {
    CHAMELEON_USER: "2000:2000",
    CHAMELEON_RUNTIME_DIR: `${tmp.path}/rt`,
    CHAMELEON_LOG_LEVEL: "error",
    HOME: "/",
  };
  // SIGKILL at the first fchmod: the runtime dir was just made, its mode not set yet.
  const killed = await runProcess([
    "sh",
    "-c",
    'umask 022; exec "$@"',
    "sh",
    "strace",
    "-f",
    "-qq",
    "-o",
    "/dev/null",
    "-e",
    "trace=fchmod",
    "-e",
    "inject=fchmod:signal=KILL:when=1",
    ...entrypointArgv(),
    "true",
  ], { env });
  equal(killed.code, 137, killed.stderr);
  // Killed in apply, the runtime dir made: as the umask lets its mode be, not root's alone.
  equal(Deno.statSync(`${tmp.path}/rt`).mode! & 0o777, 0o755);
  // The restarted container's start: the user's HOME and name are in that runtime dir.
  const again = await runEntrypoint(
    ["sh", "-c", "whoami; touch $HOME/probe && echo home-writable"],
    {
      env,
    },
  );
  equal(again.code, 0, again.stderr);
  equal(again.stdout, "user2000\nhome-writable\n", again.stderr);
});

Deno.test("a root start without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH makes the user's new home", async () => {
  using tmp = tempDir(0o755);
  // As a pod whose capabilities were dropped but CHOWN, FOWNER, SETUID and SETGID: root may not
  // read a 0700 folder of uid 2000's once it has handed it over.
  const r = await runProcess([
    "setpriv",
    "--bounding-set",
    "-dac_override,-dac_read_search",
    ...entrypointArgv(),
    "sh",
    "-c",
    'echo "$HOME"; touch "$HOME/probe" && echo home-writable',
  ], {
    env: {
      CHAMELEON_USER: "2000:2000",
      CHAMELEON_RUNTIME_DIR: `${tmp.path}/rt`,
      CHAMELEON_LOG_LEVEL: "error",
      HOME: "/",
    },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, `${tmp.path}/rt/home/2000\nhome-writable\n`);
});

Deno.test("a root start that fails to give the user its new home leaves none of root's there for the next start", async () => {
  using tmp = tempDir(0o755);
  const d = tmp.path;
  Deno.mkdirSync(`${d}/homes`, { mode: 0o755 });
  Deno.writeTextFileSync(
    `${d}/passwd`,
    `${Deno.readTextFileSync("/etc/passwd")}jane:x:2000:2000::${d}/homes/jane:/bin/sh\n`,
  );
  const entrypoint = entrypointArgv().map(shellQuote).join(" ");
  const env = { CHAMELEON_RUNTIME_DIR: `${d}/rt`, CHAMELEON_USER: "2000:2000" };
  // In a user namespace that maps no uid 2000, the chown of jane's new home fails (as a start
  // killed before it would leave it): no folder of root's is where hers goes. A start there is
  // refused before it makes anything (the uid has no mapping), so the folder is made directly.
  const script = `import { makeFolder } from ${JSON.stringify(`${ROOT}/sys/files.ts`)};
try { makeFolder(${JSON.stringify(`${d}/homes/jane`)}, 0o700, { uid: 2000, gid: 2000 }); }
catch (e) { console.log(String(e)); }`;
  const failed = await runProcess([
    "unshare",
    "--user",
    "--map-root-user",
    Deno.execPath(),
    "eval",
    "--quiet",
    script,
  ]);
  equal(failed.code, 0, failed.stderr);
  match(failed.stdout, /chown: invalid argument/);
  deepEqual([...Deno.readDirSync(`${d}/homes`)], []);
  const refused = await runProcess([
    "unshare",
    "--user",
    "--map-root-user",
    "--mount",
    "sh",
    "-c",
    `mount --bind ${d}/passwd /etc/passwd && ${entrypoint} true`,
  ], { env });
  equal(refused.code, 78, refused.stderr);
  match(refused.stderr, /User switch to 2000:2000: uid 2000 has no mapping/);
  deepEqual([...Deno.readDirSync(`${d}/homes`)], []);
  // The next start makes it hers, and it stays HOME.
  const again = await runProcess([
    "unshare",
    "--mount",
    "sh",
    "-c",
    `mount --make-rprivate / && mount --bind ${d}/passwd /etc/passwd && ${entrypoint} sh -c 'echo "$HOME"; touch "$HOME/probe" && echo home-writable'`,
  ], { env: { ...env, CHAMELEON_LOG_LEVEL: "warn" } });
  equal(again.code, 0, again.stderr);
  equal(again.stdout, `${d}/homes/jane\nhome-writable\n`, again.stderr);
  equal(again.stderr, "");
});

/** The words that run `argv` as `uid`:`gid` with no supplementary groups (an OpenShift-like pod). */
function asUid(uid: number, gid: number): string[] {
  return ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups"];
}

/** `dir/rt` as image/setup.sh prepares /run/chameleon: root's, writable by group 0 (OpenShift's gid). */
function groupZeroRuntimeDir(dir: string): string {
  const rt = `${dir}/rt`;
  Deno.mkdirSync(rt);
  Deno.chmodSync(rt, 0o775);
  return rt;
}

Deno.test("after a root start, a random uid of group 0 still makes its home in a runtime dir open to group 0", async () => {
  using tmp = tempDir(0o755);
  const rt = groupZeroRuntimeDir(tmp.path);
  const env = { CHAMELEON_RUNTIME_DIR: rt, CHAMELEON_LOG_LEVEL: "error", HOME: "/" };
  const root = await runEntrypoint(["true"], { env: { ...env, CHAMELEON_USER: "2000:2000" } });
  equal(root.code, 0, root.stderr);
  // The same file system started again as a random uid (a committed image, `docker exec -u`).
  const r = await runProcess([
    ...asUid(1000650000, 0),
    ...entrypointArgv(),
    "sh",
    "-c",
    'whoami; touch "$HOME/probe" && echo home-writable',
  ], { env });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "user1000650000\nhome-writable\n", r.stderr);
});

Deno.test("a start that is not root says so when a folder above the hooks dir hides it, rather than skipping its hooks in silence", async () => {
  using tmp = tempDir(0o755);
  // The image's hooks under a folder only root and its group may search.
  const locked = `${tmp.path}/locked`;
  writeHook(locked, "before-run", "10-hook", "#!/bin/sh\necho hooked\n");
  Deno.chmodSync(locked, 0o750);
  // Normalised by root: loading YAML would need Deno's npm cache, which the uid cannot read.
  const cfg = `${tmp.path}/config.json`;
  const check = await runEntrypoint([
    "--check-config",
    configFile(tmp.path, `hooksDir: ${locked}/hooks\n`),
    "--write-json",
    cfg,
  ]);
  equal(check.code, 0, check.stderr);
  const r = await runProcess([...asUid(1000650000, 1000650000), ...entrypointArgv(), "--explain"], {
    env: { CHAMELEON_CONFIG: cfg, NO_COLOR: "1" },
  });
  equal(r.code, 0, r.stderr);
  match(
    r.stdout,
    /hook folder \S+\/locked\/hooks cannot be reached by uid 1000650000 \(\S+\/locked is 0750, owner 0:0\): any hooks in it are not run/,
  );
});

Deno.test("a start that is not root refuses a home another uid prepared for it in a runtime dir their group shares", async () => {
  using tmp = tempDir(0o755);
  const rt = groupZeroRuntimeDir(tmp.path);
  // Another random uid of group 0 makes uid 1000650000's home first, open to it, with a profile.
  const planted = await runProcess([
    ...asUid(1000650001, 0),
    "sh",
    "-c",
    `umask 0 && mkdir -p ${rt}/home/1000650000 && echo 'echo planted' > ${rt}/home/1000650000/.profile`,
  ]);
  equal(planted.code, 0, planted.stderr);
  const r = await runProcess([
    ...asUid(1000650000, 0),
    ...entrypointArgv(),
    "sh",
    "-c",
    'echo "$HOME"',
  ], { env: { CHAMELEON_RUNTIME_DIR: rt, CHAMELEON_LOG_LEVEL: "error", HOME: "/" } });
  equal(r.code, 78, r.stdout + r.stderr);
  match(r.stderr, /rt\/home belongs to uid 1000650001, which could have prepared what is in it/);
  equal(r.stdout, "");
});

Deno.test("a start as a uid without a passwd entry whose HOME it can write still writes the nss_wrapper files", async () => {
  using tmp = tempDir(0o777);
  const home = `${tmp.path}/home`;
  Deno.mkdirSync(home, { mode: 0o777 });
  Deno.chmodSync(home, 0o777);
  // No folder to make, no step: the plan's only work is the passwd and group files.
  const r = await runProcess([
    ...asUid(1000650000, 0),
    ...entrypointArgv(),
    "sh",
    "-c",
    'whoami; echo "$HOME"',
  ], {
    env: { HOME: home, CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`, CHAMELEON_LOG_LEVEL: "error" },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, `user1000650000\n${home}\n`);
});

/**
 * Runs the entrypoint in a private mount namespace with /opt on a tmpfs, so a
 * SageMaker /opt/ml tree can be laid out without touching the host; the
 * output files are copied to `out`.
 */
async function inSageMaker(
  out: string,
  files: Record<string, string>,
  cmd: string[],
  env: Record<string, string> = {},
  extraSetup: string[] = [],
  stderrClosed = false,
): Promise<{ code: number; stderr: string }> {
  const setup = Object.entries(files).map(([p, c]) => {
    const dir = p.slice(0, p.lastIndexOf("/"));
    Deno.writeTextFileSync(`${out}/in-${p.replaceAll("/", "_")}`, c);
    return `mkdir -p ${dir} && cp ${out}/in-${p.replaceAll("/", "_")} ${p}`;
  });
  const quoted = [...entrypointArgv(), ...cmd].map(shellQuote).join(
    " ",
  );
  const script = [
    "set -e",
    "mount -t tmpfs tmpfs /opt",
    "mkdir -p /opt/ml/output /opt/ml/model /opt/ml/input/data",
    ...setup,
    ...extraSetup,
    "set +e",
    // With stderrClosed, the entrypoint's stderr is a pipe whose reader has gone.
    stderrClosed
      ? `${quoted} 2>&1 >/dev/null | head -c 0; rc=\${PIPESTATUS[0]}`
      : `${quoted}; rc=$?`,
    `for f in failure message; do [ -f /opt/ml/output/$f ] && cp /opt/ml/output/$f ${out}/$f; done`,
    "exit $rc",
  ].join("\n");
  const r = await runProcess(["unshare", "--mount", "bash", "-c", script], {
    env: { CHAMELEON_LOG_LEVEL: "error", CHAMELEON_RUNTIME_DIR: out, ...env },
  });
  return { code: r.code, stderr: r.stderr };
}

const TRAINING = {
  "/opt/ml/input/config/resourceconfig.json": '{"current_host":"algo-1","hosts":["algo-1"]}',
  "/opt/ml/input/config/hyperparameters.json": "{}",
  "/opt/ml/input/config/inputdataconfig.json": "{}",
};

Deno.test("SageMaker training: a failing command gets a failure file with its code and stderr tail", async () => {
  using tmp = tempDir(0o755);
  const r = await inSageMaker(tmp.path, TRAINING, [
    "sh",
    "-c",
    "echo starting; echo 'ValueError: bad learning rate' >&2; exit 3",
  ]);
  equal(r.code, 3, "the program's own exit code, not 1");
  const text = Deno.readTextFileSync(`${tmp.path}/failure`);
  match(text, /^Command sh -c .* exited with code 3\nValueError: bad learning rate$/);
  ok(r.stderr.includes("ValueError: bad learning rate"), "stderr still reaches the log unchanged");
});

Deno.test("SageMaker training: a control character in the failing command's words is escaped in the failure file's first line", async () => {
  using tmp = tempDir(0o755);
  // A line end in a word would start a line that reads as the command's stderr; an escape
  // sequence would reach the console raw. The stderr tail below is the program's, kept as it is.
  const r = await inSageMaker(tmp.path, TRAINING, [
    "sh",
    "-c",
    "echo 'the real reason' >&2; exit 3",
    "\x1b[31mred\nValueError: fake",
  ]);
  equal(r.code, 3, r.stderr);
  equal(
    Deno.readTextFileSync(`${tmp.path}/failure`),
    "Command sh -c echo 'the real reason' >&2; exit 3 \\u001b[31mred\\nValueError: fake " +
      "exited with code 3\nthe real reason",
  );
});

/**
 * A SageMaker training start of `command` whose stderr goes to a fifo that is
 * opened for reading and never read (the supervisor's stderr fills up), then
 * the shell lines `then` ($sup is the entrypoint, $holder the fifo's reader).
 */
async function withStalledStderr(
  out: string,
  command: string,
  holdSeconds: number,
  then: string[],
  level = "error",
) {
  const setup = Object.entries(TRAINING).map(([p, c]) =>
    `mkdir -p ${p.slice(0, p.lastIndexOf("/"))} && printf %s ${shellQuote(c)} > ${p}`
  );
  const entrypoint = [...entrypointArgv(), "sh", "-c", command].map(shellQuote).join(" ");
  const script = [
    "set -e",
    "mount -t tmpfs tmpfs /opt",
    "mkdir -p /opt/ml/output /opt/ml/model /opt/ml/input/data",
    ...setup,
    `mkfifo ${out}/fifo`,
    `sleep ${holdSeconds} < ${out}/fifo & holder=$!`,
    `${entrypoint} 2> ${out}/fifo & sup=$!`,
    ...then,
  ].join("\n");
  return await runProcess(["unshare", "--mount", "bash", "-c", script], {
    env: { CHAMELEON_LOG_LEVEL: level, CHAMELEON_RUNTIME_DIR: out },
  });
}

Deno.test("SageMaker training: a reader that stops reading the supervisor's stderr does not hold up SIGTERM", async () => {
  using tmp = tempDir(0o755);
  const out = tmp.path;
  const command = `trap "touch ${out}/got; exit 7" TERM; touch ${out}/ready; ` +
    "head -c 1000000 /dev/zero >&2 & sleep 10 & wait";
  const r = await withStalledStderr(out, command, 30, [
    `for i in $(seq 200); do [ -f ${out}/ready ] && break; sleep 0.05; done`,
    "sleep 0.5",
    "kill -TERM $sup",
    `for i in $(seq 60); do [ -f ${out}/got ] && break; sleep 0.05; done`,
    `[ -f ${out}/got ] && echo got-term-in-time || echo no-term`,
    "kill $holder; set +e; wait $sup; echo rc=$?",
  ]);
  equal(r.stdout, "got-term-in-time\nrc=7\n", `${r.stdout}${r.stderr}`);
});

/**
 * The steps after a stalled-stderr run's command: wait up to 10 s for the
 * supervisor to end (else say `still-running`), let the reader go, print the
 * supervisor's code, and copy the failure file to `out`.
 */
const untilEnded = (out: string) => [
  `for i in $(seq 200); do kill -0 $sup 2>/dev/null || break; sleep 0.05; done`,
  "kill -0 $sup 2>/dev/null && echo still-running",
  "kill $holder; set +e; wait $sup; echo rc=$?",
  `cp /opt/ml/output/failure ${out}/failure`,
];

/**
 * Runs `command` as a SageMaker training job whose stderr reader stops reading, until it ended:
 * the shell's `rc=N` line (with the output, for a failing assertion) and the failure file.
 */
async function endedWithStalledStderr(command: string, level?: string) {
  using tmp = tempDir(0o755);
  const r = await withStalledStderr(tmp.path, command, 60, untilEnded(tmp.path), level);
  return {
    rc: r.stdout,
    output: `${r.stdout}${r.stderr}`,
    failure: Deno.readTextFileSync(`${tmp.path}/failure`),
  };
}

Deno.test("SageMaker training: a reader that stops reading the supervisor's stderr does not keep it from ending with the command's code", async () => {
  // Pieces of 10,000 bytes: the stalled pipe is left with less room than the next piece, which a
  // blocking write of the whole piece would wait on for good.
  const r = await endedWithStalledStderr(
    "for i in $(seq 12); do dd if=/dev/zero bs=10000 count=1 status=none >&2; sleep 0.02; done; exit 7",
  );
  equal(r.rc, "rc=7\n", r.output);
  match(r.failure, /exited with code 7/);
});

Deno.test("SageMaker training: a reader that stops reading the supervisor's stderr does not keep it from ending at the default log level either", async () => {
  // Whole pages: the stalled pipe ends full to its last byte, and the supervisor's own line once
  // the command ended ("failure reported in ...") finds no room at all.
  const r = await endedWithStalledStderr(
    "dd if=/dev/zero bs=4096 count=30 status=none >&2; exit 7",
    "info",
  );
  equal(r.rc, "rc=7\n", r.output);
  match(r.failure, /exited with code 7/);
});

Deno.test("SageMaker training: with a reader that stops reading the supervisor's stderr, the failure file still ends with the command's last stderr line", async () => {
  // 100,000 bytes fill the stalled pipe and leave the echo waiting; the reason comes after them.
  const r = await endedWithStalledStderr(
    "{ head -c 100000 /dev/zero | tr '\\0' x; echo; echo 'ValueError: the real reason'; } >&2; exit 3",
  );
  equal(r.rc, "rc=3\n", r.output);
  match(r.failure, /exited with code 3\nx+\nValueError: the real reason$/);
});

Deno.test("SageMaker training: a known secret the program prints is not in the failure file", async () => {
  using tmp = tempDir(0o755);
  const r = await inSageMaker(
    tmp.path,
    TRAINING,
    ["sh", "-c", 'echo "auth failed for $HF_TOKEN" >&2; exit 3', "https://u:hf_report-canary@hub"],
    { HF_TOKEN: "hf_report-canary" },
  );
  equal(r.code, 3);
  ok(r.stderr.includes("hf_report-canary"), "the program's own stderr is the program's");
  const failure = Deno.readTextFileSync(`${tmp.path}/failure`);
  match(failure, /exited with code 3\nauth failed for <redacted>$/);
  ok(failure.includes("https://u:<redacted>@hub"), failure);
});

Deno.test("SageMaker training: a known secret that the 4 KiB stderr tail cuts in two is hidden whole, in a command's and a hook's report", async () => {
  using tmp = tempDir(0o755);
  // 300 bytes written 14 times: the last 4096 bytes start 104 bytes into the first copy, and
  // the 13 whole ones hidden leave room in the report for what follows the cut.
  const token = "hf_" + "straddle0123456789abcdef".repeat(12) + "z".repeat(9);
  equal(token.length, 300);
  const print = 'i=0; while [ $i -lt 14 ]; do printf %s "$HF_TOKEN" >&2; i=$((i+1)); done';
  const r = await inSageMaker(tmp.path, TRAINING, ["sh", "-c", `${print}; exit 3`], {
    HF_TOKEN: token,
  });
  equal(r.code, 3, r.stderr);
  const failure = Deno.readTextFileSync(`${tmp.path}/failure`);
  match(failure, /exited with code 3\n(<redacted>)+$/);
  ok(!failure.includes(token.slice(-40)), failure);

  const hooks = `${tmp.path}/hooks`;
  writeHook(tmp.path, "before-run", "10-print", `#!/bin/sh\n${print}\nexit 4\n`);
  Deno.writeTextFileSync(`${tmp.path}/config.yaml`, `hooksDir: ${hooks}\n`);
  Deno.removeSync(`${tmp.path}/failure`);
  const h = await inSageMaker(tmp.path, TRAINING, ["true"], {
    HF_TOKEN: token,
    CHAMELEON_CONFIG: `${tmp.path}/config.yaml`,
  });
  equal(h.code, 4, h.stderr);
  const hookFailure = Deno.readTextFileSync(`${tmp.path}/failure`);
  match(hookFailure, /failed: exited with code 4 \(exit 4\)\n(<redacted>)+$/);
  ok(!hookFailure.includes(token.slice(-40)), hookFailure);
});

Deno.test("SageMaker training: a closed stderr pipe neither crashes the supervisor nor loses the failure file", async () => {
  using tmp = tempDir(0o755);
  const cmd = ["sh", "-c", "sleep 0.5; echo 'late error' >&2; exit 3"];
  const r = await inSageMaker(tmp.path, TRAINING, cmd, {}, [], true);
  equal(r.code, 3, "the program's own exit code, not a crash");
  match(Deno.readTextFileSync(`${tmp.path}/failure`), /exited with code 3\nlate error$/);
});

Deno.test("SageMaker training: no failure file on success, and the program's own file is kept", async () => {
  using tmp = tempDir(0o755);
  equal((await inSageMaker(tmp.path, TRAINING, ["true"])).code, 0);
  equal([...Deno.readDirSync(tmp.path)].some((e) => e.name === "failure"), false);
  const own = await inSageMaker(tmp.path, TRAINING, [
    "sh",
    "-c",
    "echo 'my own reason' > /opt/ml/output/failure; exit 2",
  ]);
  equal(own.code, 2);
  equal(Deno.readTextFileSync(`${tmp.path}/failure`), "my own reason\n");
});

Deno.test("SageMaker training: a failure file an earlier start left is replaced by this start's failure, one the program writes over it is kept", async () => {
  using tmp = tempDir(0o755);
  // A restarted container (docker restart, local mode) keeps /opt/ml/output and its old reason.
  const earlier = ["printf 'an earlier attempt failed' > /opt/ml/output/failure"];
  const failed = await inSageMaker(tmp.path, TRAINING, ["sh", "-c", "exit 4"], {}, earlier);
  equal(failed.code, 4);
  match(Deno.readTextFileSync(`${tmp.path}/failure`), /^Command sh -c exit 4 exited with code 4$/);
  // The entrypoint's own error, before any command or hook ran.
  const planError = await inSageMaker(tmp.path, TRAINING, ["true"], {
    CHAMELEON_USER: "bogus",
  }, earlier);
  equal(planError.code, 78);
  match(Deno.readTextFileSync(`${tmp.path}/failure`), /CHAMELEON_USER "bogus".*\(exit 78\)$/);
  const own = await inSageMaker(
    tmp.path,
    TRAINING,
    [
      "sh",
      "-c",
      "printf 'my own reason' > /opt/ml/output/failure; exit 2",
    ],
    {},
    earlier,
  );
  equal(own.code, 2);
  equal(Deno.readTextFileSync(`${tmp.path}/failure`), "my own reason");
});

Deno.test("SageMaker failure file: at most 1024 bytes, cut on a UTF-8 boundary", async () => {
  using tmp = tempDir(0o755);
  const r = await inSageMaker(tmp.path, TRAINING, [
    "sh",
    "-c",
    "i=0; while [ $i -lt 600 ]; do printf 'é€' >&2; i=$((i+1)); done; exit 1",
  ]);
  equal(r.code, 1);
  const bytes = Deno.readFileSync(`${tmp.path}/failure`);
  ok(bytes.length <= 1024 && bytes.length > 1000, `${bytes.length} bytes`);
  new TextDecoder("utf-8", { fatal: true }).decode(bytes); // throws on a split character
});

Deno.test("SageMaker failure file: it ends with the end of a long stderr, written in many pieces", async () => {
  using tmp = tempDir(0o755);
  const r = await inSageMaker(tmp.path, TRAINING, [
    "sh",
    "-c",
    'i=0; while [ $i -lt 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 1',
  ]);
  equal(r.code, 1);
  const lines = Deno.readTextFileSync(`${tmp.path}/failure`).split("\n");
  match(lines[0]!, /exited with code 1$/);
  // Whole lines after the first one cut, in order, up to the last one written.
  const numbers = lines.slice(2).map((l) => Number(/^line (\d+)$/.exec(l)?.[1]));
  ok(numbers.length > 50, `${numbers.length} whole lines`);
  deepEqual(numbers, numbers.map((_, i) => 2000 - numbers.length + i));
});

Deno.test("SageMaker: entrypoint errors are reported too (training failure, processing message)", async () => {
  using tmp = tempDir(0o755);
  const broken = await inSageMaker(tmp.path, {
    ...TRAINING,
    "/opt/ml/input/config/hyperparameters.json": "{oops",
  }, ["true"]);
  equal(broken.code, 78);
  match(
    Deno.readTextFileSync(`${tmp.path}/failure`),
    /^chameleon: File \/opt\/ml\/input\/config\/hyperparameters\.json: not valid JSON.*\(exit 78\)$/,
  );
  using tmp2 = tempDir(0o755);
  const processing = {
    "/opt/ml/config/processingjobconfig.json": '{"ProcessingJobName":"p1"}',
    "/opt/ml/config/resourceconfig.json": '{"current_host":"algo-1","hosts":["algo-1"]}',
  };
  const missing = await inSageMaker(tmp2.path, processing, ["no-such-program"]);
  equal(missing.code, 127);
  match(
    Deno.readTextFileSync(`${tmp2.path}/message`),
    /^Command no-such-program exited with code 127\nchameleon: error: Command "no-such-program": not found/,
  );
});

Deno.test("SageMaker training: a failing hook's report ends with its last stderr lines, which still reach the log", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  writeHook(
    tmp.path,
    "before-run",
    "10-check",
    "#!/bin/sh\necho 'checking the mounts' >&2\necho 'hook says: /data is missing' >&2\nexit 4\n",
  );
  Deno.writeTextFileSync(`${tmp.path}/config.yaml`, `hooksDir: ${hooks}\n`);
  const r = await inSageMaker(tmp.path, TRAINING, ["true"], {
    CHAMELEON_CONFIG: `${tmp.path}/config.yaml`,
  });
  equal(r.code, 4, r.stderr);
  equal(
    Deno.readTextFileSync(`${tmp.path}/failure`),
    `chameleon: Hook ${hooks}/before-run/10-check failed: exited with code 4 (exit 4)\nchecking the mounts\nhook says: /data is missing`,
  );
  match(r.stderr, /^checking the mounts\nhook says: \/data is missing\n/m);
});

Deno.test("an error quoting a huge value is one short line, in the log and the failure file, its expectation kept", async () => {
  using tmp = tempDir(0o755);
  const r = await inSageMaker(tmp.path, TRAINING, ["true"], {
    CHAMELEON_WORKLOAD: "w".repeat(100_000),
  });
  equal(r.code, 2);
  const shown = `CHAMELEON_WORKLOAD "${"w".repeat(200)}"... (100000 characters): unknown workload`;
  const line = r.stderr.split("\n").find((l) => l.startsWith("chameleon: error: "));
  ok(line?.startsWith(`chameleon: error: ${shown} (expected one of `), r.stderr.slice(0, 400));
  ok(line!.length < 400, `${line!.length} characters`);
  match(
    Deno.readTextFileSync(`${tmp.path}/failure`),
    new RegExp(`^chameleon: ${shown.replace(/[.()]/g, "\\$&")} .*\\(exit 2\\)$`),
  );
});

Deno.test("an error naming a huge unquoted path is one short line, in the log and the failure file, its end kept", async () => {
  using tmp = tempDir(0o755);
  const config = `${tmp.path}/${"d/".repeat(2000)}c.yaml`;
  const r = await inSageMaker(tmp.path, TRAINING, ["true"], { CHAMELEON_CONFIG: config });
  equal(r.code, 78, r.stderr.slice(0, 400));
  const shown = `Config ${config.slice(0, 200)} ... (${config.length} characters): no such file`;
  const line = r.stderr.split("\n").find((l) => l.startsWith("chameleon: error: "));
  equal(line, `chameleon: error: ${shown}`);
  equal(Deno.readTextFileSync(`${tmp.path}/failure`), `chameleon: ${shown} (exit 78)`);
});

Deno.test("SageMaker failure file: a control character in an error's unquoted path is escaped as in the log", async () => {
  using tmp = tempDir(0o755);
  // An escape sequence and a bell in a path the message names unquoted.
  const config = `${tmp.path}/\x1b[31mred\x07/c.yaml`;
  const r = await inSageMaker(tmp.path, TRAINING, ["true"], { CHAMELEON_CONFIG: config });
  equal(r.code, 78, r.stderr);
  const shown = `Config ${tmp.path}/\\u001b[31mred\\u0007/c.yaml: no such file`;
  const line = r.stderr.split("\n").find((l) => l.startsWith("chameleon: error: "));
  equal(line, `chameleon: error: ${shown}`);
  equal(Deno.readTextFileSync(`${tmp.path}/failure`), `chameleon: ${shown} (exit 78)`);
  // A value the message quotes was escaped by JSON.stringify already: escaped once, not twice.
  using tmp2 = tempDir(0o755);
  const quoted = await inSageMaker(tmp2.path, TRAINING, ["true"], {
    CHAMELEON_WORKLOAD: "\x1b[2J",
  });
  equal(quoted.code, 2, quoted.stderr);
  match(
    Deno.readTextFileSync(`${tmp2.path}/failure`),
    /^chameleon: CHAMELEON_WORKLOAD "\\u001b\[2J": unknown workload .*\(exit 2\)$/,
  );
});

Deno.test("SageMaker: a usage error (a bad forcing value, a misspelt option) is reported too", async () => {
  using tmp = tempDir(0o755);
  const forced = await inSageMaker(tmp.path, TRAINING, ["true"], { CHAMELEON_WORKLOAD: "bogus" });
  equal(forced.code, 2);
  match(
    Deno.readTextFileSync(`${tmp.path}/failure`),
    /^chameleon: CHAMELEON_WORKLOAD "bogus": unknown workload .*\(exit 2\)$/,
  );
  using tmp2 = tempDir(0o755);
  const typo = await inSageMaker(tmp2.path, TRAINING, ["--contex", "local", "true"]);
  equal(typo.code, 2);
  match(Deno.readTextFileSync(`${tmp2.path}/failure`), /^chameleon: .*--contex.*\(exit 2\)$/);
  // The command's own --format (after the command's first words) is no request to explain.
  using tmp5 = tempDir(0o755);
  const own = await inSageMaker(tmp5.path, TRAINING, [
    "--contxt",
    "local",
    "python3",
    "t.py",
    "--format",
    "csv",
  ]);
  equal(own.code, 2);
  match(Deno.readTextFileSync(`${tmp5.path}/failure`), /^chameleon: .*--contxt.*\(exit 2\)$/);
  // A misspelt CHAMELEON_DISABLE does not bypass the start: the job's error.
  using tmp4 = tempDir(0o755);
  const disable = await inSageMaker(tmp4.path, TRAINING, ["true"], { CHAMELEON_DISABLE: "maybe" });
  equal(disable.code, 2);
  match(
    Deno.readTextFileSync(`${tmp4.path}/failure`),
    /^chameleon: .*CHAMELEON_DISABLE "maybe".*\(exit 2\)$/,
  );
  // An explaining start (even misspelt), a bypassed or a nested one is not the job's entrypoint.
  const notTheJob: [string[], Record<string, string>][] = [
    [["--explain", "--contex", "local"], {}],
    [["--explian"], {}],
    [["--expln"], {}], // two edits from --explain
    [["--contex", "local", "--format=json"], {}],
    [["--contex", "local", "true"], { CHAMELEON_STARTED: "1" }],
    [["--contex", "local", "true"], { CHAMELEON_DISABLE: "1" }],
  ];
  for (const [args, env] of notTheJob) {
    using tmp3 = tempDir(0o755);
    const r = await inSageMaker(tmp3.path, TRAINING, args, env);
    equal(r.code, 2, `${args} ${JSON.stringify(env)}: ${r.stderr}`);
    throws(() => Deno.statSync(`${tmp3.path}/failure`), Deno.errors.NotFound);
  }
});

Deno.test("an error before a plan hides the environment's secret values in the log and the failure file", async () => {
  const secret = "hunter2hunter2";
  const shown = (r: { stderr: string }) => r.stderr.includes(secret);
  // A bypassed start's failed exec quotes the command word.
  const bypassed = await runEntrypoint([`/nowhere/${secret}`], {
    env: { CHAMELEON_DISABLE: "1", MY_TOKEN: secret },
  });
  deepEqual([bypassed.code, shown(bypassed)], [127, false], bypassed.stderr);
  match(bypassed.stderr, /nowhere\/<redacted>/);
  // A plan error quotes a path; a usage error a forcing value.
  const secretFile = {
    CHAMELEON_SECRET_FILES: "DB_PASSWORD",
    DB_PASSWORD_FILE: `/nowhere/${secret}`,
  };
  for (const args of [["true"], ["--explain"]]) {
    const r = await runEntrypoint(args, { env: { ...secretFile, MY_TOKEN: secret } });
    deepEqual([r.code, shown(r)], [78, false], r.stderr);
  }
  const usage = await runEntrypoint(["--context", secret], { env: { MY_TOKEN: secret } });
  deepEqual([usage.code, shown(usage)], [2, false], usage.stderr);
  // SageMaker's failure file, for both.
  for (
    const [env, args, code] of [
      [{ ...secretFile, MY_TOKEN: secret }, ["true"], 78],
      [{ MY_TOKEN: secret, CHAMELEON_WORKLOAD: secret }, ["true"], 2],
    ] as const
  ) {
    using tmp = tempDir(0o755);
    const r = await inSageMaker(tmp.path, TRAINING, [...args], env);
    equal(r.code, code, r.stderr);
    const failure = Deno.readTextFileSync(`${tmp.path}/failure`);
    deepEqual([failure.includes(secret), shown(r)], [false, false], failure);
    match(failure, /<redacted>/);
  }
});

Deno.test("SageMaker: an explaining start (--explain, CHAMELEON_EXPLAIN=1) reports neither a plan error nor a usage error", async () => {
  const broken = { ...TRAINING, "/opt/ml/input/config/hyperparameters.json": "{oops" };
  const cases: [Record<string, string>, string[], Record<string, string>, number][] = [
    [broken, ["--explain"], {}, 78],
    [broken, [], { CHAMELEON_EXPLAIN: "1" }, 78],
    [TRAINING, ["--contex", "local", "true"], { CHAMELEON_EXPLAIN: "1" }, 2],
  ];
  for (const [files, args, env, code] of cases) {
    using tmp = tempDir(0o755);
    const r = await inSageMaker(tmp.path, files, args, env);
    equal(r.code, code, `${args} ${JSON.stringify(env)}: ${r.stderr}`);
    throws(() => Deno.statSync(`${tmp.path}/failure`), Deno.errors.NotFound);
  }
});

Deno.test("SageMaker: a broken config is the job's failure, unless --context forces another platform", async () => {
  for (const [args, reported] of [[[], true], [["--context", "local"], false]] as const) {
    using tmp = tempDir(0o755);
    const cfg = configFile(tmp.path, "mode: [exec\n");
    const r = await inSageMaker(tmp.path, TRAINING, [...args, "true"], { CHAMELEON_CONFIG: cfg });
    equal(r.code, 78, r.stderr);
    const failure = `${tmp.path}/failure`;
    if (reported) match(Deno.readTextFileSync(failure), /^chameleon: .*config\.yaml.*\(exit 78\)$/);
    else throws(() => Deno.statSync(failure), Deno.errors.NotFound);
  }
});

Deno.test("SageMaker: after --, the command's own --format does not hide a usage error from the failure file", async () => {
  using tmp = tempDir(0o755);
  const r = await inSageMaker(tmp.path, TRAINING, [
    "--contex",
    "local",
    "--",
    "python3",
    "--format",
    "csv",
  ]);
  equal(r.code, 2, r.stderr);
  match(Deno.readTextFileSync(`${tmp.path}/failure`), /^chameleon: .*--contex.*\(exit 2\)$/);
});

Deno.test("supervise mode: the exec stage's own error line hides a secret in PATH or in the working folder", async () => {
  using tmp = tempDir(0o755);
  const secret = "tok-STAGELEAK-789";
  const cases: [string, string[], Record<string, string>, number, RegExp][] = [
    [
      "supervise",
      ["no-such-program"],
      { PATH: `/usr/bin:/bin:/opt/${secret}/bin` },
      127,
      /not found \(searched PATH=<redacted>\)/,
    ],
    [
      `supervise\ncommands:\n  unknown: {argv: ["true"], cwd: /nonexistent/${secret}}`,
      [],
      {},
      78,
      /Working directory "<redacted>": no such file/,
    ],
  ];
  for (const [mode, args, env, code, line] of cases) {
    const r = await runEntrypoint(args, {
      env: {
        CHAMELEON_CONFIG: configFile(tmp.path, `mode: ${mode}\n`),
        CHAMELEON_LOG_LEVEL: "error",
        MY_TOKEN: secret,
        ...env,
      },
    });
    equal(r.code, code, r.stderr);
    match(r.stderr, line);
    equal(r.stderr.includes(secret), false, r.stderr);
  }
});

Deno.test("supervise mode: the exec stage's own error line hides a secret in the command's name", async () => {
  using tmp = tempDir(0o755);
  const secret = "tok-LEAKME-123";
  const r = await inSageMaker(tmp.path, TRAINING, [`/nonexist/${secret}`], { MY_TOKEN: secret });
  equal(r.code, 127);
  // The name holds a secret: hidden whole (the stage is told what to hide, not the secret).
  match(r.stderr, /error: Command "<redacted>": not found/);
  // Secrets of any size in PATH: the stage's settings stay small, and the command runs.
  using tmp2 = tempDir(0o755);
  const big = "X".repeat(70_000);
  const large = await inSageMaker(tmp2.path, TRAINING, ["true"], {
    PATH: `/usr/bin:/bin:/${big}`,
    A_TOKEN: big,
    B_TOKEN: big.slice(1),
  });
  equal(large.code, 0, large.stderr.slice(0, 500));
  equal(r.stderr.includes(secret), false, r.stderr);
  equal(Deno.readTextFileSync(`${tmp.path}/failure`).includes(secret), false);
});

Deno.test("exec mode on SageMaker: the failure file hides the plan's secrets and is written after a user switch too", async () => {
  const secret = "tok-EXECLEAK-456";
  for (const user of [{}, { CHAMELEON_USER: "1000:100" }]) {
    using tmp = tempDir(0o755);
    const cfg = configFile(tmp.path, "mode: exec\n");
    const r = await inSageMaker(tmp.path, TRAINING, [`/nonexist/${secret}`], {
      CHAMELEON_CONFIG: cfg,
      MY_TOKEN: secret,
      ...user,
    });
    equal(r.code, 127, r.stderr);
    const failure = Deno.readTextFileSync(`${tmp.path}/failure`);
    match(failure, /^chameleon: Command "\/nonexist\/<redacted>": not found \(exit 127\)/);
    equal(r.stderr.includes(secret), false, r.stderr);
  }
  // A working folder the final user cannot enter: reported as root, before the switch.
  using tmp = tempDir(0o755);
  const cfg = configFile(
    tmp.path,
    'mode: exec\ncommands:\n  training: {argv: ["true"], cwd: /opt/ml/private}\n',
  );
  const r = await inSageMaker(tmp.path, TRAINING, ["train"], {
    CHAMELEON_CONFIG: cfg,
    CHAMELEON_USER: "1000:100",
  }, ["mkdir -m 0700 /opt/ml/private"]);
  equal(r.code, 78, r.stderr);
  match(
    Deno.readTextFileSync(`${tmp.path}/failure`),
    /Working directory "\/opt\/ml\/private": permission denied/,
  );
});

Deno.test("a script whose #! interpreter is missing (Windows line ends) is 127 naming it; exec mode on SageMaker reports it after a user switch too", async () => {
  using tmp = tempDir(0o755);
  const script = `${tmp.path}/train.sh`;
  Deno.writeTextFileSync(script, "#!/bin/sh\r\necho trained\r\n");
  Deno.chmodSync(script, 0o755);
  const named =
    /Command ".*\/train\.sh" \(.*\/train\.sh\): no such file or directory: its #! line names the interpreter "\/bin\/sh\\r", which does not exist \(Windows line ends\?\)/;
  for (const mode of ["exec", "supervise"] as const) {
    const r = await runInMode(tmp.path, mode, [script]);
    equal(r.code, 127, `${mode}: ${r.stderr}`);
    match(r.stderr, named, mode);
  }
  // The final user's execve fails after root has gone: root must have found it before.
  const cfg = configFile(tmp.path, "mode: exec\n");
  const r = await inSageMaker(tmp.path, TRAINING, [script], {
    CHAMELEON_CONFIG: cfg,
    CHAMELEON_USER: "1000:100",
  });
  equal(r.code, 127, r.stderr);
  match(Deno.readTextFileSync(`${tmp.path}/failure`), named);
});

Deno.test("a command that is a FIFO is not executable (126), never opened to wait for its #! line", async () => {
  using tmp = tempDir(0o755);
  const fifo = `${tmp.path}/train`;
  equal((await runProcess(["mkfifo", "-m", "0755", fifo])).code, 0);
  for (const mode of ["exec", "supervise"] as const) {
    // A writer, so that a start that waits to read the pipe ends: it would find that #! line.
    const writer = new Deno.Command("sh", {
      args: ["-c", 'printf "#!/no/such/interpreter\\n" > "$1"', "sh", fifo],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const r = await runInMode(tmp.path, mode, [fifo]);
      equal(r.code, 126, `${mode}: ${r.stderr}`);
      match(r.stderr, /Command ".*\/train" \(.*\/train\): permission denied/, mode);
    } finally {
      // Still waiting for a reader: the start did not open the pipe to read it.
      try {
        writer.kill();
      } catch { /* it ended */ }
      await writer.status;
    }
  }
});

Deno.test("exec mode on SageMaker: the check before the switch grants the user's supplementary groups, and root's own groups are not the user's", async () => {
  const cfg = (dir: string) =>
    configFile(
      dir,
      'mode: exec\ncommands:\n  training: {argv: [sh, -c, "id -G"], cwd: /opt/ml/team}\n',
    );
  // A folder only group 27 may enter: the user's supplementary group.
  using tmp = tempDir(0o755);
  const r = await inSageMaker(tmp.path, TRAINING, ["train"], {
    CHAMELEON_CONFIG: cfg(tmp.path),
    CHAMELEON_USER: "1000:100:100,27",
  }, ["mkdir -m 0770 /opt/ml/team", "chgrp 27 /opt/ml/team"]);
  equal(r.code, 0, r.stderr);
  throws(() => Deno.statSync(`${tmp.path}/failure`), Deno.errors.NotFound);
  // A folder only root's group 0 may enter: the check is not made with root's groups.
  using tmp2 = tempDir(0o755);
  const root = await inSageMaker(tmp2.path, TRAINING, ["train"], {
    CHAMELEON_CONFIG: cfg(tmp2.path),
    CHAMELEON_USER: "1000:100:100,27",
  }, ["mkdir -m 0770 /opt/ml/team", "chgrp 0 /opt/ml/team"]);
  equal(root.code, 78, root.stderr);
  match(
    Deno.readTextFileSync(`${tmp2.path}/failure`),
    /Working directory "\/opt\/ml\/team": permission denied/,
  );
});

Deno.test("hooks run in lexical order with the plan's variables; a failing hook stops the start with its code", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  Deno.mkdirSync(`${hooks}/before-apply`, { recursive: true });
  Deno.mkdirSync(`${hooks}/before-run`, { recursive: true });
  const log = `${tmp.path}/order`;
  const hook = (phase: string, name: string, body: string, mode = 0o755) => {
    Deno.writeTextFileSync(`${hooks}/${phase}/${name}`, `#!/bin/sh\n${body}\n`);
    Deno.chmodSync(`${hooks}/${phase}/${name}`, mode);
  };
  hook("before-apply", "20-second", `echo apply-20 >> ${log}`);
  hook("before-apply", "10-first", `echo apply-10 ctx=$CHAMELEON_CONTEXT >> ${log}`);
  hook("before-run", "10-run", `echo run-10 >> ${log}`);
  hook("before-run", "99-not-executable", `echo never >> ${log}`, 0o644);
  const cfg = configFile(tmp.path, `hooksDir: ${hooks}\n`);
  const r = await runEntrypoint(["sh", "-c", `echo command >> ${log}`], {
    env: { CHAMELEON_CONFIG: cfg, CHAMELEON_LOG_LEVEL: "error" },
  });
  equal(r.code, 0, r.stderr);
  deepEqual(Deno.readTextFileSync(log).trim().split("\n"), [
    "apply-10 ctx=local-unknown",
    "apply-20",
    "run-10",
    "command",
  ]);
  hook("before-run", "05-fails", "exit 9");
  Deno.removeSync(log);
  const failed = await runEntrypoint(["sh", "-c", `echo command >> ${log}`], {
    env: { CHAMELEON_CONFIG: cfg },
  });
  equal(failed.code, 9);
  match(failed.stderr, /Hook .*before-run\/05-fails failed: exited with code 9/);
  equal(Deno.readTextFileSync(log).includes("command"), false, "the command did not run");
  // A hook that cannot start ends the start as a command that cannot: 127 for a missing interpreter.
  Deno.writeTextFileSync(`${hooks}/before-run/01-no-interpreter`, "#!/nonexistent/sh\n");
  Deno.chmodSync(`${hooks}/before-run/01-no-interpreter`, 0o755);
  const unstartable = await runEntrypoint(["sh", "-c", `echo command >> ${log}`], {
    env: { CHAMELEON_CONFIG: cfg },
  });
  equal(unstartable.code, 127, unstartable.stderr);
  match(unstartable.stderr, /Hook .*before-run\/01-no-interpreter could not start: /);
  equal(Deno.readTextFileSync(log).includes("command"), false, "the command did not run");
});

Deno.test("a hook whose #! interpreter is missing (Windows line ends) is 127 naming the interpreter", async () => {
  using tmp = tempDir(0o755);
  writeHook(tmp.path, "before-run", "10-crlf", "#!/bin/sh\r\necho hooked\r\n");
  const r = await runEntrypoint(["echo", "command-ran"], {
    env: { CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${tmp.path}/hooks\n`) },
  });
  equal(r.code, 127, r.stderr);
  match(
    r.stderr,
    /Hook .*before-run\/10-crlf could not start: no such file or directory: its #! line names the interpreter "\/bin\/sh\\r", which does not exist \(Windows line ends\?\)/,
  );
  equal(r.stdout, "", "the command did not run");
});

Deno.test("a hook that is gone when its turn comes (an earlier hook removed it) is 127 naming it, not an internal error", async () => {
  using tmp = tempDir(0o755);
  const gone = writeHook(tmp.path, "before-run", "20-gone", "#!/bin/sh\necho gone-ran\n");
  writeHook(tmp.path, "before-apply", "10-remove", `#!/bin/sh\nrm ${gone}\n`);
  const r = await runEntrypoint(["echo", "command-ran"], {
    env: { CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${tmp.path}/hooks\n`) },
  });
  equal(r.code, 127, r.stderr);
  match(r.stderr, /Hook .*before-run\/20-gone could not start: no such file or directory/);
  equal(r.stdout, "", "the command did not run");
});

Deno.test("a SIGTERM during a hook reaches the hook, and the start ends 143 once it is gone; a killed hook is named so", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  Deno.mkdirSync(`${hooks}/before-run`, { recursive: true });
  const ready = `${tmp.path}/ready`;
  const hook = `${hooks}/before-run/10-slow`;
  // The hook says when it runs and which pid it has, then waits (exec: sleep gets the signal).
  Deno.writeTextFileSync(
    hook,
    `#!/bin/sh\necho $$ > ${ready}.tmp && mv ${ready}.tmp ${ready}\nexec sleep 30\n`,
  );
  Deno.chmodSync(hook, 0o755);
  const cfg = configFile(tmp.path, `hooksDir: ${hooks}\n`);
  const [cmd, ...rest] = entrypointArgv();
  const child = new Deno.Command(cmd!, {
    args: [...rest, "true"],
    env: { CHAMELEON_CONFIG: cfg, CHAMELEON_LOG_LEVEL: "error" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let pid = "";
  for (let i = 0; i < 300 && pid === ""; i++) {
    await new Promise((r) => setTimeout(r, 50));
    pid = (() => {
      try {
        return Deno.readTextFileSync(ready).trim();
      } catch {
        return "";
      }
    })();
  }
  ok(pid !== "", "the hook ran");
  child.kill("SIGTERM");
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  equal(status.code, 143, stderr);
  equal(readBounded(`/proc/${pid}/stat`, 4096).kind, "missing", "no hook outlives the start");

  Deno.writeTextFileSync(hook, "#!/bin/sh\nkill -9 $$\n");
  const killed = await runEntrypoint(["true"], { env: { CHAMELEON_CONFIG: cfg } });
  equal(killed.code, 137);
  match(killed.stderr, /Hook .*10-slow failed: was killed by signal SIGKILL \(9\)/);
});

Deno.test("two signals during a hook both reach it, and the start ends with 128 + the first once it is gone", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  Deno.mkdirSync(`${hooks}/before-run`, { recursive: true });
  const log = `${tmp.path}/log`;
  const hook = `${hooks}/before-run/10-traps`;
  Deno.writeTextFileSync(
    hook,
    `#!/bin/sh\ntrap 'echo TERM >> ${log}' TERM\ntrap 'echo INT >> ${log}; exit 0' INT\n` +
      `echo ready >> ${log}\nwhile :; do sleep 0.05; done\n`,
  );
  Deno.chmodSync(hook, 0o755);
  const cfg = configFile(tmp.path, `hooksDir: ${hooks}\n`);
  const [cmd, ...rest] = entrypointArgv();
  const child = new Deno.Command(cmd!, {
    args: [...rest, "sh", "-c", "echo the command ran"],
    env: { CHAMELEON_CONFIG: cfg, CHAMELEON_LOG_LEVEL: "error" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logged = (line: string) => () => procText(log).includes(`${line}\n`) || undefined;
  await waitFor("the hook to run", logged("ready"));
  child.kill("SIGTERM");
  await waitFor("the hook to get SIGTERM", logged("TERM"));
  child.kill("SIGINT");
  const out = await child.output();
  equal(procText(log), "ready\nTERM\nINT\n");
  equal(new TextDecoder().decode(out.stdout), "", "the command never runs");
  equal(out.code, 143, new TextDecoder().decode(out.stderr));
});

Deno.test("a SIGTERM during a hook reaches what the hook started too", async () => {
  using tmp = tempDir(0o755);
  const ready = `${tmp.path}/ready`;
  // The shell waits for its child; SIGTERM ends the shell, and the child must not run on.
  writeHook(
    tmp.path,
    "before-run",
    "10-parent",
    `#!/bin/sh\nsleep 30 &\necho $! > ${ready}.tmp && mv ${ready}.tmp ${ready}\nwait\n`,
  );
  const cfg = configFile(tmp.path, `hooksDir: ${tmp.path}/hooks\n`);
  const [cmd, ...rest] = entrypointArgv();
  const child = new Deno.Command(cmd!, {
    args: [...rest, "true"],
    env: { CHAMELEON_CONFIG: cfg, CHAMELEON_LOG_LEVEL: "error" },
    // Not piped: the hook's child would hold a pipe open, and waiting for its end would wait for it.
    stdout: "null",
    stderr: "null",
  }).spawn();
  const sleeper = await waitFor("the hook's child", () => {
    const text = Deno.readTextFileSync(ready).trim();
    return text === "" ? undefined : text;
  });
  child.kill("SIGTERM");
  equal((await child.status).code, 143);
  // Gone, or a zombie until whoever inherited it reaps it: not sleeping on.
  await waitFor("the hook's child to end", () => {
    const stat = readBounded(`/proc/${sleeper}/stat`, 4096);
    return stat.kind !== "ok" || / Z /.test(stat.text) ? true : undefined;
  }, 5_000);
});

/** Writes an executable hook `<dir>/hooks/<phase>/<name>`; returns its path. */
function writeHook(dir: string, phase: string, name: string, script: string): string {
  Deno.mkdirSync(`${dir}/hooks/${phase}`, { recursive: true });
  const hook = `${dir}/hooks/${phase}/${name}`;
  Deno.writeTextFileSync(hook, script);
  Deno.chmodSync(hook, 0o755);
  return hook;
}

Deno.test("as PID 1, an orphan a hook left behind does not stand in for the next hook when it ends", async () => {
  using tmp = tempDir(0o755);
  // The orphan is re-parented to PID 1, the start, and ends while the next hook runs.
  writeHook(tmp.path, "before-run", "10-orphan", "#!/bin/sh\n(sleep 0.3; exit 5) &\nexit 0\n");
  writeHook(tmp.path, "before-run", "20-slow", "#!/bin/sh\nsleep 1\necho hook-20-done\n");
  const r = await runProcess(
    ["unshare", "--pid", "--fork", "--mount-proc", ...entrypointArgv(), "echo", "command-ran"],
    {
      env: {
        CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${tmp.path}/hooks\n`),
        CHAMELEON_LOG_LEVEL: "error",
      },
    },
  );
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "hook-20-done\ncommand-ran\n");
});

Deno.test("hooks start with every signal at its default and none blocked, like the command", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  // Deno ignores SIGPIPE (and glibc's 32 and 33): a hook must not inherit that.
  writeHook(
    tmp.path,
    "before-run",
    "10-signals",
    "#!/bin/sh\ngrep -E '^Sig(Ign|Blk)' /proc/self/status\n",
  );
  const r = await runEntrypoint(["true"], {
    env: {
      CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${hooks}\n`),
      CHAMELEON_LOG_LEVEL: "error",
    },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
});

Deno.test("a root start does not run a hook that others could have changed", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  const hook = writeHook(tmp.path, "before-run", "10-x", "#!/bin/sh\necho hook ran\n");
  const config = configFile(tmp.path, `hooksDir: ${hooks}\n`);
  const rt = `${tmp.path}/rt`;
  const run = () =>
    runEntrypoint(["true"], {
      env: { CHAMELEON_CONFIG: config, CHAMELEON_LOG_LEVEL: "error", CHAMELEON_RUNTIME_DIR: rt },
    });
  equal((await run()).stdout, "hook ran\n");
  // No runtime dir when nothing goes in it.
  throws(() => Deno.statSync(rt), Deno.errors.NotFound);
  // The hooks folder, the phase's folder or the hook, writable by its group or by others.
  const open = [[hooks, 0o777], [`${hooks}/before-run`, 0o777], [hook, 0o775], [hook, 0o757]];
  for (const [path, mode] of open as [string, number][]) {
    Deno.chmodSync(path, mode);
    const r = await run();
    equal(r.code, 78, r.stderr);
    match(r.stderr, /a root start does not run it/);
    equal(r.stdout, "");
    Deno.chmodSync(path, 0o755);
  }
  Deno.chownSync(hook, 2000, 2000);
  const owned = await run();
  equal(owned.code, 78, owned.stderr);
  match(owned.stderr, /belongs to uid 2000/);
  // A link of root's to that file: what it leads to counts, not only the link.
  Deno.renameSync(hook, `${tmp.path}/theirs`);
  Deno.symlinkSync(`${tmp.path}/theirs`, hook);
  const linked = await run();
  equal(linked.code, 78, linked.stderr);
  match(linked.stderr, /10-x belongs to uid 2000/);
  equal(linked.stdout, "");
});

Deno.test("a root start refuses a hook others could have changed before any hook runs or anything is written", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  writeHook(tmp.path, "before-apply", "10-first", "#!/bin/sh\necho before-apply ran\n");
  const open = writeHook(tmp.path, "before-run", "10-open", "#!/bin/sh\necho before-run ran\n");
  Deno.chmodSync(open, 0o775);
  const rt = `${tmp.path}/rt`;
  const r = await runEntrypoint(["true"], {
    env: {
      CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${hooks}\n`),
      CHAMELEON_LOG_LEVEL: "error",
      CHAMELEON_RUNTIME_DIR: rt,
      // A uid without a writable home: the plan makes one in the runtime dir.
      CHAMELEON_USER: "54321:54321",
    },
  });
  equal(r.code, 78, r.stderr);
  match(
    r.stderr,
    /10-open is writable by its group or others \(775\): a root start does not run it/,
  );
  equal(r.stdout, "");
  throws(() => Deno.statSync(rt), Deno.errors.NotFound);
});

Deno.test("root's hooks keep root's HOME and caches when the command gets another user's", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  for (const phase of ["before-apply", "before-run"]) {
    writeHook(
      tmp.path,
      phase,
      "10-home",
      `#!/bin/sh\necho "${phase} HOME=$HOME XDG=\${XDG_CACHE_HOME-unset} $USER $LOGNAME"\n`,
    );
  }
  const r = await runEntrypoint(["sh", "-c", 'echo "command HOME=$HOME"'], {
    env: {
      CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${hooks}\n`),
      CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`,
      CHAMELEON_USER: "54321:54321",
      CHAMELEON_LOG_LEVEL: "error",
      HOME: "/root",
      USER: "root",
      LOGNAME: "root",
    },
  });
  equal(r.code, 0, r.stderr);
  // A folder the user can write (and may have filled in an earlier run) is never a root hook's HOME;
  // nor is the user's name a root hook's USER or LOGNAME.
  const home = `${tmp.path}/run/home/54321`;
  const xdg = Deno.env.get("XDG_CACHE_HOME") ?? "unset";
  equal(
    r.stdout,
    `before-apply HOME=/root XDG=${xdg} root root\nbefore-run HOME=/root XDG=${xdg} root root\n` +
      `command HOME=${home}\n`,
  );
});

Deno.test("before-apply hooks get HOME and the caches as found when the plan makes the home they move to", async () => {
  using tmp = tempDir(0o755);
  for (const phase of ["before-apply", "before-run"]) {
    writeHook(
      tmp.path,
      phase,
      "10-home",
      `#!/bin/sh\necho "${phase} HOME=$HOME XDG=\${XDG_CACHE_HOME-unset} made=$(test -d "$HOME" && echo yes)"\n`,
    );
  }
  const run = `${tmp.path}/run`;
  Deno.mkdirSync(run);
  Deno.chownSync(run, 4242, 4242);
  // Normalised by root: loading YAML would need Deno's npm cache, which uid 4242 cannot read.
  const config = `${tmp.path}/config.json`;
  const check = await runEntrypoint([
    "--check-config",
    configFile(tmp.path, `hooksDir: ${tmp.path}/hooks\n`),
    "--write-json",
    config,
  ]);
  equal(check.code, 0, check.stderr);
  // An OpenShift-like uid without a passwd entry, whose HOME (/root) it cannot write: the plan
  // moves HOME and the caches to the per-uid home, which apply makes after the before-apply hooks.
  const r = await runProcess(
    [
      ...asUid(4242, 4242),
      ...entrypointArgv(),
      "sh",
      "-c",
      'echo "command HOME=$HOME XDG=$XDG_CACHE_HOME"',
    ],
    {
      env: {
        CHAMELEON_CONFIG: config,
        CHAMELEON_RUNTIME_DIR: run,
        CHAMELEON_LOG_LEVEL: "error",
        HOME: "/root",
        XDG_CACHE_HOME: "",
      },
    },
  );
  equal(r.code, 0, r.stderr);
  const home = `${run}/home/4242`;
  equal(
    r.stdout,
    "before-apply HOME=/root XDG= made=yes\n" +
      `before-run HOME=${home} XDG=${home}/.cache made=yes\n` +
      `command HOME=${home} XDG=${home}/.cache\n`,
  );
});

Deno.test("before-apply hooks run without the nss_wrapper whose files apply writes after them; before-run hooks with it", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  for (const phase of ["before-apply", "before-run"]) {
    Deno.mkdirSync(`${hooks}/${phase}`, { recursive: true });
    const hook = `${hooks}/${phase}/10-names`;
    // The plan's nss_wrapper variables, set or not (none before apply: empty ones neither).
    const vars = "${NSS_WRAPPER_PASSWD+passwd}${NSS_WRAPPER_GROUP+group}${LD_PRELOAD+preload}";
    Deno.writeTextFileSync(
      hook,
      `#!/bin/sh\necho "${phase} $(id -un) $(id -un 54321) [${vars}]"\n`,
    );
    Deno.chmodSync(hook, 0o755);
  }
  const r = await runEntrypoint(["true"], {
    env: {
      CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${hooks}\n`),
      CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`,
      CHAMELEON_USER: "54321:54321",
      CHAMELEON_LOG_LEVEL: "error",
    },
  });
  equal(r.code, 0, r.stderr);
  // Before apply, uid 54321 has no name yet, but root's lookups work.
  equal(r.stdout, "before-apply root  []\nbefore-run root user54321 [passwdgrouppreload]\n");
  // What the image config preloads stays preloaded for before-apply hooks; only the plan's
  // nss_wrapper waits (ld.so says it cannot preload the made-up library, and goes on).
  Deno.writeTextFileSync(
    `${hooks}/before-apply/10-names`,
    '#!/bin/sh\necho "preload=$LD_PRELOAD"\n',
  );
  Deno.removeSync(`${hooks}/before-run/10-names`);
  // A user's colon-joined value keeps every library but the plan's own, its own nss_wrapper too.
  const cases: [config: string, env: Record<string, string>, want: string][] = [
    ["env:\n  set:\n    LD_PRELOAD: /nonexistent/libcfg.so\n", {}, "/nonexistent/libcfg.so"],
    [
      "",
      { LD_PRELOAD: "/nonexistent/liba.so:/nonexistent/libnss_wrapper.so" },
      "/nonexistent/liba.so /nonexistent/libnss_wrapper.so",
    ],
  ];
  for (const [i, [config, env, want]] of cases.entries()) {
    const run = await runEntrypoint(["true"], {
      env: {
        CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${hooks}\n${config}`),
        CHAMELEON_RUNTIME_DIR: `${tmp.path}/run-${i}`,
        CHAMELEON_USER: "54321:54321",
        CHAMELEON_LOG_LEVEL: "error",
        ...env,
      },
    });
    equal(run.code, 0, run.stderr);
    equal(run.stdout, `preload=${want}\n`);
  }
});

Deno.test("before-apply hooks keep an nss_wrapper the image config sets up itself", async () => {
  using tmp = tempDir(0o755);
  writeHook(tmp.path, "before-apply", "10-nss", '#!/bin/sh\necho "passwd=$NSS_WRAPPER_PASSWD"\n');
  const config = `hooksDir: ${tmp.path}/hooks\nenv:\n  set:\n    NSS_WRAPPER_PASSWD: /etc/passwd\n`;
  const r = await runEntrypoint(["true"], {
    env: {
      CHAMELEON_CONFIG: configFile(tmp.path, config),
      CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`,
      CHAMELEON_LOG_LEVEL: "error",
    },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "passwd=/etc/passwd\n");
});

Deno.test("CHOWN_EXTRA changes the target of a link of root's named on its own, and follows no link with -R or of another uid", async () => {
  using tmp = tempDir(0o755);
  const dir = (p: string) => {
    Deno.mkdirSync(`${tmp.path}/${p}`, { recursive: true });
    return `${tmp.path}/${p}`;
  };
  const target = dir("target");
  Deno.symlinkSync(target, `${tmp.path}/link`);
  const outside = dir("outside");
  const tree = dir("tree/sub");
  Deno.symlinkSync(outside, `${tmp.path}/tree/escape`);
  const owner = (p: string) => `${Deno.statSync(p).uid}`;
  const start = (extra: string, opts: string) =>
    runEntrypoint(["true"], {
      env: {
        CHAMELEON_USER: "54321:54321",
        CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`,
        CHOWN_EXTRA: extra,
        CHOWN_EXTRA_OPTS: opts,
        CHAMELEON_LOG_LEVEL: "error",
      },
    });
  equal((await start(`${tmp.path}/link`, "")).code, 0);
  equal(owner(target), "54321", "chown follows a link given on its own");
  // Unless the link is another uid's (the user planted it in a home it can write).
  const shadow = dir("shadow");
  Deno.symlinkSync(shadow, `${tmp.path}/planted`);
  equal((await runProcess(["chown", "-h", "54321:54321", `${tmp.path}/planted`])).code, 0);
  const planted = await start(`${tmp.path}/planted`, "");
  equal(planted.code, 0, planted.stderr);
  equal(owner(shadow), "0", "a planted link is not followed");
  equal((await start(`${tmp.path}/tree`, "-R")).code, 0);
  deepEqual([owner(`${tmp.path}/tree`), owner(tree)], ["54321", "54321"]);
  equal(owner(outside), "0", "chown -R follows no link");
});

Deno.test("a CHOWN_EXTRA path that is missing ends the start with exit 78 naming CHOWN_EXTRA", async () => {
  using tmp = tempDir(0o755);
  const r = await runEntrypoint(["true"], {
    env: {
      CHAMELEON_USER: "54321:54321",
      CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`,
      CHOWN_EXTRA: `${tmp.path}/missing`,
      CHAMELEON_LOG_LEVEL: "error",
    },
  });
  equal(r.code, 78, r.stderr);
  match(r.stderr, /^chameleon: error: CHOWN_EXTRA: ownership of \/\S+\/missing: .*no such file/m);
});

Deno.test("the internal exec-stage flag as a user's first word is an ordinary dash argument, not exit 70", async () => {
  const r = await runEntrypoint(["--chameleon-exec-stage", "x"], {
    env: { CHAMELEON_LOG_LEVEL: "error" },
  });
  equal(r.code, 2, r.stderr);
  match(r.stderr, /arguments "--chameleon-exec-stage"\.\.\. need a default command/);
});

Deno.test("a nested start (CHAMELEON_STARTED=1) runs its command as it is", async () => {
  const r = await runEntrypoint(["sh", "-c", 'echo "${CHAMELEON_CONTEXT:-none} $0"'], {
    env: { CHAMELEON_STARTED: "1", KUBERNETES_SERVICE_HOST: "10.0.0.1" },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "none sh\n");
  // A workload word is not translated: the command runs literally.
  equal((await runEntrypoint(["train"], { env: { CHAMELEON_STARTED: "1" } })).code, 127);
  // Only 1 marks a nested start: another value is a start like any other.
  const zero = await runEntrypoint(["sh", "-c", 'echo "$CHAMELEON_STARTED $CHAMELEON_CONTEXT"'], {
    env: {
      CHAMELEON_STARTED: "0",
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      CHAMELEON_LOG_LEVEL: "error",
    },
  });
  equal(zero.code, 0, zero.stderr);
  equal(zero.stdout, "1 kubernetes-unknown\n");
});

Deno.test("every started command sees CHAMELEON_STARTED=1 and the decision", async () => {
  const r = await runEntrypoint(["sh", "-c", "echo $CHAMELEON_STARTED $CHAMELEON_CONTEXT"], {
    env: { KUBERNETES_SERVICE_HOST: "10.0.0.1", CHAMELEON_LOG_LEVEL: "error" },
  });
  equal(r.stdout, "1 kubernetes-unknown\n");
});

Deno.test("the config's umask and a command's working folder reach the command, in exec and supervise mode", async () => {
  using tmp = tempDir(0o755);
  const work = `${tmp.path}/work`;
  Deno.mkdirSync(work);
  for (const mode of ["exec", "supervise"] as const) {
    const cfg = configFile(
      tmp.path,
      `mode: ${mode}\numask: "0027"\ncommands:\n  unknown: {argv: [sh, -c, "umask; pwd"], cwd: ${work}}\n`,
    );
    const r = await runEntrypoint([], {
      env: { CHAMELEON_CONFIG: cfg, CHAMELEON_LOG_LEVEL: "error" },
      cwd: tmp.path,
    });
    equal(r.code, 0, r.stderr);
    equal(r.stdout, `0027\n${work}\n`, mode);
  }
});

Deno.test("a real start logs its context and the plan's warnings, then how it runs the command and as whom", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  Deno.mkdirSync(`${hooks}/before-run`, { recursive: true });
  Deno.writeTextFileSync(`${hooks}/before-run/10-plain`, "#!/bin/sh\n"); // not executable
  for (const mode of ["exec", "supervise"] as const) {
    const r = await runEntrypoint(["sh", "-c", "exit 0"], {
      env: {
        CHAMELEON_CONFIG: configFile(tmp.path, `mode: ${mode}\nhooksDir: ${hooks}\n`),
        CHAMELEON_USER: "1000:100",
        CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`,
        CHAMELEON_LOG_LEVEL: "info",
      },
    });
    equal(r.code, 0, r.stderr);
    match(r.stderr, /info: context local-unknown \(detected\)\n/, mode);
    match(r.stderr, /warn: hook .*\/before-run\/10-plain is not executable \(for uid 0\): skipped/);
    const how = mode === "exec" ? "exec" : "supervising";
    match(r.stderr, new RegExp(`info: ${how} sh -c exit 0 as \\S+ \\(1000:100\\)\\n`), mode);
  }
});

Deno.test("a real start with no command exits 2 naming the config key", async () => {
  const r = await runEntrypoint([], { env: { CHAMELEON_LOG_LEVEL: "error" } });
  equal(r.code, 2);
  match(r.stderr, /set commands\.unknown in the image config/);
});

Deno.test("an interactive child keeps the terminal's foreground under a supervisor", async () => {
  using tmp = tempDir(0o755);
  const { env, job } = supervisedJob(tmp.path, FOREGROUND_CHECK);
  const r = await runProcess(["script", "-qec", job, "/dev/null"], { env });
  equal(r.code, 0, r.stderr);
  match(r.stdout, /^FOREGROUND\r?$/m);
  // With stdin elsewhere, the terminal is found on stdout.
  const away = await runProcess(["script", "-qec", `${job} < /dev/null`, "/dev/null"], { env });
  equal(away.code, 0, away.stderr);
  match(away.stdout, /^FOREGROUND\r?$/m);
});

/**
 * Runs a bash script with job control on a terminal (`script` gives it a
 * pty); `timeout` turns a session that would wait forever into a failure.
 */
async function onTerminal(script: string, env: Record<string, string>) {
  return await runProcess(
    ["timeout", "30", "script", "-qec", `bash -c ${shellQuote(`set -m\n${script}`)}`, "/dev/null"],
    { env },
  );
}

/** A supervised start of `sh -c script` as one shell line, and the environment that forces supervision. */
function supervisedJob(dir: string, script: string) {
  return {
    env: { CHAMELEON_CONFIG: configFile(dir, "mode: supervise\n"), CHAMELEON_LOG_LEVEL: "error" },
    job: [...entrypointArgv(), "sh", "-c", script].map(shellQuote).join(" "),
  };
}

/** Prints whether the shell's process group has the terminal. */
const FOREGROUND_CHECK =
  `[ "$(ps -o tpgid= -p $$ | tr -d ' ')" = "$(ps -o pgid= -p $$ | tr -d ' ')" ] && echo FOREGROUND || echo BACKGROUND`;

Deno.test("Ctrl-Z under a supervisor stops the job, and fg or bg continues the command", async () => {
  using tmp = tempDir(0o755);
  // The command stops itself as Ctrl-Z would stop it (SIGTSTP to its process group).
  const { env, job } = supervisedJob(tmp.path, 'kill -TSTP $$; echo "resumed $?"');
  const fg = await onTerminal(`${job}\necho "stopped $?"\nfg\necho "fg $?"`, env);
  equal(fg.code, 0, fg.stdout);
  match(fg.stdout, /stopped 148[^]*resumed 0[^]*fg 0/); // the shell saw its job stop: 128 + SIGTSTP
  const bg = await onTerminal(`${job}\necho "stopped $?"\nbg\nwait %1\necho "bg $?"`, env);
  equal(bg.code, 0, bg.stdout);
  match(bg.stdout, /stopped 148[^]*resumed 0[^]*bg 0/);
  // A SIGTSTP ignored by whoever started the entrypoint survives execve: the supervisor still stops.
  const ignoring = await onTerminal(
    `env --ignore-signal=TSTP ${job}\necho "stopped $?"\nfg\necho "fg $?"`,
    env,
  );
  equal(ignoring.code, 0, ignoring.stdout);
  match(ignoring.stdout, /stopped 148[^]*resumed 0[^]*fg 0/);
});

Deno.test("a command that stops itself with SIGSTOP while it has the terminal (as top does on Ctrl-Z) stops the job", async () => {
  using tmp = tempDir(0o755);
  const { env, job } = supervisedJob(tmp.path, 'kill -STOP $$; echo "resumed $?"');
  const r = await onTerminal(`${job}\necho "stopped $?"\nfg\necho "fg $?"`, env);
  equal(r.code, 0, r.stdout);
  match(r.stdout, /stopped 148[^]*resumed 0[^]*fg 0/);
});

Deno.test("after Ctrl-Z, bg and fg the command has the terminal again", async () => {
  using tmp = tempDir(0o755);
  const { env, job } = supervisedJob(tmp.path, `kill -TSTP $$; sleep 2; ${FOREGROUND_CHECK}`);
  // The pause lets the supervisor go on in the background first, as a person typing would.
  const r = await onTerminal(`${job}\nbg\nsleep 0.5\nfg\necho "fg $?"`, env);
  equal(r.code, 0, r.stdout);
  // On lines of their own: bash shows the job's words, FOREGROUND among them, as it stops and goes on.
  match(r.stdout, /^FOREGROUND\r?\n[^]*^fg 0\r?$/m);
});

Deno.test("a command started in the background that sets the terminal up stops the job, and fg continues it with the terminal", async () => {
  using tmp = tempDir(0o755);
  // stty from the background stops the command with SIGTTOU, the job stopped then, or brought
  // to the foreground by fg after the command started and before it ran stty (the pauses only
  // make each order the likely one; either passes).
  for (const [command, beforeFg] of [["", "sleep 1"], ["sleep 2; ", "sleep 1"]]) {
    const { env, job } = supervisedJob(tmp.path, `${command}stty sane; echo "stty $?"`);
    const r = await onTerminal(`${job} &\n${beforeFg}\nfg\necho "fg $?"`, env);
    equal(r.code, 0, r.stdout);
    match(r.stdout, /^stty 0\r?\n[^]*^fg 0\r?$/m, command);
  }
});

Deno.test("a hook started in the terminal's foreground can set the terminal up: it stays in the start's group", async () => {
  using tmp = tempDir(0o755);
  const hooks = `${tmp.path}/hooks`;
  Deno.mkdirSync(`${hooks}/before-run`, { recursive: true });
  // In a group of its own, the hook would be in the background: stty would stop it for good.
  const pidFile = `${tmp.path}/hook-pid`;
  Deno.writeTextFileSync(
    `${hooks}/before-run/10-stty`,
    `#!/bin/sh\necho $$ > ${pidFile}\nstty sane; echo "hook stty $?"\n`,
  );
  Deno.chmodSync(`${hooks}/before-run/10-stty`, 0o755);
  const env = {
    CHAMELEON_CONFIG: configFile(tmp.path, `hooksDir: ${hooks}\n`),
    CHAMELEON_LOG_LEVEL: "error",
  };
  const job = [...entrypointArgv(), "sh", "-c", 'echo "command ran"'].map(shellQuote).join(" ");
  let r;
  try {
    r = await onTerminal(`${job}\necho "start $?"`, env);
  } finally {
    // A hook stopped for good would keep its start waiting after the terminal is gone.
    const pid = Number(procText(pidFile).trim());
    if (pid > 0 && procText(`/proc/${pid}/cmdline`).includes("10-stty")) Deno.kill(pid, "SIGKILL");
  }
  equal(r.code, 0, r.stdout);
  match(r.stdout, /^hook stty 0\r?\n[^]*^command ran\r?\n[^]*^start 0\r?$/m);
});

Deno.test("Ctrl-Z to a command under a supervising PID 1 is undone: nothing above could continue it", async () => {
  for (const signal of ["TSTP", "STOP"]) {
    const r = await onTerminal(
      [
        "unshare",
        "--pid",
        "--fork",
        "--mount-proc",
        ...entrypointArgv(),
        "sh",
        "-c",
        `kill -${signal} $$; echo "resumed $?"`,
      ].map(shellQuote).join(" ") + '\necho "ended $?"',
      { CHAMELEON_LOG_LEVEL: "error" },
    );
    equal(r.code, 0, r.stdout);
    match(r.stdout, /resumed 0[^]*ended 0/, signal);
  }
});

Deno.test("a read-only /run puts the runtime dir in /tmp, for root and for an OpenShift uid, even with the image's /run/chameleon", async () => {
  // A private mount namespace: /run a read-only tmpfs holding the image's group-writable folder,
  // /tmp a fresh one (the host's may hold an earlier run's /tmp/chameleon).
  const entry = entrypointArgv().map(shellQuote).join(" ");
  const explain = `${entry} --explain --format json`;
  const asUid = `setpriv --reuid 1000650000 --regid 0 --clear-groups ${explain}`;
  const sh = [
    "mount -t tmpfs none /run",
    "mkdir /run/chameleon",
    "chmod 0775 /run/chameleon",
    "mount -o remount,ro /run",
    ...freshTmpSteps(),
    explain,
    "echo @@",
    asUid,
    "echo @@",
    // A root start on the same node made /tmp/chameleon: the uid then gets a folder of its own.
    "mkdir /tmp/chameleon",
    explain,
    "echo @@",
    asUid,
  ].join(" && ");
  const r = await runProcess(["unshare", "-m", "sh", "-c", sh], {
    env: { CHAMELEON_USER: "54321:54321", HOME: "/nonexistent-home" },
  });
  equal(r.code, 0, r.stderr);
  const dirs = r.stdout.split("@@\n").map((doc) => JSON.parse(doc).plan.runtimeDir);
  deepEqual(dirs, [
    "/tmp/chameleon",
    "/tmp/chameleon",
    "/tmp/chameleon",
    "/tmp/chameleon-1000650000",
  ]);
});

Deno.test("another uid's /tmp/chameleon in a /tmp users share (a Slurm node, Apptainer's bind) moves a start to /tmp/chameleon-<uid>", async () => {
  const entry = entrypointArgv().map(shellQuote).join(" ");
  const command = `cat "$NSS_WRAPPER_PASSWD"; echo "HOME=$HOME"`;
  const sh = [
    "mount -t tmpfs -o mode=0755 none /run",
    ...freshTmpSteps(),
    "mkdir /tmp/chameleon",
    "chown 4343:4343 /tmp/chameleon",
    // A uid without a passwd entry: its nss_wrapper files and its moved HOME go in the runtime dir.
    `setpriv --reuid 4242 --regid 4242 --clear-groups ${entry} sh -c ${shellQuote(command)}`,
    "stat -c '%u %a' /tmp/chameleon-4242",
    "ls -A /tmp/chameleon",
  ].join(" && ");
  const r = await runProcess(["unshare", "-m", "sh", "-c", sh], {
    env: { HOME: "/nonexistent-home", CHAMELEON_LOG_LEVEL: "error" },
  });
  equal(r.code, 0, r.stderr);
  // The nss_wrapper passwd file is /etc/passwd's lines plus the uid's own.
  const lines = r.stdout.split("\n");
  deepEqual(
    lines.slice(lines.findIndex((line) => line.startsWith("user4242:"))),
    [
      "user4242:x:4242:4242:user4242:/tmp/chameleon-4242/home/4242:/bin/sh",
      "HOME=/tmp/chameleon-4242/home/4242",
      "4242 755",
      "",
    ],
  );
});
Deno.test("a root start without CAP_SETUID and CAP_SETGID refuses a user switch (exit 78) before writing anything", async () => {
  using tmp = tempDir(0o755);
  const rt = `${tmp.path}/rt`;
  // As in a container whose capabilities were dropped: root, but setuid and setgid fail.
  const r = await runProcess(
    ["setpriv", "--bounding-set", "-setuid,-setgid", "--inh-caps=-all", ...entrypointArgv(), "id"],
    { env: { PATH: "/usr/bin:/bin", CHAMELEON_RUNTIME_DIR: rt, CHAMELEON_USER: "1234:1234" } },
  );
  equal(r.code, 78, r.stderr);
  match(r.stderr, /User switch to 1234:1234: this process lacks CAP_SETGID and CAP_SETUID/);
  equal(r.stdout, "");
  throws(() => Deno.statSync(rt), Deno.errors.NotFound);
  // Without a switch, the same process starts.
  const plain = await runProcess(
    [
      "setpriv",
      "--bounding-set",
      "-setuid,-setgid",
      "--inh-caps=-all",
      ...entrypointArgv(),
      "true",
    ],
    { env: { PATH: "/usr/bin:/bin", CHAMELEON_RUNTIME_DIR: rt } },
  );
  equal(plain.code, 0, plain.stderr);
});

Deno.test("a root start without CAP_CHOWN refuses a plan that gives files another owner (exit 78) before writing anything; a group-only switch needs no CAP_SETUID", async () => {
  using tmp = tempDir(0o755);
  const rt = `${tmp.path}/rt`;
  const without = (caps: string, user: string, ...args: string[]) =>
    runProcess(
      ["setpriv", "--bounding-set", caps, "--inh-caps=-all", ...entrypointArgv(), ...args],
      {
        env: {
          PATH: "/usr/bin:/bin",
          CHAMELEON_RUNTIME_DIR: rt,
          CHAMELEON_USER: user,
          CHAMELEON_LOG_LEVEL: "error",
        },
      },
    );
  // The switch itself could be made; the per-uid home it plans for uid 1234 could not be given.
  const r = await without("-chown", "1234:1234", "id");
  equal(r.code, 78, r.stderr);
  match(r.stderr, /Owner 1234:1234 of .*\/rt\/home\/1234: this process lacks CAP_CHOWN/);
  equal(r.stdout, "");
  throws(() => Deno.statSync(rt), Deno.errors.NotFound);
  // Root keeping uid 0 and changing its groups: setgroups and setgid alone, no CAP_SETUID.
  const groups = await without("-setuid", "0:0:100", "id", "-G");
  equal(groups.code, 0, groups.stderr);
  equal(groups.stdout, "0 100\n");
});

Deno.test("a root start in a user namespace refuses a user switch to an unmapped uid (exit 78) before writing anything", async () => {
  using tmp = tempDir(0o755);
  const rt = `${tmp.path}/rt`;
  // As rootless Docker or Kubernetes hostUsers: false, with only root mapped: chown and setuid to
  // 65534 (nobody, in /etc/passwd: nothing is added there) fail with EINVAL.
  const r = await runProcess(["unshare", "--user", "--map-root-user", ...entrypointArgv(), "id"], {
    env: { PATH: "/usr/bin:/bin", CHAMELEON_RUNTIME_DIR: rt, CHAMELEON_USER: "65534:65534" },
  });
  equal(r.code, 78, r.stderr);
  match(
    r.stderr,
    /error: User switch to 65534:65534: uid 65534 has no mapping in this container's user namespace \(\/proc\/self\/uid_map\)/,
  );
  equal(r.stdout, "");
  throws(() => Deno.statSync(rt), Deno.errors.NotFound);
});

Deno.test("a root start in a user namespace that denies setgroups keeps the groups it has, and refuses other ones (exit 78) before writing anything", async () => {
  using tmp = tempDir(0o755);
  const rt = `${tmp.path}/rt`;
  const env = { PATH: "/usr/bin:/bin", CHAMELEON_RUNTIME_DIR: rt, CHAMELEON_LOG_LEVEL: "error" };
  // unshare --map-root-user writes "deny" to /proc/self/setgroups, as an unprivileged runtime must:
  // group 100, unmapped, shows as 65534, and no group list can change.
  const r = await runProcess(
    [
      "setpriv",
      "--groups",
      "0,100",
      "unshare",
      "--user",
      "--map-root-user",
      ...entrypointArgv(),
      "id",
    ],
    { env: { ...env, CHAMELEON_USER: "0:0:0" } },
  );
  equal(r.code, 78, r.stderr);
  match(
    r.stderr,
    /^chameleon: error: User switch to 0:0: groups 0 differ from this process's 0,65534, and this user namespace denies setgroups \(\/proc\/self\/setgroups\); start the container with these groups, or in a user namespace that allows setgroups\n$/,
  );
  equal(r.stdout, "");
  throws(() => Deno.statSync(rt), Deno.errors.NotFound);
  // A namespace mapping 0-65535 with setgroups denied (the maps written from outside, as a
  // privileged runtime may): a switch to uid 1 keeping the group it has needs no setgroups.
  const script = `set -e
    setpriv --groups 1 unshare --user sh -c 'echo > "$0/ready"; read x < "$0/go"; exec "$@"' "$0" "$@" &
    read x < "$0/ready"
    echo deny > /proc/$!/setgroups
    echo '0 0 65536' > /proc/$!/uid_map
    echo '0 0 65536' > /proc/$!/gid_map
    echo > "$0/go"
    wait $!`;
  for (const fifo of ["ready", "go"]) {
    equal((await runProcess(["mkfifo", "-m", "666", `${tmp.path}/${fifo}`])).code, 0);
  }
  const kept = await runProcess(["sh", "-c", script, tmp.path, ...entrypointArgv(), "id"], {
    env: { ...env, CHAMELEON_USER: "1:1:1" },
  });
  equal(kept.code, 0, kept.stderr);
  equal(kept.stdout, "uid=1(daemon) gid=1(daemon) groups=1(daemon)\n");
  // The check made as the final user first (SageMaker's failure file) switches there and back.
  const stage = JSON.stringify({
    user: { uid: 1, gid: 1, groups: [1] },
    checkFirst: true,
    restore: [],
    remove: [],
    hide: [],
  });
  const checked = await runProcess(
    ["sh", "-c", script, tmp.path, ...entrypointArgv(), "--chameleon-exec-stage", "--", "id"],
    { env: { ...env, CHAMELEON_EXEC_STAGE: stage } },
  );
  equal(checked.code, 0, checked.stderr);
  equal(checked.stdout, "uid=1(daemon) gid=1(daemon) groups=1(daemon)\n");
});

Deno.test("an existing runtime dir keeps its mode (a sticky /tmp stays sticky); one others can write is refused to root", async () => {
  using tmp = tempDir(0o755);
  const sticky = `${tmp.path}/sticky`;
  Deno.mkdirSync(sticky);
  Deno.chmodSync(sticky, 0o1777);
  const env = { CHAMELEON_RUNTIME_DIR: sticky, CHAMELEON_USER: "54321:54321" };
  const r = await runEntrypoint(["sh", "-c", 'touch "$HOME/x" && echo wrote'], { env });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "wrote\n");
  equal(Deno.statSync(sticky).mode! & 0o7777, 0o1777);
  ok(!r.stderr.includes("warn"), r.stderr);
  const open = `${tmp.path}/open`;
  Deno.mkdirSync(open);
  Deno.chmodSync(open, 0o777);
  const w = await runEntrypoint(["true"], { env: { ...env, CHAMELEON_RUNTIME_DIR: open } });
  equal(w.code, 78, w.stderr);
  match(w.stderr, /Runtime dir .*\/open: is writable by others \(777\)/);
  equal([...Deno.readDirSync(open)].length, 0, "nothing written in it");
  // Writable by our own group (root's, or OpenShift's group 0 for its uids) is no warning.
  Deno.chmodSync(open, 0o775);
  const g = await runEntrypoint(["true"], { env: { ...env, CHAMELEON_RUNTIME_DIR: open } });
  equal(g.code, 0, g.stderr);
  ok(!g.stderr.includes("warn"), g.stderr);
  // Writable by another group: its members could replace what root writes there.
  Deno.removeSync(open, { recursive: true });
  Deno.mkdirSync(open);
  Deno.chmodSync(open, 0o775);
  Deno.chownSync(open, 0, 2000);
  const other = await runEntrypoint(["true"], { env: { ...env, CHAMELEON_RUNTIME_DIR: open } });
  equal(other.code, 78, other.stderr);
  match(other.stderr, /Runtime dir .*\/open: is writable by others \(775\)/);
  equal([...Deno.readDirSync(open)].length, 0, "nothing written in it");
});

Deno.test("a start as another uid refuses a runtime dir a third uid owns, and warns about one anyone can write", async () => {
  using tmp = tempDir(0o755);
  const asUser = (dir: string) =>
    runProcess(
      [
        ...asUid(4242, 4242),
        ...entrypointArgv(),
        "true",
      ],
      // No passwd entry: its nss_wrapper files go in the runtime dir.
      { env: { CHAMELEON_RUNTIME_DIR: dir, HOME: "/nonexistent-home" } },
    );
  const theirs = `${tmp.path}/theirs`;
  Deno.mkdirSync(theirs);
  Deno.chmodSync(theirs, 0o777);
  Deno.chownSync(theirs, 4343, 4343);
  const t = await asUser(theirs);
  equal(t.code, 78, t.stderr);
  match(t.stderr, /Runtime dir .*\/theirs: belongs to uid 4343: .*a folder of its own uid/);
  equal([...Deno.readDirSync(theirs)].length, 0, "nothing written in it");
  // Root's folder open to all (a volume an operator named) is used, with a warning.
  const open = `${tmp.path}/open`;
  Deno.mkdirSync(open);
  Deno.chmodSync(open, 0o777);
  const o = await asUser(open);
  equal(o.code, 0, o.stderr);
  match(o.stderr, /warn.*runtime dir .*\/open is writable by others \(777\)/);
  ok(Deno.statSync(`${open}/passwd`).isFile);
});

Deno.test("a root start refuses what another uid prepared in the runtime dir: a home of its own, a link to elsewhere", async () => {
  using tmp = tempDir(0o755);
  const rt = `${tmp.path}/rt`;
  // Root's moved HOME, made earlier by uid 2000 and holding its files.
  Deno.mkdirSync(`${rt}/home/0`, { recursive: true });
  Deno.writeTextFileSync(`${rt}/home/0/.bashrc`, "echo planted\n");
  Deno.chownSync(`${rt}/home/0`, 2000, 2000);
  const r = await runEntrypoint(["sh", "-c", "echo ran"], {
    env: { CHAMELEON_RUNTIME_DIR: rt, HOME: "/nonexistent", CHAMELEON_LOG_LEVEL: "error" },
  });
  equal(r.code, 78, r.stderr);
  match(r.stderr, /home\/0 belongs to uid 2000/);
  equal(r.stdout, "");
  // The per-user homes' folder as a link to a folder of root's.
  // Open to uid 2000: a runtime dir it could not reach would get none of its files.
  const victim = `${tmp.path}/victim`;
  Deno.mkdirSync(victim, { mode: 0o755 });
  Deno.removeSync(`${rt}/home`, { recursive: true });
  Deno.symlinkSync(victim, `${rt}/home`);
  const l = await runEntrypoint(["true"], {
    env: { CHAMELEON_RUNTIME_DIR: rt, CHAMELEON_USER: "2000:2000", HOME: "/nonexistent" },
  });
  equal(l.code, 78, l.stderr);
  match(l.stderr, /rt\/home is a symbolic link/);
  equal([...Deno.readDirSync(victim)].length, 0, "nothing made through the link");
  // The runtime dir itself as a link another uid made (in a sticky /tmp) to a folder of root's.
  const linked = `${tmp.path}/linked-rt`;
  Deno.symlinkSync(victim, linked);
  equal((await runProcess(["chown", "-h", "2000:2000", linked])).code, 0);
  const t = await runEntrypoint(["true"], {
    env: { CHAMELEON_RUNTIME_DIR: linked, CHAMELEON_USER: "2000:2000", HOME: "/nonexistent" },
  });
  equal(t.code, 78, t.stderr);
  match(t.stderr, /Runtime dir .*linked-rt: is a symbolic link of uid 2000/);
  equal([...Deno.readDirSync(victim)].length, 0, "nothing written through the link");
});

/**
 * `dir/shared`, a folder anyone may write, where uid 2000 made `name` a link to `dir/victim`, a
 * folder of root's (0755).
 */
async function plantedLink(dir: string, name: string) {
  const shared = `${dir}/shared`;
  Deno.mkdirSync(shared);
  Deno.chmodSync(shared, 0o777);
  const victim = `${dir}/victim`;
  Deno.mkdirSync(victim, { mode: 0o755 });
  Deno.symlinkSync(victim, `${shared}/${name}`);
  equal((await runProcess(["chown", "-h", "2000:2000", `${shared}/${name}`])).code, 0);
  return { shared, victim };
}

Deno.test("a root start makes no runtime dir through a link another uid planted on the way to it, and follows root's", async () => {
  using tmp = tempDir(0o755);
  // A volume anyone may write (an emptyDir shared with a sidecar), where uid 2000 planted a link
  // to a folder only root may write (one uid 2000 may enter: a runtime dir it cannot reach would
  // get no files, and so nothing the link could lead).
  const { shared, victim } = await plantedLink(tmp.path, "run");
  const start = (rt: string) =>
    runEntrypoint(["sh", "-c", "echo ran"], {
      env: { CHAMELEON_RUNTIME_DIR: rt, CHAMELEON_USER: "2000:2000", HOME: "/nonexistent" },
    });
  const r = await start(`${shared}/run/chameleon`);
  equal(r.code, 78, r.stderr);
  match(
    r.stderr,
    /Runtime dir .*\/shared\/run\/chameleon: on the way, .*\/shared\/run: a symbolic link of uid 2000, not followed/,
  );
  equal(r.stdout, "");
  equal([...Deno.readDirSync(victim)].length, 0, "nothing made through the link");
  // Root's own link that leads through that one: the runtime dir is where uid 2000 chose.
  Deno.symlinkSync(`${shared}/run`, `${tmp.path}/rootlink`);
  const c = await start(`${tmp.path}/rootlink`);
  equal(c.code, 78, c.stderr);
  match(c.stderr, /Runtime dir .*\/rootlink: .*leads through a symbolic link of uid 2000/);
  equal([...Deno.readDirSync(victim)].length, 0, "nothing written through the chain");
  // Root's link on the way to a folder of root's is followed.
  Deno.mkdirSync(`${tmp.path}/real`);
  Deno.symlinkSync(`${tmp.path}/real`, `${tmp.path}/way`);
  const ok = await start(`${tmp.path}/way/rt`);
  equal(ok.code, 0, ok.stderr);
  equal(ok.stdout, "ran\n");
  equal(Deno.statSync(`${tmp.path}/real/rt/home/2000`).uid, 2000);
});

Deno.test("a root start makes no home through a link another uid planted above it, before it writes anything", async () => {
  using tmp = tempDir(0o755);
  // The config's home on a volume anyone may write, where uid 2000 made `homes` a link to a folder
  // of root's.
  const { shared, victim } = await plantedLink(tmp.path, "homes");
  const config = configFile(
    tmp.path,
    `switchUser: when-root\nuser:\n  name: alice\n  uid: 2000\n  gid: 2000\n  home: ${shared}/homes/alice\n`,
  );
  const rt = `${tmp.path}/rt`;
  const r = await runEntrypoint(["sh", "-c", "echo ran"], {
    env: { CHAMELEON_CONFIG: config, CHAMELEON_RUNTIME_DIR: rt },
  });
  equal(r.code, 78, r.stderr);
  match(
    r.stderr,
    /Folder .*\/shared\/homes\/alice: on the way, .*\/shared\/homes: a symbolic link of uid 2000, not followed/,
  );
  equal(r.stdout, "");
  equal([...Deno.readDirSync(victim)].length, 0, "no home made through the link");
  throws(() => Deno.statSync(rt), Deno.errors.NotFound);
  // Root's own link there is followed: the home is made, and is the user's.
  Deno.removeSync(`${shared}/homes`);
  Deno.symlinkSync(victim, `${shared}/homes`);
  const ok = await runEntrypoint(["sh", "-c", 'echo "$HOME"'], {
    env: { CHAMELEON_CONFIG: config, CHAMELEON_RUNTIME_DIR: rt },
  });
  equal(ok.code, 0, ok.stderr);
  equal(ok.stdout, `${shared}/homes/alice\n`);
  equal(Deno.statSync(`${victim}/alice`).uid, 2000);
});

Deno.test("multi-host SageMaker waits for hosts through /etc/hosts, and exits 69 naming the ones that never resolved", async () => {
  using tmp = tempDir(0o755);
  Deno.writeTextFileSync(`${tmp.path}/hosts`, "127.0.0.1 localhost\n10.0.0.1 algo-1\n");
  const cfg = configFile(tmp.path, "hostWait:\n  timeoutSeconds: 1\n");
  const files = {
    ...TRAINING,
    "/opt/ml/input/config/resourceconfig.json":
      '{"current_host":"algo-1","hosts":["algo-1","algo-2-nowhere"]}',
  };
  const r = await inSageMaker(tmp.path, files, ["true"], { CHAMELEON_CONFIG: cfg }, [
    `mount --bind ${tmp.path}/hosts /etc/hosts`,
  ]);
  equal(r.code, 69);
  match(r.stderr, /Hosts never resolved within 1 s: algo-2-nowhere \(resolved 1 of 2\)/);
  match(Deno.readTextFileSync(`${tmp.path}/failure`), /algo-2-nowhere.*\(exit 69\)/);
  Deno.writeTextFileSync(`${tmp.path}/hosts`, "10.0.0.1 algo-1\n10.0.0.2 algo-2-nowhere\n");
  const ok2 = await inSageMaker(tmp.path, files, ["true"], { CHAMELEON_CONFIG: cfg }, [
    `mount --bind ${tmp.path}/hosts /etc/hosts`,
  ]);
  equal(ok2.code, 0, ok2.stderr);
});

Deno.test("a host with a NUL in resourceconfig.json is exit 78 at plan time, for a start and --explain, not a wait", async () => {
  // getaddrinfo would look up "algo-2" for "algo-2\u0000x": sys/dns.ts never resolves such a
  // name, so the start used to wait out the whole host wait (here 1 s, else exit 69).
  using tmp = tempDir(0o755);
  const cfg = configFile(tmp.path, "hostWait:\n  timeoutSeconds: 1\n");
  const resourceConfig = '{"current_host":"algo-1","hosts":["algo-1","algo-2\\u0000x"]}';
  const files = { ...TRAINING, "/opt/ml/input/config/resourceconfig.json": resourceConfig };
  const ran = `${tmp.path}/ran`;
  const r = await inSageMaker(tmp.path, files, ["touch", ran], { CHAMELEON_CONFIG: cfg });
  const problem =
    'File /opt/ml/input/config/resourceconfig.json: /hosts/1 "algo-2\\u0000x": expected a host name or address without NUL';
  equal(r.code, 78, r.stderr);
  equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  ok(r.stderr.includes(problem), r.stderr);
  ok(Deno.readTextFileSync(`${tmp.path}/failure`).includes(problem));
  throws(() => Deno.statSync(ran), Deno.errors.NotFound);
  // --explain fails the same way, printing nothing on stdout.
  const snapshot = `${tmp.path}/snapshot.json`;
  Deno.writeTextFileSync(
    snapshot,
    JSON.stringify({
      schema: "chameleon.snapshot/v1",
      env: { TRAINING_JOB_NAME: "job-1", CHAMELEON_CONFIG: "/etc/chameleon/config.yaml" },
      files: { ...files, "/etc/chameleon/config.yaml": "hostWait:\n  timeoutSeconds: 1\n" },
      hostname: "algo-1",
    }),
  );
  const explain = await runEntrypoint(["--explain", "--snapshot", snapshot], {
    env: { CHAMELEON_LOG_LEVEL: "error" },
  });
  equal(explain.code, 78, explain.stderr);
  equal(explain.stdout, "");
  equal(explain.stderr.trimEnd().split("\n").length, 1, explain.stderr);
  ok(explain.stderr.includes(problem), explain.stderr);
});

Deno.test("a start passes on variables and arguments that are not UTF-8 as given (exec, supervise, CHAMELEON_DISABLE=1)", async () => {
  // Deno leaves such a variable out of its environment and turns the bytes of such an
  // argument into U+FFFD; the command must still get them as the caller gave them.
  using tmp = tempDir(0o755);
  const supervise = configFile(tmp.path, "mode: supervise\n");
  const entry = entrypointArgv().map(shellQuote).join(" ");
  const program = `cat /proc/$$/environ > "$0.env"; printf %s "$1" > "$0.arg"`;
  const cases: [string, string][] = [
    ["exec", ""],
    ["supervise", `CHAMELEON_CONFIG=${shellQuote(supervise)}`],
    ["bypassed", "CHAMELEON_DISABLE=1"],
  ];
  for (const [name, setting] of cases) {
    const out = `${tmp.path}/out-${name}`;
    const script = `exec env X=$'a\\xffb' $'\\xffY=1' ${setting} ` +
      `${entry} sh -c ${shellQuote(program)} ${shellQuote(out)} $'c\\xffd'`;
    const r = await runProcess(["bash", "-c", script], {
      env: { PATH: "/usr/bin:/bin", CHAMELEON_RUNTIME_DIR: tmp.path, CHAMELEON_LOG_LEVEL: "error" },
    });
    equal(r.code, 0, `${name}: ${r.stderr}`);
    const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
    deepEqual(latin1(Deno.readFileSync(`${out}.arg`)), "c\xffd", name);
    const env = latin1(Deno.readFileSync(`${out}.env`)).split("\0");
    ok(env.includes("X=a\xffb"), `${name}: ${JSON.stringify(env)}`);
    ok(env.includes("\xffY=1"), name);
    equal(env.filter((e) => e.startsWith("X=")).length, 1, name);
  }
});

Deno.test("a variable the plan unsets goes even when its value is not UTF-8 (exec, supervise)", async () => {
  // Deno leaves such a variable out of its environment; the bytes put back from
  // /proc/self/environ must not bring back one that JUPYTER_ENV_VARS_TO_UNSET names.
  using tmp = tempDir(0o755);
  const supervise = configFile(tmp.path, "mode: supervise\n");
  const entry = entrypointArgv().map(shellQuote).join(" ");
  const program = `cat /proc/$$/environ > "$0.env"`;
  for (
    const [name, setting] of [["exec", ""], [
      "supervise",
      `CHAMELEON_CONFIG=${shellQuote(supervise)}`,
    ]]
  ) {
    const out = `${tmp.path}/out-${name}`;
    const script = `exec env JUPYTER_ENV_VARS_TO_UNSET=SECRET_X,SECRET_Y SECRET_X=$'a\\xffb' ` +
      `SECRET_Y=plain KEPT=$'c\\xffd' ${setting} ${entry} sh -c ${shellQuote(program)} ${
        shellQuote(out)
      }`;
    const r = await runProcess(["bash", "-c", script], {
      env: { PATH: "/usr/bin:/bin", CHAMELEON_RUNTIME_DIR: tmp.path, CHAMELEON_LOG_LEVEL: "error" },
    });
    equal(r.code, 0, `${name}: ${r.stderr}`);
    const env = String.fromCharCode(...Deno.readFileSync(`${out}.env`)).split("\0");
    deepEqual(env.filter((e) => e.startsWith("SECRET_")), [], `${name}: ${JSON.stringify(env)}`);
    ok(env.includes("KEPT=c\xffd"), `${name}: ${JSON.stringify(env)}`);
  }
});

Deno.test("a variable the config sets replaces one given that is not UTF-8: the command gets it once, as set", async () => {
  using tmp = tempDir(0o755);
  const entry = entrypointArgv().map(shellQuote).join(" ");
  const program = `cat /proc/$$/environ > "$0"`;
  for (const mode of ["exec", "supervise"]) {
    const cfg = configFile(tmp.path, `mode: ${mode}\nenv:\n  set:\n    X: new\n`);
    const out = `${tmp.path}/env-${mode}`;
    const script = `exec env X=$'a\\xffb' ${entry} sh -c ${shellQuote(program)} ${shellQuote(out)}`;
    const r = await runProcess(["bash", "-c", script], {
      env: { CHAMELEON_CONFIG: cfg, CHAMELEON_LOG_LEVEL: "error" },
    });
    equal(r.code, 0, `${mode}: ${r.stderr}`);
    const env = String.fromCharCode(...Deno.readFileSync(out)).split("\0");
    deepEqual(env.filter((e) => e.startsWith("X=")), ["X=new"], mode);
  }
});

Deno.test("a supervised command gets the environment an exec-mode one gets: nothing of the exec stage's own", async () => {
  using tmp = tempDir(0o755);
  const environ = async (mode: string) => {
    const r = await runEntrypoint(["sh", "-c", "cat /proc/$$/environ"], {
      env: {
        CHAMELEON_CONFIG: configFile(tmp.path, `mode: ${mode}\n`),
        CHAMELEON_LOG_LEVEL: "error",
        NODE_KEPT: "node",
        DENO_KEPT: "deno",
      },
    });
    equal(r.code, 0, r.stderr);
    return r.stdout.split("\0").filter((e) => e !== "").sort();
  };
  const exec = await environ("exec");
  ok(exec.includes("NODE_KEPT=node") && exec.includes("DENO_KEPT=deno"), exec.join(" "));
  deepEqual(await environ("supervise"), exec);
});

Deno.test("variables and arguments that are not UTF-8 reach the command after a user switch too (exec, supervise)", async () => {
  using tmp = tempDir(0o777);
  const entry = entrypointArgv().map(shellQuote).join(" ");
  const program = `cat /proc/$$/environ > "$0.env"; printf %s "$1" > "$0.arg"`;
  for (const mode of ["exec", "supervise"]) {
    const cfg = configFile(tmp.path, `mode: ${mode}\n`);
    const out = `${tmp.path}/out-${mode}`;
    const script = `exec env X=$'a\\xffb' ${entry} sh -c ${shellQuote(program)} ${
      shellQuote(out)
    } $'c\\xffd'`;
    const r = await runProcess(["bash", "-c", script], {
      env: {
        CHAMELEON_CONFIG: cfg,
        CHAMELEON_USER: "1000:100",
        CHAMELEON_RUNTIME_DIR: `${tmp.path}/run`,
        CHAMELEON_LOG_LEVEL: "error",
      },
    });
    equal(r.code, 0, `${mode}: ${r.stderr}`);
    const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
    equal(latin1(Deno.readFileSync(`${out}.arg`)), "c\xffd", mode);
    ok(latin1(Deno.readFileSync(`${out}.env`)).split("\0").includes("X=a\xffb"), mode);
  }
});

Deno.test("a log line that stderr cannot take (a full disk) is dropped: the start goes on and runs its command", async () => {
  const entry = entrypointArgv().map(shellQuote).join(" ");
  const r = await runProcess(["sh", "-c", `exec 2>/dev/full; ${entry} sh -c 'echo ran'`], {
    env: { CHAMELEON_LOG_LEVEL: "debug" },
  });
  equal(r.code, 0);
  equal(r.stdout, "ran\n");
});

Deno.test("a training start in a namespace with a Service named master gives the command no link variable for a port", async () => {
  using tmp = tempDir(0o755);
  // The kubelet's variables for the API server and for a Service `master` (10.96.40.2:29500).
  const links = {
    KUBERNETES_SERVICE_HOST: "10.96.0.1",
    KUBERNETES_SERVICE_PORT: "443",
    MASTER_SERVICE_HOST: "10.96.40.2",
    MASTER_SERVICE_PORT: "29500",
    MASTER_PORT: "tcp://10.96.40.2:29500",
    MASTER_PORT_29500_TCP: "tcp://10.96.40.2:29500",
    MASTER_PORT_29500_TCP_ADDR: "10.96.40.2",
    MASTER_PORT_29500_TCP_PORT: "29500",
    MASTER_PORT_29500_TCP_PROTO: "tcp",
  };
  const r = await runEntrypoint(
    [
      "sh",
      "-c",
      'printf "%s|%s|%s" "${MASTER_PORT-unset}" "$ML_MASTER_PORT" "$MASTER_SERVICE_PORT"',
    ],
    {
      env: {
        ...links,
        CHAMELEON_WORKLOAD: "training",
        CHAMELEON_LOG_LEVEL: "error",
        CHAMELEON_RUNTIME_DIR: tmp.path,
      },
    },
  );
  equal(r.code, 0, r.stderr);
  // The Service's own variables stay for a program that looks it up.
  equal(r.stdout, "unset|29500|29500");
});
