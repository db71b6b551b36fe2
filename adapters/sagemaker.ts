/**
 * SageMaker training parity with sagemaker-training-toolkit
 * (reference/sagemaker.md section 1.5; toolkit `environment.py`, `mapping.py`,
 * `params.py`): every `SM_*` variable it derives, with the same names and the
 * same value formats, so scripts written for it run unchanged; and script
 * mode. All `fill`: a value the platform or user set is kept.
 *
 * @module
 */

import { evaluate } from "../contexts/_signals.ts";
import { type Forced, forcedOf } from "../contexts/mod.ts";
import { SM_PATHS, TRAINING_JOB } from "../contexts/sagemaker.ts";
import { cpusOnline } from "../contexts/facts.ts";
import { InputError } from "../errors.ts";
import type { PathDecl, PathForcing } from "../paths.ts";
import { isSecretName, redactPyValue, secretsInJson } from "../secrets.ts";
import { type EnvOp, tooLargeForExecve } from "../types.ts";
import type { ImageConfig } from "../config.ts";
import type { World } from "../world.ts";
import { type Adapter, append, type CommandPart, fill, type PlanInput } from "./_adapter.ts";
import {
  decodeHyperparameter,
  type Hyperparameters,
  hyperparameters,
  readPyJson,
  resourceConfig,
  trainingChannels,
} from "./_files.ts";
import {
  codePointCompare,
  PerObject,
  type PyDict,
  pyDumps,
  PyInt,
  pyStr,
  pyTruthy,
  type PyValue,
  sortedKeys,
} from "../pyjson.ts";
import { onPath, pathDirs } from "./_path.ts";
import { awsDefaultRegion } from "./credentials.ts";

/** Framework flags that turn on distribution for the current instance group. */
const DISTRIBUTION_FLAGS = [
  "sagemaker_mpi_enabled",
  "sagemaker_parameter_server_enabled",
  "sagemaker_distributed_dataparallel_enabled",
  "sagemaker_pytorch_ddp_enabled",
  "sagemaker_pytorch_xla_multi_worker_enabled",
  "sagemaker_multi_worker_mirrored_strategy_enabled",
  "sagemaker_torch_distributed_enabled",
];

/** What the toolkit computes from, independent of where it was read. */
export interface ToolkitInputs {
  readonly resourceConfig: PyDict;
  readonly inputDataConfig: PyDict;
  /** Decoded hyperparameters, split as the toolkit splits them. */
  readonly hyperparameters: Hyperparameters;
  readonly env: {
    readonly SAGEMAKER_PROGRAM?: string | undefined;
    readonly SAGEMAKER_TRAINING_MODULE?: string | undefined;
    readonly TRAINING_JOB_NAME?: string | undefined;
    readonly SM_HP_MP_PARAMETERS?: string | undefined;
  };
  readonly numCpus: number;
  readonly numGpus: number;
  readonly smddpmprunInstalled: boolean;
  readonly smddprunInstalled: boolean;
}

/**
 * The toolkit's distribution instance groups and their hosts: the groups the
 * framework parameters name, else the current group when a distribution flag
 * is on; with no instance groups, every host.
 */
function distributionOf(
  rc: PyDict,
  framework: PyDict,
): { groups: PyValue; hosts: string[] } {
  const hosts = (rc.get("hosts") as PyValue[] | undefined ?? []).map((h) => pyStr(h));
  const currentGroup = currentGroupOf(rc);
  const anyFlag = DISTRIBUTION_FLAGS.some((f) => pyTruthy(framework.get(f)));
  const groups = getOr(
    framework,
    "sagemaker_distribution_instance_groups",
    anyFlag ? [currentGroup] : [],
  );
  const all = groupsOf(rc);
  if (all.length === 0) return { groups, hosts };
  return {
    groups,
    hosts: all.filter((g) => contains(groups, g.get("instance_group_name") ?? null)).flatMap((g) =>
      Array.isArray(g.get("hosts")) ? (g.get("hosts") as PyValue[]).map((h) => pyStr(h)) : []
    ),
  };
}

/** mapping.format_value: str as is, None as "", anything else compact sorted JSON. */
export function formatValue(v: PyValue | undefined): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : pyDumps(v);
}

const cmdArgsOf = new PerObject<PyDict, string[]>();

/** mapping.to_cmd_args: sorted keys, `-k`/`--key`, dicts as `k=v,...`, values through str(). */
export function toCmdArgs(hps: PyDict): string[] {
  let out = cmdArgsOf.get(hps);
  if (out === undefined) cmdArgsOf.set(hps, out = cmdArgs(hps));
  return out;
}

/** Python's `len(s) > 1`, which counts code points: a surrogate pair is one. */
function severalCodePoints(s: string): boolean {
  return s.length > 2 || (s.length === 2 && s.codePointAt(0)! <= 0xffff);
}

function cmdArgs(hps: PyDict): string[] {
  const keys = sortedKeys(hps);
  // Sized once: growing a list of 20,000 words step by step copies it again and again.
  const out = new Array<string>(keys.length * 2);
  let i = 0;
  for (const key of keys) {
    const v = hps.get(key)!;
    out[i++] = key === "" ? "" : severalCodePoints(key) ? `--${key}` : `-${key}`;
    if (v instanceof Map) {
      out[i++] = sortedKeys(v).map((k) => `${k}=${pyStr(v.get(k)!)}`).join(",");
    } else out[i++] = v === null ? "" : pyStr(v);
  }
  return out;
}

/**
 * The current instance group: `current_group_name`, as the toolkit's
 * Environment reads it, else `current_instance_group`, the key the toolkit's
 * own local fallback writes (reference/sagemaker.md section 1.3: accept both),
 * else `homogeneousCluster`.
 */
function currentGroupOf(rc: PyDict): PyValue {
  return getOr(rc, "current_group_name", getOr(rc, "current_instance_group", "homogeneousCluster"));
}

/** Python's `d.get(key, default)`: the default only when the key is absent (JSON null is None, not absent). */
const getOr = (d: PyDict, key: string, fallback: PyValue): PyValue => {
  const v = d.get(key);
  return v === undefined ? fallback : v;
};
const list = (xs: readonly string[]): PyValue => [...xs];
const int = (n: number): PyValue => new PyInt(String(n));

function groupsOf(rc: PyDict): PyDict[] {
  const g = rc.get("instance_groups");
  return Array.isArray(g) ? g.filter((x): x is PyDict => x instanceof Map) : [];
}

function contains(container: PyValue, item: PyValue): boolean {
  if (Array.isArray(container)) return container.some((x) => x === item);
  if (typeof container === "string" && typeof item === "string") return container.includes(item);
  if (container instanceof Map && typeof item === "string") return container.has(item);
  return false;
}

/**
 * The toolkit's environment: every `SM_*` variable, emitted in the toolkit's
 * order. A name can come twice (hyperparameters `lr` and `LR`); as in the
 * toolkit's dict, the later value wins, and collecting into a `Map` gives the
 * toolkit's dict exactly. Emitting, not building a map: the plan's merge is
 * where names meet, and a map of 10,000 names would be built twice.
 */
export function toolkitEnv(t: ToolkitInputs, emit: (name: string, value: string) => void): void {
  const rc = t.resourceConfig;
  const { user, framework, reserved } = t.hyperparameters;
  const hosts = (rc.get("hosts") as PyValue[] | undefined ?? []).map((h) => pyStr(h));
  const currentHost = pyStr(rc.get("current_host") ?? "");
  const currentGroup = currentGroupOf(rc);
  const groups = groupsOf(rc);
  const groupNames = groups.map((g) => g.get("instance_group_name") ?? null);
  const groupsDict: PyDict = new Map(
    groups.map((g) => [pyStr(g.get("instance_group_name") ?? null), g]),
  );
  const currentGroupHosts =
    groups.find((g) => g.get("instance_group_name") === currentGroup)?.get("hosts") ?? [];
  const { groups: distGroups, hosts: distHosts } = distributionOf(rc, framework);
  const master = distHosts[0] ?? hosts[0] ?? "";
  const program = t.env.SAGEMAKER_PROGRAM;
  const entryPoint: PyValue = program ? program : reserved.get("sagemaker_program") ?? null;
  const moduleSource = program !== undefined
    ? program
    : pyStr(reserved.get("sagemaker_program") ?? null);
  const moduleName = moduleSource.endsWith(".py") ? moduleSource.slice(0, -3) : moduleSource;
  const moduleDir = pyStr(getOr(reserved, "sagemaker_submit_directory", SM_PATHS.code));
  const logLevel = getOr(reserved, "sagemaker_container_log_level", int(20));
  const channels = [...t.inputDataConfig.keys()];
  const channelDirs: PyDict = new Map(channels.map((c) => [c, `${SM_PATHS.inputData}/${c}`]));
  const mp = t.env.SM_HP_MP_PARAMETERS;
  const instanceType = getOr(rc, "current_instance_type", "local");
  const numNeurons = pyStr(instanceType).includes("trn2.48xlarge") ? 64 : 0;
  const userArgs = toCmdArgs(user);

  const trainingEnv: PyDict = new Map<string, PyValue>([
    ["additional_framework_parameters", framework],
    ["channel_input_dirs", channelDirs],
    ["current_host", currentHost],
    ["current_instance_group", currentGroup],
    ["current_instance_group_hosts", currentGroupHosts],
    ["current_instance_type", instanceType],
    ["distribution_hosts", list(distHosts)],
    ["distribution_instance_groups", distGroups],
    ["framework_module", t.env.SAGEMAKER_TRAINING_MODULE ?? null],
    ["hosts", list(hosts)],
    ["hyperparameters", user],
    ["input_config_dir", SM_PATHS.inputConfig],
    ["input_data_config", t.inputDataConfig],
    ["input_dir", SM_PATHS.input],
    ["instance_groups", groupNames],
    ["instance_groups_dict", groupsDict],
    ["is_hetero", groups.length > 1],
    ["is_master", currentHost === master],
    ["is_modelparallel_enabled", mp === undefined ? null : mp === "" ? "" : mp !== "{}"],
    ["is_smddpmprun_installed", t.smddpmprunInstalled],
    ["is_smddprun_installed", t.smddprunInstalled],
    ["job_name", t.env.TRAINING_JOB_NAME ?? null],
    ["log_level", logLevel],
    ["master_hostname", master],
    ["model_dir", SM_PATHS.model],
    ["module_dir", moduleDir],
    ["module_name", moduleName],
    ["network_interface_name", getOr(rc, "network_interface_name", "eth0")],
    ["num_cpus", int(t.numCpus)],
    ["num_gpus", int(t.numGpus)],
    ["num_neurons", int(numNeurons)],
    ["output_data_dir", SM_PATHS.outputData],
    ["output_dir", SM_PATHS.output],
    ["output_intermediate_dir", SM_PATHS.outputIntermediate],
    ["resource_config", rc],
    ["topology", rc.get("topology") ?? null],
    ["user_entry_point", entryPoint],
  ]);

  const vars: [string, PyValue][] = [
    ["hosts", list(hosts)],
    ["network_interface_name", getOr(rc, "network_interface_name", "eth0")],
    ["hps", user],
    ["user_entry_point", entryPoint],
    ["framework_params", framework],
    ["resource_config", rc],
    ["input_data_config", t.inputDataConfig],
    ["output_data_dir", SM_PATHS.outputData],
    ["channels", list([...channels].sort(codePointCompare))],
    ["current_host", currentHost],
    ["current_instance_type", instanceType],
    ["current_instance_group", currentGroup],
    ["current_instance_group_hosts", currentGroupHosts],
    ["instance_groups", groupNames],
    ["instance_groups_dict", groupsDict],
    ["distribution_instance_groups", distGroups],
    ["is_hetero", groups.length > 1],
    ["module_name", moduleName],
    ["log_level", logLevel],
    ["framework_module", t.env.SAGEMAKER_TRAINING_MODULE ?? null],
    ["input_dir", SM_PATHS.input],
    ["input_config_dir", SM_PATHS.inputConfig],
    ["output_dir", SM_PATHS.output],
    ["num_cpus", int(t.numCpus)],
    ["num_gpus", int(t.numGpus)],
    ["num_neurons", int(numNeurons)],
    ["model_dir", SM_PATHS.model],
    ["module_dir", moduleDir],
    ["training_env", trainingEnv],
    ["user_args", userArgs],
    ["output_intermediate_dir", SM_PATHS.outputIntermediate],
    ...(rc.has("topology") ? [["topology", rc.get("topology")!] as [string, PyValue]] : []),
    ...channels.map((c): [string, PyValue] => [`channel_${c}`, `${SM_PATHS.inputData}/${c}`]),
  ];
  for (const [k, v] of vars) emit(`SM_${k.toUpperCase()}`, formatValue(v));
  // forEach: a for-of over a 10,000-entry map allocates an entry pair per variable.
  user.forEach((v, k) => emit(`SM_HP_${k.toUpperCase()}`, formatValue(v)));
}

/**
 * Hyperparameters with secret-named values replaced, inside dict values too,
 * for what `--explain` shows; the same dict when none is secret (so callers
 * compare by identity).
 */
export function redactHyperparameters(hps: PyDict): PyDict {
  let shown = redactedOf.get(hps);
  if (shown === undefined) {
    shown = redactPyValue(hps) as PyDict;
    redactedOf.set(hps, shown);
  }
  return shown;
}

// Asked for by several adapters per plan: one answer per dict.
const redactedOf = new PerObject<PyDict, PyDict>();

/** Secret values among hyperparameters, inside dict values too (scrubbed from logs). */
export function secretHyperparameters(hps: PyDict): string[] {
  const out: string[] = [];
  if (redactHyperparameters(hps) === hps) return out;
  const collect = (v: PyValue, secret: boolean) => {
    if (Array.isArray(v)) v.forEach((x) => collect(x, secret));
    else if (v instanceof Map) v.forEach((x, k) => collect(x, secret || isSecretName(k)));
    else if (secret) out.push(pyStr(v));
    else if (typeof v === "string") out.push(...secretsInJson(v, new Set(), { flags: false }));
  };
  collect(hps, false);
  return out;
}

/** Every part redacted; the same object when nothing is secret. */
function redactParts(h: Hyperparameters): Hyperparameters {
  const user = redactHyperparameters(h.user);
  const framework = redactHyperparameters(h.framework);
  const reserved = redactHyperparameters(h.reserved);
  return user === h.user && framework === h.framework && reserved === h.reserved
    ? h
    : { user, framework, reserved };
}

/**
 * Fill ops for a toolkit environment, with displays computed from redacted
 * hyperparameters, in a list the caller may add to. Sized for the
 * hyperparameters up front: pushing 10,000 ops one by one copies the list
 * again and again as it grows.
 */
function toolkitOps(inputs: ToolkitInputs): EnvOp[] {
  const ops = new Array<EnvOp>(inputs.hyperparameters.user.size + 64);
  let n = 0;
  const redacted = redactParts(inputs.hyperparameters);
  if (redacted === inputs.hyperparameters) {
    toolkitEnv(inputs, (k, v) => ops[n++] = fill(k, v));
  } else {
    // The same names in the same order: the redacted run gives each variable's display.
    const shown: string[] = [];
    toolkitEnv({ ...inputs, hyperparameters: redacted }, (_, v) => shown.push(v));
    toolkitEnv(inputs, (k, v) => {
      ops[n] = fill(k, v, shown[n]);
      n++;
    });
  }
  ops.length = n; // trims in place (or the list grew past its first size)
  return ops;
}

/** Whether this is a SageMaker training job (the toolkit's context). */
export function isTraining(input: PlanInput): boolean {
  const c = input.detection.context;
  return c.platform === "sagemaker" && c.workload === "training";
}

/** The toolkit inputs read from the SageMaker training files. */
export function sagemakerInputs(world: World, numGpus: number): ToolkitInputs {
  const rcChecked = resourceConfig(world);
  const rcRaw = readPyJson(world, SM_PATHS.resourceConfig);
  const rc: PyDict = rcChecked !== undefined && rcRaw instanceof Map
    ? rcRaw
    : new Map<string, PyValue>([["current_host", world.snapshot.hostname], ["hosts", [
      world.snapshot.hostname,
    ]]]);
  trainingChannels(world); // checks channel names
  const idc = readPyJson(world, SM_PATHS.inputDataConfig);
  return {
    resourceConfig: rc,
    inputDataConfig: idc instanceof Map ? idc : new Map(),
    hyperparameters: hyperparameters(world),
    env: {
      SAGEMAKER_PROGRAM: world.env("SAGEMAKER_PROGRAM"),
      SAGEMAKER_TRAINING_MODULE: world.env("SAGEMAKER_TRAINING_MODULE"),
      TRAINING_JOB_NAME: world.env("TRAINING_JOB_NAME"),
      SM_HP_MP_PARAMETERS: world.env("SM_HP_MP_PARAMETERS"),
    },
    // Online CPUs, as Python's multiprocessing.cpu_count() sees them (no cpuset, no quota).
    numCpus: cpusOnline(world),
    numGpus,
    smddpmprunInstalled: onPath(world, "smddpmprun") !== undefined,
    smddprunInstalled: onPath(world, "smddprun") !== undefined,
  };
}

/** `ML_HPS`: the decoded user hyperparameters as standard JSON (NaN and infinities as strings). */
function mlHpsOps(user: PyDict): EnvOp[] {
  const dump = (d: PyDict) => pyDumps(d, { ensureAscii: false, nanAsString: true });
  const shown = redactHyperparameters(user);
  return [fill("ML_HPS", dump(user), shown === user ? undefined : dump(shown))];
}

/**
 * Script mode: when no command is given (or `train` with nothing configured and
 * no `train` on PATH) and `SAGEMAKER_PROGRAM` or the hyperparameter
 * `sagemaker_program` names a script, run it from the code folder with the
 * toolkit's arguments.
 */
export function scriptModeCommand(
  input: PlanInput,
  extra: readonly string[],
): CommandPart | undefined {
  const program = scriptProgram(input);
  if (program === undefined) return undefined;
  const { world } = input;
  const { user, reserved } = hyperparameters(world);
  const submit = reserved.has("sagemaker_submit_directory")
    ? pyStr(reserved.get("sagemaker_submit_directory")!)
    : SM_PATHS.code;
  let cwd: string = SM_PATHS.code;
  if (submit.startsWith("/")) cwd = submit;
  else if (!world.exists(`${SM_PATHS.code}/${program}`)) {
    throw new InputError(
      `Hyperparameter sagemaker_submit_directory ${
        JSON.stringify(submit)
      }: downloading the code is not supported; ` +
        `put ${program} in ${SM_PATHS.code} (bake it into the image) or give a local folder`,
    );
  }
  const run = program.endsWith(".py") ? ["python3", program] : [`./${program}`];
  const command = run.concat(toCmdArgs(user), extra);
  const shown = redactHyperparameters(user);
  const warnings = launcherWarnings(input);
  // The toolkit exports its sys.path, the code folder first, as PYTHONPATH: a Python the program
  // starts from another folder still imports the program's modules.
  const env = [append("PYTHONPATH", [cwd], ":")];
  const part = { command, cwd, shell: false, env, ...(warnings.length > 0 ? { warnings } : {}) };
  return shown === user ? part : { ...part, display: run.concat(toCmdArgs(shown), extra) };
}

/**
 * The program script mode runs on SageMaker training: `SAGEMAKER_PROGRAM`,
 * else the `sagemaker_program` hyperparameter; undefined when neither names one.
 */
export function scriptProgram(input: PlanInput): string | undefined {
  if (!isTraining(input)) return undefined;
  const fromEnv = input.world.env("SAGEMAKER_PROGRAM");
  const { reserved } = hyperparameters(input.world);
  const program = fromEnv
    ? fromEnv
    : reserved.has("sagemaker_program")
    ? pyStr(reserved.get("sagemaker_program")!)
    : "";
  return program === "" || program === "None" ? undefined : program;
}

/** A framework hyperparameter that turns on one of the framework containers' launchers. */
const LAUNCHER_SWITCH = /^sagemaker_\w+_enabled$/;

/**
 * What the framework containers' toolkits would start and script mode does
 * not: a launcher the estimator's `distribution` turned on (MPI, smdistributed,
 * torch_distributed, a parameter server), or a `SAGEMAKER_TRAINING_MODULE`.
 * Script mode runs the program once per host, so say so. A switch counts as
 * the toolkits test it, by Python truth: `1` is on, and so is any raw string
 * that is not JSON (`True`, even `False`).
 */
function launcherWarnings({ world }: PlanInput): string[] {
  const asked = [...hyperparameters(world).framework]
    .filter(([k, v]) => LAUNCHER_SWITCH.test(k) && pyTruthy(v))
    .map(([k]) => `hyperparameter ${k}`);
  const module = world.env("SAGEMAKER_TRAINING_MODULE");
  if (module) asked.push(`SAGEMAKER_TRAINING_MODULE ${JSON.stringify(module)}`);
  if (asked.length === 0) return [];
  return [
    `Script mode runs the program once per host; ${
      asked.join(", ")
    } asks the framework toolkit for a launcher that chameleon does not start: configure one (torchrun, mpirun) as commands.training`,
  ];
}

/**
 * Whether detection can end at SageMaker training: the command line or the
 * environment forces it (any spelling detect() accepts), or nothing forces
 * another context and the table's own training signal holds. A bad forcing value is detect()'s to report.
 * A capture's replay may be forced to it whatever the env says (the command line wins).
 */
function mayBeTraining(world: World, forcing: PathForcing): boolean {
  if (forcing === "any") return true;
  let forced: Forced;
  try {
    forced = forcedOf(world, forcing);
  } catch {
    return false;
  }
  if (forced.platform !== undefined && forced.platform !== "sagemaker") return false;
  if (forced.workload !== undefined) return forced.workload === "training";
  return forced.platform === "sagemaker" || evaluate(TRAINING_JOB, world).holds;
}

/** `"sagemaker_program": "<JSON string>"` in hyperparameters.json (keys and values are strings). */
const PROGRAM_MEMBER = /"sagemaker_program"\s*:\s*("(?:[^"\\]|\\.)*")/g;

/**
 * The program SageMaker names, for a path to declare before the plan:
 * `SAGEMAKER_PROGRAM`, else the hyperparameter, decoded as the toolkit does.
 * The hyperparameter is found by its member's text, not by decoding the file:
 * the file may hold 10,000 of them, and the plan decodes them once later. A
 * file too odd for that (an escaped key) gives none: nothing more is declared,
 * which leaves the plan as it was without this.
 */
function namedProgram(world: World): string | undefined {
  const fromEnv = world.env("SAGEMAKER_PROGRAM");
  if (fromEnv) return fromEnv;
  // The last member: a key given twice keeps its later value, as json.load and the plan keep it.
  const m = [...(world.read(SM_PATHS.hyperparameters) ?? "").matchAll(PROGRAM_MEMBER)].at(-1);
  if (m === undefined) return undefined;
  let v: PyValue;
  try {
    // Decoded as the plan decodes it: JSON, else the text (a raw API caller's plain name).
    v = decodeHyperparameter(JSON.parse(m[1]!) as string, "sagemaker_program", (k) => k);
  } catch {
    return undefined; // a broken file: the plan reports it
  }
  return typeof v === "string" ? v : undefined;
}

/** The SageMaker training adapter. */
export const sagemaker: Adapter = {
  name: "sagemaker",
  paths: [
    { kind: "read", path: SM_PATHS.hyperparameters },
    { kind: "read", path: SM_PATHS.inputDataConfig },
    { kind: "read", path: SM_PATHS.resourceConfig },
    { kind: "list", path: SM_PATHS.code, each: "exists" },
  ],
  dynamicPaths(world: World, _config: ImageConfig, forcing: PathForcing = {}): PathDecl[] {
    if (!mayBeTraining(world, forcing)) return [];
    // Stat, not exists: a file found on PATH counts only when it is executable (onPath), and a
    // path recorded without its mode reads as 0644.
    const decls: PathDecl[] = pathDirs(world).flatMap((d) => [
      { kind: "stat" as const, path: `${d}/smddpmprun` },
      { kind: "stat" as const, path: `${d}/smddprun` },
    ]);
    // The code folder is listed one level deep, and script mode asks whether the program is in
    // it: a program in a subfolder (`scripts/train.py`, as the SDK names an entry_point under
    // source_dir) is declared by its own path.
    const program = namedProgram(world);
    if (program?.includes("/")) decls.push({ kind: "exists", path: `${SM_PATHS.code}/${program}` });
    return decls;
  },
  plan(input) {
    if (!isTraining(input)) return {};
    const inputs = sagemakerInputs(input.world, input.detection.facts.gpus);
    const rc = inputs.resourceConfig;
    const { user, framework, reserved } = inputs.hyperparameters;
    const region = reserved.get("sagemaker_region");
    // Added to the toolkit's list, not spread into a new one: it holds an op per hyperparameter.
    const env = toolkitOps(inputs);
    env.push(
      ...mlHpsOps(user),
      // The toolkit also sets these in the script's environment, whatever the hyperparameters hold.
      fill("CURRENT_HOST", pyStr(rc.get("current_host") ?? "")),
      fill("SAGEMAKER_JOB_NAME", pyStr(getOr(reserved, "sagemaker_job_name", ""))),
      // `sagemaker_region or ""`; without the hyperparameter, boto3's region: AWS_DEFAULT_REGION,
      // which the credentials adapter fills from AWS_REGION.
      fill(
        "SAGEMAKER_REGION",
        region === undefined
          ? awsDefaultRegion(input) ?? ""
          : pyTruthy(region)
          ? pyStr(region)
          : "",
      ),
    );
    const warnings = input.world.exists(SM_PATHS.resourceConfig)
      ? distributionWarnings(rc, framework)
      : [
        `${SM_PATHS.resourceConfig} is missing: SM_* assume one host named ${input.world.snapshot.hostname}`,
      ];
    return {
      env,
      oversized: (name, value, given) => oversizedLine(env, user, name, value, given),
      secrets: [user, framework, reserved].flatMap(secretHyperparameters),
      ...(warnings.length === 0 ? {} : { warnings }),
    };
  },
};

/**
 * The file (or files) a variable of this adapter is made from, as an error's subject:
 * undefined for one that comes from elsewhere (the environment), which the
 * plan's merge names.
 */
function toolkitSource(name: string, user: PyDict): string | undefined {
  const file = (path: string) => `File ${path}`;
  if (name.startsWith("SM_HP_")) {
    // The last of keys alike but for case (`lr`, `LR`): its value is the one the variable holds.
    const key = [...user.keys()].findLast((k) => `SM_HP_${k.toUpperCase()}` === name);
    if (key !== undefined) {
      return `${file(SM_PATHS.hyperparameters)}: hyperparameter ${JSON.stringify(key)} makes`;
    }
  }
  if (MADE_FROM.hyperparameters.has(name)) {
    return `${file(SM_PATHS.hyperparameters)}: the hyperparameters make`;
  }
  if (MADE_FROM.resourceConfig.has(name)) return `${file(SM_PATHS.resourceConfig)}: it makes`;
  if (MADE_FROM.inputDataConfig.has(name) || name.startsWith("SM_CHANNEL_")) {
    return `${file(SM_PATHS.inputDataConfig)}: its channels make`;
  }
  if (name === "SM_TRAINING_ENV") {
    return `Files ${SM_PATHS.hyperparameters}, ${SM_PATHS.resourceConfig} and ${SM_PATHS.inputDataConfig}: together they make`;
  }
  return undefined;
}

/** This adapter's variables made from one of the job's files (by name; SM_HP_* and SM_CHANNEL_* by prefix). */
const MADE_FROM = {
  hyperparameters: new Set(["SM_HPS", "SM_USER_ARGS", "SM_FRAMEWORK_PARAMS", "ML_HPS"]),
  resourceConfig: new Set([
    "SM_HOSTS",
    "SM_RESOURCE_CONFIG",
    "SM_CURRENT_INSTANCE_GROUP_HOSTS",
    "SM_INSTANCE_GROUPS",
    "SM_INSTANCE_GROUPS_DICT",
    "SM_DISTRIBUTION_INSTANCE_GROUPS",
    "SM_TOPOLOGY",
  ]),
  inputDataConfig: new Set(["SM_INPUT_DATA_CONFIG", "SM_CHANNELS"]),
};

/**
 * The exit 78's line for this adapter's variable `name`, which the merge found too large
 * for execve, naming the file it is made from: the merge alone would name only the
 * variable (`SM_HPS`), which no one wrote. The toolkit's own start fails there too (E2BIG
 * when it runs the script). Undefined for a variable made from elsewhere (the merge's line).
 */
function oversizedLine(
  ops: readonly EnvOp[],
  user: PyDict,
  name: string,
  value: string,
  given: (name: string) => boolean,
): string | undefined {
  // The merge meets SM_HPS before the SM_HP_* it holds: one hyperparameter too large alone is
  // the one to name (SM_HPS and SM_USER_ARGS hold it too), if its variable is written. A later
  // op on a name replaces an earlier one (the merge's rule within an adapter); a fill under a
  // value the user gave writes nothing.
  const alone = ops.find((op) =>
    op.name.startsWith("SM_HP_") && tooLargeForExecve(op.name, op.value) !== undefined &&
    !(op.kind === "fill" && given(op.name)) && ops.findLast((o) => o.name === op.name) === op
  );
  const [named, text] = alone === undefined ? [name, value] : [alone.name, alone.value];
  const source = toolkitSource(named, user);
  return source && `${source} ${named} ${tooLargeForExecve(named, text)}`;
}

/**
 * Design section 6 makes every host of a SageMaker job a torch node and
 * hosts[0] the master (the distributed adapter's MASTER_ADDR and PET_*). With
 * instance groups, the toolkit distributes over its distribution groups only
 * (SM_TRAINING_ENV's master_hostname is their first host): where the groups
 * leave hosts out, a launch from MASTER_ADDR and PET_* waits for hosts that
 * never join, and SM_TRAINING_ENV's values are the ones to launch from.
 */
function distributionWarnings(rc: PyDict, framework: PyDict): string[] {
  if (!rc.has("instance_groups")) return [];
  const all = (rc.get("hosts") as PyValue[] | undefined ?? []).map((h) => pyStr(h));
  const dist = distributionOf(rc, framework).hosts;
  // A group lists its hosts in any order: only hosts left out leave torch waiting. A set: a
  // list's includes() per host was hosts times hosts.
  if (dist.length === 0) return [];
  const distributed = new Set(dist);
  if (all.every((h) => distributed.has(h))) return [];
  return [
    `SageMaker instance groups: the toolkit distributes over ${dist.join(", ")} (master ${
      dist[0]
    }), MASTER_ADDR and PET_* over every host (master ${
      all[0]
    }, design section 6): launch from SM_TRAINING_ENV's master_hostname and distribution_hosts`,
  ];
}
