// The snapshot's reads, run with the test task's explicit permissions (no --allow-all): Deno's
// own file APIs refuse /proc, /sys and /dev under them, so these paths prove the libc route.
import { deepEqual, equal, match, ok } from "@std/assert";
import {
  listDir,
  pathIdentity,
  pathKind,
  procStatusField,
  readBounded,
  readFileOnly,
  statPath,
  symlinkOwner,
} from "./fs.ts";
import { errnoText } from "./libc.ts";
import { runProcess, tempDir } from "../tests/helpers.ts";

Deno.test("listDir() lists /dev and /proc folders, which Deno's readDirSync refuses", () => {
  const dev = listDir("/dev");
  ok(dev !== null && dev.includes("null"), `listDir("/dev") gave ${JSON.stringify(dev)}`);
  const fds = listDir("/proc/self/fd");
  ok(fds !== null && fds.includes("0"), `listDir("/proc/self/fd") gave ${JSON.stringify(fds)}`);
  equal(listDir("/dev/null"), null); // a device node is not opened as a folder
  equal(listDir("/no/such/folder"), null);
});

Deno.test("listDir() gives every name of a big folder, without . and ..", () => {
  using tmp = tempDir();
  const dir = tmp.path;
  const names = Array.from({ length: 600 }, (_, i) => `file-${i}-${"x".repeat(i % 90)}`);
  for (const n of names) Deno.writeTextFileSync(`${dir}/${n}`, "");
  Deno.mkdirSync(`${dir}/sub`);
  deepEqual(listDir(dir)?.sort(), [...names, "sub"].sort());
});

Deno.test("statPath() reports owner, mode and kind, for /dev and /proc too", () => {
  using tmp = tempDir(0o750);
  const dir = tmp.path;
  deepEqual(statPath(dir), {
    uid: Deno.uid()!,
    gid: Deno.gid()!,
    mode: 0o750,
    isDir: true,
    isFile: false,
    readOnly: false,
  });
  Deno.writeTextFileSync(`${dir}/f`, "x", { mode: 0o640 });
  Deno.chmodSync(`${dir}/f`, 0o4640);
  deepEqual(statPath(`${dir}/f`)?.mode, 0o4640);
  equal(statPath(`${dir}/f`)?.isDir, false);
  equal(statPath(`${dir}/f`)?.isFile, true);
  equal(statPath("/dev/null")?.isDir, false);
  equal(statPath("/dev/null")?.isFile, false, "a device is no regular file");
  equal(statPath("/proc/self")?.readOnly, false);
  equal(statPath("/proc/self")?.isDir, true); // a symlink, followed
  equal(statPath(`${dir}/missing`), null);
});

Deno.test("pathKind() and readBounded() see /dev, /proc and /sys", () => {
  equal(pathKind("/dev/null"), "file");
  equal(pathKind("/proc/self"), "dir");
  equal(pathKind("/no/such"), null);
  const status = readBounded("/proc/self/status", 64 * 1024);
  ok(status.kind === "ok" && status.text.includes("Uid:"), JSON.stringify(status));
  equal(readBounded("/proc/self", 1024).kind, "unreadable");
  equal(readBounded("/no/such", 1024).kind, "missing");
  const big = readBounded("/proc/self/status", 10);
  deepEqual(big, { kind: "unreadable", reason: "larger than 10 bytes" });
});

Deno.test("readBounded() reads a file larger than its first buffer byte for byte", () => {
  using tmp = tempDir();
  const text = Array.from({ length: 20_000 }, (_, i) => `${i}é`).join(",");
  Deno.writeTextFileSync(`${tmp.path}/big`, text);
  deepEqual(readBounded(`${tmp.path}/big`, 1024 * 1024), { kind: "ok", text });
  equal(readBounded(`${tmp.path}/big`, 100_000).kind, "unreadable");
});

Deno.test("readBounded() takes a file of exactly its limit, and refuses one byte more", () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/ten`, "0123456789");
  deepEqual(readBounded(`${tmp.path}/ten`, 10), { kind: "ok", text: "0123456789" });
  deepEqual(readBounded(`${tmp.path}/ten`, 9), {
    kind: "unreadable",
    reason: "larger than 9 bytes",
  });
});

Deno.test("readBounded() finds nothing below a file: missing, not unreadable", () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/file`, "x");
  deepEqual(readBounded(`${tmp.path}/file/below`, 1024), { kind: "missing" });
});

Deno.test("readBounded() refuses a pipe that gives one byte more than its limit after a pause at the limit", async () => {
  using tmp = tempDir();
  const fifo = `${tmp.path}/fifo`;
  equal((await runProcess(["mkfifo", fifo])).code, 0);
  // Exactly the limit first; one byte more only once the reader has taken those.
  const script = [
    "import fcntl, os, struct, sys, termios, time",
    "fd = os.open(sys.argv[1], os.O_WRONLY)",
    "os.write(fd, b'x' * 100)",
    "while struct.unpack('i', fcntl.ioctl(fd, termios.FIONREAD, bytes(4)))[0] > 0: time.sleep(0.001)",
    "os.write(fd, b'y')",
  ].join("\n");
  const writer = new Deno.Command("python3", {
    args: ["-c", script, fifo],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const r = readBounded(fifo, 100);
  await writer.status;
  deepEqual(r, { kind: "unreadable", reason: "larger than 100 bytes" });
});

Deno.test("readBounded() names why a read failed: a loop of links, an I/O error (EIO), EINVAL", () => {
  using tmp = tempDir();
  Deno.symlinkSync(`${tmp.path}/b`, `${tmp.path}/a`);
  Deno.symlinkSync(`${tmp.path}/a`, `${tmp.path}/b`);
  deepEqual(readBounded(`${tmp.path}/a`, 1024), {
    kind: "unreadable",
    reason: "too many levels of symbolic links",
  });
  // Reading a process's memory at address 0 (never mapped) fails with EIO.
  deepEqual(readBounded("/proc/self/mem", 1024), {
    kind: "unreadable",
    reason: "input/output error",
  });
  equal(errnoText(22), "invalid argument");
});

Deno.test("procStatusField() gives the value of the field of that exact name", () => {
  match(procStatusField("Uid") ?? "", /^\d+\s+\d+\s+\d+\s+\d+$/);
  equal(procStatusField("Cap"), undefined, "a prefix of CapEff names no field");
  equal(procStatusField("NoSuchField"), undefined);
});

Deno.test("statPath() and symlinkOwner() tell the owner from the group", async () => {
  using tmp = tempDir();
  const file = `${tmp.path}/file`;
  Deno.writeTextFileSync(file, "x");
  Deno.chownSync(file, 4242, 4343);
  deepEqual([statPath(file)?.uid, statPath(file)?.gid], [4242, 4343]);
  const link = `${tmp.path}/link`;
  Deno.symlinkSync(file, link);
  equal((await runProcess(["chown", "-h", "4141:0", link])).code, 0);
  equal(symlinkOwner(link), 4141);
  equal(symlinkOwner(file), undefined, "a file is no link");
  equal(symlinkOwner(`${tmp.path}/missing`), undefined);
});

Deno.test("pathIdentity() finds nothing below a file or where nothing is: missing", () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/file`, "x");
  deepEqual(pathIdentity(`${tmp.path}/file/below`), { kind: "missing" });
  deepEqual(pathIdentity(`${tmp.path}/none`), { kind: "missing" });
  equal(pathIdentity(`${tmp.path}/file`).kind, "file");
});

Deno.test("readFileOnly() reads a regular file only: a FIFO without a writer, a device or a withheld file is special", async () => {
  using tmp = tempDir();
  const fifo = `${tmp.path}/fifo`;
  equal((await runProcess(["mkfifo", fifo])).code, 0);
  Deno.writeTextFileSync(`${tmp.path}/file`, "text");
  deepEqual(readFileOnly(fifo, 100), { kind: "special" });
  deepEqual(readFileOnly("/dev/zero", 100), { kind: "special" });
  deepEqual(readFileOnly(`${tmp.path}/file`, 100), { kind: "ok", text: "text" });
  const id = pathIdentity(`${tmp.path}/file`);
  ok(id.kind === "file");
  deepEqual(readFileOnly(`${tmp.path}/file`, 100, new Set([id.id])), { kind: "special" });
  deepEqual(readFileOnly(tmp.path, 100), { kind: "unreadable", reason: "is a directory" });
  deepEqual(readFileOnly(`${tmp.path}/none`, 100), { kind: "missing" });
  deepEqual(readFileOnly(`${tmp.path}/file`, 3), {
    kind: "unreadable",
    reason: "larger than 3 bytes",
  });
});

Deno.test("statPath(), pathIdentity(), symlinkOwner() and readFileOnly() tell /proc, /dev and links alike where there is no statx (ENOSYS)", async () => {
  using tmp = tempDir();
  Deno.writeTextFileSync(`${tmp.path}/file`, "x");
  Deno.symlinkSync(`${tmp.path}/file`, `${tmp.path}/link`);
  const module = new URL("./fs.ts", import.meta.url).href;
  const code = `import { pathIdentity, pathKind, readFileOnly, statPath, symlinkOwner } from ${
    JSON.stringify(module)
  };
console.log(JSON.stringify({
  paths: Deno.args.map((p) => [statPath(p), pathIdentity(p), symlinkOwner(p), readFileOnly(p, 100)]),
  proc: [pathKind("/proc/self/status"), statPath("/proc/self")?.isDir, pathIdentity("/proc/self/fd").kind],
}));`;
  const paths = ["/dev/full", `${tmp.path}/file`, `${tmp.path}/link`, `${tmp.path}/none`];
  const run = (noStatx: boolean) =>
    runProcess([
      ...(noStatx ? ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=statx"] : []),
      ...(noStatx ? ["-e", "inject=statx:error=ENOSYS"] : []),
      ...[Deno.execPath(), "eval", "--quiet", "--no-lock", code, ...paths],
    ]);
  const withStatx = await run(false);
  const without = await run(true);
  equal(without.code, 0, without.stderr);
  const seen = JSON.parse(withStatx.stdout);
  deepEqual(seen.proc, ["file", true, "dir"]);
  equal(seen.paths[0][1].kind, "special", "/dev/full is a device");
  equal(seen.paths[2][2], Deno.uid(), "the link is one");
  deepEqual(seen.paths.map((p: unknown[]) => p[3]), [
    { kind: "special" },
    { kind: "ok", text: "x" },
    { kind: "ok", text: "x" },
    { kind: "missing" },
  ]);
  deepEqual(JSON.parse(without.stdout), seen);
});

Deno.test("readFileOnly() takes a socket for what it is: special, not unreadable", () => {
  using tmp = tempDir();
  const path = `${tmp.path}/socket`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    // Opening a socket fails (ENXIO): a snapshot records it as any other special file.
    deepEqual(readFileOnly(path, 100), { kind: "special" });
  } finally {
    listener.close();
  }
});
