/**
 * Thin bindings to the few libc calls Deno has no API for: reading /proc and
 * /sys without `--allow-all` (denoland/deno#27564), execve, the privilege drop
 * (setgroups/setgid/setuid; `Deno.Command` would drop supplementary groups,
 * denoland/deno#29770), process groups, posix_spawn and waitpid for a
 * supervising PID 1, and getaddrinfo so `/etc/hosts` and NSS are honoured.
 *
 * Only `snapshot.ts`, `apply.ts`, `run.ts` and the rest of `sys/` import this.
 * The library is opened on first use, so `--explain --snapshot` never loads it.
 *
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  readBlocking: {
    name: "read",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  close: { parameters: ["i32"], result: "i32" },
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  getgroups: { parameters: ["i32", "buffer"], result: "i32" },
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setgid: { parameters: ["u32"], result: "i32" },
  setuid: { parameters: ["u32"], result: "i32" },
  getuid: { parameters: [], result: "u32" },
  chdir: { parameters: ["buffer"], result: "i32" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  umask: { parameters: ["u32"], result: "u32" },
  setpgid: { parameters: ["i32", "i32"], result: "i32" },
  getpgrp: { parameters: [], result: "i32" },
  tcgetpgrp: { parameters: ["i32"], result: "i32" },
  tcsetpgrp: { parameters: ["i32", "i32"], result: "i32" },
  isatty: { parameters: ["i32"], result: "i32" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  sigprocmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  waitpidBlocking: {
    name: "waitpid",
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  getaddrinfo: {
    parameters: ["buffer", "pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  freeaddrinfo: { parameters: ["pointer"], result: "void" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Lib | undefined;

/** The libc symbols, opened on first use. */
export function libc(): Lib {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `s` for passing to C. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** errno of the last failed call made on this thread. */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** Linux errno values used by callers (x86_64 and aarch64 share them). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EACCES: 13,
  ENOTDIR: 20,
  EISDIR: 21,
  ECHILD: 10,
  ENOEXEC: 8,
} as const;

/** A short human text for an errno, for one-line error messages. */
export function errnoText(code: number): string {
  switch (code) {
    case ERRNO.EPERM:
      return "operation not permitted";
    case ERRNO.ENOENT:
      return "no such file or directory";
    case ERRNO.EACCES:
      return "permission denied";
    case ERRNO.ENOTDIR:
      return "not a directory";
    case ERRNO.EISDIR:
      return "is a directory";
    case ERRNO.ENOEXEC:
      return "exec format error";
    default:
      return `errno ${code}`;
  }
}

/** An array of C string pointers terminated by NULL; keep the result alive until the call returns. */
export function cStringArray(items: readonly string[]): {
  pointers: BigUint64Array<ArrayBuffer>;
  keepAlive: Uint8Array[];
} {
  const keepAlive = items.map(cString);
  const pointers = new BigUint64Array(items.length + 1);
  keepAlive.forEach((buf, i) => {
    pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  });
  return { pointers, keepAlive };
}
