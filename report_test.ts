import { deepEqual, equal, match } from "@std/assert";
import { Logger } from "./log.ts";
import { failureText, hiddenStderr, STDERR_TAIL, stderrKept, writeReport } from "./report.ts";
import { secretForms } from "./secrets.ts";
import { ROOT, runProcess, tempDir } from "./tests/helpers.ts";

Deno.test("failureText() names the signals that crash programs", () => {
  for (
    const [n, name] of [[4, "SIGILL"], [6, "SIGABRT"], [7, "SIGBUS"], [8, "SIGFPE"], [
      11,
      "SIGSEGV",
    ], [31, "SIGSYS"]] as const
  ) {
    match(
      failureText(["python3", "t.py"], { kind: "signaled", signal: n }, ""),
      new RegExp(`killed by signal ${name} \\(${n}\\)$`),
    );
  }
});

Deno.test("failureText() names the signals of resource limits and the other fatal ones", () => {
  for (
    const [n, name] of [
      [14, "SIGALRM"],
      [16, "SIGSTKFLT"],
      [24, "SIGXCPU"],
      [25, "SIGXFSZ"],
      [26, "SIGVTALRM"],
      [27, "SIGPROF"],
      [29, "SIGIO"],
      [30, "SIGPWR"],
    ] as const
  ) {
    match(
      failureText(["python3", "t.py"], { kind: "signaled", signal: n }, ""),
      new RegExp(`killed by signal ${name} \\(${n}\\)$`),
    );
  }
});

Deno.test("hiddenStderr() hides a known secret, a URL's password and a signature that the tail's cut splits, from what stderrKept() keeps", () => {
  const token = "tok_" + "0123456789abcdef".repeat(8);
  const known = secretForms([token]);
  const url = "postgres://admin:unnamed-pw-canary@db:5432/x";
  const signed = "https://b.s3.amazonaws.com/k?X-Amz-Signature=sig-canary-" + "0a".repeat(20) +
    "&part=2";
  // Neither the URL's password nor the signature is a known secret: their places say what they are.
  const cases = [
    { secret: token, cutInside: 40, forms: known, start: /^<redacted>\n/ },
    { secret: url, cutInside: 25, forms: [], start: /^<redacted>@db:5432\/x\n/ },
    {
      secret: signed,
      cutInside: signed.indexOf("canary"),
      forms: [],
      start: /^<redacted>&part=2\n/,
    },
  ];
  for (const { secret, cutInside, forms, start } of cases) {
    // The secret's first bytes fall just before the last STDERR_TAIL bytes of what is kept.
    const after = "\n" + "e".repeat(STDERR_TAIL - (secret.length - cutInside) - 1);
    const stream = "x".repeat(5000) + secret + after;
    const bytes = new TextEncoder().encode(stream);
    const kept = bytes.subarray(bytes.length - stderrKept(forms));
    const shown = hiddenStderr(kept, forms);
    equal(shown.endsWith(after), true);
    // What the cut left of it is hidden whole, and what follows it is kept.
    match(shown, start);
    equal(/0123456789abcdef|unnamed-pw|canary/.test(shown), false, shown.slice(0, 80));
  }
});

Deno.test("writeReport() writes the reason whole once, keeps one the program wrote, and leaves no other file", () => {
  using tmp = tempDir(0o755);
  const lines: string[] = [];
  const log = new Logger({ CHAMELEON_LOG_LEVEL: "debug" }, (l) => lines.push(l));
  const path = `${tmp.path}/output/failure`;
  // A file left by an earlier start of the same pid (PID 1 in every container) is no obstacle.
  Deno.mkdirSync(`${tmp.path}/output`);
  Deno.writeTextFileSync(`${path}.chameleon-${Deno.pid}`, "stale");
  equal(writeReport(path, "chameleon: first (exit 78)", log), true);
  equal(writeReport(path, "chameleon: second (exit 1)", log), false);
  equal(Deno.readTextFileSync(path), "chameleon: first (exit 78)");
  deepEqual([...Deno.readDirSync(`${tmp.path}/output`)].map((e) => e.name), ["failure"]);
  match(lines.join("\n"), /exists \(written by the program\): kept/);
});

Deno.test("writeReport() on a full disk leaves no cut reason behind", async () => {
  using tmp = tempDir(0o755);
  const script = `${tmp.path}/write.ts`;
  Deno.writeTextFileSync(
    script,
    `import { Logger } from "${ROOT}/log.ts";\nimport { writeReport } from "${ROOT}/report.ts";\n` +
      `writeReport(Deno.args[0], "chameleon: " + "x".repeat(900), new Logger({}));\n`,
  );
  const out = `${tmp.path}/out`;
  Deno.mkdirSync(out);
  // A file system of 16 KiB, filled up: the reason's bytes cannot be written.
  const r = await runProcess([
    "unshare",
    "--mount",
    "sh",
    "-c",
    [
      `mount -t tmpfs -o size=16k tmpfs ${out}`,
      `dd if=/dev/zero of=${out}/fill bs=1k count=64 2>/dev/null`,
      `${Deno.execPath()} run -A --quiet ${script} ${out}/failure`,
      `ls ${out}`,
    ].join("; "),
  ]);
  equal(r.stdout.trim(), "fill", r.stderr);
  match(r.stderr, /could not write .*failure/);
});

Deno.test("writeReport() creates the folder the report goes in", () => {
  using tmp = tempDir(0o755);
  const path = `${tmp.path}/opt/ml/output/message`;
  equal(writeReport(path, "chameleon: failed (exit 78)", new Logger({})), true);
  equal(Deno.readTextFileSync(path), "chameleon: failed (exit 78)");
});

Deno.test("writeReport() keeps at most 1024 bytes of a long reason, cut on a UTF-8 boundary", () => {
  using tmp = tempDir(0o755);
  const path = `${tmp.path}/failure`;
  equal(writeReport(path, `chameleon: ${"é".repeat(1000)} (exit 127)`, new Logger({})), true);
  const bytes = Deno.readFileSync(path);
  equal(bytes.length, 1023); // "chameleon: " is 11 bytes; then 506 two-byte characters
  equal(new TextDecoder("utf-8", { fatal: true }).decode(bytes), `chameleon: ${"é".repeat(506)}`);
});

Deno.test("writeReport() follows no link another uid planted on the way to the report, and follows root's", async () => {
  using tmp = tempDir(0o755);
  // A folder only root may write, and an /opt/ml that the job's own (unprivileged) code may.
  Deno.mkdirSync(`${tmp.path}/target`, { mode: 0o755 });
  Deno.mkdirSync(`${tmp.path}/ml`);
  Deno.chmodSync(`${tmp.path}/ml`, 0o777);
  Deno.symlinkSync(`${tmp.path}/target`, `${tmp.path}/ml/output`);
  equal((await runProcess(["chown", "-h", "1000:1000", `${tmp.path}/ml/output`])).code, 0);
  const lines: string[] = [];
  const log = new Logger({}, (l) => lines.push(l));
  equal(writeReport(`${tmp.path}/ml/output/failure`, "* * * * * root evil", log), false);
  deepEqual([...Deno.readDirSync(`${tmp.path}/target`)], []);
  match(
    lines.join("\n"),
    /could not write .*\/ml\/output\/failure: on the way, .*\/ml\/output: a symbolic link of uid 1000, not followed/,
  );
  // The same link made by root (the image's own) is followed.
  equal((await runProcess(["chown", "-h", "0:0", `${tmp.path}/ml/output`])).code, 0);
  equal(writeReport(`${tmp.path}/ml/output/failure`, "chameleon: failed", log), true);
  equal(Deno.readTextFileSync(`${tmp.path}/target/failure`), "chameleon: failed");
  deepEqual([...Deno.readDirSync(`${tmp.path}/target`)].map((e) => e.name), ["failure"]);
});

Deno.test("failureText() cuts a long command after escaping it, never through an escape", () => {
  for (let k = 0; k < 8; k++) {
    const text = failureText(
      ["python3", `${"x".repeat(240 + k)}${"\x1b".repeat(3)}${"y".repeat(50)}`],
      { kind: "exited", code: 1 },
      "",
    );
    match(text, /^Command python3 x+(?:\\u001b)* \.\.\. exited with code 1$/);
  }
});
