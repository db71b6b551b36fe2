/**
 * AWS Batch. The `AWS_BATCH_` prefix is reserved, so these variables are a
 * strong signal. Source: reference/platforms.md section B.5 (AWS Batch user guide,
 * job_env_vars.html and mnp-env-vars.html).
 *
 * @module
 */

import { any, env, type PlatformTable } from "./_signals.ts";

/** Signals of AWS Batch. */
export const awsBatch: PlatformTable = {
  platform: "aws-batch",
  source: "reference/platforms.md section B.5",
  match: [env("AWS_BATCH_JOB_ID")],
  workloads: [
    {
      workload: "training",
      variant: "multi-node",
      when: env("AWS_BATCH_JOB_NUM_NODES", { atLeast: 2 }),
    },
    {
      workload: "processing",
      variant: "array",
      when: any(env("AWS_BATCH_JOB_ARRAY_SIZE"), env("AWS_BATCH_JOB_ARRAY_INDEX")),
    },
    { workload: "unknown", variant: "on-eks", when: env("AWS_BATCH_JOB_KUBERNETES_NODE_UID") },
    {
      workload: "unknown",
      variant: "on-ecs",
      when: any(env("ECS_CONTAINER_METADATA_URI_V4"), env("ECS_CONTAINER_METADATA_URI")),
    },
  ],
  evidence: [
    env("AWS_BATCH_JOB_NODE_INDEX"),
    env("AWS_BATCH_JOB_MAIN_NODE_INDEX"),
    env("AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"),
    env("AWS_BATCH_JQ_NAME"),
    env("AWS_BATCH_JOB_ATTEMPT"),
  ],
};
