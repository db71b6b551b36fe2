/**
 * Thin bindings to the few libc calls Deno has no API for: reading /proc and
 * /sys without `--allow-all` (denoland/deno#27564), execve, the privilege drop
 * (setgroups/setgid/setuid; `Deno.Command` would drop supplementary groups,
 * denoland/deno#29770), process groups, posix_spawn and waitpid for a
 * supervising PID 1, and getaddrinfo so `/etc/hosts` and NSS are honoured.
 *
 * Only `snapshot.ts`, `apply.ts`, `run.ts` and the rest of `sys/` import this.
 * Each group of symbols is opened on first use (opening costs about 0.1 ms
 * per symbol), so `--explain --snapshot` loads none and a live start only the
 * ones it calls.
 *
 * @module
 */

// Opening a library costs about 0.1 ms per symbol, so the few calls a
// snapshot needs are a library of their own.
const READ_SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** Listing a folder under /proc or /sys (rare: only when a GPU driver folder exists). */
const DIR_SYMBOLS = {
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
} as const;

/** The exec stage: signal reset, privilege drop, working directory, execve. */
const EXEC_SYMBOLS = {
  access: { parameters: ["buffer", "i32"], result: "i32" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  sigprocmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  syscall: { parameters: ["i64", "i64", "buffer", "buffer", "i64"], result: "i64" },
} as const;

/** Only when the plan asks: the privilege drop, the umask and the working directory. */
const IDENTITY_SYMBOLS = {
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setgid: { parameters: ["u32"], result: "i32" },
  setuid: { parameters: ["u32"], result: "i32" },
  chdir: { parameters: ["buffer"], result: "i32" },
  umask: { parameters: ["u32"], result: "u32" },
} as const;

/** Process groups and the terminal (the exec stage of a supervised child). */
const TTY_SYMBOLS = {
  setpgid: { parameters: ["i32", "i32"], result: "i32" },
  getpgrp: { parameters: [], result: "i32" },
  tcgetpgrp: { parameters: ["i32"], result: "i32" },
  tcsetpgrp: { parameters: ["i32", "i32"], result: "i32" },
  isatty: { parameters: ["i32"], result: "i32" },
} as const;

/** The supervisor: spawning, waiting, signalling, reading a pipe. */
const PROCESS_SYMBOLS = {
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  readBlocking: {
    name: "read",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  waitpidBlocking: {
    name: "waitpid",
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  setpgid: { parameters: ["i32", "i32"], result: "i32" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

/** Name resolution with getaddrinfo semantics (/etc/hosts and NSS). */
const NET_SYMBOLS = {
  getaddrinfo: {
    parameters: ["buffer", "pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  freeaddrinfo: { parameters: ["pointer"], result: "void" },
} as const;

function opener<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): { (): Deno.DynamicLibrary<S>["symbols"]; preset(lib: Deno.DynamicLibrary<S>["symbols"]): void } {
  let lib: Deno.DynamicLibrary<S>["symbols"] | undefined;
  const get = () => (lib ??= Deno.dlopen("libc.so.6", symbols).symbols);
  return Object.assign(get, { preset: (l: Deno.DynamicLibrary<S>["symbols"]) => void (lib ??= l) });
}

/** The symbols a snapshot needs. */
export const libcRead = opener(READ_SYMBOLS);
/** Folder listing under /proc and /sys. */
export const libcDir = opener(DIR_SYMBOLS);
/** The symbols the exec stage needs. */
export const libcExec = opener(EXEC_SYMBOLS);
/** setgroups, setgid, setuid, chdir, umask. */
export const libcIdentity = opener(IDENTITY_SYMBOLS);
/** Process groups and the terminal. */
export const libcTty = opener(TTY_SYMBOLS);
/** The symbols a supervisor needs. */
export const libcProcess = opener(PROCESS_SYMBOLS);

/**
 * Opens the read and exec symbols in one go, for a real start that will need
 * both: each dlopen has a fixed cost besides the per-symbol one.
 */
export function openForStart(): void {
  const both = Deno.dlopen("libc.so.6", { ...READ_SYMBOLS, ...EXEC_SYMBOLS }).symbols;
  libcRead.preset(both);
  libcExec.preset(both);
}
/** getaddrinfo. */
export const libcNet = opener(NET_SYMBOLS);

const encoder = new TextEncoder();

/** `SIG_IGN` for signal(): the handler value 1 (made on use: pointers need FFI permission). */
export const sigIgn = (): Deno.PointerObject => Deno.UnsafePointer.create(1n)!;

/** A NUL-terminated copy of `s` for passing to C. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** errno of the last failed call made on this thread. */
export function errno(): number {
  const p = libcRead().__errno_location();
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
