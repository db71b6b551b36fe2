/**
 * Compatibility layer `sagemaker`: on every other platform, the `SM_*`
 * variables a SageMaker training script reads come from that platform's
 * equivalents, in the toolkit's formats, so the script runs on Kubernetes or a
 * laptop without edits. Hyperparameters come from the config-named JSON or
 * flat YAML file, else from env `ML_HPS`. All fill.
 *
 * @module
 */

import { settingsVariants } from "../config.ts";
import { cpusOnline } from "../contexts/facts.ts";
import { InputError } from "../errors.ts";
import type { PathDecl } from "../paths.ts";
import type { EnvOp } from "../types.ts";
import { requiredText, type World } from "../world.ts";
import { type Adapter, fill, type PlanInput } from "./_adapter.ts";
import {
  decodeHyperparameter,
  type Hyperparameters,
  hyperparameters,
  pyJsonEnv,
  safeName,
  splitHyperparameters,
} from "./_files.ts";
import { codePointCompare, type PyDict, pyDumps } from "./_pyjson.ts";
import { clusterOf } from "./distributed.ts";
import { platformPaths } from "./ml_paths.ts";
import {
  formatValue,
  isTraining,
  redactHyperparameters,
  secretHyperparameters,
} from "./sagemaker.ts";

/** Vertex's managed-dataset splits, as channels. */
const VERTEX_CHANNELS: [string, string][] = [
  ["train", "AIP_TRAINING_DATA_URI"],
  ["validation", "AIP_VALIDATION_DATA_URI"],
  ["test", "AIP_TEST_DATA_URI"],
];

/**
 * Reads flat `key: value` YAML. Each value is decoded like a
 * hyperparameters.json value (JSON if it parses, else the text), so `10`,
 * `0.001`, `true` and `[64, 32]` keep their types; quoted values are strings.
 */
function flatYaml(text: string, file: string): PyDict {
  const out: PyDict = new Map();
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$/, "").replace(/^#.*$/, "").trimEnd();
    if (line.trim() === "" || line === "---") return;
    const m = /^([^\s:#][^:]*?):(?:\s+(.*))?$/.exec(line);
    if (m === null) {
      throw new InputError(
        `File ${file}:${i + 1}: expected a flat "key: value" line (use JSON for nested values)`,
      );
    }
    const key = m[1]!.replace(/^(["'])(.*)\1$/, "$2");
    const value = (m[2] ?? "").trim();
    if (/^'.*'$/.test(value)) out.set(key, value.slice(1, -1).replace(/''/g, "'"));
    else out.set(key, value === "" || value === "~" ? null : decodeHyperparameter(value));
  });
  return out;
}

/** The hyperparameters for the compatibility layer. */
function compatHyperparameters(input: PlanInput): Hyperparameters {
  const { world, settings } = input;
  const file = settings.compat.sagemaker?.hyperparametersFile;
  if (file !== undefined) {
    const text = requiredText(world.file(file), `File ${file}`);
    return /\.ya?ml$/i.test(file)
      ? splitHyperparameters(flatYaml(text, file))
      : hyperparameters(world, file);
  }
  const v = pyJsonEnv(world, "ML_HPS") ?? new Map();
  if (!(v instanceof Map)) throw new InputError("Variable ML_HPS: top level: expected an object");
  return splitHyperparameters(v);
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
  return world.children(inputDir).filter((c) => world.isDir(`${inputDir}/${c}`)).map((c) => [
    safeName(c, `Folder ${inputDir}: channel`),
    `${inputDir}/${c}`,
  ]);
}

/** The SageMaker compatibility adapter. */
export const compatSagemaker: Adapter = {
  name: "compat-sagemaker",
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
  plan(input) {
    const { detection, settings, world } = input;
    if (settings.compat.sagemaker === undefined) return {};
    if (isTraining(input)) return {}; // the real thing
    const paths = platformPaths(input);
    const model = paths.model ?? settings.paths.model;
    const output = paths.output ?? settings.paths.output;
    const chans = paths.channels ?? channels(input, paths.input ?? settings.paths.input);
    const hps = compatHyperparameters(input).user;
    const shown = redactHyperparameters(hps);
    const cluster = clusterOf(input);
    const current = cluster?.currentHost ?? world.snapshot.hostname;
    const hosts = cluster?.hosts ?? [current];
    const env: EnvOp[] = [];
    const add = (name: string, value: string, display?: string) =>
      env.push(fill(name, value, display));
    if (model) add("SM_MODEL_DIR", model);
    if (output) add("SM_OUTPUT_DATA_DIR", output);
    add("SM_CHANNELS", pyDumps(chans.map(([c]) => c).sort(codePointCompare)));
    for (const [c, dir] of chans) add(`SM_CHANNEL_${c.toUpperCase()}`, dir);
    add("SM_HPS", pyDumps(hps), pyDumps(shown));
    hps.forEach((v, k) =>
      add(`SM_HP_${k.toUpperCase()}`, formatValue(v), formatValue(shown.get(k)))
    );
    add("SM_NUM_GPUS", String(detection.facts.gpus));
    add("SM_NUM_CPUS", String(cpusOnline(world)));
    add("SM_HOSTS", pyDumps([...hosts]));
    add("SM_CURRENT_HOST", current);
    return { env, secrets: secretHyperparameters(hps) };
  },
};
