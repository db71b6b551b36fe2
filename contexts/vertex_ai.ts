/**
 * Google Vertex AI custom training and prediction containers. Source:
 * reference/platforms.md section B.1 (googleapis/python-aiplatform
 * training_utils/environment_variables.py) and section B.2 (custom container
 * requirements for prediction).
 *
 * @module
 */

import { env, type PlatformTable } from "./_signals.ts";

/** Signals of Vertex AI. */
export const vertexAi: PlatformTable = {
  platform: "vertex-ai",
  source: "reference/platforms.md sections B.1, B.2",
  match: [env("CLOUD_ML_JOB_ID"), env("AIP_MODE")],
  workloads: [
    {
      workload: "serving",
      variant: "prediction",
      when: env("AIP_MODE", { equals: ["PREDICTION"] }),
    },
    { workload: "training", variant: "custom-job", when: env("CLOUD_ML_JOB_ID") },
  ],
  evidence: [
    env("CLUSTER_SPEC"),
    env("TF_CONFIG"),
    env("AIP_MODEL_DIR"),
    env("AIP_CHECKPOINT_DIR"),
    env("AIP_HTTP_PORT"),
    env("AIP_STORAGE_URI"),
  ],
};
