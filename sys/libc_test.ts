import { equal, ok } from "@std/assert";
import { AT_FDCWD, cString, ERRNO, errno, errnoText, SYS, sys } from "./libc.ts";
import { tempDir } from "../tests/helpers.ts";

/** errno after a failed system call, with what the call gave (which must be -1). */
function failed(result: number): number {
  equal(result, -1, "the call was to fail");
  return errno();
}

const SEEK_END = 2;
const AT_REMOVEDIR = 0x200;

Deno.test("errnoText() names what real failures of sys/'s system calls give: a seek on a pipe, a non-empty folder removed, a signal to no process", () => {
  using tmp = tempDir();
  const pipe = `${tmp.path}/pipe`;
  ok(new Deno.Command("mkfifo", { args: [pipe] }).outputSync().success);
  // O_RDWR never waits for the other end of a FIFO.
  const fd = sys(SYS.openat, AT_FDCWD, cString(pipe), 0o2 | 0o4000, 0);
  ok(fd >= 0);
  try {
    equal(errnoText(failed(sys(SYS.lseek, fd, 0, SEEK_END))), "illegal seek (a pipe or socket)");
  } finally {
    sys(SYS.close, fd);
  }
  Deno.mkdirSync(`${tmp.path}/d`);
  Deno.writeTextFileSync(`${tmp.path}/d/f`, "");
  const removed = sys(SYS.unlinkat, AT_FDCWD, cString(`${tmp.path}/d`), AT_REMOVEDIR);
  equal(errnoText(failed(removed)), "directory not empty");
  // Above the kernel's largest pid (4194304): never a process.
  equal(errnoText(failed(sys(SYS.kill, 4194305, 0))), "no such process");
});

Deno.test("errnoText() has a text for every errno ERRNO names, never `errno N`", () => {
  for (const [name, code] of Object.entries(ERRNO)) {
    ok(!errnoText(code).startsWith("errno "), `${name}: ${errnoText(code)}`);
  }
  // A rename or link across mounts; a FUSE mount (SageMaker's FastFile channels) whose daemon is gone.
  equal(errnoText(18), "invalid cross-device link (another mount)");
  equal(errnoText(107), "transport endpoint is not connected (a FUSE mount whose daemon is gone)");
  equal(errnoText(1234), "errno 1234");
});
