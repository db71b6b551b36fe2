/**
 * The command line of design section 3: own options only before the command, `--`
 * ends them, a near-miss of an own option is a usage error with a suggestion,
 * and any other first argument starts the command. Pure.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { redactArgs } from "./secrets.ts";

/** Output format of `--explain`. */
export type Format = "text" | "json";

/** Parsed own options plus the command part of the arguments. */
export interface Options {
  readonly explain: boolean;
  readonly format: Format;
  readonly context?: string;
  readonly workload?: string;
  readonly snapshot?: string;
  readonly capture?: string;
  readonly config?: string;
  /** `--check-config [FILE]`: present when asked; `file` when given. */
  readonly checkConfig?: { readonly file?: string };
  readonly writeJson?: string;
  readonly help: boolean;
  readonly version: boolean;
  /** Everything after the own options: the command, or arguments for the default one. */
  readonly command: readonly string[];
}

interface OptionSpec {
  readonly name: string;
  readonly value: "none" | "required" | "optional";
  readonly help: string;
  readonly arg?: string;
  readonly env?: string;
}

/** Own options, in the order `--help` lists them. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: "--explain",
    value: "none",
    env: "CHAMELEON_EXPLAIN=1",
    help: "detect and plan, print, run nothing, change nothing",
  },
  {
    name: "--format",
    value: "required",
    arg: "text|json",
    env: "CHAMELEON_FORMAT",
    help: "output of --explain (default text)",
  },
  {
    name: "--context",
    value: "required",
    arg: "ID",
    env: "CHAMELEON_CONTEXT",
    help: "force the context: <platform>-<workload> or a platform alone",
  },
  {
    name: "--workload",
    value: "required",
    arg: "W",
    env: "CHAMELEON_WORKLOAD",
    help: "force the workload: training, processing, serving, notebook, unknown",
  },
  {
    name: "--snapshot",
    value: "required",
    arg: "FILE",
    help: "replay the snapshot in FILE (- for standard input) instead of the live system",
  },
  {
    name: "--capture",
    value: "required",
    arg: "FILE",
    help: "write the live snapshot (secrets redacted) to FILE (- for standard output) and exit",
  },
  {
    name: "--config",
    value: "required",
    arg: "FILE",
    env: "CHAMELEON_CONFIG",
    help: "image config (default /etc/chameleon/config.json, then config.yaml)",
  },
  {
    name: "--check-config",
    value: "optional",
    arg: "[FILE]",
    help: "validate an image config and exit 0 or 78",
  },
  {
    name: "--write-json",
    value: "required",
    arg: "OUT",
    help: "with --check-config: write the normalised config as JSON to OUT",
  },
  { name: "--help", value: "none", help: "show this help" },
  { name: "--version", value: "none", help: "show the version" },
];

/**
 * Whether `a` is at most `max` edits from `b` (`editDistance(a, b) <= max`).
 * An edit changes the length by one at most, so lengths further apart answer
 * at once: the whole table of a 100 KB first word against each option took a
 * start over a second.
 */
export function withinEdits(a: string, b: string, max: number): boolean {
  return Math.abs(a.length - b.length) <= max && editDistance(a, b) <= max;
}

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

const SWITCH_ON = ["1", "true", "yes", "on"];
const SWITCH_OFF = ["", "0", "false", "no", "off"];

/**
 * An on/off variable (`CHAMELEON_EXPLAIN`, `CHAMELEON_DISABLE`): 1, true, yes or
 * on; 0, false, no, off or empty; unset is off. Any other value is a usage
 * error: read as off, `CHAMELEON_EXPLAIN=ture` would run the command for real.
 */
export function envSwitch(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): boolean {
  const v = env[name];
  if (v === undefined) return false;
  if (SWITCH_ON.includes(v.toLowerCase())) return true;
  if (SWITCH_OFF.includes(v.toLowerCase())) return false;
  throw new UsageError(
    `Variable ${name} ${JSON.stringify(v)}: expected 1 (or true, yes, on) or 0 (or false, no, off)`,
  );
}

function parseFormat(v: string, where: string): Format {
  if (v === "text" || v === "json") return v;
  throw new UsageError(`${where} ${JSON.stringify(v)}: expected text or json`);
}

/**
 * Parses the arguments. `env` supplies the env equivalents that belong to this
 * invocation (`CHAMELEON_EXPLAIN`, `CHAMELEON_FORMAT`); context, workload and
 * config paths are read from the snapshot's env later, so replay sees them.
 */
export function parseArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): Options {
  const values = new Map<string, string | true>();
  let command: readonly string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      command = args.slice(i + 1);
      break;
    }
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const spec = OPTIONS.find((o) => o.name === name);
    if (spec === undefined) {
      if (a.startsWith("--")) {
        const near = OPTIONS.find((o) => withinEdits(name, o.name, 2));
        if (near !== undefined) {
          throw new UsageError(
            `Unknown option ${JSON.stringify(name)}: did you mean ${near.name}?`,
          );
        }
      }
      command = args.slice(i);
      break;
    }
    if (values.has(spec.name)) throw new UsageError(`Option ${spec.name} given twice`);
    if (spec.value === "none") {
      if (eq > 0 && a.startsWith("--")) {
        throw new UsageError(`Option ${spec.name} takes no value`);
      }
      values.set(spec.name, true);
    } else if (eq > 0) {
      values.set(spec.name, a.slice(eq + 1));
    } else if (spec.value === "required") {
      const v = args[i + 1];
      if (v === undefined) throw new UsageError(`Option ${spec.name} needs a value ${spec.arg}`);
      // `--capture --explain`: the value was left out. Taken as one, it wrote a file named
      // --explain and exited 0. Given with = (`--capture=--explain`), it is taken as written.
      if (v === "--" || OPTIONS.some((o) => o.name === v.replace(/=.*$/s, ""))) {
        throw new UsageError(
          `Option ${spec.name} needs a value ${spec.arg}, got option ${JSON.stringify(v)}`,
        );
      }
      values.set(spec.name, v);
      i++;
    } else {
      const v = args[i + 1];
      // "-" is taken as the value, to be refused as one below (`--check-config=-` too).
      if (v !== undefined && (v === "-" || !v.startsWith("-"))) {
        values.set(spec.name, v);
        i++;
      } else values.set(spec.name, true);
    }
  }

  // --help and --version answer whatever else is given: nothing else is checked.
  if (values.has("--help") || values.has("--version")) {
    return {
      explain: false,
      format: "text",
      help: values.has("--help"),
      version: values.has("--version"),
      command,
    };
  }
  const str = (n: string): string | undefined => {
    const v = values.get(n);
    return typeof v === "string" ? v : undefined;
  };
  // `--config=` would read the file "" (exit 78 naming no file): a value left out is a usage error.
  for (const { name } of OPTIONS) {
    if (str(name) === "") throw new UsageError(`Option ${name}: expected a value, got nothing`);
  }
  // A config is read from a file: `--config -` was exit 78 for a config named "-", the standard
  // input --snapshot reads at the same value never looked at.
  for (const name of ["--check-config", "--config"]) {
    if (str(name) === "-") {
      throw new UsageError(`Option ${name} reads a file: "-" (standard input) is not one`);
    }
  }
  excludeEachOther(values, command);
  // --check-config answers whatever the explain variables say, and --capture records
  // them with the rest of the environment (its replay explains as they say).
  const informational = values.has("--check-config") || values.has("--capture");
  const explain = values.has("--explain") ||
    (!informational && envSwitch(env, "CHAMELEON_EXPLAIN"));
  // The variable only shapes --explain (which --snapshot implies): a bad value must not stop a
  // real start (CHAMELEON_DISABLE=1 included) or --help, so it is read only when explaining.
  const envFormat = !informational && (explain || values.has("--snapshot"))
    ? env["CHAMELEON_FORMAT"]
    : undefined;
  const format = str("--format") !== undefined
    ? parseFormat(str("--format")!, "--format")
    : envFormat !== undefined && envFormat !== ""
    ? parseFormat(envFormat, "CHAMELEON_FORMAT")
    : "text";
  const check = values.get("--check-config");
  const options: Options = {
    explain,
    format,
    help: false,
    version: false,
    command,
    ...(str("--context") === undefined ? {} : { context: str("--context")! }),
    ...(str("--workload") === undefined ? {} : { workload: str("--workload")! }),
    ...(str("--snapshot") === undefined ? {} : { snapshot: str("--snapshot")! }),
    ...(str("--capture") === undefined ? {} : { capture: str("--capture")! }),
    ...(str("--config") === undefined ? {} : { config: str("--config")! }),
    ...(check === undefined
      ? {}
      : { checkConfig: typeof check === "string" ? { file: check } : {} }),
    ...(str("--write-json") === undefined ? {} : { writeJson: str("--write-json")! }),
  };
  if (options.snapshot !== undefined && command.length > 0) {
    throw new UsageError(
      // Quoted as the command display shows it: `--hf_token=X` keeps X hidden.
      `A command (${
        JSON.stringify(redactArgs(command)[0])
      }) cannot be given with --snapshot: the snapshot's argv is replayed`,
    );
  }
  if (options.writeJson !== undefined && options.checkConfig === undefined) {
    throw new UsageError("Option --write-json needs --check-config");
  }
  if (options.checkConfig?.file !== undefined && options.config !== undefined) {
    // One of the two files would be dropped without a word.
    throw new UsageError(
      `Options --check-config ${options.checkConfig.file} and --config ${options.config} name two configs: give the file once`,
    );
  }
  return options;
}

/**
 * Options that do one thing and exit take none that shape another: given
 * together, one of them would be dropped without a word (`--capture F
 * --explain` wrote the snapshot and explained nothing). `--help` and
 * `--version` answer whatever else is given.
 */
function excludeEachOther(values: ReadonlyMap<string, unknown>, command: readonly string[]): void {
  const exclusive: [string, readonly string[]][] = [
    ["--check-config", [
      "--explain",
      "--format",
      "--snapshot",
      "--capture",
      "--context",
      "--workload",
    ]],
    // The snapshot is the live system as it is: forcing is for when it is replayed.
    ["--capture", ["--explain", "--format", "--snapshot", "--context", "--workload"]],
  ];
  for (const [option, others] of exclusive) {
    if (!values.has(option)) continue;
    const other = others.find((o) => values.has(o));
    if (other !== undefined) {
      throw new UsageError(`Options ${option} and ${other} exclude each other`);
    }
  }
  if (values.has("--check-config") && command.length > 0) {
    throw new UsageError(
      `A command (${
        JSON.stringify(redactArgs(command)[0])
      }) cannot be given with --check-config: give the file as --check-config FILE`,
    );
  }
}

/**
 * The `--help` text: every option, chameleon's own environment variables, and
 * where the platform and convention variables it reads are listed (README).
 */
export function helpText(version: string): string {
  const opts = OPTIONS.map((o) => {
    const left = o.value === "none" ? o.name : `${o.name} ${o.arg}`;
    return `  ${left.padEnd(24)}${o.help}${o.env ? ` [env ${o.env}]` : ""}`;
  });
  return [
    `chameleon ${version}: the container entrypoint for ML images`,
    "",
    "Usage: entrypoint [OPTIONS] [--] [COMMAND [ARGS...]]",
    "",
    "Works out where it runs (SageMaker, Kubernetes, Vertex AI, AWS Batch, ...), adapts the",
    "environment, user and framework config, then runs COMMAND. A first argument train, serve,",
    "process or notebook selects that workload and its configured default command; a first",
    "argument starting with '-' is appended to the default command.",
    "",
    "Options (recognised only before the command):",
    ...opts,
    "",
    "Environment:",
    "  CHAMELEON_DISABLE=1         run the command untouched: no detection, no changes",
    "  CHAMELEON_LOG_LEVEL         error, warn, info (default) or debug; debug adds stack traces",
    "  CHAMELEON_LOG_FORMAT        text (default) or json log lines, on stderr",
    "  CHAMELEON_USER              uid:gid[:group,group...] to run the command as (when root)",
    "  CHAMELEON_SECRET_FILES      comma-separated VAR names whose VAR_FILE holds the value",
    "  CHAMELEON_RUNTIME_DIR       where generated files go (default /run/chameleon, else /tmp/chameleon,",
    "                              or /tmp/chameleon-<uid> when another uid has that)",
    "  CHAMELEON_IMAGE             the image reference (Spark executors on Kubernetes)",
    "  CHAMELEON_STARTED=1         set for the command; a nested start runs its command as it is",
    "  CHAMELEON_CONTEXT, CHAMELEON_PLATFORM, CHAMELEON_WORKLOAD",
    "                              set for the command (the decision); CONTEXT/WORKLOAD also force it",
    "  NO_COLOR, TERM=dumb         no colour in --explain text, even on a terminal",
    "  NB_USER, NB_UID, NB_GID, CHOWN_HOME[_OPTS], CHOWN_EXTRA[_OPTS]",
    "                              docker-stacks' notebook user and ownership conventions",
    "Platform variables and files are read as evidence and input: --explain shows the",
    "evidence of every detector; the README lists every variable read.",
    "",
    "Exit codes: the command's own; 128+n when it was killed by signal n; 2 usage; 69 a host",
    "never resolved or a Spark worker never registered; 70 internal error; 78 invalid",
    "configuration or input; 126/127 command not executable / not found; a failing hook's or",
    "Spark script's own code; 141, quietly, when the reader of --explain, --capture - or",
    "--write-json - stops early.",
    "",
    "A word before the command that looks like an option of ours (--conf near --config) is a",
    "usage error: put -- before the command to pass it on (entrypoint -- --conf a=b).",
    "",
    "Debug a context: entrypoint --explain; entrypoint --capture snap.json (or - for stdout);",
    "then anywhere: entrypoint --explain --snapshot snap.json",
  ].join("\n");
}
