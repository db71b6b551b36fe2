import { deepEqual, equal, match, ok } from "@std/assert";
import { apply, waitForHosts } from "./apply.ts";
import { HostWaitError } from "./errors.ts";
import { Logger } from "./log.ts";
import { cutUtf8, failureText } from "./report.ts";
import { resolveHost } from "./sys/dns.ts";
import {
  ROOT,
  runProcess,
  shellQuote,
  stoppedAfterStatx,
  tempDir,
  waitFor,
} from "./tests/helpers.ts";

Deno.test("waitForHosts() resolves through /etc/hosts (getaddrinfo), not only DNS", async () => {
  const lines: string[] = [];
  await waitForHosts(["localhost"], 5, new Logger({}, (l) => lines.push(l)));
  deepEqual(lines, []);
});

Deno.test("resolveHost() gives an IPv4 address in dotted digits, an IPv6 one as the name itself", async () => {
  equal(await resolveHost("10.1.2.3"), "10.1.2.3");
  equal(await resolveHost("127.0.0.1"), "127.0.0.1");
  equal(await resolveHost("::1"), "::1");
  equal(await resolveHost("never-resolves.invalid"), null);
});

Deno.test("resolveHost() resolves no name holding a NUL, which C would read only up to it", async () => {
  equal(await resolveHost("localhost"), "127.0.0.1");
  // As C reads it, "localhost": the host named is not localhost, nor resolved.
  equal(await resolveHost("localhost\0.never-resolves.invalid"), null);
  equal(await resolveHost("\0"), null);
});

Deno.test("resolveHost() prefers a name's IPv4 address to the IPv6 one glibc lists first", async () => {
  using tmp = tempDir(0o755);
  const script = `${tmp.path}/resolve.ts`;
  Deno.writeTextFileSync(
    script,
    `import { resolveHost } from ${JSON.stringify(`${ROOT}/sys/dns.ts`)};\n` +
      `console.log(JSON.stringify([await resolveHost("dual"), await resolveHost("six")]));\n`,
  );
  const results: string[] = [];
  // Both orders of the lines: glibc sorts ::1 first for a name that has both.
  for (const lines of ["127.0.0.2 dual\n::1 dual six\n", "::1 dual six\n127.0.0.2 dual\n"]) {
    Deno.writeTextFileSync(`${tmp.path}/hosts`, lines);
    const r = await runProcess([
      "unshare",
      "--mount",
      "sh",
      "-c",
      `mount --make-rprivate / && mount --bind ${shellQuote(`${tmp.path}/hosts`)} /etc/hosts && ` +
      `exec ${shellQuote(Deno.execPath())} run --quiet -A ${shellQuote(script)}`,
    ]);
    equal(r.code, 0, r.stderr);
    results.push(r.stdout.trim());
  }
  // An IPv6-only name resolves to itself.
  deepEqual(results, ['["127.0.0.2","six"]', '["127.0.0.2","six"]']);
});

Deno.test("waitForHosts() with a timeout of 0 still looks every host up once", async () => {
  const lines: string[] = [];
  // Lookups that take a while, as DNS does: with no time left, each still gets its answer.
  const slow = (h: string) => new Promise<string>((r) => setTimeout(() => r(`addr-of-${h}`), 30));
  await waitForHosts(
    ["algo-1", "algo-2", "algo-3"],
    0,
    new Logger({}, (l) => lines.push(l)),
    10_000,
    slow,
  );
  deepEqual(lines, []);
});

Deno.test("waitForHosts() prints progress and fails with exit 69 naming what never resolved", async () => {
  const lines: string[] = [];
  const log = new Logger({}, (l) => lines.push(l));
  const e = await waitForHosts(["localhost", "never-resolves.invalid"], 1, log, 200).then(
    () => null,
    (x) => x,
  );
  if (!(e instanceof HostWaitError)) throw new Error(`expected a HostWaitError, got ${e}`);
  match(e.message, /within 1 s: never-resolves\.invalid \(resolved 1 of 2\)/);
  equal(e.exitCode, 69);
  ok(
    lines.some((l) => /waiting for 1 of 2 hosts to resolve: never-resolves\.invalid/.test(l)),
    lines.join("\n"),
  );
});

Deno.test("waitForHosts() with a timeout of 0 looks a host up once, then fails; progress waits its interval", async () => {
  const lines: string[] = [];
  const log = new Logger({}, (l) => lines.push(l));
  const calls: string[] = [];
  const never = (h: string) => {
    calls.push(h);
    return Promise.resolve(null);
  };
  const once = await waitForHosts(["algo-2"], 0, log, 10_000, never).then(() => null, (x) => x);
  ok(once instanceof HostWaitError, String(once));
  deepEqual(calls, ["algo-2"]);
  // Within a 1 s wait, a progress line due every minute never comes.
  const e = await waitForHosts(["algo-3"], 1, log, 60_000, never).then(() => null, (x) => x);
  ok(e instanceof HostWaitError, String(e));
  deepEqual(lines, []);
});

Deno.test("waitForHosts() keeps one lookup per host running across passes, and counts one that ends between them", async () => {
  const calls = new Map<string, number>();
  const hosts = Array.from({ length: 1024 }, (_, i) => `algo-${i}`);
  // algo-0's lookup ends after the first pass's 5 s wait; the others hang, as a resolver can.
  const hanging = (h: string) => {
    calls.set(h, (calls.get(h) ?? 0) + 1);
    return h === "algo-0"
      ? new Promise<string | null>((done) => setTimeout(() => done("10.0.0.1"), 5300))
      : new Promise<string | null>(() => {});
  };
  const log = new Logger({}, () => {});
  // 6 s: the first pass's 5 s, then a second pass until the deadline.
  const e = await waitForHosts(hosts, 6, log, 60_000, hanging).then(() => null, (x) => x);
  ok(e instanceof HostWaitError, String(e));
  match(e.message, /\(resolved 1 of 1024\)$/);
  ok(!e.message.includes("algo-0,"), e.message);
  deepEqual(new Set(calls.values()), new Set([1]));
  equal(calls.size, 1024);
});

Deno.test("apply() adds no second passwd entry for a uid that has one, and starts its line on a line of its own", async () => {
  using tmp = tempDir();
  const path = `${tmp.path}/passwd`;
  const run = (line: string) =>
    apply(
      {
        dirs: [],
        files: [],
        runtimeDir: "/nowhere",
        steps: [{ step: "passwd-entry", path, line }],
      } as never,
      {
        log: new Logger({}, () => {}),
        env: {},
        found: {},
      },
    );
  // Its uid (the third field) is there, under another name and group: nothing is added.
  const had = "root:x:0:0:root:/root:/bin/sh\nold:x:54321:999::/home/old:/bin/sh";
  Deno.writeTextFileSync(path, had);
  await run("user54321:x:54321:100::/tmp:/bin/sh");
  equal(Deno.readTextFileSync(path), had);
  // A file whose last line has no newline: the entry does not join it.
  await run("user100:x:100:54321::/tmp:/bin/sh");
  equal(Deno.readTextFileSync(path), `${had}\nuser100:x:100:54321::/tmp:/bin/sh\n`);
});

Deno.test("apply() adds no passwd entry to a file over the read limit or one that is no regular file, with a warning", async () => {
  using tmp = tempDir();
  const line = "user54321:x:54321:100::/tmp:/bin/sh";
  const run = async (path: string) => {
    const lines: string[] = [];
    await apply(
      {
        dirs: [],
        files: [],
        runtimeDir: "/nowhere",
        steps: [{ step: "passwd-entry", path, line }],
      } as never,
      { log: new Logger({}, (l) => lines.push(l)), env: {}, found: {} },
    );
    return lines.join("\n");
  };
  // Grown past the 16 MiB a start reads of it since the snapshot: not read whole, nothing added.
  const large = `${tmp.path}/passwd`;
  const big = "root:x:0:0:root:/root:/bin/sh\n" + `${"#".repeat(1023)}\n`.repeat(16 * 1024);
  Deno.writeTextFileSync(large, big);
  match(
    await run(large),
    /could not add uid 54321 to .*\/passwd \(larger than 16777216 bytes\): whoami and ~user lookups will fail/,
  );
  equal(Deno.readTextFileSync(large), big);
  // A device (here one that takes anything: /dev/null bound over /etc/passwd) and a socket are
  // never read, and nothing is written to them.
  const device = `${tmp.path}/device`;
  Deno.symlinkSync("/dev/null", device);
  match(await run(device), /could not add uid 54321 to .*\/device \(not a regular file\)/);
  const socket = `${tmp.path}/socket`;
  using _listener = Deno.listen({ transport: "unix", path: socket });
  match(await run(socket), /could not add uid 54321 to .*\/socket \(not a regular file\)/);
});

Deno.test("cutUtf8() never splits a character", () => {
  equal(cutUtf8("aé", 2), "a");
  equal(cutUtf8("aé", 3), "aé");
  equal(cutUtf8("€€", 4), "€");
  equal(cutUtf8("plain", 100), "plain");
});

Deno.test("failureText() names the code or the signal and keeps the stderr tail within 1024 bytes", () => {
  equal(
    failureText(["python3", "t.py"], { kind: "exited", code: 3 }, "boom\n"),
    "Command python3 t.py exited with code 3\nboom",
  );
  match(
    failureText(["x"], { kind: "signaled", signal: 9 }, ""),
    /killed by signal SIGKILL \(9\), perhaps out of memory/,
  );
  ok(
    new TextEncoder().encode(failureText(["x"], { kind: "exited", code: 1 }, "€".repeat(2000)))
      .length <= 1024,
  );
  // A long stderr keeps its end (the traceback's last lines), not its beginning.
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n");
  const report = failureText(["x"], { kind: "exited", code: 1 }, lines);
  ok(report.startsWith("Command x exited with code 1\n"), report.slice(0, 60));
  ok(report.endsWith("line 999"), report.slice(-60));
  ok(new TextEncoder().encode(report).length <= 1024);
});

Deno.test("failureText() cuts a long command, so the exit and the stderr tail still fit", () => {
  const command = [
    "python3",
    "train.py",
    ...Array.from({ length: 40 }, (_, i) => `--p${i}=value-${i}-abcdef`),
  ];
  const report = failureText(
    command,
    { kind: "exited", code: 3 },
    "RuntimeError: CUDA out of memory\n",
  );
  match(report, /^Command python3 train\.py --p0=value-0-abcdef .* \.\.\. exited with code 3\n/);
  ok(report.endsWith("RuntimeError: CUDA out of memory"), report);
  ok(new TextEncoder().encode(report).length <= 1024);
});

Deno.test("a passwd entry that a read-only file system refuses is a warning, not exit 78", async () => {
  using tmp = tempDir();
  const script = `${tmp.path}/apply_passwd.ts`;
  Deno.writeTextFileSync(
    script,
    `import { apply } from ${JSON.stringify(`${ROOT}/apply.ts`)};
import { Logger } from ${JSON.stringify(`${ROOT}/log.ts`)};
const path = Deno.args[0]!;
const plan = { dirs: [], files: [], runtimeDir: "/nowhere", steps: [
  { step: "passwd-entry", path, line: "user54321:x:54321:54321::/tmp:/bin/sh" },
] };
await apply(plan as never, { log: new Logger({}, (l) => console.log(l)), env: {}, found: {} });
console.log("applied");
`,
  );
  const ro = `${tmp.path}/ro`;
  Deno.mkdirSync(ro);
  // A private mount namespace: a read-only tmpfs holding the passwd file.
  const sh = [
    `mount -t tmpfs none ${shellQuote(ro)}`,
    `echo 'root:x:0:0:root:/root:/bin/sh' > ${shellQuote(ro)}/passwd`,
    `mount -o remount,ro ${shellQuote(ro)}`,
    `exec ${shellQuote(Deno.execPath())} run -A --quiet ${shellQuote(script)} ${
      shellQuote(ro)
    }/passwd`,
  ].join(" && ");
  const r = await runProcess(["unshare", "-m", "sh", "-c", sh]);
  equal(r.code, 0, r.stdout + r.stderr);
  match(
    r.stdout,
    /could not add uid 54321 to .*\/passwd \(open: read-only file system\): whoami and ~user lookups will fail/,
  );
  match(r.stdout, /applied/);
});

Deno.test("a passwd entry that an immutable /etc/passwd refuses (EPERM, even to root) is a warning, not exit 78", async () => {
  using tmp = tempDir();
  const path = `${tmp.path}/passwd`;
  Deno.writeTextFileSync(path, "root:x:0:0:root:/root:/bin/sh\n");
  const lines: string[] = [];
  const plan = {
    dirs: [],
    files: [],
    runtimeDir: "/nowhere",
    steps: [{ step: "passwd-entry", path, line: "user54321:x:54321:54321::/tmp:/bin/sh" }],
  };
  equal((await runProcess(["chattr", "+i", path])).code, 0);
  try {
    await apply(plan as never, { log: new Logger({}, (l) => lines.push(l)), env: {}, found: {} });
  } finally {
    await runProcess(["chattr", "-i", path]);
  }
  ok(
    lines.some((l) => /could not add uid 54321 to .*\(open: operation not permitted\)/.test(l)),
    lines.join("\n"),
  );
  equal(Deno.readTextFileSync(path), "root:x:0:0:root:/root:/bin/sh\n");
});

Deno.test("a passwd entry that root without CAP_DAC_OVERRIDE may not write is a warning too, not exit 78", async () => {
  using tmp = tempDir(0o755);
  const script = `${tmp.path}/apply_passwd.ts`;
  Deno.writeTextFileSync(
    script,
    `import { apply } from ${JSON.stringify(`${ROOT}/apply.ts`)};
import { Logger } from ${JSON.stringify(`${ROOT}/log.ts`)};
const plan = { dirs: [], files: [], runtimeDir: "/nowhere", steps: [
  { step: "passwd-entry", path: Deno.args[0]!, line: "user54321:x:54321:54321::/tmp:/bin/sh" },
] };
await apply(plan as never, { log: new Logger({}, (l) => console.log(l)), env: {}, found: {} });
console.log("applied");
`,
  );
  // Another uid's file that only its owner may write: root needs CAP_DAC_OVERRIDE to append.
  const passwd = `${tmp.path}/passwd`;
  Deno.writeTextFileSync(passwd, "root:x:0:0:root:/root:/bin/sh\n");
  Deno.chownSync(passwd, 2000, 2000);
  Deno.chmodSync(passwd, 0o644);
  const r = await runProcess([
    "setpriv",
    "--bounding-set",
    "-dac_override",
    "--inh-caps=-all",
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    script,
    passwd,
  ]);
  equal(r.code, 0, r.stdout + r.stderr);
  match(
    r.stdout,
    /could not add uid 54321 to .*\/passwd \(open: permission denied\): whoami and ~user lookups will fail/,
  );
  match(r.stdout, /applied/);
  equal(Deno.readTextFileSync(passwd), "root:x:0:0:root:/root:/bin/sh\n");
});

Deno.test("before-apply hooks get a variable that points into a folder the plan makes as found: it does not exist yet", async () => {
  using tmp = tempDir(0o755);
  const conf = `${tmp.path}/run/spark-conf`;
  const phase = `${tmp.path}/hooks/before-apply`;
  Deno.mkdirSync(phase, { recursive: true });
  const out = `${tmp.path}/seen`;
  Deno.writeTextFileSync(
    `${phase}/10-show`,
    `#!/bin/sh\necho "conf=\${SPARK_CONF_DIR-unset} there=$(test -d "$SPARK_CONF_DIR" && echo yes)" > ${out}\n`,
  );
  Deno.chmodSync(`${phase}/10-show`, 0o755);
  const run = (found: Record<string, string>) =>
    apply(
      {
        dirs: [{ path: conf, mode: "0755" }],
        files: [],
        runtimeDir: `${tmp.path}/run`,
        user: null,
        steps: [{ step: "hooks", phase: "before-apply", dir: phase, hooks: ["10-show"] }],
        failureReport: null,
        secrets: [],
      } as never,
      {
        log: new Logger({}, () => {}),
        env: { PATH: "/usr/bin:/bin", SPARK_CONF_DIR: conf },
        found: { PATH: "/usr/bin:/bin", ...found },
      },
    );
  await run({});
  equal(Deno.readTextFileSync(out), "conf=unset there=\n");
  await run({ SPARK_CONF_DIR: "/opt/spark/conf" });
  equal(Deno.readTextFileSync(out), "conf=/opt/spark/conf there=\n");
  ok(Deno.statSync(conf).isDirectory, "apply made the folder after the hook");
});

Deno.test("a passwd file made a FIFO after apply read it gets no line written into it, with a warning", async () => {
  using tmp = tempDir();
  const path = `${tmp.path}/passwd`;
  Deno.writeTextFileSync(path, "root:x:0:0:root:/root:/bin/sh\n");
  const script = `${tmp.path}/apply_passwd.ts`;
  Deno.writeTextFileSync(
    script,
    `import { apply } from ${JSON.stringify(`${ROOT}/apply.ts`)};
import { Logger } from ${JSON.stringify(`${ROOT}/log.ts`)};
const plan = { dirs: [], files: [], runtimeDir: "/nowhere", steps: [
  { step: "passwd-entry", path: Deno.args[0]!, line: "user54321:x:54321:54321::/tmp:/bin/sh" },
] };
await apply(plan as never, { log: new Logger({}, (l) => console.log(l)), env: {}, found: {} });
console.log("applied");
`,
  );
  const fifo = `${tmp.path}/fifo`;
  equal((await runProcess(["mkfifo", fifo])).code, 0);
  const trace = `${tmp.path}/trace`;
  // Stopped right after the statx of the descriptor the passwd file was read from.
  const child = new Deno.Command("strace", {
    args: [
      ...["-f", "-qq", "-o", trace, "-P", path],
      ...["-e", "trace=statx", "-e", "inject=statx:signal=STOP:when=1"],
      ...[Deno.execPath(), "run", "-A", "--quiet", script, path],
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let pid: number | undefined;
  try {
    pid = await waitFor(
      "the stop after the statx",
      () => stoppedAfterStatx(Deno.readTextFileSync(trace)),
      120_000,
    );
  } finally {
    if (pid === undefined) child.kill("SIGKILL");
  }
  // A reader on the FIFO (by another name of it): a write into it would come out here.
  const pipe = `${tmp.path}/pipe`;
  Deno.linkSync(fifo, pipe);
  const reader = new Deno.Command("cat", { args: [pipe], stdout: "piped" }).spawn();
  const read = reader.output();
  Deno.renameSync(fifo, path);
  Deno.kill(pid, "SIGCONT");
  const out = await output;
  const stdout = new TextDecoder().decode(out.stdout);
  equal(out.code, 0, stdout + new TextDecoder().decode(out.stderr));
  match(stdout, /could not add uid 54321 to .*\/passwd \(not a regular file\)/);
  match(stdout, /applied/);
  // The reader got no line. A writer that opens and closes ends its read, if the start did not
  // (a FIFO opened for reading and writing waits for no one).
  Deno.openSync(path, { read: true, write: true }).close();
  equal(new TextDecoder().decode((await read).stdout), "");
});
