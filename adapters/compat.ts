/**
 * Compatibility layer `sagemaker`: on every other platform, the `SM_*`
 * variables a SageMaker training script reads come from that platform's
 * equivalents, in the toolkit's formats, so the script runs on Kubernetes or a
 * laptop without edits. Hyperparameters come from the config-named JSON or
 * flat YAML file, else from env `ML_HPS`. All fill.
 *
 * @module
 */

import { type ImageConfig, settingsVariants } from "../config.ts";
import { cpusOnline } from "../contexts/facts.ts";
import { InputError } from "../errors.ts";
import type { PathDecl } from "../paths.ts";
import { secretsInJson, secretsInText } from "../secrets.ts";
import { type EnvOp, YAML_NAME } from "../types.ts";
import { requiredText, type World } from "../world.ts";
import { type Adapter, fill, type Fragment, type PlanInput } from "./_adapter.ts";
import {
  decodeHyperparameter,
  type Hyperparameters,
  hyperparameters,
  passable,
  pyJsonEnv,
  safeName,
  SAGEMAKER_HOST_FILES,
  sagemakerJobHosts,
  splitHyperparameters,
} from "./_files.ts";
import { codePointCompare, type PyDict, pyDumps, pyLoads } from "../pyjson.ts";
import { clusterOf } from "./distributed.ts";
import { platformPaths } from "./ml_paths.ts";
import {
  formatValue,
  isTraining,
  redactHyperparameters,
  secretHyperparameters,
  toCmdArgs,
} from "./sagemaker.ts";

/** Vertex's managed-dataset splits, as channels. */
const VERTEX_CHANNELS: [string, string][] = [
  ["train", "AIP_TRAINING_DATA_URI"],
  ["validation", "AIP_VALIDATION_DATA_URI"],
  ["test", "AIP_TEST_DATA_URI"],
];

/** What a flat YAML line must look like, for the error message. */
const FLAT_LINE = 'a flat "key: value" line (use JSON for nested values)';

/**
 * Reads flat `key: value` YAML. Each value is decoded like a
 * hyperparameters.json value (JSON if it parses, else the text), so `10`,
 * `0.001`, `true` and `[64, 32]` keep their types; quoted values are strings.
 * As in YAML, `#` starts a comment only at the start of a line or after
 * whitespace, and never inside a quoted scalar: `"see #3"` and `a#b` keep it.
 */
function flatYaml(text: string, file: string): PyDict {
  const out: PyDict = new Map();
  text.split("\n").forEach((raw, i) => {
    const bad = (expected: string) => new InputError(`File ${file}:${i + 1}: expected ${expected}`);
    const line = raw.trimEnd();
    if (/^\s*(?:#.*)?$/.test(line) || /^---(?:\s+#.*)?$/.test(line)) return;
    const { key, rest } = flatKey(line, bad);
    const value = rest.trimStart();
    if (value.startsWith('"') || value.startsWith("'")) {
      out.set(key, quotedScalar(value, bad));
      return;
    }
    const plain = value.slice(0, commentStart(value, /^[[{]/.test(value))).trimEnd();
    out.set(
      key,
      plain === "" || plain === "~" ? null : decodeHyperparameter(
        plain,
        key,
        (k) => `File ${file}:${i + 1}: key ${JSON.stringify(k)}`,
      ),
    );
  });
  return out;
}

/**
 * The key of a flat YAML line and the text after its `:`, which must be
 * followed by whitespace or the end of the line. A quoted key is read as a
 * quoted value is; a plain one ends at the first `:` and holds no comment.
 */
function flatKey(
  line: string,
  bad: (expected: string) => Error,
): { key: string; rest: string } {
  if (line.startsWith('"') || line.startsWith("'")) {
    const end = quotedEnd(line, bad);
    if (!/^:(?=\s|$)/.test(line.slice(end))) throw bad(FLAT_LINE);
    return { key: quotedText(line.slice(0, end), bad), rest: line.slice(end + 1) };
  }
  const m = /^([^\s:#][^:]*?):(?=\s|$)/.exec(line);
  if (m === null || commentStart(m[1]!, false) < m[1]!.length) throw bad(FLAT_LINE);
  return { key: m[1]!, rest: line.slice(m[0].length) };
}

/**
 * A quoted value: the scalar, then nothing but an optional comment. Values
 * span one line; a double-quoted one takes JSON's escapes, which mean the
 * same in YAML (YAML's other escapes are refused rather than kept as text).
 */
function quotedScalar(value: string, bad: (expected: string) => Error): string {
  const end = quotedEnd(value, bad);
  if (!/^(?:\s+#.*)?$/.test(value.slice(end).trimEnd())) {
    throw bad("a comment or the end of the line after the closing quote");
  }
  return quotedText(value.slice(0, end), bad);
}

/** Where the quoted scalar at the start of `text` ends (after its closing quote). */
function quotedEnd(text: string, bad: (expected: string) => Error): number {
  const q = text[0]!;
  for (let i = 1; i < text.length; i++) {
    if (q === '"' && text[i] === "\\") i++;
    else if (text[i] === q) {
      if (q === "'" && text[i + 1] === "'") i++; // '' is one quote
      else return i + 1;
    }
  }
  throw bad(`a closing ${q} on the same line`);
}

/** The text of a whole quoted scalar, its escapes decoded. */
function quotedText(scalar: string, bad: (expected: string) => Error): string {
  if (scalar.startsWith("'")) return scalar.slice(1, -1).replace(/''/g, "'");
  try {
    const v = pyLoads(scalar);
    if (typeof v === "string") return v;
  } catch {
    // refused below
  }
  throw bad("only JSON escapes in a double-quoted string");
}

/**
 * Where a comment starts in plain text: a `#` at its start or after
 * whitespace (else the text's length). In a flow value (`[...]`, `{...}`)
 * a quoted string's `#` is no comment (`"..."` with backslash escapes, `'...'`
 * with `''` for a quote).
 */
function commentStart(text: string, flow: boolean): number {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    // A quote opens a string only where a scalar starts (`it's` is a plain word).
    const starts = flow && /^$|[[{,:]$/.test(text.slice(0, i).trimEnd().slice(-1));
    if (starts && c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (starts && c === "'") {
      for (i++; i < text.length; i++) {
        if (text[i] !== "'") continue;
        if (text[i + 1] !== "'") break;
        i++; // '' inside is a quote
      }
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) return i;
  }
  return text.length;
}

/** The hyperparameters for the compatibility layer. */
function compatHyperparameters(input: PlanInput): Hyperparameters {
  const { world, settings } = input;
  const file = settings.compat.sagemaker?.hyperparametersFile;
  if (file !== undefined) {
    const text = requiredText(world.file(file), `File ${file}`);
    if (!YAML_NAME.test(file)) return hyperparameters(world, file);
    return passableUser(splitHyperparameters(flatYaml(text, file)), `File ${file}`);
  }
  const v = pyJsonEnv(world, "ML_HPS") ?? new Map();
  if (!(v instanceof Map)) throw new InputError("Variable ML_HPS: top level: expected an object");
  return passableUser(splitHyperparameters(v), "Variable ML_HPS");
}

/**
 * The hyperparameters, once each user one can become its `SM_HP_<NAME>`
 * variable (as a hyperparameters.json's are checked): else exit 78 naming
 * `source` and the hyperparameter, not a variable the user never wrote.
 */
function passableUser(h: Hyperparameters, source: string): Hyperparameters {
  h.user.forEach((v, k) => passable(k, v, (k) => `${source}: hyperparameter ${JSON.stringify(k)}`));
  return h;
}

/**
 * Whether a folder of the input folder may be a channel: a name SageMaker's
 * API takes for one (`[A-Za-z0-9.-_]+`), not hidden. A volume's `lost+found`
 * (made by mkfs at its root) and `.snapshot` or `.ipynb_checkpoints` are none.
 */
function isChannelFolder(name: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(name) && !name.startsWith(".");
}

function channels(input: PlanInput, inputDir: string | undefined): [string, string][] {
  const { world, detection } = input;
  if (detection.context.platform === "vertex-ai") {
    return VERTEX_CHANNELS.flatMap((
      [c, v],
    ) => {
      const dir = world.envValue(v);
      return dir === undefined ? [] : [[c, dir] as [string, string]];
    });
  }
  if (inputDir === undefined) return [];
  return world.children(inputDir).filter((c) =>
    isChannelFolder(c) && world.isDir(`${inputDir}/${c}`)
  ).map((c) => [
    safeName(c, `Folder ${inputDir}: channel`),
    `${inputDir}/${c}`,
  ]);
}

/**
 * The job's hosts for SM_HOSTS and this one among them. Scripts take the
 * world size, the rank and the master from SM_HOSTS, so a multi-node job
 * whose platform lists no hosts (AWS Batch, Azure ML MPI, a PyTorchJob whose
 * master is no pod name, an elastic one, an Indexed Job, a sparse TF_CONFIG)
 * gets none, as ML_HOSTS gets none, and `leftOut` says why (where the
 * cluster came from): a list of this host alone would make every node a lone
 * master. A list too long for a variable is left out too. A multi-host
 * SageMaker processing job lists its hosts in resourceconfig.json.
 */
function jobHosts(
  input: PlanInput,
): { hosts?: readonly string[]; current: string; leftOut?: string } {
  const cluster = clusterOf(input);
  if (cluster === undefined) {
    const job = sagemakerJobHosts(input);
    if (job !== undefined) return { hosts: job.hosts, current: job.current };
    const host = input.world.snapshot.hostname;
    return { hosts: [host], current: host };
  }
  const current = cluster.currentHost;
  if (cluster.hosts !== undefined) return { hosts: cluster.hosts, current };
  if (cluster.hostsLeftOut !== undefined) {
    return { current, leftOut: cluster.hostsLeftOut };
  }
  return cluster.numNodes === 1 ? { hosts: [current], current } : {
    current,
    leftOut: `the job's host list cannot be known on this platform (${cluster.source})`,
  };
}

/**
 * The secret values in the hyperparameters files the config names, for a
 * capture to hide: found in the files themselves, so hidden whether or not
 * the plan succeeds (the snapshot's own look finds them only in `.json`
 * files, and not in flat YAML); a file that does not parse, by its text's
 * `key: value` pairs.
 */
function hyperparametersFileSecrets(world: World, config: ImageConfig): string[] {
  const out = new Set<string>();
  for (const s of settingsVariants(config)) {
    const file = s.compat?.sagemaker?.hyperparametersFile;
    const text = file === undefined ? undefined : world.read(file);
    if (file === undefined || text === undefined) continue;
    secretsInText(text, out);
    if (!YAML_NAME.test(file)) {
      secretsInJson(text, out, { flags: false });
      continue;
    }
    try {
      for (const v of secretHyperparameters(flatYaml(text, file))) out.add(v);
    } catch {
      // Not flat YAML: its pairs above.
    }
  }
  return [...out];
}

/** The SageMaker compatibility adapter. */
export const compatSagemaker: Adapter = {
  name: "compat-sagemaker",
  paths: SAGEMAKER_HOST_FILES,
  dynamicPaths(_world: World, config): PathDecl[] {
    const decls: PathDecl[] = [];
    for (const s of settingsVariants(config)) {
      const f = s.compat?.sagemaker?.hyperparametersFile;
      if (f) decls.push({ kind: "read", path: f });
      const input = s.paths?.input;
      if (input) decls.push({ kind: "list", path: input, each: "exists" });
    }
    return decls;
  },
  captureSecrets: hyperparametersFileSecrets,
  plan(input) {
    const { sagemaker } = input.settings.compat;
    if (sagemaker === undefined || sagemaker.enabled === false) return {};
    if (isTraining(input)) return {}; // the real thing
    return compatEnv(input);
  },
};

/**
 * The toolkit's SM_* variables outside SageMaker training. Its own function:
 * V8 compiles a function whole on its first call, and most starts ask for none.
 */
function compatEnv(input: PlanInput): Fragment {
  const { detection, settings, world } = input;
  const paths = platformPaths(input);
  const model = paths.model ?? settings.paths.model;
  const output = paths.output ?? settings.paths.output;
  const chans = paths.channels ?? channels(input, paths.input ?? settings.paths.input);
  const hps = compatHyperparameters(input).user;
  const shown = redactHyperparameters(hps);
  const { hosts, current, leftOut } = jobHosts(input);
  const env: EnvOp[] = [];
  const add = (name: string, value: string, display?: string) =>
    env.push(fill(name, value, display));
  if (model) add("SM_MODEL_DIR", model);
  if (output) add("SM_OUTPUT_DATA_DIR", output);
  add("SM_CHANNELS", pyDumps(chans.map(([c]) => c).sort(codePointCompare)));
  for (const [c, dir] of chans) add(`SM_CHANNEL_${c.toUpperCase()}`, dir);
  add("SM_HPS", pyDumps(hps), pyDumps(shown));
  // The toolkit's script-mode arguments, for launchers that pass them on to the script.
  add("SM_USER_ARGS", formatValue(toCmdArgs(hps)), formatValue(toCmdArgs(shown)));
  hps.forEach((v, k) => add(`SM_HP_${k.toUpperCase()}`, formatValue(v), formatValue(shown.get(k))));
  add("SM_NUM_GPUS", String(detection.facts.gpus));
  add("SM_NUM_CPUS", String(cpusOnline(world)));
  if (hosts !== undefined) add("SM_HOSTS", pyDumps([...hosts]));
  add("SM_CURRENT_HOST", current);
  const warnings = leftOut === undefined ? [] : [`SM_HOSTS left unset: ${leftOut}`];
  return { env, warnings, secrets: secretHyperparameters(hps) };
}
