// The snapshot's reads, run with the test task's explicit permissions (no --allow-all): Deno's
// own file APIs refuse /proc, /sys and /dev under them, so these paths prove the libc route.
import { deepEqual, equal, ok } from "@std/assert";
import { listDir, pathKind, readBounded, statPath } from "./fs.ts";
import { tempDir } from "../tests/helpers.ts";

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
