/**
 * Thin bindings to the few system calls Deno has no API for: reading /proc,
 * /sys and /dev without `--allow-all` (denoland/deno#27564), execve, the
 * privilege drop (setgroups/setgid/setuid; `Deno.Command` would drop
 * supplementary groups, denoland/deno#29770), process groups, posix_spawn and
 * waitpid for a supervising PID 1, and getaddrinfo so `/etc/hosts` and NSS
 * are honoured.
 *
 * Only the rest of `sys/` imports this.
 * Opening a library costs about 0.55 ms plus 0.1 ms per declared symbol, so
 * the snapshot and the exec stage share two symbols: `syscall(2)` with every
 * argument a 64-bit word, and errno. The calls that need glibc's own behaviour
 * (setuid in a threaded process, posix_spawn, getaddrinfo) are groups of
 * their own, opened on first use.
 *
 * @module
 */

/** syscall(2) and errno: what reads, listings, stat, signals and execve go through. */
const CORE_SYMBOLS = {
  syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

const ARM = Deno.build.arch === "aarch64";

/** Linux system call numbers: x86_64 has its own table, aarch64 the generic one. */
export const SYS = ARM
  ? {
    read: 63,
    close: 57,
    openat: 56,
    getdents64: 61,
    statx: 291,
    faccessat: 48,
    chdir: 49,
    umask: 166,
    rt_sigaction: 134,
    rt_sigprocmask: 135,
    execve: 221,
    fstatfs: 44,
    setpgid: 154,
    write: 64,
    fchmod: 52,
    fchown: 55,
    kill: 129,
    lseek: 62,
    ftruncate: 46,
    fchownat: 54,
    newfstatat: 79,
    getuid: 174,
    getgid: 176,
    getgroups: 158,
    readlinkat: 78,
    mkdirat: 34,
    linkat: 37,
    unlinkat: 35,
    capget: 90,
    capset: 91,
    renameat2: 276,
    fcntl: 25,
    getsockopt: 209,
  }
  : {
    read: 0,
    close: 3,
    openat: 257,
    getdents64: 217,
    statx: 332,
    faccessat: 269,
    chdir: 80,
    umask: 95,
    rt_sigaction: 13,
    rt_sigprocmask: 14,
    execve: 59,
    fstatfs: 138,
    setpgid: 109,
    write: 1,
    fchmod: 91,
    fchown: 93,
    kill: 62,
    lseek: 8,
    ftruncate: 77,
    fchownat: 260,
    newfstatat: 262,
    getuid: 102,
    getgid: 104,
    getgroups: 115,
    readlinkat: 267,
    mkdirat: 258,
    linkat: 265,
    unlinkat: 263,
    capget: 125,
    capset: 126,
    renameat2: 316,
    fcntl: 72,
    getsockopt: 55,
  };

/**
 * open(2) flags. aarch64 has its own values for O_DIRECTORY and O_NOFOLLOW
 * (x86_64's would be O_DIRECT and O_LARGEFILE there).
 */
export const O = {
  RDONLY: 0,
  WRONLY: 0o1,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  NONBLOCK: 0o4000,
  NOCTTY: 0o400,
  CLOEXEC: 0o2000000,
  DIRECTORY: ARM ? 0o40000 : 0o200000,
  NOFOLLOW: ARM ? 0o100000 : 0o400000,
  APPEND: 0o2000,
  PATH: 0o10000000,
} as const;

/**
 * Where `struct stat` (newfstatat) keeps st_dev and st_ino (the same in both), st_nlink, st_mode,
 * st_uid and st_gid: x86_64's own layout, and the generic one aarch64 uses. st_nlink is 64 bits on
 * x86_64 and 32 on aarch64: its low 32 bits are read at `nlink` on both (little-endian).
 */
export const STAT_FIELDS = ARM
  ? { dev: 0, ino: 8, mode: 16, nlink: 20, uid: 24, gid: 28 }
  : { dev: 0, ino: 8, nlink: 16, mode: 24, uid: 28, gid: 32 };

/** lseek(2)'s whence. */
export const SEEK = { SET: 0, CUR: 1, END: 2 } as const;

/** `*at` flag: act on `dirfd` itself when the path is empty. */
export const AT_EMPTY_PATH = 0x1000;

/** `*at` flag: a link named last is looked at itself, not followed. */
export const AT_SYMLINK_NOFOLLOW = 0x100;

/** A mode's file type (`mode & S.IFMT`): folder, regular file, symbolic link. */
export const S = { IFMT: 0o170000, IFDIR: 0o040000, IFREG: 0o100000, IFLNK: 0o120000 } as const;

/** `dirfd` for paths relative to the working directory (absolute ones ignore it). */
export const AT_FDCWD = -100;

/** glibc's setgroups/setgid/setuid (and the setres* pair) apply to every thread of this (threaded) process. */
const IDENTITY_SYMBOLS = {
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setgid: { parameters: ["u32"], result: "i32" },
  setuid: { parameters: ["u32"], result: "i32" },
  setresgid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  setresuid: { parameters: ["u32", "u32", "u32"], result: "i32" },
} as const;

/** Process groups and the terminal (the exec stage of a supervised child). */
const TTY_SYMBOLS = {
  getpgrp: { parameters: [], result: "i32" },
  tcgetpgrp: { parameters: ["i32"], result: "i32" },
  tcsetpgrp: { parameters: ["i32", "i32"], result: "i32" },
  isatty: { parameters: ["i32"], result: "i32" },
} as const;

/**
 * The supervisor (spawning, waiting, signalling) and streams: the program's
 * stderr pipe, `--snapshot -`, `--capture /dev/stdout`. Opening a pipe and
 * waiting for it to be ready happen on worker threads, so a pipe waiting for
 * its other end does not keep the signal listeners from running.
 */
const PROCESS_SYMBOLS = {
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setpgroup: { parameters: ["buffer", "i32"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  openBlocking: {
    name: "open",
    parameters: ["buffer", "i32", "u32"],
    result: "i32",
    nonblocking: true,
  },
  // Waits on a worker thread; the read or write that follows runs here, where errno is readable.
  /** poll(2) on the calling thread: for a zero timeout only. */
  pollNow: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32" },
  pollBlocking: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
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
): () => Deno.DynamicLibrary<S>["symbols"] {
  let lib: Deno.DynamicLibrary<S>["symbols"] | undefined;
  return () => (lib ??= Deno.dlopen("libc.so.6", symbols).symbols);
}

const libcCore = opener(CORE_SYMBOLS);
/** setgroups, setgid, setuid. */
export const libcIdentity = opener(IDENTITY_SYMBOLS);
/** Process groups and the terminal. */
export const libcTty = opener(TTY_SYMBOLS);
/**
 * The first of stdin, stdout and stderr that is a terminal (job control works
 * on the controlling terminal, whichever of them shows it: `cmd < /dev/null`
 * still has one); null when none is.
 */
export function terminalFd(): number | null {
  const t = libcTty();
  for (const fd of [0, 1, 2]) if (t.isatty(fd) === 1) return fd;
  return null;
}

/** The symbols a supervisor needs. */
export const libcProcess = opener(PROCESS_SYMBOLS);

/** getaddrinfo. */
export const libcNet = opener(NET_SYMBOLS);

const encoder = new TextEncoder();

// struct kernel_sigaction (handler, flags, restorer, mask; the same on x86_64 and aarch64),
// all zero: SIG_DFL, no flags, an empty mask. The handler word set to 1 is SIG_IGN.
const SIGACTION_BYTES = 32;
/** The kernel's sigset_t size, for rt_sigaction and rt_sigprocmask. */
export const SIGSET_BYTES = 8;

/** Sets a signal's disposition to its default, or to ignored (glibc's own two signals included). */
export function sigaction(sig: number, disposition: "default" | "ignore"): void {
  const action = new Uint8Array(SIGACTION_BYTES);
  if (disposition === "ignore") action[0] = 1;
  sys(SYS.rt_sigaction, sig, action, null, SIGSET_BYTES);
}

/** A NUL-terminated copy of `s` for passing to C. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  return nulEnded(encoder.encode(s));
}

/** A NUL-terminated copy of `bytes` (a name need not be UTF-8) for passing to C. */
export function nulEnded(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** A system call argument: an integer, or a buffer passed by address (kept alive by the caller). */
type SysArg = number | bigint | Uint8Array | null;

function word(x: SysArg): bigint {
  if (x === null) return 0n;
  if (x instanceof Uint8Array) return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(x)));
  return BigInt(x);
}

/** A system call through glibc's syscall(2): its result, or -1 with {@linkcode errno} set. */
export function sys(
  nr: number,
  a: SysArg = 0,
  b: SysArg = 0,
  c: SysArg = 0,
  d: SysArg = 0,
  e: SysArg = 0,
): number {
  return Number(libcCore().syscall(BigInt(nr), word(a), word(b), word(c), word(d), word(e)));
}

/** errno of the last failed call made on this thread. */
export function errno(): number {
  const p = libcCore().__errno_location();
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
  ENOSYS: 38,
  EEXIST: 17,
  ENOSPC: 28,
  EROFS: 30,
  ELOOP: 40,
  EBADF: 9,
  EAGAIN: 11,
  ENXIO: 6,
  E2BIG: 7,
  ENOMEM: 12,
  EPIPE: 32,
  EMFILE: 24,
  EIO: 5,
  EINVAL: 22,
  ENODEV: 19,
  ENAMETOOLONG: 36,
  ETXTBSY: 26,
  EDQUOT: 122,
  EFAULT: 14,
  EBUSY: 16,
  EXDEV: 18,
  ENFILE: 23,
  ENOTTY: 25,
  EFBIG: 27,
  ESPIPE: 29,
  EMLINK: 31,
  ENOTEMPTY: 39,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ESTALE: 116,
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
    case ERRNO.E2BIG:
      return "argument list too long";
    case ERRNO.EAGAIN:
      return "resource temporarily unavailable";
    case ERRNO.ENOMEM:
      return "cannot allocate memory";
    case ERRNO.EEXIST:
      return "file exists";
    case ERRNO.ENOSPC:
      return "no space left on device";
    case ERRNO.EROFS:
      return "read-only file system";
    case ERRNO.ELOOP:
      // O_PATH|O_NOFOLLOW opens a link itself: ELOOP is a loop or a chain over the kernel's 40.
      return "too many levels of symbolic links";
    case ERRNO.EIO:
      return "input/output error";
    case ERRNO.EINVAL:
      return "invalid argument";
    case ERRNO.ENODEV:
      return "no such device";
    case ERRNO.ENAMETOOLONG:
      return "file name too long";
    case ERRNO.EBADF:
      return "not an open file descriptor";
    case ERRNO.ENXIO:
      return "no such device or address";
    case ERRNO.EPIPE:
      return "the reader closed the pipe";
    case ERRNO.EMFILE:
      return "too many open files";
    case ERRNO.ETXTBSY:
      // execve of a file some process still has open for writing (a copy not yet closed).
      return "text file busy (open for writing)";
    case ERRNO.EDQUOT:
      return "disk quota exceeded";
    // The rest that the calls of sys/ can give (open, read, write, seek, rename, link, unlink,
    // mkdir, stat, kill, waitpid, setpgid, tcsetpgrp, statx): a message should never read `errno N`.
    case ERRNO.ESRCH:
      return "no such process";
    case ERRNO.EINTR:
      return "interrupted system call";
    case ERRNO.ECHILD:
      return "no child processes";
    case ERRNO.ENOSYS:
      // A kernel without the call, or a seccomp profile that refuses it so.
      return "function not implemented";
    case ERRNO.EFAULT:
      return "bad address";
    case ERRNO.EBUSY:
      return "device or resource busy";
    case ERRNO.EXDEV:
      return "invalid cross-device link (another mount)";
    case ERRNO.ENFILE:
      return "too many open files in system";
    case ERRNO.ENOTTY:
      return "inappropriate ioctl for device (not a terminal)";
    case ERRNO.EFBIG:
      return "file too large";
    case ERRNO.ESPIPE:
      return "illegal seek (a pipe or socket)";
    case ERRNO.EMLINK:
      return "too many links";
    case ERRNO.ENOTEMPTY:
      return "directory not empty";
    case ERRNO.EOVERFLOW:
      return "value too large for defined data type";
    case ERRNO.EOPNOTSUPP:
      return "operation not supported";
    case ERRNO.ENOTCONN:
      // SageMaker's FastFile channels and other FUSE mounts, once their daemon has gone.
      return "transport endpoint is not connected (a FUSE mount whose daemon is gone)";
    case ERRNO.ETIMEDOUT:
      return "connection timed out";
    case ERRNO.ESTALE:
      // NFS (EFS, FSx) after the file was replaced on the server.
      return "stale file handle";
    default:
      return `errno ${code}`;
  }
}

/**
 * An array of C string pointers terminated by NULL; keep the result alive
 * until the call returns. An item given as bytes is passed as it is (it must
 * end in its NUL).
 */
export function cStringArray(items: readonly (string | Uint8Array)[]): {
  pointers: BigUint64Array<ArrayBuffer>;
  keepAlive: Uint8Array[];
} {
  const keepAlive = items.map((it) => typeof it === "string" ? cString(it) : it);
  const pointers = new BigUint64Array(items.length + 1);
  keepAlive.forEach((buf, i) => {
    pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  });
  return { pointers, keepAlive };
}
