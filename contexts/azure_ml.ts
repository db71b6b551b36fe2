/**
 * Azure Machine Learning jobs. Source: reference/platforms.md section B.3 (variables
 * seen in Azure SDKs and user code; `AZUREML_RUN_TOKEN` is a credential).
 *
 * @module
 */

import { any, env, type PlatformTable } from "./_signals.ts";

/** Signals of Azure ML. */
export const azureMl: PlatformTable = {
  platform: "azure-ml",
  source: "reference/platforms.md section B.3",
  match: [env("AZUREML_RUN_ID")],
  workloads: [
    {
      workload: "unknown",
      variant: "mpi-job",
      when: any(env("AZ_BATCH_MASTER_NODE"), env("OMPI_COMM_WORLD_SIZE")),
    },
  ],
  evidence: [env("AZUREML_ARM_WORKSPACE_NAME"), env("MASTER_ADDR"), env("OMPI_COMM_WORLD_RANK")],
};
