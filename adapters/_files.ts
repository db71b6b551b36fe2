/**
 * Platform files and structured env values that adapters require, parsed
 * once per snapshot. When the chosen context requires a file and it is broken,
 * the error names the file, the JSON pointer and what was expected (exit 78).
 * Pure.
 *
 * @module
 */

import {
  CHECKPOINT_CONFIG,
  INPUT_DATA_CONFIG,
  PROCESSING_JOB_CONFIG,
  RESOURCE_CONFIG,
  RESOURCE_METADATA,
  SM_PATHS,
} from "../contexts/sagemaker.ts";
import { isLinkValue } from "../contexts/_signals.ts";
import { SA_DIR } from "../contexts/kubernetes.ts";
import { InputError } from "../errors.ts";
import {
  array,
  describe,
  type Infer,
  nonEmpty,
  object,
  optional,
  parseJson,
  type ParseOutcome,
  pointerToken,
  type Reader,
  record,
  ShapeError,
  str,
  uint,
} from "../shape.ts";
import { requiredText, type World } from "../world.ts";
import type { PathDecl } from "../paths.ts";
import { isIpv4, MAX_JSON_DEPTH, type Platform, unpassable } from "../types.ts";
import type { PlanInput } from "./_adapter.ts";
import {
  type PyDict,
  PyJsonError,
  PyJsonTooDeep,
  pyLoads,
  type PyValue,
  readStringObject,
} from "../pyjson.ts";

/**
 * Decodes a file's or a variable's text once per world; undefined when there
 * is none. A decoding problem is exit 78: "<what>: <problem>".
 */
function decodedOnce<T>(
  world: World,
  key: string,
  what: string,
  text: () => string | undefined,
  decode: (text: string) => ParseOutcome<T>,
): T | undefined {
  return world.memo(key, () => {
    const t = text();
    if (t === undefined) return undefined;
    const r = decode(t);
    if (!r.ok) throw new InputError(`${what}: ${r.problem}`);
    return r.value;
  });
}

/** Python's json.loads as a parse outcome. */
function pyParse(text: string): ParseOutcome<PyValue> {
  try {
    return { ok: true, value: pyLoads(text) };
  } catch (e) {
    return { ok: false, problem: `not valid JSON (${(e as PyJsonError).message})` };
  }
}

/** Parses a required-if-present JSON file; undefined when it is missing. */
function readJsonFile<T>(world: World, path: string, reader: Reader<T>): T | undefined {
  return decodedOnce(
    world,
    `file:${path}`,
    `File ${path}`,
    () => presentText(world, path),
    (t) => parseJson(t, reader),
  );
}

/** A JSON file decoded the way Python does (number lexemes kept); undefined when missing. */
export function readPyJson(world: World, path: string): PyValue | undefined {
  return decodedOnce(world, `py:${path}`, `File ${path}`, () => presentText(world, path), pyParse);
}

/** A JSON variable decoded the way Python does; undefined when unset or empty. */
export function pyJsonEnv(world: World, name: string): PyValue | undefined {
  return decodedOnce(
    world,
    `pyenv:${name}`,
    `Variable ${name}`,
    () => world.envValue(name),
    pyParse,
  );
}

/** A file's text; undefined when missing; an error when present but unreadable (too large, no access). */
export function presentText(world: World, path: string): string | undefined {
  const f = world.file(path);
  return f.kind === "missing" ? undefined : requiredText(f, `File ${path}`);
}

/** The service account's namespace file (read by the adapters that name the pod). */
export const POD_NAMESPACE_FILE = `${SA_DIR}/namespace`;

/** The pod's namespace: the downward API's POD_NAMESPACE, else the service account's. */
export function podNamespace(world: World): string | undefined {
  return world.envValue("POD_NAMESPACE") ?? world.read(POD_NAMESPACE_FILE)?.trim();
}

/**
 * The pod's name, only when it is known: a wrong name would join this
 * process's telemetry to another pod, or make Spark look for a driver pod that
 * does not exist. The downward API's `POD_NAME` is; the host name is the pod's
 * name only when Kubernetes left it so (reference/platforms.md section A.1,
 * Hostname row). It is not in an Indexed Job, whose controller sets
 * `spec.hostname` to `<job>-<index>` and `JOB_COMPLETION_INDEX` (JobSet and
 * Trainer v2 pods are Indexed Job pods), nor on AWS Batch on EKS, whose pods
 * use the node's network (`hostNetwork`, Batch's default) and so its host
 * name. (A pod name longer than 63 characters is cut in the host name; that
 * cannot be told apart here.)
 */
export function podName(world: World, platform: Platform): string | undefined {
  const given = world.envValue("POD_NAME");
  if (given !== undefined) return given;
  const hostnameIsPodName = platform !== "aws-batch" &&
    world.envValue("JOB_COMPLETION_INDEX") === undefined;
  return hostnameIsPodName ? world.snapshot.hostname : undefined;
}

/** What a name from platform data that becomes part of a path must be. */
export const SAFE_NAME_EXPECTED = 'a name without "..", "/" or NUL';

/** Whether a name from platform data may become part of a path: not empty, no "..", "/" or NUL. */
export function isSafeName(name: string): boolean {
  return name !== "" && name !== "." && !name.includes("..") && !name.includes("/") &&
    !name.includes("\0");
}

/** Checks a name from platform data that becomes part of a path (design section 8). */
export function safeName(name: string, what: string): string {
  if (!isSafeName(name)) {
    throw new InputError(
      `${what} ${JSON.stringify(name)}: expected ${SAFE_NAME_EXPECTED}`,
    );
  }
  return name;
}

/** The training `resourceconfig.json`, checked (current_host must be one of hosts). */
type ResourceConfig = Infer<typeof RESOURCE_CONFIG>;

/** Reads and checks a resourceconfig file (training or processing path), once per world. */
export function resourceConfig(
  world: World,
  path: string = SM_PATHS.resourceConfig,
): ResourceConfig | undefined {
  // Asked by several adapters: checked once (a failed check is not kept, and fails each time).
  return world.memo(`rc:${path}`, () => checkedResourceConfig(world, path));
}

function checkedResourceConfig(world: World, path: string): ResourceConfig | undefined {
  const rc = readJsonFile(world, path, RESOURCE_CONFIG);
  // A host's rank is its index in /hosts: a host listed twice would give two nodes one rank
  // and leave another rank to no node (torchrun then waits for it until it times out).
  const first = new Map<string, number>();
  rc?.hosts.forEach((h, i) => {
    const at = first.get(h);
    if (at !== undefined) {
      throw new InputError(
        `File ${path}: /hosts/${i} ${
          JSON.stringify(h)
        }: expected each host once (it is /hosts/${at} too)`,
      );
    }
    first.set(h, i);
  });
  if (rc !== undefined && !first.has(rc.current_host)) {
    throw new InputError(
      `File ${path}: /current_host ${JSON.stringify(rc.current_host)}: expected one of /hosts (${
        rc.hosts.join(", ")
      })`,
    );
  }
  return rc;
}

/** The files {@linkcode sagemakerJobHosts} reads, for the adapters that call it to declare. */
export const SAGEMAKER_HOST_FILES: readonly PathDecl[] = [
  { kind: "read", path: SM_PATHS.resourceConfig },
  { kind: "read", path: SM_PATHS.processingResourceConfig },
];

/**
 * The hosts of a SageMaker training or processing job with several of them
 * (each workload has its own resourceconfig.json); undefined otherwise.
 * `heterogeneous`: the hosts come from more than one instance group, whose
 * instances differ (reference/sagemaker.md section 1.3, `instance_groups`).
 */
export function sagemakerJobHosts(
  input: PlanInput,
):
  | { hosts: readonly string[]; current: string; heterogeneous: boolean; file: string }
  | undefined {
  const { platform, workload } = input.detection.context;
  if (platform !== "sagemaker" || (workload !== "training" && workload !== "processing")) {
    return undefined;
  }
  const file = workload === "training"
    ? SM_PATHS.resourceConfig
    : SM_PATHS.processingResourceConfig;
  const rc = resourceConfig(input.world, file);
  if (rc === undefined || rc.hosts.length < 2) return undefined;
  return {
    file,
    hosts: rc.hosts,
    current: rc.current_host,
    heterogeneous: (rc.instance_groups?.length ?? 0) > 1,
  };
}

/** Channel names of `inputdataconfig.json`, in file order, each checked. */
export function trainingChannels(world: World): string[] {
  const idc = readJsonFile(world, SM_PATHS.inputDataConfig, INPUT_DATA_CONFIG) ?? {};
  return Object.keys(idc).map((c) => safeName(c, `File ${SM_PATHS.inputDataConfig}: channel`));
}

/** `processingjobconfig.json`. */
export function processingJobConfig(world: World) {
  return readJsonFile(world, SM_PATHS.processingJobConfig, PROCESSING_JOB_CONFIG);
}

/** `checkpointconfig.json`. */
export function checkpointConfig(world: World) {
  return readJsonFile(world, SM_PATHS.checkpointConfig, CHECKPOINT_CONFIG);
}

/** Studio's `resource-metadata.json`. */
export function resourceMetadata(world: World) {
  return readJsonFile(world, SM_PATHS.resourceMetadata, RESOURCE_METADATA);
}

/** Hyperparameters the toolkit reserves (params.SAGEMAKER_HYPERPARAMETERS). */
const RESERVED_HYPERPARAMETERS: ReadonlySet<string> = new Set([
  "sagemaker_program",
  "sagemaker_submit_directory",
  "sagemaker_enable_cloudwatch_metrics",
  "sagemaker_region",
  "sagemaker_container_log_level",
  "sagemaker_job_name",
  "default_user_module_name",
  "_tuning_objective_metric",
  "sagemaker_s3_output",
]);

/** Hyperparameters as the toolkit splits them, each part in file order. */
export interface Hyperparameters {
  /** The user's: SM_HPS, SM_HP_*, the script's arguments. */
  readonly user: PyDict;
  /** `sagemaker_`-prefixed and not reserved: SM_FRAMEWORK_PARAMS. */
  readonly framework: PyDict;
  /** The toolkit's own (`sagemaker_program`, `sagemaker_region`, ...). */
  readonly reserved: PyDict;
}

/** Where a hyperparameter belongs; a key belongs to one part, so each part is a dict. */
function partOf(h: Hyperparameters, key: string): PyDict {
  return RESERVED_HYPERPARAMETERS.has(key)
    ? h.reserved
    : key.startsWith("sagemaker_")
    ? h.framework
    : h.user;
}

const noHyperparameters = (): Hyperparameters => ({
  user: new Map(),
  framework: new Map(),
  reserved: new Map(),
});

/** Splits decoded hyperparameters as the toolkit does. */
export function splitHyperparameters(all: PyDict): Hyperparameters {
  const h = noHyperparameters();
  all.forEach((v, k) => partOf(h, k).set(k, v));
  return h;
}

/** The training hyperparameters, each value decoded as the toolkit does (fall back to the raw string). */
export function hyperparameters(
  world: World,
  path: string = SM_PATHS.hyperparameters,
): Hyperparameters {
  return world.memo(`hps:${path}`, () => {
    const text = presentText(world, path);
    if (text === undefined) return noHyperparameters();
    // The contract's shape, a flat object of strings, is read, decoded and split in one pass.
    const h = noHyperparameters();
    const where = (k: string) => `File ${path}: hyperparameter ${JSON.stringify(k)}`;
    const read = readStringObject(text, (k, v, loaded) => {
      partOf(h, k).set(k, loaded ? v : decodeHyperparameter(v, k, where));
    });
    if (read) {
      // Only a file with an "=", a NUL or a surrogate's escape in it can hold a name or value
      // that cannot pass: one scan of the text spares 10,000 hyperparameters their own checks.
      // Checked once read: of a key given twice, only the later value counts, as in json.load.
      if (MAY_NOT_PASS.test(text)) h.user.forEach((v, k) => passable(k, v, where));
      return h;
    }
    const raw = readPyJson(world, path);
    if (!(raw instanceof Map)) {
      throw new InputError(`File ${path}: top level: expected an object of hyperparameters`);
    }
    const split = splitHyperparameters(decodeHyperparameters(raw, where));
    split.user.forEach((v, k) => passable(k, v, where));
    return split;
  });
}

/**
 * What a hyperparameters file holds when a name or value may not pass: "=", a
 * NUL, or its escape, or the escape of a surrogate (which may stand alone).
 */
const MAY_NOT_PASS = /[=\0]|\\u(?:0000|[dD][89a-fA-F])/;

/**
 * Whether a user hyperparameter can become its `SM_HP_<NAME>` variable: a name
 * with "=" cannot (nor through Python's os.environ, which the toolkit writes
 * with), nor a name or text value that execve cannot pass (types.ts). Exit 78
 * naming the file, the hyperparameter and its variable.
 */
export function passable(k: string, v: PyValue, where: (k: string) => string): void {
  const badName = unpassable("a name", k);
  // A name execve cannot pass is shown escaped, by `where`, and not again as a variable.
  if (badName !== undefined) throw new InputError(`${where(k)}: ${badName}`);
  const bad = k.includes("=")
    ? 'expected a name without "="'
    : typeof v === "string"
    ? unpassable("a value", v)
    : undefined;
  if (bad !== undefined) {
    throw new InputError(`${where(k)} (variable SM_HP_${k.toUpperCase()}): ${bad}`);
  }
}

/**
 * Decodes each string value with json.loads, keeping the raw string when that
 * fails; `where` names a key for an error.
 */
export function decodeHyperparameters(
  raw: PyDict,
  where: (key: string) => string = (k) => `Hyperparameter ${JSON.stringify(k)}`,
): PyDict {
  const out: PyDict = new Map();
  raw.forEach((v, k) => out.set(k, typeof v === "string" ? decodeHyperparameter(v, k, where) : v));
  return out;
}

/**
 * One hyperparameter value decoded as the toolkit does: JSON when it parses,
 * else the text. JSON nested too deep is exit 78 naming `where(key)` (built only
 * then: asked of every hyperparameter, its text would cost a plan): the toolkit's
 * json.loads fails on it with an error its fall-back does not catch.
 */
export function decodeHyperparameter(
  v: string,
  key: string,
  where: (key: string) => string,
): PyValue {
  try {
    return pyLoads(v);
  } catch (e) {
    if (e instanceof PyJsonTooDeep) {
      throw new InputError(
        `${where(key)}: expected JSON nested at most ${MAX_JSON_DEPTH} levels deep`,
      );
    }
    return v;
  }
}

/** `host:port`, or `[IPv6]:port` (RFC 3986): the brackets are not part of the host. */
const HOST_PORT_FORM = /^(?:\[([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)\]|([^\s:[\]]+)):(\d+)$/;

/** What a "host:port" must be: a port of 0 would have the master bind any port, and none joins. */
const HOST_PORT_EXPECTED = '"host:port" with a port from 1 to 65535';

/** The parts of text of the form "host:port", whatever the port; undefined for another form. */
function splitHostPort(hp: string): { host: string; port: number } | undefined {
  const m = HOST_PORT_FORM.exec(hp);
  return m === null ? undefined : { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}

const portInRange = (port: number) => port >= 1 && port <= 65535;

const HOST_PORT = (v: unknown, p: string): string => {
  const split = typeof v === "string" ? splitHostPort(v) : undefined;
  if (split !== undefined && portInRange(split.port)) return v as string;
  throw new ShapeError(p, `expected ${HOST_PORT_EXPECTED}, got ${describe(v)}`);
};

/** Whether `s` is one IPv6 address (RFC 4291 text forms: `::` once, an IPv4 tail; no zone). */
function isIpv6(s: string): boolean {
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const parts = halves.flatMap((h) => h === "" ? [] : h.split(":"));
  const last = parts.at(-1) ?? "";
  const v4 = last.includes(".");
  if (v4 && !isIpv4(last)) return false;
  const hex = v4 ? parts.slice(0, -1) : parts;
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const groups = hex.length + (v4 ? 2 : 0);
  return halves.length === 2 ? groups < 8 : groups === 8;
}

/** Whether `s` is one IPv4 or IPv6 address (and no host name). */
export function isIpAddress(s: string): boolean {
  return isIpv4(s) || isIpv6(s);
}

/** A host as it goes into a URL: an IPv6 address in brackets (RFC 3986). */
export function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** Splits a "host:port" that a reader already checked. */
export function hostPort(hp: string): { host: string; port: number } {
  return splitHostPort(hp)!;
}

/**
 * Splits an unchecked "host:port"; undefined when it has another form (a
 * host alone), exit 78 naming `what` when its port is out of range.
 */
export function maybeHostPort(
  hp: string,
  what: string,
): { host: string; port: number } | undefined {
  const split = splitHostPort(hp);
  return split === undefined ? undefined : checkedPort(split, hp, what);
}

/** Splits an unchecked "host:port", or exit 78 naming `what`. */
export function hostPortOf(hp: string, what: string): { host: string; port: number } {
  return checkedPort(splitHostPort(hp), hp, what);
}

function checkedPort(
  split: { host: string; port: number } | undefined,
  hp: string,
  what: string,
): { host: string; port: number } {
  if (split === undefined || !portInRange(split.port)) {
    throw new InputError(`${what} ${JSON.stringify(hp)}: expected ${HOST_PORT_EXPECTED}`);
  }
  return split;
}

const CLUSTER = record(array(HOST_PORT));
/**
 * A task index: a number, or decimal digits in a string, which TensorFlow
 * takes too (`int(task['index'])` in TFConfigClusterResolver and Estimator's
 * RunConfig) and a hand-written or templated TF_CONFIG may hold.
 */
const TASK_INDEX: Reader<number> = (v, p) =>
  typeof v === "string" && /^\s*\+?[0-9]+\s*$/.test(v) ? uint(Number(v), p) : uint(v, p);
const TASK = object({ type: nonEmpty, index: TASK_INDEX });

/** Vertex AI's `CLUSTER_SPEC` (reference/platforms.md section B.1). */
export const CLUSTER_SPEC = object({ cluster: CLUSTER, task: TASK, environment: optional(str) });

/**
 * One job of a sparse cluster, as task index -> "host:port". TensorFlow's
 * sparse ClusterSpec gives a job as a list (every task) or as an object of
 * some tasks by index; training-operator v1 (tensorflow.go SparseClusterSpec)
 * writes `worker` as an object and `ps` as a list, `null` when the job has no
 * parameter servers (Go's nil slice).
 */
const SPARSE_JOB: Reader<ReadonlyMap<number, string>> = (v, p) => {
  if (v === null) return new Map();
  if (Array.isArray(v)) return new Map(array(HOST_PORT)(v, p).map((hp, i) => [i, hp]));
  if (typeof v !== "object") {
    throw new ShapeError(
      p,
      `expected an array, an object of task indexes or null, got ${typeof v}`,
    );
  }
  const tasks = new Map<number, string>();
  for (const [k, hp] of Object.entries(v)) {
    const at = p + pointerToken(k);
    if (!/^\d{1,9}$/.test(k)) throw new ShapeError(at, "expected a task index as key");
    tasks.set(Number(k), HOST_PORT(hp, at));
  }
  return tasks;
};

/** A TF_CONFIG task: its job and its index in that job. */
export type TfTask = Infer<typeof TASK>;

/**
 * TensorFlow's `TF_CONFIG` (Kubeflow TFJob, Vertex): the whole `cluster`, or,
 * from a TFJob with `enableDynamicWorker`, a `sparseCluster` that names only
 * this task (and the parameter servers). When both are given, the whole one wins.
 */
export type TfConfig =
  | { readonly task: TfTask; readonly cluster: Readonly<Record<string, string[]>> }
  | {
    readonly task: TfTask;
    readonly sparseCluster: Readonly<Record<string, ReadonlyMap<number, string>>>;
  };

const TF_CONFIG_FIELDS = object({
  cluster: optional(CLUSTER),
  sparseCluster: optional(record(SPARSE_JOB)),
  task: TASK,
});

/** Reads a `TF_CONFIG` value; see {@linkcode TfConfig}. */
export const TF_CONFIG: Reader<TfConfig> = (v, p) => {
  const { cluster, sparseCluster, task } = TF_CONFIG_FIELDS(v, p);
  if (cluster !== undefined) return { task, cluster };
  if (sparseCluster !== undefined) return { task, sparseCluster };
  throw new ShapeError(
    p + "/cluster",
    "expected an object (or /sparseCluster), got nothing (missing)",
  );
};

/** Bounds of an integer variable, and how its error message says them. */
export interface IntRange {
  readonly min?: number;
  readonly max?: number;
  readonly expected?: string;
}

/** A non-negative integer variable within `range`; undefined when unset or empty, exit 78 otherwise. */
export function intEnv(
  world: World,
  name: string,
  { min = 0, max = Infinity, expected = "a non-negative integer" }: IntRange = {},
): number | undefined {
  const v = world.envValue(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  // Past 2^53 a number is no longer the digits given: it would be passed on changed
  // (9007199254740993 as ...992) or as 1.2e+26, which no program reads as a count.
  const digits = /^\d+$/.test(v);
  if (digits && n <= max && !Number.isSafeInteger(n)) {
    throw new InputError(
      `Variable ${name} ${
        JSON.stringify(v)
      }: expected ${expected} of at most ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  if (!digits || n < min || n > max) {
    throw new InputError(`Variable ${name} ${JSON.stringify(v)}: expected ${expected}`);
  }
  return n;
}

/**
 * A TCP port variable (1 to 65535). A service link's `tcp://<ip>:<port>` under
 * the name (`MASTER_PORT` in a namespace with a Service named `master`) is no
 * port given: undefined, as unset (the plan fills over it, with a warning).
 */
export function portEnv(world: World, name: string): number | undefined {
  if (isLinkValue(name, world.env(name))) return undefined;
  return intEnv(world, name, { min: 1, max: 65535, expected: "a port from 1 to 65535" });
}

/** A positive integer variable (a count or a divisor). */
export function positiveIntEnv(world: World, name: string): number | undefined {
  return intEnv(world, name, { min: 1, expected: "a positive integer" });
}

/** Parses a JSON env variable; undefined when unset. */
export function jsonEnv<T>(world: World, name: string, reader: Reader<T>): T | undefined {
  return decodedOnce(
    world,
    `env:${name}`,
    `Variable ${name}`,
    () => world.envValue(name),
    (t) => parseJson(t, reader),
  );
}
