/**
 * Amazon SageMaker: training, processing, serving (real-time, batch transform,
 * multi-model, inference pipeline member) and Studio (KernelGateway,
 * JupyterLab, Code Editor). Source: reference/sagemaker.md section 0 (detection
 * matrix), section 1.3 (file shapes), section 2.2, sections 3 to 8; design section 2 row 7.
 *
 * @module
 */

import {
  anyJson,
  array,
  describe,
  nonEmpty,
  object,
  optional,
  type Reader,
  record,
  ShapeError,
  str,
  uint,
} from "../shape.ts";
import { all, any, argv, env, json, path, type PlatformTable, type Signal } from "./_signals.ts";

/** Paths SageMaker uses. */
export const SM_PATHS = {
  resourceConfig: "/opt/ml/input/config/resourceconfig.json",
  hyperparameters: "/opt/ml/input/config/hyperparameters.json",
  inputDataConfig: "/opt/ml/input/config/inputdataconfig.json",
  checkpointConfig: "/opt/ml/input/config/checkpointconfig.json",
  processingJobConfig: "/opt/ml/config/processingjobconfig.json",
  processingResourceConfig: "/opt/ml/config/resourceconfig.json",
  resourceMetadata: "/opt/ml/metadata/resource-metadata.json",
  model: "/opt/ml/model",
  models: "/opt/ml/models",
  code: "/opt/ml/code",
  input: "/opt/ml/input",
  inputConfig: "/opt/ml/input/config",
  inputData: "/opt/ml/input/data",
  output: "/opt/ml/output",
  outputData: "/opt/ml/output/data",
  outputIntermediate: "/opt/ml/output/intermediate",
  /** Where a failed training job's reason goes (reference/sagemaker.md section 1.6). */
  failure: "/opt/ml/output/failure",
  /** Where a failed processing job's reason goes. */
  message: "/opt/ml/output/message",
} as const;

/** `resourceconfig.json` (training; processing has the first two fields). */
export const RESOURCE_CONFIG = object({
  current_host: nonEmpty,
  hosts: array(nonEmpty),
  network_interface_name: optional(str),
  current_instance_type: optional(str),
  current_group_name: optional(str),
  current_instance_group: optional(str),
  instance_groups: optional(array(object({
    instance_group_name: nonEmpty,
    instance_type: optional(str),
    hosts: array(nonEmpty),
  }))),
  topology: optional(anyJson),
});

/** `hyperparameters.json`: a flat object (values are normally strings). */
export const HYPERPARAMETERS = record(anyJson);

/** `inputdataconfig.json`: one object per channel. */
export const INPUT_DATA_CONFIG = record(record(anyJson));

/** `checkpointconfig.json`. */
export const CHECKPOINT_CONFIG = object({ LocalPath: optional(str), S3Uri: optional(str) });

/**
 * A processing input's or output's `LocalPath`: every one begins with `/opt/ml/processing/`
 * (reference/sagemaker.md section 2.1), and it becomes a variable the program writes to or
 * reads from (`ML_OUTPUT_DIR`, `ML_CHANNEL_<NAME>`): a relative path, one that climbs out
 * with `..`, or one with a NUL is no file SageMaker wrote. Empty is none, as null is.
 */
const PROCESSING_PATH: Reader<string> = (v, p) => {
  const s = str(v, p);
  const outside = !s.startsWith("/opt/ml/processing/") || s.split("/").includes("..");
  if (s !== "" && (outside || s.includes("\0"))) {
    throw new ShapeError(
      p,
      `expected a path under /opt/ml/processing/ without ".." or NUL, got ${describe(v)}`,
    );
  }
  return s;
};

/** `processingjobconfig.json` (the CreateProcessingJob request echoed back; nulls allowed). */
export const PROCESSING_JOB_CONFIG = object({
  ProcessingJobName: optional(str, true),
  ProcessingJobArn: optional(str, true),
  ProcessingInputs: optional(
    array(object({
      InputName: optional(str, true),
      S3Input: optional(object({ LocalPath: optional(PROCESSING_PATH, true) }), true),
      // Athena or Redshift query results, downloaded to LocalPath (API DatasetDefinition).
      DatasetDefinition: optional(object({ LocalPath: optional(PROCESSING_PATH, true) }), true),
    })),
    true,
  ),
  ProcessingOutputConfig: optional(
    object({
      Outputs: array(object({
        OutputName: optional(str, true),
        S3Output: optional(object({ LocalPath: optional(PROCESSING_PATH, true) }), true),
      })),
    }),
    true,
  ),
  ProcessingResources: optional(
    object({
      ClusterConfig: optional(
        object({ InstanceCount: optional(uint, true), InstanceType: optional(str, true) }),
        true,
      ),
    }),
    true,
  ),
  Environment: optional(record(str), true),
});

/** `resource-metadata.json` (Studio; a notebook instance has no AppType). */
export const RESOURCE_METADATA = object({
  AppType: optional(str),
  DomainId: optional(str),
  SpaceName: optional(str),
  UserProfileName: optional(str),
  ResourceName: optional(str),
  ResourceArn: optional(str),
});

const studioApp = (app: string) =>
  any(
    json(SM_PATHS.resourceMetadata, "AppType", [app]),
    env("SAGEMAKER_APP_TYPE", { equals: [app] }),
  );

/** A SageMaker training job (the toolkit's context). */
export const TRAINING_JOB: Signal = any(
  path(SM_PATHS.resourceConfig, RESOURCE_CONFIG),
  env("TRAINING_JOB_NAME"),
  env("TRAINING_JOB_ARN"),
);

/** Signals of SageMaker. */
export const sagemaker: PlatformTable = {
  platform: "sagemaker",
  source: "reference/sagemaker.md sections 0 to 8, design section 2",
  match: [
    path(SM_PATHS.resourceConfig, RESOURCE_CONFIG),
    path(SM_PATHS.processingJobConfig, PROCESSING_JOB_CONFIG),
    json(SM_PATHS.resourceMetadata, "AppType"),
    env("TRAINING_JOB_NAME"),
    env("TRAINING_JOB_ARN"),
    env("SAGEMAKER_BATCH"),
    env("SAGEMAKER_MULTI_MODEL"),
    env("SAGEMAKER_BIND_TO_PORT"),
    env("SAGEMAKER_APP_TYPE"),
    env("SAGEMAKER_SPACE_NAME"),
    all(argv("train", "serve"), any(path(SM_PATHS.model), path(SM_PATHS.models))),
  ],
  workloads: [
    // The processing config is the most specific file: check it first.
    {
      workload: "processing",
      variant: "processing-job",
      when: path(SM_PATHS.processingJobConfig, PROCESSING_JOB_CONFIG),
    },
    { workload: "training", variant: "training-job", when: TRAINING_JOB },
    // Serving: batch transform and multi-model set their own variable; a
    // pipeline member gets SAGEMAKER_BIND_TO_PORT; plain `serve` is real-time.
    // Batch transform sets SAGEMAKER_BATCH=true, always (reference/sagemaker.md section 4.2).
    {
      workload: "serving",
      variant: "batch-transform",
      when: env("SAGEMAKER_BATCH", { equals: ["true"] }),
    },
    // Multi-model only for "true", as the inference toolkit reads it: images set it to "false".
    {
      workload: "serving",
      variant: "multi-model",
      when: env("SAGEMAKER_MULTI_MODEL", { equals: ["true"] }),
    },
    { workload: "serving", variant: "pipeline-member", when: env("SAGEMAKER_BIND_TO_PORT") },
    { workload: "serving", variant: "real-time", when: argv("serve") },
    // Any value still says serving (design section 2): a single-model endpoint.
    { workload: "serving", variant: "real-time", when: env("SAGEMAKER_MULTI_MODEL") },
    { workload: "serving", variant: "real-time", when: env("SAGEMAKER_BATCH") },
    { workload: "notebook", variant: "kernel-gateway", when: studioApp("KernelGateway") },
    { workload: "notebook", variant: "jupyterlab", when: studioApp("JupyterLab") },
    { workload: "notebook", variant: "code-editor", when: studioApp("CodeEditor") },
    {
      workload: "notebook",
      variant: "studio",
      when: any(
        json(SM_PATHS.resourceMetadata, "AppType"),
        env("SAGEMAKER_APP_TYPE"),
        env("SAGEMAKER_SPACE_NAME"),
      ),
    },
  ],
  evidence: [
    path(SM_PATHS.hyperparameters, HYPERPARAMETERS),
    path(SM_PATHS.inputDataConfig, INPUT_DATA_CONFIG),
    path(SM_PATHS.checkpointConfig, CHECKPOINT_CONFIG),
    path(SM_PATHS.processingResourceConfig, RESOURCE_CONFIG),
    path(SM_PATHS.resourceMetadata, RESOURCE_METADATA),
    env("SAGEMAKER_PROGRAM"),
    env("TRANSFORM_JOB_ARN"),
    env("SAGEMAKER_SAFE_PORT_RANGE"),
  ],
};
