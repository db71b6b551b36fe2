/**
 * The exec stage: the one privilege-drop path, used by both run modes. In
 * order it takes the terminal's foreground (when asked), restores default
 * signal dispositions and an empty mask (Deno leaves SIGPIPE ignored, and that
 * survives execve), calls setgroups, setgid, setuid, sets the umask, changes
 * to the working directory, resolves the command on PATH as the final user,
 * and calls execve. Asked to (`checkFirst`), it does the last two as the final
 * user before the drop, with root kept as the saved id, so that root still
 * reports a failure there. It returns only by exiting.
 *
 * @module
 */

import { ChameleonError, CommandError, EXIT } from "../errors.ts";
import {
  AT_FDCWD,
  cString,
  cStringArray,
  ERRNO,
  errno,
  errnoText,
  libcIdentity,
  libcTty,
  sigaction,
  SIGSET_BYTES,
  SYS,
  sys,
  terminalFd,
} from "./libc.ts";
import {
  procStatusField,
  readBounded,
  readBoundedBytes,
  readHead,
  statPath,
  utf8Text,
} from "./fs.ts";
import { DEFAULT_PATH, MAX_ID, type Plan } from "../types.ts";
import { MARKER_SIGNALS, settleSignals, SIGNAL_NUMBERS } from "./signals.ts";

/** Everything the exec stage needs; plain data so it can cross a process boundary. */
export interface ExecSpec {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The identity to switch to; absent keeps the current one. */
  readonly user?: {
    readonly uid: number;
    readonly gid: number;
    readonly groups: readonly number[];
  };
  readonly cwd?: string | null;
  readonly umask?: number | null;
  /** Start a new process group and, on a terminal, make it the foreground group. */
  readonly setpgid?: boolean;
  /**
   * Check the working folder and the command as the final user before the
   * drop, while root can still report what is wrong (SageMaker's failure file
   * is in root's folder); it costs the setxid calls of a second switch.
   */
  readonly checkFirst?: boolean;
  /** The bytes Deno could not decode, read by the process that had them (else read here). */
  readonly given?: GivenBytes;
  /** Variables the plan unsets: not put back from the given bytes either. */
  readonly unset?: readonly string[];
}

const SIG_SETMASK = 2;
const X_OK = 1;

function access(path: string, mode: number): boolean {
  return sys(SYS.faccessat, AT_FDCWD, cString(path), mode, 0) === 0;
}

function check(rc: number, what: string): void {
  if (rc !== 0) throw new ChameleonError(`${what}: ${errnoText(errno())}`, EXIT.internal);
}

/** Finds `name` on `path` the way a shell does, as the current (already final) user. */
export function resolveCommand(name: string, path: string | undefined): string {
  if (name.includes("/")) {
    if (!access(name, 0)) {
      const code = errno();
      // A folder on the way that this user cannot search: there may be a file, and execve
      // would say EACCES, as shells do (126).
      if (code !== ERRNO.ENOENT && code !== ERRNO.ENOTDIR) {
        throw new CommandError(
          `Command ${JSON.stringify(name)}: not executable (${errnoText(code)})`,
          EXIT.notExecutable,
        );
      }
      throw new CommandError(`Command ${JSON.stringify(name)}: not found`, EXIT.notFound);
    }
    // A folder passes X_OK, and execve's EACCES would say only "permission denied".
    if (statPath(name)?.isDir) {
      throw new CommandError(
        `Command ${JSON.stringify(name)}: not executable (a folder, expected a file)`,
        EXIT.notExecutable,
      );
    }
    if (!access(name, X_OK)) {
      throw new CommandError(
        `Command ${JSON.stringify(name)}: not executable (permission denied)`,
        EXIT.notExecutable,
      );
    }
    return name;
  }
  const dirs = (path ?? DEFAULT_PATH).split(":").map((d) => d === "" ? "." : d);
  let notExecutable: string | undefined;
  for (const dir of dirs) {
    const candidate = `${dir}/${name}`;
    if (!access(candidate, 0)) continue;
    if (statPath(candidate)?.isDir) continue;
    if (access(candidate, X_OK)) return candidate;
    notExecutable ??= candidate;
  }
  if (notExecutable !== undefined) {
    throw new CommandError(
      `Command ${JSON.stringify(name)}: ${notExecutable} is not executable (permission denied)`,
      EXIT.notExecutable,
    );
  }
  throw new CommandError(
    `Command ${JSON.stringify(name)}: not found (searched PATH=${dirs.join(":")})`,
    EXIT.notFound,
  );
}

/** How much of a script the kernel reads for its `#!` line (BINPRM_BUF_SIZE). */
const SHEBANG_BYTES = 256;

/**
 * The interpreter `file`'s `#!` line names, read as the kernel reads it (blanks
 * after `#!`, then the name up to a blank or the line's end: a `\r` belongs to
 * the name); undefined when it is no script, cannot be read, is not UTF-8, or
 * the line is cut.
 */
function shebangInterpreter(file: string): string | undefined {
  const head = readHead(file, SHEBANG_BYTES);
  if (head === undefined || head[0] !== 0x23 || head[1] !== 0x21) return undefined; // #!
  const end = head.indexOf(0x0a);
  // Bytes that are not UTF-8 would not name the same file again: left to execve.
  const line = utf8Text(head.subarray(2, end < 0 ? head.length : end));
  if (line === undefined) return undefined;
  const m = /^[ \t]*([^ \t\0]+)([ \t\0]|$)/.exec(line);
  // A name that runs to the end of a line with no end seen may be longer than what was read.
  if (m === null || (end < 0 && m[2] === "" && head.length === SHEBANG_BYTES)) return undefined;
  return m[1];
}

/**
 * Why the `#!` interpreter of `file` cannot be found, as the current user:
 * the line that names it; undefined when it is there, or `file` is no script.
 * execve's own "no such file or directory" for a file that is there does not
 * say what is missing.
 */
export function missingInterpreter(file: string): string | undefined {
  const interpreter = shebangInterpreter(file);
  if (interpreter === undefined || access(interpreter, 0)) return undefined;
  const code = errno();
  if (code !== ERRNO.ENOENT && code !== ERRNO.ENOTDIR) return undefined;
  const hint = interpreter.endsWith("\r") ? " (Windows line ends?)" : "";
  return `its #! line names the interpreter ${
    JSON.stringify(interpreter)
  }, which does not exist${hint}`;
}

/**
 * Refuses (127) a script whose `#!` interpreter does not exist, before execve
 * would, with a line that names it ({@linkcode missingInterpreter}): in exec
 * mode on SageMaker a user switch would leave nobody who may write the
 * failure file (design section 7). Run as the final user, as the execve is.
 */
function checkInterpreter(name: string, file: string): void {
  const why = missingInterpreter(file);
  if (why === undefined) return;
  throw new CommandError(
    `Command ${JSON.stringify(name)} (${file}): no such file or directory: ${why}`,
    EXIT.notFound,
  );
}

// glibc's own signals: 33 carries setuid/setgid to every thread (see resetGlibcSignals).
const GLIBC_SIGNALS = [32, 33];

const MARKERS = MARKER_SIGNALS.map((s) => SIGNAL_NUMBERS[s]!);

/**
 * Default dispositions for every signal but glibc's two (see
 * {@linkcode resetGlibcSignals}) and the markers {@linkcode settleSignals}
 * still needs (reset after it), and an empty mask.
 */
function resetSignals(): void {
  for (let sig = 1; sig <= 64; sig++) {
    if (
      sig === SIGNAL_NUMBERS["SIGKILL"] || sig === SIGNAL_NUMBERS["SIGSTOP"] ||
      MARKERS.includes(sig) || GLIBC_SIGNALS.includes(sig)
    ) continue;
    sigaction(sig, "default");
  }
  sys(SYS.rt_sigprocmask, SIG_SETMASK, new Uint8Array(SIGSET_BYTES), null, SIGSET_BYTES);
}

/**
 * Signals 32 and 33 belong to glibc: 33 carries setuid/setgid to every thread
 * of this (multi-threaded) process, so they are reset only after the
 * privilege drop.
 */
function resetGlibcSignals(): void {
  for (const sig of GLIBC_SIGNALS) sigaction(sig, "default");
}

/** Drops to the given identity: setgroups, setgid, setuid; then proves root cannot come back. */
export function dropPrivileges(user: NonNullable<ExecSpec["user"]>): void {
  // The plan checks ids; this is the last guard: Uint32Array would wrap 2^32 to group 0.
  const ids = [user.uid, user.gid, ...user.groups];
  if (!ids.every((id) => Number.isInteger(id) && id >= 0 && id <= MAX_ID)) {
    throw new ChameleonError(`user ids ${ids.join(",")}: expected 0 to ${MAX_ID}`, EXIT.internal);
  }
  const c = libcIdentity();
  const groups = new Uint32Array(user.groups);
  // Groups it has already are not asked for again: a user namespace may deny setgroups.
  if (!sameGroups(currentGroups(), groups)) {
    check(c.setgroups(BigInt(groups.length), groups), `setgroups(${user.groups.join(",")})`);
  }
  check(c.setgid(user.gid), `setgid(${user.gid})`);
  check(c.setuid(user.uid), `setuid(${user.uid})`);
  if (user.uid !== 0) clearInheritable();
  if (user.uid !== 0 && c.setuid(0) === 0) {
    throw new ChameleonError(`setuid(${user.uid}) did not drop root`, EXIT.internal);
  }
}

/** capget/capset's header version with two 32-bit words per set (_LINUX_CAPABILITY_VERSION_3). */
const CAPABILITY_VERSION_3 = 0x20080522;

/**
 * Empties this thread's inheritable capabilities, and with them its ambient
 * ones, which the kernel keeps within the inheritable set. setuid leaves the
 * inheritable set as it was: a container runtime that gives root one (Docker
 * before 20.10.14, CVE-2022-24769) would let the command gain those
 * capabilities from any program whose file capabilities name them as
 * inheritable. The permitted and effective sets stay as setuid left them.
 * Called on the thread that calls execve (capabilities are per thread), the
 * main one, whose sets /proc/self/status shows.
 */
function clearInheritable(): void {
  // Most runtimes give none: then nothing is asked of capget/capset (a seccomp profile may refuse them).
  if (/^0+$/.test(procStatusField("CapInh") ?? "")) return;
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, CAPABILITY_VERSION_3, true);
  // Two words of effective, permitted, inheritable: inheritable is at 8 and 20.
  const data = new Uint8Array(24);
  check(sys(SYS.capget, header, data), "capget");
  const view = new DataView(data.buffer);
  view.setUint32(8, 0, true);
  view.setUint32(20, 0, true);
  check(sys(SYS.capset, header, data), "capset");
}

/** The capabilities apply and the user switch may need, by their bit in CapEff. */
const CAPABILITY_BITS = { CAP_CHOWN: 0, CAP_SETGID: 6, CAP_SETUID: 7 } as const;
type Capability = keyof typeof CAPABILITY_BITS;

/**
 * Refuses (exit 78), before anything is applied, what this process cannot
 * carry out: root whose capabilities the container dropped (Kubernetes
 * `capabilities: {drop: [ALL]}`) would fail halfway, after writing the user's
 * files. A user switch needs CAP_SETGID (setgroups, setgid) and, to another
 * uid, CAP_SETUID; giving a folder or file another owner needs CAP_CHOWN.
 * Nothing is refused when the capabilities cannot be read.
 */
export function checkCapabilities(plan: Pick<Plan, "user" | "dirs" | "files" | "steps">): void {
  const user = plan.user;
  // setuid to the uid it already has (root changing its groups only) needs no CAP_SETUID.
  const forSwitch: Capability[] = user === null
    ? []
    : user.uid === Deno.uid()
    ? ["CAP_SETGID"]
    : ["CAP_SETGID", "CAP_SETUID"];
  const owned = [
    ...[...plan.dirs, ...plan.files].flatMap((f) => f.owner ? [{ ...f.owner, path: f.path }] : []),
    ...plan.steps.flatMap((s) => s.step === "chown" ? [s] : []),
  ].find((o) => o.uid !== Deno.uid() || o.gid !== Deno.gid());
  if (forSwitch.length === 0 && owned === undefined) return;
  // In a user namespace (rootless Docker or Podman, Kubernetes hostUsers: false) an id with no
  // mapping is refused by chown and setuid with EINVAL: a bare "invalid argument" after the
  // first folders were made, or exit 70 at the switch.
  if (user !== null) {
    const unmapped = unmappedId(user.uid, [user.gid, ...user.groups]);
    if (unmapped !== undefined) {
      throw new ChameleonError(
        `User switch to ${user.uid}:${user.gid}: ${unmapped}; give the user an id inside it, or start the container as that user`,
        EXIT.config,
      );
    }
    // "deny" (written by an unprivileged runtime, rootless, before its gid_map) refuses every
    // setgroups with EPERM: only the groups this process has can be kept.
    const held = currentGroups();
    if (!sameGroups(held, new Uint32Array(user.groups)) && setgroupsDenied()) {
      const list = (gs: Iterable<number>) => [...gs].join(",") || "none";
      throw new ChameleonError(
        `User switch to ${user.uid}:${user.gid}: groups ${
          list(user.groups)
        } differ from this process's ${
          list(held)
        }, and this user namespace denies setgroups (/proc/self/setgroups); start the container with these groups, or in a user namespace that allows setgroups`,
        EXIT.config,
      );
    }
  }
  if (owned !== undefined) {
    const unmapped = unmappedId(owned.uid, [owned.gid]);
    if (unmapped !== undefined) {
      throw new ChameleonError(
        `Owner ${owned.uid}:${owned.gid} of ${owned.path}: ${unmapped}; give the user an id inside it, or start the container as that user`,
        EXIT.config,
      );
    }
  }
  const hex = procStatusField("CapEff");
  if (hex === undefined || !/^[0-9a-f]+$/.test(hex)) return;
  const effective = BigInt(`0x${hex}`);
  const lacking = (wanted: Capability[]) =>
    wanted.filter((name) => (effective & (1n << BigInt(CAPABILITY_BITS[name]))) === 0n);
  const missing = lacking(forSwitch);
  if (user !== null && missing.length > 0) {
    throw new ChameleonError(
      `User switch to ${user.uid}:${user.gid}: this process lacks ${
        missing.join(" and ")
      } (dropped from the container?); keep them, or start the container as that user`,
      EXIT.config,
    );
  }
  if (owned !== undefined && lacking(["CAP_CHOWN"]).length > 0) {
    throw new ChameleonError(
      `Owner ${owned.uid}:${owned.gid} of ${owned.path}: this process lacks CAP_CHOWN (dropped from the container?); keep it, or start the container as that user`,
      EXIT.config,
    );
  }
}

/**
 * Whether `id` is inside one of the ranges of a /proc/self/uid_map or gid_map
 * text (`inside outside count` a line); an empty or unreadable map is taken
 * as mapping everything.
 */
export function idMapped(map: string, id: number): boolean {
  const ranges = map.split("\n").map((l) => l.trim().split(/\s+/).map(Number))
    .filter((r) => r.length === 3 && r.every(Number.isSafeInteger));
  return ranges.length === 0 ||
    ranges.some(([inside, , count]) => id >= inside! && id - inside! < count!);
}

/** Whether this process's user namespace refuses setgroups (/proc/self/setgroups says "deny"). */
function setgroupsDenied(): boolean {
  const r = readBounded("/proc/self/setgroups", 64);
  return r.kind === "ok" && r.text.trim() === "deny";
}

/** Why the uid or one of the gids has no mapping in this process's user namespace, if so. */
function unmappedId(uid: number, gids: readonly number[]): string | undefined {
  const read = (file: string) => {
    const r = readBounded(file, 64 * 1024);
    return r.kind === "ok" ? r.text : "";
  };
  if (!idMapped(read("/proc/self/uid_map"), uid)) {
    return `uid ${uid} has no mapping in this container's user namespace (/proc/self/uid_map)`;
  }
  const gidMap = read("/proc/self/gid_map");
  const gid = gids.find((g) => !idMapped(gidMap, g));
  return gid === undefined
    ? undefined
    : `gid ${gid} has no mapping in this container's user namespace (/proc/self/gid_map)`;
}

/** Whether two group lists hold the same groups (setgroups takes a set: order and repeats do not count). */
function sameGroups(a: Uint32Array, b: Uint32Array): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((g) => y.has(g));
}

/** This process's supplementary groups. */
function currentGroups(): Uint32Array {
  const n = sys(SYS.getgroups, 0, null);
  const groups = new Uint32Array(Math.max(n, 0));
  if (n > 0) {
    check(sys(SYS.getgroups, n, new Uint8Array(groups.buffer)) === n ? 0 : -1, "getgroups");
  }
  return groups;
}

/**
 * Runs `work` as the final user (real and effective ids, and groups), with
 * this process's own uid kept as the saved one so that it comes back after:
 * what `work` finds wrong (a working folder or a command that user cannot
 * reach) is then reported by root, which can still write SageMaker's failure
 * file in root's /opt/ml/output.
 */
function asFinalUser<T>(user: NonNullable<ExecSpec["user"]>, work: () => T): T {
  const c = libcIdentity();
  const uid = sys(SYS.getuid);
  const gid = sys(SYS.getgid);
  const groups = currentGroups();
  const theirs = new Uint32Array(user.groups);
  const same = sameGroups(groups, theirs);
  if (!same) {
    check(c.setgroups(BigInt(theirs.length), theirs), `setgroups(${user.groups.join(",")})`);
  }
  check(c.setresgid(user.gid, user.gid, gid), `setresgid(${user.gid})`);
  check(c.setresuid(user.uid, user.uid, uid), `setresuid(${user.uid})`);
  try {
    return work();
  } finally {
    check(c.setresuid(uid, uid, uid), `setresuid(${uid})`);
    check(c.setresgid(gid, gid, gid), `setresgid(${gid})`);
    if (!same) check(c.setgroups(BigInt(groups.length), groups), "setgroups");
  }
}

/** Changes to the working directory and finds the command, as the current user: the file to execve. */
function prepare(spec: ExecSpec): string {
  if (spec.cwd) {
    if (sys(SYS.chdir, cString(spec.cwd)) !== 0) {
      throw new ChameleonError(
        `Working directory ${JSON.stringify(spec.cwd)}: ${errnoText(errno())}`,
        EXIT.config,
      );
    }
  }
  const name = spec.argv[0];
  if (name === undefined) throw new ChameleonError("No command to run", EXIT.usage);
  const file = resolveCommand(name, spec.env["PATH"]);
  checkInterpreter(name, file);
  return file;
}

/** As much as /proc/self/cmdline or /proc/self/environ may hold (execve takes at most a quarter of the stack limit). */
const GIVEN_LIMIT = 64 * 1024 * 1024;

const lossyUtf8 = new TextDecoder();

/** The NUL-separated items of a /proc/self file, without their NULs; none when it cannot be read. */
function givenItems(path: string): Uint8Array[] {
  const r = readBoundedBytes(path, GIVEN_LIMIT);
  if (r.kind !== "ok") return [];
  const items: Uint8Array[] = [];
  let start = 0;
  for (let end = r.bytes.indexOf(0); end >= 0; end = r.bytes.indexOf(0, start)) {
    items.push(r.bytes.subarray(start, end));
    start = end + 1;
  }
  return items;
}

/** Bytes as Latin-1 text, one character per byte: JSON carries it to the exec stage unchanged. */
function byteText(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}

/** {@linkcode byteText}'s bytes back, NUL-ended for C. */
function cBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length + 1);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * What Deno could not decode, as this process was given it (as {@linkcode byteText}).
 * Deno leaves a variable that is not UTF-8 (name or value) out of its
 * environment, and turns such bytes in an argument into U+FFFD.
 */
export interface GivenBytes {
  /** Variables from /proc/self/environ that are not UTF-8 and that the plan did not name. */
  readonly env: readonly string[];
  /** By position in the command: the word's bytes where Deno changed it, else null. */
  readonly argv: readonly (string | null)[];
}

/**
 * The bytes Deno could not decode for `spec`'s command, or undefined when there
 * are none: the command's last words (the user's arguments end it) are matched
 * against the end of /proc/self/cmdline. Read as root, before a user switch
 * makes the process's /proc files root's; a supervisor reads them for the exec
 * stage it starts, whose own are already decoded.
 */
export function givenBytes(
  spec: Pick<ExecSpec, "argv" | "env" | "unset">,
): GivenBytes | undefined {
  const env: string[] = [];
  for (const item of givenItems("/proc/self/environ")) {
    if (utf8Text(item) !== undefined) continue; // Deno has it; spec.env says what becomes of it
    const eq = item.indexOf(0x3d); // =
    const name = eq > 0 ? utf8Text(item.subarray(0, eq)) : undefined;
    // A name the plan sets replaces the given bytes; one it unsets goes, whatever its value.
    if (name === undefined || !(Object.hasOwn(spec.env, name) || spec.unset?.includes(name))) {
      env.push(byteText(item));
    }
  }
  const argv: (string | null)[] = spec.argv.map(() => null);
  const given = spec.argv.some((w) => w.includes("\uFFFD")) ? givenItems("/proc/self/cmdline") : [];
  if (given.length >= argv.length) {
    // Aligned at the end: a command from the config or script mode ends in the user's words.
    given.slice(given.length - argv.length).forEach((item, i) => {
      // Only a word Deno changed, and only when it is the one decoded from these bytes.
      if (utf8Text(item) === undefined && lossyUtf8.decode(item) === spec.argv[i]) {
        argv[i] = byteText(item);
      }
    });
  }
  return env.length === 0 && argv.every((w) => w === null) ? undefined : { env, argv };
}

/** argv and envp for execve: `spec`'s, with the given bytes put back. */
function execveArrays(
  spec: ExecSpec,
  given: GivenBytes | undefined,
): { argv: (string | Uint8Array)[]; envp: (string | Uint8Array)[] } {
  const envp: (string | Uint8Array)[] = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  const argv: (string | Uint8Array)[] = [...spec.argv];
  if (given !== undefined) {
    envp.push(...given.env.map(cBytes));
    given.argv.forEach((w, i) => {
      if (w !== null && i < argv.length) argv[i] = cBytes(w);
    });
  }
  return { argv, envp };
}

/** Runs the exec stage; never resolves (rejects with a {@linkcode ChameleonError} when something fails before execve). */
export async function execStage(spec: ExecSpec): Promise<never> {
  if (spec.setpgid) {
    const t = libcTty();
    sigaction(SIGNAL_NUMBERS["SIGTTOU"]!, "ignore");
    const tty = terminalFd();
    const foreground = tty !== null && t.tcgetpgrp(tty) === t.getpgrp();
    sys(SYS.setpgid, 0, 0);
    if (foreground) t.tcsetpgrp(tty, t.getpgrp());
  }
  // From here a signal takes its default action (it ends the stage as it would end the
  // command); one that came before, caught by Deno and not yet run, is run now: it ends
  // the start with 128 + n instead of being lost at execve.
  resetSignals();
  await settleSignals();
  for (const sig of MARKERS) sigaction(sig, "default");
  // Asked to, the working folder and the command are checked as the final user while root
  // can still come back to report what is wrong; the folder stays the process's own across
  // the drop.
  const checked = spec.user !== undefined && spec.checkFirst
    ? asFinalUser(spec.user, () => prepare(spec))
    : undefined;
  const given = execveArrays(spec, spec.given ?? givenBytes(spec));
  if (spec.user !== undefined) dropPrivileges(spec.user);
  resetGlibcSignals();
  if (spec.umask !== undefined && spec.umask !== null) sys(SYS.umask, spec.umask);
  const file = checked ?? prepare(spec);
  const name = spec.argv[0]!;
  const argv = cStringArray(given.argv);
  const envp = cStringArray(given.envp);
  sys(
    SYS.execve,
    cString(file),
    new Uint8Array(argv.pointers.buffer),
    new Uint8Array(envp.pointers.buffer),
  );
  const code = errno();
  void argv.keepAlive;
  void envp.keepAlive;
  throw new CommandError(
    `Command ${JSON.stringify(name)} (${file}): ${errnoText(code)}`,
    code === ERRNO.ENOENT ? EXIT.notFound : EXIT.notExecutable,
  );
}
