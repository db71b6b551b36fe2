import { deepEqual, equal, match, ok, throws } from "@std/assert";
import { DEFAULT_CONFIG } from "./config.ts";
import { InputError } from "./errors.ts";
import {
  FILE_LIMIT,
  loadSnapshot,
  parseSnapshot,
  redactSnapshot,
  SPECIAL_NOT_READ,
  takeSnapshot,
  TOKEN_NOT_READ,
} from "./snapshot.ts";
import { listDir, readBounded } from "./sys/fs.ts";
import {
  caught,
  entrypointArgv,
  fixture,
  fixturePath,
  nonBlockingPipe,
  planOf,
  raw,
  runProcess,
  type RunResult,
  serviceLinkEnv,
  shellQuote,
  snap,
  stoppedAfterStatx,
  tempDir,
  waitFor,
} from "./tests/helpers.ts";
import { rng } from "./tests/fuzz.ts";
import { World } from "./world.ts";
import type { Snapshot } from "./types.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const parse = (o: unknown) =>
  parseSnapshot(typeof o === "string" ? o : JSON.stringify(o), "s.json");

Deno.test("parseSnapshot() fills design §4 defaults", () => {
  const s = parse({ schema: "chameleon.snapshot/v1", gid: 100 });
  deepEqual(
    [s.argv, s.env, s.files, s.dirs, s.stat, s.uid, s.groups, s.hostname, s.addresses, s.pid],
    [[], {}, {}, [], {}, 0, [100], "localhost", [], 1],
  );
  equal("unreadable" in s, false, "no unreadable files: no key");
});

Deno.test("parseSnapshot() holds a file over the live 1 MiB limit unreadable, as a live start would", () => {
  const big = "x".repeat(FILE_LIMIT + 1);
  // Two-byte characters: under the limit in UTF-16 units, over it in bytes.
  const wide = "\u00e9".repeat(FILE_LIMIT / 2 + 1);
  const s = parseSnapshot(
    JSON.stringify({
      schema: "chameleon.snapshot/v1",
      files: {
        "/a": big,
        "/b": wide,
        "/c": "x".repeat(FILE_LIMIT),
        // 700,000 invalid bytes read live decode to as many U+FFFD (3 bytes each in UTF-8).
        "/d": "\ufffd".repeat(700_000),
      },
    }),
    "s.json",
  );
  deepEqual(Object.keys(s.files), ["/c", "/d"]);
  deepEqual(s.unreadable, {
    "/a": `larger than ${FILE_LIMIT} bytes`,
    "/b": `larger than ${FILE_LIMIT} bytes`,
  });
});

Deno.test("a replayed /etc/passwd and /etc/group of 50,000 users (some 4 MB) are read, and the OpenShift uid's nss_wrapper copies hold every line", () => {
  const s = fixture("kubernetes-unknown/openshift");
  let passwd = s.files["/etc/passwd"]!;
  let group = s.files["/etc/group"]!;
  for (let i = 0; i < 50_000; i++) {
    const uid = 20_000 + i;
    passwd += `ldap${uid}:x:${uid}:${uid}:LDAP user ${uid}:/home/ldap${uid}:/bin/bash\n`;
    group += `team${uid}:x:${uid}:ldap${uid},ldap${uid + 1}\n`;
  }
  ok(passwd.length > 3 * FILE_LIMIT && group.length > FILE_LIMIT);
  const other = "x".repeat(FILE_LIMIT + 1);
  const text = JSON.stringify({
    ...s,
    files: {
      ...s.files,
      "/etc/passwd": passwd,
      "/etc/group": group,
      "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so": "",
      "/etc/other": other,
    },
  });
  const replayed = parseSnapshot(text, "s.json");
  equal(replayed.files["/etc/passwd"], passwd);
  equal(replayed.files["/etc/group"], group);
  deepEqual(replayed.unreadable, { "/etc/other": `larger than ${FILE_LIMIT} bytes` });
  const p = planOf(new World(replayed));
  const uid = replayed.uid;
  equal(p.env["NSS_WRAPPER_PASSWD"], "/tmp/chameleon/passwd");
  equal(
    p.files.find((f) => f.path === "/tmp/chameleon/passwd")?.content,
    `${passwd}user${uid}:x:${uid}:0:user${uid}:/tmp/chameleon/home/${uid}:/bin/sh\n`,
  );
  equal(p.files.find((f) => f.path === "/tmp/chameleon/group")?.content, group);
  deepEqual(p.warnings.filter((w) => w.includes("larger than")), []);
});

Deno.test("parseSnapshot() rejects bad input with one line naming the field (exit 78)", () => {
  const cases: [unknown, RegExp][] = [
    ["{not json", /^Snapshot s\.json: not valid JSON/],
    [{ schema: "chameleon.snapshot/v2" }, /\/schema: expected "chameleon\.snapshot\/v1"/],
    [{ schema: "chameleon.snapshot/v1", bogus: 1 }, /\/bogus: unknown key "bogus"/],
    [
      { schema: "chameleon.snapshot/v1", env: { A: 1 } },
      /\/env\/A: expected a string, got number 1/,
    ],
    [{ schema: "chameleon.snapshot/v1", argv: "train" }, /\/argv: expected an array/],
    [
      { schema: "chameleon.snapshot/v1", files: { "/a": "x" }, unreadable: { "/a": "denied" } },
      /^Snapshot s\.json: \/unreadable\/~1a: expected a path that is not also in \/files/,
    ],
    // A command word may be a secret flag's value: its type is named, not its value.
    [
      { schema: "chameleon.snapshot/v1", argv: ["python3", "--token", 87654321] },
      /\/argv\/2: expected a string, got number <redacted>$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", argv: "python3 --token s3cr3t-canary" },
      /\/argv: expected an array, got string <redacted>$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", argv: 'python3 --config {"api_key":"json-canary"}' },
      /\/argv: expected an array, got string <redacted>$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", uid: -1 },
      /\/uid: expected an integer from 0 to 4294967294/,
    ],
    [{ schema: "chameleon.snapshot/v1", uid: 1e20 }, /\/uid: expected an integer from 0 to/],
    [{ schema: "chameleon.snapshot/v1", groups: [0, 4294967295] }, /\/groups\/1: expected an/],
    [
      { schema: "chameleon.snapshot/v1", stat: { "/x": { uid: 0, gid: 0, mode: "rwx" } } },
      // The path as a JSON pointer token (RFC 6901), as every other snapshot error writes it.
      /: \/stat\/~1x\/mode: expected octal/,
    ],
    [{
      schema: "chameleon.snapshot/v1",
      stat: { "/x": { uid: 0, gid: 0, mode: "0755", extra: 1 } },
    }, /unknown key "extra"/],
    // The whole text is octal, not only its start.
    [
      { schema: "chameleon.snapshot/v1", stat: { "/x": { uid: 0, gid: 0, mode: "0755x" } } },
      /: \/stat\/~1x\/mode: expected octal text such as "0755", got "0755x"$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", pid: -1 },
      /: \/pid: expected a non-negative integer, got number -1$/,
    ],
    // Every path a snapshot holds is absolute: folders, stat entries and unreadable files too,
    // each named by its field's pointer (design 4: the error names the key).
    [
      { schema: "chameleon.snapshot/v1", files: { "relative": "" } },
      /: \/files\/relative: expected an absolute path as the key, got "relative"$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", dirs: ["/ok", "rel/dir"] },
      /: \/dirs\/1: expected an absolute path, got "rel\/dir"$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", stat: { "rel/x": { uid: 0, gid: 0, mode: "0755" } } },
      /: \/stat\/rel~1x: expected an absolute path as the key, got "rel\/x"$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", unreadable: { "rel.json": "permission denied" } },
      /: \/unreadable\/rel\.json: expected an absolute path as the key, got "rel\.json"$/,
    ],
    // Duplicate keys, a top level that is no object, a missing required field, a number JSON
    // cannot hold: each named, as the other malformed cases are.
    [
      '{"schema":"chameleon.snapshot/v1","env":{},"env":{"A":"1"}}',
      /top level: key "env" appears twice$/,
    ],
    ['{"schema":"chameleon.snapshot/v1","env":{"A":"1","A":"2"}}', /\/env: key "A" appears twice$/],
    ["null", /top level: expected an object, got null$/],
    ['"chameleon.snapshot/v1"', /top level: expected an object, got string/],
    [{ argv: [] }, /: \/schema: expected "chameleon\.snapshot\/v1", got nothing \(missing\)$/],
    [
      { schema: "chameleon.snapshot/v1", stat: { "/h": { uid: 1000, mode: "0755" } } },
      /: \/stat\/~1h\/gid: expected an integer from 0 to 4294967294, got nothing \(missing\)$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", stat: { "/h": { uid: -1, gid: 0, mode: "0755" } } },
      /: \/stat\/~1h\/uid: expected an integer from 0 to 4294967294, got number -1$/,
    ],
    [
      '{"schema":"chameleon.snapshot/v1","gid":1e400}',
      /: \/gid: expected an integer from 0 to 4294967294, got number Infinity$/,
    ],
    [{ schema: "chameleon.snapshot/v1", gid: -5 }, /: \/gid: expected an integer from 0 to/],
    [{ schema: "chameleon.snapshot/v1", uid: 1.5 }, /: \/uid: expected an integer from 0 to/],
    [{ schema: "chameleon.snapshot/v1", stat: [] }, /: \/stat: expected an object, got an array$/],
    [
      { schema: "chameleon.snapshot/v1", unreadable: { "/a": 1 } },
      /: \/unreadable\/~1a: expected a string/,
    ],
    // addresses: the host's non-loopback IPv4 addresses (design 4), as a capture records them.
    ...["x", "::1", "10.0.0.256", "127.0.0.1", " 10.0.0.1", "010.0.0.1"].map((
      a,
    ): [unknown, RegExp] => [
      { schema: "chameleon.snapshot/v1", addresses: ["10.0.1.23", a] },
      new RegExp(
        `: /addresses/1: expected a non-loopback IPv4 address such as "10\\.0\\.1\\.23", got ${
          JSON.stringify(a).replace(/\./g, "\\.")
        }$`,
      ),
    ]),
    [
      { schema: "chameleon.snapshot/v1", pid: 0 },
      /: \/pid: expected a process id from 1, got number 0$/,
    ],
    [
      { schema: "chameleon.snapshot/v1", hostname: 5 },
      /: \/hostname: expected a string, got number 5$/,
    ],
    // A mode is three or four octal digits after an optional 0, nothing before or after them.
    ...["x0755", "55", "077777"].map((mode): [unknown, RegExp] => [
      { schema: "chameleon.snapshot/v1", stat: { "/x": { uid: 0, gid: 0, mode } } },
      new RegExp(`/stat/~1x/mode: expected octal text such as "0755", got "${mode}"$`),
    ]),
    [[], /top level: expected an object/],
  ];
  for (const [input, re] of cases) {
    const e = caught(() => parse(input), `an error for ${JSON.stringify(input)}`);
    if (!(e instanceof InputError)) throw new Error(`not an InputError: ${e}`);
    equal(e.exitCode, 78);
    match(e.message, re);
    equal(e.message.includes("\n"), false);
  }
});

Deno.test("loadSnapshot() reads a pipe to its end, and refuses a device that never ends (exit 78)", async () => {
  using tmp = tempDir();
  const fifo = `${tmp.path}/snapshot`;
  new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
  const text = Deno.readTextFileSync(fixturePath("sagemaker-training/multi-host"));
  // Written in pieces larger than one read, as a process substitution would.
  const writer = (async () => {
    using w = await Deno.open(fifo, { write: true });
    const bytes = new TextEncoder().encode(text.padEnd(200_000));
    for (let i = 0; i < bytes.length; i += 70_000) await w.write(bytes.subarray(i, i + 70_000));
  })();
  const s = await loadSnapshot(fifo);
  await writer;
  deepEqual(s, fixture("sagemaker-training/multi-host"));
  const e = await loadSnapshot("/dev/zero").then(() => undefined, (e) => e);
  ok(e instanceof InputError);
  equal(e.message, "Snapshot /dev/zero: larger than 67108864 bytes");
});

Deno.test("loadSnapshot() waits on a non-blocking pipe fed slowly in small pieces, by its /dev/fd name", async () => {
  // A parent process may hand its pipe over non-blocking: "not now" is waited on, not an error.
  const [r, w] = nonBlockingPipe({ asGiven: true });
  const reading = loadSnapshot(`/dev/fd/${r}`);
  const bytes = new TextEncoder().encode(
    Deno.readTextFileSync(fixturePath("sagemaker-training/multi-host")),
  );
  const piece = Math.ceil(bytes.length / 20);
  for (let at = 0; at < bytes.length;) {
    await sleep(5);
    const part = bytes.subarray(at, at + piece);
    const n = Number(raw().write(w, part, BigInt(part.length)));
    if (n > 0) at += n;
  }
  raw().close(w);
  const s = await reading;
  raw().close(r);
  deepEqual(s, fixture("sagemaker-training/multi-host"));
});

Deno.test("loadSnapshot() and writeStream() use the descriptor a standard name stands for, where it stands, and leave it open", async () => {
  using tmp = tempDir();
  const script = `${tmp.path}/streams.ts`;
  // Reads its input twice and writes each result on its own: a descriptor opened anew would
  // read the input from its start and truncate the output; one closed would fail the second
  // time with "bad file descriptor" rather than find the input at its end.
  Deno.writeTextFileSync(
    script,
    `import { loadSnapshot } from ${JSON.stringify(new URL("./snapshot.ts", import.meta.url).href)};
import { writeStream } from ${JSON.stringify(new URL("./sys/stream.ts", import.meta.url).href)};
const [input, output] = Deno.args;
const load = () => loadSnapshot(input!).then((s) => s.env["A"], (e) => e.message);
const first = await load();
const second = await load();
await writeStream(output!, JSON.stringify(first) + "\\n");
await writeStream(output!, JSON.stringify(second) + "\\n");
`,
  );
  const inputFile = `${tmp.path}/input`;
  Deno.writeTextFileSync(
    inputFile,
    'first\n{"schema": "chameleon.snapshot/v1", "env": {"A": "rest"}}',
  );
  const cases: [string, string, number][] = [
    ["-", "-", 1],
    ["/dev/stdin", "/dev/stdout", 1],
    ["/dev/fd/0", "/dev/stderr", 2],
    ["/proc/self/fd/0", "/proc/self/fd/2", 2],
  ];
  for (const [input, output, fd] of cases) {
    const out = [`${tmp.path}/out1`, `${tmp.path}/out2`];
    // dd reads the first 6 bytes from the same open file first: stdin then stands after them.
    const r = await runProcess([
      "sh",
      "-c",
      `{ dd bs=6 count=1 of=/dev/null 2>/dev/null; exec "$@"; } < ${inputFile} > ${out[0]} 2> ${
        out[1]
      }`,
      "sh",
      ...entrypointArgv(script),
      input,
      output,
    ], { cwd: tmp.path });
    equal(r.code, 0, r.stderr);
    equal(
      Deno.readTextFileSync(out[fd - 1]!),
      `"rest"\n${
        JSON.stringify(`Snapshot ${input}: not valid JSON (Unexpected end of JSON input)`)
      }\n`,
      `${input} ${output}`,
    );
  }
});

Deno.test("loadSnapshot() refuses bytes that are not UTF-8, from a file or a pipe (exit 78), rather than replacing them", async () => {
  using tmp = tempDir();
  const text = Deno.readTextFileSync(fixturePath("sagemaker-training/multi-host"));
  const at = text.indexOf('"env": {') + '"env": {'.length;
  const bytes = new Uint8Array([
    ...new TextEncoder().encode(text.slice(0, at) + '"NAME": "j'),
    0xe9, // latin-1 e-acute: no UTF-8 sequence starts and ends with it
    ...new TextEncoder().encode('b",' + text.slice(at)),
  ]);
  const file = `${tmp.path}/latin1.json`;
  Deno.writeFileSync(file, bytes);
  const fifo = `${tmp.path}/pipe`;
  new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
  const writer = (async () => {
    using w = await Deno.open(fifo, { write: true });
    await w.write(bytes);
  })();
  for (const path of [file, fifo]) {
    const e = await loadSnapshot(path).then(() => undefined, (e) => e);
    ok(e instanceof InputError, String(e));
    equal(e.message, `Snapshot ${path}: not valid UTF-8 (JSON text must be)`);
  }
  await writer;
  // The same text in UTF-8 is a snapshot.
  Deno.writeTextFileSync(file, new TextDecoder().decode(bytes));
  equal((await loadSnapshot(file)).env["NAME"], "j\ufffdb");
});

Deno.test("loadSnapshot() refuses a folder, a missing file, and a regular file over 64 MiB before reading it (exit 78)", async () => {
  using tmp = tempDir();
  const dir = await loadSnapshot(tmp.path).then(() => undefined, (e) => e);
  ok(dir instanceof InputError, String(dir));
  equal(dir.message, `Snapshot ${tmp.path}: is a folder, expected a file`);
  const missing = await loadSnapshot(`${tmp.path}/none.json`).then(() => undefined, (e) => e);
  ok(missing instanceof InputError, String(missing));
  equal(missing.message, `Snapshot ${tmp.path}/none.json: no such file`);
  // A sparse file: its size alone refuses it, whatever it holds.
  const big = `${tmp.path}/big.json`;
  using f = Deno.openSync(big, { write: true, create: true });
  f.truncateSync(64 * 1024 * 1024 + 1);
  const e = await loadSnapshot(big).then(() => undefined, (e) => e);
  ok(e instanceof InputError, String(e));
  equal(e.message, `Snapshot ${big}: larger than 67108864 bytes`);
});

Deno.test("--snapshot /dev/stdin replays what a pipe gives, under the entrypoint's own permissions", async () => {
  const text = Deno.readTextFileSync(fixturePath("sagemaker-training/multi-host"));
  const r = await runProcess(
    [...entrypointArgv(), "--snapshot", "/dev/stdin", "--format", "json"],
    {
      stdin: text,
    },
  );
  equal(r.code, 0, r.stderr);
  equal(JSON.parse(r.stdout).context.platform, "sagemaker");
});

/**
 * `--explain --snapshot /dev/fd/N` by a shell that first ran `setup` (its redirections), in one
 * process of at most 60 s: a read that waits forever ends there with 124, not the refusal.
 */
function explainFd(setup: string, fd: number | "-", opts: { stdin?: string } = {}) {
  const args = ["--explain", "--format", "json", "--snapshot", fd === "-" ? "-" : `/dev/fd/${fd}`];
  return runProcess([
    "timeout",
    "60",
    "bash",
    "-c",
    `${setup}\nexec "$@"`,
    "bash",
    ...entrypointArgv(),
    ...args,
  ], opts);
}

/** The one-line refusal of an explaining start: exit 78, nothing on stdout, no stack trace. */
function refused(r: RunResult, reason: string, what: string): void {
  equal(r.code, 78, `${what}: ${r.stderr}`);
  equal(r.stdout, "", what);
  equal(r.stderr.trimEnd().split("\n").length, 1, `${what}: ${r.stderr}`);
  ok(r.stderr.endsWith(`: ${reason}\n`), `${what}: ${r.stderr}`);
}

Deno.test("--snapshot /dev/fd/N refuses in one line (exit 78) a descriptor it was not given, one open for writing only, a folder and a listening socket", async () => {
  using tmp = tempDir();
  // Started with 0, 1 and 2 only: 3 and up are the runtime's own (its event loop, eventfd,
  // signal socket), which a read waited on forever.
  const runtime = "not a descriptor the entrypoint was started with (its runtime opened it)";
  for (const fd of [3, 4, 5, 6, 7]) refused(await explainFd("", fd), runtime, `fd ${fd}`);
  refused(await explainFd("", 900), "not an open file descriptor", "fd 900");
  // A pipe's write end never polls readable: the read waited forever.
  const writeOnly = "not open for reading";
  refused(await explainFd("exec 3> >(cat > /dev/null)", 3), writeOnly, "a pipe's write end");
  refused(await explainFd(`exec 3> ${tmp.path}/out`, 3), writeOnly, "a file open for writing");
  refused(await explainFd(`exec 3< ${tmp.path}`, 3), "is a folder, expected a file", "a folder");
  refused(await explainFd(`exec < ${tmp.path}`, "-"), "is a folder, expected a file", "- a folder");
  // A listening socket (as socket activation hands one over) gives connections, never bytes.
  const listen = await runProcess([
    "timeout",
    "60",
    "/usr/bin/python3",
    "-c",
    "import os, socket, sys\n" +
    "s = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen()\n" +
    "os.dup2(s.fileno(), 3)\nos.set_inheritable(3, True)\nos.execv(sys.argv[2], sys.argv[2:])",
    `${tmp.path}/socket`,
    ...entrypointArgv(),
    "--explain",
    "--snapshot",
    "/dev/fd/3",
  ]);
  refused(listen, "a listening socket, which gives connections, not bytes", "a listening socket");
});

Deno.test("--snapshot /dev/fd/N reads a file, a pipe or a connected socket it was given, and a terminal to its end", async () => {
  const path = fixturePath("sagemaker-training/multi-host");
  const platform = (r: RunResult, what: string) => {
    equal(r.code, 0, `${what}: ${r.stderr}`);
    equal(JSON.parse(r.stdout).context.platform, "sagemaker", what);
  };
  platform(await explainFd(`exec 3< ${shellQuote(path)}`, 3), "a file");
  platform(await explainFd(`exec 3< <(cat ${shellQuote(path)})`, 3), "a pipe");
  // A socket cannot be opened anew by its /dev/fd name: the descriptor itself is read.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const running = explainFd(`exec 3<> /dev/tcp/127.0.0.1/${listener.addr.port}`, 3);
  {
    using conn = await listener.accept();
    await conn.write(Deno.readFileSync(path));
    await conn.closeWrite();
    platform(await running, "a connected socket");
  }
  // A terminal is read to its end (^D at the start of a line), as cat reads one; script(1)
  // gives the entrypoint one, echoing what it is fed before the plan.
  const entry = [...entrypointArgv(), "--explain", "--format", "json", "--snapshot", "-"]
    .map(shellQuote).join(" ");
  const tty = await runProcess(["timeout", "60", "script", "-qec", entry, "/dev/null"], {
    stdin: '{"schema": "chameleon.snapshot/v1", "env": {"TRAINING_JOB_NAME": "j"}}\n\x04',
  });
  equal(tty.code, 0, tty.stderr);
  const plan = tty.stdout.slice(tty.stdout.indexOf("\n{"));
  equal(JSON.parse(plan).context.platform, "sagemaker", tty.stdout);
});

/**
 * Waits until a thread of process `pid` waits in poll() (a FIFO opened without waiting is then
 * waited on for its writer, on a worker thread).
 */
async function waitInPoll(pid: number, what: string): Promise<void> {
  const waiting = (w: string) => w.startsWith("poll_schedule_timeout");
  // Deno's own API wants --allow-all for /proc: the project's reader does not.
  const wchan = (task: string) => {
    const r = readBounded(`/proc/${pid}/task/${task}/wchan`, 256);
    return r.kind === "ok" ? r.text : "";
  };
  await waitFor(
    what,
    () => (listDir(`/proc/${pid}/task`) ?? []).some((t) => waiting(wchan(t))) ? true : undefined,
    10_000,
    20,
  );
}

Deno.test("a replay waiting for a pipe's writer still ends on SIGTERM (143)", async () => {
  using tmp = tempDir();
  const fifo = `${tmp.path}/snapshot`;
  new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
  const argv = entrypointArgv();
  const child = new Deno.Command(argv[0]!, {
    args: [...argv.slice(1), "--snapshot", fifo],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // The FIFO has no writer yet: opened without waiting (what it is is asked of the descriptor),
  // the wait is a poll's. The signal listener exists once main.ts runs.
  await waitInPoll(child.pid, "the replay to wait in poll() for a writer");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const status = await child.status;
  clearTimeout(timer);
  equal(status.code, 143, "ended by SIGTERM, not by the SIGKILL 10 s later");
});

/**
 * The thread that strace (`-f -o FILE`) traced making its first statx or openat and saw stopped
 * by SIGSTOP after it, with that call's name, from its output; undefined until both are there.
 */
function stoppedAfterFirstLook(trace: string): { pid: number; call: string } | undefined {
  const m = /^(\d+)\s+(statx|openat)\(/m.exec(trace);
  if (m === null || !stops(trace, Number(m[1]))) return undefined;
  return { pid: Number(m[1]), call: m[2]! };
}

/** How often strace saw thread `pid` stopped by SIGSTOP. */
function stops(trace: string, pid: number): number {
  return trace.match(new RegExp(`^${pid}\\s+--- stopped by SIGSTOP`, "gm"))?.length ?? 0;
}

Deno.test("a replay reads the snapshot file its path named when first looked at, not one put there after", async () => {
  using tmp = tempDir();
  const file = `${tmp.path}/snapshot.json`;
  Deno.copyFileSync(fixturePath("sagemaker-training/multi-host"), file);
  const other = `${tmp.path}/other.json`;
  Deno.copyFileSync(fixturePath("local-unknown/docker"), other);
  const trace = `${tmp.path}/trace`;
  // Stopped right after the first statx or openat of the path (a look before the open would be
  // a statx), then the path is made another file: the replay must be of the file it looked at.
  const child = new Deno.Command("strace", {
    args: [
      ...["-f", "-qq", "-o", trace, "-P", file],
      ...["-e", "trace=statx,openat", "-e", "inject=statx,openat:signal=STOP:when=1"],
      ...entrypointArgv(),
      ...["--snapshot", file, "--explain", "--format", "json"],
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let first: { pid: number; call: string } | undefined;
  try {
    // A start traced from its first system call is slow on a busy machine.
    first = await waitFor(
      "the stop after the first look",
      () => stoppedAfterFirstLook(Deno.readTextFileSync(trace)),
      120_000,
    );
  } finally {
    if (first === undefined) child.kill("SIGKILL");
  }
  Deno.renameSync(other, file);
  // Each of the two calls stops once: a look before the open stops again at the open.
  let continued = 0;
  const timer = setInterval(() => {
    if (continued < stops(Deno.readTextFileSync(trace), first!.pid)) {
      continued++;
      Deno.kill(first!.pid, "SIGCONT");
    }
  }, 50);
  const out = await output.finally(() => clearInterval(timer));
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  equal(doc.context.id, "sagemaker-training");
});

Deno.test("--check-config reads a pipe, and waiting for its writer still ends on SIGTERM (143)", async () => {
  using tmp = tempDir();
  const fifo = `${tmp.path}/config.yaml`;
  new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
  const argv = entrypointArgv();
  const check = () =>
    new Deno.Command(argv[0]!, {
      args: [...argv.slice(1), "--check-config", fifo],
      stdout: "null",
      stderr: "piped",
    }).spawn();
  const fed = check();
  const writer = new Deno.Command("sh", {
    args: ["-c", 'printf "mode: exec\\n" > "$1"', "sh", fifo],
  })
    .spawn();
  const [out] = await Promise.all([fed.output(), writer.status]);
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const child = check();
  // Opened without waiting (what it is is asked of the descriptor): the wait is a poll's.
  await waitInPoll(child.pid, "the check to wait in poll() for a writer");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const status = await child.output();
  clearTimeout(timer);
  equal(status.code, 143, "ended by SIGTERM, not by the SIGKILL 10 s later");
});

Deno.test("--capture - and --snapshot - pipe a snapshot through standard output and input", async () => {
  using tmp = tempDir();
  const argv = entrypointArgv();
  const env = { KUBERNETES_SERVICE_HOST: "10.0.0.1" };
  const captured = await runProcess([...argv, "--capture", "-"], { env, cwd: tmp.path });
  equal(captured.code, 0, captured.stderr);
  equal(JSON.parse(captured.stdout).schema, "chameleon.snapshot/v1");
  deepEqual([...Deno.readDirSync(tmp.path)], [], "no file named -");
  const r = await runProcess([...argv, "--snapshot", "-", "--format", "json"], {
    stdin: captured.stdout,
    cwd: tmp.path,
  });
  equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  equal(doc.snapshot, "-");
  equal(doc.context.platform, "kubernetes");
});

Deno.test("--capture writes a new file that only its owner can read (0600)", async () => {
  using tmp = tempDir();
  const file = `${tmp.path}/cap.json`;
  const r = await runProcess([...entrypointArgv(), "--capture", file]);
  equal(r.code, 0, r.stderr);
  equal(Deno.statSync(file).mode! & 0o777, 0o600);
});

Deno.test("--capture refuses a relative path it could not replay, naming the variable that holds it (exit 78, nothing written)", async () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/cfg.json`, '{"schema":"chameleon.config/v1"}');
  const r = await runProcess([...entrypointArgv(), "--capture", "cap.json"], {
    env: { CHAMELEON_CONFIG: "cfg.json" },
    cwd: tmp.path,
  });
  equal(r.code, 78, r.stderr);
  match(r.stderr, /Capture: path "cfg\.json" \(from CHAMELEON_CONFIG\): expected an absolute path/);
  equal(r.stderr.trim().split("\n").length, 1);
  deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["cfg.json"]);
  // One path of a list (CHOWN_EXTRA) is named with the variable that holds it.
  Deno.mkdirSync(`${tmp.path}/data`);
  const listed = await runProcess([...entrypointArgv(), "--capture", "cap.json"], {
    env: { CHOWN_EXTRA: "/srv,data" },
    cwd: tmp.path,
  });
  equal(listed.code, 78, listed.stderr);
  match(listed.stderr, /Capture: path "data" \(from CHOWN_EXTRA\): expected an absolute path/);
  deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name).sort(), ["cfg.json", "data"]);
});

Deno.test("--capture /dev/stdout writes where standard output stands: appended to a log, beside stderr", async () => {
  using tmp = tempDir();
  const entry = entrypointArgv().map((w) => `'${w}'`).join(" ");
  const log = `${tmp.path}/app.log`;
  Deno.writeTextFileSync(log, "PREVIOUS\n");
  const both = `${tmp.path}/both.log`;
  const r = await runProcess([
    "sh",
    "-c",
    `${entry} --capture /dev/stdout >> ${log} && ${entry} --capture /dev/stdout > ${both} 2>&1`,
  ]);
  equal(r.code, 0, r.stderr);
  const appended = Deno.readTextFileSync(log);
  ok(appended.startsWith("PREVIOUS\n{"), appended.slice(0, 40));
  equal(JSON.parse(appended.slice("PREVIOUS\n".length)).schema, "chameleon.snapshot/v1");
  const [json, info] = Deno.readTextFileSync(both).split(/(?=chameleon: info:)/);
  equal(JSON.parse(json!).schema, "chameleon.snapshot/v1");
  equal(info, "chameleon: info: snapshot written to /dev/stdout\n");
  // A link of one's own to the descriptor is the descriptor too: appended, not replaced.
  Deno.symlinkSync("/proc/self/fd/1", `${tmp.path}/fd1`);
  Deno.writeTextFileSync(log, "PREVIOUS\n");
  const viaLink = await runProcess(["sh", "-c", `${entry} --capture ${tmp.path}/fd1 >> ${log}`]);
  equal(viaLink.code, 0, viaLink.stderr);
  ok(Deno.readTextFileSync(log).startsWith("PREVIOUS\n{"));
});

Deno.test("--capture to a link keeps the link: to a device it is written through, to a file the file is rewritten", async () => {
  using tmp = tempDir();
  const argv = entrypointArgv();
  // A name for standard output, as /dev/stdout is: a rename over it would put a file there.
  Deno.symlinkSync("/proc/self/fd/1", `${tmp.path}/stdout`);
  const r = await runProcess([...argv, "--capture", `${tmp.path}/stdout`]);
  equal(r.code, 0, r.stderr);
  equal(JSON.parse(r.stdout).schema, "chameleon.snapshot/v1");
  ok(Deno.lstatSync(`${tmp.path}/stdout`).isSymlink, "the link is still a link");
  Deno.writeTextFileSync(`${tmp.path}/target.json`, "old");
  Deno.symlinkSync(`${tmp.path}/target.json`, `${tmp.path}/link.json`);
  equal((await runProcess([...argv, "--capture", `${tmp.path}/link.json`])).code, 0);
  ok(Deno.lstatSync(`${tmp.path}/link.json`).isSymlink, "the link is still a link");
  equal(
    JSON.parse(Deno.readTextFileSync(`${tmp.path}/target.json`)).schema,
    "chameleon.snapshot/v1",
  );
  const dir = await runProcess([...argv, "--capture", tmp.path]);
  equal(dir.code, 78);
  equal(dir.stderr, `chameleon: error: Capture ${tmp.path}: is a folder, expected a file\n`);
});

Deno.test("--capture through a link to a file replaces the file atomically: a full disk leaves the old one whole", async () => {
  using tmp = tempDir();
  // A private mount namespace with a tmpfs too small for a capture.
  const entry = entrypointArgv().map(shellQuote).join(" ");
  const sh = [
    `mount -t tmpfs -o size=4k none ${shellQuote(tmp.path)}`,
    `printf old > ${shellQuote(`${tmp.path}/target.json`)}`,
    `ln -s target.json ${shellQuote(`${tmp.path}/link.json`)}`,
    `${entry} --capture ${shellQuote(`${tmp.path}/link.json`)}; echo "code=$?"`,
    `cat ${shellQuote(`${tmp.path}/target.json`)}; echo`,
    `ls -A ${shellQuote(tmp.path)}`,
  ].join(" && ");
  const r = await runProcess(["unshare", "-m", "sh", "-c", sh]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "code=78\nold\nlink.json\ntarget.json\n");
  match(r.stderr, /Capture .*link\.json: .*(no space left|No space left)/i);
});

Deno.test("--capture does not write through a link another uid made (a planted /tmp/snap.json), exit 78", async () => {
  using tmp = tempDir(0o1777);
  const victim = `${tmp.path}/victim`;
  Deno.writeTextFileSync(victim, "untouched");
  const link = `${tmp.path}/snap.json`;
  Deno.symlinkSync(victim, link);
  const own = await runProcess(["chown", "-h", "65534:65534", link]);
  equal(own.code, 0, own.stderr);
  const r = await runProcess([...entrypointArgv(), "--capture", link]);
  equal(r.code, 78, r.stderr);
  equal(
    r.stderr,
    `chameleon: error: Capture ${link}: is a symbolic link of uid 65534: written through only when it is root's or this user's\n`,
  );
  equal(Deno.readTextFileSync(victim), "untouched");
});

Deno.test("redactSnapshot() replaces secret env values and secret JSON fields, keeps the rest", () => {
  const s = fixture("sagemaker-training/raw-hyperparameters");
  const r = redactSnapshot({
    ...s,
    env: { ...s.env, HF_TOKEN: "hf_abc", AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/x" },
  });
  equal(r.env["HF_TOKEN"], "<redacted>");
  equal(r.env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], "/v2/x");
  const hps = JSON.parse(r.files["/opt/ml/input/config/hyperparameters.json"]!);
  equal(hps.api_key, "<redacted>");
  equal(hps.lr, "1e-05");
  ok(!JSON.stringify(r).includes("canary"));
});

Deno.test("redactSnapshot() of a namespace with 1,000 Services and 500 secret-named variables hides every secret and its copies, and keeps the 7,000 link variables", () => {
  const s = fixture("kubernetes-unknown/pod");
  const env: Record<string, string> = { ...s.env };
  const links = serviceLinkEnv(1000, 8080);
  const secret = (i: number) => `k${i}-${(i * 104729 + 7).toString(36)}-${"q".repeat(i % 7)}`;
  for (let i = 0; i < 500; i++) {
    env[`API${i}_TOKEN`] = secret(i);
    // A copy of the secret in a variable whose name says nothing: hidden where it stands.
    env[`SETTINGS_${i}`] = `endpoint=svc${i}.ns;auth=${secret(i)};retries=3`;
  }
  const r = redactSnapshot({ ...s, env: { ...env, ...links } });
  for (let i = 0; i < 500; i++) {
    equal(r.env[`API${i}_TOKEN`], "<redacted>");
    equal(r.env[`SETTINGS_${i}`], `endpoint=svc${i}.ns;auth=<redacted>;retries=3`);
  }
  for (const [k, v] of Object.entries(links)) equal(r.env[k], v, k);
  equal(Object.keys(r.env).length, Object.keys(env).length + 7000);
});

Deno.test("redactSnapshot() hides a number under a secret-named key of a JSON file as the number 0, so the file still parses and replays to the live plan", () => {
  const s = fixture("sagemaker-training/raw-hyperparameters");
  const path = "/opt/ml/input/config/hyperparameters.json";
  const hps = '{"lr": "0.1", "api_key": 123456789, "clip": NaN,\n' +
    ' "nested": "{\\"password\\": 98765.4321, \\"user\\": \\"ml\\"}", "secret": ""}\n';
  const live = { ...s, files: { ...s.files, [path]: hps } };
  const r = redactSnapshot(live);
  equal(/123456789|98765/.test(JSON.stringify(r)), false, r.files[path]);
  const shown = (x: Snapshot) => {
    try {
      return planOf(new World(x)).envDisplay;
    } catch (e) {
      return String(e);
    }
  };
  const want = shown(live);
  deepEqual(shown(r), want);
  equal(typeof want === "string" ? want : want["SM_HP_CLIP"], "NaN");
});

Deno.test("redactSnapshot() hides a short number in its own place only: its variable, its JSON field, the word after its flag", () => {
  const hps = "/opt/ml/input/config/hyperparameters.json";
  const r = redactSnapshot(
    snap({
      env: {
        MAX_NEW_TOKENS: "1000",
        SM_USER_ARGS: '["--max_tokens","1000","--password=4242","--epochs","4242"]',
      },
      files: {
        [hps]: '{"max_tokens": "1000", "epochs": "4242", "api_key": "true"}',
        "/etc/passwd": "ml:x:1000:100::/home/ml:/bin/sh\n",
      },
      dirs: ["/tmp/chameleon-1000"],
    }),
  );
  equal(r.env["MAX_NEW_TOKENS"], "<redacted>");
  deepEqual(JSON.parse(r.env["SM_USER_ARGS"]!), [
    "--max_tokens",
    "<redacted>",
    "--password=<redacted>",
    "--epochs",
    "4242",
  ]);
  deepEqual(JSON.parse(r.files[hps]!), {
    max_tokens: "<redacted>",
    epochs: "4242",
    api_key: "<redacted>",
  });
  equal(r.files["/etc/passwd"], "ml:x:1000:100::/home/ml:/bin/sh\n");
  deepEqual(r.dirs, ["/tmp/chameleon-1000"]);
});

Deno.test("redactSnapshot() hides a JSON file's secret that text scrubbing misses: escaped otherwise than Python does, or short", () => {
  const path = "/opt/ml/input/config/hyperparameters.json";
  const hps = '{"api_key": "ab\\/cd-esc-1", "password": "\\u0070w-esc-2", "db_password": "pw3",' +
    ' "nested": "{\\"token\\": \\"p\\\\/w-esc-4\\"}", "lr": "0.1"}\n';
  const r = redactSnapshot(snap({ files: { [path]: hps } }));
  const text = r.files[path]!;
  equal(/esc-|pw3/.test(text), false, text);
  deepEqual(JSON.parse(text), {
    api_key: "<redacted>",
    password: "<redacted>",
    db_password: "<redacted>",
    nested: '{"token":"<redacted>"}',
    lr: "0.1",
  });
});

Deno.test("redactSnapshot() hides a dict or list under a secret-named key of JSON in a JSON file's string whole, as --explain does", () => {
  const path = "/opt/ml/input/config/hyperparameters.json";
  const inner = JSON.stringify({ credentials: { user: "svc-whole-1", pw: "ab1" }, lr: 1 });
  const hps = JSON.stringify({
    app: inner,
    nested: JSON.stringify({ a: { tokens: ["tok-whole-3"] } }),
  });
  const config = "/etc/chameleon/config.json";
  const cfg = JSON.stringify({ secretFiles: ["DB_PASS"], env: { set: { APP_CONFIG: inner } } });
  const r = redactSnapshot(snap({ files: { [path]: hps, [config]: cfg } }));
  const text = r.files[path]!;
  equal(/whole-|ab1/.test(text + r.files[config]), false, text + r.files[config]);
  deepEqual(JSON.parse(text), {
    app: '{"credentials":"<redacted>","lr":1}',
    nested: '{"a":{"tokens":"<redacted>"}}',
  });
  deepEqual(JSON.parse(r.files[config]!), {
    secretFiles: ["DB_PASS"],
    env: { set: { APP_CONFIG: '{"credentials":"<redacted>","lr":1}' } },
  });
});

Deno.test("redactSnapshot() hides JSON nested too deep to look into, in a file, a variable or an argument, and goes on", () => {
  const deep = "[".repeat(2500) + "]".repeat(2500);
  const s = fixture("sagemaker-training/raw-hyperparameters");
  const hpsPath = "/opt/ml/input/config/hyperparameters.json";
  const r = redactSnapshot({
    ...s,
    env: { ...s.env, DEEP: deep },
    argv: ["python", deep],
    files: { ...s.files, [hpsPath]: JSON.stringify({ lr: "0.1", deep }) },
  });
  equal(r.env["DEEP"], "<redacted>");
  deepEqual(r.argv, ["python", "<redacted>"]);
  deepEqual(JSON.parse(r.files[hpsPath]!), { lr: "0.1", deep: "<redacted>" });
});

Deno.test("redactSnapshot() scrubs paths and the host name too, so a replay meets the scrubbed HOME", () => {
  const home = "/home/cloudsdk";
  const s = snap({
    uid: 1000,
    gid: 1000,
    hostname: "cloudsdk-box",
    env: { HOME: home, SERVICE_PASSWORD: "cloudsdk", PATH: "/usr/bin" },
    dirs: [home],
    stat: { [home]: { uid: 1000, gid: 1000, mode: "0755" } },
    files: { [`${home}/.profile`]: "" },
    unreadable: { [`${home}/.netrc`]: "permission denied" },
  });
  const r = redactSnapshot(s);
  // The plan first, before the leak check: without the path scrub the replay moves HOME.
  const homeOf = (x: typeof s) => planOf(new World(x)).env["HOME"];
  deepEqual([homeOf(s), homeOf(r)], [undefined, undefined]);
  equal(JSON.stringify(r).includes("cloudsdk"), false, JSON.stringify(r));
  const hidden = "/home/<redacted>";
  deepEqual([r.env["HOME"], r.dirs, Object.keys(r.stat)], [hidden, [hidden], [hidden]]);
  deepEqual(Object.keys(r.unreadable ?? {}), [`${hidden}/.netrc`]);
  equal(r.hostname, "<redacted>-box");
});

Deno.test("redactSnapshot() replaces secrets on the command line", () => {
  const r = redactSnapshot(
    snap({
      env: { HF_TOKEN: "hf_env_value_1" },
      argv: ["python", "t.py", "--hf", "hf_env_value_1", "--password", "pw", "--api-key=k9", "-v"],
    }),
  );
  deepEqual(r.argv, [
    "python",
    "t.py",
    "--hf",
    "<redacted>",
    "--password",
    "<redacted>",
    "--api-key=<redacted>",
    "-v",
  ]);
});

Deno.test("redactSnapshot() finds secrets in JSON held in a JSON file's strings", () => {
  const path = "/opt/ml/input/config/hyperparameters.json";
  const hps = {
    creds: JSON.stringify({ password: "nested-pw-1", user: "ml" }),
    credentials: JSON.stringify({ user: "whole-value-2" }),
  };
  const r = redactSnapshot(
    snap({ files: { [path]: JSON.stringify(hps) }, env: { NOTE: "copy nested-pw-1" } }),
  );
  const text = JSON.stringify(r);
  equal(text.includes("nested-pw-1"), false, text);
  equal(text.includes("whole-value-2"), false, text);
  equal(JSON.parse(JSON.parse(r.files[path]!).creds).user, "ml", "the rest stays");
});

Deno.test("redactSnapshot() finds a secret escaped twice or as \\u in JSON-in-JSON, as the SDK writes it", () => {
  const path = "/opt/ml/input/config/hyperparameters.json";
  const hps = {
    // A quote and a backslash: escaped once in the inner JSON, again in the file.
    creds: JSON.stringify({ password: 'ab"cd\\twice-pw-1' }),
    // Python's json.dumps writes non-ASCII as \uXXXX.
    cfg: JSON.stringify({ api_key: "p\u00e4ss-ascii-2" }).replace("\u00e4", "\\u00e4"),
  };
  const r = redactSnapshot(snap({ files: { [path]: JSON.stringify(hps) } }));
  const text = r.files[path]!;
  equal(/twice-pw-1|ascii-2/.test(text), false, text);
  deepEqual(Object.keys(JSON.parse(text)), ["creds", "cfg"], "the rest stays");
});

Deno.test("redactSnapshot() reads JSON with Python's NaN, and leaves non-secret values of secret-looking channels", () => {
  const path = "/opt/ml/input/config/hyperparameters.json";
  const idc = "/opt/ml/input/config/inputdataconfig.json";
  const channel = (mode: string) => ({
    TrainingInputMode: mode,
    S3DistributionType: "FullyReplicated",
    RecordWrapperType: "None",
  });
  const r = redactSnapshot(
    snap({
      files: {
        [path]: JSON.stringify({ creds: '{"password": "nan-canary-pw", "clip": NaN}' }),
        [idc]: JSON.stringify({ tokenizer: channel("File"), train: channel("FastFile") }),
      },
    }),
  );
  equal(JSON.stringify(r).includes("nan-canary-pw"), false);
  // A channel named tokenizer holds no secret: its settings stay, and so do other channels'.
  deepEqual(JSON.parse(r.files[idc]!), {
    tokenizer: channel("File"),
    train: channel("FastFile"),
  });
});

Deno.test("redactSnapshot() hides a flag's value in its word without scrubbing it elsewhere", () => {
  const r = redactSnapshot(
    snap({
      argv: ["python3", "t.py", "--max-new-tokens", "100000", "--use_auth_token", "--model", "m"],
      files: { "/sys/fs/cgroup/cpu.max": "150000 100000\n" },
    }),
  );
  deepEqual(r.argv, [
    "python3",
    "t.py",
    "--max-new-tokens",
    "<redacted>",
    "--use_auth_token",
    "--model",
    "m",
  ]);
  equal(r.files["/sys/fs/cgroup/cpu.max"], "150000 100000\n");
});

Deno.test("redactSnapshot() redacts a secret-named dict in an env value's JSON, NaN and all", () => {
  const r = redactSnapshot(snap({
    env: {
      SM_HPS: '{"credentials": {"user": "alice", "pass": "hunter2pw"}, "lr": NaN}',
      ML_HPS: '{"credentials": ["tok-aaaa1111"], "epochs": 3}',
      APP: '{"api_key": "k-abcdef", "x": NaN}',
      PLAIN: '{"lr": NaN}',
    },
  }));
  deepEqual(JSON.parse(r.env["SM_HPS"]!), { credentials: "<redacted>", lr: null });
  deepEqual(JSON.parse(r.env["ML_HPS"]!), { credentials: "<redacted>", epochs: 3 });
  equal(r.env["APP"]!.includes("k-abcdef"), false);
  equal(r.env["PLAIN"], '{"lr": NaN}', "a value without secrets stays as it was");
});

Deno.test("redactSnapshot() re-serialises 2,000 random JSON env values, and one 500 deep over 8,000 keys, as they were but their secrets", () => {
  const r = rng(20261205);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  // Secret-named keys' values become "<redacted>" (a dict or list under one too, whole).
  const hidden = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(hidden) : v !== null && typeof v === "object"
      ? Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, k.endsWith("token") ? "<redacted>" : hidden(x)]),
      )
      : v;
  const value = (depth: number): unknown => {
    const kind = Math.floor(r() * (depth > 5 ? 5 : 8));
    if (kind === 0) return null;
    if (kind === 1) return pick([true, false]);
    if (kind === 2) return Math.floor(r() * 1000) - 500;
    if (kind === 3) return pick(["v", 'q"', "é", "w2", ""]);
    if (kind === 4) return pick([[], {}]);
    if (kind === 5) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
    return Object.fromEntries(
      Array.from(
        { length: Math.floor(r() * 4) },
        () => [pick(["a", "b", "api_token", "c"]), value(depth + 1)],
      ),
    );
  };
  for (let i = 0; i < 2000; i++) {
    const v = { api_token: "tok-canary-1", rest: value(0) };
    const got = redactSnapshot(snap({ env: { APP_CONFIG: JSON.stringify(v, null, 1) } }));
    equal(got.env["APP_CONFIG"], JSON.stringify(hidden(v)));
  }
  const bottom: Record<string, unknown> = {};
  for (let i = 0; i < 8000; i++) bottom[`k${i}`] = i % 2 ? i : [`v${i}`, { x: i }];
  bottom["api_token"] = "pw-canary-value";
  let deep: unknown = bottom;
  for (let i = 0; i < 500; i++) deep = { [`d${i}`]: deep, [`l${i}`]: [i] };
  const got = redactSnapshot(snap({ env: { APP_CONFIG: JSON.stringify(deep) } }));
  equal(got.env["APP_CONFIG"], JSON.stringify(hidden(deep)));
});

Deno.test("redactSnapshot() re-serialises an env value's JSON keeping its numbers as Python reads them: 1.0 a float, a big int whole, keys in order", () => {
  const r = redactSnapshot(snap({
    env: {
      ML_HPS: '{"api_key": "k-abcdef", "lr": 1.0, "steps": 12345678901234567890, "b": 1e-05}',
    },
  }));
  equal(
    r.env["ML_HPS"],
    '{"api_key":"<redacted>","lr":1.0,"steps":12345678901234567890,"b":1e-05}',
  );
});

Deno.test("redactSnapshot() hides a configured flag's value where argv gives it, and config values in the config only", () => {
  const r = redactSnapshot(
    snap({
      argv: ["serve", "hf_SECRET123", "-v"],
      files: {
        "/etc/chameleon/config.yaml": "argv: [python3, s.py, --max-new-tokens, '100000']\n",
        "/sys/fs/cgroup/cpu.max": "150000 100000\n",
      },
    }),
    {
      // As the plan shows it when a configured command ends in --hf-token.
      argv: ["serve", "<redacted>", "-v"],
      inFile: { path: "/etc/chameleon/config.yaml", values: ["100000"] },
    },
  );
  deepEqual(r.argv, ["serve", "<redacted>", "-v"]);
  equal(r.files["/etc/chameleon/config.yaml"]!.includes("100000"), false);
  equal(r.files["/sys/fs/cgroup/cpu.max"], "150000 100000\n", "elsewhere the value stays");
});

Deno.test("redactSnapshot() hides a secret-named value in JSON that does not parse (a trailing comma, a Python dict's repr), in a variable or a file", () => {
  const r = redactSnapshot(snap({
    env: {
      APP_CONFIG: "{'password': 'pyrepr-canary-1', 'user': 'me'}",
      APP_JSON: '{"api_key": "trailing-canary-2",}',
    },
    files: { "/opt/ml/input/config/hyperparameters.json": '{"db_password": "file-canary-3",' },
  }));
  equal(r.env["APP_CONFIG"], "{'password': '<redacted>', 'user': 'me'}");
  equal(r.env["APP_JSON"], '{"api_key": "<redacted>",}');
  equal(JSON.stringify(r).includes("canary"), false, JSON.stringify(r));
});

Deno.test("redactSnapshot() hides a PEM private key in a recorded file (a Spark conf folder's), keeps the rest", () => {
  const key =
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
  const rsa = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA";
  const r = redactSnapshot(snap({
    files: {
      "/opt/spark/conf/ssl.pem": `subject=x\n${key}\n-----BEGIN CERTIFICATE-----\nMIIC\n`,
      "/opt/spark/conf/cut.key": `${rsa}\n`,
    },
  }));
  equal(
    r.files["/opt/spark/conf/ssl.pem"],
    "subject=x\n<redacted>\n-----BEGIN CERTIFICATE-----\nMIIC\n",
  );
  equal(r.files["/opt/spark/conf/cut.key"], "<redacted>");
});

Deno.test("redactSnapshot() drops the content of secret files", () => {
  const r = redactSnapshot(snap({ files: { "/run/secrets/db": "hunter2" } }), {
    secretFiles: ["/run/secrets/db"],
  });
  equal(r.files["/run/secrets/db"], "<redacted>");
});

Deno.test("redactSnapshot() drops the content of 8,000 secret files, hides their values elsewhere, and keeps other files", () => {
  const files: Record<string, string> = { "/etc/app.json": '{"mode": "fast"}' };
  const secretFiles: string[] = [];
  for (let i = 0; i < 8000; i++) {
    files[`/run/secrets/s${i}`] = `pw${i}-canary\n`;
    files[`/opt/app/f${i}.txt`] = i === 7 ? "uses pw7999-canary" : `plain ${i}`;
    secretFiles.push(`/run/secrets/s${i}`);
  }
  const r = redactSnapshot(snap({ files }), { secretFiles });
  for (let i = 0; i < 8000; i++) {
    equal(r.files[`/run/secrets/s${i}`], "<redacted>");
    if (i !== 7) equal(r.files[`/opt/app/f${i}.txt`], `plain ${i}`);
  }
  equal(r.files["/opt/app/f7.txt"], "uses <redacted>");
  equal(r.files["/etc/app.json"], '{"mode": "fast"}');
});

Deno.test("redactSnapshot() replaces a secret file's content whole, even a secret too short to scrub elsewhere", () => {
  const r = redactSnapshot(snap({ files: { "/run/secrets/pin": "pw1\n" } }), {
    secretFiles: ["/run/secrets/pin"],
  });
  equal(r.files["/run/secrets/pin"], "<redacted>");
});

Deno.test("redactSnapshot() keeps an empty secret-named variable empty: unset for fills and VAR_FILE, as live", () => {
  const s = snap({
    env: { HF_TOKEN: "", DB_PASS: "", CHAMELEON_SECRET_FILES: "DB_PASS", DB_PASS_FILE: "/run/db" },
    files: { "/run/db": "hunter2\n" },
  });
  const r = redactSnapshot(s, { secretFiles: ["/run/db"] });
  equal(r.env["HF_TOKEN"], "");
  equal(r.env["DB_PASS"], "");
  const env = { set: {}, fill: { HF_TOKEN: "hf-default-1" } };
  const config = { ...DEFAULT_CONFIG, settings: { ...DEFAULT_CONFIG.settings, env } };
  for (const [what, snapshot] of [["live", s], ["replayed", r]] as const) {
    const p = planOf(new World(snapshot), config);
    equal(p.env["HF_TOKEN"], "hf-default-1", what);
    equal(p.envDisplay["DB_PASS"], "<redacted>", what);
  }
});

Deno.test("redactSnapshot() keeps what a plan decides from a secret file: an empty one stays empty; bytes that are not UTF-8, a NUL or a size execve refuses stay refused", () => {
  const file = "/run/secrets/db";
  const env = { CHAMELEON_SECRET_FILES: "DB_PASS", DB_PASS_FILE: file };
  const planned = (s: Snapshot) => {
    try {
      return planOf(new World(s)).envDisplay["DB_PASS"] ?? "unset";
    } catch (e) {
      return e instanceof InputError ? `exit 78: ${e.message}` : e;
    }
  };
  const big = "ab" + "é".repeat(70 * 1024);
  for (
    const [text, live] of [
      ["\n", "unset"],
      ["ab\ufffdcd\n", /^exit 78: .*not UTF-8/],
      ["ab\0cd\n", /^exit 78: .*without NUL/],
      [`${big}\n`, /^exit 78: .*DB_PASS would be 143371 bytes/],
      ["ab" + "c".repeat(40 * 1024), "<redacted>"],
      ["hunter2\n", "<redacted>"],
    ] as const
  ) {
    const s = snap({ env, files: { [file]: text } });
    const want = planned(s);
    if (typeof live === "string") equal(want, live, JSON.stringify(text));
    else match(String(want), live);
    const r = redactSnapshot(s, { secretFiles: [file] });
    equal(planned(r), want, `replayed: ${JSON.stringify(r.files[file]!.slice(0, 40))}`);
    equal(/ab|cd|é|hunter2/.test(r.files[file]!), false, r.files[file]!.slice(0, 40));
  }
});

Deno.test("redactSnapshot() hides a secret file's value and an env value's JSON secret wherever a copy appears", () => {
  const r = redactSnapshot(
    snap({
      env: {
        APP_CONFIG: '{"api_key": "k-env-json-7"}',
        COPY: "uses k-env-json-7 and hunter2-file-8",
      },
      files: { "/run/secrets/db": "hunter2-file-8\n", "/etc/app/conf": "key=k-env-json-7" },
    }),
    { secretFiles: ["/run/secrets/db"] },
  );
  equal(r.env["COPY"], "uses <redacted> and <redacted>");
  equal(r.files["/etc/app/conf"], "key=<redacted>");
  equal(/k-env-json-7|hunter2-file-8/.test(JSON.stringify(r)), false, JSON.stringify(r));
});

Deno.test("redactSnapshot() hides a copy of a JSON secret held by a secret-named variable, as by any other", () => {
  // The variable's own value is hidden whole by its name; the password inside it is still a
  // secret-named field of a JSON-valued variable, whose copies a capture hides (design section 8).
  for (const name of ["APP_SETTINGS", "DB_CREDENTIALS"]) {
    const r = redactSnapshot(
      snap({
        argv: ["python3", "migrate.py", "p4ss-in-json-9"],
        env: {
          [name]: '{"user": "app", "password": "p4ss-in-json-9"}',
          JDBC_OPTS: "user=app;password=p4ss-in-json-9",
        },
      }),
    );
    equal(r.env["JDBC_OPTS"], "user=app;password=<redacted>", name);
    deepEqual(r.argv, ["python3", "migrate.py", "<redacted>"], name);
    equal(JSON.stringify(r).includes("p4ss-in-json-9"), false, name);
  }
});

Deno.test("redactSnapshot() hides a secret given in an argument's JSON where it appears in env too", () => {
  const r = redactSnapshot(
    snap({
      argv: ["python3", "t.py", "--config", '{"api_key":"abcd1234"}'],
      env: { NOTE: "key abcd1234 copied" },
    }),
  );
  equal(r.env["NOTE"], "key <redacted> copied");
  equal(JSON.stringify(r).includes("abcd1234"), false);
});

Deno.test("takeSnapshot() records declared paths only, /proc via libc, and never a token's content", async () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/token`, "secret-token-content");
  Deno.writeTextFileSync(`${tmp.path}/read.json`, "{}");
  Deno.writeTextFileSync(`${tmp.path}/undeclared`, "x");
  Deno.mkdirSync(`${tmp.path}/d`);
  Deno.writeTextFileSync(`${tmp.path}/big`, "x".repeat(1024 * 1024 + 1));
  const s = await takeSnapshot(["train"], Deno.env.toObject(), [{
    paths: [
      { kind: "exists", path: `${tmp.path}/token` },
      { kind: "read", path: `${tmp.path}/read.json` },
      { kind: "read", path: `${tmp.path}/big` },
      { kind: "read", path: "/proc/self/comm" },
      { kind: "stat", path: `${tmp.path}/d` },
      { kind: "read", path: `${tmp.path}/missing` },
    ],
  }]);
  equal(s.files[`${tmp.path}/token`], "");
  equal(s.files[`${tmp.path}/read.json`], "{}");
  equal(s.unreadable?.[`${tmp.path}/big`], "larger than 1048576 bytes");
  ok((s.files["/proc/self/comm"] ?? "").length > 0);
  ok(s.dirs.includes(`${tmp.path}/d`));
  equal(s.stat[`${tmp.path}/d`]?.uid, Deno.uid());
  equal(`${tmp.path}/undeclared` in s.files, false);
  equal(`${tmp.path}/missing` in s.files, false);
  deepEqual(s.argv, ["train"]);
  equal(s.pid, Deno.pid);
  ok(s.groups.includes(s.gid));
  const w = new World(s);
  equal(w.exists(tmp.path), true);
  throws(() => parse({ schema: "chameleon.snapshot/v1", pid: "1" }), InputError);
});

Deno.test("takeSnapshot() records a read folder as a folder, a stat file as a file, modes as 4-digit octal, no loopback address", async () => {
  using tmp = tempDir();
  const dir = `${tmp.path}/conf.d`;
  Deno.mkdirSync(dir);
  Deno.chmodSync(dir, 0o755);
  const file = `${tmp.path}/passwd`;
  Deno.writeTextFileSync(file, "root:x:0:0::/root:/bin/sh\n");
  Deno.chmodSync(file, 0o640);
  const s = await takeSnapshot([], {}, [{
    paths: [{ kind: "read", path: dir }, { kind: "stat", path: file }],
  }]);
  deepEqual([s.dirs, s.unreadable ?? {}], [[dir], {}]);
  // A stat entry says the file exists; its content is not read.
  deepEqual(s.files, { [file]: "" });
  deepEqual(s.stat[file], { uid: Deno.uid(), gid: Deno.gid(), mode: "0640" });
  equal(s.addresses.some((a) => a.startsWith("127.")), false, s.addresses.join(" "));
});

Deno.test("takeSnapshot() lists a folder: the folder itself, only matching names, a link to a token never read", async () => {
  using tmp = tempDir();
  const token = `${tmp.path}/pod/serviceaccount/token`;
  Deno.mkdirSync(`${tmp.path}/pod/serviceaccount`, { recursive: true });
  Deno.writeTextFileSync(token, "listed-token-canary");
  const conf = `${tmp.path}/conf`;
  Deno.mkdirSync(conf);
  Deno.writeTextFileSync(`${conf}/a.conf`, "a=1");
  Deno.writeTextFileSync(`${conf}/b.txt`, "b=2");
  Deno.symlinkSync(token, `${conf}/token.conf`);
  const empty = `${tmp.path}/empty`;
  Deno.mkdirSync(empty);
  const s = await takeSnapshot([], {}, [{
    paths: [
      { kind: "list", path: conf, match: /\.conf$/, each: "read" },
      { kind: "list", path: empty, each: "read" },
    ],
  }]);
  deepEqual(s.files, { [`${conf}/a.conf`]: "a=1", [`${conf}/token.conf`]: "" });
  deepEqual(s.dirs, [conf, empty]);
});

Deno.test("takeSnapshot() never reads a service account token by its name, wherever it is mounted", async () => {
  using tmp = tempDir();
  const token = `${tmp.path}/serviceaccount/token`;
  Deno.mkdirSync(`${tmp.path}/serviceaccount`);
  Deno.writeTextFileSync(token, "mounted-token-canary");
  const s = await takeSnapshot([], {}, [{ paths: [{ kind: "read", path: token }] }]);
  deepEqual([s.files, s.unreadable], [{}, { [token]: TOKEN_NOT_READ }]);
});

Deno.test("an opted-in VAR_FILE naming a service account token is exit 78 naming it, not an empty file that leaves VAR unset", async () => {
  using tmp = tempDir();
  const token = `${tmp.path}/serviceaccount/token`;
  Deno.mkdirSync(`${tmp.path}/serviceaccount`);
  Deno.writeTextFileSync(token, "opted-in-token-canary");
  const env = { CHAMELEON_SECRET_FILES: "KTOK", KTOK_FILE: token };
  const r = await runProcess([...entrypointArgv(), "--explain", "--format", "json"], { env });
  equal(r.stdout, "");
  equal(
    r.stderr,
    `chameleon: error: Variable KTOK_FILE: file ${token}: a service account's token, which a start never reads\n`,
  );
  equal(r.code, 78);
});

Deno.test("an opted-in VAR_FILE naming a pipe, socket or device is exit 78 naming it, not an empty file that leaves VAR unset", async () => {
  using tmp = tempDir();
  const fifo = `${tmp.path}/pipe`;
  equal((await runProcess(["mkfifo", fifo])).code, 0);
  const socket = `${tmp.path}/socket`;
  using _listener = Deno.listen({ transport: "unix", path: socket });
  for (const file of [fifo, socket, "/dev/null"]) {
    const env = { CHAMELEON_SECRET_FILES: "DB_PASS", DB_PASS_FILE: file };
    const r = await runProcess([...entrypointArgv(), "--explain", "--format", "json"], { env });
    equal(r.stdout, "", file);
    equal(
      r.stderr,
      `chameleon: error: Variable DB_PASS_FILE: file ${file}: ${SPECIAL_NOT_READ}\n`,
    );
    equal(r.code, 78, file);
  }
  // Elsewhere a special file is still there with nothing in it (design section 4).
  const s = await takeSnapshot([], {}, [{ paths: [{ kind: "read", path: fifo }] }]);
  deepEqual([s.files, s.unreadable], [{ [fifo]: "" }, undefined]);
});

Deno.test("--check-config of a service account token, by its name or a variable's, says so without quoting it", async () => {
  using tmp = tempDir();
  const token = `${tmp.path}/serviceaccount/token`;
  Deno.mkdirSync(`${tmp.path}/serviceaccount`);
  Deno.writeTextFileSync(token, "eyJ.check-config-canary.sig");
  const web = `${tmp.path}/web-identity`;
  Deno.writeTextFileSync(web, "eyJ.web-identity-canary.sig");
  for (const file of [token, web]) {
    const env = { AWS_WEB_IDENTITY_TOKEN_FILE: web };
    const r = await runProcess([...entrypointArgv(), "--check-config", file], { env });
    equal(
      r.stderr,
      `chameleon: error: Config ${file}: a service account's token, which a start never reads\n`,
    );
    equal(r.code, 78);
  }
});

Deno.test("takeSnapshot() records a file found to exist, then unreadable, as unreadable only: the capture replays", async () => {
  using tmp = tempDir();
  const big = `${tmp.path}/big.json`;
  Deno.writeTextFileSync(big, "x".repeat(FILE_LIMIT + 1));
  const s = await takeSnapshot([], {}, [{
    paths: [{ kind: "exists", path: big }],
    dynamicPaths: () => [{ kind: "read", path: big }],
  }]);
  deepEqual([big in s.files, s.unreadable?.[big]], [false, `larger than ${FILE_LIMIT} bytes`]);
  equal(parse(JSON.stringify(s)).unreadable?.[big], `larger than ${FILE_LIMIT} bytes`);
});

Deno.test("takeSnapshot() records a dangling link at a read path as unreadable, not missing", async () => {
  using tmp = tempDir();
  const link = `${tmp.path}/config.json`;
  Deno.symlinkSync(`${tmp.path}/gone.json`, link);
  const s = await takeSnapshot([], {}, [{
    paths: [{ kind: "read", path: link }, { kind: "read", path: `${tmp.path}/absent.json` }],
  }]);
  deepEqual(s.unreadable, { [link]: "a symbolic link whose target does not exist" });
  deepEqual(s.files, {});
  equal(new World(s).exists(link), true);
});

Deno.test("takeSnapshot() records a dangling link in a folder listed for stat as unreadable, not missing", async () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/10-there`, "#!/bin/sh\n");
  Deno.symlinkSync(`${tmp.path}/gone.sh`, `${tmp.path}/20-gone`);
  const s = await takeSnapshot([], {}, [{
    paths: [{ kind: "list", path: tmp.path, each: "stat" }],
  }]);
  deepEqual(s.unreadable, {
    [`${tmp.path}/20-gone`]: "a symbolic link whose target does not exist",
  });
  deepEqual(new World(s).children(tmp.path), ["10-there", "20-gone"]);
});

Deno.test("liveExists() counts a file that a folder without search permission hides, as a snapshot records it", async () => {
  using tmp = tempDir(0o755);
  Deno.mkdirSync(`${tmp.path}/private`, { mode: 0o700 });
  Deno.writeTextFileSync(`${tmp.path}/private/config.json`, "{}");
  const module = new URL("./snapshot.ts", import.meta.url).href;
  const code = `import { liveExists } from ${
    JSON.stringify(module)
  }; console.log(Deno.args.map(liveExists).join(" "));`;
  // As another uid: root searches any folder. --check-config then reads it and says why it cannot.
  const r = await runProcess([
    "setpriv",
    ...["--reuid", "4242", "--regid", "4242", "--clear-groups"],
    ...[Deno.execPath(), "eval", "--quiet", "--no-lock", code],
    ...[`${tmp.path}/private/config.json`, `${tmp.path}/none.json`],
  ], { env: { HOME: "/nonexistent-home" } });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "true false\n");
});

Deno.test("takeSnapshot() records a FIFO or a device at a read path as empty, without opening it", async () => {
  using tmp = tempDir();
  const fifo = `${tmp.path}/hyperparameters.json`;
  const made = await runProcess(["mkfifo", fifo]);
  equal(made.code, 0, made.stderr);
  // Opening a FIFO without a writer blocks: this call would never return.
  const s = await takeSnapshot([], {}, [{
    paths: [{ kind: "read", path: fifo }, { kind: "read", path: "/dev/zero" }],
  }]);
  equal(s.files[fifo], "");
  equal(s.files["/dev/zero"], "");
  deepEqual(s.unreadable ?? {}, {});
});

Deno.test("takeSnapshot() never reads a token the AWS variables name (web identity, pod identity), by any path", async () => {
  using tmp = tempDir();
  const token = `${tmp.path}/web-identity`;
  Deno.writeTextFileSync(token, "web-identity-canary");
  Deno.symlinkSync(token, `${tmp.path}/config.json`);
  Deno.writeTextFileSync(`${tmp.path}/other.json`, "{}");
  // The ECS/EKS Pod Identity token, named by its own variable, is never read either.
  const pod = `${tmp.path}/eks-pod-identity-token`;
  Deno.writeTextFileSync(pod, "pod-identity-canary");
  const s = await takeSnapshot([], {
    AWS_WEB_IDENTITY_TOKEN_FILE: token,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: pod,
  }, [{
    paths: [
      { kind: "read", path: `${tmp.path}/config.json` },
      { kind: "read", path: `${tmp.path}/other.json` },
      { kind: "read", path: pod },
    ],
  }]);
  deepEqual(s.files, { [`${tmp.path}/other.json`]: "{}" });
  deepEqual(s.unreadable, { [`${tmp.path}/config.json`]: TOKEN_NOT_READ, [pod]: TOKEN_NOT_READ });
});

Deno.test("takeSnapshot() never reads the token AZURE_FEDERATED_TOKEN_FILE names (Azure workload identity)", async () => {
  using tmp = tempDir();
  const token = `${tmp.path}/azure-identity-token`;
  Deno.writeTextFileSync(token, "eyJ.AZURE-CANARY.sig");
  Deno.symlinkSync(token, `${tmp.path}/config.json`);
  const s = await takeSnapshot([], { AZURE_FEDERATED_TOKEN_FILE: token }, [{
    paths: [{ kind: "read", path: `${tmp.path}/config.json` }, { kind: "read", path: token }],
  }]);
  deepEqual([s.files, s.unreadable], [{}, {
    [`${tmp.path}/config.json`]: TOKEN_NOT_READ,
    [token]: TOKEN_NOT_READ,
  }]);
});

Deno.test("--capture never holds a service account token (the pod's or EKS's), by its own name or a config path's link to it", async () => {
  using tmp = tempDir(0o755);
  const sa = "/run/secrets/kubernetes.io/serviceaccount";
  const eks = "/run/secrets/eks.amazonaws.com/serviceaccount";
  const token = "eyJhbGciOiJSUzI1NiJ9.SATOKEN-CONTENT.sig";
  const capture = (config: string) =>
    [
      `CHAMELEON_CONFIG=${config}`,
      ...entrypointArgv().map(shellQuote),
      "--capture",
      `${tmp.path}/snap-$(basename ${config}).json`,
    ].join(" ");
  // The pod's own layout: the token is a link into a dated folder, as the kubelet writes it.
  const script = [
    "set -e",
    "mkdir -p /run/secrets && mount -t tmpfs tmpfs /run/secrets",
    `mkdir -p ${sa}/..2026_12_04 && ln -s ..2026_12_04 ${sa}/..data`,
    `printf %s '${token}' > ${sa}/..2026_12_04/token && ln -s ..data/token ${sa}/token`,
    `ln -s ${sa}/..2026_12_04/token ${tmp.path}/config.json`,
    // EKS's web identity token, at its fixed place, which no variable need name.
    `mkdir -p ${eks} && printf %s '${token}' > ${eks}/token`,
    `ln -s ${eks}/token ${tmp.path}/eks.json`,
    capture(`/var/run/secrets/kubernetes.io/serviceaccount/token`),
    capture(`${tmp.path}/config.json`),
    capture(`${tmp.path}/eks.json`),
  ].join("\n");
  const r = await runProcess(["unshare", "--mount", "sh", "-c", script], {
    env: {
      KUBERNETES_SERVICE_HOST: "10.96.0.1",
      CHAMELEON_LOG_LEVEL: "error",
      PATH: "/usr/bin:/bin",
    },
  });
  equal(r.code, 0, r.stderr);
  for (const name of ["token", "config.json", "eks.json"]) {
    const text = Deno.readTextFileSync(`${tmp.path}/snap-${name}.json`);
    equal(text.includes("SATOKEN-CONTENT"), false, name);
    const unreadable = JSON.parse(text).unreadable as Record<string, string>;
    const config = name === "token"
      ? `${sa.replace("/run", "/var/run")}/token`
      : `${tmp.path}/${name}`;
    equal(unreadable[config], TOKEN_NOT_READ, name);
  }
});

Deno.test("listDir() lists a /proc folder and gives null for a file, a device or nothing", () => {
  ok((listDir("/proc/self/fd") ?? []).includes("0"));
  deepEqual([listDir("/proc/self/status"), listDir("/proc/nope"), listDir("/dev/null")], [
    null,
    null,
    null,
  ]);
});

/**
 * A live snapshot of the read path `path`, taken by another process that
 * strace stops right after its statx of `path` (the check before the read):
 * `swap` then changes what is there, as anyone who may write the folder can,
 * before the process goes on to open it. The snapshot's files and unreadable
 * entries, as JSON.
 */
async function snapshotSwappedAfterCheck(
  path: string,
  env: Record<string, string>,
  swap: () => void,
  read: "snapshot" | "live file" = "snapshot",
): Promise<string> {
  using tmp = tempDir();
  const trace = `${tmp.path}/trace`;
  const module = new URL("./snapshot.ts", import.meta.url).href;
  // The snapshot is taken once standard input ends: strace is attached by then (a start traced
  // from its first system call is slow on a busy machine). A live file is read as --check-config
  // reads it: what readLiveFile() gives, as JSON.
  const code = `import { readLiveFile, takeSnapshot } from ${JSON.stringify(module)};
for await (const _ of Deno.stdin.readable);
const env = JSON.parse(Deno.args[1]);
if (${read === "live file"}) console.log(JSON.stringify(await readLiveFile(Deno.args[0], env)));
else {
  const s = await takeSnapshot([], env, [{ paths: [{ kind: "read", path: Deno.args[0] }] }]);
  console.log(JSON.stringify({ files: s.files, unreadable: s.unreadable ?? {} }));
}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", "--no-lock", code, path, JSON.stringify(env)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const tracer = new Deno.Command("strace", {
    args: [
      ...["-f", "-qq", "-o", trace, "-P", path, "-p", String(child.pid)],
      ...["-e", "trace=statx", "-e", "inject=statx:signal=STOP:when=1"],
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const traced = tracer.output();
  let stopped = false;
  try {
    // Every thread traced (TracerPid set), then the snapshot may begin.
    await waitFor("strace to attach", () => {
      const tasks = listDir(`/proc/${child.pid}/task`) ?? [];
      const tracedTask = (t: string) => {
        const r = readBounded(`/proc/${child.pid}/task/${t}/status`, 64 * 1024);
        return r.kind === "ok" && /^TracerPid:\s*[1-9]/m.test(r.text);
      };
      return tasks.length > 0 && tasks.every(tracedTask) ? true : undefined;
    });
    await child.stdin.close();
    await waitFor(
      "the stop after the statx",
      () => stoppedAfterStatx(Deno.readTextFileSync(trace)),
    );
    stopped = true;
  } finally {
    // Never to be resumed (strace leaves a stopped process stopped): ended.
    if (!stopped) child.kill("SIGKILL");
  }
  swap();
  child.kill("SIGCONT");
  const out = await output;
  await traced;
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("readLiveFile() never reads a token put where a pipe was checked (--check-config): it reads what it checked", async () => {
  using tmp = tempDir();
  const path = `${tmp.path}/config.yaml`;
  equal((await runProcess(["mkfifo", path])).code, 0);
  // The pipe's other name, through which a writer feeds it once the token took its place.
  const pipe = `${tmp.path}/pipe`;
  Deno.linkSync(path, pipe);
  const token = `${tmp.path}/web-identity`;
  Deno.writeTextFileSync(token, "eyJ.live-file-canary.sig");
  const tokenName = `${tmp.path}/token-link`;
  Deno.linkSync(token, tokenName);
  let writer: Deno.ChildProcess | undefined;
  try {
    const got = await snapshotSwappedAfterCheck(
      path,
      { AWS_WEB_IDENTITY_TOKEN_FILE: token },
      () => {
        Deno.renameSync(tokenName, path);
        writer = new Deno.Command("sh", {
          args: ["-c", 'printf "mode: exec\\n" > "$1"', "sh", pipe],
          stdout: "null",
          stderr: "null",
        }).spawn();
      },
      "live file",
    );
    deepEqual(JSON.parse(got), { kind: "ok", text: "mode: exec\n" });
  } finally {
    // Still waiting for a reader: a read that opened the token, not the pipe it checked.
    try {
      writer?.kill();
    } catch { /* it ended */ }
    await writer?.status;
  }
});

Deno.test("takeSnapshot() never waits on a FIFO put at a read path after its check, nor reads it", async () => {
  using tmp = tempDir();
  const path = `${tmp.path}/hyperparameters.json`;
  Deno.writeTextFileSync(path, "{}");
  const fifo = `${tmp.path}/fifo`;
  equal((await runProcess(["mkfifo", fifo])).code, 0);
  // A writer, so that a read that waits for one ends: it gives what such a read would record.
  let writer: Deno.ChildProcess | undefined;
  try {
    const got = await snapshotSwappedAfterCheck(path, {}, () => {
      Deno.renameSync(fifo, path);
      writer = new Deno.Command("sh", {
        args: ["-c", 'printf "from the pipe" > "$1"', "sh", path],
        stdout: "null",
        stderr: "null",
      }).spawn();
    });
    deepEqual(JSON.parse(got), { files: { [path]: "" }, unreadable: {} });
  } finally {
    // Still waiting for a reader: a snapshot that did not open the pipe to read it.
    try {
      writer?.kill();
    } catch { /* it ended */ }
    await writer?.status;
  }
});

Deno.test("takeSnapshot() never reads a token that a read path leads to after its check", async () => {
  using tmp = tempDir();
  const path = `${tmp.path}/config.json`;
  Deno.writeTextFileSync(path, "{}");
  const token = `${tmp.path}/web-identity`;
  Deno.writeTextFileSync(token, "web-identity-canary");
  const got = await snapshotSwappedAfterCheck(
    path,
    { AWS_WEB_IDENTITY_TOKEN_FILE: token },
    () => {
      Deno.symlinkSync(token, `${path}.new`);
      Deno.renameSync(`${path}.new`, path);
    },
  );
  deepEqual(JSON.parse(got), { files: { [path]: "" }, unreadable: {} });
});
