/**
 * Amazon ECS and Fargate (checked after AWS Batch, which runs on ECS too).
 * Source: reference/platforms.md section B.6 (task metadata endpoint v4 docs).
 *
 * @module
 */

import { env, type PlatformTable } from "./_signals.ts";

/** Signals of ECS. */
export const ecs: PlatformTable = {
  platform: "ecs",
  source: "reference/platforms.md section B.6",
  match: [env("ECS_CONTAINER_METADATA_URI_V4"), env("ECS_CONTAINER_METADATA_URI")],
  workloads: [
    {
      workload: "unknown",
      variant: "fargate",
      when: env("AWS_EXECUTION_ENV", { equals: ["AWS_ECS_FARGATE"] }),
    },
    {
      workload: "unknown",
      variant: "ec2",
      when: env("AWS_EXECUTION_ENV", { equals: ["AWS_ECS_EC2"] }),
    },
  ],
  evidence: [env("AWS_REGION")],
};
