/**
 * The plain data passed between the layers: snapshot -> detection -> plan.
 * Pure: no imports with side effects, no Deno APIs.
 *
 * @module
 */

/** PATH when the environment has none (Debian's for root): one rule for the plan and the exec stage. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Platforms in detection precedence order (design section 2). */
export const PLATFORMS = [
  "aws-batch",
  "vertex-ai",
  "azure-ml",
  "databricks",
  "modal",
  "slurm",
  "sagemaker",
  "kubernetes",
  "ecs",
  "colab",
  "local",
] as const;

/** A platform id. */
export type Platform = typeof PLATFORMS[number];

/**
 * The largest uid or gid a switch may go to: 2^32 - 2. setuid and setgid take
 * 32 bits, and 2^32 - 1 is (uid_t)-1, "leave unchanged", to the kernel.
 */
export const MAX_ID = 0xffff_fffe;

/** An environment variable name a config or `CHAMELEON_SECRET_FILES` may give. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const VARIABLE_NAME_EXPECTED = "expected a variable name ([A-Za-z_][A-Za-z0-9_]*)";

/**
 * How deep arrays and objects in JSON input may nest. Python's json.loads
 * fails near its recursion limit (1,000) with a RecursionError, which is no
 * ValueError (so the toolkit's fall-back to the raw string does not catch it
 * either); the walks over decoded values here recurse per level, so the limit
 * keeps them far from the stack's end.
 */
export const MAX_JSON_DEPTH = 512;

/** Why text has no UTF-8 form, for messages: a lone surrogate, which a `\uD800` escape makes. */
export const LONE_SURROGATE = "a lone surrogate (a \\uD800-\\uDFFF escape has no UTF-8 form)";

/**
 * Whether `text` is dotted-quad IPv4, each part 0-255 without leading zeros
 * (what inet_ntoa writes). A loop, not a pattern: V8 compiles a pattern on its
 * first use and again on its second (0.2 and 0.08 ms for this one in a new
 * process), and a live start asks of each network address: 0.7 million
 * instructions of its `--explain`.
 */
export function isIpv4(text: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e; // the end closes the last part as a "."
    if (c === 0x2e) {
      if (digits === 0 || ++parts > 4) return false;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + c - 0x30;
      if (++digits > 3 || value > 255) return false;
    } else return false;
  }
  return parts === 4;
}

/** An address another host may reach this one at, as a snapshot holds them (design 4): non-loopback IPv4. */
export function isHostAddress(address: string): boolean {
  return isIpv4(address) && !address.startsWith("127.");
}

/** A YAML file by its name. */
export const YAML_NAME = /\.ya?ml$/i;

/** The most bytes one `name=value` string may take in execve, its terminating NUL included (MAX_ARG_STRLEN, 32 pages). */
export const MAX_VALUE_BYTES = 128 * 1024;

// deno-lint-ignore no-control-regex -- the whole ASCII range, control characters included
const ASCII = /^[\x00-\x7f]*$/;

const NUL_OR_SURROGATE = /[\0\ud800-\udfff]/;

/**
 * Why execve cannot pass `text` (a name, a value, a command word) whole, as
 * the expectation of an error line, or undefined: a NUL (execve ends the
 * string there) or a lone surrogate (no UTF-8 form: the program would get
 * U+FFFD, and Python's os.environ raises). `noun` names the text ("a value").
 * Its size is {@linkcode tooLargeForExecve}'s to judge.
 */
export function unpassable(noun: string, text: string): string | undefined {
  // One scan for the common case, a text with neither: a plan checks some 20,000 strings. A
  // long text is asked through two built-ins instead, which answer a one-byte string without a
  // scan of its own (isWellFormed) or with the runtime's fast search (includes): SM_HPS's 190 KB
  // took the pattern 50 microseconds, these 1.5; a short text, the pattern is the quicker.
  if (
    text.length < LONG_TEXT
      ? !NUL_OR_SURROGATE.test(text)
      : !text.includes("\0") && text.isWellFormed()
  ) {
    return undefined;
  }
  if (text.includes("\0")) return `expected ${noun} without NUL (execve would cut it there)`;
  if (!text.isWellFormed()) return `expected ${noun} without ${LONE_SURROGATE}`;
  return undefined;
}

/**
 * "N bytes with its terminating NUL: larger than ... execve accepts" when a
 * word, or `name=value` when a value is given, is over
 * {@linkcode MAX_VALUE_BYTES}; else undefined. Each caller says whose bytes.
 */
export function tooLargeForExecve(text: string, value?: string): string | undefined {
  const bytes = execveBytes(text, value);
  return bytes > MAX_VALUE_BYTES
    ? `${bytes} bytes with its terminating NUL: larger than the ${MAX_VALUE_BYTES} bytes execve accepts`
    : undefined;
}

/** From how many UTF-16 units a text is long for {@linkcode unpassable}. */
const LONG_TEXT = 1024;

/** The length of `s` in UTF-8, counted without encoding it (a lone surrogate becomes U+FFFD). */
export function utf8Length(s: string): number {
  // The regex engine scans an all-ASCII value several times faster than a loop of charCodeAt.
  if (ASCII.test(s)) return s.length;
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c < 0xdc00 && c >= 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 4 bytes for 2 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * The bytes a string takes in execve, its NUL included: an argument, or
 * `name=value` when a value is given. A short one is not counted (UTF-8 needs
 * at most 3 bytes per UTF-16 unit) and answers with an upper bound that is
 * still within {@linkcode MAX_VALUE_BYTES}; a longer one is counted exactly.
 */
export function execveBytes(text: string, value?: string): number {
  const most = (text.length + (value === undefined ? 0 : value.length + 1)) * 3 + 1;
  if (most <= MAX_VALUE_BYTES) return most;
  return utf8Length(text) + (value === undefined ? 0 : 1 + utf8Length(value)) + 1;
}

/** A user name as useradd takes it by default (it also names a home folder: no "/" or ".."). */
export const USER_NAME: RegExp = /^[a-z_][a-z0-9_-]*$/;

/** Workloads (design section 2). */
export const WORKLOADS = ["training", "processing", "serving", "notebook", "unknown"] as const;

/** A workload. */
export type Workload = typeof WORKLOADS[number];

/** Every context id, `<platform>-<workload>`. */
export const CONTEXT_IDS: readonly string[] = PLATFORMS.flatMap((p) =>
  WORKLOADS.map((w) => `${p}-${w}`)
);

/** Which step of design section 2 decided the workload. */
export type ContextSource = "forced" | "argv" | "detected" | "config";

/** Owner and mode of a path in a snapshot; `mode` is octal text such as "0755". */
export interface StatEntry {
  readonly uid: number;
  readonly gid: number;
  readonly mode: string;
  /** On a read-only file system: nobody can write it, root included (an addition to v1, optional). */
  readonly readOnly?: boolean;
}

/** `chameleon.snapshot/v1` (design section 4): everything the pure layers may know of the world. */
export interface Snapshot {
  readonly schema: "chameleon.snapshot/v1";
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly files: Readonly<Record<string, string>>;
  readonly dirs: readonly string[];
  readonly stat: Readonly<Record<string, StatEntry>>;
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly pid: number;
  /** Paths that exist but could not be read, with the reason (an addition to v1, optional). */
  readonly unreadable?: Readonly<Record<string, string>>;
}

/** One signal a detector looked at, as shown by `--explain`. */
export interface Evidence {
  readonly signal: string;
  readonly found: boolean;
  /** The value found (env signals; secrets are redacted). */
  readonly value?: string;
  /** Why a present file could not be used (unreadable, malformed). */
  readonly problem?: string;
  /** A composite signal's own parts, when some were found and some not (which half is missing). */
  readonly parts?: readonly Evidence[];
}

/** What one detector concluded. */
export interface DetectorResult {
  readonly platform: Platform;
  readonly matched: boolean;
  readonly evidence: readonly Evidence[];
  /** The workload and variant this platform's own signals give, when it matched. */
  readonly workload?: Workload;
  readonly variant?: string;
  /** Set when the detector itself failed; it then counts as not matched. */
  readonly error?: string;
}

/** The decided context. */
export interface Context {
  readonly id: string;
  readonly platform: Platform;
  readonly workload: Workload;
  readonly source: ContextSource;
  /** A finer name for the workload (e.g. "batch-transform", "trainer-v2"), or null. */
  readonly variant: string | null;
  /** What was forced by `--context`/`--workload` or their env equivalents. */
  readonly forced: readonly ("platform" | "workload")[];
}

/** Facts reported beside the context (design section 2). */
export interface Facts {
  readonly pid1: boolean;
  readonly init: string | null;
  readonly container: "docker" | "podman" | "kubernetes" | null;
  readonly openshift: boolean;
  readonly cpus: number | null;
  readonly onlineCpus: number;
  readonly memoryBytes: number | null;
  readonly gpus: number;
  /** Which cgroup version the limits came from (an addition). */
  readonly cgroup: "v1" | "v2" | null;
  /** Fact files present but unreadable or malformed, with the reason (an addition; only when any). */
  readonly problems?: readonly string[];
}

/** The result of detection. */
export interface Detection {
  readonly context: Context;
  readonly facts: Facts;
  readonly detectors: readonly DetectorResult[];
}

/** Kinds of environment variables (design section 6). */
export type EnvKind = "set" | "fill" | "append";

/** One variable an adapter wants. */
export interface EnvOp {
  readonly name: string;
  readonly kind: EnvKind;
  /** The real value (for append: the items to add, joined by `separator`). */
  readonly value: string;
  /** What `--explain` and logs show instead of `value` (secrets redacted). */
  readonly display?: string;
  /** Item separator for append (default ","). */
  readonly separator?: string;
}

/** A file the plan writes (atomically, temp file + rename). */
export interface PlanFile {
  readonly path: string;
  readonly content: string;
  /** Octal mode text, e.g. "0644". */
  readonly mode: string;
  /** Shown instead of the content when the content carries secrets. */
  readonly display?: string;
  /** Owner to give the file (for files the final user must own). */
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/** A folder the plan creates. */
export interface PlanDir {
  readonly path: string;
  readonly mode: string;
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/** Work that apply carries out in order, each step logged before it acts. */
export type Step =
  | {
    readonly step: "wait-for-hosts";
    readonly hosts: readonly string[];
    readonly timeoutSeconds: number;
  }
  | {
    readonly step: "chown";
    readonly path: string;
    readonly uid: number;
    readonly gid: number;
    readonly recursive: boolean;
    readonly reason: string;
  }
  | {
    readonly step: "hooks";
    readonly phase: HookPhase;
    readonly dir: string;
    /** Executable file names in the folder, in the (lexical) order they run. */
    readonly hooks: readonly string[];
  }
  | { readonly step: "passwd-entry"; readonly path: string; readonly line: string }
  /** A symbolic link to `target`: an image file a generated folder takes along as it is. */
  | { readonly step: "link"; readonly path: string; readonly target: string }
  | {
    readonly step: "spark-cluster";
    readonly role: "primary" | "worker";
    readonly master: string;
    readonly masterPort: number;
    readonly webUiPort: number;
    readonly hosts: readonly string[];
    readonly currentHost: string;
    readonly sparkHome: string;
    readonly timeoutSeconds: number;
    readonly workerCores: number;
    readonly workerMemory?: string;
  };

/** Hook phases (issue: running). */
export type HookPhase = "before-apply" | "before-run";

/** The identity the command runs as, when it changes. */
export interface UserPlan {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  readonly name: string;
  readonly home: string;
}

/** How the command is run. */
export type RunMode = "exec" | "supervise";

/** Failure reporting on SageMaker: where an error text goes. */
export interface FailureReport {
  readonly path: string;
}

/** Everything a start would do, decided up front (design sections 1, 5). */
export interface Plan {
  /** Variables set or changed: real values. */
  readonly env: Readonly<Record<string, string>>;
  /** The same variables as `--explain` shows them (secrets redacted). */
  readonly envDisplay: Readonly<Record<string, string>>;
  readonly unset: readonly string[];
  /**
   * Variables hooks get besides the command's environment: the ones a drop
   * leaves out of it (docker-stacks' start.sh unsets them after its hooks),
   * with the value the plan or the environment gives them. Not shown (a
   * note names them); their secret values are in `secrets`.
   */
  readonly hookOnlyEnv: Readonly<Record<string, string>>;
  readonly user: UserPlan | null;
  readonly dirs: readonly PlanDir[];
  readonly files: readonly PlanFile[];
  readonly steps: readonly Step[];
  readonly mode: RunMode;
  readonly modeReason: string;
  readonly cwd: string | null;
  readonly command: readonly string[] | null;
  /** The command as `--explain` shows it (secrets redacted). */
  readonly commandDisplay: readonly string[] | null;
  /** Run the command through `/bin/sh -c` (only when the config asks). */
  readonly shell: boolean;
  readonly umask: number | null;
  readonly runtimeDir: string;
  readonly failureReport: FailureReport | null;
  readonly warnings: readonly string[];
  /** Extra sections for `--explain` (config file, overrides, spark properties, hosts). */
  readonly notes: Readonly<Record<string, unknown>>;
  /** Secret values the plan knows of; never shown, scrubbed from logs. */
  readonly secrets: readonly string[];
}
