/**
 * Where the model, inputs, outputs, checkpoints and channels are, under one
 * set of names on every platform (design section 6: `ML_MODEL_DIR`, `ML_OUTPUT_DIR`,
 * `ML_INPUT_DIR`, `ML_CHECKPOINT_DIR`, `ML_CHANNELS`, `ML_CHANNEL_<NAME>`,
 * `ML_JOB_NAME`). All fill. Sources: reference/sagemaker.md sections 1.2 to 2.2, 5;
 * reference/platforms.md section A.3, sections B.1 to B.3, B.5.
 *
 * @module
 */

import { SM_PATHS } from "../contexts/sagemaker.ts";
import { InputError } from "../errors.ts";
import type { EnvOp } from "../types.ts";
import type { World } from "../world.ts";
import { type Adapter, fill, type PlanInput } from "./_adapter.ts";
import {
  checkpointConfig,
  processingJobConfig,
  resourceMetadata,
  safeName,
  trainingChannels,
} from "./_files.ts";

/** `<NAME>` of `ML_CHANNEL_<NAME>`: upper case, everything outside A-Z0-9_ turned into `_`. */
function channelVar(name: string): string {
  return `ML_CHANNEL_${name.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`;
}

/** Where a platform keeps the model, data, outputs and channels. */
export interface Paths {
  model?: string | undefined;
  output?: string | undefined;
  input?: string | undefined;
  checkpoint?: string | undefined;
  channels?: [string, string][];
  jobName?: string | undefined;
}

const nonEmpty = (v: string | null | undefined) => (v ? v : undefined);

/** The platform's own paths for the current context (config paths fill the gaps). */
export function platformPaths({ world, detection }: PlanInput): Paths {
  const { platform, workload, variant } = detection.context;
  const env = (n: string) => world.envValue(n);
  switch (platform) {
    case "sagemaker":
      return sagemakerPaths(world, workload, variant);
    case "vertex-ai":
      return {
        model: workload === "serving" ? env("AIP_STORAGE_URI") : env("AIP_MODEL_DIR"),
        checkpoint: env("AIP_CHECKPOINT_DIR"),
        jobName: env("CLOUD_ML_JOB_ID"),
      };
    case "kubernetes":
      return workload === "serving" && world.isDir("/mnt/models") ? { model: "/mnt/models" } : {};
    case "azure-ml":
      return { model: env("AZUREML_MODEL_DIR") };
    case "aws-batch":
      return { jobName: env("AWS_BATCH_JOB_ID") };
    default:
      return {};
  }
}

/**
 * SageMaker's paths for each workload. Its own function, as are those of
 * processing and Studio below: V8 compiles a function whole on its first
 * call, and a start is one platform and workload.
 */
function sagemakerPaths(world: World, workload: string, variant: string | null): Paths {
  const checkpoint = nonEmpty(checkpointConfig(world)?.LocalPath);
  if (workload === "training") {
    return {
      model: SM_PATHS.model,
      output: SM_PATHS.outputData,
      input: SM_PATHS.inputData,
      checkpoint,
      channels: trainingChannels(world).map((c) => [c, `${SM_PATHS.inputData}/${c}`]),
      jobName: world.envValue("TRAINING_JOB_NAME"),
    };
  }
  if (workload === "processing") return processingPaths(world, checkpoint);
  if (workload === "serving") {
    return { model: variant === "multi-model" ? SM_PATHS.models : SM_PATHS.model };
  }
  if (workload === "notebook") return studioPaths(world);
  return {};
}

/** A processing job's paths, from processingjobconfig.json. */
function processingPaths(world: World, checkpoint: string | undefined): Paths {
  const pjc = processingJobConfig(world);
  const outputs = pjc?.ProcessingOutputConfig?.Outputs ?? [];
  const inputs = (pjc?.ProcessingInputs ?? []).flatMap((i) => {
    const local = i.S3Input?.LocalPath ?? i.DatasetDefinition?.LocalPath;
    return i.InputName && local
      ? [
        [safeName(i.InputName, `File ${SM_PATHS.processingJobConfig}: input`), local] as [
          string,
          string,
        ],
      ]
      : [];
  });
  return {
    // The first output with a folder: a Feature Store output has none.
    output: outputs.map((o) => nonEmpty(o.S3Output?.LocalPath)).find((p) => p !== undefined),
    input: "/opt/ml/processing/input",
    checkpoint,
    channels: inputs,
    jobName: nonEmpty(pjc?.ProcessingJobName),
  };
}

/** A Studio app's or notebook instance's job name for the metrics. */
function studioPaths(world: World): Paths {
  // Only a name for the metrics comes from the metadata: a notebook does not need the
  // file, so a broken one (shown as detection evidence) names nothing instead of failing.
  const space = world.envValue("SAGEMAKER_SPACE_NAME");
  if (space !== undefined) return { jobName: space };
  let meta: ReturnType<typeof resourceMetadata>;
  try {
    meta = resourceMetadata(world);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }
  return { jobName: nonEmpty(meta?.SpaceName) ?? nonEmpty(meta?.ResourceName) };
}

/** The ML_* path variables. */
export const mlPaths: Adapter = {
  name: "ml-paths",
  paths: [
    { kind: "read", path: SM_PATHS.checkpointConfig },
    { kind: "read", path: SM_PATHS.inputDataConfig },
    { kind: "read", path: SM_PATHS.processingJobConfig },
    { kind: "read", path: SM_PATHS.resourceMetadata },
    { kind: "exists", path: "/mnt/models" },
  ],
  plan(input) {
    const p = platformPaths(input);
    const cfg = input.settings.paths;
    const env: EnvOp[] = [];
    const add = (name: string, value: string | undefined) => {
      if (value !== undefined && value !== "") env.push(fill(name, value));
    };
    add("ML_MODEL_DIR", p.model ?? cfg.model);
    add("ML_OUTPUT_DIR", p.output ?? cfg.output);
    add("ML_INPUT_DIR", p.input ?? cfg.input);
    add("ML_CHECKPOINT_DIR", p.checkpoint ?? cfg.checkpoint);
    add("ML_JOB_NAME", p.jobName);
    const warnings: string[] = [];
    if (p.channels !== undefined && p.channels.length > 0) {
      // Two valid channel names can map to one variable (train-data, train_data): neither
      // gets it, since either value would be a guess; the job still runs, as it would
      // without chameleon, and its folders stay where the platform put them.
      const byVar = new Map<string, [string, string][]>();
      for (const [name, dir] of p.channels) {
        const v = channelVar(name);
        byVar.set(v, [...byVar.get(v) ?? [], [name, dir]]);
      }
      for (const [v, list] of byVar) {
        if (list.length === 1) add(v, list[0]![1]);
        else {
          warnings.push(
            `Channels ${list.map(([n]) => JSON.stringify(n)).join(" and ")} ${
              list.length === 2 ? "both" : "all"
            } map to ${v}: ` +
              `it is left unset (ML_CHANNELS lists them)`,
          );
        }
      }
      add("ML_CHANNELS", JSON.stringify(p.channels.map(([n]) => n).sort()));
    }
    return { env, warnings };
  },
};
